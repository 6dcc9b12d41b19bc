"""Browse pages: classes with counts, members with paging and combinable facets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pages_support import Page, squash

from loader.catalogue import Catalogue
from loader.discovery import browse as listing_data
from loader.storage.page_index import num
from webapp.public import browse


def members(html: str) -> list[str]:
    """Entity ids listed as results."""
    page = Page(html)
    [listing] = page.find("ol", class_="results")
    return [li.children[0].attrs["href"].removeprefix("/page/") for li in listing.children]


def facet_counts(html: str, prop: str) -> dict[str, int]:
    """value id → count of one facet."""
    found = {}
    for a in Page(html).find("a", **{"data-facet": prop}):
        [count] = [c for c in a.children if c.attrs.get("class") == "count"]
        found[a.attrs["data-value"]] = int(count.text.replace(",", ""))
    return found


def sparql_classes(cat: Catalogue, cls: str) -> set[str]:
    """``cls`` and its subclasses, from the store."""
    found, todo = {cls}, [cls]
    while todo:
        rows = cat.select(
            "SELECT ?c ?super WHERE { GRAPH ?g { ?c wdt:P2 ?super } }",
            {"super": cat.ns.entity(todo.pop())},
        )
        for row in rows:
            sub = cat.ns.entity_id(row["c"].value) or ""
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def sparql_members(cat: Catalogue, cls: str, filters: dict[str, list[str]]) -> set[str]:
    """Instances of ``cls`` (or its subclasses) having every filter value, from the store."""
    members: set[str] = set()
    for kind in sparql_classes(cat, cls):
        where = "GRAPH ?g { ?e wdt:P1 ?cls }"
        bindings = {"cls": cat.ns.entity(kind)}
        variables = ["?cls"]
        for n, (prop, value) in enumerate((p, v) for p, vs in filters.items() for v in vs):
            where += f" GRAPH ?g{n} {{ ?e ?p{n} ?v{n} }}"
            bindings[f"p{n}"] = cat.ns.predicate("wdt", prop)
            bindings[f"v{n}"] = cat.ns.entity(value)
            variables += [f"?p{n}", f"?v{n}"]
        rows = cat.select(f"SELECT DISTINCT ?e {' '.join(variables)} WHERE {{ {where} }}", bindings)
        members |= {cat.ns.entity_id(r["e"].value) or "" for r in rows}
    return members


def test_classes_are_listed_with_counts(client: FlaskClient, app: Flask) -> None:
    response = client.get("/browse/")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    cards = {
        a.attrs["href"]: squash(a.text)
        for a in page.find("a")
        if "li" in a.parents and "ul" in a.parents
    }
    cat: Catalogue = app.extensions["bigtent"]
    partnerships = len(sparql_members(cat, "Q4", {}))
    assert cards["/browse/partnerships"].endswith(str(partnerships))
    people = len(sparql_members(cat, "Q2", {}))  # fictional people are people
    assert cards["/browse/people"].endswith(str(people))


def test_members_of_a_class_and_its_subclasses(client: FlaskClient, app: Flask) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    html = client.get("/browse/organisations").get_data(as_text=True)
    listed = members(html)
    assert set(listed) == sparql_members(cat, "Q1", {})  # networks too
    assert client.get("/browse/Q1").get_data(as_text=True) == html  # slug or id
    assert facet_counts(html, "P1") == {"Q1": 37, "Q3": 5}  # instance of is a facet here


@pytest.mark.parametrize(
    "filters",
    [
        {"P7": ["Q131"]},
        {"P7": ["Q131"], "P25": ["Q141"]},
        {"P7": ["Q131", "Q135"]},
        {"P29": ["Q181"]},
    ],
)
def test_facet_filters_combine(
    client: FlaskClient, app: Flask, filters: dict[str, list[str]]
) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    query = "&".join(f"{p}={v}" for p, vs in filters.items() for v in vs)
    response = client.get(f"/browse/partnerships?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    wanted = sparql_members(cat, "Q4", filters)
    assert wanted and set(members(html)) == wanted
    # each facet count says how many of the listed entities have that value
    for value, count in facet_counts(html, "P24").items():
        assert count == len(sparql_members(cat, "Q4", {**filters, "P24": [value]}))


def test_facet_counts_match_the_store(client: FlaskClient, app: Flask) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    html = client.get("/browse/partnerships").get_data(as_text=True)
    counts = facet_counts(html, "P7")
    assert counts and all(
        n == len(sparql_members(cat, "Q4", {"P7": [value]})) for value, n in counts.items()
    )


def test_paging_covers_every_member_once(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browse, "MEMBERS_PER_PAGE", 7)
    cat: Catalogue = app.extensions["bigtent"]
    everyone = sparql_members(cat, "Q5", {})
    seen: list[str] = []
    page = 1
    while True:
        response = client.get(f"/browse/capacities?page={page}")
        if response.status_code == 404:
            break
        seen += members(response.get_data(as_text=True))
        page += 1
    assert page - 1 == -(-len(everyone) // 7)
    assert len(seen) == len(set(seen)) and set(seen) == everyone


def test_members_are_sorted_by_label(client: FlaskClient, app: Flask) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    listed = members(client.get("/browse/partnerships").get_data(as_text=True))
    names = cat.page_index.names(listed, ["en"])
    labels = [names[e][1].casefold() for e in listed]
    assert labels == sorted(labels)


def test_new_records_appear_in_browse_at_once(
    client: FlaskClient, app: Flask, write_ttl: object
) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    body = (
        'wd:Q5100 a wikibase:Item ; rdfs:label "Aardvark Archive"@en ; wdt:P1 wd:Q1 ; '
        "wdt:P12 wd:Q1401 ."
    )
    assert cat.load_paths([write_ttl("new.ttl", body)]).ok
    html = client.get("/browse/organisations?P12=Q1401").get_data(as_text=True)
    assert members(html)[0] == "Q5100"
    cat.delete("Q5100", reason="test")
    assert "Q5100" not in members(
        client.get("/browse/organisations?P12=Q1401").get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/browse/nothing-here", 404, "not a class"),
        ("/browse/Q999999", 404, "no instances"),
        ("/browse/Q1401", 404, "no instances"),  # an entity, but not a class
        ("/browse/partnerships?P7=Q999999", 400, "no entity"),
        ("/browse/partnerships?P7=banana", 400, "no entity"),
        ("/browse/partnerships?P999=Q131", 400, "not a facet"),
        ("/browse/partnerships?P5=Q1001", 400, "not a facet"),  # participant: not controlled
        ("/browse/partnerships?status=active", 400, "not a facet"),
        ("/browse/partnerships?page=0", 400, "page"),
        ("/browse/partnerships?page=abc", 400, "page"),
        ("/browse/partnerships?page=-1", 400, "page"),
        ("/browse/partnerships?page=2", 404, "page 2 does not exist"),
        (
            "/browse/partnerships?" + "&".join(f"P7=Q{130 + i % 7}" for i in range(13)),
            400,
            "at most",
        ),
        ("/browse/partnerships?uselang=%3Cscript%3E", 400, "language code"),
    ],
)
def test_bad_browse_input(client: FlaskClient, path: str, status: int, says: str) -> None:
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert says in response.get_json()["error"]
    assert client.get(path).status_code == status  # and as HTML


def test_entities_in_two_listed_classes_count_once(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    body = (
        'wd:Q5101 a wikibase:Item ; rdfs:label "Hybrid Collective"@en ; '
        "wdt:P1 wd:Q1, wd:Q3 ; wdt:P12 wd:Q1401 ; wdt:P23 wd:Q100 ."
    )
    assert cat.load_paths([write_ttl("hybrid.ttl", body)]).ok
    html = client.get("/browse/organisations").get_data(as_text=True)
    everyone = sparql_members(cat, "Q1", {})
    assert f"{len(everyone)} results" in html
    assert facet_counts(html, "P1") == {"Q1": 38, "Q3": 6}
    germany = len(sparql_members(cat, "Q1", {"P12": ["Q1401"]}))
    assert facet_counts(html, "P12")["Q1401"] == germany
    page = client.get("/browse/organisations?P12=Q1401").get_data(as_text=True)
    assert set(members(page)) == sparql_members(cat, "Q1", {"P12": ["Q1401"]})


def test_filtered_facet_counts_read_each_members_facts(app: Flask) -> None:
    """Regression: SQLite read every fact of the facet properties and probed the
    members for each (0.65 s a page at 1M records); each member's facts are read
    through fact_num instead."""
    index = app.extensions["bigtent"].page_index
    classes = listing_data.subclasses(index, "Q4")
    # The facet properties of generated partnerships: with these five (not the demo's
    # nine) in its IN list, SQLite chose the scan.
    props = [num(p) for p in ("P7", "P24", "P25", "P29", "P32")]
    sql, params = listing_data.filtered_counts_sql(index, classes, {"P7": ["Q130"]}, props)
    plan = [row[3] for row in index.db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert any("fact_num (num=? AND prop=?)" in step for step in plan), plan
    assert not any(step.endswith("PRIMARY KEY (prop=?)") for step in plan), plan


@pytest.mark.parametrize(
    ("cls", "filters"),
    [
        ("Q1", {}),  # organisations and networks: two classes
        ("Q1", {"P12": ["Q1401"]}),
        ("Q4", {"P7": ["Q131"]}),
        ("Q5", {}),
    ],
)
def test_pages_read_from_each_class_in_label_order_equal_the_sorted_members(
    app: Flask, monkeypatch: pytest.MonkeyPatch, cls: str, filters: dict[str, list[str]]
) -> None:
    """The large-class path (each class's members in label order) pages exactly as the
    small-class one (every member sorted)."""
    index = app.extensions["bigtent"].page_index
    index.catch_up()
    classes = listing_data.subclasses(index, cls)

    def pages(threshold: int) -> list[list[str]]:
        monkeypatch.setattr(listing_data, "SCAN_IN_ORDER_FROM", threshold)
        found: list[list[str]] = []
        offset = 0
        while True:
            page = listing_data.listing(index, classes, filters, [], limit=3, offset=offset)
            if not page.members:
                return found
            found.append(page.members)
            offset += 3

    sorted_all = pages(10**9)
    assert sorted_all and sum(map(len, sorted_all)) > 3
    assert pages(0) == sorted_all
