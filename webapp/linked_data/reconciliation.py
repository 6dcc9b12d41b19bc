"""``/reconcile``: the Reconciliation Service API (0.2) for OpenRefine and similar tools.

* ``GET /reconcile`` without queries: the service manifest (JSONP with ``callback=``);
* ``queries=`` (GET parameter or POST form field): a JSON batch, answered per key;
  ``query=`` a single query (a string or a query object);
* ``extend=`` (GET parameter or POST form field): a data extension query
  (``{"ids": [...], "properties": [{"id": "P11"}]}``), answered with the values;
* ``/reconcile/propose_properties?type=Q1&limit=N``: the properties to offer as columns;
* ``/reconcile/preview?id=Q1``: a small HTML card for the preview pane;
* ``/reconcile/suggest/entity|type|property?prefix=…``: auto-completion.

Every JSON input is read within ``MAX_BATCH_BYTES`` by the one bounded parser.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from loader.base import ids
from loader.base.errors import BigtentError, NotFound
from loader.base.ids import RECORD_TYPES
from loader.base.namespaces import ENTITY_ID
from loader.discovery import reconciliation as recon
from loader.discovery.browse import class_counts, subclasses
from loader.discovery.search import search
from loader.storage.page_index import DESCRIPTION
from webapp.http.bodies import parse_json
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.errors import json_only
from webapp.http.rendering import index
from webapp.http.request_args import check_entity_id, reader_languages

bp = Blueprint("reconcile", __name__)

CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,63}$")
#: The classes offered as default types: every record type, in the order pages list them.
DEFAULT_TYPES = tuple(RECORD_TYPES.values())
SUGGESTIONS = 10
#: Longest ``queries`` value accepted (50 queries of generous size).
MAX_BATCH_BYTES = 200_000


def _answer(body: dict[str, Any]) -> Response:
    callback = request.values.get("callback")
    if callback is None:
        return jsonify(body)
    if not CALLBACK.match(callback):
        raise BigtentError(
            "callback must be a JavaScript function name (letters, digits, _ $ .)",
            title="Bad callback",
        )
    text = f"/**/{callback}({json.dumps(body)});"
    return Response(text, mimetype="application/javascript")


def manifest() -> dict[str, Any]:
    """The service manifest."""
    base = get_settings().BASE_URL
    found = index()
    names = found.names(DEFAULT_TYPES, reader_languages())
    service = base + "reconcile"
    return {
        "versions": ["0.1", "0.2"],
        "name": f"Bigtent ({base})",
        "identifierSpace": base + "entity/",
        "schemaSpace": base + "prop/direct/",
        "documentation": base + "reconcile",
        "defaultTypes": [
            {"id": t, "name": names.get(t, ("", t))[1]} for t in DEFAULT_TYPES if found.exists(t)
        ],
        "view": {"url": base + "page/{{id}}"},
        "preview": {"url": base + "reconcile/preview?id={{id}}", "width": 420, "height": 140},
        "suggest": {
            kind: {"service_url": service, "service_path": f"/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {"service_url": service, "service_path": "/propose_properties"},
            "property_settings": [],
        },
    }


def _json(raw: str, what: str, hint: str, title: str, max_bytes: int | None = None) -> Any:
    """``raw`` parsed by the one bounded JSON parser; its 400s say what a reconciliation
    client should have sent (``hint``), its 413s pass through."""
    try:
        return parse_json(raw, what, max_bytes=max_bytes)
    except BigtentError as exc:
        if exc.status != 400:
            raise
        raise BigtentError(f"{exc.message} ({hint})", title=title) from None


def _batch(raw: str) -> dict[str, Any]:
    decoded = _json(
        raw,
        "queries",
        'queries is a JSON object such as {"q0": {"query": "…"}}',
        "Malformed reconciliation batch",
        max_bytes=MAX_BATCH_BYTES,
    )
    queries = recon.parse_batch(decoded)
    found = index()
    languages = reader_languages()
    cat = get_catalogue()
    return {
        key: recon.as_json(recon.reconcile(found, query, languages, cat.revisions, cat.ns))
        for key, query in queries.items()
    }


def _extend(raw: str) -> dict[str, Any]:
    decoded = _json(
        raw,
        "extend",
        'extend is a JSON object such as {"ids": ["Q1"], "properties": [{"id": "P11"}]}',
        "Malformed data extension query",
        max_bytes=MAX_BATCH_BYTES,
    )
    wanted = recon.parse_extend(decoded)
    cat = get_catalogue()
    return recon.extend(index(), cat.revisions, cat.ns, wanted, reader_languages())


@bp.route("/reconcile", methods=["GET", "POST"])
@json_only
def service() -> Response:
    """Manifest, batch of queries, one query, or a data extension query."""
    queries = request.values.get("queries")
    if queries is not None:
        return _answer(_batch(queries))
    extension = request.values.get("extend")
    if extension is not None:
        return _answer(_extend(extension))
    single = request.values.get("query")
    if single is not None:
        raw: object = single
        if single.lstrip().startswith("{"):
            raw = _json(
                single,
                "query",
                "query is a name or a JSON query object",
                "Malformed reconciliation query",
            )
        query = recon.parse_query("query", raw)
        cat = get_catalogue()
        candidates = recon.reconcile(index(), query, reader_languages(), cat.revisions, cat.ns)
        return _answer(recon.as_json(candidates))
    return _answer(manifest())


@bp.get("/reconcile/propose_properties")
@json_only
def propose_properties() -> Response:
    """The properties instances of ``type`` use most, as columns to add."""
    type_id = request.args.get("type", "").strip()
    raw_limit = request.args.get("limit", "10")
    if not raw_limit.isascii() or not raw_limit.isdigit() or len(raw_limit) > 6:
        raise BigtentError("limit must be a positive whole number", title="Bad limit")
    found = index()
    return _answer(recon.propose_properties(found, type_id, int(raw_limit), reader_languages()))


@bp.get("/reconcile/preview")
def preview() -> str:
    """A small card of an entity: label, description, classes, a link to its page."""
    entity = check_entity_id(request.args.get("id", "").strip())
    found = index()
    if not found.exists(entity):
        raise NotFound(f"There is no entity {entity} in this catalogue.", title="Not found")
    languages = reader_languages()
    kinds = found.values([entity], ids.INSTANCE_OF).get(entity, [])
    names = found.names([entity, *kinds], languages)
    description = found.names([entity], languages, kind=DESCRIPTION).get(entity)
    return render_template(
        "reconcile_preview.html",
        entity=entity,
        names=names,
        kinds=kinds,
        description=description,
    )


def _prefix() -> str:
    prefix = request.args.get("prefix", "")
    if len(prefix) > recon.MAX_TEXT:
        raise BigtentError(
            f"prefix is longer than {recon.MAX_TEXT} characters", title="Prefix too long"
        )
    return prefix


@bp.get("/reconcile/suggest/entity")
@json_only
def suggest_entity() -> Response:
    """Entities whose names start with (or contain words starting with) ``prefix``."""
    found = index()
    type_id = request.args.get("type")
    classes = None
    if type_id:
        cls = RECORD_TYPES.get(type_id, type_id)
        if not ENTITY_ID.match(cls):
            raise BigtentError(
                f"type {type_id[:40]!r} is not a class: give an item id such as Q1 or a "
                f"record type ({', '.join(sorted(RECORD_TYPES))})",
                title="Malformed type",
            )
        classes = subclasses(found, cls)
    hits = search(found, _prefix(), classes=classes, limit=SUGGESTIONS).hits
    return _answer(_suggestions([h.id for h in hits]))


@bp.get("/reconcile/suggest/type")
@json_only
def suggest_type() -> Response:
    """Classes with instances whose names match ``prefix``."""
    found = index()
    in_use = {c for c, _ in class_counts(found)}
    hits = search(found, _prefix(), limit=200).hits
    return _answer(_suggestions([h.id for h in hits if h.id in in_use][:SUGGESTIONS]))


@bp.get("/reconcile/suggest/property")
@json_only
def suggest_property() -> Response:
    """Properties whose names match ``prefix``."""
    hits = search(index(), _prefix(), limit=200).hits
    return _answer(_suggestions([h.id for h in hits if h.id.startswith("P")][:SUGGESTIONS]))


def _suggestions(ids: list[str]) -> dict[str, Any]:
    found = index()
    languages = reader_languages()
    names = found.names(ids, languages)
    descriptions = found.names(ids, languages, kind=DESCRIPTION)
    result = []
    for entity in ids:
        item = {"id": entity, "name": names.get(entity, ("", entity))[1]}
        if entity in descriptions:
            item["description"] = descriptions[entity][1]
        result.append(item)
    return {"result": result}
