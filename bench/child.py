"""One measurement, run by ``bench.run`` in a fresh Python process.

``python -m bench.child KIND SPEC.json RESULT.json``: reads the spec, does the work, writes
a JSON result. Nothing is shared with the parent or with other measurements: each child
imports its libraries, opens its own store directory and exits, so its peak memory is its
own. Timed sections use ``time.perf_counter`` and exclude interpreter start-up and imports.
"""

from __future__ import annotations

import dataclasses
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Spec = dict[str, Any]
Result = dict[str, Any]


def vm_hwm_kb() -> int:
    """Peak resident set size of this process so far, in KiB (Linux ``VmHWM``)."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource  # fallback off Linux: ru_maxrss is KiB there too

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _report_dict(report: object) -> Result:
    """The fields of the loader's LoadReport, whatever its exact type."""
    as_dict = getattr(report, "as_dict", None)
    if callable(as_dict):
        return dict(as_dict())
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return dataclasses.asdict(report)
    if hasattr(report, "_asdict"):
        return dict(report._asdict())
    if isinstance(report, dict):
        return dict(report)
    return {k: v for k, v in vars(report).items() if not k.startswith("_")}


def bigtent_load(spec: Spec) -> Result:
    """``bigtent load FILE`` through the catalogue API: ontology, records, then a dump.

    The only place that knows the loader's API; adapt here when it changes.
    """
    from loader.base.settings import load_settings
    from loader.catalogue import Catalogue

    overrides: dict[str, Any] = {"DATA_DIR": spec["data_dir"], "BASE_URL": spec["base"]}
    if spec.get("workers") is not None:
        overrides["LOAD_WORKERS"] = spec["workers"]
    settings = load_settings(overrides=overrides)
    result: Result = {"settings": {k: str(v) for k, v in settings.values.items()}}
    with Catalogue.open(settings) as cat:
        started = time.perf_counter()
        ontology = cat.install_ontology()
        result["install_s"] = time.perf_counter() - started
        result["install_report"] = _report_dict(ontology)
        result["hwm_after_install_kb"] = vm_hwm_kb()

        started = time.perf_counter()
        report = cat.load_paths([Path(spec["input"])])
        result["load_s"] = time.perf_counter() - started
        result["hwm_after_load_kb"] = vm_hwm_kb()
        result["report"] = _report_dict(report)

        # What `bigtent load` does next, before it returns: the pages' index.
        started = time.perf_counter()
        cat.page_index.catch_up()
        result["page_index_s"] = time.perf_counter() - started
        result["hwm_after_page_index_kb"] = vm_hwm_kb()

        started = time.perf_counter()
        cat.dump_nquads(Path(spec["dump"]))
        result["dump_s"] = time.perf_counter() - started
    result["hwm_kb"] = vm_hwm_kb()
    return result


def raw_bulk_load(spec: Spec) -> Result:
    """pyoxigraph ``Store(path).bulk_load`` of an N-Quads file, then ``optimize()``."""
    import pyoxigraph as ox

    store = ox.Store(spec["store_dir"])
    result: Result = {"pyoxigraph": ox.__version__}
    started = time.perf_counter()
    store.bulk_load(path=spec["input"], format=ox.RdfFormat.N_QUADS)
    result["load_s"] = time.perf_counter() - started
    result["hwm_after_load_kb"] = vm_hwm_kb()
    started = time.perf_counter()
    store.optimize()
    result["optimize_s"] = time.perf_counter() - started
    result["hwm_kb"] = vm_hwm_kb()
    result["quads_in_store"] = len(store)  # after the clocks: a full scan
    store.flush()
    del store
    return result


LOOKUP_SUBJECT = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
LOOKUP_GRAPH = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"


def _percentiles(samples_ms: Sequence[float]) -> Result:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "mean_ms": statistics.fmean(ordered),
    }


def _solutions(store: Any, query: str, substitutions: dict[Any, Any]) -> list[Any]:
    """Run a SELECT and materialise every row (so the timing covers reading results)."""
    import pyoxigraph as ox

    result = store.query(query, substitutions=substitutions)
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError("expected a SELECT")
    return [tuple(row) for row in result]


def query_lookup(spec: Spec) -> Result:
    """Entity lookup latency on a loaded store (opened read-only), over random entities.

    ``subject``: ``GRAPH ?g { wd:Qx ?p ?o }``; ``graph``: ``GRAPH wdata:Qx { ?s ?p ?o }`` (the
    whole record, with statement and value nodes). Terms are bound with ``substitutions``.
    """
    import pyoxigraph as ox

    store = ox.Store.read_only(spec["store_dir"])
    rng = random.Random(spec.get("seed", 1))
    first, count, n = spec["first_id"], spec["count"], spec["samples"]
    ids = [first + rng.randrange(count) for _ in range(n)]
    base = spec["base"]
    s_var, g_var = ox.Variable("s"), ox.Variable("g")
    cases: dict[str, tuple[str, ox.Variable, str]] = {
        "subject": (LOOKUP_SUBJECT, s_var, base + "entity/Q"),
        "graph": (LOOKUP_GRAPH, g_var, base + "data/Q"),
    }
    result: Result = {"store_dir": spec["store_dir"]}
    for name, (query, var, prefix) in cases.items():
        for q in ids[:20]:  # warm-up, not timed
            _solutions(store, query, {var: ox.NamedNode(f"{prefix}{q}")})
        samples: list[float] = []
        rows = 0
        for q in ids:
            node = ox.NamedNode(f"{prefix}{q}")
            started = time.perf_counter()
            solutions = _solutions(store, query, {var: node})
            samples.append((time.perf_counter() - started) * 1000)
            rows += len(solutions)
        result[name] = {**_percentiles(samples), "mean_rows": rows / len(ids)}
    result["hwm_kb"] = vm_hwm_kb()
    return result


RUNNERS: dict[str, Callable[[Spec], Result]] = {
    "bigtent-load": bigtent_load,
    "raw-bulk-load": raw_bulk_load,
    "query-lookup": query_lookup,
}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.child KIND SPEC.json RESULT.json``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3 or args[0] not in RUNNERS:
        print(f"usage: python -m bench.child {{{','.join(RUNNERS)}}} SPEC RESULT", file=sys.stderr)
        return 2
    kind, spec_path, result_path = args
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    result = RUNNERS[kind](spec)
    Path(result_path).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
