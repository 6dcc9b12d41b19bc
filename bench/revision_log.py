"""Revision log benchmark: SQLite and PostgreSQL side by side, on the same synthetic log.

``python -m bench.revision_log [--records 10000] [--saves 300] [--database-url URL]``

Without ``--database-url`` a throw-away PostgreSQL cluster is started for the run
(tests/postgres.py: Debian's ``postgresql``, installed by ``scripts/bootstrap test``).
For each engine, on a fresh log:

* **load**: ``--records`` revisions appended in batches of 500, as ``bigtent load`` does
  (snapshots ≈ the size of a generated record's N-Triples), in revisions per second;
* **save**: single appends with the stale-base check, as a staff edit does (ms);
* **last_id**: the change counter every page request reads (µs);
* **get**: one entity's newest revision with its snapshot, as a data document does (ms);
* **catch-up**: ``changed_since`` + ``latest_revisions`` of 100 changed entities, as the
  page index does after a burst of edits (ms);
* **export**: every entity's newest revision in one consistent read, as a dump does
  (revisions per second).

Median and p99 where an operation is repeated. Writes bench/out/revision-log-results.json.
Not part of the test run; tests/test_bench_revision_log.py only checks it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.run import DEFAULT_OUT, machine
from loader.storage.revision_log import NewRevision, RevisionLog

BATCH = 500
ROOT = Path(__file__).resolve().parent.parent


def snapshot(n: int, version: int = 0) -> bytes:
    """≈47 triples of N-Triples, like a normalised generated record (≈5 KB)."""
    subject = f"<https://bigtent.example.org/entity/Q{n}>"
    lines = [
        f'{subject} <https://bigtent.example.org/prop/direct/P{k}> "value {k} of {n} v{version}" .'
        for k in range(47)
    ]
    return ("\n".join(lines) + "\n").encode()


def timed(action: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median and p99 of ``repeat`` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 4),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 4),
    }


def measure(target: Path | str, records: int, saves: int) -> dict[str, Any]:
    """Every scenario on one fresh log at ``target``."""
    log = RevisionLog(target)
    try:
        result: dict[str, Any] = {}
        start = time.perf_counter()
        for first in range(0, records, BATCH):
            batch = [
                NewRevision(f"Q{n}", "create", "bench", "load", str(n), snapshot(n))
                for n in range(first, min(first + BATCH, records))
            ]
            log.append(batch)
        seconds = time.perf_counter() - start
        result["load"] = {"seconds": round(seconds, 3), "per_second": round(records / seconds)}

        rng = random.Random(1)
        picks = [rng.randrange(records) for _ in range(saves)]
        version = iter(range(1, saves + 1))

        def save() -> None:
            entity = f"Q{rng.choice(picks)}"
            state = log.state(entity)
            assert state is not None
            v = next(version)
            change = NewRevision(
                entity, "update", "bench", "edit", f"{entity}.{v}", snapshot(v, v),
                expect_latest=state.latest, check_latest=True,
            )  # fmt: skip
            log.append([change])

        result["save"] = timed(save, saves)
        result["last_id"] = timed(log.last_id, saves * 5)
        result["get"] = timed(lambda: log.get(f"Q{rng.randrange(records)}"), saves)
        mark = log.last_id()
        for n in picks[:100]:
            log.append([NewRevision(f"Q{n}", "update", "bench", "burst", f"b{n}", snapshot(n, -1))])

        def catch_up() -> None:
            changed = [s.entity for s in log.changed_since(mark)]
            for _ in log.latest_revisions(changed):
                pass

        result["catch_up_100"] = timed(catch_up, 20)
        start = time.perf_counter()
        with log.export() as export:
            rows = sum(1 for _ in export.rows)
        seconds = time.perf_counter() - start
        result["export"] = {"seconds": round(seconds, 3), "per_second": round(rows / seconds)}
        return result
    finally:
        log.close()


@contextlib.contextmanager
def postgres_url(given: str | None) -> Iterator[str]:
    """The given URL, or a throw-away cluster's for the run."""
    if given:
        yield given
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres import running_cluster  # type: ignore[import-not-found]

    with running_cluster() as cluster:
        yield cluster.fresh_url()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.revision_log", description=__doc__)
    parser.add_argument(
        "--records", type=lambda s: int(s.lower().replace("k", "000")), default=10000
    )
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database (default: a throw-away one)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": machine(), "records": args.records}
    with tempfile.TemporaryDirectory() as scratch:
        results["sqlite"] = measure(Path(scratch) / "revisions.sqlite3", args.records, args.saves)
    with postgres_url(args.database_url) as url:
        results["postgresql"] = measure(url, args.records, args.saves)
    lite, pg = results["sqlite"], results["postgresql"]
    print(f"revision log, {args.records} records   sqlite   postgresql")
    for name in ("load", "export"):
        print(f"{name:<14} rev/s       {lite[name]['per_second']:>8} {pg[name]['per_second']:>10}")
    for name in ("save", "last_id", "get", "catch_up_100"):
        for stat in ("median_ms", "p99_ms"):
            print(f"{name:<14} {stat:<11} {lite[name][stat]:>8} {pg[name][stat]:>10}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "revision-log-results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
