"""The scaling table puts the newest results of each size side by side."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import scaling  # noqa: E402


def _load(records: int, seconds: float, started: str) -> dict[str, object]:
    row = {"measurement": "bigtent validated load", "wall_s": seconds, "ratio": 0.4}
    return {"started": started, "sizes": [{"records": records, "rows": [row]}]}


def _http(records: int, html: float, started: str, p99: float = 20.0) -> dict[str, object]:
    rows = [
        {
            "scenario": "/health (ceiling)",
            "entity_set": "–",
            "requests_per_s": 1600.0,
            "p99_ms": p99,
        },
        {"scenario": "HTML entity page", "entity_set": "all", "ratio": html},
        {"scenario": "HTML entity page", "entity_set": "hot", "ratio": 0.9},
    ]
    entry = {"records": records, "throughput": rows, "server_memory": {"server_mb": 270.0}}
    return {"started": started, "sizes": [entry]}


def test_each_size_shows_its_newest_load_and_http_results(tmp_path: Path) -> None:
    (tmp_path / "1m").mkdir()
    files = {
        "results.json": _load(100_000, 90.0, "2026-12-01T10:00:00+0000"),
        "1m/results.json": _load(1_000_000, 900.0, "2026-12-07T10:00:00+0000"),
        "http-100k.json": _http(100_000, 0.09, "2026-12-07T09:00:00+0000"),
        "1m/http-100k.json": _http(100_000, 0.12, "2026-12-07T11:00:00+0000"),
        "1m/http-1m.json": _http(1_000_000, 0.65, "2026-12-07T12:00:00+0000", p99=4180.0),
        "broken.json": {"sizes": "nothing"},
    }
    for name, data in files.items():
        (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "http-10k.json").write_text("{not json", encoding="utf-8")

    sizes = scaling.collect(scaling.result_files(tmp_path))
    assert [s.records for s in sizes] == [100_000, 1_000_000]
    hundred, million = (scaling.cells(s) for s in sizes)
    column = scaling.COLUMNS.index
    assert hundred[column("validated load")] == "90.0 s"
    assert hundred[column("HTML page ratio")] == "0.12"  # the newer of the two HTTP runs
    assert hundred[column("/health req/s")] == "1,600"
    assert hundred[column("serving process peak RSS")] == "270 MB"
    assert million[column("validated load")] == "900.0 s"
    assert million[column("HTML page ratio")] == "n/a (ceiling disturbed)"
    assert million[column("/health req/s")] == "1,600"
    lines = scaling.table(sizes)
    assert len(lines) == 4 and lines[2].startswith("| 100k |")
