"""What links here: an entity with thousands of incoming statements, paged completely,
without duplicates, in a stable order."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE, close_app, open_app, sync_app
from flask import Flask
from flask.testing import FlaskClient
from pages_support import Page, squash

from loader.base.namespaces import relative_turtle_prefixes
from loader.base.settings import load_settings
from loader.catalogue import Catalogue
from loader.storage.page_index import num
from webapp.public.pages import BACKLINKS_PER_PAGE

PEOPLE = 2600  # each states the capacity once; every tenth also needs it, with a qualifier
TARGET = "Q5000"


def _records() -> str:
    lines = [
        relative_turtle_prefixes(),
        f'wd:{TARGET} a wikibase:Item ; rdfs:label "Popular skill"@en, "Savoir populaire"@fr, '
        '"Saber popular"@es, "Saber popular"@pt ; wdt:P1 wd:Q5 ; wdt:P20 wd:Q300 .',
    ]
    for i in range(PEOPLE):
        qid = 10_000 + i
        lines.append(
            f'wd:Q{qid} a wikibase:Item ; rdfs:label "Person {i:04d}"@en ; '
            'schema:description "fictional person for a test"@en ; '
            f"wdt:P1 wd:Q11 ; wdt:P13 wd:{TARGET} ."
        )
        if i % 10 == 0:
            lines[-1] = lines[-1][:-2] + f" ; p:P15 [ ps:P15 wd:Q320 ; pq:P50 wd:Q{qid} ] ."
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def data_dir(ontology_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ontology plus one capacity stated by PEOPLE people (loaded once per module)."""
    target = tmp_path_factory.mktemp("backlinks") / "data"
    shutil.copytree(ontology_template, target)
    records = target.parent / "people.ttl"
    records.write_text(_records(), encoding="utf-8")
    settings = load_settings(
        env={}, overrides={"DATA_DIR": str(target), "BASE_URL": BASE, "LOAD_WORKERS": 1}
    )
    with Catalogue.open(settings) as cat:
        report = cat.load_paths([records])
        assert report.ok and report.loaded == PEOPLE + 1
    return target


@pytest.fixture(scope="module")
def backlinks_app(data_dir: Path, store_backend: dict[str, Any]) -> Iterator[Flask]:
    """A web app over that catalogue (read only here), on each store backend."""
    values = {"DATA_DIR": str(data_dir), "BASE_URL": BASE, "LOAD_WORKERS": 1, **store_backend}
    app = open_app(load_settings(env={}, overrides=values), "backlinks")
    yield app
    close_app(app, "backlinks")


@pytest.fixture
def links_client(backlinks_app: Flask) -> FlaskClient:
    return sync_app(backlinks_app, "backlinks").test_client()


def expected(cat: Catalogue) -> set[tuple[str, str]]:
    """(source, statement) of every statement stating the target, from the store."""
    rows = cat.select(
        "SELECT ?st ?t WHERE { GRAPH ?g { ?st ps:P13 ?t } }", {"t": cat.ns.entity(TARGET)}
    )
    found = set()
    for row in rows:
        local = row["st"].value.removeprefix(cat.ns["wds"])
        found.add((local.split("-")[0], local))
    return found


def rows_of(html: str) -> list[tuple[str, str, str]]:
    """(source, statement anchor, kind) of each row of a links page."""
    page = Page(html)
    found = []
    for tr in page.find("tr"):
        if "tbody" not in tr.parents:
            continue
        link = tr.children[0].children[0]
        source, _, anchor = link.attrs["href"].removeprefix("/page/").partition("#")
        found.append((source, anchor, tr.children[2].text.strip()))
    return found


def test_every_backlink_once_in_a_stable_order(
    links_client: FlaskClient, backlinks_app: Flask
) -> None:
    cat: Catalogue = backlinks_app.extensions["bigtent"]
    first = links_client.get(f"/page/{TARGET}/links")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    total = PEOPLE
    assert f"{total:,} statements" in html
    pages = -(-total // BACKLINKS_PER_PAGE)
    assert f"Page 1 of {pages}" in re.sub(r"\s+", " ", html)
    seen: list[tuple[str, str, str]] = []
    for page in range(1, pages + 1):
        response = links_client.get(f"/page/{TARGET}/links?page={page}")
        assert response.status_code == 200
        rows = rows_of(response.get_data(as_text=True))
        assert len(rows) == (BACKLINKS_PER_PAGE if page < pages else total - len(seen))
        seen += rows
    assert len(seen) == len(set(seen)) == total  # no duplicates, nothing missing
    assert {(s, a) for s, a, _ in seen} == expected(cat)
    assert all(kind == "statement" for _, _, kind in seen)
    assert [num(s) for s, _, _ in seen] == sorted(num(s) for s, _, _ in seen)  # stable order
    again = rows_of(links_client.get(f"/page/{TARGET}/links?page=7").get_data(as_text=True))
    assert again == seen[6 * BACKLINKS_PER_PAGE : 7 * BACKLINKS_PER_PAGE]
    assert links_client.get(f"/page/{TARGET}/links?page={pages + 1}").status_code == 404


def test_qualifiers_are_backlinks_too(links_client: FlaskClient) -> None:
    # Q10000 names itself as "together with" (P50) on its capacity-needed statement
    rows = rows_of(links_client.get("/page/Q10000/links").get_data(as_text=True))
    assert [(s, k) for s, _, k in rows] == [("Q10000", "qualifier")]


def test_entity_page_shows_the_count_and_the_first_few(links_client: FlaskClient) -> None:
    page = Page(links_client.get(f"/page/{TARGET}").get_data(as_text=True))
    [preview] = page.find("ul", class_="backlinks")
    assert len([c for c in preview.children if c.tag == "li"]) == 5
    [counts] = page.find("ul", class_="link-counts")  # statements, qualifiers, refs apart
    assert squash(counts.text) == f"{PEOPLE:,} statements"
    assert f"/page/{TARGET}/links" in {a.attrs["href"] for a in page.find("a")}


def test_index_pages_cover_everything(backlinks_app: Flask) -> None:
    cat: Catalogue = backlinks_app.extensions["bigtent"]
    index = cat.page_index
    index.catch_up()
    assert index.backlink_count(TARGET) == PEOPLE
    walked = []
    for offset in range(0, PEOPLE, 333):
        walked += index.backlinks(TARGET, 333, offset)
    assert len({(b.source, b.statement) for b in walked}) == PEOPLE
    assert {(b.source, b.statement) for b in walked} == expected(cat)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "99999999999"])
def test_bad_page_numbers_are_refused(links_client: FlaskClient, page: str) -> None:
    response = links_client.get(
        f"/page/{TARGET}/links?page={page}", headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "page" in response.get_json()["error"]
