"""The revision log benchmark runs on both engines (never a timing assertion)."""

from __future__ import annotations

import json
from pathlib import Path

from postgres import Cluster

from bench.revision_log import main


def test_revision_log_benchmark_runs_on_both_engines(postgres: Cluster, tmp_path: Path) -> None:
    url = postgres.fresh_url()
    assert (
        main(["--records", "600", "--saves", "5", "--database-url", url, "--out", str(tmp_path)])
        == 0
    )
    results = json.loads((tmp_path / "revision-log-results.json").read_text())
    for engine in ("sqlite", "postgresql"):
        assert results[engine]["load"]["per_second"] > 0
        assert set(results[engine]) >= {"save", "last_id", "get", "catch_up_100", "export"}
