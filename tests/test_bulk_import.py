"""Bulk import from the browser: upload → validation report → confirm."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, login, staff_app, state

USERS = {"alice": "admin", "bob": "editor"}
DEMO = Path(__file__).resolve().parent.parent / "loader" / "data" / "demo" / "documents.ttl"
PREFIXES = "".join(
    line for line in DEMO.read_text(encoding="utf-8").splitlines(True) if line.startswith("@prefix")
)


def block(entity: str) -> str:
    """One record of the demo's documents file, as written there."""
    text = DEMO.read_text(encoding="utf-8")
    found = re.search(rf"^wd:{entity} a wikibase:Item ;.*?\.\n", text, re.S | re.M)
    assert found is not None
    return found.group(0)


NEW = """wd:Q50001 a wikibase:Item ;
  rdfs:label "Imported agreement"@en ;
  wdt:P1 wd:Q10 ;
  wdt:P31 wd:Q191 .
"""
#: a document whose date is not a date: the shapes refuse it
BROKEN = """wd:Q50002 a wikibase:Item ;
  rdfs:label "Broken agreement"@en ;
  wdt:P1 wd:Q10 ;
  wdt:P36 wd:Q10 .
"""


def upload_file() -> str:
    changed = block("Q1300").replace("Memorandum of understanding:", "MoU:", 1)
    return PREFIXES + "\n" + NEW + changed + block("Q1301") + BROKEN


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS, IMPORT_MAX_BYTES=20_000)


@pytest.fixture
def bob(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    return client, login(client, "bob")


def send(
    client: FlaskClient, token: str, body: str | bytes, name: str = "records.ttl", **form: str
) -> Any:
    data = body.encode() if isinstance(body, str) else body
    return client.post(
        "/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


def report_rows(response: Any) -> dict[str, tuple[str, str]]:
    doc = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    rows = {}
    for tr in doc.select("table.import-report tbody tr"):
        cells = tr.find_all("td")
        rows[tr.th.get_text(strip=True)] = (cells[1].get_text(strip=True), cells[2].get_text(" "))
    return rows


def test_upload_report_confirm(app: Flask, bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    cat = catalogue(app)
    before = state(cat)
    sent = send(client, token, upload_file(), summary="spring batch")
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert state(cat) == before, "the report writes nothing"
    page = client.get(sent.headers["Location"])
    assert page.status_code == 200
    rows = report_rows(page)
    assert rows["Q50001"][0] == "new"
    assert rows["Q1300"][0] == "changed"
    assert rows["Q1301"][0] == "unchanged"
    assert rows["Q50002"][0] == "rejected"
    assert "P36" in rows["Q50002"][1] and "wd:Q50002" in rows["Q50002"][1]
    doc = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    confirm = doc.find("form", action=re.compile(r"/confirm$"))
    done = client.post(confirm["action"], data={"csrf_token": token})
    assert done.status_code == 303
    assert done.headers["Location"].startswith("/admin/changes?")
    history = client.get("/api/entity/Q1300/history").get_json()["revisions"][0]
    assert (history["author"], history["summary"]) == (
        "bob",
        "Imported from records.ttl: spring batch",
    )
    assert client.get("/api/entity/Q50001").status_code == 200
    assert client.get("/api/entity/Q50002").status_code == 404, "rejected records change nothing"
    assert cat.revisions.count() == before[0] + 2
    again = client.post(confirm["action"], data={"csrf_token": token})
    assert again.status_code == 404, "confirming twice writes nothing more"
    assert cat.revisions.count() == before[0] + 2
    imports = client.get("/admin/changes?kind=import&format=json").get_json()["changes"]
    assert {c["entity"] for c in imports} == {"Q1300", "Q50001"}


def test_confirm_after_someone_changed_a_record(app: Flask, bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    location = send(client, token, upload_file()).headers["Location"]
    # someone edits Q1301 (unchanged in the report) meanwhile
    other = app.test_client()
    other_token = {"X-CSRF-Token": login(other, "alice")}
    data = other.get("/api/entity/Q1301").get_json()
    base = data.pop("revision")
    data.pop("modified")
    data["labels"]["fr"] = "Contrat"
    assert (
        other.put(
            "/api/entity/Q1301", json={**data, "base_revision": base}, headers=other_token
        ).status_code
        == 200
    )
    cat = catalogue(app)
    before = state(cat)
    confirm = f"{location}/confirm"
    stale = client.post(confirm, data={"csrf_token": token})
    assert stale.status_code == 409
    assert state(cat) == before
    assert report_rows(stale)["Q1301"][0] == "changed", "the new report shows the new state"
    alert = BeautifulSoup(stale.get_data(as_text=True), "html.parser").select_one("[role=alert]")
    assert "Q1301" in alert.get_text()
    done = client.post(confirm, data={"csrf_token": token})
    assert done.status_code == 303
    assert cat.revisions.count() == before[0] + 3


def test_report_and_confirm_belong_to_the_uploader(
    app: Flask, bob: tuple[FlaskClient, str]
) -> None:
    client, token = bob
    location = send(client, token, upload_file()).headers["Location"]
    alice = app.test_client()
    alice_token = login(alice, "alice")
    assert alice.get(location).status_code == 404
    assert alice.post(f"{location}/confirm", data={"csrf_token": alice_token}).status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(location).status_code == 401
    assert anonymous.get("/import").status_code == 401
    assert client.get("/import/not-a-token").status_code == 404
    discarded = client.post(f"{location}/discard", data={"csrf_token": token})
    assert discarded.status_code == 303
    assert client.get(location).status_code == 404


@pytest.mark.parametrize(
    ("body", "name", "form", "status"),
    [
        (b"", "records.ttl", {}, 422),
        (b"@prefix wd: <entity/> . wd:Q1 garbled ;;; ", "records.ttl", {}, 422),
        (b"\xff\xfe\x00binary", "records.ttl", {}, 422),
        (b"<a> <b> <c> .", "records.ttl", {}, 422),  # no records about entities
        (b"x" * 30_000, "records.ttl", {}, 413),
        (b"{}", "records.exe", {}, 415),
        (b"{}", "records.ttl", {"format": "docx"}, 415),
        (b'{"@context": 5', "records.jsonld", {}, 422),
        (b"<rdf:RDF", "records.rdf", {}, 422),
    ],
)
def test_bad_uploads_are_refused_and_keep_nothing(
    app: Flask,
    bob: tuple[FlaskClient, str],
    body: bytes,
    name: str,
    form: dict[str, str],
    status: int,
) -> None:
    client, token = bob
    cat = catalogue(app)
    before = state(cat)
    response = send(client, token, body, name, **form)
    assert response.status_code == status, response.get_data(as_text=True)
    assert state(cat) == before
    imports = cat.settings.data_dir / "imports"
    assert not imports.exists() or not any(imports.iterdir())


def test_upload_needs_staff_and_csrf(app: Flask, bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    assert send(client, "forged", upload_file()).status_code == 403
    no_file = client.post("/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert no_file.status_code == 422
    assert send(app.test_client(), token, upload_file()).status_code == 401


def test_expired_uploads_are_gone(make_app: Callable[..., Flask]) -> None:
    app = staff_app(make_app, USERS, IMPORT_TTL=0)
    client = app.test_client()
    token = login(client, "bob")
    location = send(client, token, upload_file()).headers["Location"]
    assert client.get(location).status_code == 404
    assert client.post(f"{location}/confirm", data={"csrf_token": token}).status_code == 404


def test_report_as_json(bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    response = client.post(
        "/import",
        data={"csrf_token": token, "file": (io.BytesIO(upload_file().encode()), "r.ttl")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    data = response.get_json()
    assert data["counts"] == {"new": 1, "changed": 1, "unchanged": 1, "rejected": 1}
    rejected = next(r for r in data["records"] if r["status"] == "rejected")
    assert rejected["problems"][0]["focus"].endswith("entity/Q50002")
