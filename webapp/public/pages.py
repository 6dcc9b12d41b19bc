"""Human-readable pages: home, the page of each entity, its history and what links to it.

Entity pages are built from the newest revision's snapshot in the revision log plus one
batched label lookup in the page index, and cached rendered, keyed by the log's newest
revision id and the reader's languages (so any change makes older copies unreachable).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from loader.base.errors import BigtentError, NotFound
from loader.base.rdf import parse_ntriples
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.discovery.neighbourhood import PAGE_PARAMETER, SECTIONS, Neighbours
from loader.discovery.network_layout import ring_layout
from loader.publish.describe import describe, referenced_ids
from loader.publish.entity_documents import FORMATS as DOCUMENT_FORMATS
from loader.publish.entity_documents import parse_revision
from loader.publish.schema_org import SchemaTypes, json_ld
from loader.storage.page_index import Backlink
from loader.storage.revision_log import LIVE
from webapp.http import auth, page_cache
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.i18n import language_etag, ui_language
from webapp.http.page_cache import get_page_cache
from webapp.http.rendering import (
    cached_html,
    check_live,
    check_page_id,
    check_reader_may_see,
    index,
    language_tag,
    page_status,
    unknown_entity,
    viewer_key,
)
from webapp.http.request_args import (
    check_page_in_range,
    page_number,
    reader_languages,
)
from webapp.public.recent_changes import HOME_CHANGES, change_names, public_changes

bp = Blueprint("pages", __name__)

#: Backlinks listed on the entity page itself; the rest are on /page/<id>/links.
BACKLINK_PREVIEW = 5
BACKLINKS_PER_PAGE = 50
REVISIONS_PER_PAGE = 50
#: (extension, media type, name) of every data document the entity-docs area serves.
DATA_FORMATS = tuple((f.ext, f.media_type, f.label) for f in DOCUMENT_FORMATS.values())
LINK_KINDS = ("statement", "qualifier", "reference")
_SCHEMA_TYPES = "bigtent.schema_types"
#: Side of a partnership's picture of its parties, in SVG user units.
PICTURE_SIZE = 360


def init_app(app: Flask) -> None:
    """Register the page blueprint, its cache and the template helpers."""
    settings: Settings = app.extensions["bigtent.settings"]
    page_cache.init_app(app, settings.PAGE_CACHE_SIZE)
    app.extensions[_SCHEMA_TYPES] = SchemaTypes()
    app.register_blueprint(bp)


# --- home ------------------------------------------------------------------------------
@bp.get("/")
def home() -> Response:
    """Search first, then a way to the map, the newest changes and how many records of
    each type there are (counted as /browse/ counts them)."""
    languages = reader_languages()
    cat = get_catalogue()
    found = index()
    head = cat.revisions.last_id()
    counted = cat.views.record_counts()  # recomputed in the background after a write
    key = ("home", head, counted.revision, tuple(languages))

    def render() -> tuple[str, None]:
        counts = counted.value
        changes = public_changes(cat, found, limit=HOME_CHANGES)
        names = found.names([c for _, c, _ in counts], languages)
        names.update(change_names(found, changes, languages))
        has_map = "map.map_page" in current_app.view_functions
        html = render_template(
            "home.html",
            counts=counts,
            names=names,
            changes=changes.rows,
            revisions=cat.revisions.count(),
            map_url=url_for("map.map_page") if has_map else None,
        )
        return html, None

    etag = f"home-r{head}-c{counted.revision}-{language_tag(languages)}"
    return cached_html(key, etag, render)


# --- entity page -----------------------------------------------------------------------
@bp.get("/page/<entity_id>")
def entity(entity_id: str) -> Response | WerkzeugResponse:
    """The page of one entity: terms, statements, identifiers, the network around it
    (paged sections), backlinks, data links; ``?revision=N`` shows revision N."""
    check_page_id(entity_id)
    number = parse_revision(request.args.get("revision"))
    if number is not None:
        return _old_revision(entity_id, number)
    pages = {
        key: page_number(PAGE_PARAMETER.format(key))
        for key in SECTIONS
        if PAGE_PARAMETER.format(key) in request.args
    }
    languages = reader_languages()
    cat = get_catalogue()
    head = cat.revisions.last_id()
    paged = tuple(sorted(pages.items()))
    key = ("entity", entity_id, head, tuple(languages), paged)
    cache = get_page_cache()
    if auth.current() is not None or cache.get(viewer_key(key)) is None:
        moved = check_live(cat, entity_id, "pages.entity")
        if moved is not None:
            return moved
    etag = f"page-{entity_id}-r{head}-{language_tag(languages)}"
    if paged:
        etag += "-" + language_tag([f"{k}={v}" for k, v in paged])
    return cached_html(key, etag, lambda: _render_entity(cat, entity_id, languages, head, pages))


def _render_entity(
    cat: Catalogue, entity_id: str, languages: list[str], head: int, pages: dict[str, int]
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
    neighbours = cat.neighbourhood.neighbours(description, languages, ui_language(), pages)
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
        link_counts=found.link_counts(entity_id),
        names=names,
        link_kinds=LINK_KINDS,
        privacy=page_status(rev),
        n=neighbours,
        picture=party_picture(description.id, neighbours),
    )
    return html, rev.time


def _old_revision(entity_id: str, number: int) -> Response:
    """Revision ``number`` of the entity as a page, under a banner saying which; a hidden
    person's revisions answer as its page does (404, or 410 when erased)."""
    cat = get_catalogue()
    if cat.revisions.state(entity_id) is None:
        raise unknown_entity(entity_id)
    hidden = check_reader_may_see(entity_id)  # before any revision is read
    if hidden:  # staff, on a hidden person: the log, as its history page reads it
        rev = cat.revisions.get(entity_id, number)
        if rev is None:
            raise NotFound(f"{entity_id} has no revision {number}", title="No such revision")
    else:
        rev = cat.documents.revision(entity_id, number)  # 404 naming it, 410 if a delete
    if rev.snapshot is None or rev.state != LIVE:
        raise NotFound(
            f"revision {number} of {entity_id} has no content to show (it is a {rev.action}); "
            "the history lists the revisions that do.",
            title="No such revision",
            details={"history": url_for("pages.history", entity_id=entity_id)},
        )
    languages = reader_languages()
    key = ("entity-revision", entity_id, rev.id, tuple(languages))
    etag = f"page-{entity_id}-rev{rev.id}-{language_tag(languages)}"

    def render() -> tuple[str, str]:
        triples = parse_ntriples(rev.snapshot or b"")
        found = index()
        names = found.names(referenced_ids(cat.ns, triples) | {entity_id}, languages)
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
        current = cat.revisions.state(entity_id)
        html = render_template(
            "entity.html",
            e=description,
            reader=languages[0],
            json_ld=None,
            formats=DATA_FORMATS,
            names=names,
            link_kinds=LINK_KINDS,
            privacy=page_status(rev) | {"hidden": hidden},
            old=rev,
            is_latest=current is not None and current.latest == rev.id,
        )
        return html, rev.time

    if hidden:  # a banner and staff controls: for them alone, never cached
        return Response(render()[0], mimetype="text/html")
    return cached_html(key, etag, render)


def party_picture(partnership: str, neighbours: Neighbours) -> dict[str, Any] | None:
    """Where the parties of a partnership sit in its small picture (the partnership in
    the middle, its parties around it, placed as the network picture places them)."""
    if not neighbours.parties:
        return None
    parties = [p.id for p in neighbours.parties]
    placed = ring_layout(
        [(p, "organisation") for p in parties],
        [(p, partnership) for p in parties],
        PICTURE_SIZE / 2 * 0.62,
    )
    return {"size": PICTURE_SIZE, "half": PICTURE_SIZE / 2, "placed": placed}


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
    check_page_id(entity_id)
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
            link_counts=found.link_counts(entity_id),
            usage=found.usage(entity_id) if entity_id.startswith("P") else None,
        )
        return html, None

    return cached_html(key, etag, render)


# --- history ---------------------------------------------------------------------------
@bp.get("/page/<entity_id>/history")
def history(entity_id: str) -> Response:
    """Every revision of an entity, newest first, with links to each version's data."""
    check_page_id(entity_id)
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
