"""Human-readable pages: home, the page of each entity, its history and what links to it.

Entity pages are built from the newest revision's snapshot in the revision log plus one
batched label lookup in the page index, and cached rendered, keyed by the log's newest
revision id and the reader's languages (so any change makes older copies unreachable).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, Response, render_template
from werkzeug.wrappers import Response as WerkzeugResponse

from loader.base.errors import BigtentError
from loader.base.rdf import parse_ntriples
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.publish.describe import describe, referenced_ids
from loader.publish.entity_documents import FORMATS as DOCUMENT_FORMATS
from loader.publish.schema_org import SchemaTypes, json_ld
from loader.storage.page_index import Backlink
from webapp.http import auth, page_cache
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.i18n import language_etag
from webapp.http.page_cache import get_page_cache
from webapp.http.rendering import (
    cached_html,
    check_live,
    check_reader_may_see,
    index,
    language_tag,
    page_status,
    unknown_entity,
    viewer_key,
)
from webapp.http.request_args import (
    check_entity_id,
    check_page_in_range,
    page_number,
    reader_languages,
)

bp = Blueprint("pages", __name__)

#: Backlinks listed on the entity page itself; the rest are on /page/<id>/links.
BACKLINK_PREVIEW = 5
BACKLINKS_PER_PAGE = 50
REVISIONS_PER_PAGE = 50
#: (extension, media type, name) of every data document the entity-docs area serves.
DATA_FORMATS = tuple((f.ext, f.media_type, f.label) for f in DOCUMENT_FORMATS.values())
LINK_KINDS = ("statement", "qualifier", "reference")
_SCHEMA_TYPES = "bigtent.schema_types"


def init_app(app: Flask) -> None:
    """Register the page blueprint, its cache and the template helpers."""
    settings: Settings = app.extensions["bigtent.settings"]
    page_cache.init_app(app, settings.PAGE_CACHE_SIZE)
    app.extensions[_SCHEMA_TYPES] = SchemaTypes()
    app.register_blueprint(bp)


# --- home ------------------------------------------------------------------------------
@bp.get("/")
def home() -> str:
    """Counts per class, with links to browse them."""
    from loader.discovery.browse import class_counts

    languages = reader_languages()
    found = index()
    counts = class_counts(found)
    names = found.names([c for c, _ in counts], languages)
    return render_template(
        "home.html",
        counts=[(c, names.get(c, ("", c)), n) for c, n in counts],
        revisions=get_catalogue().revisions.count(),
    )


# --- entity page -----------------------------------------------------------------------
@bp.get("/page/<entity_id>")
def entity(entity_id: str) -> Response | WerkzeugResponse:
    """The page of one entity: terms, statements, identifiers, backlinks, data links."""
    check_entity_id(entity_id)
    languages = reader_languages()
    cat = get_catalogue()
    head = cat.revisions.last_id()
    key = ("entity", entity_id, head, tuple(languages))
    cache = get_page_cache()
    if auth.current() is not None or cache.get(viewer_key(key)) is None:
        moved = check_live(cat, entity_id, "pages.entity")
        if moved is not None:
            return moved
    etag = f"page-{entity_id}-r{head}-{language_tag(languages)}"
    return cached_html(key, etag, lambda: _render_entity(cat, entity_id, languages, head))


def _render_entity(
    cat: Catalogue, entity_id: str, languages: list[str], head: int
) -> tuple[str, str]:
    rev = cat.revisions.get(entity_id)
    if rev is None or rev.snapshot is None:  # deleted or merged a moment ago
        raise BigtentError(
            f"{entity_id} changed while its page was being built; please reload.",
            title="Conflict",
            status=409,
        )
    triples = parse_ntriples(rev.snapshot)
    found = index()
    total = found.backlink_count(entity_id)
    backlinks = found.backlinks(entity_id, BACKLINK_PREVIEW)
    wanted = referenced_ids(cat.ns, triples) | _backlink_ids(backlinks) | {entity_id}
    names = found.names(wanted, languages)
    description = describe(
        cat.ns,
        entity_id,
        triples,
        languages,
        names,
        found.properties(),
        revision=rev.id,
        modified=rev.time,
    )
    page_url = get_settings().BASE_URL + f"page/{entity_id}"
    types = _schema_types().get(cat.repository, head)
    html = render_template(
        "entity.html",
        e=description,
        reader=languages[0],
        json_ld=json_ld(description, page_url, types),
        formats=DATA_FORMATS,
        backlinks=backlinks,
        backlink_total=total,
        names=names,
        link_kinds=LINK_KINDS,
        privacy=page_status(rev),
    )
    return html, rev.time


def _schema_types() -> SchemaTypes:
    from flask import current_app

    types: SchemaTypes = current_app.extensions[_SCHEMA_TYPES]
    return types


def _backlink_ids(backlinks: Iterable[Backlink]) -> set[str]:
    return {b.source for b in backlinks} | {b.property for b in backlinks}


# --- what links here -------------------------------------------------------------------
@bp.get("/page/<entity_id>/links")
def links(entity_id: str) -> Response:
    """Statements, qualifiers and references of other entities pointing here, paged."""
    check_entity_id(entity_id)
    page = page_number()
    languages = reader_languages()
    cat = get_catalogue()
    if cat.revisions.state(entity_id) is None:
        raise unknown_entity(entity_id)
    check_reader_may_see(entity_id)
    head = cat.revisions.last_id()
    key = ("links", entity_id, page, head, tuple(languages))
    etag = f"links-{entity_id}-{page}-r{head}-{language_tag(languages)}"

    def render() -> tuple[str, None]:
        found = index()
        total = found.backlink_count(entity_id)
        pages = check_page_in_range(page, total, BACKLINKS_PER_PAGE)
        rows = found.backlinks(entity_id, BACKLINKS_PER_PAGE, (page - 1) * BACKLINKS_PER_PAGE)
        names = found.names(_backlink_ids(rows) | {entity_id}, languages)
        html = render_template(
            "links.html",
            entity_id=entity_id,
            names=names,
            rows=rows,
            total=total,
            page=page,
            pages=pages,
            first=(page - 1) * BACKLINKS_PER_PAGE + 1,
            link_kinds=LINK_KINDS,
        )
        return html, None

    return cached_html(key, etag, render)


# --- history ---------------------------------------------------------------------------
@bp.get("/page/<entity_id>/history")
def history(entity_id: str) -> Response:
    """Every revision of an entity, newest first, with links to each version's data."""
    check_entity_id(entity_id)
    page = page_number()
    languages = reader_languages()
    cat = get_catalogue()
    revisions = cat.revisions.history(entity_id)
    if not revisions:
        raise unknown_entity(entity_id)
    hidden = check_reader_may_see(entity_id)  # before anything of the history is read
    pages = check_page_in_range(page, len(revisions), REVISIONS_PER_PAGE)
    start = (page - 1) * REVISIONS_PER_PAGE
    shown = revisions[start : start + REVISIONS_PER_PAGE]
    names = index().names([entity_id], languages)
    html = render_template(
        "history.html",
        entity_id=entity_id,
        names=names,
        revisions=shown,
        total=len(revisions),
        page=page,
        pages=pages,
        state=revisions[0].state,
        merged_into=revisions[0].redirect,
        revisions_latest=revisions[0].id,
        hidden=hidden,
    )
    if auth.current() is not None:  # restore buttons and a CSRF token: for them alone
        return Response(html, mimetype="text/html")
    etag = language_etag(f"history-{entity_id}-{page}-r{revisions[0].id}-{language_tag(languages)}")
    return conditional(Response(html, mimetype="text/html"), etag, revisions[0].time)
