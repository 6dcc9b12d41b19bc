"""Harvesting: the dumps (/dumps/), the sitemap, robots.txt and favicon.ico, and the background
thread that keeps the dumps in step with the catalogue.

The dataset description lives in ``webapp.linked_data.dataset`` and the change feed in
``webapp.linked_data.feed``.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import escape
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wrappers import Response as WerkzeugResponse

from loader.base.errors import BigtentError, NotFound
from loader.base.settings import Settings
from loader.publish.dumps import (
    DUMPS,
    DUMPS_BY_NAME,
    DumpScheduler,
    Manifest,
    dump_writer,
    dumps_dir,
    read_manifest,
)
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.i18n import language_etag
from webapp.http.rdf_response import HTML, JSON, choose

bp = Blueprint("harvest", __name__)

SCHEDULER = "bigtent.dumps"
WRITER = "bigtent.dumps.writer"
WRITER_TTL = 10.0  # seconds the answer "who writes the dumps" is kept
SITEMAP_URLS = 50_000  # the sitemaps.org limit per file
DUMP_MAX_AGE = 300
LISTING_MAX_AGE = 60
ROBOTS_MAX_AGE = 3600
# Paths crawlers should leave alone: query URLs (each one a SPARQL query, or a search),
# editing and the staff pages.
ROBOTS_DISALLOW = (
    "/sparql?",
    "/query?",
    "/search?",
    "/edit/",
    "/api/",
    "/admin/",
    "/account",
    "/login",
    "/logout",
    "/session",
)


def init_app(app: Flask) -> None:
    """Register the routes and start keeping the dumps up to date (unless DUMP_INTERVAL
    is 0)."""
    app.register_blueprint(bp)
    settings: Settings = app.extensions["bigtent.settings"]
    if settings.DUMP_INTERVAL <= 0:
        return
    cat = app.extensions["bigtent"]
    scheduler = DumpScheduler(cat.repository, dumps_dir(settings), float(settings.DUMP_INTERVAL))
    app.extensions[SCHEDULER] = scheduler
    cat.on_close(scheduler.stop)
    scheduler.start()


def page_url(entity: str) -> str:
    """The human-readable page of an entity (the pages area serves /page/<id>)."""
    return f"{get_settings().BASE_URL}page/{entity}"


# --- dumps -----------------------------------------------------------------------------
def _listing(manifest: Manifest | None) -> dict[str, Any]:
    base = get_settings().BASE_URL
    files = []
    for kind in DUMPS:
        entry = manifest.file(kind.name) if manifest else None
        if entry is None:
            continue
        files.append(
            {
                "name": kind.name,
                "url": f"{base}dumps/{kind.name}",
                "title": kind.title,
                "flavour": kind.flavour,
                "media_type": kind.media_type,
                "compression": "gzip",
                "bytes": entry.bytes,
                "triples": entry.triples,
                "sha256": entry.sha256,
                "modified": entry.modified,
            }
        )
    return {
        "revision": manifest.revision if manifest else None,
        "generated": manifest.generated if manifest else None,
        "entities": manifest.entities if manifest else None,
        "files": files,
        "dataset": f"{base}dataset",
        "written_by": _writer(),
    }


def _writer() -> str:
    """``"server"`` (a serving process rewrites the dumps after changes) or
    ``"operator"`` (no process will: ``bigtent dump`` on the operator's schedule);
    asked of the shared database at most every few seconds."""
    settings = get_settings()
    cached = current_app.extensions.get(WRITER)
    now = time.monotonic()
    if cached is not None and now - cached[0] < WRITER_TTL:
        return str(cached[1])
    found = dump_writer(settings, get_catalogue().repository.revisions.target)
    current_app.extensions[WRITER] = (now, found)
    return found


@bp.get("/dumps/")
def dumps_index() -> Response:
    """The dump files with size, date, triple count and checksum (HTML or JSON)."""
    chosen = choose([HTML, JSON])
    manifest = read_manifest(dumps_dir(get_settings()))
    listing = _listing(manifest)
    if chosen == JSON:
        response = jsonify(listing)
    else:
        response = Response(render_template("dumps.html", listing=listing))
    tag = f"dumps-{listing['revision']}-{listing['generated']}-{listing['written_by']}-{chosen}"
    if chosen != JSON:
        tag = language_etag(tag)
    return conditional(response, tag, manifest.generated if manifest else None, LISTING_MAX_AGE)


@bp.get("/dumps/<path:name>")
def dump_file(name: str) -> Response:
    """One dump file, with ETag, Last-Modified, 304s and byte ranges."""
    kind = DUMPS_BY_NAME.get(name)
    if kind is None:
        names = ", ".join(d.name for d in DUMPS)
        raise NotFound(
            f"there is no dump file '{name[:80]}'; the dumps are {names} (listed at /dumps/)",
            title="No such dump",
        )
    path = dumps_dir(get_settings()) / kind.name
    # Open first and describe what was opened: a dump renamed into place meanwhile can
    # never be mixed with the headers (size, ETag) of the one before.
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        if _writer() == "operator":
            message = (
                f"{kind.name} has not been written yet. This catalogue's dumps are written "
                "by `bigtent dump` on its operator's schedule, not by the server "
                "(DUMP_INTERVAL is 0); see /dumps/ for when they appear."
            )
        else:
            message = (
                f"{kind.name} has not been written yet; the server writes it in the "
                "background within DUMP_INTERVAL seconds of a change. Try again shortly."
            )
        raise BigtentError(message, title="Not written yet", status=503) from None
    stat = os.fstat(handle.fileno())
    response = send_file(
        handle,
        mimetype="application/gzip",
        as_attachment=True,
        download_name=kind.name,
        conditional=False,
        etag=f"{stat.st_ino:x}-{stat.st_size:x}-{stat.st_mtime_ns:x}",
        last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        max_age=DUMP_MAX_AGE,
    )
    response.content_length = stat.st_size
    # send_file(conditional=True) would stat the path again; this is the same
    # processing (304, 412, 206 ranges) with the size of the file actually opened.
    try:
        response.make_conditional(request.environ, accept_ranges=True, complete_length=stat.st_size)
    except RequestedRangeNotSatisfiable:
        handle.close()
        raise BigtentError(
            f"the Range header asks for bytes that {kind.name} does not have "
            f"(it has {stat.st_size} bytes), or is not a byte range",
            title="Range not satisfiable",
            status=416,
        ) from None
    if response.status_code in (304, 412):  # no body: the file is not needed
        handle.close()
    return response


# --- sitemaps and robots ------------------------------------------------------------------
def _xml_response(body: str, tag: str, last_modified: str | None, max_age: int) -> Response:
    response = Response(body, mimetype="application/xml")
    return conditional(response, tag, last_modified, max_age)


@bp.get("/sitemap.xml")
def sitemap_index() -> Response:
    """A sitemap index: one sitemap per 50 000 entity pages."""
    cat = get_catalogue()
    base = get_settings().BASE_URL
    newest = cat.revisions.last_id()
    live = cat.revisions.entity_count()
    pages = max(1, -(-live // SITEMAP_URLS))
    modified = cat.revisions.revision_time(newest) if newest else None
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines.append('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    for number in range(1, pages + 1):
        lines.append(f"<sitemap><loc>{escape(base)}sitemap-{number}.xml</loc>")
        if modified:
            lines.append(f"<lastmod>{modified}</lastmod>")
        lines.append("</sitemap>")
    lines.append("</sitemapindex>")
    return _xml_response("\n".join(lines) + "\n", f"sitemap-index-{newest}", modified, 300)


@bp.get("/sitemap-<number>.xml")
def sitemap_page(number: str) -> Response:
    """Up to 50 000 entity pages with the date of their newest revision."""
    if not number.isascii() or not number.isdigit() or number.startswith("0") or len(number) > 9:
        raise NotFound(
            f"there is no sitemap '{number[:40]}': sitemaps are numbered 1, 2, 3, … "
            "(listed in /sitemap.xml)",
            title="No such sitemap",
        )
    cat = get_catalogue()
    page = int(number)
    newest = cat.revisions.last_id()
    entries = cat.revisions.live_entities((page - 1) * SITEMAP_URLS, SITEMAP_URLS)
    if not entries and page > 1:
        raise NotFound(
            f"there is no sitemap {page}; /sitemap.xml lists the sitemaps", title="No such sitemap"
        )
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines.append('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    lines.extend(
        f"<url><loc>{escape(page_url(entity))}</loc><lastmod>{when}</lastmod></url>"
        for entity, when in entries
    )
    lines.append("</urlset>")
    modified = max((when for _, when in entries), default=None)
    return _xml_response("\n".join(lines) + "\n", f"sitemap-{page}-{newest}", modified, 300)


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawl everything but query and edit URLs; the sitemap lists every entity page."""
    base = get_settings().BASE_URL
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), ""]
    lines.append(f"Sitemap: {base}sitemap.xml")
    body = "\n".join(lines) + "\n"
    response = Response(body, mimetype="text/plain")
    tag = hashlib.sha256(body.encode()).hexdigest()[:20]
    return conditional(response, tag, None, ROBOTS_MAX_AGE)


@bp.get("/favicon.ico")
def favicon() -> WerkzeugResponse:
    """Browsers ask for ``/favicon.ico`` by themselves (for pages that link none, such as
    data documents): send them to the SVG icon every HTML page links."""
    response = redirect(url_for("static", filename="favicon.svg"), code=301)
    response.cache_control.max_age = ROBOTS_MAX_AGE
    response.cache_control.public = True
    return response


def scheduler() -> DumpScheduler | None:
    """The app's dump scheduler (None when DUMP_INTERVAL is 0)."""
    found: DumpScheduler | None = current_app.extensions.get(SCHEDULER)
    return found


__all__ = ["bp", "init_app", "page_url", "scheduler"]
