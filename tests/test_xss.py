"""Stored XSS sweep: script and markup in every text field come out as text everywhere.

One record carries hostile text in its labels, description, aliases, string and
monolingual values; its revisions carry it in summaries, author names and a deletion
reason. Each output is parsed (HTML with an HTML parser, JSON as JSON, RDF as RDF) and
must hold the text as text: no script the page did not write, no event-handler
attribute, no element smuggled in, and the exact hostile string back where text goes.
The ontology has no free-text string property on organisations (its strings are ids
with patterns), so the string value here is a monolingual text (P49). The query editor
renders results in the browser (its own tests cover that).
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from bs4 import BeautifulSoup
from conftest import BASE, close_app, open_app, sync_app
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, login, staff_app

from loader.base.settings import load_settings

SCRIPT = "<script>alert('label')</script>"
CLOSER = "</script><script>alert('closed')</script>"
ATTR = "\"'><img src=x onerror=alert('attr')>"
MARKUP = "<b>bold</b><iframe src=javascript:alert(1)></iframe>"
AUTHOR = "<script>alert('author')</script>"
SUMMARY = "</textarea>\"'><svg onload=alert('summary')>"
REASON = "<img src=x onerror=alert('reason')>"
HOSTILE = (SCRIPT, CLOSER, ATTR, MARKUP, AUTHOR, SUMMARY, REASON)
FILENAME = "<img src=x onerror=alert(1)>.ttl"
TARGET = "Q1201"  # deleted with a hostile reason


@pytest.fixture(scope="module")
def xss_app(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory, store_backend: dict[str, Any]
) -> Iterator[tuple[Flask, str]]:
    """A catalogue holding the hostile record (its id is returned with the app)."""
    tmp = tmp_path_factory.mktemp("xss")

    def make_app(**overrides: Any) -> Flask:
        shutil.copytree(demo_template, tmp / "data")
        values = {
            "DATA_DIR": str(tmp / "data"),
            "BASE_URL": BASE,
            "LOAD_WORKERS": 1,
            "DUMP_INTERVAL": 0,
            **store_backend,
        }
        return open_app(load_settings(env={}, overrides={**values, **overrides}), "demo")

    app = staff_app(
        make_app,
        {"alice": "admin"},
        DATASET_TITLE=SCRIPT,
        DATASET_DESCRIPTION=ATTR,
        PUBLISHER=CLOSER,
    )
    cat = catalogue(app)
    editor = cat.editor
    record = {
        "labels": {"en": SCRIPT, "fr": CLOSER},
        "descriptions": {"en": ATTR},
        "aliases": {"en": [MARKUP, CLOSER]},
        "statements": [
            {"property": "P1", "value": "Q1"},
            {
                "property": "P17",
                "value": "Q1009",
                "qualifiers": [{"property": "P49", "value": {"text": MARKUP, "language": "en"}}],
            },
        ],
    }
    try:
        created = editor.create(
            lambda entity: editor.read_json(record, entity), author=AUTHOR, summary=SUMMARY
        )
    except Exception as exc:
        raise AssertionError(exc.to_dict()) from None  # type: ignore[attr-defined]
    entity = created.entity
    base = created.revision.id  # type: ignore[union-attr]
    changed = {**record, "labels": {"en": SCRIPT + " v2", "fr": CLOSER}}
    editor.save(entity, editor.read_json(changed, entity), base, author=AUTHOR, summary=CLOSER)
    editor.delete(TARGET, REASON, author=AUTHOR)
    cat.page_index.catch_up()
    yield app, entity
    close_app(app, "demo")


@pytest.fixture
def client(xss_app: tuple[Flask, str]) -> FlaskClient:
    return sync_app(xss_app[0], "xss").test_client()


@pytest.fixture
def entity(xss_app: tuple[Flask, str]) -> str:
    return xss_app[1]


def safe_html(response: Any, *expected: str) -> BeautifulSoup:
    """Parse a page; fail on any script, handler or element the page did not write;
    check each ``expected`` hostile string is there as text."""
    assert response.status_code < 500
    doc = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    for tag in doc.find_all(True):
        handlers = [a for a in tag.attrs if a.lower().startswith("on")]
        assert not handlers, f"event handler on <{tag.name}>: {handlers}"
        assert tag.name not in ("img", "svg", "iframe", "b"), f"smuggled <{tag.name}>"
        for attr in ("href", "src", "action"):
            value = str(tag.get(attr, ""))
            assert not value.strip().lower().startswith("javascript:"), value
        if tag.name == "script":
            assert tag.get("src") or tag.get("type") == "application/ld+json", str(tag)[:200]
            if tag.get("type") == "application/ld+json":
                json.loads(tag.string or "")  # the whole element is still JSON
    text = doc.get_text()
    for hostile in expected:
        assert hostile in text, f"{hostile!r} is not shown as text"
    return doc


def test_entity_page(client: FlaskClient, entity: str) -> None:
    doc = safe_html(client.get(f"/page/{entity}"), SCRIPT, CLOSER, ATTR, MARKUP)
    assert doc.find("meta", attrs={"name": "description"})["content"] == ATTR


def test_embedded_json_ld(client: FlaskClient, entity: str) -> None:
    doc = safe_html(client.get(f"/page/{entity}"))
    [script] = doc.find_all("script", type="application/ld+json")
    data = json.loads(script.string)
    text = json.dumps(data, ensure_ascii=False)
    assert CLOSER in text and SCRIPT in text
    assert "</script" not in script.decode_contents().lower()


def test_history_page(client: FlaskClient, entity: str) -> None:
    safe_html(client.get(f"/page/{entity}/history"), AUTHOR, SUMMARY, CLOSER)


def test_history_page_for_staff(xss_app: tuple[Flask, str], entity: str) -> None:
    staff = sync_app(xss_app[0], "xss").test_client()
    login(staff, "alice")
    safe_html(staff.get(f"/page/{entity}/history"), AUTHOR, SUMMARY)


def test_diff_page(client: FlaskClient, entity: str) -> None:
    doc = safe_html(client.get(f"/page/{entity}/diff"), SCRIPT, SCRIPT + " v2", AUTHOR, CLOSER)
    assert doc.find("del", string=SCRIPT) is not None


def test_diff_json(client: FlaskClient, entity: str) -> None:
    data = client.get(f"/page/{entity}/diff?format=json").get_json()
    assert data["terms"][0]["old"] == SCRIPT


def test_audit_view(xss_app: tuple[Flask, str]) -> None:
    staff = sync_app(xss_app[0], "xss").test_client()
    login(staff, "alice")
    safe_html(staff.get("/admin/changes"), AUTHOR, SUMMARY, CLOSER, REASON)
    safe_html(staff.get("/admin/changes", query_string={"author": AUTHOR}), AUTHOR)


def test_deleted_entity_page_shows_the_reason_as_text(client: FlaskClient) -> None:
    response = client.get(f"/page/{TARGET}")
    assert response.status_code == 410
    safe_html(response, REASON)
    safe_html(client.get(f"/page/{TARGET}/history"), REASON, AUTHOR)


def test_search_results(client: FlaskClient, entity: str) -> None:
    doc = safe_html(client.get("/search", query_string={"q": "<script>alert"}), SCRIPT)
    assert doc.find("a", href=f"/page/{entity}") is not None
    safe_html(client.get("/search", query_string={"q": ATTR}), ATTR)


def test_browse(client: FlaskClient, entity: str) -> None:
    for number in range(1, 100):
        page = client.get("/browse/Q1", query_string={"page": number})
        assert page.status_code == 200, "the hostile record is listed under its class"
        if f'href="/page/{entity}"' in page.get_data(as_text=True):
            safe_html(page, SCRIPT)
            return


def test_change_feed_html(client: FlaskClient) -> None:
    last = client.get("/changes/activity-streams").get_json()["last"]["id"].rsplit("/", 1)[1]
    safe_html(client.get(f"/changes/page/{last}", headers={"Accept": "text/html"}), SUMMARY)


def test_activity_streams(client: FlaskClient) -> None:
    last = client.get("/changes/activity-streams").get_json()["last"]["id"].rsplit("/", 1)[1]
    page = client.get(f"/changes/activity-streams/page/{last}").get_json()
    summaries = {item.get("summary") for item in page["orderedItems"]}
    assert {SUMMARY, CLOSER, REASON} <= summaries


def test_ldes_turtle(client: FlaskClient) -> None:
    last = client.get("/changes/activity-streams").get_json()["last"]["id"].rsplit("/", 1)[1]
    body = client.get(f"/changes/page/{last}", headers={"Accept": "text/turtle"}).data
    literals = {
        q.object.value
        for q in ox.parse(body, ox.RdfFormat.TURTLE, base_iri="http://example.org/")
        if isinstance(q.object, ox.Literal)
    }
    assert SUMMARY in literals or CLOSER in literals


def test_dataset_page(client: FlaskClient) -> None:
    safe_html(client.get("/dataset", headers={"Accept": "text/html"}), SCRIPT, ATTR)


def test_import_report_filename(xss_app: tuple[Flask, str]) -> None:
    staff = sync_app(xss_app[0], "xss").test_client()
    token = login(staff, "alice")
    body = b"@prefix wd: <entity/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    body += b'wd:Q60001 rdfs:label "<script>alert(1)</script>"@en .\n'
    sent = staff.post(
        "/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), FILENAME)},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)
    safe_html(staff.get(sent.headers["Location"]), FILENAME)
