"""The endpoint's policy pieces: the query scan, SERVICE checks and federation, workers
without network, the memory limit and the client budget."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from loader.base.errors import BigtentError
from loader.base.settings import load_settings
from loader.query.budgets import ClientBudget
from loader.query.policy import disallowed_services, scan, service_iris


@pytest.mark.parametrize(
    ("query", "has_from"),
    [
        ("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }", True),
        ("select * from named <urn:g> { graph ?g { ?s ?p ?o } }", True),
        ("SELECT * WHERE { ?s prov:wasDerivedFrom ?r }", False),
        ('SELECT * WHERE { ?s rdfs:label "data from elsewhere" }', False),
        ("SELECT * WHERE { ?s ?p ?o } # taken from the examples", False),
        ("PREFIX from: <urn:x#> SELECT * WHERE { ?s from:p ?from }", False),
        ('SELECT * WHERE { ?s ?p "x"@from }', False),
        ("SELECT * WHERE { ?s <http://example.org/from> ?o }", False),
        ("SELECT * WHERE { ?s <http://x.org/\\u0041#a> ?o } # from here", False),
        ("SELECT * FROM <http://x.org/\\u0041#g> WHERE { ?s ?p ?o }", True),
    ],
)
def test_scan_finds_dataset_clauses_only(query: str, has_from: bool) -> None:
    assert scan(query).has_from is has_from


def test_scan_measures_nesting_outside_strings_and_iris() -> None:
    assert scan("SELECT * { { ?s ?p ?o FILTER((1 + 2) > 0) } }").depth == 4
    assert scan('SELECT * { ?s ?p "{{{{((((" }  # }}}}\n').depth == 1
    assert scan("SELECT * { ?s <http://x.org/\\u0041#a> ?o . { ?a ?b ?c } }").depth == 2


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("PREFIX a: <urn:a#>\nINSERT DATA { a:x a:y a:z }", "insert"),
        ("BASE <urn:b/> DROP ALL", "drop"),
        ("# a comment\nLOAD <http://example.org/x>", "load"),
        ("SELECT * {}", "select"),
    ],
)
def test_scan_tells_updates_from_queries(query: str, first: str) -> None:
    assert scan(query).first_keyword == first


def test_service_endpoints_are_found_however_they_are_written() -> None:
    query = """PREFIX ex: <http://example.org/>
    BASE <http://base.example/dir/>
    SELECT * WHERE {
      SERVICE ex:sparql { ?a ?b ?c }
      SERVICE SILENT <relative> { ?a ?b ?c }
      OPTIONAL { { SELECT * WHERE { SERVICE <http://169.254.169.254/latest> { ?d ?e ?f } } } }
      FILTER EXISTS { SERVICE wikibase:label { ?a ?b ?c } }
      SERVICE ?endpoint { ?a ?b ?c }
    }"""
    found = service_iris(query, {"wikibase": "http://wikiba.se/ontology#"}, None)
    assert sorted(found, key=str) == sorted(
        [
            "http://example.org/sparql",
            "http://base.example/dir/relative",
            "http://169.254.169.254/latest",
            "http://wikiba.se/ontology#label",
            None,
        ],
        key=str,
    )
    allowed = frozenset({"http://example.org/sparql"})
    refused = disallowed_services(found, allowed)
    assert len(refused) == 4 and "<http://example.org/sparql>" not in refused


def test_client_budget_refills_over_a_minute() -> None:
    budget = ClientBudget(seconds_per_minute=6, parallel=2)
    budget.admit("a")
    budget.admit("a")
    with pytest.raises(BigtentError, match="SPARQL_CLIENT_PARALLEL") as busy:
        budget.admit("a")
    assert busy.value.status == 429
    budget.finish("a", 5)
    budget.finish("a", 3)  # 8 s used of 6: over budget
    with pytest.raises(BigtentError, match="SPARQL_CLIENT_BUDGET") as over:
        budget.admit("a")
    assert over.value.retry_after in (20, 21)  # 2 s missing, refilled at 0.1 s per second
    budget.admit("b")  # other clients are not affected


def test_workers_without_network_cannot_connect(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = (
            "import socket, sys\n"
            "from loader.query.worker import isolate_network\n"
            "isolated = isolate_network() if sys.argv[1] == 'isolate' else False\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
            "    reached = True\n"
            "except OSError:\n"
            "    reached = False\n"
            "print(isolated, reached)\n"
        )
        results = {}
        for mode in ("isolate", "plain"):
            done = subprocess.run(
                [sys.executable, "-c", probe, mode],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
            results[mode] = done.stdout.split()
    assert results["plain"] == ["False", "True"]
    if results["isolate"][0] == "False":
        pytest.skip("this system allows no network namespaces; the SERVICE check still applies")
    assert results["isolate"] == ["True", "False"]


# --- federation and the memory limit (in-process apps with their own settings) -------------
class _StubEndpoint(BaseHTTPRequestHandler):
    """A remote SPARQL endpoint answering every query with one fixed row."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        # negotiates, as real endpoints do (Virtuoso's SERVICE reads only XML results)
        if "json" in self.headers.get("Accept", "json"):
            media_type = "application/sparql-results+json"
            body = json.dumps(
                {
                    "head": {"vars": ["x"]},
                    "results": {"bindings": [{"x": {"type": "literal", "value": "from afar"}}]},
                }
            ).encode()
        else:
            media_type = "application/sparql-results+xml"
            body = (
                b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                b'<head><variable name="x"/></head><results><result><binding name="x">'
                b"<literal>from afar</literal></binding></result></results></sparql>"
            )
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stub_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_with(make_app: Callable[..., Flask], tmp_path: Path) -> Callable[..., Flask]:
    """Factory: an app with some settings changed, on each store backend."""
    count = 0

    def make(**settings: Any) -> Flask:
        nonlocal count
        count += 1
        return make_app(DATA_DIR=str(tmp_path / f"data{count}"), **settings)

    return make


def test_allowed_service_endpoints_are_called(
    app_with: Any, stub_endpoint: str, store_backend: dict[str, Any]
) -> None:
    if store_backend:
        pytest.skip(
            "engine difference: Virtuoso 7.2 calls the SERVICE (XML results asked) but binds "
            "nothing from this stub's answer (README, Deployment at scale)"
        )
    web = app_with(SPARQL_SERVICE_ALLOW=stub_endpoint).test_client()
    query = f"SELECT ?x WHERE {{ SERVICE <{stub_endpoint}> {{ ?x ?p ?o }} }}"
    response = web.get("/sparql", query_string={"query": query})
    assert response.status_code == 200, response.text
    assert response.json["results"]["bindings"] == [  # type: ignore[index]
        {"x": {"type": "literal", "value": "from afar"}}
    ]
    other = web.get(
        "/sparql",
        query_string={"query": "SELECT * WHERE { SERVICE <http://169.254.169.254/> {} }"},
    )
    assert other.status_code == 403 and stub_endpoint in other.text


@pytest.mark.embedded_store  # SPARQL_WORKER_MEMORY limits the embedded store's workers
def test_a_query_over_the_memory_limit_is_stopped(app_with: Any) -> None:
    web = app_with(SPARQL_WORKER_MEMORY=300).test_client()
    query = "SELECT ?a ?d WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a ?d LIMIT 1"
    response = web.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 503
    assert "SPARQL_WORKER_MEMORY" in response.json["error"]  # type: ignore[index]
    after = web.get("/sparql", query_string={"query": "ASK { wd:Q3 wdt:P2 wd:Q1 }"})
    assert after.json["boolean"] is True  # type: ignore[index]


def test_sparql_settings_take_fractions_and_refuse_nonsense() -> None:
    from loader.base.errors import ConfigError

    settings = load_settings(
        env={"BIGTENT_SPARQL_TIMEOUT": "2.5", "BIGTENT_SPARQL_SERVICE_ALLOW": "urn:a, urn:b"}
    )
    assert settings.SPARQL_TIMEOUT == 2.5
    assert settings.service_allow == frozenset({"urn:a", "urn:b"})
    for bad in ("soon", "-1", "inf", "nan"):
        with pytest.raises(ConfigError, match="SPARQL_TIMEOUT"):
            load_settings(env={"BIGTENT_SPARQL_TIMEOUT": bad})
