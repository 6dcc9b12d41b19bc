"""People's data stays theirs: hiding and unhiding persons, and every bad input."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, login, staff_app

from loader.base.errors import BigtentError
from loader.catalogue import Catalogue
from loader.staff.accounts import ADMIN, EDITOR
from loader.storage.revision_log import HIDDEN, LIVE
from webapp.cli import main

PERSON = "Q1500"  # Amara Okonkwo, fictional (loader/data/demo/people.ttl)
NAME = "Amara Okonkwo"
EVENT = "Q1604"  # lists PERSON as a participant (P5)
ORG = "Q1061"  # PERSON is a member of it (P4)


@pytest.fixture
def staff(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = staff_app(make_app, {"eve": EDITOR, "ada": ADMIN})
    yield app
    catalogue(app).close()


def _hide(cat: Catalogue) -> None:
    cat.privacy.hide(PERSON, "asked to be removed from the public registry", "test")


# --- the shapes: minimal data only --------------------------------------------------------
@pytest.mark.parametrize(
    "field",
    [
        'schema:birthDate "1990-04-01"^^xsd:date',
        'schema:email "amara@example.org"',
        'schema:telephone "+234 1 234 5678"',
        'schema:address "12 Example Street, Lagos"',
    ],
)
def test_a_person_record_with_personal_data_is_refused(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path], field: str
) -> None:
    path = write_ttl(
        "person.ttl",
        f"""
wd:Q9001 a wikibase:Item ; rdfs:label "Test Person"@en ;
  schema:description "fictional person for a test"@en ;
  wdt:P1 wd:Q11 ; {field} .
""",
    )
    report = catalogue.load_paths([path])
    assert report.rejected == 1 and report.loaded == 0
    messages = " ".join(p.message for r in report.rejections for p in r.problems)
    assert "no contact data" in messages
    assert catalogue.revisions.state("Q9001") is None


def test_a_minimal_person_record_is_accepted(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    path = write_ttl(
        "person.ttl",
        """
wd:Q9001 a wikibase:Item ; rdfs:label "Test Person"@en ;
  schema:description "fictional person for a test"@en ;
  wdt:P1 wd:Q11 ; wdt:P13 wd:Q334 .
""",
    )
    report = catalogue.load_paths([path])
    assert report.ok and report.created == 1


# --- hiding at the source -------------------------------------------------------------------
def test_hiding_empties_the_store_graph_and_the_index(app: Flask) -> None:
    cat = catalogue(app)
    graph = cat.ns.data_document(PERSON)
    assert cat.store.graph_triples(graph)
    live = cat.revisions.entity_count()
    _hide(cat)
    assert cat.revisions.entity_count() == live - 1  # the dataset description's count
    assert cat.revisions.state(PERSON).state == HIDDEN  # type: ignore[union-attr]
    assert cat.store.graph_triples(graph) == []
    assert cat.labels([PERSON], ["en"]) == {}
    index = cat.page_index
    index.catch_up()
    assert index.names([PERSON], ["en"]) == {}
    assert all(b.source != PERSON for b in index.backlinks(ORG, 100))
    # The log keeps the content (staff see it) and records who hid it and why.
    rev = cat.revisions.get(PERSON)
    assert rev is not None and rev.action == "hide" and NAME.encode() in (rev.snapshot or b"")
    assert rev.summary == "asked to be removed from the public registry"
    # Rebuilding the store from the log keeps it hidden.
    cat.reindex()
    assert cat.store.graph_triples(graph) == []


def test_unhiding_brings_everything_back(app: Flask) -> None:
    cat = catalogue(app)
    before = cat.store.graph_triples(cat.ns.data_document(PERSON))
    _hide(cat)
    rev = cat.privacy.unhide(PERSON, "test")
    assert rev.action == "unhide" and cat.revisions.state(PERSON).state == LIVE  # type: ignore[union-attr]
    after = cat.store.graph_triples(cat.ns.data_document(PERSON))
    doc = cat.ns.data_document(PERSON)
    # The same content; only the data document's header (version, date) moved on.
    assert {t for t in after if t[0] != doc} == {t for t in before if t[0] != doc}
    cat.page_index.catch_up()
    assert cat.page_index.names([PERSON], ["en"])[PERSON][1] == NAME


def test_the_feed_shows_a_delete_without_personal_data(app: Flask) -> None:
    cat = catalogue(app)
    _hide(cat)
    head = cat.revisions.last_id()
    activity = cat.feed.activity(head)
    assert activity.type == "Delete" and activity.entity == PERSON
    assert activity.summary == ""  # the reason is for staff, never published
    page = cat.feed.page(cat.feed.page_of(head))
    assert all(a.summary == "" for a in page.activities if a.entity == PERSON)


def test_the_public_gets_404_and_staff_a_banner(staff: Flask) -> None:
    cat = catalogue(staff)
    first = cat.revisions.history(PERSON)[-1].id
    _hide(cat)
    public = staff.test_client()
    for url in (
        f"/page/{PERSON}",
        f"/page/{PERSON}/history",
        f"/page/{PERSON}/links",
        f"/data/{PERSON}.ttl",
        f"/data/{PERSON}.json?revision={first}",
        f"/api/entity/{PERSON}",
        f"/api/entity/{PERSON}/history",
    ):
        response = public.get(url)
        assert response.status_code == 404, url
        assert NAME not in response.get_data(as_text=True), url
    client = staff.test_client()
    login(client, "eve")
    page = client.get(f"/page/{PERSON}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert NAME in html and "privacy-banner" in html
    assert "no-store" in page.headers["Cache-Control"]
    # The public still gets nothing afterwards (no cached staff page leaks).
    assert public.get(f"/page/{PERSON}").status_code == 404


def test_staff_hide_and_unhide_with_the_buttons(staff: Flask) -> None:
    client = staff.test_client()
    token = login(client, "eve")
    page = client.get(f"/page/{PERSON}").get_data(as_text=True)
    assert f"/privacy/{PERSON}/hide" in page
    refused = client.post(f"/privacy/{PERSON}/hide", data={"reason": "x"})
    assert refused.status_code == 403  # no CSRF token
    done = client.post(
        f"/privacy/{PERSON}/hide", data={"reason": "at their request", "csrf_token": token}
    )
    assert done.status_code == 303
    assert staff.test_client().get(f"/page/{PERSON}").status_code == 404
    page = client.get(f"/page/{PERSON}").get_data(as_text=True)
    assert f"/privacy/{PERSON}/unhide" in page
    client.post(f"/privacy/{PERSON}/unhide", data={"csrf_token": token})
    assert staff.test_client().get(f"/page/{PERSON}").status_code == 200
    # Non-persons get no button.
    assert "/privacy/" not in client.get(f"/page/{ORG}").get_data(as_text=True)


def test_the_json_api_hides_and_unhides(staff: Flask) -> None:
    anonymous = staff.test_client()
    assert anonymous.post(f"/api/entity/{PERSON}/hide", json={"reason": "r"}).status_code in (
        401,
        403,
    )
    client = staff.test_client()
    token = login(client, "eve")
    headers = {"X-CSRF-Token": token}
    response = client.post(f"/api/entity/{PERSON}/hide", json={"reason": "r"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["hidden"] is True
    history = client.get(f"/api/entity/{PERSON}/history").get_json()
    assert "hide" in str(history)
    response = client.post(f"/api/entity/{PERSON}/unhide", headers=headers)
    assert response.status_code == 200 and response.get_json()["hidden"] is False


def test_other_records_keep_the_bare_iri_without_the_label(client: FlaskClient, app: Flask) -> None:
    _hide(catalogue(app))
    event = client.get(f"/page/{EVENT}").get_data(as_text=True)
    assert PERSON in event and NAME not in event
    full = client.get(f"/data/{EVENT}.ttl?flavor=full").get_data(as_text=True)
    assert f"entity/{PERSON}>" in full or f"wd:{PERSON}" in full
    assert NAME not in full
    org = client.get(f"/page/{ORG}/links").get_data(as_text=True)
    assert NAME not in org


# --- bad input --------------------------------------------------------------------------------
def test_hiding_a_non_person_is_refused(app: Flask) -> None:
    with pytest.raises(BigtentError, match="not a person") as info:
        catalogue(app).privacy.hide(ORG, "reason", "test")
    assert info.value.status == 422


@pytest.mark.parametrize(
    ("call", "status", "text"),
    [
        (lambda c: c.privacy.hide("Q999999", "r", "t"), 404, "no entity Q999999"),
        (lambda c: c.privacy.hide("X1", "r", "t"), 400, "not an entity id"),
        (lambda c: c.privacy.hide(PERSON, "  ", "t"), 422, "give a reason"),
        (lambda c: c.privacy.unhide(PERSON, "t"), 409, "is not hidden"),
        (lambda c: c.privacy.erase("Q999999", "t"), 404, "no entity Q999999"),
        (lambda c: c.privacy.erase(ORG, "t"), 422, "not a person"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    app: Flask, call: Callable[[Catalogue], object], status: int, text: str
) -> None:
    with pytest.raises(BigtentError, match=text) as info:
        call(catalogue(app))
    assert info.value.status == status


def test_hiding_twice_erasing_twice_and_unhiding_an_erased_person(app: Flask) -> None:
    cat = catalogue(app)
    _hide(cat)
    with pytest.raises(BigtentError, match="already hidden"):
        _hide(cat)
    cat.privacy.erase(PERSON, "test")
    with pytest.raises(BigtentError, match="already erased") as info:
        cat.privacy.erase(PERSON, "test")
    assert info.value.status == 409
    with pytest.raises(BigtentError, match="erased: its data is gone") as info:
        cat.privacy.unhide(PERSON, "test")
    assert info.value.status == 410
    with pytest.raises(BigtentError, match="erased"):
        _hide(cat)


def test_a_hidden_person_is_not_edited_or_reloaded(
    app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat = catalogue(app)
    _hide(cat)
    with pytest.raises(BigtentError, match="hidden; unhide it before editing") as info:
        cat.editor.current(PERSON)
    assert info.value.status == 409
    head = cat.revisions.history(PERSON)[0].id
    with pytest.raises(BigtentError, match="hidden"):
        cat.editor.revert(PERSON, head, author="t")
    path = write_ttl(
        "again.ttl",
        f"""
wd:{PERSON} a wikibase:Item ; rdfs:label "{NAME}"@en ;
  schema:description "Fictional person (Bigtent demo data)"@en ; wdt:P1 wd:Q11 .
""",
    )
    report = cat.load_paths([path])
    assert report.rejected == 1 and report.loaded == 0
    assert "is hidden: unhide it first" in report.rejections[0].problems[0].message
    assert cat.revisions.state(PERSON).state == HIDDEN  # type: ignore[union-attr]


def test_api_bad_input(staff: Flask) -> None:
    client = staff.test_client()
    headers = {"X-CSRF-Token": login(client, "eve")}
    cases = [
        (f"/api/entity/{ORG}/hide", {"reason": "r"}, 422),
        ("/api/entity/Q999999/hide", {"reason": "r"}, 404),
        (f"/api/entity/{PERSON}/hide", {}, 422),
        (f"/api/entity/{PERSON}/hide", {"reason": 5}, 422),
        (f"/api/entity/{PERSON}/unhide", {}, 409),
    ]
    for url, body, status in cases:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == status, (url, body, response.get_data(as_text=True))
        assert response.get_json()["error"]


# --- the command line -------------------------------------------------------------------------
def test_cli_hide_unhide_erase(
    demo_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    data = tmp_path / "cli"
    shutil.copytree(demo_template, data)
    common = ["--data-dir", str(data), "--base-url", "https://bigtent.example.org/"]
    assert main([*common, "hide", PERSON, "--reason", "asked"]) == 0
    assert "hid Q1500" in capsys.readouterr().out
    assert main([*common, "hide", ORG, "--reason", "x"]) == 2
    assert "not a person" in capsys.readouterr().err
    assert main([*common, "unhide", PERSON]) == 0
    assert main([*common, "erase", PERSON]) == 0
    assert main([*common, "erase", PERSON]) == 2
    assert "already erased" in capsys.readouterr().err
    assert main([*common, "unhide", PERSON]) == 2
    assert "cannot be shown again" in capsys.readouterr().err
    store = ox.Store(str(data / "store"))
    assert not list(store.quads_for_pattern(None, None, ox.Literal(NAME, language="en")))


def test_records_pointing_at_a_hidden_person_still_validate(app: Flask, tmp_path: Path) -> None:
    from loader.base.resources import DEMO_DIR

    cat = catalogue(app)
    _hide(cat)
    cat.editor.forget_context()  # as after a restart: the context is built afresh
    text = (DEMO_DIR / "resources.ttl").read_text(encoding="utf-8")
    changed = tmp_path / "resources.ttl"
    changed.write_text(text.replace("meetup (fictional example)", "meet-up (fictional)"))
    report = cat.load_paths([changed])
    assert report.ok, [r.lines() for r in report.rejections]
    assert EVENT in report.entities
    # The event still names the person by IRI only.
    rev = cat.revisions.get(EVENT)
    assert rev is not None and f"entity/{PERSON}>".encode() in (rev.snapshot or b"")
