"""The query editor page (``/query``) and the named example queries (``/sparql/examples``).

The page is a plain HTML form that posts to ``/sparql`` and works without JavaScript;
``static/query-editor.js`` turns it into YASGUI (editor + results), served from
node_modules by :mod:`webapp.public.vendor`, never from a CDN, with the result views of
``static/query-views.js`` (table, map, charts, graph, timeline, image grid).

Sharing: ``/query#<query>`` (the query, percent-encoded, in the fragment, as WDQS writes
its links) opens the editor and runs the query, in the view its ``#defaultView:`` comment
names; ``/query?query=`` only opens it. ``/embed#<query>`` shows one result view alone,
for other sites' frames (the only page here that may be framed: ``EMBEDDABLE`` in
:mod:`webapp.http.headers`).
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, url_for

from loader.base import ids
from loader.base.errors import BigtentError
from loader.query.examples import AUDIENCES, Example
from loader.query.results import FORMATS
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue
from webapp.http.negotiation import best_type, not_acceptable
from webapp.public.query_widget import widget_words
from webapp.public.vendor import missing_assets, missing_message, vendor_url

bp = Blueprint("query_editor", __name__)

EDITOR_ASSETS = ["yasgui.min.js", "yasgui.min.css"]
#: Loaded by the result views when first shown (static/query-views.js).
VIEW_ASSETS = [
    "leaflet.js",
    "leaflet.css",
    "topojson-client.min.js",
    "land-110m.json",
    "chart.umd.min.js",
    "cytoscape.min.js",
]
#: Longest query accepted in ``/query?query=`` (the endpoint has its own limit).
MAX_QUERY_CHARS = 100_000
#: Longest address the page builds: common proxies refuse request lines over 8 KB.
MAX_URL_LENGTH = 8000
ENDPOINT_PATH = "/sparql"  # the SPARQL endpoint (webapp URL layout)
COMPLETE_PATH = "/sparql/complete"  # entity completion by label (webapp.linked_data.sparql)
PAGE_PATH = "/page/"  # entity pages: /page/<id>

DEFAULT_QUERY = """\
PREFIX wd: <{wd}>
PREFIX wdt: <{wdt}>

# Organisations and where they are; ?xLabel columns are filled with labels.
SELECT ?organisation ?organisationLabel ?country ?countryLabel WHERE {{
  ?organisation wdt:{instance_of} wd:{organisation} .
  OPTIONAL {{ ?organisation wdt:{located_in} ?country }}
}}
LIMIT 100
"""


def _menu(examples: list[Example]) -> list[tuple[str, list[Example]]]:
    """Examples grouped under the first audience each names, in AUDIENCES order."""
    return [
        (audience, [e for e in examples if e.audience[0] == audience])
        for audience in AUDIENCES
        if any(e.audience[0] == audience for e in examples)
    ]


@bp.get("/query")
def editor() -> tuple[str, int]:
    """The editor, opened on ``?query=``, on ``?example=<id>``, or on a starter query."""
    cat = get_catalogue()
    examples = cat.examples
    query = request.args.get("query")
    example_id = request.args.get("example")
    chosen = None
    if query is not None and len(query) > MAX_QUERY_CHARS:
        raise BigtentError(
            f"the query in the address is {len(query)} characters long; the editor opens "
            f"queries of up to {MAX_QUERY_CHARS} (use the form: it posts the query instead)",
            title="Query too long",
            status=413,
        )
    if query is None and example_id:  # the no-script "Open" button may send example=
        chosen = examples.get(example_id)
        query = examples.query(chosen)
    if query is None:
        query = DEFAULT_QUERY.format(
            wd=cat.ns["wd"],
            wdt=cat.ns["wdt"],
            instance_of=ids.INSTANCE_OF,
            organisation=ids.ORGANISATION,
            located_in=ids.LOCATED_IN,
        )
    missing = missing_assets(EDITOR_ASSETS)
    listed = examples.all()
    endpoint = request.script_root + ENDPOINT_PATH
    editor_config = {
        **_widget_config(),
        "examples": [examples.as_dict(e) for e in listed],
        "maxUrlLength": MAX_URL_LENGTH,
    }
    return render_template(
        "query.html",
        query=query,
        chosen=chosen,
        menu=_menu(listed),
        endpoint=endpoint,
        formats=FORMATS,
        share_link=share_link(query),
        editor_config=editor_config,
        assets_missing=missing_message(missing) if missing else None,
    ), (503 if missing else 200)


def _widget_config() -> dict[str, object]:
    """What the scripts of /query and /embed need: addresses, prefixes, words."""
    cat = get_catalogue()
    return {
        "endpoint": request.script_root + ENDPOINT_PATH,
        "completePath": request.script_root + COMPLETE_PATH,
        "editorPath": url_for("query_editor.editor"),
        "embedPath": url_for("query_editor.embed"),
        "pagePath": request.script_root + PAGE_PATH,
        "entityNamespace": cat.ns["wd"],
        "prefixes": cat.ns.sparql_prefixes(),
        "vendor": {name: vendor_url(name) for name in VIEW_ASSETS},
        **widget_words(),
    }


@bp.get("/embed")
def embed() -> tuple[str, int]:
    """One result view alone, for a frame on another site: ``/embed#<query>`` runs the
    query in its ``#defaultView:`` (the table when it names none)."""
    missing = missing_assets(EDITOR_ASSETS)
    return render_template(
        "embed.html",
        editor_config=_widget_config(),
        assets_missing=missing_message(missing) if missing else None,
    ), (503 if missing else 200)


def share_link(query: str) -> str:
    """An absolute link that reopens ``query`` in the editor: ``/query?query=…``, or
    ``/query#query=…`` (read by the page's script) when the address would be too long
    for servers to accept."""
    link = url_for("query_editor.editor", query=query, _external=True)
    if len(link) <= MAX_URL_LENGTH:
        return link
    return url_for("query_editor.editor", _external=True) + "#query=" + quote(query, safe="")


@bp.get("/sparql/examples")
def example_list() -> Response:
    """Every example query as JSON: id, title, description, audience, query."""
    if best_type(["application/json"]) is None:
        raise not_acceptable(["application/json"])
    examples = get_catalogue().examples
    body = [examples.as_dict(e) for e in examples.all()]
    response = Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json")
    etag = hashlib.sha256(response.get_data()).hexdigest()[:32]
    return conditional(response, etag, max_age=300)


@bp.get("/sparql/examples/<example_id>.rq")
def example_query(example_id: str) -> Response:
    """One example as a query file, ready for any SPARQL client."""
    examples = get_catalogue().examples
    text = examples.query(examples.get(example_id))
    response = Response(text, content_type="application/sparql-query; charset=utf-8")
    return conditional(response, hashlib.sha256(text.encode()).hexdigest()[:32], max_age=300)
