"""The query editor page, the example list and the locally served YASGUI files (in-process).

The page in a real browser is tested in test_query_editor_browser.py."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.public.query_editor import MAX_QUERY_CHARS, MAX_URL_LENGTH

BASE = "https://bigtent.example.org/"


def test_the_page_is_a_plain_form_posting_to_the_endpoint(client: FlaskClient) -> None:
    response = client.get("/query")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<form method="post" action="/sparql" id="query-form"', html)
    assert re.search(
        r'<textarea id="query" name="query"[^>]*>PREFIX wd: <', html.replace("&lt;", "<")
    )
    assert '<label for="query" id="query-label">' in html
    assert 'name="format"' in html and '<button type="submit" id="run">' in html


def test_the_page_loads_only_files_from_this_server(client: FlaskClient) -> None:
    html = client.get("/query").get_data(as_text=True)
    loaded = re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(
        r'<link[^>]+href="([^"]+)"', html
    )
    assert loaded, "the page loads its scripts and styles"
    for url in loaded:
        assert url.startswith("/") and not url.startswith("//"), url
    assert any(re.fullmatch(r"/vendor/\d+\.\d+\.\d+/yasgui\.min\.js", u) for u in loaded)
    assert "/static/query-editor.js" in loaded


def test_examples_menu_lists_every_example_grouped_by_audience(client: FlaskClient) -> None:
    html = client.get("/query").get_data(as_text=True)
    examples = client.get("/sparql/examples").get_json()
    groups = re.findall(r'<optgroup label="For ([^"]+)">', html)
    assert groups == ["data consumers", "aggregators", "staff"]
    menu = html.split('<select id="example"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="([a-z0-9-]+)"', menu)
    assert sorted(options) == sorted(e["id"] for e in examples)


def test_an_example_opens_with_this_instances_prefixes(client: FlaskClient) -> None:
    response = client.get("/query?example=partners-by-activity-type")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<option value="partners-by-activity-type" selected>' in html
    assert f"PREFIX wd: &lt;{BASE}entity/&gt;" in html
    assert "Everyone the Wikimedia Foundation" in html  # its description


def test_a_query_in_the_address_reopens_with_a_share_link(client: FlaskClient) -> None:
    query = 'SELECT ?s WHERE { ?s ?p "a & <b>" } LIMIT 3'
    response = client.get("/query", query_string={"query": query})
    html = response.get_data(as_text=True)
    assert "SELECT ?s WHERE { ?s ?p &#34;a &amp; &lt;b&gt;&#34; } LIMIT 3" in html
    link = re.search(r'<input id="share-link" type="url" readonly value="([^"]+)"', html)
    assert link is not None
    parts = urlsplit(link.group(1).replace("&amp;", "&"))
    assert parts.path == "/query" and parse_qs(parts.query) == {"query": [query]}
    downloads = re.findall(r'href="(/sparql\?[^"]+)" download="results\.(\w+)"', html)
    assert {ext for _, ext in downloads} == {
        "csv",
        "tsv",
        "json",
        "xml",
        "ttl",
        "nt",
        "jsonld",
        "rdf",
    }
    for href, _ in downloads:
        assert parse_qs(urlsplit(href.replace("&amp;", "&")).query)["query"] == [query]


def test_a_long_query_is_shared_in_the_fragment(client: FlaskClient) -> None:
    query = "SELECT * WHERE { ?s ?p ?o }\n" + "# padding\n" * (MAX_URL_LENGTH // 8)
    html = client.get("/query", query_string={"query": query}).get_data(as_text=True)
    link = re.search(r'id="share-link" type="url" readonly value="([^"]+)"', html)
    assert link is not None
    base, fragment = link.group(1).split("#query=")
    assert base.endswith("/query") and unquote(fragment) == query


def test_bad_input_to_the_page(client: FlaskClient) -> None:
    missing = client.get("/query?example=no-such-example")
    assert missing.status_code == 404
    assert "no example query" in missing.get_data(as_text=True)
    assert client.get("/query?example=../../etc/passwd").status_code == 404
    huge = client.get("/query", query_string={"query": "#" * (MAX_QUERY_CHARS + 1)})
    assert huge.status_code == 413
    assert str(MAX_QUERY_CHARS) in huge.get_data(as_text=True)
    # an empty query opens the editor empty, and "Open" with no example chosen the
    # starter query: neither is an error
    assert client.get("/query?query=").status_code == 200
    assert client.get("/query?example=").status_code == 200


def test_example_list_as_json(client: FlaskClient) -> None:
    response = client.get("/sparql/examples")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    examples = response.get_json()
    assert len(examples) >= 20
    for example in examples:
        assert list(example) == ["id", "title", "description", "audience", "query"]
        assert f"<{BASE}entity/>" in example["query"] or "PREFIX wd:" not in example["query"]
    again = client.get("/sparql/examples", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_example_list_refuses_what_it_cannot_give(client: FlaskClient) -> None:
    response = client.get("/sparql/examples", headers={"Accept": "text/turtle"})
    assert response.status_code == 406


def test_one_example_as_a_query_file(client: FlaskClient) -> None:
    response = client.get("/sparql/examples/organisations-per-country.rq")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/sparql-query; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith("# title: Organisations per country")
    assert f"PREFIX wd: <{BASE}entity/>" in text
    assert client.get("/sparql/examples/nothing-here.rq").status_code == 404


# --- front-end files ------------------------------------------------------------------
def _asset_url(client: FlaskClient, name: str) -> str:
    html = client.get("/query").get_data(as_text=True)
    found = re.search(rf'"(/vendor/[^"]+/{re.escape(name)})"', html)
    assert found is not None
    return found.group(1)


def test_yasgui_is_served_from_node_modules(client: FlaskClient) -> None:
    url = _asset_url(client, "yasgui.min.js")
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.mimetype == "text/javascript"
    assert b"Yasgui" in plain.data[:2000] or b"Yasqe" in plain.data
    assert "immutable" in plain.headers["Cache-Control"]
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert "Accept-Encoding" in packed.headers["Vary"]
    css = client.get(_asset_url(client, "yasgui.min.css"))
    assert css.status_code == 200 and css.mimetype == "text/css"


def test_only_listed_files_of_the_installed_version_are_served(client: FlaskClient) -> None:
    url = _asset_url(client, "yasgui.min.js")
    version = url.split("/")[2]
    assert client.get(f"/vendor/{version}/package.json").status_code == 404
    assert client.get(f"/vendor/{version}/..%2F..%2Fpackage.json").status_code == 404
    assert client.get("/vendor/0.0.1/yasgui.min.js").status_code == 404


@pytest.fixture
def app_without_assets(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    (tmp_path / "empty").mkdir()
    return make_app(NODE_MODULES=str(tmp_path / "empty"))


def test_missing_front_end_files_give_a_clear_page_that_still_works(
    app_without_assets: Flask,
) -> None:
    client = app_without_assets.test_client()
    response = client.get("/query")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "The interactive editor is not installed" in html
    assert "@zazuko/yasgui/build/yasgui.min.js" in html
    assert "scripts/bootstrap" in html and "NODE_MODULES" in html
    assert "yasgui.min.js" not in re.sub(r'role="alert">.*?</div>', "", html, flags=re.S)
    assert '<form method="post" action="/sparql" id="query-form"' in html
    asset = client.get("/vendor/4.6.2/yasgui.min.js")
    assert asset.status_code == 404
    assert "NODE_MODULES" in asset.get_data(as_text=True)


# Examples a remote engine cannot evaluate: Virtuoso 7 has no dateTime - duration arithmetic
# (docs/deployment.md, "Deployment at scale").
ENGINE_GAPS = {"sparql": ("changes-last-week",)}


def store_name(client: FlaskClient) -> str:
    """The STORE setting of the client's app."""
    return str(client.application.extensions["bigtent"].settings.STORE)


def test_every_example_runs_on_the_endpoint_with_labels(client: FlaskClient) -> None:
    """What the menu offers, sent to /sparql as the editor sends it."""
    for example in client.get("/sparql/examples").get_json():
        graph = "CONSTRUCT" in example["query"]
        accept = "text/turtle" if graph else "application/sparql-results+json"
        response = client.post(
            "/sparql", data={"query": example["query"]}, headers={"Accept": accept}
        )
        if example["id"] in ENGINE_GAPS.get(store_name(client), ()):
            assert response.status_code == 502, example["id"]  # the engine's error, passed on
            continue
        assert response.status_code == 200, (example["id"], response.get_data(as_text=True))
        if graph:
            assert "schema:Organization" in response.get_data(as_text=True) or (
                "<http://schema.org/Organization>" in response.get_data(as_text=True)
            )
            continue
        results = response.get_json()
        rows = results["results"]["bindings"]
        assert rows, example["id"]
        names = results["head"]["vars"]
        for name in (n for n in names if n.endswith("Label") and n[:-5] in names):
            for row in rows:
                entity = row.get(name[:-5])
                if entity and entity["type"] == "uri" and entity["value"].startswith(BASE):
                    assert row.get(name), f"{example['id']}: ?{name} not filled"


# --- result views, completion, sharing, embedding (issue 14) ----------------------------
def editor_config(html: str) -> dict[str, Any]:
    """The JSON block the page's scripts read."""
    found = re.search(
        r'<script type="application/json" id="editor-config">(.*?)</script>', html, re.S
    )
    assert found is not None
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def test_the_endpoints_prefixes_are_rendered_for_the_editor(client: FlaskClient) -> None:
    """The editor knows the predefined prefixes, so `wdt:P1` is not flagged as undefined."""
    config = editor_config(client.get("/query").get_data(as_text=True))
    prefixes = config["prefixes"]
    for name, path in {
        "wd": "entity/",
        "wdt": "prop/direct/",
        "p": "prop/",
        "ps": "prop/statement/",
        "pq": "prop/qualifier/",
        "pr": "prop/reference/",
    }.items():
        assert prefixes[name] == BASE + path, name
    assert prefixes["wikibase"] == "http://wikiba.se/ontology#"
    assert prefixes == client.get("/sparql/prefixes").get_json(), "what the endpoint predefines"
    assert config["completePath"] == "/sparql/complete"
    assert config["embedPath"] == "/embed"


def test_the_views_libraries_are_served_from_node_modules(client: FlaskClient) -> None:
    config = editor_config(client.get("/query").get_data(as_text=True))
    assert set(config["vendor"]) == {
        "leaflet.js",
        "leaflet.css",
        "topojson-client.min.js",
        "land-110m.json",
        "chart.umd.min.js",
        "cytoscape.min.js",
    }
    for name, url in config["vendor"].items():
        assert re.fullmatch(rf"/vendor/\d+\.\d+\.\d+/{re.escape(name)}", url), url
        response = client.get(url)
        assert response.status_code == 200, name
    chart = client.get(
        config["vendor"]["chart.umd.min.js"], headers={"Accept-Encoding": "identity"}
    )
    assert chart.mimetype == "text/javascript" and b"Chart" in chart.data


def test_the_view_switcher_and_a_no_script_explanation(client: FlaskClient) -> None:
    html = client.get("/query").get_data(as_text=True)
    switcher = html.split('id="view-switcher"', 1)[1].split("</div>", 1)[0]
    assert 'role="group"' in html.split('id="view-switcher"', 1)[0][-200:] + switcher
    views = re.findall(r'<button type="button" data-view="(\w+)" aria-pressed="false">', switcher)
    assert views == [
        "table",
        "map",
        "barchart",
        "linechart",
        "piechart",
        "graph",
        "timeline",
        "imagegrid",
    ]
    noscript = re.search(r"<noscript>(.*?)</noscript>", html, re.S)
    assert noscript is not None and "plain form" in noscript.group(1)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", {"Share query": "Partager la requête", "Page size:": "Lignes par page :"}),
        ("es", {"Share query": "Compartir la consulta", "True": "Verdadero"}),
        (
            "pt",
            {
                "Share query": "Compartilhar a consulta",
                "Filter query results": "Filtrar os resultados",
            },
        ),
    ],
)
def test_the_widget_speaks_the_readers_language(
    client: FlaskClient, lang: str, words: dict[str, str]
) -> None:
    """YASGUI's English words and the scripts' messages come translated in the page."""
    html = client.get(f"/query?uselang={lang}").get_data(as_text=True)
    config = editor_config(html)
    for english, translated in words.items():
        assert config["yasgui"][english] == translated
    english_config = editor_config(client.get("/query?uselang=en").get_data(as_text=True))
    for key, text in config["messages"].items():
        assert text, key
        if key not in {"Map", "Graph"} and not key.startswith("table-sort"):
            assert text != english_config["messages"][key], (lang, key)
        assert re.findall(r"%\(\w+\)s", text) == re.findall(
            r"%\(\w+\)s", english_config["messages"][key]
        ), (lang, key)
    assert "%(line)s" in config["messages"]["failed-at"]


def test_only_the_embed_page_may_be_framed(client: FlaskClient) -> None:
    embed = client.get("/embed")
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "script-src 'self'" in embed.headers["Content-Security-Policy"]
    editor = client.get("/query")
    assert editor.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in editor.headers["Content-Security-Policy"]


def test_the_embed_page_shows_results_alone(client: FlaskClient) -> None:
    html = client.get("/embed?uselang=es").get_data(as_text=True)
    assert '<html lang="es" class="embed">' in html
    assert 'id="editor"' not in html and 'id="query-form"' not in html
    assert 'class="site-nav"' not in html, "no site navigation inside a frame"
    loaded = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert loaded[1:] == ["/static/query-views.js", "/static/query-embed.js"]
    assert all(url.startswith("/") and not url.startswith("//") for url in loaded)
    assert editor_config(html)["messages"]["running"] == "Ejecutando…"
    assert "Abrir esta consulta en el servicio de consultas" in html
