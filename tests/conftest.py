"""Shared fixtures: settings and catalogue factories, in-process, in temporary dirs."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyoxigraph as ox
import pytest
from browser import WatchedPage, launched_chromium, watched_page
from flask import Flask
from flask.testing import FlaskClient
from live_server import LiveServer
from postgres import Cluster, running_cluster
from virtuoso import Virtuoso

from loader.base.namespaces import relative_turtle_prefixes
from loader.base.settings import ENV_PREFIX, Settings, load_settings
from loader.catalogue import Catalogue
from loader.storage.remote_store import RemoteStore
from webapp import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BASE = "https://bigtent.example.org/"
PREFIXES = relative_turtle_prefixes()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's BIGTENT_* settings."""
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Factory: settings for a catalogue in a fresh temporary directory."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "DATA_DIR": str(tmp_path / "data"),
            "BASE_URL": BASE,
            "LOAD_WORKERS": 1,
            "DUMP_INTERVAL": 0,  # no background dump thread unless a test asks for one
        }
        values.update(overrides)
        return load_settings(env={}, overrides=values)

    return make


@pytest.fixture(scope="session")
def ontology_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the ontology installed, built once and copied per test."""
    target = tmp_path_factory.mktemp("ontology") / "data"
    settings = load_settings(
        env={}, overrides={"DATA_DIR": str(target), "BASE_URL": BASE, "LOAD_WORKERS": 1}
    )
    with Catalogue.open(settings) as cat:
        report = cat.install_ontology()
        assert report.ok, [r.lines() for r in report.rejections] + report.file_errors
    return target


EMBEDDED_ONLY = "embedded_store"  # marker: the test is about the embedded store's internals


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker of single-backend tests."""
    config.addinivalue_line(
        "markers",
        f"{EMBEDDED_ONLY}: runs only against the embedded Oxigraph store (its internals: "
        "checkpoints, snapshots, the SPARQL worker processes and their limits)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the remote-store variant of tests marked embedded_store."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        remote = callspec is not None and callspec.params.get("store_backend") == "sparql"
        (dropped if remote and item.get_closest_marker(EMBEDDED_ONLY) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="module", params=["oxigraph", "sparql"])
def store_backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The store backend of the catalogue and app fixtures: every behaviour test runs
    against the embedded store and against Virtuoso (STORE=sparql). Returns the settings
    that select it. Module-scoped, so module-scoped apps run on each backend too (and a
    module's tests are grouped by backend)."""
    if request.param == "oxigraph":
        return {}
    server: Virtuoso = request.getfixturevalue("virtuoso")
    return dict(server.settings())


class _SharedStore:
    """What the session's Virtuoso holds: the revision log it matches (template and last
    revision id) and its triple count, so a test that follows one that changed nothing
    skips the resynchronisation."""

    key: tuple[str, str, int] | None = None
    triples = -1
    bases: ClassVar[set[str]] = set()  # BASE_URLs whose graphs it may hold


def _key(cat: Catalogue, template: str) -> tuple[str, str, int]:
    return (template, cat.ns.base, cat.revisions.last_id())


def _drop_other_bases(cat: Catalogue) -> None:
    """Drop the graphs an earlier test wrote under another BASE_URL: the default graph is
    the union of every graph, so they would show up in this test's queries."""
    store = cat.store
    assert isinstance(store, RemoteStore)
    mine = store.owned_prefix
    for base in _SharedStore.bases - {mine}:
        store.owned_prefix = base
        try:
            store.clear()
        finally:
            store.owned_prefix = mine
    _SharedStore.bases = {mine}


def _owned_triples(cat: Catalogue) -> int:
    prefix = ox.Literal(cat.ns.base)
    rows = cat.store.select(
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER(STRSTARTS(STR(?g), {prefix})) }}"
    )
    return int(rows[0]["n"].value)


def sync_store(cat: Catalogue, template: str) -> None:
    """On the shared Virtuoso, make the store hold exactly what this catalogue's revision
    log says (``bigtent verify --repair``), skipped when the previous test left the store
    as this log has it; nothing on the embedded store. ``template`` names where the data
    directory was copied from (two templates may share a last revision id)."""
    if cat.settings.STORE != "sparql":
        return
    key = _key(cat, template)
    if _SharedStore.key != key or _owned_triples(cat) != _SharedStore.triples:
        _drop_other_bases(cat)
        cat.verify(repair=True)
        _SharedStore.key, _SharedStore.triples = key, _owned_triples(cat)


def _open_synced(settings: Settings, template: str) -> Catalogue:
    """Open a catalogue, synced (``sync_store``) on the shared Virtuoso."""
    cat = Catalogue.open(settings)
    sync_store(cat, template)
    return cat


def _note_changes(cat: Catalogue, template: str) -> None:
    """After a test on the shared Virtuoso: forget the match if the log moved on (or the
    test closed the catalogue itself, to hand its directory to the command line)."""
    if cat.settings.STORE != "sparql":
        return
    try:
        moved = _SharedStore.key != _key(cat, template)
    except sqlite3.ProgrammingError:
        moved = True
    if moved:
        _SharedStore.key = None


def open_app(settings: Settings, template: str) -> Flask:
    """``create_app(settings)``, on the shared Virtuoso synced first with the log."""
    if settings.STORE == "sparql":
        _open_synced(settings, template).close()
    return create_app(settings)


def sync_app(app: Flask, template: str) -> Flask:
    """Before each test of a module-scoped app: resync the shared Virtuoso, which tests
    in between may have changed (cheap when they did not)."""
    sync_store(app.extensions["bigtent"], template)
    return app


def close_app(app: Flask, template: str) -> None:
    """Close an app of ``open_app``, noting whether it changed the shared Virtuoso."""
    cat: Catalogue = app.extensions["bigtent"]
    _note_changes(cat, template)
    cat.close()


def unmetered_demo_app(
    demo_template: Path, data: Path, store_backend: dict[str, Any]
) -> Iterator[Flask]:
    """For module-scoped fixtures: an app over a copy of the demo in ``data`` with no
    SPARQL client budget (read-only tests that send many queries), on each backend."""
    shutil.copytree(demo_template, data)
    values: dict[str, Any] = {
        "DATA_DIR": str(data),
        "BASE_URL": BASE,
        "LOAD_WORKERS": 1,
        "SPARQL_CLIENT_BUDGET": 0,
        "SPARQL_CLIENT_PARALLEL": 0,
        "DUMP_INTERVAL": 0,  # no background dump: its first run would change the counts
        **store_backend,
    }
    app = open_app(load_settings(env={}, overrides=values), "demo")
    yield app
    close_app(app, "demo")


@pytest.fixture
def backend_settings(
    make_settings: Callable[..., Settings], store_backend: dict[str, Any]
) -> Callable[..., Settings]:
    """Factory: ``make_settings`` on this test's store backend."""
    return lambda **overrides: make_settings(**{**store_backend, **overrides})


@pytest.fixture
def make_app(
    demo_template: Path, tmp_path: Path, backend_settings: Callable[..., Settings]
) -> Iterator[Callable[..., Flask]]:
    """Factory: the web app over a private copy of the demo catalogue (copied unless the
    test already put a data directory in place) with some settings changed, on each
    store backend; every app is closed after the test."""
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        settings = backend_settings(**overrides)
        if not Path(settings.DATA_DIR).exists():
            shutil.copytree(demo_template, settings.DATA_DIR)
        app = open_app(settings, "demo")
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app, "demo")


@pytest.fixture
def catalogue(
    ontology_template: Path,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    store_backend: dict[str, Any],
) -> Iterator[Catalogue]:
    """A catalogue holding the ontology (on each store backend)."""
    shutil.copytree(ontology_template, tmp_path / "data")
    with _open_synced(make_settings(**store_backend), "ontology") as cat:
        yield cat
        _note_changes(cat, "ontology")


@pytest.fixture
def empty_catalogue(
    make_settings: Callable[..., Settings], store_backend: dict[str, Any]
) -> Iterator[Catalogue]:
    """A catalogue with nothing in it (not even the ontology), on each store backend."""
    with _open_synced(make_settings(**store_backend), "empty") as cat:
        yield cat
        _note_changes(cat, "empty")


@pytest.fixture
def write_ttl(tmp_path: Path) -> Callable[[str, str], Path]:
    """Factory: write Turtle (with the standard relative prefixes) to a file."""

    def write(name: str, body: str) -> Path:
        path = tmp_path / name
        path.write_text(PREFIXES + body, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def demo_template(ontology_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the whole demo catalogue (base BASE), built once."""
    target = tmp_path_factory.mktemp("demo") / "data"
    shutil.copytree(ontology_template, target)
    settings = load_settings(
        env={}, overrides={"DATA_DIR": str(target), "BASE_URL": BASE, "LOAD_WORKERS": 1}
    )
    with Catalogue.open(settings) as cat:
        reports = cat.build_demo()
        assert all(r.ok for r in reports)
        cat.page_index.catch_up()  # pages start with their index built, as after `bigtent demo`
    return target


@pytest.fixture
def app(
    demo_template: Path,
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    store_backend: dict[str, Any],
) -> Iterator[Flask]:
    """The web app over a private copy of the demo catalogue (on each store backend)."""
    shutil.copytree(demo_template, tmp_path / "data")
    app = open_app(make_settings(**store_backend), "demo")
    yield app
    close_app(app, "demo")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real ``bigtent serve`` (waitress) on a free loopback port, serving the demo
    catalogue built with the server's own URL as BASE_URL, so its IRIs dereference."""
    with LiveServer.start(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throw-away PostgreSQL cluster (tests/postgres.py), one per session, started
    only when a test asks for it; stopped and deleted at the end."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Path | str]:
    """Factory: where a test's database named ``name`` lives, on each engine in turn — a
    SQLite file in the test's directory, or a fresh PostgreSQL schema (shared by every
    name, as revision log and accounts share one database in production)."""
    if request.param == "sqlite":
        return lambda name: tmp_path / f"{name}.sqlite3"
    url = request.getfixturevalue("postgres").fresh_url()
    return lambda name: url


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    """A throw-away Virtuoso on free loopback ports (tests/virtuoso.py), one per session;
    ``virtuoso.settings()`` are the STORE_* settings that point a catalogue at it."""
    with Virtuoso.start(tmp_path_factory.mktemp("virtuoso") / "db") as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright, one per session (tests/browser.py);
    fails, never skips, when Chromium or Playwright is missing."""
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[WatchedPage]:
    """A page in a fresh browser context that may only reach loopback hosts; the test
    fails if it tried to reach another host or a script failed."""
    with watched_page(browser) as watched:
        yield watched
        watched.assert_stayed_local()
