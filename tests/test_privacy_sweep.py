"""The sweep: a person hidden by staff appears in no public output (tests/privacy_sweep.py
lists them, and every route of the app is either swept or listed as unable to show a
person), once one regeneration cycle has run (dumps rewritten, SPARQL snapshot
refreshed); caches filled before the hide must not leak it either, nor may a client's
copy be revalidated (304) after the hide."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import close_app, open_app, sync_app
from flask import Flask
from flask.testing import FlaskClient
from privacy_sweep import (
    EVENT,
    NOT_SWEPT,
    PERSON,
    PUBLIC_POSTS,
    PUBLIC_URLS,
    Answer,
    body_of,
    confirms,
    expand,
    fetch,
    leaks,
    sparql_url,
    swept_urls,
    unswept,
)
from staff_support import FAST, PASSWORD, catalogue, login
from werkzeug.routing import Map, Rule

from loader.base.settings import load_settings
from loader.publish.dumps import DumpScheduler, dumps_dir
from loader.staff.accounts import EDITOR

BASE = "https://bigtent.example.org/"
#: An id no entity ever had: what the public gets for it, it must get for the hidden one.
UNKNOWN = "Q987654"
#: Written before the hide: an alias, a description and a summary in the person's history.
ALIAS = "A. Okonkwo"
DESCRIPTION = (
    "Fictional person (Bigtent demo data): volunteer trainer for new Wikipedia editors in Lagos"
)
SUMMARY = "Amara Okonkwo asked for her short name to be added"
#: ... and a reference, whose node has a document of its own (/reference/<hash>)
SOURCE = "https://example.org/people/amara-okonkwo"


@pytest.fixture(scope="module")
def hidden_app(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory, store_backend: dict[str, Any]
) -> Iterator[tuple[Flask, dict[str, Answer]]]:
    """The demo catalogue served in-process, the person and an event listing it edited
    (so both have diffs), the person hidden through the edit API after every output was
    read once (so caches hold it), then one regeneration cycle. Also yields what each
    output that showed the person answered before the hide."""
    data = tmp_path_factory.mktemp("sweep") / "data"
    shutil.copytree(demo_template, data)
    settings = load_settings(
        env={},
        overrides={
            "DATA_DIR": str(data),
            "BASE_URL": BASE,
            "LOAD_WORKERS": 1,
            "DUMP_INTERVAL": 0,
            # Small feed pages: the one holding the person's edit is complete (immutable)
            # before the hide, and must still not be confirmed (304) after it.
            "FEED_PAGE_SIZE": 2,
            **FAST,
            **store_backend,
        },
    )
    app = open_app(settings, "demo")
    cat = catalogue(app)
    cat.accounts.add_user("eve", EDITOR, PASSWORD)
    staff = app.test_client()
    token = login(staff, "eve")
    person = _record(staff, PERSON)
    person["aliases"]["en"] = [ALIAS]
    person["descriptions"]["en"] = DESCRIPTION
    person["statements"][0]["references"] = [[{"property": "P18", "value": SOURCE}]]
    _save(staff, token, person, SUMMARY)
    event = _record(staff, EVENT)
    event["descriptions"]["en"] = "A regional meetup"
    _save(staff, token, event, "shorter description")
    cat.dump()
    public = app.test_client()
    before = {
        url: answer
        for url, form in swept_urls(cat)
        if leaks((answer := fetch(public, url, form)).text)
    }
    # The sweep can fail: before hiding, the person shows in each kind of output.
    for needle in (
        *("/page/", "/search", "/data/", "/sparql?", "/dumps/bigtent", "/browse/"),
        *("/peers?", "/api/peers?", "/reconcile?"),
        *(f"/page/{PERSON}/history", f"/page/{PERSON}/diff?", f"/page/{EVENT}/diff?"),
        *(f"/api/entity/{PERSON}/diff?", "diff?from", "&format=json", "/reference/"),
    ):
        assert any(needle in u for u in before), f"no {needle} output showed the person"
    for path, form in PUBLIC_POSTS:
        assert leaks(fetch(public, path, form).text), f"POST {path} {form} did not show them"
    hid = staff.post(
        f"/api/entity/{PERSON}/hide",
        json={"reason": "asked to leave the public registry"},
        headers={"X-CSRF-Token": token},
    )
    assert hid.status_code == 200, hid.get_data(as_text=True)
    # One regeneration cycle: the dumps are rewritten, SPARQL gets a new snapshot.
    assert DumpScheduler(cat, dumps_dir(settings), 0.0).run_once() is not None
    cat.query_service.refresh()
    yield app, before
    close_app(app, "demo")


def _record(client: FlaskClient, entity: str) -> dict[str, Any]:
    """The entity's JSON model from the edit API, ready to change and save."""
    record: dict[str, Any] = client.get(f"/api/entity/{entity}").get_json()
    record["base_revision"] = record.pop("revision")
    record.pop("modified")
    return record


def _save(client: FlaskClient, token: str, record: dict[str, Any], summary: str) -> None:
    saved = client.put(
        f"/api/entity/{record['id']}",
        json={**record, "summary": summary},
        headers={"X-CSRF-Token": token},
    )
    assert saved.status_code == 200 and not saved.get_json()["unchanged"], saved.get_json()


@pytest.fixture
def hidden(hidden_app: tuple[Flask, dict[str, Answer]]) -> Flask:
    """The module's app, the shared Virtuoso resynced if a test in between changed it."""
    return sync_app(hidden_app[0], "sweep")


@pytest.fixture
def seen(hidden_app: tuple[Flask, dict[str, Answer]]) -> dict[str, Answer]:
    """What each output that showed the person answered before the hide."""
    return hidden_app[1]


@pytest.mark.parametrize("template", PUBLIC_URLS)
def test_a_hidden_person_appears_in_no_public_output(
    hidden: Flask, seen: dict[str, Answer], template: str
) -> None:
    client = hidden.test_client()
    for url in expand(template, catalogue(hidden)):
        found = leaks(body_of(client, url))
        assert not found, f"{url} shows the hidden person: {found}"
        etag = seen[url].etag if url in seen else None
        if etag is not None:  # a copy kept by a browser or proxy must not be confirmed
            assert not confirms(client, url, etag), f"{url} confirms the copy showing them"


@pytest.mark.parametrize(("path", "form"), PUBLIC_POSTS)
def test_no_public_post_shows_a_hidden_person(
    hidden: Flask, path: str, form: dict[str, str]
) -> None:
    client = hidden.test_client()
    for url in expand(path, catalogue(hidden)):
        found = leaks(fetch(client, url, form).text)
        assert not found, f"POST {url} {form} shows the hidden person: {found}"


def test_every_route_is_swept_or_cannot_show_a_person(hidden: Flask) -> None:
    # A new route fails here until the sweep requests it or NOT_SWEPT says why it need not.
    missing = unswept(hidden.url_map, catalogue(hidden))
    assert not missing, f"add these routes to tests/privacy_sweep.py: {missing}"
    rules = {
        f"{method} {rule.rule}"
        for rule in hidden.url_map.iter_rules()
        for method in rule.methods or ()
    }
    stale = sorted(set(NOT_SWEPT) - rules)
    assert not stale, f"NOT_SWEPT lists routes the app does not have: {stale}"


def test_the_route_check_is_able_to_fail(hidden: Flask) -> None:
    # The app's rules plus one new public route, in a map of their own (the app is shared).
    rules = [rule.empty() for rule in hidden.url_map.iter_rules()]
    grown = Map([*rules, Rule("/page/<entity_id>/secrets", endpoint="s", methods=["GET"])])
    assert unswept(grown, catalogue(hidden)) == ["GET /page/<entity_id>/secrets"]


_FILL = {"entity_id": PERSON, "class_id": "Q11", "name": "eve", "token": "0" * 32}


@pytest.mark.parametrize("key", [k for k, why in NOT_SWEPT.items() if "staff write" in why])
def test_staff_writes_refuse_the_public(hidden: Flask, key: str) -> None:
    # NOT_SWEPT says the public is refused before anything is read: it is.
    method, rule = key.split(" ", 1)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: _FILL.get(m.group(1), "x"), rule)
    client = hidden.test_client()
    client.get("/api/session")  # an anonymous session, as a browser has
    response = client.open(url, method=method, data={"reason": "x", "summary": "x"})
    text = response.get_data(as_text=True)
    # 404 where the route answers for a hidden person before it asks who is writing
    assert response.status_code in (400, 401, 403, 404), (key, response.status_code, text[:300])
    assert not leaks(text), key


def test_the_public_gets_the_same_answer_for_a_hidden_person_as_for_an_unknown_id(
    hidden: Flask,
) -> None:
    cat = catalogue(hidden)
    assert cat.revisions.state(UNKNOWN) is None
    client = hidden.test_client()
    different = []
    for url, form in swept_urls(cat):
        if PERSON not in url:
            continue
        mine = fetch(client, url, form)
        other = fetch(client, url.replace(PERSON, UNKNOWN), form)
        theirs = other.text.replace(UNKNOWN, PERSON)
        if mine.status < 400 and other.status < 400:
            # Both answer (SPARQL): other records keep pointing at the hidden person's IRI
            # (never its label), so a query about links may tell the two ids apart.
            continue
        ours, unknown = _unsuggested(mine.text), _unsuggested(theirs)
        if (mine.status, ours) != (other.status, unknown):
            pairs = enumerate(zip(ours, unknown, strict=False))
            at = next((i for i, (a, b) in pairs if a != b), 0)
            shown = f"{ours[at:][:120]!r} / unknown id: {unknown[at:][:120]!r}"
            different.append(f"{url}: {mine.status} / unknown id {other.status}: {shown}")
    assert not different, "\n".join(different)


def _unsuggested(text: str) -> str:
    """An answer without the ids it suggests: which live ids are one keystroke away
    differs from id to id, not between a hidden and an unknown one."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        body.pop("suggestions", None)
        text = json.dumps(body, sort_keys=True)
    text = re.sub(r'<section aria-labelledby="suggestions-h">.*?</section>', "", text, flags=re.S)
    text = text.replace(" Perhaps you meant one of those below.", "")
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("/page/{person}", "html"),
        ("/page/{person}/history", "html"),
        ("/page/{person}/diff?{edit}", "html"),
        ("/page/{person}/diff?{edit}", "json"),
    ],
)
def test_staff_still_see_the_hidden_person(hidden: Flask, path: str, fmt: str) -> None:
    client = hidden.test_client()
    login(client, "eve")
    edit = catalogue(hidden).revisions.history(PERSON)[1]  # the edit before the hide
    url = path.format(person=PERSON, edit=f"from={edit.parent}&to={edit.id}&format={fmt}")
    response = client.get(url)
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text[:500]
    assert ALIAS in text if "diff" in path else leaks(text)
    if fmt == "html":
        assert "Hidden person." in text  # the banner


def test_the_audit_view_is_for_staff_only(hidden: Flask) -> None:
    public = hidden.test_client()
    for url in ("/admin/changes", "/admin/changes?format=json"):
        response = public.get(url, headers={"Accept": "application/json"})
        assert response.status_code == 401, url
    staff = hidden.test_client()
    login(staff, "eve")
    changes = staff.get("/admin/changes?format=json").get_json()["changes"]
    assert any(c["entity"] == PERSON and c["summary"] == SUMMARY for c in changes)


def test_the_sparql_queries_find_the_person_when_visible(app: Flask) -> None:
    # The sweep's SPARQL queries are able to fail: on the demo they find the person.
    client = app.test_client()
    for name in ("label", "graph", "labels-filled", "describe"):
        fmt = "ttl" if name == "describe" else "json"
        assert leaks(body_of(client, sparql_url(name, fmt))), name
