"""Two app instances on one PostgreSQL database: what one writes, the other shows at once
(pages, data documents, search, the change feed), a session made on one works on the
other, and conflicting edits made through the two give a 409 with both versions.

The two instances here live in the test process, each with its own DATA_DIR (its own
page index, caches and embedded store) and one shared revision log, accounts and
sessions. What is checked is derived from the log, so the instances agree without a
shared store; ``test_two_processes.py`` runs real processes on a shared remote store.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from postgres import Cluster
from staff_support import FAST, PASSWORD, catalogue, login

from loader.base.settings import Settings, load_settings
from loader.catalogue import Catalogue
from tests.conftest import BASE
from webapp import create_app
from webapp.http.auth import SECURE_COOKIE as COOKIE  # BASE is https

SECRET = "one-secret-key-for-every-instance"
ENTITY = "Q1200"


@pytest.fixture(scope="module")
def pg_demo(postgres: Cluster, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(template database, DATA_DIR): the demo catalogue with its log in PostgreSQL,
    built once; tests copy both."""
    url = postgres.create_database()
    data_dir = tmp_path_factory.mktemp("pg-demo") / "data"
    settings = load_settings(
        env={},
        overrides={
            "DATA_DIR": str(data_dir),
            "BASE_URL": BASE,
            "LOAD_WORKERS": 1,
            "DATABASE_URL": url,
        },
    )
    with Catalogue.open(settings) as cat:
        assert cat.install_ontology().ok
        assert all(report.ok for report in cat.build_demo())
        cat.page_index.catch_up()
    return url.rsplit("/", 1)[1], data_dir


@pytest.fixture
def pair(
    pg_demo: tuple[str, Path],
    postgres: Cluster,
    tmp_path: Path,
    make_settings: Callable[..., Settings],
) -> Iterator[tuple[Flask, Flask]]:
    """Instances A and B over one copy of the demo database, each with its own DATA_DIR."""
    template, data_dir = pg_demo
    url = postgres.create_database(template)
    apps = []
    for name in ("a", "b"):
        shutil.copytree(data_dir, tmp_path / name)
        settings = make_settings(
            DATA_DIR=str(tmp_path / name), DATABASE_URL=url, SECRET_KEY=SECRET, **FAST
        )
        apps.append(create_app(settings))
    catalogue(apps[0]).accounts.add_user("alice", "admin", PASSWORD)
    catalogue(apps[0]).accounts.add_user("bob", "editor", PASSWORD)
    yield apps[0], apps[1]
    for app in apps:
        catalogue(app).close()


def record(client: FlaskClient, entity: str = ENTITY) -> tuple[dict[str, Any], int]:
    data = client.get(f"/api/entity/{entity}").get_json()
    data.pop("modified")
    return data, int(data.pop("revision"))


def test_what_one_instance_writes_the_other_serves(pair: tuple[Flask, Flask]) -> None:
    a, b = pair
    reader = b.test_client()
    before_page = reader.get(f"/page/{ENTITY}")  # fills B's page cache and index
    before_doc = reader.get(f"/data/{ENTITY}.ttl")
    assert before_page.status_code == before_doc.status_code == 200
    assert b"Renamed through A" not in before_page.data
    writer = a.test_client()
    token = {"X-CSRF-Token": login(writer, "alice")}
    data, base = record(writer)
    data["labels"]["en"] = "Renamed through A"
    saved = writer.put(f"/api/entity/{ENTITY}", json={**data, "base_revision": base}, headers=token)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    revision = saved.get_json()["revision"]

    page = reader.get(f"/page/{ENTITY}")
    assert page.status_code == 200 and b"Renamed through A" in page.data
    assert page.headers["ETag"] != before_page.headers["ETag"]
    assert b"Renamed through A" in reader.get(f"/data/{ENTITY}.ttl").data
    assert record(reader)[1] == revision
    found = reader.get("/search?q=Renamed+through", headers={"Accept": "application/json"})
    assert ENTITY in found.get_data(as_text=True)
    activity = reader.get(f"/changes/activity/{revision}", headers={"Accept": "text/turtle"})
    assert activity.status_code == 200 and ENTITY.encode() in activity.data
    history = reader.get(f"/api/entity/{ENTITY}/history").get_data(as_text=True)
    assert str(revision) in history and "alice" in history


def test_a_session_from_one_instance_works_on_the_other(pair: tuple[Flask, Flask]) -> None:
    a, b = pair
    on_a = a.test_client()
    token = login(on_a, "alice")
    cookie = on_a.get_cookie(COOKIE)
    assert cookie is not None
    on_b = b.test_client()
    on_b.set_cookie(COOKIE, cookie.value)
    who = on_b.get("/api/session").get_json()
    assert who["authenticated"] and who["user"] == "alice" and who["csrf_token"] == token
    data, base = record(on_b)
    data["labels"]["en"] = "Saved on B with A's session"
    saved = on_b.put(
        f"/api/entity/{ENTITY}",
        json={**data, "base_revision": base},
        headers={"X-CSRF-Token": token},
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert on_b.post("/logout", headers={"X-CSRF-Token": token}).status_code in (200, 303)
    assert on_a.get("/api/session").get_json()["authenticated"] is False  # ended everywhere


def test_conflicting_edits_through_two_instances(pair: tuple[Flask, Flask]) -> None:
    a, b = pair
    on_a, on_b = a.test_client(), b.test_client()
    t_a = {"X-CSRF-Token": login(on_a, "alice")}
    t_b = {"X-CSRF-Token": login(on_b, "bob")}
    theirs, base = record(on_a)
    mine = copy.deepcopy(theirs)
    theirs["labels"]["en"] = "Alice's label"
    first = on_a.put(f"/api/entity/{ENTITY}", json={**theirs, "base_revision": base}, headers=t_a)
    assert first.status_code == 200
    mine["labels"]["en"] = "Bob's label"
    refused = on_b.put(f"/api/entity/{ENTITY}", json={**mine, "base_revision": base}, headers=t_b)
    assert refused.status_code == 409
    conflict = refused.get_json()["conflict"]
    assert conflict["fields"][0]["theirs"] == "Alice's label"
    assert conflict["fields"][0]["mine"] == "Bob's label"
    resolved = on_b.put(
        f"/api/entity/{ENTITY}",
        json={**conflict["mine"], "base_revision": conflict["latest_revision"]},
        headers=t_b,
    )
    assert resolved.status_code == 200
    # Nothing lost: both saves are in the one history, seen alike from both instances.
    for client in (on_a, on_b):
        history = client.get(f"/api/entity/{ENTITY}/history").get_data(as_text=True)
        assert "alice" in history and "bob" in history
    assert record(on_a)[0]["labels"]["en"] == "Bob's label"


def test_ids_created_through_both_instances_differ(pair: tuple[Flask, Flask]) -> None:
    a, b = pair
    made = []
    for app in (a, b, a):
        client = app.test_client()
        token = {"X-CSRF-Token": login(client, "bob")}
        body = {"labels": {"en": "New lab"}, "statements": [{"property": "P1", "value": "Q1"}]}
        created = client.post("/api/entity", json=body, headers=token)
        assert created.status_code == 201, created.get_data(as_text=True)
        made.append(created.get_json()["id"])
    assert len(set(made)) == 3


# --- faults at start ----------------------------------------------------------------------


def test_serve_with_an_unreachable_database_says_which_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from live_server import free_port

    from webapp.cli import main

    monkeypatch.setenv(
        "BIGTENT_DATABASE_URL", f"postgresql://bigtent:s3cret@127.0.0.1:{free_port()}/bigtent"
    )
    assert main(["--data-dir", str(tmp_path / "data"), "serve"]) == 2
    error = capsys.readouterr().err
    assert "DATABASE_URL" in error and "s3cret" not in error


def test_wrong_credentials_are_refused_with_the_setting(
    postgres: Cluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from webapp.cli import main

    wrong = f"postgresql://bigtent:not-it@127.0.0.1:{postgres.port}/bigtent"
    monkeypatch.setenv("BIGTENT_DATABASE_URL", wrong)
    assert main(["--data-dir", str(tmp_path / "data"), "user", "list"]) == 2
    error = capsys.readouterr().err
    assert "password authentication failed" in error and "BIGTENT_DATABASE_URL" in error
    assert main(["--data-dir", str(tmp_path / "data"), "settings"]) == 0
    listing = capsys.readouterr().out
    assert "BIGTENT_DATABASE_URL=postgresql://bigtent:***@127.0.0.1" in listing
    assert "not-it" not in listing


def test_dumps_are_written_from_the_postgresql_log(
    pair: tuple[Flask, Flask], tmp_path: Path
) -> None:
    from loader.publish.dumps import DumpScheduler

    cat = catalogue(pair[1])
    assert isinstance(cat.revisions.target, str)  # the child process opens the URL
    scheduler = DumpScheduler(cat, tmp_path / "dumps", interval=0.0)
    try:
        manifest = scheduler.run_once()
    finally:
        scheduler.stop()  # gives the lease up and closes its connection
    assert manifest is not None and manifest.revision == cat.revisions.last_id()
    assert manifest.entities == cat.revisions.entity_count() > 100
    assert all((tmp_path / "dumps" / f.name).stat().st_size == f.bytes for f in manifest.files)
