"""Embedded Oxigraph against a remote engine (Virtuoso), side by side in one run.

``python -m bench.backends [--records 10k] [--lookups 200] [--out bench/out]``

For each size, the same generated records (cached in bench/out/, as bench.run makes them)
are loaded through ``bigtent load`` into a fresh catalogue on each backend: the embedded
store (STORE=oxigraph) and a throw-away Virtuoso started like the tests start it
(tests/virtuoso.py; Debian ``virtuoso-opensource``). Measured on each:

- bulk load: validated load of the whole file, in triples per second (the ontology is
  installed first and not timed);
- entity lookup: the graph of a random entity (``Catalogue.entity_triples``), median and
  95th percentile in ms;
- every example query of sparql/examples through the public endpoint's query service
  (worker processes on Oxigraph, forwarding on Virtuoso), median of 3 runs, in ms.

Prints a Markdown table with the Virtuoso/Oxigraph ratios and writes
bench/out/backends-<size>.json. The machine, its load and Virtuoso's ini (tests/virtuoso.py)
decide the numbers: compare ratios, not absolute values, across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import generate as gen
from bench.run import DEFAULT_OUT, cached_input, parse_sizes, size_label
from bench.tables import fmt, markdown_table
from loader.base.errors import BigtentError
from loader.base.settings import load_settings
from loader.catalogue import Catalogue

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from virtuoso import Virtuoso  # noqa: E402  (tests/ is not a package on the path)

Result = dict[str, Any]


def _count_triples(cat: Catalogue) -> int:
    return sum(1 for _ in cat.store.quads())


def measure_backend(
    name: str, settings: dict[str, Any], records: Path, lookups: int, seed: int
) -> Result:
    """Load ``records`` into a fresh catalogue with ``settings``; time lookups and queries."""
    result: Result = {"backend": name}
    with Catalogue.open(load_settings(env={}, overrides=settings)) as cat:
        cat.install_ontology()
        before = _count_triples(cat)
        started = time.perf_counter()
        report = cat.load_paths([records])
        cat.after_write()
        result["load_s"] = time.perf_counter() - started
        result["loaded"] = report.loaded
        result["rejected"] = report.rejected
        result["triples"] = _count_triples(cat) - before
        result["triples_per_s"] = result["triples"] / result["load_s"]

        entities = [e for e, _ in cat.revisions.live_entities(0, 1_000_000) if e.startswith("Q")]
        rng = random.Random(seed)
        times = []
        for entity in rng.sample(entities, min(lookups, len(entities))):
            t0 = time.perf_counter()
            cat.entity_triples(entity)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        result["lookup_median_ms"] = statistics.median(times)
        result["lookup_p95_ms"] = times[int(0.95 * (len(times) - 1))]

        service = cat.query_service
        queries: dict[str, Any] = {}
        for example in cat.examples.all():
            runs = []
            error = None
            for _ in range(3):
                t0 = time.perf_counter()
                try:
                    service.run(service.request(cat.examples.query(example)))
                except BigtentError as exc:
                    error = exc.title
                    break
                runs.append((time.perf_counter() - t0) * 1000)
            queries[example.id] = {"ms": statistics.median(runs)} if runs else {"error": error}
        result["queries"] = queries
    return result


def measure_size(records: int, args: argparse.Namespace) -> Result:
    """Both backends on one generated input."""
    args.out.mkdir(parents=True, exist_ok=True)
    meta = cached_input(records, "nt", args.seed, args.base, args.out)
    path = args.out / f"records-{size_label(records)}.nt"
    if args.seed != 1:
        path = args.out / f"records-{size_label(records)}-s{args.seed}.nt"
    results: Result = {"records": records, "input": meta}
    with tempfile.TemporaryDirectory(prefix="bigtent-backends-") as work:
        root = Path(work)
        common = {"BASE_URL": args.base, "LOAD_WORKERS": args.workers, "DUMP_INTERVAL": 0}
        results["oxigraph"] = measure_backend(
            "oxigraph",
            {**common, "DATA_DIR": str(root / "oxigraph")},
            path,
            args.lookups,
            args.seed,
        )
        with Virtuoso.start(root / "virtuoso") as server:
            remote = {**common, "DATA_DIR": str(root / "remote"), **server.settings()}
            if args.virtuoso_writes == "bulk":  # the engine's bulk loader (DirsAllowed)
                folder = server.directory / "bulk"
                folder.mkdir()
                os.environ["VIRTUOSO_DBA_PASSWORD"] = server.dba_password
                remote["STORE_BULK_DIR"] = str(folder)
                remote["STORE_BULK_COMMAND"] = (
                    f"{REPO / 'scripts' / 'virtuoso'} sql {server.directory}"
                )
            results["virtuoso"] = measure_backend("virtuoso", remote, path, args.lookups, args.seed)
            results["virtuoso_writes"] = args.virtuoso_writes
    return results


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}×"


def markdown(results: Result) -> str:
    """The side-by-side table of one size."""
    ox_, vt = results["oxigraph"], results["virtuoso"]
    rows = [
        [
            "bulk load (triples/s)",
            fmt(ox_["triples_per_s"], ",.0f"),
            fmt(vt["triples_per_s"], ",.0f"),
            _ratio(vt["triples_per_s"], ox_["triples_per_s"]),
        ],
        [
            "entity lookup, median (ms)",
            fmt(ox_["lookup_median_ms"], ".2f"),
            fmt(vt["lookup_median_ms"], ".2f"),
            _ratio(vt["lookup_median_ms"], ox_["lookup_median_ms"]),
        ],
        [
            "entity lookup, p95 (ms)",
            fmt(ox_["lookup_p95_ms"], ".2f"),
            fmt(vt["lookup_p95_ms"], ".2f"),
            _ratio(vt["lookup_p95_ms"], ox_["lookup_p95_ms"]),
        ],
    ]
    for qid, a in ox_["queries"].items():
        b = vt["queries"].get(qid, {})
        rows.append(
            [
                f"query {qid} (ms)",
                fmt(a["ms"], ".1f") if "ms" in a else a.get("error", "–"),
                fmt(b["ms"], ".1f") if "ms" in b else b.get("error", "–"),
                _ratio(b.get("ms"), a.get("ms")),
            ]
        )
    writes = results.get("virtuoso_writes", "http")
    title = (
        f"### {size_label(results['records'])} records ({ox_['triples']:,} triples; "
        f"Virtuoso written through {'its bulk loader' if writes == 'bulk' else 'HTTP'})"
    )
    table = markdown_table(["measure", "Oxigraph", "Virtuoso", "Virtuoso / Oxigraph"], rows)
    return "\n".join([title, "", *table])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison; print Markdown, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="10k", help="sizes, e.g. 10k,100k (default 10k)")
    parser.add_argument("--lookups", type=int, default=200, help="random entity lookups")
    parser.add_argument("--workers", type=int, default=0, help="LOAD_WORKERS (0: per core)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--base", default=gen.DEFAULT_BASE, help="catalogue base IRI")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument(
        "--virtuoso-writes",
        choices=("bulk", "http"),
        default="bulk",
        help="how bigtent load writes to Virtuoso: its bulk loader (STORE_BULK_DIR and "
        "STORE_BULK_COMMAND, default) or HTTP (Graph Store Protocol, slow at 100k)",
    )
    args = parser.parse_args(argv)
    for records in parse_sizes(args.records):
        results = measure_size(records, args)
        out = args.out / f"backends-{size_label(records)}.json"
        out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(markdown(results))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
