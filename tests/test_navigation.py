"""Finding your way: the site navigation on every page, the home page (search first,
record counts as browse counts them, recent changes), search suggestions and ids typed
into the search box."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from pages_support import Element, Page, squash

from loader.base.ids import RECORD_TYPES
from webapp.http.navigation import ENTRIES

#: Every public page kind (HTML), and the navigation entry it belongs to (None: none).
PUBLIC_PAGES = {
    "/": "home",
    "/browse/": "browse",
    "/browse/organisations": "browse",
    "/page/Q1001": None,
    "/page/Q1001/history": None,
    "/page/Q1001/links": None,
    "/search?q=wiki": None,
    "/peers": "peers",
    "/peers?capacity=Q334": "peers",
    "/network": "network",
    "/partnerships": "partnerships",
    "/query": "query",
    "/statistics": "statistics",
    "/recent-changes": "changes",
    "/dataset?format=html": "dataset",
    "/changes": None,
    "/dumps/": None,
    "/login": None,
    "/page/Q99999999": None,  # the 404 page
}
#: What each entry links to (the map once its area is registered).
HREFS = {
    "home": "/",
    "browse": "/browse/",
    "map": "/map",
    "network": "/network",
    "partnerships": "/partnerships",
    "peers": "/peers",
    "query": "/query",
    "statistics": "/statistics",
    "changes": "/recent-changes",
    "dataset": "/dataset",
}


def site_nav(html: str) -> Element:
    navs = Page(html).find("nav", class_="site-nav")
    assert len(navs) == 1, "one site navigation"
    return navs[0]


def test_every_public_page_has_the_navigation_with_every_link(
    app: Flask, client: FlaskClient
) -> None:
    expected = [HREFS[e.key] for e in ENTRIES if e.endpoint in app.view_functions]
    assert {"/", "/browse/", "/partnerships", "/query", "/recent-changes"} <= set(expected)
    assert ("/map" in expected) == ("map.map_page" in app.view_functions)
    for url, current in PUBLIC_PAGES.items():
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code in (200, 404), url
        nav = site_nav(response.get_data(as_text=True))
        assert nav.attrs.get("aria-label"), url
        links = [a for a in nav.children[0].children if a.tag == "li"]
        hrefs = [li.children[0].attrs["href"] for li in links]
        assert hrefs == expected, url
        marked = [
            li.children[0].attrs["href"]
            for li in links
            if li.children[0].attrs.get("aria-current") == "page"
        ]
        assert marked == ([HREFS[current]] if current else []), url


def test_the_navigation_is_translated(client: FlaskClient) -> None:
    client.get("/language?to=fr&next=/")
    nav = squash(site_nav(client.get("/").get_data(as_text=True)).text)
    for label in ("Accueil", "Parcourir", "Partenariats", "Modifications récentes"):
        assert label in nav


def _cards(html: str) -> dict[str, int]:
    """Record type slug -> count, from the cards of the home or browse page."""
    found = {}
    for a in Page(html).find("a"):
        match = re.fullmatch(r"/browse/([a-z]+)", a.attrs.get("href", ""))
        counts = [c for c in a.children if c.attrs.get("class") == "card-count"]
        if match and counts:
            found[match.group(1)] = int(counts[0].text.replace(",", "").replace("\u202f", ""))
    return found


def test_home_counts_the_record_types_as_browse_does(client: FlaskClient) -> None:
    home = client.get("/").get_data(as_text=True)
    browse = client.get("/browse/").get_data(as_text=True)
    counts = _cards(home)
    assert counts == _cards(browse)
    assert set(counts) <= set(RECORD_TYPES)
    assert {"organisations", "people", "networks", "partnerships", "capacities"} <= set(counts)
    listing = client.get("/browse/people").get_data(as_text=True)
    assert f"{counts['people']} results" in squash(Page(listing).find("p")[0].text)


def test_home_lists_no_internal_vocabularies(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    main = squash(Page(html).find("main")[0].text)
    # classes of controlled vocabularies (partnership status, capacity modality, …) and
    # the class table the home page used to be
    for vocabulary in ("partnership status", "capacity modality", "controlled vocabulary"):
        assert vocabulary not in main
    assert "Entities per class" not in main
    assert not Page(html).find("table")


def test_home_leads_with_search_with_suggestions(client: FlaskClient) -> None:
    page = Page(client.get("/").get_data(as_text=True))
    form = page.find("form", class_="search home-search")[0]
    assert form.attrs["action"] == "/search" and form.attrs.get("method") == "get"
    field = page.by_id("home-q")
    assert field.attrs["name"] == "q" and field.attrs["data-suggest"] == "/search/suggest"
    assert page.find("script", src="/static/suggest.js")
    headings = [squash(h.text) for h in page.find("h2")]
    assert headings.index("What the catalogue holds") > -1 and "Recent changes" in headings
    main = page.find("main")[0]
    assert main.children[2].tag == "form", "search comes right after the title and intro"


def test_home_shows_the_newest_changes_with_labels(app: Flask, client: FlaskClient) -> None:
    cat = app.extensions["bigtent"]
    newest = cat.revisions.recent(5)
    page = Page(client.get("/").get_data(as_text=True))
    items = page.find("ul", class_="recent")[0].children
    assert len(items) == 5
    names = cat.page_index.names([r.entity for r in newest], ["en"])
    for item, rev in zip(items, newest, strict=True):
        assert f"({rev.entity})" in item.text
        assert names[rev.entity][1] in item.text


def test_home_links_to_the_map_or_the_network(app: Flask, client: FlaskClient) -> None:
    page = Page(client.get("/").get_data(as_text=True))
    main = page.find("main")[0]
    hrefs = [e.attrs.get("href") for e in _descendants(main) if e.tag == "a"]
    if "map.map_page" in app.view_functions:
        assert page.find("section", class_="map-teaser"), "the map's teaser"
        assert any(h and h.startswith("/map") for h in hrefs)
    else:
        assert "/network" in hrefs


def _descendants(element: Element) -> list[Element]:
    found = []
    for child in element.children:
        found += [child, *_descendants(child)]
    return found


def test_suggestions_are_json_for_a_search_box(client: FlaskClient) -> None:
    body = client.get("/search/suggest?q=gouvern").get_json()
    assert body["query"] == "gouvern" and body["go"] is None
    assert "Q310" in [r["id"] for r in body["results"]]  # governance, by its French name
    first = body["results"][0]
    assert set(first) >= {"id", "label", "description", "url"}
    assert first["url"] == f"/page/{first['id']}"
    assert len(body["results"]) <= 8
    jump = client.get("/search/suggest?q=q 1001").get_json()
    assert jump["go"]["id"] == "Q1001" and jump["go"]["url"] == "/page/Q1001"
    assert client.get("/search/suggest?q=").get_json()["results"] == []
    assert client.get("/search/suggest?q=" + "x" * 201).status_code == 400


def test_an_id_in_the_search_box_goes_to_its_page(client: FlaskClient) -> None:
    for query in ("Q1000", "q1000", "Q 1000", " q1000 "):
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 303, query
        assert response.headers["Location"] == "/page/Q1000"
    assert client.get("/search?q=P12").headers["Location"] == "/page/P12"


def test_an_unknown_id_says_so_and_suggests_similar_ids(client: FlaskClient) -> None:
    response = client.get("/search?q=Q10010")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is no entity Q10010 in this catalogue." in html
    assert "0 results" not in html
    section = Page(html).find("section", class_="notice missing-entity")[0]
    assert "/page/Q1001" in [a.attrs["href"] for a in _descendants(section) if a.tag == "a"]


def test_a_hidden_person_id_is_like_an_unknown_one(app: Flask, client: FlaskClient) -> None:
    cat = app.extensions["bigtent"]
    cat.privacy.hide("Q1500", "asked to be hidden")
    response = client.get("/search?q=Q1500")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is no entity Q1500 in this catalogue." in html
    assert "Okonkwo" not in html
    assert client.get("/search/suggest?q=Q1500").get_json()["go"] is None
