"""The partnership network: /network, /network.json, /network.svg, and its layout."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loader.catalogue import Catalogue
from loader.discovery.network_layout import ring_layout
from webapp.public.vendor import package_version

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
DEMO_PARTNERSHIPS = {f"Q{n}" for n in range(1200, 1211)}
JSON = {"Accept": "application/json"}


def network(client: FlaskClient, query: str = "") -> dict[str, Any]:
    response = client.get("/network.json" + (f"?{query}" if query else ""), headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    data: dict[str, Any] = response.get_json()
    return data


def ids(data: dict[str, Any], kind: str) -> set[str]:
    return {n["id"] for n in data["nodes"] if n["kind"] == kind}


def test_whole_network_of_the_demo(client: FlaskClient) -> None:
    data = network(client)
    assert ids(data, "partnership") == DEMO_PARTNERSHIPS
    assert {"Q1000", "Q1001", "Q1002", "Q1020", "Q1021"} <= ids(data, "organisation")
    assert ids(data, "network")  # demo networks with their members
    edges = {(e["source"], e["target"], e["kind"]) for e in data["edges"]}
    assert ("Q1000", "Q1202", "participant") in edges
    assert ("Q1004", "Q1202", "participant") in edges
    assert any(kind == "member" for _, _, kind in edges)
    shown = {n["id"] for n in data["nodes"]}
    assert all(s in shown and t in shown for s, t, _ in edges)
    assert all(n["page"] == f"/page/{n['id']}" for n in data["nodes"])
    assert data["truncated"] is False
    q1205 = next(n for n in data["nodes"] if n["id"] == "Q1205")
    assert (q1205["activity"], q1205["tier"], q1205["start"]) == (["Q134"], ["Q141"], 2009)
    assert data["concepts"]["Q134"]["label"] == "technology development"


@pytest.mark.parametrize(
    ("query", "partnerships"),
    [
        ("activity=Q134", {"Q1203", "Q1205"}),
        ("activity=Q134&activity=Q136", {"Q1203", "Q1205", "Q1207"}),
        ("activity=Q134,Q136", {"Q1203", "Q1205", "Q1207"}),
        ("status=Q181", {"Q1208"}),
        ("tier=Q140", {"Q1209"}),
        ("activity=Q131&status=Q181", {"Q1208"}),
        (
            "from=2009&to=2009",
            {"Q1200", "Q1201", "Q1202", "Q1203", "Q1204", "Q1205", "Q1206", "Q1207"},
        ),  # started by 2009, not ended
        (
            "from=2030",
            {"Q1200", "Q1201", "Q1202", "Q1203", "Q1204", "Q1205", "Q1206", "Q1207"},
        ),  # no end time: still running
        ("to=2008", {"Q1200", "Q1202", "Q1203", "Q1204"}),  # started by 2008
        ("status=Q182", set()),  # active: no demo partnership has it
    ],
)
def test_filters(client: FlaskClient, query: str, partnerships: set[str]) -> None:
    data = network(client, query)
    assert ids(data, "partnership") == partnerships
    parties = {e["source"] for e in data["edges"] if e["kind"] == "participant"}
    assert ids(data, "organisation") | ids(data, "network") == parties


def test_limit_keeps_the_organisations_in_most_partnerships(
    client: FlaskClient, make_settings: Callable[..., Any], app: Flask
) -> None:
    data = network(client, "limit=1")
    assert ids(data, "organisation") == {"Q1000"}  # the Wikimedia Foundation: 6 partnerships
    assert data["truncated"] is True
    assert ids(data, "partnership") == {"Q1202", "Q1203", "Q1204", "Q1205", "Q1206", "Q1207"}
    assert client.get("/network.json?limit=1001", headers=JSON).status_code == 400


def test_setting_caps_the_organisations(make_app: Callable[..., Flask]) -> None:
    client = make_app(NETWORK_MAX_ORGANISATIONS=2).test_client()
    data = network(client)
    assert len(ids(data, "organisation") | ids(data, "network")) == 2
    assert data["truncated"] is True
    response = client.get("/network.json?limit=3", headers=JSON)
    assert response.status_code == 400
    assert "NETWORK_MAX_ORGANISATIONS" in response.get_json()["error"]


def test_people_never_appear_and_changes_show_after_the_recomputation(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    before = network(client)
    body = (
        'wd:Q5200 a wikibase:Item ; rdfs:label "Aardvark exchange"@en ; wdt:P1 wd:Q4 ; '
        'wdt:P5 wd:Q1000 , wd:Q1500 ; wdt:P7 wd:Q136 ; wdt:P9 "2012"^^xsd:gYear .'
    )
    assert cat.load_paths([write_ttl("new.ttl", body)]).ok
    assert network(client)["revision"] == before["revision"]  # the newest finished result
    cat.views.settle()  # … while one thread recomputes it
    after = network(client)
    assert after["revision"] > before["revision"]
    assert ids(after, "partnership") == ids(before, "partnership") | {"Q5200"}
    assert "Q1500" not in {n["id"] for n in after["nodes"]}  # a person: never a node
    assert {(e["source"], e["target"]) for e in after["edges"] if e["target"] == "Q5200"} == {
        ("Q1000", "Q5200")
    }
    assert "Q5200" in ids(network(client, "from=2012&to=2012"), "partnership")
    assert "Q5200" not in ids(network(client, "from=2009&to=2011"), "partnership")
    cat.delete("Q5200", reason="test")
    network(client)  # the previous result at once; one thread recomputes it
    cat.views.settle()
    assert "Q5200" not in ids(network(client), "partnership")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("activity=Q999999", "not one of the values"),
        ("activity=Q181", "not one of the values"),  # a status, not an activity type
        ("activity=banana", "not one of the values"),
        ("activity=%3Cscript%3Ealert(1)%3C/script%3E", "not one of the values"),
        ("tier=Q130", "not one of the values"),
        ("status=Q1", "not one of the values"),
        ("from=abc", "not a year"),
        ("from=-5", "not a year"),
        ("from=99999", "not a year"),
        ("to=999", "not a year"),
        ("from=2010&to=2000", "after"),
        ("from=2009&from=2010", "given 2 times"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("colour=red", "not a filter"),
        ("%3Cscript%3E=1", "not a filter"),
        ("activity=" + ",".join(["Q130"] * 51), "at most 50"),
        ("uselang=%3Cscript%3E", "language code"),
    ],
)
def test_bad_filters_are_400(client: FlaskClient, query: str, says: str) -> None:
    for path in ("/network.json", "/network", "/network.svg"):
        response = client.get(f"{path}?{query}", headers=JSON)
        assert response.status_code == 400, path
        assert says in response.get_json()["error"]
    html = client.get(f"/network?{query}").get_data(as_text=True)
    assert "<script>alert" not in html


def test_network_page_has_the_same_data_as_tables(client: FlaskClient, app: Flask) -> None:
    response = client.get("/network?activity=Q134")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    data = network(client, "activity=Q134")
    for node in data["nodes"]:
        assert f'href="/page/{node["id"]}"' in html
    assert 'name="activity" value="Q134" checked' in html
    assert 'data-src="/network.json?activity=Q134"' in html
    with app.app_context():
        version = package_version("cytoscape")
    assert version is not None
    script = f"/vendor/{version}/cytoscape.min.js"
    assert script in html
    asset = client.get(script)
    assert asset.status_code == 200
    assert b"cytoscape" in asset.data[:2000]
    with client.get("/static/network.js") as static:
        assert static.status_code == 200


def _svg(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    return root


def test_svg_picture_matches_the_json(client: FlaskClient) -> None:
    first = client.get("/network.svg?activity=Q131")
    assert first.status_code == 200
    assert first.mimetype == "image/svg+xml"
    assert client.get("/network.svg?activity=Q131").data == first.data  # deterministic
    root = _svg(first.data)
    assert root.find(f"{SVG}title") is not None
    links = {a.get("href") for a in root.iter(f"{SVG}a")}
    data = network(client, "activity=Q131")
    assert links == {f"https://bigtent.example.org/page/{n['id']}" for n in data["nodes"]}
    assert len(list(root.iter(f"{SVG}line"))) == len(data["edges"])


def test_readme_picture_shows_the_demo_network() -> None:
    picture = ROOT / "docs" / "network.svg"
    root = _svg(picture.read_bytes())
    links = {a.get("href", "") for a in root.iter(f"{SVG}a")}
    shown = {link.rsplit("/", 1)[-1] for link in links}
    assert shown >= DEMO_PARTNERSHIPS
    assert "docs/network.svg" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_ring_layout_is_deterministic_and_spread() -> None:
    nodes = [(f"Q{i}", "organisation") for i in range(1, 40)]
    nodes += [(f"Q{i}", "partnership") for i in range(100, 120)]
    nodes += [(f"Q{i}", "network") for i in range(200, 204)]
    edges = [(f"Q{1 + (i * 7) % 39}", f"Q{100 + i % 20}") for i in range(60)]
    edges += [(f"Q{i}", f"Q{200 + i % 4}") for i in range(1, 20)]
    placed = ring_layout(nodes, edges, 100.0)
    assert placed == ring_layout(nodes, edges, 100.0)
    assert set(placed) == {n for n, _ in nodes}
    for kind, radius in (("organisation", 86.0), ("partnership", 58.0), ("network", 28.0)):
        ring = [placed[n] for n, k in nodes if k == kind]
        assert all(math.isclose(math.hypot(p.x, p.y), radius) for p in ring)
        count = len(ring)
        closest = min(
            math.dist((a.x, a.y), (b.x, b.y)) for i, a in enumerate(ring) for b in ring[i + 1 :]
        )
        chord = 2 * radius * math.sin(math.pi / count)
        assert math.isclose(closest, chord, rel_tol=1e-6)  # evenly spread: nothing overlaps


def test_layout_puts_partners_near_each_other() -> None:
    # Two separate groups: each organisation's partnerships end up on its side.
    nodes = [(f"Q{i}", "organisation") for i in range(1, 9)]
    nodes += [(f"Q{i}", "partnership") for i in range(100, 104)]
    edges = [("Q1", "Q100"), ("Q2", "Q100"), ("Q5", "Q101"), ("Q6", "Q101")]
    edges += [("Q3", "Q102"), ("Q4", "Q102"), ("Q7", "Q103"), ("Q8", "Q103")]
    placed = ring_layout(nodes, edges, 100.0)
    for org, partnership in edges:
        a, b = placed[org].angle, placed[partnership].angle
        gap = min(abs(a - b), math.tau - abs(a - b))
        assert gap < math.pi / 2, (org, partnership)


def test_json_is_cached_and_conditional(client: FlaskClient) -> None:
    first = client.get("/network.json", headers=JSON)
    etag = first.headers["ETag"]
    again = client.get("/network.json", headers={**JSON, "If-None-Match": etag})
    assert again.status_code == 304
    other = client.get("/network.json?activity=Q130", headers=JSON)
    assert other.headers["ETag"] != etag
    assert re.search(r"max-age=\d+", first.headers["Cache-Control"])
