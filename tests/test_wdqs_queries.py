"""Queries written as on the Wikidata Query Service run as written, on both store
backends: WDQS's label service (``SERVICE wikibase:label``) evaluated by Bigtent, the
``bd:`` prefix predefined, and the WDQS example patterns in ``tests/data/wdqs/*.rq``
(see its README) each giving results on the demo catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from conftest import BASE, sync_app, unmetered_demo_app
from flask import Flask
from flask.testing import FlaskClient

WD = BASE + "entity/"
QUERIES = sorted((Path(__file__).parent / "data" / "wdqs").glob("*.rq"))
LABELS = 'SERVICE wikibase:label { bd:serviceParam wikibase:language "[AUTO_LANGUAGE],en". }'
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def wdqs_app(
    demo_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    store_backend: dict[str, Any],
) -> Iterator[Flask]:
    """One read-only app for this module (no client budget), on each backend."""
    yield from unmetered_demo_app(
        demo_template, tmp_path_factory.mktemp("wdqs") / "data", store_backend
    )


@pytest.fixture
def web(wdqs_app: Flask) -> FlaskClient:
    """A client of the shared app."""
    return sync_app(wdqs_app, "demo").test_client()


def rows(web: FlaskClient, query: str, **params: str) -> list[dict[str, Any]]:
    """The JSON bindings of a SELECT, as {variable: value}."""
    response = web.get("/sparql", query_string={"query": query, **params}, headers={"Accept": JSON})
    assert response.status_code == 200, response.text
    body = response.get_json()
    return [{k: v["value"] for k, v in b.items()} for b in body["results"]["bindings"]]


def test_there_are_enough_wdqs_queries() -> None:
    assert len(QUERIES) >= 20


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_wdqs_query_runs_as_written(web: FlaskClient, path: Path) -> None:
    query = path.read_text(encoding="utf-8")
    form = next(w for w in ("ASK", "CONSTRUCT", "DESCRIBE", "SELECT") if w in query)
    if form in ("CONSTRUCT", "DESCRIBE"):
        response = web.get("/sparql", query_string={"query": query, "format": "nt"})
        assert response.status_code == 200, response.text
        assert len(rdflib.Graph().parse(data=response.text, format="nt")) > 0
        return
    response = web.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert response.status_code == 200, response.text
    body = response.get_json()
    if form == "ASK":
        assert body["boolean"] is True
        return
    bindings = body["results"]["bindings"]
    assert bindings, f"{path.name} gave no results"
    variables = body["head"]["vars"]
    assert not [v for v in variables if v.startswith("bigtent_label_")]
    for name in variables:
        if name.endswith("Label") and "SERVICE wikibase:label" in query:
            filled = [b[name] for b in bindings if name in b]
            assert filled, f"{path.name}: ?{name} never filled"


def test_auto_language_is_the_readers_language(web: FlaskClient) -> None:
    query = f"SELECT ?c ?cLabel WHERE {{ ?c wdt:P2 wd:Q1 . {LABELS} }}"
    assert rows(web, query)[0]["cLabel"] == "network"
    assert rows(web, query, uselang="fr")[0]["cLabel"] == "réseau"
    response = web.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": JSON, "Accept-Language": "fr"},
    )
    assert response.get_json()["results"]["bindings"][0]["cLabel"]["value"] == "réseau"


def test_languages_in_the_given_order_without_trailing_dot(web: FlaskClient) -> None:
    query = (
        "SELECT ?c ?cLabel ?cDescription WHERE { ?c wdt:P2 wd:Q1 . SERVICE wikibase:label "
        '{ bd:serviceParam wikibase:language "fr,en" } }'
    )
    found = rows(web, query, uselang="en")[0]
    assert found["cLabel"] == "réseau" and found["cDescription"].startswith("classe")


def test_label_falls_back_to_the_id(web: FlaskClient) -> None:
    query = (
        "SELECT ?c ?cLabel ?cDescription WHERE { ?c wdt:P2 wd:Q1 . SERVICE wikibase:label "
        '{ bd:serviceParam wikibase:language "zu". } }'
    )
    found = rows(web, query)[0]
    assert found["cLabel"] == "Q3" and "cDescription" not in found


def test_order_and_group_by_label(web: FlaskClient) -> None:
    query = f"SELECT ?t ?tLabel WHERE {{ ?t wdt:P1 wd:Q9 . {LABELS} }} ORDER BY DESC(?tLabel)"
    labels = [r["tLabel"] for r in rows(web, query)]
    assert len(labels) > 2 and labels == sorted(labels, reverse=True)
    grouped = (
        "SELECT ?typeLabel (COUNT(?x) AS ?n) WHERE { ?x wdt:P1 ?type . "
        f"{LABELS} }} GROUP BY ?typeLabel ORDER BY ?typeLabel"
    )
    by_label = {r["typeLabel"]: int(r["n"]) for r in rows(web, grouped)}
    assert by_label["organisation"] > 0 and by_label["partnership"] > 0


def test_unbound_subject_gets_no_label(web: FlaskClient) -> None:
    """An OPTIONAL that did not match leaves ?xLabel unbound (no row multiplied)."""
    query = (
        "SELECT ?org ?site ?siteLabel WHERE { VALUES ?org { wd:Q1000 } "
        f"OPTIONAL {{ ?org wdt:P999 ?site }} {LABELS} }}"
    )
    assert rows(web, query) == [{"org": WD + "Q1000"}]


def test_select_star_gets_no_label_columns(web: FlaskClient) -> None:
    query = f"SELECT * WHERE {{ ?c wdt:P2 wd:Q1 . {LABELS} }}"
    response = web.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert response.get_json()["head"]["vars"] == ["c"]


def test_other_triples_in_the_label_service_are_refused(web: FlaskClient) -> None:
    query = (
        "SELECT ?x WHERE {\n  ?x wdt:P1 wd:Q1 .\n  SERVICE wikibase:label { "
        'bd:serviceParam wikibase:language "en". ?x wdt:P11 ?y }\n}'
    )
    response = web.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert response.status_code == 400
    body = response.get_json()
    assert (body["line"], body["column"]) == (3, query.split("\n")[2].index("wdt:P11") + 1)
    assert "wdt:P11" in body["error"]


def test_other_services_are_still_refused(web: FlaskClient) -> None:
    query = "SELECT * WHERE { SERVICE <http://wikiba.se/ontology#labels> { ?s ?p ?o } }"
    response = web.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert response.status_code == 403


def test_bd_prefix_is_predefined(web: FlaskClient) -> None:
    response = web.get("/sparql/prefixes")
    assert response.status_code == 200
    assert response.get_json()["bd"] == "http://www.bigdata.com/rdf#"


def test_label_service_in_a_subquery_and_outside_it(web: FlaskClient) -> None:
    query = (
        f"SELECT ?c ?cLabel WHERE {{ {{ SELECT ?c WHERE {{ ?c wdt:P2 wd:Q1 . {LABELS} }} }} "
        f"{LABELS} }}"
    )
    assert rows(web, query) == [{"c": WD + "Q3", "cLabel": "network"}]


def test_a_label_the_query_binds_itself_is_left_alone(web: FlaskClient) -> None:
    query = (
        "SELECT ?c ?cLabel WHERE { ?c wdt:P2 wd:Q1 ; rdfs:label ?cLabel "
        f"FILTER(LANG(?cLabel) = 'fr') {LABELS} }}"
    )
    assert rows(web, query) == [{"c": WD + "Q3", "cLabel": "réseau"}]


def test_an_unclosed_label_service_is_a_clear_400(web: FlaskClient) -> None:
    query = "SELECT ?x WHERE { ?x wdt:P1 wd:Q1 . SERVICE wikibase:label { "
    response = web.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert response.status_code == 400 and "not closed" in response.get_json()["error"]
