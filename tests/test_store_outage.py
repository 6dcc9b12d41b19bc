"""Faults of a scale-out deployment against the real engines: Virtuoso and PostgreSQL
reached through a proxy that can make them unreachable or cut a connection at a chosen
moment (tests/tcp_proxy.py), and, at the end, engines of a test's own really stopped
(Virtuoso for 20 s) or restarted (PostgreSQL) during a stream of saves. The revision log
is the truth: saves made while the store is away stand and say so; every process's
background applier catches the store up when it is back; probes, 503s and error pages
tell the truth without naming any internals."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from form_support import form_fields
from live_server import free_port
from postgres import Cluster, running_cluster
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


# --- the engines really stopped: a private Virtuoso and a private PostgreSQL --------------

OUTAGE_SECONDS = 20


class SaveStream:
    """A client thread that keeps creating records through the web app until stopped;
    each save has a label of its own, so the log can be searched for it whatever the
    answer said."""

    def __init__(self, app: Flask, prefix: str) -> None:
        self.client = app.test_client()
        self.token = {"X-CSRF-Token": login(self.client, "ed")}
        self.prefix = prefix
        self.answers: list[tuple[str, int, dict[str, Any] | None, str]] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="save-stream", daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            label = f"{self.prefix} {n}"
            body = {**RECORD, "labels": {"en": label}}
            try:
                response = self.client.post("/api/entity", json=body, headers=self.token)
            except BaseException as exc:  # the test fails on it; the stream goes on
                self.errors.append(exc)
            else:
                text = response.get_data(as_text=True)
                self.answers.append(
                    (label, response.status_code, response.get_json(silent=True), text)
                )
            n += 1
            self._stop.wait(0.05)

    def __enter__(self) -> SaveStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the stream after the save in flight (bounded: a save's retries are)."""
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "a save did not finish within 30 s"

    def wait_for(self, count: int, seconds: float = 30) -> None:
        """Until at least ``count`` answers came back."""
        assert _wait_until(lambda: len(self.answers) >= count, seconds), self.answers[-3:]


def _labels_in_log(log: RevisionLog, labels: list[str]) -> set[str]:
    """Those of ``labels`` that some entity's newest revision in the log carries."""
    content = b"\n".join(rev.snapshot or b"" for rev in log.latest_revisions())
    return {label for label in labels if f'"{label}"@en'.encode() in content}


@pytest.fixture
def private_virtuoso(tmp_path: Path) -> Iterator[Virtuoso]:
    """A Virtuoso of this test's own (the session's serves the other tests, so it must
    not be stopped), built with scripts/virtuoso in the test's directory; stopped after
    (a clean stop; one that no longer answers is ended with SIGTERM, then SIGKILL)."""
    with Virtuoso.start(tmp_path / "virtuoso") as server:
        yield server


@pytest.mark.parametrize("stop", ["shutdown", "kill"])
def test_engine_stopped_for_20_s_during_a_stream_of_saves(
    stop: str,
    private_virtuoso: Virtuoso,
    make_settings: Callable[..., Settings],
    ontology_template: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Virtuoso really stopped for 20 s while a client keeps saving, then started again.
    ``shutdown`` is the operator's clean stop (scripts/virtuoso stop: ``checkpoint;
    shutdown;``, as docs/operations.md says); ``kill`` is a crash (SIGKILL, mid-write:
    the engine replays its transaction log at start). Either way: every acknowledged
    save is in the log and then the store (those of the outage acknowledged as pending),
    none answered as failed was written, and the running process brings the store level
    with the log within 10 s of the engine's return, with no restart and no command."""
    caplog.set_level(logging.WARNING)
    shutil.copytree(ontology_template, tmp_path / "data")
    settings = make_settings(
        **private_virtuoso.settings(), STORE_RETRY_DELAY=0.1, STORE_TIMEOUT=5, **FAST
    )
    with Catalogue.open(settings) as cat:
        cat.verify(repair=True)  # a new engine: the ontology goes in first
    app = create_app(settings)
    cat = app.extensions["bigtent"]
    try:
        cat.accounts.add_user("ed", "editor", PASSWORD)
        before = cat.revisions.count()
        with SaveStream(app, "Saved around a stopped engine") as stream:
            stream.wait_for(3)
            if stop == "shutdown":
                private_virtuoso.stop()
            else:
                private_virtuoso.kill()
            stopped = len(stream.answers)
            time.sleep(OUTAGE_SECONDS)
            during = len(stream.answers) - stopped
            private_virtuoso.run()  # returns once /sparql answers
            back = time.monotonic()
            stream.wait_for(len(stream.answers) + 3)  # a few saves after its return, too
        caught_up = _wait_until(
            lambda: not cat.revisions.unapplied(), back + CATCH_UP_SECONDS - time.monotonic()
        )
        assert not stream.errors, stream.errors
        assert caught_up, f"still pending: {cat.revisions.unapplied()[:5]}"
        with Catalogue.open(settings, recover=False) as other:
            report = other.verify()
            assert report.clean, report

        saved = {label: body for label, status, body, _ in stream.answers if status == 201}
        refused = [
            (label, status, text) for label, status, _, text in stream.answers if status != 201
        ]
        assert all(status == 503 for _, status, _ in refused), refused
        assert during > 0 and any(
            body is not None and body["store"] == "pending" for body in saved.values()
        ), "no save was acknowledged while the engine was away"
        # no acknowledged save lost: each is in the log and (caught up) in the store
        written = _labels_in_log(cat.revisions, [label for label, *_ in stream.answers])
        assert set(saved) <= written
        assert cat.labels([b["id"] for b in saved.values() if b], ["en"]) == {
            b["id"]: label for label, b in saved.items() if b
        }
        # no save answered as failed was written, and nothing else was
        assert not written & {label for label, _, _ in refused}
        assert cat.revisions.count() == before + len(saved)
        events = [r.getMessage() for r in caplog.records]
        assert sum("event=outage_start service=store" in e for e in events) == 1
        assert sum("event=outage_end service=store" in e for e in events) == 1
    finally:
        cat.close()


@pytest.fixture
def private_postgres() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test's own, which it may restart (the session's
    serves the other tests); stopped and deleted after."""
    with running_cluster() as cluster:
        yield cluster


UNKNOWN = "whether it was saved is not known"


def test_every_answer_is_truthful_when_postgresql_restarts_during_saves(
    private_postgres: Cluster, make_settings: Callable[..., Settings], ontology_template: Path
) -> None:
    """PostgreSQL (holding the log and the accounts) restarted twice, fast (open
    transactions rolled back, every connection closed), while a client keeps saving:
    each answer is the truth — 201 means in the log; a 503 saying nothing was written
    means not in the log; only a 503 saying the outcome is not known may be either."""
    url = private_postgres.fresh_url()
    with (
        closing(RevisionLog(ontology_template / "revisions.sqlite3")) as source,
        closing(RevisionLog(url)) as target,
    ):
        source.copy_into(target)
        target.forget_applied()  # a fresh store here: the app applies all at open
    app = create_app(make_settings(DATABASE_URL=url, **FAST))
    cat: Catalogue = app.extensions["bigtent"]
    try:
        cat.accounts.add_user("ed", "editor", PASSWORD)
        before = cat.revisions.count()
        with SaveStream(app, "Saved around a database restart") as stream:
            for _ in range(2):
                stream.wait_for(len(stream.answers) + 5)
                private_postgres.restart()
            stream.wait_for(len(stream.answers) + 5)  # and it serves again afterwards
        assert not stream.errors, stream.errors

        answers = stream.answers
        saved = {label: body for label, status, body, _ in answers if status == 201}
        unknown = {label for label, status, _, text in answers if status == 503 and UNKNOWN in text}
        failed = {label for label, status, _, _ in answers if status == 503} - unknown
        others = [(label, status) for label, status, *_ in answers if status not in (201, 503)]
        assert not others, others
        written = _labels_in_log(cat.revisions, [label for label, *_ in answers])
        assert set(saved) <= written  # acknowledged: in the log
        for label, body in saved.items():
            assert body is not None and cat.revisions.state(body["id"]) is not None, label
        assert not written & failed  # answered "nothing was written": nothing was
        assert written <= set(saved) | unknown
        assert cat.revisions.count() == before + len(written)
        assert answers[-1][1] == 201  # back to normal without a restart of the app
    finally:
        cat.close()
