"""Dumps in a deployment of several processes: one process, elected by a lease in the
shared database (loader/storage/leases.py), writes the dumps to shared storage
(DUMP_DIR); the others serve them; and nothing promises a dump no process will write
(with DUMP_INTERVAL 0 everywhere, /dumps/ and its 503s name ``bigtent dump``)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.publish.dumps import DUMP_LEASE, DumpScheduler, read_manifest, write_dumps
from loader.storage.leases import Lease
from loader.storage.revision_log import NewRevision
from webapp import create_app


def test_one_process_holds_a_lease_until_it_expires_or_is_released(
    db_target: Callable[[str], Path | str],
) -> None:
    target = db_target("revisions")
    first, second = Lease(target, "job", 60), Lease(target, "job", 60)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert first.acquire()  # renewal
        current = first.current()
        assert current is not None and current.holder == first.holder
        first.release()
        assert second.acquire()
        assert not first.acquire()
        brief = Lease(target, "brief", 0.05)
        assert brief.acquire()
        time.sleep(0.2)  # past its expiry: the holder is gone
        assert brief.current() is None
        other = Lease(target, "brief", 60)
        assert other.acquire()
        brief.close()
        other.close()
    finally:
        first.close()
        second.close()


@pytest.fixture
def shared(demo_template: Path, tmp_path: Path, make_settings: Callable[..., Settings]) -> Path:
    """One revision log (a copy of the demo's), shared by the catalogues of the tests."""
    shutil.copytree(demo_template, tmp_path / "data")
    return tmp_path / "data"


def test_only_the_elected_scheduler_writes_and_another_takes_over_when_it_stops(
    shared: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    out = tmp_path / "shared-dumps"
    with Catalogue.open(make_settings(DATA_DIR=str(shared))) as cat:
        repo = cat.repository
        a = DumpScheduler(repo, out, interval=0.01)
        b = DumpScheduler(repo, out, interval=0.01)
        try:
            assert a.lease is not None and b.lease is not None  # a log in a database
            written = a.run_once()
            assert written is not None and written.revision == repo.revisions.last_id()
            repo.revisions.append([NewRevision("Q1001", "delete", "tester", "election test")])
            assert b.stale()
            assert b.run_once() is None  # not elected: a's lease is live
            a.stop()  # gives the lease up
            again = b.run_once()
            assert again is not None and again.revision == repo.revisions.last_id()
        finally:
            a.stop()
            b.stop()


@pytest.fixture
def app_factory(
    shared: Path, make_settings: Callable[..., Settings]
) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(**overrides: object) -> Flask:
        app = create_app(make_settings(DATA_DIR=str(shared), **overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["bigtent"].close()


def test_with_dump_interval_0_nothing_promises_a_dump(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    client = app_factory(DUMP_DIR=str(tmp_path / "none"), DUMP_INTERVAL=0).test_client()
    listing = client.get("/dumps/", headers={"Accept": "application/json"}).get_json()
    assert listing["files"] == [] and listing["written_by"] == "operator"
    page = client.get("/dumps/").get_data(as_text=True)
    assert "operator" in page and "bigtent dump" in page
    assert "shortly after it starts" not in page
    missing = client.get("/dumps/bigtent-full.nt.gz", headers={"Accept": "application/json"})
    assert missing.status_code == 503 and "Retry-After" in missing.headers
    text = json.dumps(missing.get_json())
    assert "bigtent dump" in text and "within DUMP_INTERVAL" not in text


def test_a_process_without_dumps_serves_those_the_elected_one_writes(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    """Process B (DUMP_INTERVAL 0) shares DUMP_DIR with the elected writer A: it serves
    A's files and says they are kept up to date by the server, as A holds the lease."""
    folder = tmp_path / "shared-dumps"
    reader = app_factory(DUMP_DIR=str(folder), DUMP_INTERVAL=0)
    cat: Catalogue = reader.extensions["bigtent"]
    target = cat.repository.revisions.target
    assert target is not None
    writer_lease = Lease(target, DUMP_LEASE, 60)  # process A, elected
    try:
        assert writer_lease.acquire()
        manifest = write_dumps(cat.repository, folder)
        client = reader.test_client()
        listing = client.get("/dumps/", headers={"Accept": "application/json"}).get_json()
        assert listing["revision"] == manifest.revision and listing["written_by"] == "server"
        assert len(listing["files"]) == 4
        with client.get("/dumps/bigtent-truthy.nt.gz") as got:
            assert got.status_code == 200
            assert got.data == (folder / "bigtent-truthy.nt.gz").read_bytes()
        assert read_manifest(folder) is not None
    finally:
        writer_lease.release()
        writer_lease.close()
