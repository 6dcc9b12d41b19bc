"""The query editor page (``/query``) and the named example queries (``/sparql/examples``).

The page is a plain HTML form that posts to ``/sparql`` and works without JavaScript;
``static/query-editor.js`` turns it into YASGUI (editor + results table), served from
node_modules by :mod:`webapp.public.vendor`, never from a CDN.
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
from webapp.public.vendor import missing_assets, missing_message

bp = Blueprint("query_editor", __name__)

EDITOR_ASSETS = ["yasgui.min.js", "yasgui.min.css"]
#: Longest query accepted in ``/query?query=`` (the endpoint has its own limit).
MAX_QUERY_CHARS = 100_000
#: Longest address the page builds: common proxies refuse request lines over 8 KB.
MAX_URL_LENGTH = 8000
ENDPOINT_PATH = "/sparql"  # the SPARQL endpoint (webapp URL layout)
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
        "endpoint": endpoint,
        "editorPath": url_for("query_editor.editor"),
        "pagePath": request.script_root + PAGE_PATH,
        "entityNamespace": cat.ns["wd"],
        "prefixes": cat.ns.sparql_prefixes(),
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
