"""The readable list of recent changes: ``/recent-changes``, newest first, with labels,
authors, summaries and diff links, filtered by record type, author and kind of change,
paged by revision id (``?before=N``).

``/changes`` stays the change feed machines read (Linked Data Event Stream and Activity
Streams, oldest first, fixed pages); this is its page for people. It shows no more than
is public already: authors and summaries are on every entity's history page, and the
revisions of a person hidden or erased now are left out entirely (the feed keeps their
ids and times; here there is nothing to read in them).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from loader.base.errors import BigtentError
from loader.base.ids import RECORD_TYPES
from loader.catalogue import Catalogue
from loader.staff.audit import KINDS, ChangesPage, recent_changes
from loader.storage.page_index import PageIndex
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue
from webapp.http.i18n import language_etag
from webapp.http.rendering import index, language_tag
from webapp.http.request_args import reader_languages

bp = Blueprint("recent_changes", __name__)

CHANGES_PER_PAGE = 50
#: Changes the home page shows.
HOME_CHANGES = 5
MAX_AUTHOR = 200
PARAMETERS = frozenset({"type", "author", "kind", "before", "uselang"})
LATEST_MAX_AGE = 5  # seconds: the list changes with every write


def public_changes(
    cat: Catalogue,
    found: PageIndex,
    *,
    limit: int,
    before: int | None = None,
    author: str | None = None,
    kind: str | None = None,
    entity_class: str | None = None,
) -> ChangesPage:
    """Newest changes first, as the public may see them (no hidden or erased people)."""
    return recent_changes(
        cat.revisions,
        found,
        limit=limit,
        before=before,
        author=author,
        kind=kind,
        entity_class=entity_class,
        public=True,
    )


def change_names(
    found: PageIndex, page: ChangesPage, languages: list[str]
) -> dict[str, tuple[str, str]]:
    """Labels of the entities a page of changes names."""
    wanted = {r.entity for r in page.rows} | {r.redirect for r in page.rows if r.redirect}
    return found.names(wanted, languages)


def _filters() -> tuple[str | None, str | None, str | None, int | None]:
    """(type slug, author, kind, before) from the query string; 400 for anything else."""
    unknown = sorted(set(request.args) - PARAMETERS)
    if unknown:
        raise BigtentError(
            f"unknown parameter {unknown[0][:40]!r}: filter with type, author, kind and "
            "page with before",
            title="Unknown parameter",
        )
    slug = request.args.get("type", "").strip() or None
    if slug is not None and slug not in RECORD_TYPES:
        raise BigtentError(
            f"type={slug[:40]!r} is not a record type: use one of {', '.join(RECORD_TYPES)}",
            title="Bad filter",
        )
    author = request.args.get("author", "").strip() or None
    if author is not None and len(author) > MAX_AUTHOR:
        raise BigtentError(
            f"author is too long (at most {MAX_AUTHOR} characters)", title="Bad filter"
        )
    kind = request.args.get("kind", "").strip() or None
    if kind is not None and kind not in KINDS:
        raise BigtentError(
            f"kind={kind[:20]!r} is not a kind of change: use one of {', '.join(KINDS)}",
            title="Bad filter",
        )
    raw = request.args.get("before", "").strip()
    if raw and (not raw.isascii() or not raw.isdigit() or len(raw) > 12):
        raise BigtentError(
            f"before={raw[:20]!r} is not a revision number: revisions are whole numbers",
            title="Bad revision number",
        )
    return slug, author, kind, int(raw) if raw else None


@bp.get("/recent-changes")
def recent() -> Response:
    """Recent changes, newest first, filtered and paged."""
    slug, author, kind, before = _filters()
    languages = reader_languages()
    cat = get_catalogue()
    found = index()
    page = public_changes(
        cat,
        found,
        limit=CHANGES_PER_PAGE,
        before=before,
        author=author,
        kind=kind,
        entity_class=RECORD_TYPES[slug] if slug else None,
    )
    names = change_names(found, page, languages)
    types = list(RECORD_TYPES.items())
    type_names = found.names([q for _, q in types], languages)
    filters = {k: v for k, v in (("type", slug), ("author", author), ("kind", kind)) if v}
    html = render_template(
        "recent_changes.html",
        page=page,
        names=names,
        kinds=KINDS,
        types=types,
        type_names=type_names,
        slug=slug or "",
        author=author or "",
        kind=kind or "",
        before=before,
        filters=filters,
    )
    head = cat.revisions.last_id()
    chosen = language_tag([f"{k}={v}" for k, v in sorted(filters.items())])
    tag = language_etag(f"recent-{chosen}-{before}-r{head}-{language_tag(languages)}")
    return conditional(Response(html, mimetype="text/html"), tag, None, LATEST_MAX_AGE)
