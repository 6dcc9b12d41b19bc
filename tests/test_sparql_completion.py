"""The query editor's helpers: ``/sparql/complete`` (items and properties by label or
alias, in the reader's language, through the search index) and ``/sparql/prefixes``
(the endpoint's predefined prefixes, from the one place they are defined)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from loader.base.settings import load_settings

PERSON = "Q1500"  # Amara Okonkwo, fictional (loader/data/demo/people.ttl)


def complete(client: FlaskClient, **params: str) -> list[dict[str, str]]:
    """The completions for ``params``."""
    response = client.get("/sparql/complete", query_string=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, str]] = response.get_json()
    return found


def test_items_by_label_with_label_and_description(client: FlaskClient) -> None:
    found = complete(client, prefix="wd", q="organisation")
    assert found[0] == {
        "id": "Q1",
        "label": "organisation",
        "description": found[0]["description"],
    }
    assert found[0]["description"] and all(hit["id"].startswith("Q") for hit in found)
    assert len(found) <= 20


def test_in_the_readers_language_matched_in_any(client: FlaskClient) -> None:
    french = complete(client, prefix="wd", q="réseau", uselang="fr")
    assert french[0]["id"] == "Q3" and french[0]["label"] == "réseau"
    english = complete(client, prefix="wd", q="réseau", uselang="en")
    assert english[0]["id"] == "Q3" and english[0]["label"] == "network"


def test_property_prefixes_give_properties(client: FlaskClient) -> None:
    for prefix in ("wdt", "p", "ps", "pq", "pr"):
        found = complete(client, prefix=prefix, q="instance")
        assert found and found[0]["id"] == "P1", prefix
        assert all(hit["id"].startswith("P") for hit in found)
    mixed = {hit["id"][0] for hit in complete(client, q="member")}
    assert mixed == {"P", "Q"}


def test_at_most_twenty(client: FlaskClient) -> None:
    assert len(complete(client, prefix="wd", q="a")) == 20


def test_hidden_people_are_not_offered(app: Flask, client: FlaskClient) -> None:
    assert PERSON in [hit["id"] for hit in complete(client, prefix="wd", q="Amara")]
    app.extensions["bigtent"].privacy.hide(PERSON, "asked to be hidden", "test")
    assert PERSON not in [hit["id"] for hit in complete(client, prefix="wd", q="Amara")]
    assert complete(client, q="Okonkwo") == []


def test_bad_input_is_refused_clearly(client: FlaskClient) -> None:
    most = load_settings(env={}).SPARQL_COMPLETE_MAX_CHARS
    long = client.get("/sparql/complete", query_string={"q": "a" * (most + 1)})
    assert long.status_code == 400 and "SPARQL_COMPLETE_MAX_CHARS" in long.text
    unknown = client.get(
        "/sparql/complete",
        query_string={"prefix": "rdfs", "q": "x"},
        headers={"Accept": "application/json"},
    )
    assert unknown.status_code == 400 and "wdt" in unknown.get_json()["error"]
    assert complete(client, prefix="wd", q="") == []


def test_prefixes_are_those_the_endpoint_predefines(app: Flask, client: FlaskClient) -> None:
    response = client.get("/sparql/prefixes")
    assert response.status_code == 200 and response.mimetype == "application/json"
    prefixes = response.get_json()
    service = app.extensions["bigtent"].query_service
    assert prefixes == service.template.prefixes == service.repository.ns.sparql_prefixes()
    assert prefixes["bd"] == "http://www.bigdata.com/rdf#"
    assert prefixes["wdt"].endswith("/prop/direct/")
    query = "SELECT ?c WHERE { ?c wdt:P2 wd:Q1 . ?c rdfs:label ?l FILTER(LANG(?l) = 'en') }"
    assert client.get("/sparql", query_string={"query": query}).status_code == 200
