"""The first web pages: home with counts per class, a page per entity, errors."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pages_support import Page


def test_home_counts_the_record_types(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "What the catalogue holds" in html
    assert 'href="/browse/partnerships"' in html
    assert 'href="/browse/people"' in html  # fictional people counted as people


def test_entity_page_shows_labels_statements_qualifiers_references(client: FlaskClient) -> None:
    page = client.get("/page/Q1200")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bundesarchiv" in html
    assert "participant" in html and "object has role" in html  # statement + qualifier
    assert "reference URL" in html and "commons.wikimedia.org" in html  # reference
    assert 'lang="en"' in html


def test_entity_page_language_follows_the_reader(client: FlaskClient) -> None:
    english = client.get("/page/Q2", headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = client.get("/page/Q2?uselang=fr").get_data(as_text=True)
    spanish = client.get("/page/Q2", headers={"Accept-Language": "es;q=0.9, en;q=0.5"})
    assert "<title>person (Q2)" in english
    assert "<title>personne (Q2)" in french
    assert "<title>persona (Q2)" in spanish.get_data(as_text=True)


def test_month_precision_dates_are_shown_as_months(client: FlaskClient) -> None:
    html = client.get("/page/Q1205").get_data(as_text=True)  # Wikimedia–Mozilla, 2009-01
    assert '<time datetime="2009-01">2009-01</time>' in html and "2009-01-01" not in html


@pytest.mark.parametrize(
    ("path", "status"), [("/page/Q999999", 404), ("/page/nope", 404), ("/no/such/page", 404)]
)
def test_errors_as_html_and_json(client: FlaskClient, path: str, status: int) -> None:
    html = client.get(path)
    assert html.status_code == status and "text/html" in html.content_type
    assert "Traceback" not in html.get_data(as_text=True)
    data = client.get(path, headers={"Accept": "application/json"})
    assert data.status_code == status
    # a 404 for an entity id may add suggestions (ids one keystroke away)
    assert set(data.get_json()) - {"suggestions"} == {"ok", "status", "title", "error"}
    assert data.get_json()["ok"] is False


def test_unknown_entity_page_offers_a_search_box(client: FlaskClient) -> None:
    response = client.get("/page/Q999999")
    assert response.status_code == 404
    page = Page(response.get_data(as_text=True))
    main_forms = [f for f in page.find("form") if "main" in f.parents]
    assert main_forms and main_forms[0].attrs["action"] == "/search"
    assert any(c.tag == "input" and c.attrs.get("name") == "q" for c in main_forms[0].children)


def test_deleted_entity_is_gone(app: Flask, client: FlaskClient) -> None:
    app.extensions["bigtent"].delete("Q1527", reason="test", author="tester")
    page = client.get("/page/Q1527", headers={"Accept": "application/json"})
    assert page.status_code == 410
    assert "deleted" in page.get_json()["error"]
    assert "(test)" in page.get_json()["error"]  # the reason, with the date
    html = client.get("/page/Q1527")
    assert html.status_code == 410 and 'name="q"' in html.get_data(as_text=True)


def test_merged_entity_redirects_to_its_target(app: Flask, client: FlaskClient) -> None:
    app.extensions["bigtent"].merge("Q1527", "Q1526", author="tester")
    response = client.get("/page/Q1527?uselang=fr")
    assert response.status_code == 301
    assert response.headers["Location"] == "/page/Q1526?uselang=fr"
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/network.json?from=abc",
        "/map.geojson?from=abc",
        "/sparql/complete?prefix=zz&q=wiki",
        "/reconcile?queries=notjson",
    ],
)
def test_data_routes_answer_errors_in_their_own_format(client: FlaskClient, path: str) -> None:
    # Regression: curl (Accept: */*) and clients without Accept got an HTML error page.
    for headers in ({}, {"Accept": "*/*"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 400 and response.is_json, (path, headers)
        assert response.get_json()["ok"] is False
    browser = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 400 and "text/html" in browser.content_type
