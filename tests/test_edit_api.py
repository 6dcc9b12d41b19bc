"""The JSON edit API: read, create, save, conflicts, revert, delete, merge, history, diff."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, login, staff_app, staff_client

from tests.conftest import PREFIXES

USERS = {"alice": "admin", "bob": "editor", "carol": "editor"}
ORG = {
    "labels": {"en": "Open Knowledge Lab", "de": "Offenes Wissenslabor"},
    "statements": [{"property": "P1", "value": "Q1"}, {"property": "P48", "value": "2012-05"}],
    "summary": "new lab",
}


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS, EDIT_MAX_BYTES=200_000)


@pytest.fixture
def bob(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    return staff_client(app, "bob")


def record(client: FlaskClient, entity: str) -> tuple[dict[str, Any], int]:
    data = client.get(f"/api/entity/{entity}").get_json()
    data.pop("modified")
    return data, int(data.pop("revision"))


def test_reading_a_record_is_public_with_its_revision(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/api/entity/Q1200")
    assert response.status_code == 200
    data = response.get_json()
    assert data["id"] == "Q1200" and data["type"] == "item"
    assert response.headers["ETag"] == f'"{data["revision"]}"'
    assert "no-cache" in response.headers["Cache-Control"]
    again = client.get("/api/entity/Q1200", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    turtle = client.get("/api/entity/Q1200", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle" and b"wd:Q1200" in turtle.data
    assert client.get("/api/entity/Q999999").status_code == 404
    assert client.get("/api/entity/nope").status_code == 404


def test_anonymous_users_edit_nothing(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/api/entity", json=ORG)
    assert response.status_code == 401 and "log in" in response.get_json()["error"]


def test_create_then_save(bob: tuple[FlaskClient, dict[str, str]], app: Flask) -> None:
    client, token = bob
    created = client.post("/api/entity", json=ORG, headers=token)
    assert created.status_code == 201
    body = created.get_json()
    assert body["id"] == "Q10000" and body["revision"] and body["ok"] is True
    assert created.headers["Location"].endswith("/api/entity/Q10000")
    data, base = record(client, "Q10000")
    assert data["labels"] == ORG["labels"]
    data["descriptions"] = {"en": "a lab for open knowledge"}
    saved = client.put(
        "/api/entity/Q10000",
        json={**data, "base_revision": base, "summary": "describe"},
        headers=token,
    )
    assert saved.status_code == 200 and saved.get_json()["unchanged"] is False
    rev = catalogue(app).revisions.get("Q10000")
    assert rev is not None and (rev.author, rev.summary) == ("bob", "describe")
    unchanged = client.put(
        "/api/entity/Q10000", json={**data, "base_revision": rev.id}, headers=token
    )
    assert unchanged.get_json()["unchanged"] is True
    assert catalogue(app).revisions.get("Q10000").id == rev.id  # type: ignore[union-attr]


def test_save_needs_a_base_revision(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    data, _ = record(client, "Q1200")
    response = client.put("/api/entity/Q1200", json=data, headers=token)
    assert response.status_code == 428 and "base_revision" in response.get_json()["error"]


def test_conflicting_saves_give_409_with_both_versions(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    t1 = {"X-CSRF-Token": login(first, "bob")}
    t2 = {"X-CSRF-Token": login(second, "carol")}
    data, base = record(first, "Q1200")
    mine = copy.deepcopy(data)
    data["labels"]["en"] = "Bob's label"
    assert (
        first.put("/api/entity/Q1200", json={**data, "base_revision": base}, headers=t1).status_code
        == 200
    )
    mine["labels"]["en"] = "Carol's label"
    response = second.put("/api/entity/Q1200", json={**mine, "base_revision": base}, headers=t2)
    assert response.status_code == 409
    body = response.get_json()
    assert body["title"] == "Edit conflict" and "bob" in body["error"]
    conflict = body["conflict"]
    assert conflict["fields"][0]["theirs"] == "Bob's label"
    assert conflict["fields"][0]["mine"] == "Carol's label"
    assert conflict["mine"]["labels"]["en"] == "Carol's label"
    # Resolving: save again on the latest revision.
    resolved = second.put(
        "/api/entity/Q1200",
        json={**conflict["mine"], "base_revision": conflict["latest_revision"]},
        headers=t2,
    )
    assert resolved.status_code == 200


def test_turtle_records(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    body = PREFIXES + 'wd:new rdfs:label "Turtle Lab"@en ; wdt:P1 wd:Q1 .'
    created = client.post("/api/entity", data=body, content_type="text/turtle", headers=token)
    assert created.status_code == 201
    entity = created.get_json()["id"]
    base = record(client, entity)[1]
    update = PREFIXES + f'wd:{entity} rdfs:label "Turtle Lab"@en, "Labo"@fr ; wdt:P1 wd:Q1 .'
    saved = client.put(
        f"/api/entity/{entity}?base_revision={base}",
        data=update,
        content_type="text/turtle",
        headers=token,
    )
    assert saved.status_code == 200
    assert record(client, entity)[0]["labels"]["fr"] == "Labo"
    by_etag = client.put(
        f"/api/entity/{entity}",
        data=update,
        content_type="text/turtle",
        headers={**token, "If-Match": f'"{saved.get_json()["revision"]}"'},
    )
    assert by_etag.get_json()["unchanged"] is True


def test_unsupported_media_type_and_too_large(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    plain = client.post("/api/entity", data="label: Lab", content_type="text/plain", headers=token)
    assert plain.status_code == 415
    huge = {**ORG, "descriptions": {"en": "x" * 250_000}}
    response = client.post("/api/entity", json=huge, headers=token)
    assert response.status_code == 413 and "EDIT_MAX_BYTES" in response.get_json()["error"]
    broken = client.post(
        "/api/entity", data="{not json", content_type="application/json", headers=token
    )
    assert broken.status_code == 400


def test_revert_history_and_diff(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    data, base = record(client, "Q1200")
    original = data["labels"]["en"]
    data["labels"]["en"] = "Vandalised"
    client.put("/api/entity/Q1200", json={**data, "base_revision": base}, headers=token)
    diff = client.get("/api/entity/Q1200/diff").get_json()
    assert diff["terms"] == [
        {"kind": "label", "language": "en", "old": original, "new": "Vandalised"}
    ]
    assert diff["from"] == base
    reverted = client.post("/api/entity/Q1200/revert", json={"revision": base}, headers=token)
    assert reverted.status_code == 200
    assert record(client, "Q1200")[0]["labels"]["en"] != "Vandalised"
    history = client.get("/api/entity/Q1200/history").get_json()["revisions"]
    assert [r["summary"] for r in history[:2]] == [f"Reverted to revision {base}", "Edited"]
    assert history[0]["author"] == "bob"
    old = client.get(f"/api/entity/Q1200/revisions/{history[1]['revision']}").get_json()
    assert old["labels"]["en"] == "Vandalised"
    between = client.get(f"/api/entity/Q1200/diff?from={base}&to={history[0]['revision']}")
    assert between.get_json()["terms"] == []


def test_delete_is_for_admins_with_a_reason(
    app: Flask, bob: tuple[FlaskClient, dict[str, str]]
) -> None:
    client, token = bob
    assert (
        client.delete("/api/entity/Q1300", json={"reason": "dup"}, headers=token).status_code == 403
    )
    admin = app.test_client()
    admin_token = {"X-CSRF-Token": login(admin, "alice")}
    no_reason = admin.delete("/api/entity/Q1300", json={}, headers=admin_token)
    assert no_reason.status_code == 422
    gone = admin.delete("/api/entity/Q1300", json={"reason": "duplicate"}, headers=admin_token)
    assert gone.status_code == 200 and gone.get_json()["deleted"] is True
    assert admin.get("/api/entity/Q1300").status_code == 410
    history = admin.get("/api/entity/Q1300/history").get_json()["revisions"]
    assert (history[0]["action"], history[0]["summary"], history[0]["author"]) == (
        "delete",
        "duplicate",
        "alice",
    )


def test_merge(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    one = client.post("/api/entity", json=ORG, headers=token).get_json()["id"]
    two = client.post("/api/entity", json={**ORG, "labels": {"en": "OKL"}}, headers=token)
    target = two.get_json()["id"]
    merged = client.post(f"/api/entity/{one}/merge", json={"into": target}, headers=token)
    assert merged.status_code == 200
    assert client.get(f"/api/entity/{one}").status_code == 410
    assert "Open Knowledge Lab" in client.get(f"/api/entity/{target}").get_json()["aliases"]["en"]


def test_turtle_from_get_saves_back_unchanged(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    """What GET gives as Turtle (data document included) is a valid record to PUT."""
    client, token = bob
    for entity in ("Q1200", "Q1205", "P5"):
        got = client.get(f"/api/entity/{entity}", headers={"Accept": "text/turtle"})
        revision = got.headers["ETag"]
        saved = client.put(
            f"/api/entity/{entity}",
            data=got.data,
            content_type="text/turtle",
            headers={**token, "If-Match": revision},
        )
        assert saved.status_code == 200, saved.get_json()
        assert saved.get_json()["unchanged"] is True, entity
