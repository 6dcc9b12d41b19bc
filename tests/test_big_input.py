"""A 200 MB N-Triples file streams through the loader in bounded memory."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE

RECORDS = 20_000
TEXT = "Bigtent streams large inputs record by record. " * 210  # ~10 kB per record


def _write_big_file(path: Path) -> int:
    wd = BASE + "entity/"
    with path.open("w", encoding="utf-8") as fh:
        for n in range(100_000, 100_000 + RECORDS):
            fh.write(
                f'<{wd}Q{n}> <http://www.w3.org/2000/01/rdf-schema#label> "Org {n}"@en .\n'
                f"<{wd}Q{n}> <{BASE}prop/direct/P1> <{wd}Q1> .\n"
                f'<{wd}Q{n}> <http://schema.org/description> "{n} {TEXT}"@en .\n'
            )
    return path.stat().st_size


@pytest.mark.slow
def test_200_mb_ntriples_streams_in_bounded_memory(ontology_template: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.nt"
    size = _write_big_file(big)
    assert size > 200 * 1024 * 1024
    data = tmp_path / "data"
    shutil.copytree(ontology_template, data)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "webapp.cli",
            "--data-dir",
            str(data),
            "--base-url",
            BASE,
            "load",
            "--dry-run",
            str(big),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={"BIGTENT_LOAD_WORKERS": "2", "PATH": "/usr/bin:/bin"},
    )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"would load {RECORDS} record(s)" in result.stdout
    # The file is over 200 MB; holding it would take several times that in Python objects.
    assert before / 1024 < 400 and peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"
