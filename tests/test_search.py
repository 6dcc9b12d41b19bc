"""Full-text search over labels and aliases in every language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loader.catalogue import Catalogue
from loader.discovery.search import match_expression
from webapp.public import search as search_view


def found(client: FlaskClient, query: str, **args: str) -> list[str]:
    """Ids of the first page of results, via the JSON output."""
    response = client.get("/search", query_string={"q": query, "format": "json", **args})
    assert response.status_code == 200, response.get_json()
    return [r["id"] for r in response.get_json()["results"]]


def test_exact_label_comes_first(client: FlaskClient) -> None:
    assert found(client, "organisation")[0] == "Q1"
    assert found(client, "person")[0] == "Q2"
    assert found(client, "Bundesarchiv")[0] == "Q1002"  # before partnerships naming it


@pytest.mark.parametrize(
    ("query", "entity"),
    [
        ("BUNDESARCHIV", "Q1002"),  # case
        ("evalue", "Q181"),  # accents: "évalué" (fr label of assessed)
        ("ÉVALUÉ", "Q181"),
        ("bundes", "Q1002"),  # prefix
        ("wiki deut", "Q1001"),  # several words, each a prefix
        ("WMDE", "Q1001"),  # an alias
        ("personne", "Q2"),  # French label
        ("Bildspende", "Q1200"),  # German label of a partnership
        ("  wikimedia   deutschland ", "Q1001"),  # spacing
    ],
)
def test_labels_and_aliases_in_every_language(client: FlaskClient, query: str, entity: str) -> None:
    assert entity in found(client, query)


def test_alias_matches_are_reported_as_such(client: FlaskClient) -> None:
    response = client.get("/search?q=WMDE", headers={"Accept": "application/json"})
    [hit] = [r for r in response.get_json()["results"] if r["id"] == "Q1001"]
    assert hit["match"] == {
        "text": "WMDE",
        "language": "en",
        "kind": "alias",
        "rank": "exact alias",
    }
    assert hit["label"] == "Wikimedia Deutschland" and hit["classes"] == ["Q1"]
    html = client.get("/search?q=WMDE").get_data(as_text=True)
    assert "also known as" in html and "WMDE" in html


def test_type_filter_includes_subclasses(client: FlaskClient, app: Flask) -> None:
    everything = found(client, "wikimedia")
    partnerships = found(client, "wikimedia", type="Q4")
    assert partnerships and set(partnerships) < set(everything)
    cat: Catalogue = app.extensions["bigtent"]
    kinds = cat.page_index.values(partnerships, "P1")
    assert all(kinds[e] == ["Q4"] for e in partnerships)
    assert found(client, "wikimedia", type="partnerships") == partnerships  # slug
    people = found(client, "a", type="Q2")  # fictional people are people
    assert people and all(cat.page_index.values([p], "P1")[p] == ["Q11"] for p in people)


def test_paging_is_complete_and_stable(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_view, "RESULTS_PER_PAGE", 9)
    first = client.get("/search?q=e&format=json").get_json()
    total = first["total"]
    assert total > 30
    seen: list[str] = []
    for page in range(1, -(-total // 9) + 1):
        data = client.get(f"/search?q=e&format=json&page={page}").get_json()
        assert data["total"] == total and data["page"] == page
        seen += [r["id"] for r in data["results"]]
    assert len(seen) == len(set(seen)) == total
    assert seen[:9] == [r["id"] for r in first["results"]]
    beyond = client.get(f"/search?q=e&format=json&page={-(-total // 9) + 1}")
    assert beyond.status_code == 404


def test_json_shape(client: FlaskClient) -> None:
    data: dict[str, Any] = client.get("/search?q=wikimedia+found&format=json").get_json()
    assert set(data) == {"query", "type", "page", "pageSize", "total", "more", "results"}
    hit = data["results"][0]
    assert hit["id"] == "Q1000" and hit["url"] == "/page/Q1000"
    assert hit["iri"].endswith("/entity/Q1000")
    assert set(hit) == {
        "id", "iri", "url", "label", "labelLanguage", "description", "descriptionLanguage",
        "match", "classes",
    }  # fmt: skip


def test_search_follows_changes(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    body = (
        'wd:Q5200 a wikibase:Item ; rdfs:label "Zyxwv Collective"@en ; '
        'skos:altLabel "Zyx Coop"@fr ; wdt:P1 wd:Q1 .'
    )
    assert cat.load_paths([write_ttl("new.ttl", body)]).ok
    assert found(client, "zyxw") == ["Q5200"]
    assert found(client, "zyx coop") == ["Q5200"]
    renamed = body.replace("Zyxwv Collective", "Qwerty Collective")
    assert cat.load_paths([write_ttl("renamed.ttl", renamed)]).ok
    assert found(client, "zyxwv") == [] and found(client, "qwerty") == ["Q5200"]
    cat.delete("Q5200", reason="test")
    assert found(client, "qwerty") == []


def test_entity_ids_go_straight_to_the_page(client: FlaskClient) -> None:
    for query in ("q1001", "Q1001", " q 1001 "):
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 303, query
        assert response.headers["Location"] == "/page/Q1001"
    assert client.get("/search?q=p12").headers["Location"] == "/page/P12"
    assert client.get("/search?q=q1001&format=json").status_code == 200  # JSON clients stay


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "wiki*",
        "NEAR(a b)",
        "a OR b",
        "-a",
        "a AND",
        "^x",
        "(",
        "col:val",
        "'; DROP TABLE name; --",
        "\u0000",
        "😀",
    ],
)
def test_query_syntax_is_never_interpreted(client: FlaskClient, query: str) -> None:
    response = client.get("/search", query_string={"q": query, "format": "json"})
    assert response.status_code == 200
    assert isinstance(response.get_json()["results"], list)


def test_match_expression_quotes_every_word() -> None:
    assert match_expression('Wiki "Deut" OR x*') == '"wiki"* "deut"* "or"* "x"*'
    assert match_expression("  *** ") is None


def test_empty_query_shows_the_form(client: FlaskClient) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    assert 'id="q"' in response.get_data(as_text=True)
    assert client.get("/search?format=json").get_json()["results"] == []


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        ({"q": "x" * 201}, 400, "at most 200"),
        ({"q": "wiki", "type": "Q999999"}, 400, "not a class"),
        ({"q": "wiki", "type": "banana"}, 400, "not a class"),
        ({"q": "wiki", "type": "Q1401"}, 400, "not a class"),
        ({"q": "wiki", "format": "xml"}, 400, "format"),
        ({"q": "wiki", "page": "-1"}, 400, "page"),
        ({"q": "wiki", "page": "abc"}, 400, "page"),
        ({"q": "wiki", "page": "50"}, 404, "does not exist"),
        ({"q": "wiki", "uselang": "x" * 50}, 400, "language code"),
    ],
)
def test_bad_search_input(
    client: FlaskClient, args: dict[str, str], status: int, says: str
) -> None:
    response = client.get("/search", query_string=args, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert says in response.get_json()["error"]


def test_html_accept_is_negotiated(client: FlaskClient) -> None:
    assert client.get("/search?q=wiki", headers={"Accept": "text/html"}).content_type.startswith(
        "text/html"
    )
    assert client.get("/search?q=wiki", headers={"Accept": "application/json"}).is_json
    assert client.get("/search?q=wiki", headers={"Accept": "image/png"}).status_code == 406


def test_a_result_page_is_kept_until_the_catalogue_changes(app: Flask) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    client = app.test_client()
    first = client.get("/search", query_string={"q": "Amara"}, headers={"Accept": "text/html"})
    assert first.status_code == 200 and "Amara Okonkwo" in first.get_data(as_text=True)
    etag = first.headers["ETag"]
    again = client.get(
        "/search",
        query_string={"q": "Amara"},
        headers={"Accept": "text/html", "If-None-Match": etag},
    )
    assert again.status_code == 304
    # Hiding the person is a change: neither the kept page nor the reader's copy is served.
    cat.privacy.hide("Q1500", "asked to be removed from the public registry", "test")
    after = client.get(
        "/search",
        query_string={"q": "Amara"},
        headers={"Accept": "text/html", "If-None-Match": etag},
    )
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert "Amara Okonkwo" not in after.get_data(as_text=True)
