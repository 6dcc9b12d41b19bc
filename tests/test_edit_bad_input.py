"""Issue 5's bad input: each is refused with a clear message and nothing is written
(or, for markup in text, stored as text and escaped wherever it is shown)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, login, staff_app, staff_client, state

from tests.conftest import PREFIXES

USERS = {"alice": "admin", "bob": "editor"}
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS)


@pytest.fixture
def bob(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    return staff_client(app, "bob")


def org(**extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "labels": {"en": "Lab"},
        "statements": [{"property": "P1", "value": "Q1"}],
    }
    for key, value in extra.items():
        if key == "statements":
            record["statements"] = record["statements"] + value
        else:
            record[key] = value
    return record


def refused(
    app: Flask, client: FlaskClient, status: int, needles: tuple[str, ...], **request: Any
) -> dict[str, Any]:
    """Send the request: ``status``, every needle in the answer, nothing written."""
    before = state(catalogue(app))
    method = request.pop("method", "POST")
    url = request.pop("url", "/api/entity")
    response = client.open(url, method=method, **request)
    body = response.get_json()
    assert response.status_code == status, body
    text = str(body)
    for needle in needles:
        assert needle.lower() in text.lower(), text
    assert state(catalogue(app)) == before
    return body  # type: ignore[no-any-return]


def test_markup_in_every_text_field_is_stored_as_text_and_escaped(
    app: Flask, bob: tuple[FlaskClient, dict[str, str]]
) -> None:
    client, token = bob
    record = org(
        labels={"en": SCRIPT[:60]},
        descriptions={"en": SCRIPT},
        aliases={"en": [SCRIPT]},
        statements=[
            {
                "property": "P17",
                "value": "Q1000",
                "qualifiers": [{"property": "P49", "value": {"text": SCRIPT, "language": "en"}}],
            },
        ],
    )
    created = client.post("/api/entity", json=record, headers=token)
    assert created.status_code == 201, created.get_json()
    entity = created.get_json()["id"]
    data = client.get(f"/api/entity/{entity}").get_json()
    assert data["descriptions"]["en"] == SCRIPT and data["aliases"]["en"] == [SCRIPT]
    page = client.get(f"/entity/{entity}", headers={"Accept": "text/html"}, follow_redirects=True)
    shown = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert" not in shown and "<img src=x" not in shown
    assert html.escape(SCRIPT[:60], quote=False) in shown or "&lt;script&gt;" in shown


def test_markup_in_the_login_name_is_escaped(app: Flask) -> None:
    client = app.test_client()
    token = client.get("/api/session").get_json()["csrf_token"]
    page = client.post(
        "/login", data={"name": '"><script>x()</script>', "password": "p", "csrf_token": token}
    )
    assert page.status_code == 401
    assert "<script>x()" not in page.get_data(as_text=True)


def test_a_100_kb_label(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    body = refused(
        app, client, 422, ("250 characters",), json=org(labels={"en": "L" * 100_000}), headers=token
    )
    assert body["problems"][0]["field"] == "labels"
    assert body["problems"][0]["language"] == "en"


@pytest.mark.parametrize("date", ["2024-02-30", "2023-13", "last spring", "2024-04-31T10:00:00Z"])
def test_invalid_dates(app: Flask, bob: tuple[FlaskClient, dict[str, str]], date: str) -> None:
    client, token = bob
    body = refused(
        app,
        client,
        422,
        ("P48",),
        json=org(statements=[{"property": "P48", "value": date}]),
        headers=token,
    )
    assert body["problems"][0]["field"] == "statements/1/value"


def test_invalid_date_in_turtle(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    ttl = PREFIXES + 'wd:new rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ; wdt:P48 "2024-02-30"^^xsd:date .'
    body = refused(app, client, 422, ("P48",), data=ttl, content_type="text/turtle", headers=token)
    assert body["problems"][0]["property"] == "P48"


@pytest.mark.parametrize("lang", ["xx", "klingon", "en-", "12"])
def test_unknown_languages(app: Flask, bob: tuple[FlaskClient, dict[str, str]], lang: str) -> None:
    client, token = bob
    body = refused(
        app,
        client,
        422,
        ("not a known language",),
        json=org(labels={"en": "Lab", lang: "Lab"}),
        headers=token,
    )
    assert body["problems"][0]["field"] == "labels"


def test_unknown_language_in_turtle(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    ttl = PREFIXES + 'wd:new rdfs:label "Lab"@en, "Lab"@zz ; wdt:P1 wd:Q1 .'
    body = refused(
        app,
        client,
        422,
        ("'zz' is not a known language",),
        data=ttl,
        content_type="text/turtle",
        headers=token,
    )
    assert body["problems"][0]["language"] == "zz"


def test_a_language_item_makes_its_code_known(
    app: Flask, bob: tuple[FlaskClient, dict[str, str]]
) -> None:
    client, token = bob
    language = {
        "labels": {"en": "Cantonese", "fr": "cantonais", "es": "cantonés", "pt": "cantonês"},
        "statements": [{"property": "P1", "value": "Q12"}, {"property": "P41", "value": "yue"}],
    }
    assert (
        client.post("/api/entity", json=org(labels={"yue": "實驗室"}), headers=token).status_code
        == 422
    )
    assert client.post("/api/entity", json=language, headers=token).status_code == 201
    assert (
        client.post("/api/entity", json=org(labels={"yue": "實驗室"}), headers=token).status_code
        == 201
    )


def test_iris_with_spaces(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    body = refused(
        app,
        client,
        422,
        ("percent-encoded",),
        json=org(statements=[{"property": "P11", "value": "https://lab.example/a b"}]),
        headers=token,
    )
    assert body["problems"][0]["field"] == "statements/1/value"
    ttl = (
        PREFIXES + 'wd:new rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ; wdt:P11 <https://lab.example/a b> .'
    )
    refused(app, client, 422, ("Invalid IRI",), data=ttl, content_type="text/turtle", headers=token)


def test_web_addresses_must_be_http(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    refused(
        app,
        client,
        422,
        ("http://",),
        json=org(statements=[{"property": "P11", "value": "javascript:alert(1)"}]),
        headers=token,
    )
    ttl = PREFIXES + 'wd:new rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ; wdt:P11 <javascript:alert(1)> .'
    refused(app, client, 422, ("http://",), data=ttl, content_type="text/turtle", headers=token)


def test_references_to_deleted_merged_or_missing_entities(
    app: Flask, bob: tuple[FlaskClient, dict[str, str]]
) -> None:
    client, token = bob
    editor = catalogue(app).editor
    editor.delete("Q1003", "test", author="alice")
    editor.merge("Q1004", "Q1005", author="alice")

    def partnership(party: str) -> dict[str, Any]:
        return {
            "labels": {"en": "New partnership"},
            "statements": [
                {"property": "P1", "value": "Q4"},
                {"property": "P5", "value": "Q1000"},
                {"property": "P5", "value": party},
            ],
        }

    body = refused(
        app, client, 422, ("Q1003 was deleted",), json=partnership("Q1003"), headers=token
    )
    assert body["problems"][0]["field"] == "statements/2/value"
    refused(app, client, 422, ("merged into Q1005",), json=partnership("Q1004"), headers=token)
    refused(
        app, client, 422, ("Q987654 does not exist",), json=partnership("Q987654"), headers=token
    )


def test_forged_fields(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    refused(app, client, 422, ("unknown field 'role'",), json=org(role="admin"), headers=token)
    forged_statement = org(
        statements=[{"property": "P11", "value": "https://a.example/", "author": "someone else"}]
    )
    refused(app, client, 422, ("unknown field 'author'",), json=forged_statement, headers=token)
    refused(
        app,
        client,
        422,
        ("no property P999",),
        json=org(statements=[{"property": "P999", "value": "x"}]),
        headers=token,
    )


def test_a_property_the_shape_does_not_allow(
    app: Flask, bob: tuple[FlaskClient, dict[str, str]]
) -> None:
    """A person record may not carry a website (the closed person shape)."""
    client, token = bob
    person = {
        "labels": {"en": "A. Person"},
        "statements": [
            {"property": "P1", "value": "Q2"},
            {"property": "P11", "value": "https://person.example/"},
        ],
    }
    body = refused(app, client, 422, ("person record may carry only",), json=person, headers=token)
    assert body["problems"][0]["field"] == "statements/1"
    assert body["problems"][0]["property"] == "P11"


def test_a_foreign_predicate_in_turtle(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    ttl = PREFIXES + 'wd:new rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ; foaf:mbox <mailto:a@b.example> .'
    refused(
        app, client, 422, ("not allowed here",), data=ttl, content_type="text/turtle", headers=token
    )


def test_missing_csrf_token(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ = bob
    refused(app, client, 403, ("no CSRF token",), json=org())


def test_replayed_csrf_token(app: Flask) -> None:
    client = app.test_client()
    old = {"X-CSRF-Token": login(client, "bob")}
    client.post("/logout", headers=old)
    login(client, "bob")
    refused(app, client, 403, ("does not belong to your current session",), json=org(), headers=old)


def test_forged_csrf_token(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ = bob
    refused(app, client, 403, ("CSRF",), json=org(), headers={"X-CSRF-Token": "A" * 43})


def test_csrf_token_of_another_account(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, _ = bob
    other = app.test_client()
    alice_token = {"X-CSRF-Token": login(other, "alice")}
    refused(app, client, 403, ("CSRF",), json=org(), headers=alice_token)


def test_session_of_a_deleted_account(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    catalogue(app).accounts.remove_user("bob")
    refused(app, client, 401, ("log in first",), json=org(), headers=token)


def test_session_of_a_disabled_account(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    catalogue(app).accounts.set_disabled("bob", True)
    refused(app, client, 401, ("log in first",), json=org(), headers=token)
