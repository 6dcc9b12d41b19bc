"""Benchmark: writing the dumps of a large catalogue (target: 100k records in < 30 s).

``python -m bench.dump [--records 100000] [--data-dir DIR] [--repeat N] [--workers N]``

Without ``--data-dir`` the catalogue is built once from generated records
(``bench/out/records-<size>.nt``, see ``bench.generate``) into
``bench/out/work/dump-<size>/data`` and kept for later runs. Each measurement runs in a
fresh process: open the catalogue (not timed), then ``loader.publish.dumps.write_dumps`` into a
fresh directory (timed: wall clock, CPU of all threads, peak memory). Prints a Markdown
table; writes ``bench/out/dump-results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import generate as gen
from bench import run

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
TARGET_SECONDS = 30.0
Result = dict[str, Any]


def _settings(data_dir: Path, base: str, workers: int | None = None) -> Any:
    from loader.base.settings import load_settings

    overrides: dict[str, Any] = {"DATA_DIR": str(data_dir), "BASE_URL": base}
    if workers is not None:
        overrides["LOAD_WORKERS"] = workers
    return load_settings(overrides=overrides)


def child_build(spec: Result) -> Result:
    """Load the generated records into a fresh catalogue (the ontology first)."""
    from loader.catalogue import Catalogue

    started = time.perf_counter()
    with Catalogue.open(_settings(Path(spec["data_dir"]), spec["base"], spec["workers"])) as cat:
        assert cat.install_ontology().ok
        report = cat.load_paths([Path(spec["input"])])
        cat.after_write()
    return {"load_s": time.perf_counter() - started, "loaded": report.loaded, "ok": report.ok}


def child_dump(spec: Result) -> Result:
    """One timed dump."""
    from loader.catalogue import Catalogue
    from loader.publish.dumps import write_dumps

    out = Path(spec["out"])
    shutil.rmtree(out, ignore_errors=True)
    with Catalogue.open(_settings(Path(spec["data_dir"]), spec["base"])) as cat:
        wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
        manifest = write_dumps(cat, out)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        main = time.thread_time() - main
    shutil.rmtree(out, ignore_errors=True)
    return {
        "wall_s": wall,
        "cpu_s": cpu,  # all threads: the compressing ones too
        "main_thread_cpu_s": main,  # reading and formatting; compression runs beside it
        "hwm_kb": _vm_hwm_kb(),
        "revision": manifest.revision,
        "entities": manifest.entities,
        "files": [{"name": f.name, "bytes": f.bytes, "triples": f.triples} for f in manifest.files],
    }


def _vm_hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def calibrate() -> float:
    """Seconds a fixed pure-Python loop takes now: how busy the machine is (≈0.5 s idle)."""
    started = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - started


def _spawn(kind: str, spec: Result, workdir: Path) -> tuple[Result, int]:
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path, result_path = workdir / f"{kind}.spec.json", workdir / f"{kind}.result.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.dump", "--child", kind, str(spec_path), str(result_path)]
    proc = subprocess.Popen(cmd, cwd=run.REPO, stdout=2)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not result_path.exists():
        raise RuntimeError(f"bench.dump {kind} failed")
    return json.loads(result_path.read_text(encoding="utf-8")), int(usage.ru_maxrss)


def catalogue(args: argparse.Namespace) -> Path:
    """The data directory to dump: given, or built once from generated records."""
    if args.data_dir:
        return Path(args.data_dir)
    label = run.size_label(args.records)
    work = OUT / "work" / f"dump-{label}"
    data = work / "data"
    meta_path = work / "catalogue.json"
    want = {"records": args.records, "seed": args.seed, "base": args.base}
    want["generator"] = gen.GENERATOR_VERSION
    if meta_path.exists() and json.loads(meta_path.read_text()) == want and data.exists():
        return data
    shutil.rmtree(work, ignore_errors=True)
    run.cached_input(args.records, "nt", args.seed, args.base, OUT)
    print(f"building a {label} catalogue in {data} (once; minutes)", file=sys.stderr)
    spec = {
        "data_dir": str(data),
        "base": args.base,
        "workers": args.workers,
        "input": str(OUT / f"records-{label}.nt"),
    }
    built, _ = _spawn("build", spec, work)
    if not built["ok"]:
        raise RuntimeError(f"loading the generated records failed: {built}")
    meta_path.write_text(json.dumps(want), encoding="utf-8")
    print(f"loaded {built['loaded']} records in {built['load_s']:.0f}s", file=sys.stderr)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        kind, spec_path, result_path = argv[1:4]
        spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
        result = child_build(spec) if kind == "build" else child_dump(spec)
        Path(result_path).write_text(json.dumps(result), encoding="utf-8")
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.dump", description=__doc__)
    parser.add_argument("--records", type=run.parse_sizes, default=[100_000])
    parser.add_argument("--data-dir", help="dump this catalogue instead of a generated one")
    parser.add_argument("--base", default=gen.DEFAULT_BASE, help="BASE_URL of the catalogue")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="LOAD_WORKERS for building")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    args.records = args.records[0]
    data = catalogue(args)
    work = OUT / "work" / "dump-measure"
    runs = []
    for number in range(args.repeat):
        load_before = os.getloadavg()[0]
        busy = calibrate()
        result, maxrss = _spawn(
            "dump", {"data_dir": str(data), "base": args.base, "out": str(work / "dumps")}, work
        )
        result.update(maxrss_kb=maxrss, load_average=load_before, calibration_s=busy)
        runs.append(result)
        print(f"run {number + 1}: {result['wall_s']:.1f}s", file=sys.stderr)
    wall = statistics.median(r["wall_s"] for r in runs)
    first = runs[0]
    triples = first["files"][0]["triples"]
    verdict = "pass" if wall < TARGET_SECONDS else "**fail**"
    cpu = statistics.median(r["cpu_s"] for r in runs)
    main_cpu = statistics.median(r["main_thread_cpu_s"] for r in runs)
    peak = max(r["maxrss_kb"] for r in runs) // 1024
    lines = [
        "| entities | triples (full) | wall s | CPU s: all threads / main | peak MB "
        "| load avg | calibration s | target < 30 s |",
        "|---|---|---|---|---|---|---|---|",
        f"| {first['entities']:,} | {triples:,} | {wall:.1f} | {cpu:.1f} / {main_cpu:.1f} "
        f"| {peak} | {first['load_average']:.1f} | {first['calibration_s']:.2f} | {verdict} |",
        "",
        "| file | bytes | triples |",
        "|---|---|---|",
        *(f"| {f['name']} | {f['bytes']:,} | {f['triples']:,} |" for f in first["files"]),
    ]
    print("\n".join(lines))
    results = {
        "machine": run.machine(),
        "data_dir": str(data),
        "runs": runs,
        "target_s": TARGET_SECONDS,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dump-results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
