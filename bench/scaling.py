"""The cost curve: one row per catalogue size, from the results the other harnesses wrote.

``python -m bench.scaling [--out bench/out]`` reads every ``results.json`` of ``bench.run``
and every ``http-<size>.json`` of ``bench.http`` in ``--out`` and its subfolders, keeps the
newest of each per size, and prints one Markdown table: the validated load (seconds, its
ratio to the raw ``bulk_load`` of the same quads, peak memory), the HTTP ratios to
``/health`` over all ids (entity page, Turtle document, search, SPARQL lookup mix) and the
serving process's peak memory. Every ratio was measured against its reference in the same
run; this table only puts the runs side by side. Nothing is measured here. A run whose
``/health`` p99 exceeds a second measured its ceiling on a busy server: its ratios are
not shown.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import run
from bench.tables import fmt, markdown_table

DEFAULT_OUT = Path(__file__).resolve().parent / "out"

#: (column, scenario of bench.http, entity set): the ratios shown, over all ids.
HTTP_COLUMNS = (
    ("HTML page", "HTML entity page", "all"),
    (".ttl", "data document .ttl", "all"),
    ("search", "search (one label word)", "all"),
    ("SPARQL lookups", "SPARQL lookup mix", "all"),
)
COLUMNS = (
    "records",
    "validated load",
    "ratio to raw bulk_load",
    "load peak RSS",
    "/health req/s",
    *(f"{name} ratio" for name, _, _ in HTTP_COLUMNS),
    "serving process peak RSS",
    "measured",
)

Result = dict[str, Any]


@dataclass
class Size:
    """The newest results found for one catalogue size."""

    records: int
    load: Result | None = None
    load_started: str = ""
    http: Result | None = None
    http_started: str = ""
    sources: list[str] = field(default_factory=list)


def _read(path: Path) -> Result | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("sizes"), list) else None


def result_files(out: Path) -> Iterable[Path]:
    """The result files of both harnesses in ``out`` and its subfolders (one level)."""
    for folder in (out, *sorted(p for p in out.iterdir() if p.is_dir())):
        yield from sorted(folder.glob("results.json"))
        yield from sorted(folder.glob("http-*.json"))


def collect(paths: Iterable[Path]) -> list[Size]:
    """The newest load and HTTP results per size, smallest size first."""
    sizes: dict[int, Size] = {}
    for path in paths:
        data = _read(path)
        if data is None:
            continue
        started = str(data.get("started", ""))
        is_http = path.name.startswith("http-")
        for entry in data["sizes"]:
            records = entry.get("records")
            if not isinstance(records, int):
                continue
            size = sizes.setdefault(records, Size(records))
            if is_http and "throughput" in entry and started > size.http_started:
                size.http, size.http_started = entry, started
                size.sources.append(str(path))
            elif not is_http and "rows" in entry and started > size.load_started:
                size.load, size.load_started = entry, started
                size.sources.append(str(path))
    return [sizes[k] for k in sorted(sizes)]


def _load_row(entry: Result | None) -> Result:
    for row in (entry or {}).get("rows", []):
        if row.get("measurement") == "bigtent validated load":
            return dict(row)
    return {}


def _ratio(entry: Result | None, scenario: str, entity_set: str) -> float | None:
    for row in (entry or {}).get("throughput", []):
        if row.get("scenario") == scenario and row.get("entity_set") == entity_set:
            ratio = row.get("ratio")
            return ratio if isinstance(ratio, float | int) else None
    return None


def _health(entry: Result | None) -> float | None:
    for row in (entry or {}).get("throughput", []):
        if str(row.get("scenario", "")).startswith("/health"):
            value = row.get("requests_per_s")
            return value if isinstance(value, float | int) else None
    return None


#: A ``/health`` run whose p99 is over this was disturbed (the server was still busy with
#: earlier requests): ratios to it mean nothing, and are not shown.
DISTURBED_P99_MS = 1000.0


def disturbed(entry: Result | None) -> bool:
    """True when the run's ``/health`` ceiling was measured on a busy server."""
    for row in (entry or {}).get("throughput", []):
        if str(row.get("scenario", "")).startswith("/health"):
            p99 = row.get("p99_ms")
            return isinstance(p99, float | int) and p99 > DISTURBED_P99_MS
    return False


def _server_mb(entry: Result | None) -> float | None:
    memory = (entry or {}).get("server_memory") or {}
    if memory.get("server_mb"):
        return float(memory["server_mb"])
    return None  # older results did not tell the serving process from its workers


def cells(size: Size) -> list[str]:
    """One row of the table."""
    load = _load_row(size.load)
    seconds = load.get("wall_s")
    dates = sorted({s[:10] for s in (size.load_started, size.http_started) if s})
    return [
        run.size_label(size.records),
        "–" if seconds is None else f"{seconds:,.1f} s",
        fmt(load.get("ratio"), ".2f"),
        fmt(load.get("peak_rss_mb"), ",.0f") + (" MB" if load.get("peak_rss_mb") else ""),
        fmt(_health(size.http), ",.0f"),
        *(
            "n/a (ceiling disturbed)"
            if disturbed(size.http)
            else fmt(_ratio(size.http, scenario, which), ".2f")
            for _, scenario, which in HTTP_COLUMNS
        ),
        fmt(_server_mb(size.http), ",.0f") + (" MB" if _server_mb(size.http) else ""),
        ", ".join(dates) or "–",
    ]


def table(sizes: Sequence[Size]) -> list[str]:
    """The Markdown table."""
    return markdown_table(COLUMNS, (cells(s) for s in sizes))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scaling",
        description="Put the newest bench.run and bench.http results of each size side by side.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the results are")
    args = parser.parse_args(argv)
    if not args.out.is_dir():
        parser.error(f"{args.out} is not a folder; run bench.run or bench.http first")
    sizes = collect(result_files(args.out))
    if not sizes:
        parser.error(f"no results in {args.out}; run bench.run or bench.http first")
    print("\n".join(table(sizes)))
    for size in sizes:
        print(f"\n{run.size_label(size.records)}: " + ", ".join(dict.fromkeys(size.sources)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
