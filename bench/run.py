"""Benchmark harness: validated ``bigtent load`` against a raw pyoxigraph ``bulk_load``.

``python -m bench.run [--records 10000,100000] [--workers N] [--repeat R] [--keep]``

For each size: generate the records (cached in bench/out/), then, each in a fresh
subprocess with a fresh store directory:

1. bigtent validated load of the N-Triples file (ontology installed first, timed apart),
   then a dump of the store as N-Quads;
2. raw pyoxigraph ``Store(path).bulk_load`` of exactly that dump (``optimize()`` timed
   apart and reported as a second row);
3. entity lookup latency on the loaded store.

Without ``loader.catalogue`` (or with ``--no-bigtent``) step 1 is skipped and step 2 loads
the generator's stand-in for normalised output (``bench.generate --format nq``).
Prints a Markdown table and writes bench/out/results.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import generate as gen
from bench.tables import fmt, markdown_table, verdict

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUT = HERE / "out"

# Targets (PLAN / brief): ratio of triples/s vs raw bulk_load, time at 100k records, memory.
TARGET_RATIO = 0.5
TARGET_SECONDS_100K = 60.0
TARGET_RSS_MB = 1536.0
SAMPLE_INTERVAL_S = 0.1
TREE_REFRESH_TICKS = 10  # look for new worker processes once a second

Result = dict[str, Any]


# --- memory of a process tree -------------------------------------------------------------
# Reading /proc/<pid>/smaps_rollup (PSS) costs ~25 ms per big process and takes the target's
# memory-map lock, which would slow the load being measured; statm is ~20 µs.
def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                kids.extend(int(x) for x in (task / "children").read_text().split())
    except OSError:
        pass
    return kids


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p not in found:
            found.append(p)
            todo.extend(_children(p))
    return found


def rss_kb(pid: int) -> int:
    """Resident set size of one process now, in KiB (0 when it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


class TreeSampler(threading.Thread):
    """Polls the summed RSS of a process tree until stopped; keeps the peak.

    Shared pages (libraries) count once per process, so the sum is slightly pessimistic.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        pids = [self.pid]
        ticks = 0
        while not self.stop.is_set():
            if ticks % TREE_REFRESH_TICKS == 0:
                pids = descendants(self.pid)
            ticks += 1
            self.peak_kb = max(self.peak_kb, sum(rss_kb(p) for p in pids))
            self.stop.wait(SAMPLE_INTERVAL_S)


@dataclasses.dataclass
class ChildRun:
    """What one measurement process reported, plus what the parent observed."""

    result: Result
    process_s: float
    maxrss_kb: int  # ru_maxrss of this child alone (os.wait4), its reaped children included
    tree_peak_kb: int  # sampled peak of the summed RSS of child + descendants

    @property
    def peak_kb(self) -> int:
        """Best estimate of peak memory: the larger of the exact and sampled figures."""
        return max(self.maxrss_kb, self.tree_peak_kb, int(self.result.get("hwm_kb", 0)))


def run_child(kind: str, spec: Result, workdir: Path) -> ChildRun:
    """Run one measurement in a fresh interpreter and collect its result and memory."""
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path = workdir / f"{kind}.spec.json"
    result_path = workdir / f"{kind}.result.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.child", kind, str(spec_path), str(result_path)]
    started = time.perf_counter()
    # The child's standard output goes to our standard error: our stdout is the table.
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=2)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the running maximum
    # over every child this harness has waited for, so later rows would inherit peaks.
    _, status, usage = os.wait4(proc.pid, 0)
    sampler.stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or not result_path.exists():
        raise RuntimeError(f"measurement {kind} failed with exit code {proc.returncode}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    return ChildRun(result, elapsed, int(usage.ru_maxrss), sampler.peak_kb)


# --- inputs -------------------------------------------------------------------------------
def size_label(records: int) -> str:
    """10000 -> '10k', 1000000 -> '1m', 1234 -> '1234'."""
    if records % 1_000_000 == 0:
        return f"{records // 1_000_000}m"
    if records % 1000 == 0:
        return f"{records // 1000}k"
    return str(records)


def parse_sizes(text: str) -> list[int]:
    """'10k,100000' -> [10000, 100000]."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        factor = 1
        if part.endswith("k"):
            factor, part = 1000, part[:-1]
        elif part.endswith("m"):
            factor, part = 1_000_000, part[:-1]
        sizes.append(int(float(part) * factor))
    return sizes


def cached_input(records: int, fmt: str, seed: int, base: str, out_dir: Path) -> Result:
    """Generate ``records`` records unless an identical file is already there."""
    suffix = "" if seed == 1 else f"-s{seed}"
    path = out_dir / f"records-{size_label(records)}{suffix}.{fmt}"
    meta_path = path.with_name(path.name + ".json")
    want = {"records": records, "seed": seed, "base": base, "format": fmt}
    want["version"] = gen.GENERATOR_VERSION
    if path.exists() and meta_path.exists():
        meta: Result = json.loads(meta_path.read_text(encoding="utf-8"))
        if all(meta.get(k) == v for k, v in want.items()):
            return {**meta, "cached": True}
    print(f"generating {records} records -> {path}", file=sys.stderr)
    stats = gen.generate(records, path, fmt=fmt, seed=seed, base=base)
    meta = dataclasses.asdict(stats)
    meta["bytes"] = path.stat().st_size
    meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return {**meta, "cached": False}


def count_lines(path: Path) -> int:
    """Lines in a file (= quads in N-Quads without blank lines or comments)."""
    n = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            n += block.count(b"\n")
    return n


def bigtent_available() -> str | None:
    """None when loader.catalogue imports, else why not."""
    try:
        import loader.catalogue  # noqa: F401
    except Exception as exc:  # any import-time failure means: measure the reference only
        return f"{type(exc).__name__}: {exc}"
    return None


def report_field(run: ChildRun, *names: str) -> float:
    """A number from the loader's report, under the first of ``names`` it has (else 0)."""
    report: Result = run.result.get("report", {})
    for name in names:
        if name in report:
            return float(report[name])
    return 0.0


# --- one size -----------------------------------------------------------------------------
def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def _mb(kb: float) -> float:
    return kb / 1024.0


def measure_size(records: int, args: argparse.Namespace, out_dir: Path) -> Result:
    """Every measurement for one size; returns its part of results.json."""
    label = size_label(records)
    repeat = args.repeat or (1 if records >= 100_000 else 3)
    work = out_dir / "work" / label
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    entry: Result = {"records": records, "label": label, "repeat": repeat, "rows": []}
    entry["input"] = cached_input(records, "nt", args.seed, args.base, out_dir)
    rows: list[Result] = entry["rows"]

    why_not: str | None = "--no-bigtent" if args.no_bigtent else bigtent_available()
    query_store: Path | None = None  # the last bigtent store, kept for the lookups
    bigtent_runs: list[ChildRun] = []
    dump = work / "bigtent-dump.nq"
    failure: str | None = None
    raw_runs: list[ChildRun] = []
    reference: Path | None = None
    reference_quads = 0
    # Runs alternate (bigtent, raw, bigtent, raw, ...) so that a noisy spell on a shared
    # machine hits both sides rather than only one.
    for i in range(repeat):
        if why_not is None and failure is None:
            data_dir = work / f"bigtent-{i}"
            shutil.rmtree(data_dir, ignore_errors=True)
            spec = {
                "input": entry["input"]["path"],
                "data_dir": str(data_dir),
                "base": args.base,
                "workers": args.workers,
                "dump": str(dump if i == 0 else work / f"bigtent-dump-{i}.nq"),
            }
            print(f"[{label}] bigtent load, run {i + 1}/{repeat}", file=sys.stderr)
            try:
                bigtent_runs.append(run_child("bigtent-load", spec, data_dir.with_suffix(".run")))
            except RuntimeError as exc:  # a broken loader must not hide the reference figures
                failure = f"FAIL run {i + 1}: {exc}; see its traceback above"
                query_store = None
            else:
                if i > 0:
                    Path(spec["dump"]).unlink(missing_ok=True)
                if i < repeat - 1:
                    shutil.rmtree(data_dir, ignore_errors=True)
                else:
                    query_store = data_dir / "store"
        if reference is None:
            if bigtent_runs:
                reference = dump
                entry["reference_input"] = {"kind": "bigtent dump", "path": str(dump)}
            else:
                entry["bigtent_skipped"] = failure or why_not
                ref_meta = cached_input(records, "nq", args.seed, args.base, out_dir)
                reference = Path(ref_meta["path"])
                entry["reference_input"] = {"kind": "generator stand-in (--format nq)", **ref_meta}
            reference_quads = count_lines(reference)
            entry["reference_input"]["quads"] = reference_quads

        store_dir = work / f"raw-{i}" / "store"
        print(f"[{label}] raw bulk_load, run {i + 1}/{repeat}", file=sys.stderr)
        spec = {"input": str(reference), "store_dir": str(store_dir)}
        raw_runs.append(run_child("raw-bulk-load", spec, store_dir.parent))
        if i < repeat - 1:  # the last raw store is kept for the lookups
            shutil.rmtree(store_dir, ignore_errors=True)

    raw_load_s = _median([r.result["load_s"] for r in raw_runs])
    raw_tps = reference_quads / raw_load_s
    if bigtent_runs:
        load_s = _median([r.result["load_s"] for r in bigtent_runs])
        written = _median([float(report_field(r, "triples_written")) for r in bigtent_runs])
        rejected = max(int(report_field(r, "records_rejected", "rejected")) for r in bigtent_runs)
        file_errors = max(len(r.result["report"].get("file_errors", [])) for r in bigtent_runs)
        peak_mb = _mb(_median([r.peak_kb for r in bigtent_runs]))
        tps = written / load_s
        ratio = tps / raw_tps
        pair_ratios = [  # each bigtent run against the raw run right after it
            (report_field(b, "triples_written") / b.result["load_s"])
            / (reference_quads / r.result["load_s"])
            for b, r in zip(bigtent_runs, raw_runs, strict=False)
        ]
        checks = [f"{verdict(ratio >= TARGET_RATIO)} ratio≥{TARGET_RATIO}"]
        if records == 100_000:
            ok = load_s < TARGET_SECONDS_100K
            checks.append(f"{verdict(ok)} <{TARGET_SECONDS_100K:.0f} s")
        checks.append(f"{verdict(peak_mb < TARGET_RSS_MB)} RSS<{TARGET_RSS_MB / 1024:.1f} GB")
        if rejected or file_errors:
            checks.append(f"FAIL {rejected} records rejected, {file_errors} file errors")
        if failure:
            checks.append(failure)
        rows.append(
            {
                "measurement": "bigtent install_ontology",
                "wall_s": _median([r.result["install_s"] for r in bigtent_runs]),
                "peak_rss_mb": _mb(
                    _median([r.result["hwm_after_install_kb"] for r in bigtent_runs])
                ),
                "target": "not counted",
            }
        )
        rows.append(
            {
                "measurement": "bigtent validated load",
                "wall_s": load_s,
                "records_per_s": records / load_s,
                "triples_per_s": tps,
                "triples": written,
                "peak_rss_mb": peak_mb,
                "ratio": ratio,
                "pair_ratios": pair_ratios,
                "target": "; ".join(checks),
                "dump_s": _median([r.result["dump_s"] for r in bigtent_runs]),
                "runs": [dataclasses.asdict(r) for r in bigtent_runs],
            }
        )
        index_runs = [r.result["page_index_s"] for r in bigtent_runs if "page_index_s" in r.result]
        if index_runs:
            rows.append(
                {
                    "measurement": "bigtent page index (after the load)",
                    "wall_s": _median(index_runs),
                    "records_per_s": records / _median(index_runs),
                    "peak_rss_mb": _mb(
                        _median([r.result["hwm_after_page_index_kb"] for r in bigtent_runs])
                    ),
                    "target": "not in the ratio; `bigtent load` adds it before returning",
                }
            )
    else:
        reason = failure or why_not or "no runs"
        rows.append(
            {
                "measurement": "bigtent validated load",
                "target": reason if reason.startswith("FAIL") else f"skipped ({reason})",
            }
        )
    rows.append(
        {
            "measurement": "raw bulk_load",
            "wall_s": raw_load_s,
            "records_per_s": records / raw_load_s,
            "triples_per_s": raw_tps,
            "triples": reference_quads,
            "peak_rss_mb": _mb(_median([r.result["hwm_after_load_kb"] for r in raw_runs])),
            "ratio": 1.0,
            "target": "reference (optimize() excluded)",
            "runs": [dataclasses.asdict(r) for r in raw_runs],
        }
    )
    with_optimize = _median([r.result["load_s"] + r.result["optimize_s"] for r in raw_runs])
    rows.append(
        {
            "measurement": "raw bulk_load + optimize",
            "wall_s": with_optimize,
            "records_per_s": records / with_optimize,
            "triples_per_s": reference_quads / with_optimize,
            "triples": reference_quads,
            "peak_rss_mb": _mb(_median([r.peak_kb for r in raw_runs])),
            "target": "reference (optimize() included)",
        }
    )

    # Lookups on both stores: same entities, so store layout effects show directly.
    stores = {
        "bigtent": query_store,
        "raw bulk_load + optimize": work / f"raw-{repeat - 1}" / "store",
    }
    entry["queries"] = []
    for name, store in stores.items():
        if not args.queries or store is None or not store.exists():
            continue
        spec = {
            "store_dir": str(store),
            "base": args.base,
            "first_id": gen.FIRST_ID,
            "count": records,
            "samples": args.queries,
            "seed": args.seed,
        }
        print(f"[{label}] entity lookups on {store}", file=sys.stderr)
        q = run_child("query-lookup", spec, work / f"query-{len(entry['queries'])}")
        entry["queries"].append({"store": name, **q.result, "peak_rss_mb": _mb(q.peak_kb)})
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return entry


# --- output -------------------------------------------------------------------------------
COLUMNS = (
    "size",
    "measurement",
    "wall s",
    "records/s",
    "triples/s",
    "peak RSS MB",
    "ratio vs raw",
    "target",
)


def markdown(results: Result) -> str:
    """The results as Markdown tables."""
    rows = [
        [
            entry["label"],
            row["measurement"],
            fmt(row.get("wall_s"), ".2f"),
            fmt(row.get("records_per_s"), ",.0f"),
            fmt(row.get("triples_per_s"), ",.0f"),
            fmt(row.get("peak_rss_mb"), ",.0f"),
            fmt(row.get("ratio"), ".2f"),
            row.get("target", ""),
        ]
        for entry in results["sizes"]
        for row in entry["rows"]
    ]
    lines = markdown_table(COLUMNS, rows)
    queries = [(e, q) for e in results["sizes"] for q in e.get("queries", [])]
    if queries:
        names = {"subject": "GRAPH ?g { wd:Qx ?p ?o }", "graph": "GRAPH wdata:Qx { ?s ?p ?o }"}
        lines += [
            "",
            *markdown_table(
                ("size", "store", "lookup", "n", "p50 ms", "p95 ms", "p99 ms", "rows/lookup"),
                (
                    [
                        entry["label"],
                        q["store"],
                        f"`{title}`",
                        str(q[key]["n"]),
                        f"{q[key]['p50_ms']:.3f}",
                        f"{q[key]['p95_ms']:.3f}",
                        f"{q[key]['p99_ms']:.3f}",
                        f"{q[key]['mean_rows']:.1f}",
                    ]
                    for entry, q in queries
                    for key, title in names.items()
                ),
            ),
        ]
    inputs = []
    for entry in results["sizes"]:
        i, r = entry["input"], entry["reference_input"]
        inputs.append(
            f"- {entry['label']}: {i['records']} records, {i['triples']} input triples "
            f"({i['path']}, generated in {i['seconds']:.1f} s{', cached' if i['cached'] else ''}); "
            f"reference: {r['kind']}, {r['quads']} quads"
        )
    return "\n".join([*lines, "", *inputs])


def machine() -> Result:
    """Facts about the machine and software the figures were measured with."""
    import pyoxigraph

    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_mb": mem_kb // 1024,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pyoxigraph": pyoxigraph.__version__,
        "bigtent_env": {k: v for k, v in os.environ.items() if k.startswith("BIGTENT_")},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Measure a validated bigtent load against a raw pyoxigraph bulk_load.",
    )
    parser.add_argument(
        "--records", default="10000,100000", help="comma-separated sizes (10k, 100000, ...)"
    )
    parser.add_argument("--workers", type=int, default=None, help="LOAD_WORKERS for bigtent")
    parser.add_argument(
        "--repeat", type=int, default=0, help="runs per measurement (default 3 below 100k, else 1)"
    )
    parser.add_argument("--keep", action="store_true", help="keep stores and dumps (out/work/)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--base", default=gen.DEFAULT_BASE, help="catalogue base IRI")
    parser.add_argument(
        "--queries", type=int, default=1000, help="entity lookups to time (0 to skip)"
    )
    parser.add_argument(
        "--no-bigtent", action="store_true", help="measure only the raw reference (stand-in)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.records)
    if not sizes:
        parser.error("--records needs at least one size")

    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    results: Result = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(),
        "targets": {
            "ratio_min": TARGET_RATIO,
            "seconds_100k_max": TARGET_SECONDS_100K,
            "peak_rss_mb_max": TARGET_RSS_MB,
        },
        "sizes": [],
    }
    for records in sizes:
        results["sizes"].append(measure_size(records, args, out_dir))
        # rewrite after every size so a long run leaves partial results behind
        (out_dir / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    results["markdown"] = markdown(results)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(results["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
