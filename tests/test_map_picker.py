"""The edit form's map picker on the server side: a form with a coordinate field loads
Leaflet (served from node_modules) and static/map-picker.js, all from this server and with
no inline script; a form without one loads neither. The picker in a browser:
tests/test_map_picker_browser.py."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_support import login, staff_app

from webapp.staff.form_fields import FormState, SnakRow

USERS = {"bob": "editor"}
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS)


def head(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    return html.split("</head>", 1)[0]


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
def test_a_form_with_a_coordinate_loads_the_picker_from_this_server(app: Flask) -> None:
    client = app.test_client()
    login(client, "bob")
    page = head(client, "/edit/Q1000")  # an organisation with a coordinate location
    sources = [re.search(r'src="([^"]+)"', attrs) for attrs, _body in SCRIPT.findall(page)]
    urls = [m.group(1) for m in sources if m]
    leaflet = [u for u in urls if u.endswith("/leaflet.js")]
    picker = [u for u in urls if u.endswith("/map-picker.js")]
    assert leaflet and picker, urls
    assert urls.index(leaflet[0]) < urls.index(picker[0]), "Leaflet runs before the picker"
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+/leaflet\.css)"', page)
    assert stylesheet
    for url in [*urls, stylesheet.group(1)]:
        assert url.startswith("/"), f"{url} is not served by this server"
        with client.get(url) as served:  # static files are streamed: close them
            assert served.status_code == 200, url
    # no inline script: the Content-Security-Policy allows only this server's files
    assert all(body.strip() == "" for _attrs, body in SCRIPT.findall(page))
    tag = next(attrs for attrs, _body in SCRIPT.findall(page) if "map-picker.js" in attrs)
    assert 'data-land="/map/land.geojson"' in tag
    assert "data-hint=" in tag
    land = client.get("/map/land.geojson")
    assert land.status_code == 200 and land.get_json()["type"] == "FeatureCollection"
    policy = client.get("/edit/Q1000").headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self'" in policy


@pytest.mark.parametrize("store_backend", ["oxigraph"], indirect=True)
@pytest.mark.parametrize(
    "url",
    ["/edit/Q1500", "/edit/new/Q4", "/edit/new"],
    ids=["person", "new-partnership", "record-types"],
)
def test_a_form_without_a_coordinate_does_not_load_leaflet(app: Flask, url: str) -> None:
    client = app.test_client()
    login(client, "bob")
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "data-coordinate-field" not in html, "the form has no coordinate field"
    assert "leaflet" not in html.lower()
    assert "map-picker.js" not in html


def test_shows_datatype_looks_at_values_qualifiers_and_sources() -> None:
    types = {"P53": "GlobeCoordinate", "P1": "WikibaseItem", "P9": "Time"}
    state = FormState()
    st = state.add_statement("P1", "Q1")
    assert not state.shows_datatype(types, "GlobeCoordinate")
    st.qualifiers[0] = SnakRow(property="P53", kind="novalue")  # drawn as text, no control
    assert not state.shows_datatype(types, "GlobeCoordinate")
    st.references[0] = {0: SnakRow(property=" P53 ")}
    assert state.shows_datatype(types, "GlobeCoordinate")
    other = FormState()
    other.add_statement("P53").kind = "somevalue"  # a statement's control is always drawn
    assert other.shows_datatype(types, "GlobeCoordinate")
