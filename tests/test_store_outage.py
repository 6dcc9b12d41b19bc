"""Faults of a scale-out deployment against the real engines: Virtuoso reached through a
proxy that can make it unreachable (tests/tcp_proxy.py), so an outage takes no restart of
the engine. The revision log is the truth: saves made while the store is away stand and
say so; every process's background applier catches the store up when it is back; probes,
503s and error pages tell the truth without naming any internals."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from form_support import form_fields
from live_server import free_port
from postgres import Cluster
from staff_support import FAST, PASSWORD, login
from tcp_proxy import CuttingProxy
from virtuoso import Virtuoso

import tests.conftest as shared
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.editing.editor import STORE_PENDING
from loader.storage.revision_log import RevisionLog
from webapp import create_app

RECORD = {
    "labels": {"en": "Outage test organisation"},
    "statements": [{"property": "P1", "value": "Q1"}],
}
CATCH_UP_SECONDS = 10


@pytest.fixture
def proxy(virtuoso: Virtuoso) -> Iterator[CuttingProxy]:
    """The session's Virtuoso behind a proxy that can make it unreachable."""
    with CuttingProxy(("127.0.0.1", virtuoso.http_port)) as through:
        yield through


@pytest.fixture
def proxied(
    virtuoso: Virtuoso,
    proxy: CuttingProxy,
    make_settings: Callable[..., Settings],
    ontology_template: Path,
    tmp_path: Path,
) -> Iterator[Callable[..., Settings]]:
    """Factory: settings of a catalogue holding the ontology, its store reached through
    ``proxy``; the shared Virtuoso synced with its log first, and marked for a resync
    afterwards (the next test's fixture then repairs whatever this one left)."""
    shutil.copytree(ontology_template, tmp_path / "data")

    def make(**overrides: Any) -> Settings:
        return make_settings(
            **{
                **virtuoso.settings(),
                "STORE_QUERY_URL": proxy.url("/sparql"),
                "STORE_UPDATE_URL": proxy.url("/sparql-auth"),
                "STORE_GRAPH_STORE_URL": proxy.url("/sparql-graph-crud-auth"),
                "STORE_RETRY_DELAY": 0.1,
                **FAST,
                **overrides,
            }
        )

    with Catalogue.open(make()) as cat:
        cat.verify(repair=True)
    yield make
    shared._SharedStore.key = None


@pytest.fixture
def app(proxied: Callable[..., Settings]) -> Iterator[Flask]:
    """The web app on the proxied store, with an editor account."""
    application = create_app(proxied())
    application.extensions["bigtent"].accounts.add_user("ed", "editor", PASSWORD)
    yield application
    application.extensions["bigtent"].close()


def _wait_until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_saves_during_an_outage_stand_and_the_store_catches_up(
    app: Flask,
    proxy: CuttingProxy,
    proxied: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    cat: Catalogue = app.extensions["bigtent"]
    client = app.test_client()
    token = {"X-CSRF-Token": login(client, "ed")}
    answers: list[tuple[int, dict[str, Any]]] = []
    before = cat.revisions.count()

    def save(n: int) -> None:
        body = {**RECORD, "labels": {"en": f"Outage test organisation {n}"}}
        response = client.post("/api/entity", json=body, headers=token)
        answers.append((response.status_code, response.get_json()))

    for n in range(3):
        save(n)
    proxy.down()
    anonymous = app.test_client()
    try:
        for n in range(3, 9):
            save(n)
        sparql = anonymous.get("/sparql", query_string={"query": "ASK {}"})
        ready = anonymous.get("/ready")
        health = anonymous.get("/health")
        time.sleep(2)  # the outage lasts a while; the applier keeps trying meanwhile
        for n in range(9, 11):
            save(n)
    finally:
        proxy.up()

    # during the outage: the public sees a 503 that can be retried, and nothing internal
    assert sparql.status_code == 503 and sparql.headers["Retry-After"]
    shown = sparql.get_data(as_text=True)
    for internal in ("127.0.0.1", str(proxy.port), "STORE_", "sparql-auth"):
        assert internal not in shown
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.get_json()["store"] == "unavailable"
    assert ready.get_json()["lag"]["revisions"] >= 6
    assert health.status_code == 200  # alive: restarting would not help

    # every save was acknowledged; those of the outage say the store will catch up
    assert [status for status, _ in answers] == [201] * 11
    pending = [body for _, body in answers[3:]]
    assert all(b["store"] == "pending" and b["message"] == STORE_PENDING for b in pending)
    assert all(b["store"] == "current" for _, b in answers[:3])
    assert cat.revisions.count() == before + 11  # no acknowledged save lost, none invented

    # no restart, no command: the running process applies them once the engine answers
    assert _wait_until(lambda: not cat.revisions.unapplied(), CATCH_UP_SECONDS)
    with Catalogue.open(proxied(), recover=False) as other:
        assert other.verify().clean
    created = [body["id"] for _, body in answers]
    labels = cat.labels(created, ["en"])
    assert labels == {e: f"Outage test organisation {n}" for n, e in enumerate(created)}
    assert anonymous.get("/ready").status_code == 200
    events = [r.getMessage() for r in caplog.records]
    assert sum("event=outage_start service=store" in e for e in events) == 1
    assert sum("event=outage_end service=store" in e for e in events) == 1


def _serve(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``bigtent serve`` in a process group of its own, ended if it starts serving."""
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "--data-dir", str(tmp_path / "serve"), "serve"],
        env={**os.environ, "BIGTENT_PORT": str(free_port()), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _env(settings: dict[str, str]) -> dict[str, str]:
    return {f"BIGTENT_{name}": value for name, value in settings.items()}


def test_serve_refuses_to_start_with_a_wrong_store_password(
    virtuoso: Virtuoso, tmp_path: Path
) -> None:
    """Regression: a wrong STORE_PASSWORD started without a word (reads are anonymous on
    Virtuoso), and every save then reached only the log."""
    wrong = "not-the-password-" + "x" * 8
    done = _serve(_env({**virtuoso.settings(), "STORE_PASSWORD": wrong}), tmp_path)
    assert done.returncode == 2, done.stderr
    assert "STORE_PASSWORD" in done.stderr and "refused the credentials" in done.stderr
    assert wrong not in done.stderr + done.stdout
    assert "serving" not in done.stdout  # it never began accepting requests


def test_serve_refuses_to_start_without_the_engine(virtuoso: Virtuoso, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/sparql"
    settings = {**virtuoso.settings(), "STORE_QUERY_URL": closed, "STORE_RETRIES": "0"}
    done = _serve(_env(settings), tmp_path)
    assert done.returncode == 2, done.stderr
    assert "STORE_QUERY_URL" in done.stderr


# --- PostgreSQL: connections dropped around the commit ------------------------------------


@pytest.fixture
def pg_app(
    postgres: Cluster, make_settings: Callable[..., Settings], ontology_template: Path
) -> Iterator[tuple[Flask, CuttingProxy, Cluster]]:
    """The web app (embedded store) with its log and accounts on PostgreSQL reached
    through a proxy that can drop connections; the log holds the ontology."""
    with CuttingProxy(("127.0.0.1", postgres.port)) as proxy:
        url = postgres.fresh_url().replace(f":{postgres.port}/", f":{proxy.port}/")
        with (
            closing(RevisionLog(ontology_template / "revisions.sqlite3")) as source,
            closing(RevisionLog(url)) as target,
        ):
            source.copy_into(target)
            target.forget_applied()  # a fresh store here: the app applies all at open
        application = create_app(make_settings(DATABASE_URL=url, **FAST))
        application.extensions["bigtent"].accounts.add_user("ed", "editor", PASSWORD)
        try:
            yield application, proxy, postgres
        finally:
            application.extensions["bigtent"].close()


def test_a_commit_whose_answer_is_lost_is_reported_saved(
    pg_app: tuple[Flask, CuttingProxy, Cluster], caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: a save whose COMMIT reached PostgreSQL, but whose answer did not come
    back, was answered 503 "nothing was written" although it had been committed."""
    app, proxy, _ = pg_app
    caplog.set_level(logging.WARNING)
    cat: Catalogue = app.extensions["bigtent"]
    client = app.test_client()
    token = {"X-CSRF-Token": login(client, "ed")}
    before = cat.revisions.count()
    proxy.cut_after_sending(b"COMMIT", after=b"INSERT INTO revisions")
    response = client.post("/api/entity", json=RECORD, headers=token)
    assert proxy.pattern_cuts == 1, response.get_data(as_text=True)
    assert response.status_code == 201, response.get_data(as_text=True)
    entity = response.get_json()["id"]
    assert cat.revisions.count() == before + 1
    assert cat.revisions.state(entity) is not None
    assert any("event=commit_confirmed" in r.getMessage() for r in caplog.records)


def test_a_save_cut_before_the_commit_writes_nothing_and_keeps_the_form(
    pg_app: tuple[Flask, CuttingProxy, Cluster],
) -> None:
    app, proxy, postgres = pg_app
    cat: Catalogue = app.extensions["bigtent"]
    client = app.test_client()
    login(client, "ed")
    fields = form_fields(client.get("/edit/new/Q1").get_data(as_text=True))
    fields.update({"term-0-lang": "en", "term-0-label": "Typed while the database fell"})
    before = cat.revisions.count()
    proxy.cut_after_sending(b"INSERT INTO revisions")
    page = client.post("/edit/new/Q1", data={**fields, "action": "save"})
    assert proxy.pattern_cuts == 1
    assert page.status_code == 503 and page.headers["Retry-After"]
    html = page.get_data(as_text=True)
    assert form_fields(html)["term-0-label"] == "Typed while the database fell"
    assert "nothing was changed" in html
    for internal in ("127.0.0.1", str(proxy.port), str(postgres.port), "DATABASE_URL"):
        assert internal not in html
    assert cat.revisions.count() == before


def test_database_outage_shows_visitors_no_internals(
    pg_app: tuple[Flask, CuttingProxy, Cluster], caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: the public error page showed the database's host, port and user."""
    app, proxy, postgres = pg_app
    caplog.set_level(logging.ERROR)
    anonymous = app.test_client()
    csrf = {"X-CSRF-Token": anonymous.get("/api/session").get_json()["csrf_token"]}
    proxy.down()
    try:
        for path, accept in (("/api/entity/P1", "application/json"), ("/login", "text/html")):
            if path == "/login":
                form = {"name": "ed", "password": "x"}
                answer = anonymous.post(path, data=form, headers={**csrf, "Accept": accept})
            else:
                answer = anonymous.get(path, headers={"Accept": accept})
            assert answer.status_code == 503, (path, answer.status_code)
            text = answer.get_data(as_text=True)
            for internal in ("127.0.0.1", str(proxy.port), str(postgres.port), "DATABASE_URL"):
                assert internal not in text, (path, internal)
            assert answer.headers["Retry-After"]
        ready = anonymous.get("/ready")
        assert ready.status_code == 503 and ready.get_json()["database"] == "unavailable"
        assert anonymous.get("/health").status_code == 200
    finally:
        proxy.up()
    logged = [r.getMessage() for r in caplog.records if "event=service_error" in r.getMessage()]
    assert logged and "DATABASE_URL" in logged[0]  # the operators get the whole story
    assert anonymous.get("/ready").status_code == 200
