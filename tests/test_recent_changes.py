"""The public list of recent changes, /recent-changes: newest first, labels, authors,
summaries, diff links, filters, paging; a hidden person's revisions absent; /changes
stays the machines' feed and points people to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, staff_app, staff_client

USERS = {"bob": "editor"}
ENTITY = "Q1200"
PERSON = "Q1500"  # Amara Okonkwo (fictional, demo people.ttl)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS)


def html(response: Any) -> BeautifulSoup:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def rows(doc: BeautifulSoup) -> list[Any]:
    return [r for r in doc.select("table.recent-changes tbody tr") if len(r.find_all("td")) > 1]


def revision_of(row: Any) -> int | None:
    """The revision a row's diff link shows (None for a creation)."""
    link = row.select_one("a.diff-link")
    if link is None:
        return None
    found = re.search(r"to=(\d+)", link["href"])
    assert found is not None
    return int(found.group(1))


def relabel(client: FlaskClient, token: dict[str, str], label: str) -> int:
    data = client.get(f"/api/entity/{ENTITY}").get_json()
    data.pop("modified")
    base = int(data.pop("revision"))
    data["labels"]["en"] = label
    saved = client.put(
        f"/api/entity/{ENTITY}",
        json={**data, "base_revision": base, "summary": f"call it {label}"},
        headers=token,
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    return int(saved.get_json()["revision"])


def test_newest_first_with_labels_authors_summaries_and_diffs(app: Flask) -> None:
    client, token = staff_client(app, "bob")
    first = relabel(client, token, "Renamed lab")
    second = relabel(client, token, "Renamed lab again")
    public = app.test_client()
    doc = html(public.get("/recent-changes"))
    shown = rows(doc)
    assert len(shown) == 50  # a page
    top = shown[0].get_text(" ", strip=True)
    assert "Renamed lab again" in top and f"({ENTITY})" in top  # by its label
    assert "bob" in top and "call it Renamed lab again" in top
    assert revision_of(shown[0]) == second and revision_of(shown[1]) == first
    times = [r.find("time")["datetime"] for r in shown]
    assert times == sorted(times, reverse=True)
    diff = shown[0].select_one("a.diff-link")["href"]
    assert diff == f"/page/{ENTITY}/diff?to={second}"
    assert "Renamed lab again" in public.get(diff).get_data(as_text=True)
    assert public.get("/recent-changes").headers.get("Cache-Control") != "private, no-store"


def test_filters_by_type_author_and_kind(app: Flask) -> None:
    client, token = staff_client(app, "bob")
    new = relabel(client, token, "Filtered lab")
    public = app.test_client()
    mine = rows(html(public.get("/recent-changes?author=bob")))
    assert [revision_of(r) for r in mine] == [new]
    assert "Filtered lab" in mine[0].get_text()
    people = rows(html(public.get("/recent-changes?type=people")))
    assert people
    person_ids = set(re.findall(r"\((Q\d+)\)", " ".join(r.get_text() for r in people)))
    cat = catalogue(app)
    classes = cat.page_index.values(person_ids, "P1")
    assert all(set(classes[p]) & {"Q2", "Q11"} for p in person_ids)
    edits = rows(html(public.get("/recent-changes?kind=edit")))
    assert [revision_of(r) for r in edits] == [new]
    created = rows(html(public.get("/recent-changes?kind=create&type=partnerships")))
    assert created and all(revision_of(r) is None for r in created)
    for bad in ("type=vocabularies", "kind=vandalism", "before=x", "author=" + "a" * 300, "x=1"):
        assert public.get(f"/recent-changes?{bad}").status_code == 400, bad


def test_pages_go_back_in_time(app: Flask) -> None:
    public = app.test_client()
    doc = html(public.get("/recent-changes"))
    older = doc.select_one("a[rel=next]")
    assert older is not None
    page_two = html(public.get(older["href"]))
    first_times = [r.find("time")["datetime"] for r in rows(doc)]
    second_times = [r.find("time")["datetime"] for r in rows(page_two)]
    assert second_times and max(second_times) <= min(first_times)
    before = int(re.findall(r"before=(\d+)", str(older["href"]))[0])
    newest_shown = catalogue(app).revisions.recent_matching(before=before, limit=1)[0]
    entity = newest_shown.entity
    assert f"({entity})" in rows(page_two)[0].get_text()
    assert page_two.find("a", string="Newest") is not None


def every_page(client: FlaskClient, url: str) -> str:
    """The text of every page of a list of changes, following "Older changes"."""
    texts = []
    doc = html(client.get(url))
    while True:
        texts.append(doc.get_text())
        older = doc.select_one("a[rel=next]")
        if older is None:
            return "\n".join(texts)
        doc = html(client.get(older["href"]))


def test_a_hidden_person_and_its_revisions_are_absent(app: Flask) -> None:
    cat = catalogue(app)
    public = app.test_client()
    assert f"({PERSON})" in every_page(public, "/recent-changes?type=people")
    cat.privacy.hide(PERSON, "asked to be hidden")
    for url in ("/recent-changes", "/recent-changes?type=people", "/recent-changes?kind=create"):
        text = every_page(public, url)
        assert PERSON not in text and "Okonkwo" not in text, url
        assert "asked to be hidden" not in text, url
    home = public.get("/").get_data(as_text=True)
    assert PERSON not in home and "Okonkwo" not in home


def test_the_feed_stays_for_machines_and_points_people_here(client: FlaskClient) -> None:
    feed = client.get("/changes", headers={"Accept": "text/turtle"})
    assert feed.status_code == 200 and feed.mimetype == "text/turtle"
    page = html(client.get("/changes", headers={"Accept": "text/html"}))
    assert page.find("a", href="/recent-changes") is not None
