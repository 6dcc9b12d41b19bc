"""The map: /map (SVG without JavaScript, tables), /map.geojson (RFC 7946), the small maps
of entity pages, the land outlines, and that people appear only as counts."""

from __future__ import annotations

import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient

from loader.catalogue import Catalogue
from loader.discovery.world_outline import WORLD, View, cut_at_antimeridian, fit, read_topojson

GEOJSON = "application/geo+json"
SVG = "{http://www.w3.org/2000/svg}"
WKT = "<http://www.opengis.net/ont/geosparql#wktLiteral>"
PERSON = "Q1500"  # fictional; capacities in Nigeria (Q1411) and Ghana (Q1421)

#: Records with coordinates: two organisations and a network, a partnership between the
#: organisations (technology development, 2010), and Nigeria given a capital.
FIXTURE = f"""
wd:Q5301 a wikibase:Item ; rdfs:label "Berlin map club"@en , "Club cartographique"@fr ;
  wdt:P1 wd:Q1 ; wdt:P12 wd:Q1401 ; wdt:P53 "Point(13.405 52.52)"^^{WKT} .
wd:Q5302 a wikibase:Item ; rdfs:label "Nairobi map club"@en ;
  wdt:P1 wd:Q1 ; wdt:P12 wd:Q1410 ; wdt:P53 "Point(36.8219 -1.2921)"^^{WKT} .
wd:Q5303 a wikibase:Item ; rdfs:label "Fiji map network"@en ;
  wdt:P1 wd:Q3 ; wdt:P23 wd:Q100 ; wdt:P53 "Point(178.4419 -18.1416)"^^{WKT} .
wd:Q5304 a wikibase:Item ; rdfs:label "Berlin–Nairobi mapping"@en ;
  wdt:P1 wd:Q4 ; wdt:P5 wd:Q5301 , wd:Q5302 ; wdt:P7 wd:Q134 ; wdt:P9 "2010"^^xsd:gYear .
wd:Q1411 a wikibase:Item ;
  rdfs:label "Nigeria"@en , "Nigeria"@fr , "Nigeria"@es , "Nigéria"@pt ;
  schema:description "country"@en , "pays"@fr , "país"@es , "país"@pt ;
  wdt:P1 wd:Q9 ; wdt:P53 "Point(7.4951 9.0579)"^^{WKT} .
"""


@pytest.fixture
def located(app: Flask, write_ttl: Callable[[str, str], Path]) -> Catalogue:
    """The demo catalogue with the fixture's coordinates loaded."""
    cat: Catalogue = app.extensions["bigtent"]
    report = cat.load_paths([write_ttl("located.ttl", FIXTURE)])
    assert report.ok, report
    return cat


def geojson(client: FlaskClient, query: str = "") -> dict[str, Any]:
    response = client.get("/map.geojson" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == GEOJSON
    data: dict[str, Any] = response.get_json(force=True)
    check_rfc7946(data)
    return data


def features(data: dict[str, Any], kind: str | None = None) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in data["features"] if kind is None or f["properties"]["type"] == kind}


# --- RFC 7946 -------------------------------------------------------------------------------
def check_rfc7946(data: object) -> None:
    """The rules of RFC 7946 a FeatureCollection of points and lines must keep."""
    assert isinstance(data, dict)
    assert data["type"] == "FeatureCollection"  # §3.3
    assert "crs" not in data  # §4: no crs member
    assert isinstance(data["features"], list)
    for feature in data["features"]:
        assert feature["type"] == "Feature"  # §3.2
        assert "geometry" in feature and "properties" in feature
        assert isinstance(feature["properties"], dict)
        assert isinstance(feature.get("id", ""), str | int)
        for member in ("crs", "geometries"):
            assert member not in feature
        geometry = feature["geometry"]
        kind, coordinates = geometry["type"], geometry["coordinates"]
        if kind == "Point":  # §3.1.2
            check_position(coordinates)
        elif kind == "LineString":  # §3.1.4: two or more positions
            assert len(coordinates) >= 2
            for position in coordinates:
                check_position(position)
        elif kind == "MultiPolygon":  # §3.1.7, rings per §3.1.6
            for polygon in coordinates:
                for i, ring in enumerate(polygon):
                    assert len(ring) >= 4 and ring[0] == ring[-1], "a closed linear ring"
                    area = sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))
                    assert (area > 0) is (i == 0), "right-hand rule: exterior counterclockwise"
                    for position in ring:
                        check_position(position)
        else:
            raise AssertionError(f"unexpected geometry {kind}")


def check_position(position: object) -> None:
    """§3.1.1: longitude, latitude (WGS 84 degrees), numbers, no more than three."""
    assert isinstance(position, list) and 2 <= len(position) <= 3
    assert all(isinstance(v, int | float) and math.isfinite(v) for v in position)
    lon, lat = position[0], position[1]
    assert -180 <= lon <= 180 and -90 <= lat <= 90, position


# --- /map.geojson -------------------------------------------------------------------------
def test_geojson_places_organisations_in_longitude_latitude_order(
    client: FlaskClient, located: Catalogue
) -> None:
    data = geojson(client)
    places = features(data)
    berlin = places["Q5301"]
    assert berlin["geometry"] == {"type": "Point", "coordinates": [13.405, 52.52]}
    props = berlin["properties"]
    assert props["label"] == "Berlin map club"
    assert props["type"] == "organisation"
    assert props["page"].endswith("/page/Q5301")
    assert props["territories"] == ["Q1401"]
    assert places["Q5303"]["properties"]["type"] == "network"
    assert {f["geometry"]["type"] for f in data["features"]} == {"Point"}  # nothing asked
    fr = client.get("/map.geojson?uselang=fr").get_json(force=True)
    assert features(fr)["Q5301"]["properties"]["label"] == "Club cartographique"


def test_geojson_partnerships_and_territories_on_request(
    client: FlaskClient, located: Catalogue
) -> None:
    data = geojson(client, "include=partnerships,territories")
    lines = [f for f in data["features"] if f["geometry"]["type"] == "LineString"]
    ours = [line for line in lines if line["properties"]["id"] == "Q5304"]
    assert len(ours) == 1
    assert ours[0]["geometry"]["coordinates"] == [[13.405, 52.52], [36.8219, -1.2921]]
    assert ours[0]["properties"]["parties"] == ["Q5301", "Q5302"]
    placed = set(features(data))
    assert all(set(line["properties"]["parties"]) <= placed for line in lines)
    nigeria = features(data, "territory")["Q1411"]
    assert nigeria["geometry"]["coordinates"] == [7.4951, 9.0579]
    assert nigeria["properties"]["people"] >= 1
    again = geojson(client, "include=partnerships&include=territories")
    assert again == data


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("activity=Q134", {"Q5301", "Q5302"}),  # the fixture's partnership
        ("from=2010&to=2010", {"Q5301", "Q5302"}),
        ("activity=Q136", set()),
    ],
)
def test_geojson_takes_the_network_filters(
    client: FlaskClient, located: Catalogue, query: str, shown: set[str]
) -> None:
    data = geojson(client, query)
    found = set(features(data))
    assert shown <= found and not found & {"Q5303"}  # the network takes part in none
    network = client.get(f"/network.json?{query}").get_json()
    parties = {e["source"] for e in network["edges"] if e["kind"] == "participant"}
    assert found <= parties  # the network's filter, applied the same way
    assert data["truncated"] is False


@pytest.mark.parametrize("query", ["to=1000", "activity=Q134&to=1000"])
def test_filters_matching_nothing_show_nothing(
    client: FlaskClient, located: Catalogue, query: str
) -> None:
    assert geojson(client, query)["features"] == []


def test_limit_keeps_the_organisations_in_most_partnerships(
    client: FlaskClient, located: Catalogue
) -> None:
    data = geojson(client, "activity=Q134&limit=1")
    assert len(features(data)) == 1 and data["truncated"] is True


def test_geojson_without_a_filter_shows_every_located_organisation(
    client: FlaskClient, located: Catalogue
) -> None:
    assert {"Q5301", "Q5302", "Q5303"} <= set(features(geojson(client)))


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("colour=red", "'colour' is not a filter of the map"),
        ("include=people", "include='people' is not something the map can add"),
        ("activity=Q1", "is not one of the values this filter knows"),
        ("from=20x", "is not a year"),
        ("limit=0", "NETWORK_MAX_ORGANISATIONS"),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(
    client: FlaskClient, query: str, says: str
) -> None:
    for path in ("/map.geojson", "/map"):
        response = client.get(f"{path}?{query}", headers={"Accept": "application/json"})
        assert response.status_code == 400, (path, query)
        assert says in response.get_json()["error"]


def test_geojson_is_cached_by_etag_and_changes_with_the_catalogue(
    client: FlaskClient, located: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    first = client.get("/map.geojson")
    etag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    assert client.get("/map.geojson", headers={"If-None-Match": etag}).status_code == 304
    moved = FIXTURE.replace("Point(13.405 52.52)", "Point(2.3522 48.8566)")
    assert located.load_paths([write_ttl("moved.ttl", moved)]).ok
    # At once: the newest finished result (unchanged), while one thread recomputes it.
    assert client.get("/map.geojson", headers={"If-None-Match": etag}).status_code == 304
    located.views.settle()
    after = client.get("/map.geojson", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert features(after.get_json(force=True))["Q5301"]["geometry"]["coordinates"] == [
        2.3522,
        48.8566,
    ]


def test_map_page_negotiates_geojson(client: FlaskClient, located: Catalogue) -> None:
    response = client.get("/map", headers={"Accept": GEOJSON})
    assert response.mimetype == GEOJSON
    check_rfc7946(response.get_json(force=True))
    assert client.get("/map?format=geojson").mimetype == GEOJSON
    assert client.get("/map", headers={"Accept": "text/html"}).mimetype == "text/html"
    assert client.get("/map?format=xml").status_code == 400
    assert client.get("/map", headers={"Accept": "image/png"}).status_code == 406


# --- people: only as counts ------------------------------------------------------------------
def test_people_are_never_placed_and_hidden_people_are_not_counted(
    client: FlaskClient, located: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    data = geojson(client, "include=partnerships,territories")
    assert not any(f["id"] in (PERSON, "Q1501") for f in data["features"])
    assert "Amara" not in json.dumps(data)
    before = features(data, "territory")["Q1411"]["properties"]["people"]
    located.privacy.hide(PERSON, "asked to be removed from the public registry", "test")
    after = geojson(client, "include=territories")
    assert features(after, "territory")["Q1411"]["properties"]["people"] == before - 1
    page = client.get("/map").get_data(as_text=True)
    assert "Amara" not in page


def test_a_coordinate_on_a_person_is_ignored(located: Catalogue) -> None:
    # The person shape refuses coordinates; were one in the store anyway, it is not placed.
    ns = located.ns
    triple = (
        f"<{ns.entity(PERSON).value}> <{ns.predicate('wdt', 'P53').value}> "
        f'"Point(7.4 9.1)"^^{WKT} .\n'
    )
    located.store.replace_graph(ox.NamedNode(ns.base + "test/stray"), triple.encode())
    coordinates = located.geography.coordinates()
    assert "Q5301" in coordinates and PERSON not in coordinates
    assert located.geography.kinds()["Q1411"] == "territory"


# --- /map: works without JavaScript ------------------------------------------------------------
def test_map_page_draws_an_svg_map_and_lists_what_it_shows(
    client: FlaskClient, located: Catalogue
) -> None:
    response = client.get("/map")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    svg = re.search(r"<svg class=\"map-svg map-world\".*?</svg>", html, re.S)
    assert svg is not None
    tree = ET.fromstring(svg.group(0))
    assert tree.get("viewBox") == WORLD.view_box()
    land = tree.find(f"{SVG}path")
    assert land is not None and len(land.get("d", "")) > 5000  # the world's outlines
    titles = {t.text for t in tree.iter(f"{SVG}title")}
    assert {"Berlin map club", "Nairobi map club", "Fiji map network"} <= titles
    assert "Berlin–Nairobi mapping" in titles  # the partnership's line
    assert len(list(tree.iter(f"{SVG}line"))) >= 1
    assert re.search(r'<a href="/page/Q5301"[^>]*>Berlin map club</a>', html)  # the table
    assert "Nigeria" in html
    assert 'type="application/geo+json"' in html
    for asset in ("leaflet.js", "leaflet.markercluster.js", "leaflet.css", "MarkerCluster.css"):
        assert re.search(rf'"/vendor/[^"/]+/{re.escape(asset)}"', html), asset
    filtered = client.get("/map?activity=Q136").get_data(as_text=True)
    assert "Berlin map club" not in filtered
    assert 'value="Q136" checked' in filtered


def test_map_page_in_french(client: FlaskClient, located: Catalogue) -> None:
    html = client.get("/map", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Club cartographique" in html


# --- small maps on entity pages ----------------------------------------------------------------
def test_organisation_page_has_a_small_map(client: FlaskClient, located: Catalogue) -> None:
    html = client.get("/page/Q5301").get_data(as_text=True)
    section = re.search(r'<section class="entity-map".*?</section>', html, re.S)
    assert section is not None
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", section.group(0), re.S).group(0))  # type: ignore[union-attr]
    x, y, width, height = (float(v) for v in svg.get("viewBox", "").split())
    assert width < 3600  # zoomed to the region, not the world
    marked = svg.find(f"{SVG}circle[@class='map-marked']")
    assert marked is not None
    assert x <= float(marked.get("cx", "nan")) <= x + width
    assert y <= float(marked.get("cy", "nan")) <= y + height


def test_territory_page_shows_people_counts(client: FlaskClient, located: Catalogue) -> None:
    html = client.get("/page/Q1411").get_data(as_text=True)
    section = re.search(r'<section class="entity-map".*?</section>', html, re.S)
    assert section is not None
    count = located.geography.people_by_territory()["Q1411"]
    assert f"{count} people have capacities" in section.group(0) or (
        count == 1 and "1 person has" in section.group(0)
    )


def test_pages_without_coordinates_have_no_map(client: FlaskClient, located: Catalogue) -> None:
    for entity in ("Q1500", "Q1204", "Q134"):  # a person, a partnership, a concept
        html = client.get(f"/page/{entity}").get_data(as_text=True)
        assert 'class="entity-map"' not in html, entity


# --- assets -------------------------------------------------------------------------------------
def test_map_libraries_are_served_locally(client: FlaskClient) -> None:
    html = client.get("/map").get_data(as_text=True)
    wanted = {
        "leaflet.js": "text/javascript",
        "leaflet.markercluster.js": "text/javascript",
        "leaflet.css": "text/css",
        "MarkerCluster.css": "text/css",
        "MarkerCluster.Default.css": "text/css",
    }
    for name, mimetype in wanted.items():
        found = re.search(rf'"(/vendor/[0-9.]+/{re.escape(name)})"', html)
        assert found is not None, name
        response = client.get(found.group(1))
        assert response.status_code == 200, name
        assert response.mimetype == mimetype
    assert 'src="/static/map.js"' in html
    script = client.get("/static/map.js")
    assert script.status_code == 200
    script.close()


def test_land_outlines_are_valid_geojson(client: FlaskClient) -> None:
    response = client.get("/map/land.geojson")
    assert response.status_code == 200 and response.mimetype == GEOJSON
    data = response.get_json(force=True)
    check_rfc7946(data)
    polygons = data["features"][0]["geometry"]["coordinates"]
    assert len(polygons) > 100


def test_polygons_are_cut_at_the_antimeridian() -> None:
    # A square from 170°E to 170°W, written as the crossing data has it.
    ring = [(170.0, 10.0), (-170.0, 10.0), (-170.0, 20.0), (170.0, 20.0), (170.0, 10.0)]
    parts = cut_at_antimeridian([ring])
    assert sorted(p.box for p in parts) == [
        (-180.0, 10.0, -170.0, 20.0),
        (170.0, 10.0, 180.0, 20.0),
    ]
    topology = {
        "type": "Topology",
        "arcs": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]],
        "objects": {"x": {"type": "Polygon", "arcs": [[0]]}},
    }
    (square,) = read_topojson(topology)
    assert square.box == (0, 0, 10, 10)


def test_a_small_view_fits_its_points_inside_the_world() -> None:
    view = fit([(178.0, -18.0)])
    assert view.east <= 180 and view.width >= 36
    assert view.contains(178.0, -18.0)
    assert View(-10, -10, 10, 10).shows((5, 5, 20, 20))


def test_the_home_teaser_partial_draws_every_located_organisation(
    app: Flask, located: Catalogue
) -> None:
    with app.test_request_context("/"):
        html = app.jinja_env.get_template("_map_teaser.html").render()
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))  # type: ignore[union-attr]
    dots = {t.text for c in svg.iter(f"{SVG}circle") for t in c.iter(f"{SVG}title")}
    assert {"Berlin map club", "Nairobi map club", "Fiji map network"} <= dots
    assert 'href="/map"' in html
