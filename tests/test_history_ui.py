"""History pages for people: the diff page, restoring a revision, the audit view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, login, staff_app, staff_client, state

USERS = {"alice": "admin", "bob": "editor"}
ENTITY = "Q1200"


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS)


@pytest.fixture
def bob(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    return staff_client(app, "bob")


def record(client: FlaskClient, entity: str = ENTITY) -> tuple[dict[str, Any], int]:
    data = client.get(f"/api/entity/{entity}").get_json()
    data.pop("modified")
    return data, int(data.pop("revision"))


def edit(
    client: FlaskClient, token: dict[str, str], change: Callable[[dict[str, Any]], None]
) -> int:
    """Change the record through the JSON API; returns the new revision id."""
    data, base = record(client)
    change(data)
    saved = client.put(f"/api/entity/{ENTITY}", json={**data, "base_revision": base}, headers=token)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    return int(saved.get_json()["revision"])


def html(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def relabel(data: dict[str, Any]) -> None:
    data["labels"]["en"] = "Renamed lab"
    data["aliases"]["en"] = [*data["aliases"].get("en", []), "RL"]
    first = data["statements"][0]
    first["rank"] = "preferred"
    data["statements"].append(
        {
            "property": "P1",
            "value": "Q1",
            "qualifiers": [{"property": "P48", "value": "2012-05"}],
        }
    )


def test_diff_page_shows_changes_by_label(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    _, base = record(client)
    new = edit(client, token, relabel)
    anonymous = client.application.test_client()
    page = anonymous.get(f"/page/{ENTITY}/diff?from={base}&to={new}")
    assert page.status_code == 200
    doc = html(page)
    terms = doc.select("table.diff tbody tr")
    label_row = next(r for r in terms if "Label" in r.th.get_text())
    assert label_row.find("ins").get_text() == "Renamed lab"
    assert any("RL" in r.get_text() and r.find("ins") for r in terms)
    changes = doc.select("li.diff-statement")
    added = [c for c in changes if "diff-added" in c["class"]]
    assert len(added) == 1
    # the value is shown by its label, linked to its page; the qualifier too
    link = added[0].find("ins").find("a")
    assert link["href"] == "/page/Q1" and "(Q1)" in link.get_text()
    assert "2012-05" in added[0].get_text()
    changed = [c for c in changes if "diff-changed" in c["class"]]
    assert changed and "preferred rank" in changed[0].get_text()
    assert doc.select_one("details.diff-unchanged") is not None  # unchanged parts fold away
    # from defaults to the revision before "to"; "to" to the newest
    assert html(anonymous.get(f"/page/{ENTITY}/diff")).select("li.diff-statement")


def test_diff_as_json(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    _, base = record(client)
    new = edit(client, token, relabel)
    for response in (
        client.get(f"/page/{ENTITY}/diff?from={base}&to={new}&format=json"),
        client.get(
            f"/page/{ENTITY}/diff?from={base}&to={new}", headers={"Accept": "application/json"}
        ),
    ):
        data = response.get_json()
        assert response.mimetype == "application/json"
        assert data == client.get(f"/api/entity/{ENTITY}/diff?from={base}&to={new}").get_json()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=abc&to=2", 400),
        ("from=-1&to=2", 400),
        ("from=5&to=5", 400),
        ("from=999999&to=9999999", 404),
        ("from=1&to=2&format=xml", 400),
    ],
)
def test_bad_diff_requests(app: Flask, query: str, status: int) -> None:
    response = app.test_client().get(f"/page/{ENTITY}/diff?{query}")
    assert response.status_code == status
    assert response.status_code < 500


def test_diff_refuses_revisions_of_another_entity_and_wrong_order(
    bob: tuple[FlaskClient, dict[str, str]],
) -> None:
    client, token = bob
    _, base = record(client)
    new = edit(client, token, relabel)
    other = client.get("/api/entity/Q1").get_json()["revision"]
    assert client.get(f"/page/{ENTITY}/diff?from={other}&to={new}").status_code == 404
    backwards = client.get(f"/page/{ENTITY}/diff?from={new}&to={base}")
    assert backwards.status_code == 400
    assert f"from={base}&amp;to={new}" in backwards.get_data(as_text=True)
    assert client.get("/page/Q987654/diff").status_code == 404
    assert client.get("/page/nope/diff").status_code == 404
    first = client.get(f"/api/entity/{ENTITY}/history").get_json()["revisions"][-1]["revision"]
    assert client.get(f"/page/{ENTITY}/diff?to={first}").status_code == 400


def test_diff_of_a_deleted_entity(app: Flask) -> None:
    client = app.test_client()
    token = {"X-CSRF-Token": login(client, "alice")}
    before = client.get(f"/api/entity/{ENTITY}").get_json()["revision"]
    deleted = client.delete(f"/api/entity/{ENTITY}?reason=duplicate", headers=token)
    assert deleted.status_code == 200
    page = app.test_client().get(f"/page/{ENTITY}/diff")
    assert page.status_code == 200
    doc = html(page)
    changes = doc.select("li.diff-statement")
    assert changes and all("diff-removed" in c["class"] for c in changes)
    assert doc.select_one("#rev-old").get_text().startswith(f"Revision {before}")


def test_history_page_offers_compare_and_staff_restore(
    bob: tuple[FlaskClient, dict[str, str]],
) -> None:
    client, token = bob
    edit(client, token, relabel)
    anonymous = html(client.application.test_client().get(f"/page/{ENTITY}/history"))
    assert anonymous.select("input[type=radio][name=from][form=compare]")
    assert anonymous.select_one("form#compare")["action"] == f"/page/{ENTITY}/diff"
    assert not anonymous.select("form.revert-form")
    staff = html(client.get(f"/page/{ENTITY}/history"))
    forms = staff.select("form.revert-form")
    assert forms and all(f["method"] == "post" for f in forms)
    assert forms[0].select_one("input[name=csrf_token]")["value"] == token["X-CSRF-Token"]


def revert_form(client: FlaskClient) -> dict[str, str]:
    """The fields of the history page's restore form for the oldest shown revision."""
    doc = html(client.get(f"/page/{ENTITY}/history"))
    form = doc.select("form.revert-form")[-1]
    return {i["name"]: i.get("value", "") for i in form.select("input")}


def test_restore_a_revision(bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    data, base = record(client)
    original = data["labels"]["en"]
    edit(client, token, relabel)
    fields = revert_form(client)
    assert fields["revision"] == str(base)
    fields["summary"] = "undo the rename"
    done = client.post(f"/edit/{ENTITY}/revert", data=fields)
    assert done.status_code == 303
    assert record(client)[0]["labels"]["en"] == original
    newest = client.get(f"/api/entity/{ENTITY}/history").get_json()["revisions"][0]
    assert newest["summary"] == f"Reverted to revision {base}: undo the rename"
    assert newest["author"] == "bob"
    followed = client.get(done.headers["Location"])
    assert "restored" in followed.get_data(as_text=True)


def test_restore_conflict_keeps_the_summary_and_writes_nothing(app: Flask) -> None:
    bob, carol_side = app.test_client(), app.test_client()
    token = {"X-CSRF-Token": login(bob, "bob")}
    edit(bob, token, relabel)
    fields = revert_form(bob)
    fields["summary"] = "my careful reason"
    # alice saves meanwhile
    edit(
        carol_side,
        {"X-CSRF-Token": login(carol_side, "alice")},
        lambda d: d["labels"].update(fr="X"),
    )
    before = state(catalogue(app))
    response = bob.post(f"/edit/{ENTITY}/revert", data=fields)
    assert response.status_code == 409
    assert state(catalogue(app)) == before
    doc = html(response)
    assert doc.select_one("[role=alert]") is not None
    assert doc.select_one("input[name=summary]")["value"] == "my careful reason"
    newest = carol_side.get(f"/api/entity/{ENTITY}").get_json()["revision"]
    assert doc.select_one("input[name=base_revision]")["value"] == str(newest)


def test_restore_bad_input(app: Flask, bob: tuple[FlaskClient, dict[str, str]]) -> None:
    client, token = bob
    _, base = record(client)
    edit(client, token, relabel)
    fields = revert_form(client)
    cat = catalogue(app)
    before = state(cat)
    anonymous = app.test_client()
    assert anonymous.post(f"/edit/{ENTITY}/revert", data=fields).status_code == 401
    no_csrf = {k: v for k, v in fields.items() if k != "csrf_token"}
    assert client.post(f"/edit/{ENTITY}/revert", data=no_csrf).status_code == 403
    wrong_csrf = {**fields, "csrf_token": "forged"}
    assert client.post(f"/edit/{ENTITY}/revert", data=wrong_csrf).status_code == 403
    other = client.get("/api/entity/Q1").get_json()["revision"]
    for forged, status in (
        ({"revision": "abc"}, 400),
        ({"revision": ""}, 422),
        ({"base_revision": ""}, 422),
        ({"revision": str(other)}, 404),
        ({"base_revision": str(other)}, 422),
        ({"revision": "99999999"}, 404),
    ):
        response = client.post(f"/edit/{ENTITY}/revert", data={**fields, **forged})
        assert response.status_code == status, (forged, response.get_data(as_text=True))
    assert client.post("/edit/Q987654/revert", data=fields).status_code == 404
    assert client.post("/edit/nope/revert", data=fields).status_code == 404
    assert state(cat) == before
    assert base


def test_audit_view_is_for_staff_and_filters(
    app: Flask, bob: tuple[FlaskClient, dict[str, str]]
) -> None:
    client, token = bob
    _, base = record(client)
    new = edit(client, token, relabel)
    fields = revert_form(client)
    client.post(f"/edit/{ENTITY}/revert", data=fields)
    assert app.test_client().get("/admin/changes").status_code == 401
    doc = html(client.get("/admin/changes"))
    rows = doc.select("table.changes tbody tr")
    assert len(rows) == 50  # paged
    assert doc.select_one("a[rel=next]") is not None
    mine = html(client.get("/admin/changes?author=bob")).select("table.changes tbody tr")
    assert len(mine) == 2
    # the link reads "diff", its name goes on with the revision (for screen readers)
    diff = next(a for a in mine[1].find_all("a") if a.get_text().startswith("diff"))
    assert diff["href"] == f"/page/{ENTITY}/diff?to={new}"
    reverts = client.get("/admin/changes?kind=revert&format=json").get_json()["changes"]
    assert [r["entity"] for r in reverts] == [ENTITY]
    edits = client.get("/admin/changes?kind=edit&author=bob&format=json").get_json()["changes"]
    assert [r["revision"] for r in edits] == [new]
    classes = client.get(f"/api/entity/{ENTITY}").get_json()
    cls = next(s["value"] for s in classes["statements"] if s["property"] == "P1")
    by_class = client.get(f"/admin/changes?class={cls}&author=bob&format=json").get_json()
    assert {r["entity"] for r in by_class["changes"]} == {ENTITY}
    other_class = client.get("/admin/changes?class=Q987654&format=json").get_json()
    assert other_class["changes"] == []
    first = client.get("/admin/changes?format=json").get_json()
    older = client.get(f"/admin/changes?before={first['next_before']}&format=json").get_json()
    assert older["changes"][0]["revision"] < first["changes"][-1]["revision"]
    for bad in ("kind=vandalism", "class=nope", "before=x", "author=" + "a" * 300):
        assert client.get(f"/admin/changes?{bad}").status_code == 400, bad
    assert base


@pytest.mark.parametrize("language", ["fr", "es", "pt"])
def test_pages_in_every_interface_language(
    bob: tuple[FlaskClient, dict[str, str]], language: str
) -> None:
    client, token = bob
    edit(client, token, relabel)
    headers = {"Accept-Language": language}
    for url in (f"/page/{ENTITY}/diff", f"/page/{ENTITY}/history", "/admin/changes", "/import"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.get_data(as_text=True)


def test_restore_a_deleted_entity_from_its_history(app: Flask) -> None:
    client = app.test_client()
    token = login(client, "alice")
    assert client.delete(f"/api/entity/{ENTITY}?reason=oops", headers={"X-CSRF-Token": token})
    assert client.get(f"/page/{ENTITY}").status_code == 410
    doc = html(client.get(f"/page/{ENTITY}/history"))
    form = doc.select("form.revert-form")[0]
    fields = {i["name"]: i.get("value", "") for i in form.select("input")}
    done = client.post(f"/edit/{ENTITY}/revert", data=fields)
    assert done.status_code == 303
    assert client.get(f"/page/{ENTITY}").status_code == 200
    newest = client.get(f"/api/entity/{ENTITY}/history").get_json()["revisions"][0]
    assert newest["action"] == "restore"
    reverts = client.get("/admin/changes?kind=revert&format=json").get_json()["changes"]
    assert [r["revision"] for r in reverts] == [newest["revision"]]


def test_diff_across_a_merge(app: Flask) -> None:
    client = app.test_client()
    token = {"X-CSRF-Token": login(client, "alice")}
    ids = []
    for name, founded in (("Lab one", "2012-05"), ("Lab two", "2015")):
        record = {
            "labels": {"en": name},
            "statements": [
                {"property": "P1", "value": "Q1"},
                {"property": "P48", "value": founded},
            ],
        }
        created = client.post("/api/entity", json=record, headers=token)
        assert created.status_code == 201, created.get_data(as_text=True)
        ids.append(created.get_json()["id"])
    merged = client.post(f"/api/entity/{ids[0]}/merge", json={"into": ids[1]}, headers=token)
    assert merged.status_code == 200, merged.get_data(as_text=True)
    redirect = client.get(f"/page/{ids[0]}/diff")
    assert redirect.status_code == 200
    assert html(redirect).select("li.diff-removed")
    target = html(client.get(f"/page/{ids[1]}/diff"))
    assert "Lab one" in target.get_text()


def test_restoring_a_revision_that_is_no_longer_valid_explains_why(app: Flask) -> None:
    client = app.test_client()
    token = {"X-CSRF-Token": login(client, "alice")}
    data, base = record(client)
    party = next(s["value"] for s in data["statements"] if s["property"] == "P5")
    edit(client, token, lambda d: d["labels"].update(en="Renamed"))
    assert client.delete(f"/api/entity/{party}?reason=gone", headers=token).status_code == 200
    fields = revert_form(client)
    assert fields["revision"] == str(base)
    before = state(catalogue(app))
    response = client.post(f"/edit/{ENTITY}/revert", data=fields)
    assert response.status_code == 422
    assert f"{party} was deleted" in response.get_data(as_text=True)
    assert state(catalogue(app)) == before
