"""A 200 MB N-Triples file streams through the loader in bounded memory."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE

RECORDS = 20_000
FILLER = "Bigtent streams large inputs record by record. " * 5  # 240 characters
ALIASES = 40  # valid records stay under Wikibase's 250 characters per term


def _write_big_file(path: Path, records: int) -> int:
    wd = BASE + "entity/"
    with path.open("w", encoding="utf-8") as fh:
        for n in range(100_000, 100_000 + records):
            fh.write(
                f'<{wd}Q{n}> <http://www.w3.org/2000/01/rdf-schema#label> "Org {n}"@en .\n'
                f"<{wd}Q{n}> <{BASE}prop/direct/P1> <{wd}Q1> .\n"
            )
            for i in range(ALIASES):
                fh.write(
                    f"<{wd}Q{n}> <http://www.w3.org/2004/02/skos/core#altLabel> "
                    f'"{i} {FILLER}"@en .\n'
                )
    return path.stat().st_size


WRAPPER = """
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(result.stderr)
print(result.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(result.stdout)
"""


def _dry_run(data: Path, path: Path) -> tuple[int, float, str]:
    """Exit code, peak RSS in MB (largest of the loader's processes) and output of a
    `bigtent load --dry-run`, measured in a fresh wrapper process."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            WRAPPER,
            sys.executable,
            "-m",
            "webapp.cli",
            "--data-dir",
            str(data),
            "--base-url",
            BASE,
            "load",
            "--dry-run",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={"BIGTENT_LOAD_WORKERS": "2", "PATH": "/usr/bin:/bin"},
    )
    first, _, rest = result.stdout.partition("\n")
    code, peak_kb = first.split()
    return int(code), int(peak_kb) / 1024, rest + result.stderr


@pytest.mark.slow
def test_200_mb_ntriples_streams_in_bounded_memory(ontology_template: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ontology_template, data)
    small, big = tmp_path / "small.nt", tmp_path / "big.nt"
    assert _write_big_file(small, RECORDS // 4) > 50_000_000
    assert _write_big_file(big, RECORDS) > 200_000_000
    code_small, peak_small, out_small = _dry_run(data, small)
    code_big, peak_big, out_big = _dry_run(data, big)
    assert code_small == 0, out_small[-2000:]
    assert code_big == 0, out_big[-2000:]
    assert f"would load {RECORDS} record(s)" in out_big
    # Holding the input would make memory grow with it (several times 200 MB in Python
    # objects); streaming keeps it flat: four times the input, about the same peak.
    assert peak_big < peak_small * 1.3 + 50, f"peak {peak_small:.0f} MB -> {peak_big:.0f} MB"
    assert peak_big < 800, f"peak RSS {peak_big:.0f} MB"
