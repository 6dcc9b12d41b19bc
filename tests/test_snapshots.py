"""Snapshots for the SPARQL workers: taking, handing out and deleting them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loader.catalogue import Catalogue
from loader.query import snapshots as snapshots_module
from loader.query.snapshots import Snapshots
from loader.storage.oxigraph_store import OxigraphStore

pytestmark = pytest.mark.embedded_store  # checkpoints of the embedded store


def test_a_release_during_a_checkpoint_keeps_the_checkpoint_being_written(
    catalogue: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: RocksDB writes a checkpoint into "<target>.tmp" first; a worker's
    release() at that moment deleted the directory under it and the snapshot failed."""
    assert isinstance(catalogue.store, OxigraphStore)
    snaps = Snapshots(catalogue.store, catalogue.revisions, tmp_path / "snapshots")
    first = snaps.refresh()
    assert first is not None
    held = snaps.acquire()
    catalogue.delete(catalogue.revisions.recent(1)[0].entity, reason="change")
    real_checkpoint = catalogue.store.checkpoint
    survived = []

    def checkpoint_with_a_release_midway(target: Path) -> None:
        partial = target.with_name(target.name + ".tmp")
        partial.mkdir()  # where RocksDB is writing at this moment
        snaps.release(held.path)
        survived.append(partial.exists())
        partial.rmdir()
        real_checkpoint(target)

    monkeypatch.setattr(catalogue.store, "checkpoint", checkpoint_with_a_release_midway)
    second = snaps.refresh()
    assert survived == [True]
    assert second is not None and (second.path / "CURRENT").exists()
    assert not first.path.exists()
    snaps.close()


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
