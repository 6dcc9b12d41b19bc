"""Snapshots for the SPARQL workers: taking, handing out and deleting them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loader import snapshots as snapshots_module
from loader.catalogue import Catalogue
from loader.snapshots import Snapshots
from loader.store import OxigraphStore

pytestmark = pytest.mark.embedded_store  # checkpoints of the embedded store


def test_a_release_while_a_snapshot_is_published_keeps_the_new_snapshot(
    catalogue: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: a worker's release() between the checkpoint and its publication
    deleted the snapshot just taken, and the next query could not open it."""
    assert isinstance(catalogue.store, OxigraphStore)
    snaps = Snapshots(catalogue.store, catalogue.revisions, tmp_path / "snapshots")
    first = snaps.refresh()
    assert first is not None
    held = snaps.acquire()
    catalogue.delete(catalogue.revisions.recent(1)[0].entity, reason="change")
    real_time = time.time

    def release_meanwhile() -> float:  # runs between checkpoint and publication
        snaps.release(held.path)
        return real_time()

    monkeypatch.setattr(snapshots_module.time, "time", release_meanwhile)
    second = snaps.refresh()
    monkeypatch.setattr(snapshots_module.time, "time", real_time)
    assert second is not None and snaps.current == second
    assert (second.path / "CURRENT").exists()
    assert not first.path.exists()  # the old one, unused, is gone
    snaps.close()
