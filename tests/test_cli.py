"""The command line: documented exit codes, reports, settings listing, a busy store."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from loader.base.settings import SETTINGS
from loader.catalogue import Catalogue
from tests.conftest import BASE, PREFIXES
from webapp.cli import main

ORG = 'wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 .\n'


def _cli(data_dir: Path, *args: str) -> list[str]:
    return ["--data-dir", str(data_dir), "--base-url", BASE, *args]


@pytest.fixture
def data_dir(catalogue: Catalogue) -> Path:
    """A catalogue's directory with the ontology, released so the CLI can open it."""
    catalogue.close()
    return catalogue.settings.data_dir


def test_json_report_lists_every_problem(
    data_dir: Path,
    write_ttl: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_ttl("two.ttl", ORG + "wd:Q5001 a wikibase:Item ; wdt:P1 wd:Q1 .\n")
    code = main(_cli(data_dir, "load", "--json", str(path)))
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["created"] == 1 and report["rejected"] == 1
    [rejection] = report["rejections"]
    assert rejection["entity"] == "Q5001"
    assert rejection["line"] == PREFIXES.count("\n") + 2  # after the prefixes and Q5000
    problem = rejection["problems"][0]
    assert {"focus", "path", "shape", "message", "severity"} <= set(problem)
    assert problem["path"] == "http://www.w3.org/2000/01/rdf-schema#label"


def test_settings_command_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    for setting in SETTINGS:
        assert setting.env in out


def test_bad_setting_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIGTENT_MAX_RECORD_TRIPLES", "lots")
    assert main(_cli(tmp_path / "d", "load", str(tmp_path))) == 2
    assert "MAX_RECORD_TRIPLES" in capsys.readouterr().err


@pytest.mark.embedded_store  # the lock of the embedded store on disk
def test_busy_store_exits_2_with_a_clear_message(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    """The catalogue fixture holds the store, as `bigtent serve` would."""
    path = write_ttl("org.ttl", ORG)
    result = subprocess.run(
        [sys.executable, "-m", "webapp.cli", *_cli(catalogue.settings.data_dir, "load", str(path))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "in use by another process" in result.stderr
    assert "Traceback" not in result.stderr
    assert catalogue.revisions.state("Q5000") is None


def test_progress_bar_only_on_request_or_terminal(
    data_dir: Path,
    write_ttl: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_ttl("org.ttl", ORG)
    assert main(_cli(data_dir, "load", str(path))) == 0
    assert "records" not in capsys.readouterr().err  # not a terminal: quiet
    assert main(_cli(data_dir, "load", "--progress", str(path))) == 0
    assert "1/1 records" in capsys.readouterr().err


def test_dump_reindex_delete_merge_commands(
    data_dir: Path,
    write_ttl: Callable[[str, str], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    two = ORG + ORG.replace("Q5000", "Q5001").replace('"Lab"', '"Lab two"')
    assert main(_cli(data_dir, "load", str(write_ttl("two.ttl", two)))) == 0
    assert main(_cli(data_dir, "merge", "Q5001", "Q5000")) == 0
    assert main(_cli(data_dir, "delete", "Q5000", "--reason", "test")) == 0
    assert main(_cli(data_dir, "delete", "Q5000", "--reason", "again")) == 2
    assert main(_cli(data_dir, "reindex")) == 0
    assert main(_cli(data_dir, "dump", "--out", str(tmp_path / "dumps"))) == 0
    out = capsys.readouterr().out
    assert "bigtent-full.nt.gz" in out and "now redirects" in out
