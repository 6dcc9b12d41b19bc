"""Real SPARQL clients against the real server: SPARQLWrapper, rdflib's SPARQLStore and
Comunica (which finds the endpoint through its service description)."""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, GET, JSON, POST, POSTDIRECTLY, TURTLE, XML, SPARQLWrapper

ROOT = Path(__file__).resolve().parent.parent
COMUNICA = ROOT / "node_modules" / ".bin" / "comunica-sparql"
CLASSES = "SELECT ?c ?cLabel WHERE { ?c wdt:P2 wd:Q1 } ORDER BY ?c"


def wrapper(server: LiveServer, query: str, method: str, fmt: str) -> Any:
    client = SPARQLWrapper(server.url + "sparql")
    client.setQuery(query)
    client.setMethod(method)
    client.setReturnFormat(fmt)
    client.setTimeout(60)
    return client


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", [JSON, XML, CSV])
def test_sparqlwrapper_select(live_server: LiveServer, method: str, fmt: str) -> None:
    result = wrapper(live_server, CLASSES, method, fmt).query()
    network = live_server.url + "entity/Q3"
    converted = result.convert()
    if fmt == JSON:
        first = converted["results"]["bindings"][0]
        assert first["c"]["value"] == network
        assert first["cLabel"]["value"] == "network"  # the label convention over HTTP
    elif fmt == XML:
        uris = [node.firstChild.data for node in converted.getElementsByTagName("uri")]
        assert uris[0] == network
    else:
        lines = converted.decode().splitlines()
        assert lines[0] == "c,cLabel" and lines[1] == f"{network},network"


def test_sparqlwrapper_direct_post_and_construct(live_server: LiveServer) -> None:
    client = wrapper(live_server, "ASK { wd:Q3 wdt:P2 wd:Q1 }", POST, JSON)
    client.setRequestMethod(POSTDIRECTLY)
    assert client.query().convert()["boolean"] is True
    construct = wrapper(live_server, "CONSTRUCT WHERE { wd:Q1 rdfs:label ?l }", GET, TURTLE)
    graph = Graph().parse(data=construct.query().convert(), format="turtle")
    assert len(graph) == 4


def test_rdflib_sparqlstore(live_server: LiveServer) -> None:
    graph = Graph(store=SPARQLStore(live_server.url + "sparql"))
    rows = list(graph.query("SELECT ?c WHERE { ?c wdt:P2 wd:Q1 } ORDER BY ?c"))
    assert rows[0][0] == URIRef(live_server.url + "entity/Q3")  # type: ignore[index]
    assert bool(graph.query("ASK { wd:Q1 ?p ?o }").askAnswer)
    constructed = graph.query("CONSTRUCT WHERE { wd:Q1 rdfs:label ?l }").graph
    assert constructed is not None and len(constructed) == 4
    subject = URIRef(live_server.url + "entity/Q1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # inside rdflib's own client
        assert len(list(graph.triples((subject, None, None)))) > 4


@pytest.mark.parametrize("source", ["discovered", "sparql@"])
def test_comunica_finds_and_queries_the_endpoint(live_server: LiveServer, source: str) -> None:
    if not COMUNICA.exists():
        pytest.fail(f"{COMUNICA} is missing: run scripts/bootstrap test")
    endpoint = live_server.url + "sparql"
    target = endpoint if source == "discovered" else "sparql@" + endpoint
    base = live_server.url
    query = (
        f"SELECT ?c ?label WHERE {{ ?c <{base}prop/direct/P2> <{base}entity/Q1> . "
        f"?c <http://www.w3.org/2000/01/rdf-schema#label> ?label FILTER(lang(?label) = 'fr') }}"
    )
    done = subprocess.run(
        [str(COMUNICA), target, query],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {"c": base + "entity/Q3", "label": '"réseau"@fr'} in rows


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket connects to during the test (they must all be loopback)."""
    import socket

    seen: list[Any] = []
    connect = socket.socket.connect

    def recording(sock: socket.socket, address: Any) -> Any:
        seen.append(address)
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
    return seen


def test_wikibaseintegrator_execute_sparql_query(
    live_server: LiveServer, loopback_only: list[Any]
) -> None:
    """WikibaseIntegrator POSTs the query in the URL with a multipart/form-data body, as
    WDQS accepts: it runs unmodified, WDQS's label service included."""
    from wikibaseintegrator.wbi_helpers import execute_sparql_query

    query = (
        "SELECT ?c ?cLabel WHERE { ?c wdt:P2 wd:Q1 . SERVICE wikibase:label "
        '{ bd:serviceParam wikibase:language "[AUTO_LANGUAGE],en". } } ORDER BY ?c'
    )
    result = execute_sparql_query(
        query, endpoint=live_server.url + "sparql", user_agent="bigtent-tests", max_retries=1
    )
    first = result["results"]["bindings"][0]
    assert first["c"]["value"] == live_server.url + "entity/Q3"
    assert first["cLabel"]["value"] == "network"
    assert loopback_only and all(address[0] == "127.0.0.1" for address in loopback_only)


def test_pywikibot_sparql_query(
    live_server: LiveServer,
    loopback_only: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """pywikibot's SparqlQuery, given the endpoint and entity URL (so it asks no wiki),
    runs unmodified: select with full data, ask, and nothing but the server contacted."""
    monkeypatch.setenv("PYWIKIBOT_NO_USER_CONFIG", "2")
    monkeypatch.setenv("PYWIKIBOT_DIR", str(tmp_path))
    from pywikibot.data.sparql import SparqlQuery

    client = SparqlQuery(
        endpoint=live_server.url + "sparql",
        entity_url=live_server.url + "entity/",
        max_retries=0,
    )
    rows = client.select(
        "SELECT ?c ?cLabel WHERE { ?c wdt:P2 wd:Q1 . SERVICE wikibase:label "
        '{ bd:serviceParam wikibase:language "fr". } } ORDER BY ?c',
        full_data=True,
    )
    assert rows is not None
    assert rows[0]["c"].getID() == "Q3"
    assert str(rows[0]["cLabel"]) == "réseau"
    assert client.ask("ASK { wd:Q3 wdt:P2 wd:Q1 }") is True
    assert client.get_items("SELECT ?c WHERE { ?c wdt:P2 wd:Q1 }", item_name="c") == {"Q3"}
    assert loopback_only and all(address[0] == "127.0.0.1" for address in loopback_only)
