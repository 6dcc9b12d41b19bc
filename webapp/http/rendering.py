"""Helpers every area's pages share: links to entity pages and data documents, the page
index, the rendered-page cache, and what a reader may see of an entity (live, merged,
deleted, hidden). No routes live here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import BT, RDF
from loader.catalogue import Catalogue
from loader.storage.page_index import PageIndex
from loader.storage.revision_log import DELETED, ERASED, HIDDEN, PRIVATE_STATES, REDIRECT, Revision
from loader.storage.visibility import not_found
from webapp.http import auth
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue
from webapp.http.i18n import ui_language
from webapp.http.page_cache import CachedPage, get_page_cache

PERSON = BT + "Person"


def init_app(app: Flask) -> None:
    """Make the link helpers available to every template."""
    app.jinja_env.globals["data_url"] = data_url
    app.jinja_env.globals["page_href"] = page_href


def page_href(entity_id: str) -> str:
    """URL of an entity's page; what ``url_for("pages.entity")`` gives, without its cost
    (pages link to dozens of entities)."""
    return f"{request.script_root}/page/{entity_id}"


def data_url(entity_id: str, extension: str, revision: int | None = None) -> str:
    """URL of an entity's data document (served by the entity-docs area)."""
    url = f"{request.script_root}/data/{entity_id}.{extension}"
    return url if revision is None else f"{url}?revision={revision}"


def index() -> PageIndex:
    """The page index, caught up with the revision log."""
    found = get_catalogue().page_index
    found.catch_up()
    return found


def language_tag(languages: Sequence[str]) -> str:
    """Short stable token for a language choice (in ETags)."""
    return format(zlib.crc32(",".join(languages).encode()), "08x")


def viewer_key(key: tuple[object, ...]) -> tuple[object, ...]:
    """A page-cache key for an anonymous reader: the page's own key plus the interface
    language, which the page is rendered in."""
    return (*key, ui_language())


def cached_html(
    key: tuple[object, ...], etag: str, render: Callable[[], tuple[str, str | None]]
) -> Response:
    """Serve ``key`` from the page cache, rendering (and caching) it when missing;
    answers 304 when the client's copy is current."""
    if auth.current() is not None:
        # Staff pages carry the account's name and CSRF token: rendered for them alone.
        html, _last_modified = render()
        return Response(html, mimetype="text/html")
    key, etag = viewer_key(key), f"{etag}-{ui_language()}"
    cache = get_page_cache()
    page = cache.get(key)
    if page is None:
        html, last_modified = render()
        page = CachedPage(html.encode(), etag, last_modified)
        cache.put(key, page)
    response = Response(page.body, mimetype="text/html")
    return conditional(response, page.etag, page.last_modified, max_age=60)


def check_live(cat: Catalogue, entity_id: str, endpoint: str) -> WerkzeugResponse | None:
    """None when the entity is live; 404 if it never existed, 410 if deleted, a
    redirect to the target's page (same ``endpoint``) if it was merged."""
    state = cat.revisions.state(entity_id)
    if state is None:
        raise unknown_entity(entity_id)
    if state.state in PRIVATE_STATES:
        check_reader_may_see(entity_id)  # the public's 404 or 410; staff see it
        return None
    if state.state == DELETED:
        rev = cat.revisions.get(entity_id)
        when = f" on {rev.time}" if rev else ""
        reason = f" ({rev.summary})" if rev and rev.summary else ""
        raise BigtentError(
            f"{entity_id} was deleted{when}{reason}. Its history is still available.",
            title="Gone",
            status=410,
        )
    if state.state == REDIRECT and state.redirect:
        target = url_for(endpoint, entity_id=state.redirect)
        uselang = request.args.get("uselang")
        if uselang:
            target += "?" + urlencode({"uselang": uselang})
        return redirect(target, code=301)
    return None


def unknown_entity(entity_id: str) -> NotFound:
    """The 404 for an id no entity has: word for word what the public gets for a hidden
    person (:func:`check_reader_may_see`), so that no page tells the two apart."""
    return not_found(entity_id)


def check_reader_may_see(entity_id: str) -> bool:
    """True when ``entity_id`` is hidden and the reader is staff (show a banner); raises
    the public's 404 (hidden, the same as :func:`unknown_entity`) or 410 (erased); False
    for everything else. Every route showing an entity's content, history or revisions
    calls it before reading any of them."""
    cat = get_catalogue()
    state = cat.revisions.state(entity_id)
    if state is None or state.state not in (HIDDEN, ERASED):
        return False
    if state.state == HIDDEN and auth.current() is not None:
        return True
    cat.visibility.check_public(entity_id)
    return False


def page_status(rev: Revision) -> dict[str, bool]:
    """What the entity page needs for the staff controls: is it a person, is it hidden."""
    snapshot = rev.snapshot or b""
    person = f"<{RDF}type> <{PERSON}> .".encode() in snapshot
    return {"person": person, "hidden": rev.state == HIDDEN}
