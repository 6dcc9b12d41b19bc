"""Globe coordinates (P53, Wikidata P625 semantics) end to end below the map: Turtle short
form → full Wikibase RDF, the JSON edit model (Wikibase's ``globecoordinate`` datavalue),
shapes (ranges, globe, people never), the staff form without JavaScript, entity pages,
schema.org, diffs; and the consented contact route of people (P54/P55)."""

from __future__ import annotations

import doctest
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask
from form_support import form_fields
from rdflib import BNode, Graph, URIRef
from staff_support import catalogue, login, staff_app, staff_client

from loader.catalogue import Catalogue
from loader.records import coordinates
from tests.conftest import BASE
from tests.graphs import assert_isomorphic, to_rdflib

USERS = {"bob": "editor"}
WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
EARTH = "http://www.wikidata.org/entity/Q2"
LAB = """
wd:Q5000 a wikibase:Item ;
  rdfs:label "Open Knowledge Lab Paris"@en ;
  wdt:P1 wd:Q1 ;
  wdt:P53 "Point(2.3522 48.8566)"^^geo:wktLiteral .
"""
#: What the short form above must become, written by hand from the Wikibase RDF dump
#: format (statement and value node as blank nodes: their IRIs are checked apart).
EXPECTED = f"""
@prefix wd: <{BASE}entity/> .
@prefix wdt: <{BASE}prop/direct/> .
@prefix p: <{BASE}prop/> .
@prefix ps: <{BASE}prop/statement/> .
@prefix psv: <{BASE}prop/statement/value/> .
@prefix wikibase: <http://wikiba.se/ontology#> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix bt: <https://w3id.org/bigtent/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

wd:Q5000 a wikibase:Item, bt:Organisation ;
  rdfs:label "Open Knowledge Lab Paris"@en ;
  wdt:P1 wd:Q1 ;
  wdt:P53 "Point(2.3522 48.8566)"^^geo:wktLiteral ;
  p:P1 [ a wikibase:Statement, wikibase:BestRank ; wikibase:rank wikibase:NormalRank ;
         ps:P1 wd:Q1 ] ;
  p:P53 [ a wikibase:Statement, wikibase:BestRank ; wikibase:rank wikibase:NormalRank ;
          ps:P53 "Point(2.3522 48.8566)"^^geo:wktLiteral ;
          psv:P53 [ a wikibase:GlobecoordinateValue ;
                    wikibase:geoLatitude "48.8566"^^xsd:double ;
                    wikibase:geoLongitude "2.3522"^^xsd:double ;
                    wikibase:geoPrecision "0.0001"^^xsd:double ;
                    wikibase:geoGlobe <{EARTH}> ] ] .
"""


def _record(cat: Catalogue, entity: str) -> Graph:
    """The entity's triples without its data document, statement and value IRIs made
    blank nodes (so a hand-written graph can be compared by isomorphism)."""
    doc = cat.ns.data_document(entity)
    graph = to_rdflib(t for t in cat.entity_triples(entity) if t[0] != doc)
    blank: dict[URIRef, BNode] = {}
    out = Graph()
    for s, p, o in graph:
        s2 = blank.setdefault(s, BNode()) if _minted(s) else s
        o2 = blank.setdefault(o, BNode()) if _minted(o) else o  # type: ignore[arg-type]
        out.add((s2, p, o2))
    return out


def _minted(term: object) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(
        (f"{BASE}entity/statement/", f"{BASE}value/")
    )


def _load(cat: Catalogue, write_ttl: Callable[[str, str], Path], body: str) -> Any:
    return cat.load_paths([write_ttl("record.ttl", body)])


def _value_nodes(cat: Catalogue, entity: str) -> set[str]:
    return {
        o.value
        for _, p, o in cat.entity_triples(entity)
        if p.value == f"{BASE}prop/statement/value/P53"
    }


# --- the helpers ----------------------------------------------------------------------------


def test_coordinate_helpers_doctests() -> None:
    result = doctest.testmod(coordinates)
    assert result.attempted >= 4 and result.failed == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Point(2.35 48.85)", ("48.85", "2.35", EARTH)),
        ("  POINT ( +2.3500  -48.850 ) ", ("-48.85", "2.35", EARTH)),
        ("<http://www.wikidata.org/entity/Q405> Point(1 2)", ("2", "1", "http://www.wikidata.org/entity/Q405")),
        ("Point(2.35)", None),
        ("Point(a b)", None),
        ("LINESTRING(1 2, 3 4)", None),
        ("Point(1e999999999 2)", None),  # never written out as a billion digits
        ("Point(99999999999999999999999 2)", None),
    ],
)  # fmt: skip
def test_parse_point(text: str, expected: tuple[str, str, str] | None) -> None:
    point = coordinates.parse_point(text)
    assert (None if point is None else (point.latitude, point.longitude, point.globe)) == expected


# --- Turtle short form → full Wikibase RDF ---------------------------------------------------


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_short_form_becomes_wikibase_rdf(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    report = _load(catalogue, write_ttl, LAB)  # write_ttl declares the standard prefixes, geo: too
    assert report.ok, [r.lines() for r in report.rejections]
    assert_isomorphic(Graph().parse(data=EXPECTED, format="turtle"), _record(catalogue, "Q5000"))
    # The value node is named from its content, like time and quantity value nodes.
    (node,) = _value_nodes(catalogue, "Q5000")
    assert re.fullmatch(rf"{re.escape(BASE)}value/[0-9a-f]{{40}}", node)


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_full_form_with_the_same_values_gives_the_same_value_node(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    assert _load(catalogue, write_ttl, LAB).ok
    short = _value_nodes(catalogue, "Q5000")
    full = f"""
wd:Q5001 a wikibase:Item ; rdfs:label "Lab two"@en ; wdt:P1 wd:Q1 ;
  p:P53 [ ps:P53 "POINT(2.35220 48.85660)"^^geo:wktLiteral ;
          psv:P53 [ a wikibase:GlobecoordinateValue ;
                    wikibase:geoLatitude "48.8566"^^xsd:double ;
                    wikibase:geoLongitude "2.3522"^^xsd:double ;
                    wikibase:geoPrecision "0.0001"^^xsd:double ;
                    wikibase:geoGlobe <{EARTH}> ] ] .
"""
    report = _load(catalogue, write_ttl, full)
    assert report.ok, [r.lines() for r in report.rejections]
    assert _value_nodes(catalogue, "Q5001") == short
    truthy = {o for _, p, o in catalogue.entity_triples("Q5001") if p.value.endswith("direct/P53")}
    assert truthy == {ox.Literal("Point(2.3522 48.8566)", datatype=ox.NamedNode(WKT))}


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
@pytest.mark.parametrize(
    ("wkt", "expected"),
    [
        ("Point(2.35 48.85)", "0.01"),
        ("Point(13.4050 52.5200)", "0.0001"),  # trailing zeros count: four decimals written
        ("Point(2 48)", "1"),
    ],
)
def test_precision_follows_the_decimals_written(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path], wkt: str, expected: str
) -> None:
    body = f"""wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
  wdt:P53 "{wkt}"^^geo:wktLiteral ."""
    assert _load(catalogue, write_ttl, body).ok
    precision = [
        o.value
        for _, p, o in catalogue.entity_triples("Q5000")
        if p.value.endswith("#geoPrecision")
    ]
    assert precision == [expected]


# --- shapes ---------------------------------------------------------------------------------


def _rejections(cat: Catalogue, write_ttl: Callable[[str, str], Path], body: str) -> str:
    report = _load(cat, write_ttl, body)
    assert not report.ok
    return "\n".join(line for r in report.rejections for line in r.lines())


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
@pytest.mark.parametrize(
    ("wkt", "message"),
    [
        ("Point(2.3522 91)", "latitude (wikibase:geoLatitude) must be between -90 and 90"),
        ("Point(-180.5 48.8566)", "longitude (wikibase:geoLongitude) must be between -180 and 180"),
        ("<http://www.wikidata.org/entity/Q405> Point(23.47 0.67)", "must be the Earth"),
    ],
)
def test_shapes_reject_coordinates_out_of_range(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path], wkt: str, message: str
) -> None:
    body = f"""wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
  wdt:P53 "{wkt}"^^geo:wktLiteral ."""
    assert message in _rejections(catalogue, write_ttl, body)
    assert catalogue.revisions.get("Q5000") is None


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
@pytest.mark.parametrize(
    "literal",
    [
        '"48.8566, 2.3522"',
        '"Point(2.3522)"^^geo:wktLiteral',
        '"Point(1e999 2)"^^geo:wktLiteral',
        '"Point(99999999999999999999999 2)"^^geo:wktLiteral',
    ],
)
def test_shapes_reject_a_coordinate_that_is_not_a_wkt_point(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path], literal: str
) -> None:
    body = f"""wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
  wdt:P53 {literal} ."""
    assert "wdt:P53 takes GlobeCoordinate values" in _rejections(catalogue, write_ttl, body)


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_the_person_shape_refuses_coordinates(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    body = """wd:Q5002 a wikibase:Item ; rdfs:label "Nia Example"@en ;
  schema:description "fictional person for a test"@en ; wdt:P1 wd:Q11 ;
  wdt:P53 "Point(2.3522 48.8566)"^^geo:wktLiteral ."""
    text = _rejections(catalogue, write_ttl, body)
    assert "A person never carries a coordinate location (P53)" in text
    assert "counts per territory" in text
    assert catalogue.revisions.get("Q5002") is None


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ('wdt:P54 "nia@example.org"', "A Wikimedia username (P54) is the user name only"),
        ('wdt:P54 "+44 20 7946 0000"', "A Wikimedia username (P54) is the user name only"),
        ("wdt:P55 <mailto:nia@example.org>", "A contact page (P55) is a public web page"),
        ("wdt:P55 <tel:+442079460000>", "A contact page (P55) is a public web page"),
        ("wdt:P55 <https://user:secret@example.org/>", "A contact page (P55) is a public web page"),
    ],
)
def test_contact_routes_are_never_an_email_or_phone(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path], statement: str, message: str
) -> None:
    body = f"""wd:Q5003 a wikibase:Item ; rdfs:label "Nia Example"@en ;
  schema:description "fictional person for a test"@en ; wdt:P1 wd:Q11 ; {statement} ."""
    assert message in _rejections(catalogue, write_ttl, body)


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_contact_routes_are_for_people_only(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    person = """wd:Q5004 a wikibase:Item ; rdfs:label "Nia Example"@en ;
  schema:description "fictional person for a test"@en ; wdt:P1 wd:Q11 ;
  wdt:P54 "Nia Example" ; wdt:P55 <https://example.org/people/nia> ."""
    report = _load(catalogue, write_ttl, person)
    assert report.ok, [r.lines() for r in report.rejections]
    organisation = """wd:Q5005 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
  wdt:P54 "Lab account" ."""
    assert "Only a person may carry a Wikimedia username (P54)" in _rejections(
        catalogue, write_ttl, organisation
    )


# --- JSON: the edit API and Wikibase entity JSON -----------------------------------------------


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS, EDIT_MAX_BYTES=200_000)


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_json_datavalue_round_trips_through_the_edit_api(app: Flask) -> None:
    client, token = staff_client(app, "bob")
    # Wikibase entity JSON of a demo territory (France): a globecoordinate datavalue.
    entity = client.get("/data/Q1404.json").get_json()["entities"]["Q1404"]
    (claim,) = entity["claims"]["P53"]
    datavalue = claim["mainsnak"]["datavalue"]
    assert claim["mainsnak"]["datatype"] == "globe-coordinate"
    assert datavalue == {
        "type": "globecoordinate",
        "value": {
            "latitude": 48.8566,
            "longitude": 2.3522,
            "altitude": None,
            "precision": 0.0001,
            "globe": EARTH,
        },
    }
    # ... sent back unchanged through the JSON edit API on a new record, it is the same value.
    created = client.post(
        "/api/entity",
        json={
            "labels": {"en": "Paris office"},
            "statements": [
                {"property": "P1", "value": "Q1"},
                {"property": "P53", "value": datavalue["value"]},
            ],
        },
        headers=token,
    )
    assert created.status_code == 201, created.get_json()
    new = created.get_json()["id"]
    record = client.get(f"/api/entity/{new}").get_json()
    record.pop("modified")
    base = record.pop("revision")
    (statement,) = [s for s in record["statements"] if s["property"] == "P53"]
    assert statement["value"] == datavalue["value"]
    cat = catalogue(app)
    ours = {o for _, p, o in cat.entity_triples(new) if p.value.endswith("value/P53")}
    france = {o for _, p, o in cat.entity_triples("Q1404") if p.value.endswith("value/P53")}
    assert ours == france  # the same value node, named from its content
    published = client.get(f"/data/{new}.json").get_json()["entities"][new]
    assert published["claims"]["P53"][0]["mainsnak"]["datavalue"] == datavalue
    # Saving the record as read changes nothing.
    saved = client.put(
        f"/api/entity/{new}",
        json={**record, "base_revision": base},
        headers=token,
    )
    assert saved.status_code == 200 and saved.get_json()["unchanged"] is True


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"latitude": 95, "longitude": 2}, "the latitude must be between -90 and 90 degrees"),
        ({"latitude": 48, "longitude": -181}, "the longitude must be between -180 and 180"),
        ({"latitude": 48, "longitude": 2, "precision": 0}, "the precision must be a positive"),
        ({"latitude": 48, "longitude": 2, "globe": f"{EARTH[:-1]}Q405"}, "the globe must be the"),
        ({"latitude": 48, "longitude": 2, "altitude": 35}, "a coordinate has no altitude"),
        ({"latitude": "north", "longitude": 2}, "the latitude 'north' is not a number"),
        ({"latitude": 48}, "a coordinate is"),
        ({"latitude": "1e99999999", "longitude": 2}, "the latitude '1e99999999' is not a number"),
    ],
)  # fmt: skip
def test_the_edit_api_names_the_wrong_coordinate_field(
    app: Flask, value: dict[str, Any], message: str
) -> None:
    client, token = staff_client(app, "bob")
    response = client.post(
        "/api/entity",
        json={"labels": {"en": "Lab"}, "statements": [
            {"property": "P1", "value": "Q1"}, {"property": "P53", "value": value}]},
        headers=token,
    )  # fmt: skip
    assert response.status_code == 422
    problems = response.get_json()["problems"]
    assert any(message in p["message"] and p["field"] == "statements/1/value" for p in problems), (
        problems
    )


# --- the staff form without JavaScript ---------------------------------------------------------


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_form_edits_a_coordinate_as_two_number_fields(app: Flask) -> None:
    client = app.test_client()
    login(client, "bob")
    page = client.get("/edit/Q1404").get_data(as_text=True)
    fieldset = re.search(
        r'<fieldset class="coordinate-field" data-coordinate-field.*?</fieldset>', page, re.S
    )
    assert fieldset, "the coordinate field is a fieldset a map picker can find"
    html = fieldset.group(0)
    for part, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        control = re.search(rf'<input [^>]*data-coordinate="{part}"[^>]*>', html, re.S)
        assert control, part
        tag = control.group(0)
        assert 'type="number"' in tag and 'step="any"' in tag
        assert f'min="{low}"' in tag and f'max="{high}"' in tag
        control_id = re.search(r'id="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        assert f'<label for="{control_id}">{part.capitalize()}</label>' in html
    assert 'data-coordinate="precision"' in html
    fields = form_fields(page)
    row = next(k[: -len("-lat")] for k, v in fields.items() if k.endswith("-lat"))
    assert (fields[f"{row}-lat"], fields[f"{row}-lon"], fields[f"{row}-precision"]) == (
        "48.8566", "2.3522", "0.0001",
    )  # fmt: skip
    # Moved to the Eiffel Tower, precision left "as written": five decimals typed.
    fields.update({f"{row}-lat": "48.85837", f"{row}-lon": "2.29448", f"{row}-precision": ""})
    response = client.post("/edit/Q1404", data={**fields, "action": "save"})
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    cat = catalogue(app)
    (value,) = [
        s["value"] for s in cat.editor.record_json("Q1404")["statements"] if s["property"] == "P53"
    ]
    assert value == {
        "latitude": 48.85837, "longitude": 2.29448, "altitude": None, "precision": 0.00001,
        "globe": EARTH,
    }  # fmt: skip
    # A latitude out of range is shown on the latitude field, input kept.
    fields = form_fields(client.get("/edit/Q1404").get_data(as_text=True))
    fields[f"{row}-lat"] = "123"
    response = client.post("/edit/Q1404", data={**fields, "action": "save"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(
        rf'id="{row}-value-error"><p>P53: the latitude must be between -90 and 90', html
    )
    assert f'name="{row}-lat" value="123"' in html


# --- pages, schema.org, diffs ---------------------------------------------------------------


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_entity_page_shows_the_coordinate_readably(app: Flask) -> None:
    client = app.test_client()
    html = client.get("/page/Q1404?uselang=en").get_data(as_text=True)
    assert (
        '<span class="coordinate" data-latitude="48.8566" data-longitude="2.3522">'
        "48°51′24″N 2°21′8″E</span>"
    ) in html
    assert "Point(" not in html.split("<main", 1)[1].split("application/ld+json")[0]
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)  # type: ignore[union-attr]
    )
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": 48.8566, "longitude": 2.3522}
    org = client.get("/page/Q1001?uselang=en").get_data(as_text=True)
    org_data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', org, re.S).group(1)  # type: ignore[union-attr]
    )
    assert org_data["location"] == {
        "@type": "Place",
        "geo": {"@type": "GeoCoordinates", "latitude": 52.52, "longitude": 13.405},
    }


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_diff_shows_the_coordinate_change(app: Flask) -> None:
    client, token = staff_client(app, "bob")
    record = client.get("/api/entity/Q1404").get_json()
    record.pop("modified")
    base = record.pop("revision")
    for st in record["statements"]:
        if st["property"] == "P53":
            st["value"] = {"latitude": 48.8584, "longitude": 2.2945, "precision": 0.0001}
    saved = client.put("/api/entity/Q1404", json={**record, "base_revision": base}, headers=token)
    assert saved.status_code == 200, saved.get_json()
    new = saved.get_json()["revision"]
    diff = client.get(f"/page/Q1404/diff?from={base}&to={new}&uselang=en")
    assert diff.status_code == 200
    html = diff.get_data(as_text=True)
    assert "48.8566, 2.3522 (± 0.0001°)" in html and "48.8584, 2.2945 (± 0.0001°)" in html
