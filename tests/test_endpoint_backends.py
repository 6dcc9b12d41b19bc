"""The public SPARQL endpoint's policy on both store backends (``client`` runs on each).

On the embedded store queries run in worker processes; with STORE=sparql they are
forwarded to the engine (loader/query/remote.py). Either way: the same answers, labels,
prefixes, read-only refusal, SERVICE allow-list, row cap and time limit.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loader.base.errors import BigtentError
from tests.conftest import BASE

WD = BASE + "entity/"
JSON = "application/sparql-results+json"


def _ask(client: FlaskClient, query: str, **extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = client.get(
        "/sparql", query_string={"query": query, **extra}, headers={"Accept": JSON}
    )
    return response.status_code, response.get_json() or {}


def test_labels_and_prefixes(client: FlaskClient) -> None:
    status, body = _ask(client, "SELECT ?c ?cLabel WHERE { ?c wdt:P2 wd:Q1 } ORDER BY ?c")
    assert status == 200
    first = body["results"]["bindings"][0]
    assert first["c"]["value"] == WD + "Q3"
    assert first["cLabel"]["value"] == "network"


def test_ask_and_construct(client: FlaskClient) -> None:
    assert _ask(client, "ASK { wd:Q3 ?p ?o }")[1]["boolean"] is True
    response = client.get(
        "/sparql",
        query_string={"query": "CONSTRUCT { wd:Q3 rdfs:label ?l } WHERE { wd:Q3 rdfs:label ?l }"},
        headers={"Accept": "text/turtle"},
    )
    assert response.status_code == 200
    assert b"network" in response.data


@pytest.mark.parametrize(
    "query",
    [
        "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }",
        "DROP ALL",
        "CLEAR GRAPH <http://x>",
    ],
)
def test_updates_are_refused(client: FlaskClient, query: str) -> None:
    status, body = _ask(client, query)
    assert status == 403
    assert "read-only" in body["error"]


def test_service_outside_the_allow_list_is_refused(client: FlaskClient) -> None:
    status, body = _ask(
        client, "SELECT * WHERE { SERVICE <http://elsewhere.example/sparql> { ?s ?p ?o } }"
    )
    assert status == 403
    assert "SPARQL_SERVICE_ALLOW" in body["error"]


def test_syntax_errors_are_400(client: FlaskClient) -> None:
    status, body = _ask(client, "SELECT ?x WHERE { ?x ")
    assert status == 400
    assert "syntax" in body["error"].lower()


def test_row_cap_is_flagged(app: Flask, client: FlaskClient) -> None:
    service = app.extensions["bigtent"].query_service
    service.template = replace(service.template, max_rows=3)
    response = client.get(
        "/sparql",
        query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"},
        headers={"Accept": JSON},
    )
    assert response.status_code == 200
    assert response.headers["Bigtent-Truncated"] == "true"
    assert len(response.get_json()["results"]["bindings"]) == 3


def test_time_limit_stops_the_query(app: Flask) -> None:
    service = app.extensions["bigtent"].query_service
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with pytest.raises(BigtentError) as caught:
        service.run(service.request(heavy), timeout=0.05)
    assert caught.value.status == 503
    assert "SPARQL_TIMEOUT" in caught.value.message


GEO_WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"


def test_coordinates_are_geosparql_points_on_every_backend(client: FlaskClient) -> None:
    """Virtuoso stores a ``geo:wktLiteral`` as its own geometry type and answers
    ``"POINT(…)"^^virtrdf:Geometry``; the endpoint answers what was written, as the
    embedded store does, so GeoSPARQL clients and the map read the same points."""
    status, body = _ask(client, "SELECT ?wkt WHERE { wd:Q1055 wdt:P53 ?wkt }")
    assert status == 200
    [row] = body["results"]["bindings"]
    assert row["wkt"] == {
        "type": "literal",
        "datatype": GEO_WKT,
        "value": "Point(106.8456 -6.2088)",
    }
    status, body = _ask(client, "SELECT ?e ?wkt WHERE { ?e wdt:P53 ?wkt }")
    values = [b["wkt"] for b in body["results"]["bindings"]]
    assert len(values) > 20
    assert all(v["datatype"] == GEO_WKT and v["value"].startswith("Point(") for v in values)
    response = client.get(
        "/sparql",
        query_string={"query": "CONSTRUCT { wd:Q1055 wdt:P53 ?w } WHERE { wd:Q1055 wdt:P53 ?w }"},
        headers={"Accept": "application/n-triples"},
    )
    assert response.status_code == 200
    assert f'"Point(106.8456 -6.2088)"^^<{GEO_WKT}>'.encode() in response.data
