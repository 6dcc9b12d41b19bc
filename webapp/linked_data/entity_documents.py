"""Linked data: entity IRIs that dereference, and the data documents they point to.

``/entity/Q1`` answers 303 See Other to the representation the client prefers: the
HTML page (``/page/Q1``) or a data document (``/data/Q1.ttl`` …). Statement,
property-predicate, reference and value IRIs dereference too. Documents come from
the revision log (see :mod:`loader.publish.entity_documents`); every answer carries an ETag and
Last-Modified and honours conditional requests.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request, url_for
from werkzeug.routing import BuildError

from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import ENTITY_ID
from loader.publish.entity_documents import FORMATS, RDF_FORMATS, parse_flavor, parse_revision
from loader.storage.revision_log import REDIRECT, Revision
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue
from webapp.http.negotiation import best_type, not_acceptable

bp = Blueprint("documents", __name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
MEDIA_TYPES = {fmt.media_type: ext for ext, fmt in FORMATS.items()}
#: What an entity IRI offers, the page first (browsers send */* too); XHTML last, so
#: that application/* means data.
ENTITY_OFFER = [
    HTML_TYPES[0],
    *(FORMATS[ext].media_type for ext in (*RDF_FORMATS, "json")),
    HTML_TYPES[1],
]
#: What /data/<id> offers: Turtle first; a browser's explicit text/html still wins.
DATA_OFFER = [*(FORMATS[ext].media_type for ext in (*RDF_FORMATS, "json")), *HTML_TYPES]
#: What reference and value nodes offer.
NODE_OFFER = [*(FORMATS[ext].media_type for ext in RDF_FORMATS), *HTML_TYPES]
#: Paths below /prop/ that name a property's predicates (Wikibase's layout).
PREDICATE_KINDS = (
    "direct",
    "statement",
    "qualifier",
    "reference",
    "novalue",
    "statement/value",
    "qualifier/value",
    "reference/value",
)
MAX_ID_LENGTH = 19  # Q or P and up to 18 digits: every revision-log id fits
MAX_READER_LANGUAGES = 6  # each one costs label lookups on a 404
CURRENT_MAX_AGE = 60  # seconds a current document may be reused without asking
REDIRECT_MAX_AGE = 300
_STATEMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.$-]{0,199}$")
_NODE_HASH = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


# --- entity IRIs -------------------------------------------------------------------------
@bp.get("/entity/<entity_id>")
def entity(entity_id: str) -> Response:
    """303 to the page or data document, as the Accept header prefers."""
    eid = _checked_id(entity_id)
    flavor = parse_flavor(request.args.get("flavor"))
    number = parse_revision(request.args.get("revision"))
    rev = _revision(eid, number)
    if rev.state == REDIRECT and number is None:
        return _moved(rev, url_for(".entity", entity_id=rev.redirect, **_data_args()))
    return _see_other(rev, _negotiate(ENTITY_OFFER), flavor)


@bp.get("/entity/statement/<statement_id>")
def statement(statement_id: str) -> Response:
    """A statement IRI: 303 to its entity's page (at the statement) or data document."""
    if not _STATEMENT_ID.match(statement_id):
        raise NotFound(
            f"{statement_id[:80]!r} is not a statement id: statement IRIs look like "
            "entity/statement/Q1-… (the entity id, a dash, then the statement's own id).",
            title="Not found",
        )
    local = statement_id.replace("$", "-", 1)  # Wikibase JSON writes Q1$abc, RDF Q1-abc
    docs = get_catalogue().documents
    owner = docs.entity_using(docs.ns["wds"] + local)
    if owner is None:
        raise NotFound(
            f"There is no statement {local} in this catalogue (it may have been changed or "
            "removed; statement ids change when their value does).",
            title="Not found",
        )
    chosen = _negotiate(ENTITY_OFFER)
    return _see_other(_revision(owner, None), chosen, None, fragment=local)


@bp.get("/prop/<property_id>")
@bp.get("/prop/<path:kind>/<property_id>")
def predicate(property_id: str, kind: str = "") -> Response:
    """A property's predicate IRI (``wdt:P1``, ``p:P1``, ``pq:P1`` …): 303 to the
    property's page or data document, which declares every predicate."""
    if kind and kind not in PREDICATE_KINDS:
        raise NotFound(
            f"prop/{kind[:80]}/ is not a predicate namespace; they are prop/P1 and "
            + ", ".join(f"prop/{k}/P1" for k in PREDICATE_KINDS)
            + ".",
            title="Not found",
        )
    pid = _checked_id(property_id)
    if not pid.startswith("P"):
        raise NotFound(
            f"{pid} is an item; predicates belong to properties (P…), e.g. prop/direct/P1.",
            title="Not found",
        )
    rev = _revision(pid, None)
    if rev.state == REDIRECT:
        return _moved(rev, url_for(".entity", entity_id=rev.redirect))
    return _see_other(rev, _negotiate(ENTITY_OFFER), None)


@bp.get("/reference/<node>", defaults={"kind": "wdref"})
@bp.get("/value/<node>", defaults={"kind": "wdv"})
def node(node: str, kind: str) -> Response:
    """A reference or full-value node: a small document of its triples (HTML readers
    go to the page of an entity that uses it)."""
    label = "reference" if kind == "wdref" else "value"
    if not _NODE_HASH.match(node):
        raise NotFound(
            f"{node[:80]!r} is not a {label} id: {label} IRIs end in a hash such as "
            "5aa9a215d459e65e60023ba0463d810f6fa58f5e.",
            title="Not found",
        )
    docs = get_catalogue().documents
    found = docs.node_triples(docs.ns[kind] + node)
    if found is None:
        raise NotFound(f"No entity in this catalogue uses the {label} {node}.", title="Not found")
    owner, triples = found
    rev = _revision(owner, None)
    chosen = _negotiate(NODE_OFFER)
    if chosen in HTML_TYPES:
        return _see_other(rev, chosen, None)
    ext = MEDIA_TYPES[chosen]
    response = Response(content_type=FORMATS[ext].content_type)
    response = conditional(response, f"{kind}-{node}-{ext}-{rev.id}", rev.time, CURRENT_MAX_AGE)
    if response.status_code == 200:
        response.set_data(docs.render_triples(triples, ext))
    return response


@bp.get("/entity/<path:rest>")
def entity_fallback(rest: str) -> Response:
    """Paths below /entity/ that name nothing (``Q1/x``, ``Q1%2F``): a helpful 404."""
    raise _unknown(rest)


# --- data documents ----------------------------------------------------------------------
@bp.get("/data/<name>")
def data(name: str) -> Response:
    """``/data/Q1`` (negotiated, with Content-Location) or ``/data/Q1.ttl`` (fixed)."""
    entity_id, dot, ext = name.partition(".")
    if dot and ext not in FORMATS and ext != "html":
        raise NotFound(
            f"unknown format {ext[:40]!r}; data documents are /data/{entity_id[:20]}.EXT with "
            "EXT one of " + ", ".join((*FORMATS, "html")) + " (or /data/ID for the format "
            "your Accept header prefers).",
            title="Unknown format",
        )
    eid = _checked_id(entity_id)
    flavor = parse_flavor(request.args.get("flavor"))
    number = parse_revision(request.args.get("revision"))
    rev = _revision(eid, number)
    if rev.state == REDIRECT and number is None:
        moved = f"{rev.redirect}.{ext}" if dot else str(rev.redirect)
        return _moved(rev, url_for(".data", name=moved, **_data_args()))
    chosen = FORMATS[ext].media_type if ext in FORMATS else "text/html"
    if not dot:
        chosen = _negotiate(DATA_OFFER)
    if chosen in HTML_TYPES:
        return _see_other(rev, chosen, flavor)
    ext = MEDIA_TYPES[chosen]
    return _document(rev, ext, flavor, pinned=number is not None, negotiated=not dot)


@bp.get("/data/<path:rest>")
def data_fallback(rest: str) -> Response:
    """Paths below /data/ that name no document: a helpful 404."""
    raise _unknown(rest.partition(".")[0])


# --- helpers -------------------------------------------------------------------------------
def _document(
    rev: Revision, ext: str, flavor: str | None, pinned: bool, negotiated: bool
) -> Response:
    docs = get_catalogue().documents
    fmt = FORMATS[ext]
    etag, modified = f"{rev.id}-{ext}-{flavor or 'default'}", rev.time
    immutable = pinned
    if flavor == "full" and ext != "json":
        # Labels of linked entities change when those entities do.
        last_id, last_time = docs.last_change()
        etag = f"{rev.id}.{last_id}-{ext}-full"
        modified = max(rev.time, last_time or rev.time)
        immutable = False
    response = Response(content_type=fmt.content_type)
    if negotiated:
        response.headers["Content-Location"] = url_for(
            ".data", name=f"{rev.entity}.{ext}", **_data_args()
        )
    response = conditional(response, etag, modified, CURRENT_MAX_AGE, immutable=immutable)
    if response.status_code == 200:
        response.set_data(docs.render(rev, ext, None if ext == "json" else flavor))
    return response


def _see_other(rev: Revision, chosen: str, flavor: str | None, fragment: str = "") -> Response:
    """303 to the page (for HTML) or the data document in the chosen format."""
    if chosen in HTML_TYPES:
        target, what = _page_url(rev.entity, fragment), "page"
    else:
        what = MEDIA_TYPES[chosen]
        target = url_for(".data", name=f"{rev.entity}.{what}", **_data_args())
    response = _redirect(target, 303)
    etag = f"{rev.id}-see-{what}-{flavor or 'default'}"
    return conditional(response, etag, rev.time, CURRENT_MAX_AGE)


def _moved(rev: Revision, target: str) -> Response:
    """301 from a merged entity to its target."""
    response = _redirect(target, 301)
    return conditional(response, f"{rev.id}-merged", rev.time, REDIRECT_MAX_AGE)


def _redirect(target: str, status: int) -> Response:
    response = Response(f"See {target}\n", status=status, mimetype="text/plain")
    response.headers["Location"] = target
    return response


def _page_url(entity_id: str, fragment: str = "") -> str:
    """The entity's HTML page. Built by path: the pages blueprint owns /page/<id>."""
    args = {k: request.args[k] for k in ("uselang", "revision") if k in request.args}
    url = f"{request.script_root}/page/{entity_id}"
    if args:
        url += "?" + urlencode(args)
    return url + (f"#{fragment}" if fragment else "")


def _data_args() -> dict[str, Any]:
    """The query arguments a data document keeps across redirects."""
    return {k: request.args[k] for k in ("flavor", "revision") if request.args.get(k)}


def _negotiate(offered: list[str]) -> str:
    chosen = best_type(offered)
    if chosen is None:
        raise not_acceptable(offered)
    return chosen


def _checked_id(text: str) -> str:
    """``text`` if it is an entity id; otherwise a 404 saying what ids look like."""
    if len(text) <= MAX_ID_LENGTH and ENTITY_ID.match(text):
        return text
    raise _unknown(text)


def _revision(entity_id: str, number: int | None) -> Revision:
    try:
        return get_catalogue().documents.revision(entity_id, number)
    except NotFound as error:
        if "suggestions" in error.details:
            _add_search(error, entity_id)
        raise


def _unknown(text: str) -> BigtentError:
    """404 for a path that names no entity, with why, suggestions and a search form."""
    docs = get_catalogue().documents
    shown = text[:80]
    if len(text) <= MAX_ID_LENGTH and ENTITY_ID.match(text):
        error = docs.unknown(text, _reader_languages())
    else:
        error = docs.unknown(shown, _reader_languages())
        error.message = (
            f"{shown!r} is not an entity id. "
            + _id_hint(text)
            + (" Perhaps you meant one of those below." if error.details["suggestions"] else "")
        )
    _add_search(error, shown)
    return error


def _reader_languages() -> list[str]:
    """?uselang= first, then the Accept-Language header (primary subtags)."""
    chosen = [request.args.get("uselang", "")]
    chosen += [lang.split("-")[0] for lang, _ in request.accept_languages]
    usable = [
        lang.lower() for lang in chosen if len(lang) <= 12 and lang.isascii() and lang.isalpha()
    ]
    return list(dict.fromkeys(usable))[:MAX_READER_LANGUAGES]


def _id_hint(text: str) -> str:
    if len(text) > MAX_ID_LENGTH:
        return f"Entity ids have at most {MAX_ID_LENGTH - 1} digits."
    if re.match(r"^[LEMF][0-9]+", text):
        return "Bigtent has items (Q…) and properties (P…) only: no lexemes, forms or media."
    if re.match(r"^[QP]0[0-9]*$", text):
        return "Ids have no leading zeros and start at 1 (Q1, P1)."
    if re.match(r"^[qp][1-9][0-9]*$", text):
        return "Ids start with a capital Q or P."
    return "Ids are Q (items) or P (properties) followed by a number, e.g. Q42 or P31."


def _add_search(error: BigtentError, text: str) -> None:
    suggestions = error.details.get("suggestions")
    if isinstance(suggestions, list):
        for s in suggestions:
            s["href"] = url_for(".entity", entity_id=s["id"])
    action = _search_action()
    error.details["search"] = {
        "action": action,
        "q": text,
        "href": f"{action}?{urlencode({'q': text})}",
    }


def _search_action() -> str:
    try:
        return url_for("pages.search")
    except BuildError:  # the search page lives in the pages blueprint
        return f"{request.script_root}/search"
