"""Operating a catalogue through faults: ``bigtent verify`` reporting before repairing,
what visitors read while the database or the store is away, readiness and store lag,
the background applier that catches the store up with the log (embedded store and
SQLite here; tests/test_store_outage.py does the same against Virtuoso and PostgreSQL)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.storage.revision_log import NewRevision
from tests.conftest import BASE
from webapp.cli import main

LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"


def _log_only(cat: Catalogue, entity: str, label: str) -> None:
    """A revision that reached the log but not the store (as when the store failed
    right after the commit)."""
    snapshot = f'<{BASE}entity/{entity}> {LABEL} "{label}"@en .\n'.encode()
    cat.revisions.append([NewRevision(entity, "update", "test", "behind", label, snapshot)])


def test_verify_reports_pending_revisions_before_repairing(
    ontology_template: Path,
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Regression: verify used to apply pending revisions silently at open, then print
    "0 different" and exit 0, so monitoring never saw that the store had fallen behind."""
    data = tmp_path / "data"
    shutil.copytree(ontology_template, data)
    args = ["--data-dir", str(data), "--base-url", BASE]
    with Catalogue.open(make_settings()) as cat:
        _log_only(cat, "P1", "in the log only")
        cat.store.replace_graph(cat.ns.data_document("P2"), b"")  # plain drift, too
    capsys.readouterr()
    assert main([*args, "verify"]) == 1
    out = capsys.readouterr().out
    assert "1 pending (logged, not yet applied; will be applied), 1 missing" in out
    assert f"pending, will be applied: {BASE}data/P1" in out
    assert f"missing: {BASE}data/P2" in out
    assert f"missing: {BASE}data/P1" not in out
    assert main([*args, "verify"]) == 1  # reporting changed nothing
    capsys.readouterr()
    assert main([*args, "verify", "--repair"]) == 0
    assert "repaired 2 graphs" in capsys.readouterr().out
    assert main([*args, "verify"]) == 0
    with Catalogue.open(make_settings()) as cat:
        assert not cat.revisions.unapplied()
        assert cat.labels(["P1"], ["en"]) == {"P1": "in the log only"}
