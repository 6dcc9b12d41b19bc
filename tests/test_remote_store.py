"""The remote store backend against a real Virtuoso: faults, foreign data, verify.

The behaviour suite already runs on both backends (the ``store_backend`` fixture); these
tests are about what only a remote store can do wrong: not answer, answer slowly or with an
error, refuse credentials, lose a connection half-way through a load, or hold data that is
not the catalogue's.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import requests
from requests.auth import HTTPDigestAuth
from tcp_proxy import CuttingProxy
from virtuoso import WRITER, Virtuoso

from loader.base.errors import BigtentError
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.storage.remote_store import RemoteStore, StoreUnavailable, term_of, with_bindings
from loader.storage.verify import graph_digest
from tests.conftest import BASE
from webapp.cli import main

FOREIGN = "http://foreign.example.org/graph"
FAST_RETRIES = {"STORE_RETRIES": 1, "STORE_RETRY_DELAY": 0.01}


@pytest.fixture
def remote(
    virtuoso: Virtuoso,
    make_settings: Callable[..., Settings],
    ontology_template: Path,
    tmp_path: Path,
) -> Callable[..., Settings]:
    """Factory: settings for a catalogue holding the ontology on the session's Virtuoso."""
    shutil.copytree(ontology_template, tmp_path / "data")

    def make(**overrides: Any) -> Settings:
        return make_settings(**{**virtuoso.settings(), **overrides})

    return make


def _synced(settings: Settings) -> Catalogue:
    cat = Catalogue.open(settings)
    cat.verify(repair=True)  # the shared server may hold the previous test's graphs
    return cat


def _graphs(cat: Catalogue) -> dict[str, str]:
    """Digest of every graph, without the data document's own triples (they carry the
    time of the revision, which differs between two catalogues)."""
    by_graph: dict[str, list[Any]] = {}
    for q in cat.store.quads():
        triples = by_graph.setdefault(q.graph_name.value, [])
        if q.subject != q.graph_name:
            triples.append((q.subject, q.predicate, q.object))
    return {g: graph_digest(t) for g, t in by_graph.items()}


class _Answer(BaseHTTPRequestHandler):
    """Answers every request with ``status`` after ``delay`` seconds."""

    status = 500
    delay = 0.0

    def _answer(self) -> None:
        time.sleep(self.delay)
        body = b"Virtuoso 42000 Error: something broke inside"
        try:
            self.send_response(self.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_store() -> Iterator[Callable[[int, float], str]]:
    """Factory: a local HTTP server answering ``status`` after ``delay``; its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int, delay: float) -> str:
        handler = type("Handler", (_Answer,), {"status": status, "delay": delay})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/sparql"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- bindings ---------------------------------------------------------------------------


def test_bindings_are_serialised_terms_never_text() -> None:
    nasty = ox.Literal('x" } } ; DROP ALL ; SELECT * { "')
    query = with_bindings("SELECT ?s WHERE { ?s ?p ?o }", {"o": nasty})
    parsed = ox.Store().query(query)  # still one valid query, the literal intact
    assert isinstance(parsed, ox.QuerySolutions)
    assert str(nasty) in query and "DROP ALL ;" not in query.replace(str(nasty), "")


# --- faults -----------------------------------------------------------------------------


def test_unreachable_store_at_start_names_the_setting(
    make_settings: Callable[..., Settings],
) -> None:
    from live_server import free_port

    url = f"http://127.0.0.1:{free_port()}/sparql"
    settings = make_settings(STORE="sparql", STORE_QUERY_URL=url, **FAST_RETRIES)
    with pytest.raises(StoreUnavailable) as caught:
        Catalogue.open(settings)
    assert "STORE_QUERY_URL" in caught.value.message
    assert url in caught.value.message
    assert "2 time(s)" in caught.value.message
    assert caught.value.status == 503


def test_unreachable_store_on_the_command_line(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from live_server import free_port

    config = tmp_path / "bigtent.toml"
    config.write_text(
        f'store = "sparql"\nstore_query_url = "http://127.0.0.1:{free_port()}/sparql"\n'
        f'store_retries = 0\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(config), "verify"]) == 2
    assert "STORE_QUERY_URL" in capsys.readouterr().err


def test_store_answering_500_is_a_clear_error(
    make_settings: Callable[..., Settings], fake_store: Callable[[int, float], str]
) -> None:
    url = fake_store(500, 0.0)
    settings = make_settings(STORE="sparql", STORE_QUERY_URL=url, **FAST_RETRIES)
    with pytest.raises(BigtentError) as caught:
        RemoteStore(settings)
    assert "HTTP 500" in caught.value.message
    assert "STORE_QUERY_URL" in caught.value.message
    assert "something broke inside" in caught.value.message


def test_slow_answers_time_out_naming_the_setting(
    make_settings: Callable[..., Settings], fake_store: Callable[[int, float], str]
) -> None:
    url = fake_store(200, 3.0)
    settings = make_settings(STORE="sparql", STORE_QUERY_URL=url, STORE_TIMEOUT=0.3, **FAST_RETRIES)
    with pytest.raises(StoreUnavailable) as caught:
        RemoteStore(settings)
    assert "STORE_TIMEOUT" in caught.value.message
    assert "within 0.3 s" in caught.value.message


def test_wrong_credentials_lose_nothing(
    remote: Callable[..., Settings], catalogue_file: Path
) -> None:
    with _synced(remote()) as cat:
        before = cat.revisions.last_id()
    with Catalogue.open(remote(STORE_PASSWORD="not-the-password", **FAST_RETRIES)) as cat:
        with pytest.raises(BigtentError) as caught:
            cat.load_paths([catalogue_file])
        assert "STORE_PASSWORD" in caught.value.message
        assert caught.value.status == 503
        assert cat.revisions.last_id() > before  # accepted into the log ...
        assert cat.revisions.unapplied()  # ... and known not to be in the store yet
    with Catalogue.open(remote()) as cat:  # right password: recovered at open
        assert cat.recovered >= 1
        assert not cat.revisions.unapplied()
        assert cat.verify().clean
        assert cat.labels(["Q20000"], ["en"]) == {"Q20000": "Remote test organisation"}


def test_foreign_graphs_are_left_untouched(
    remote: Callable[..., Settings], virtuoso: Virtuoso, catalogue_file: Path
) -> None:
    auth = HTTPDigestAuth(WRITER, virtuoso.writer_password)
    foreign = f'INSERT DATA {{ GRAPH <{FOREIGN}> {{ <{BASE}entity/Q20000> <http://x/p> "mine" }} }}'
    requests.post(virtuoso.update_url, data={"update": foreign}, auth=auth, timeout=30)
    try:
        with _synced(remote()) as cat:
            cat.load_paths([catalogue_file])
            assert FOREIGN not in {g.value for g in cat.store.graph_names()}
            assert cat.verify().clean  # not reported as extra either
            cat.reindex()
            cat.store.clear()
            cat.verify(repair=True)
        ask = f'ASK {{ GRAPH <{FOREIGN}> {{ ?s <http://x/p> "mine" }} }}'
        answer = requests.get(
            virtuoso.query_url,
            params={"query": ask},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
        assert answer.json()["boolean"] is True
    finally:
        drop = f"DROP SILENT GRAPH <{FOREIGN}>"
        requests.post(virtuoso.update_url, data={"update": drop}, auth=auth, timeout=30)


def test_refuses_to_write_graphs_it_does_not_own(remote: Callable[..., Settings]) -> None:
    with Catalogue.open(remote()) as cat, pytest.raises(BigtentError, match="BASE_URL"):
        cat.store.replace_graph(ox.NamedNode(FOREIGN), b"")


def test_connection_cut_mid_load_converges_after_verify(
    remote: Callable[..., Settings],
    virtuoso: Virtuoso,
    demo_template: Path,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
) -> None:
    """Kill the connection half-way through loading the demo catalogue without retries:
    the load fails, the log has what was accepted, and ``verify --repair`` makes the store
    equal, graph by graph, to the same catalogue on the embedded store."""
    with Catalogue.open(make_settings(DATA_DIR=str(demo_template))) as reference:
        wanted = _graphs(reference)
    with CuttingProxy(("127.0.0.1", virtuoso.http_port)) as proxy:
        settings = remote(
            STORE_QUERY_URL=proxy.url("/sparql"),
            STORE_UPDATE_URL=proxy.url("/sparql-auth"),
            STORE_GRAPH_STORE_URL=proxy.url("/sparql-graph-crud-auth"),
            STORE_RETRIES=0,
        )
        with _synced(settings) as cat:  # the store holds the ontology, as the log says
            proxy.arm(200_000, times=1)
            with pytest.raises(StoreUnavailable):
                cat.build_demo()
            assert proxy.cuts == 1
            drift = cat.verify()
            assert not drift.clean
            assert drift.pending  # in the log, not in the store: reported as pending
            repaired = cat.verify(repair=True)
            assert repaired.repaired == (
                len(drift.pending) + len(drift.missing) + len(drift.different) + len(drift.extra)
            )
            assert cat.verify().clean
            # the rest of the demo loads now; the store converges on the log
            reports = cat.build_demo()
            assert all(r.ok for r in reports)
            assert cat.verify().clean
            got = _graphs(cat)
    assert got == wanted


def test_connection_cuts_are_retried(
    remote: Callable[..., Settings], virtuoso: Virtuoso, catalogue_file: Path
) -> None:
    with CuttingProxy(("127.0.0.1", virtuoso.http_port)) as proxy:
        settings = remote(
            STORE_QUERY_URL=proxy.url("/sparql"),
            STORE_UPDATE_URL=proxy.url("/sparql-auth"),
            STORE_GRAPH_STORE_URL=proxy.url("/sparql-graph-crud-auth"),
            STORE_RETRIES=3,
            STORE_RETRY_DELAY=0.05,
        )
        with _synced(settings) as cat:
            proxy.arm(100, times=3)
            report = cat.load_paths([catalogue_file])
            assert report.ok
            assert proxy.cuts == 3
            assert not cat.revisions.unapplied()
            assert cat.verify().clean


def test_server_restarted_mid_write_is_retried(
    remote: Callable[..., Settings], virtuoso: Virtuoso
) -> None:
    settings = remote(STORE_RETRIES=8, STORE_RETRY_DELAY=0.25)
    with _synced(settings) as cat:
        store = cat.store
        graphs = [ox.NamedNode(f"{BASE}data/Q{9000 + i}") for i in range(40)]
        label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
        restarter = threading.Thread(target=virtuoso.restart)
        restarter.start()
        for i, graph in enumerate(graphs):
            store.replace_graph(graph, f'{graph} {label} "n{i}" .\n'.encode())
        restarter.join()
        for i, graph in enumerate(graphs):
            assert store.objects(graph, label) == [ox.Literal(f"n{i}")]
        for graph in graphs:
            store.replace_graph(graph, b"")


def test_verify_reports_and_repairs_each_kind_of_drift(
    catalogue: Catalogue, catalogue_file: Path
) -> None:
    """On both backends (the ``catalogue`` fixture): a stray graph, a missing one and one
    changed behind the catalogue's back are found, and repaired."""
    catalogue.load_paths([catalogue_file])
    store = catalogue.store
    record = catalogue.ns.data_document("Q20000")
    missing = catalogue.ns.data_document("P1")
    stray = ox.NamedNode(f"{BASE}data/Q77777")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    original = store.graph_triples(record)
    store.replace_graph(stray, f'{stray} {label} "stray" .\n'.encode())
    store.replace_graph(missing, b"")
    store.replace_graph(record, f'{record} {label} "edited behind our back" .\n'.encode())
    drift = catalogue.verify()
    assert drift.extra == [stray.value]
    assert drift.missing == [missing.value]
    assert drift.different == [record.value]
    assert catalogue.verify(repair=True).repaired == 3
    assert catalogue.verify().clean
    assert graph_digest(store.graph_triples(record)) == graph_digest(original)


@pytest.fixture
def catalogue_file(write_ttl: Callable[[str, str], Path]) -> Path:
    """One organisation record."""
    return write_ttl(
        "org.ttl",
        """
wd:Q20000 rdfs:label "Remote test organisation"@en ; wdt:P1 wd:Q1 .
""",
    )


def test_verify_command_exit_codes(
    ontology_template: Path,
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`bigtent verify` exits 1 on drift, `--repair` fixes it (embedded store)."""
    data = tmp_path / "data"
    shutil.copytree(ontology_template, data)
    args = ["--data-dir", str(data), "--base-url", BASE]
    assert main([*args, "verify"]) == 0
    with Catalogue.open(make_settings()) as cat:
        cat.store.replace_graph(cat.ns.data_document("P1"), b"")
    capsys.readouterr()
    assert main([*args, "verify"]) == 1
    assert f"missing: {BASE}data/P1" in capsys.readouterr().out
    assert main([*args, "verify", "--repair"]) == 0
    assert "repaired 1 graphs" in capsys.readouterr().out
    assert main([*args, "verify"]) == 0


def test_settings_listing_hides_the_store_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BIGTENT_STORE_PASSWORD", "hunter2-not-for-logs")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "hunter2-not-for-logs" not in out
    assert "BIGTENT_STORE_PASSWORD=(set, not shown)" in out


GEO = "http://www.opengis.net/ont/geosparql#wktLiteral"
DOUBLE = "http://www.w3.org/2001/XMLSchema#double"


def test_engine_forms_of_points_and_doubles_read_back_as_written() -> None:
    """What Virtuoso answers for a ``geo:wktLiteral`` and an ``xsd:double`` (found on a
    real one: its own geometry type, upper-case ``POINT``, exponents) is read back as the
    catalogue wrote it, and ``verify`` compares both by value."""
    cell = {
        "type": "typed-literal",
        "datatype": "http://www.openlinksw.com/schemas/virtrdf#Geometry",
        "value": "POINT(1e-09 -6.2088)",
    }
    assert term_of(cell) == ox.Literal("Point(0.000000001 -6.2088)", datatype=ox.NamedNode(GEO))
    s, p = ox.NamedNode("http://x.test/s"), ox.NamedNode("http://x.test/p")
    written = [
        (s, p, ox.Literal("Point(106.8456 -6.2088)", datatype=ox.NamedNode(GEO))),
        (s, p, ox.Literal("48.856614", datatype=ox.NamedNode(DOUBLE))),
    ]
    engine = [
        (s, p, ox.Literal("POINT(106.84560 -6.2088)", datatype=ox.NamedNode(GEO))),
        (s, p, ox.Literal("4.8856614e1", datatype=ox.NamedNode(DOUBLE))),
    ]
    assert graph_digest(written) == graph_digest(engine)
    rounded = [written[0], (s, p, ox.Literal("48.8566", datatype=ox.NamedNode(DOUBLE)))]
    assert graph_digest(written) != graph_digest(rounded)  # a value lost is a difference
