"""Helpers every area's pages share: links to entity pages and data documents, the page
index, the rendered-page cache, and what a reader may see of an entity (live, merged,
deleted, hidden). No routes live here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any, cast
from urllib.parse import urlencode

from flask import (
    Flask,
    Response,
    current_app,
    g,
    get_flashed_messages,
    redirect,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import BT, ENTITY_ID, RDF
from loader.catalogue import Catalogue
from loader.storage.page_index import PageIndex
from loader.storage.revision_log import DELETED, ERASED, HIDDEN, PRIVATE_STATES, REDIRECT, Revision
from webapp.http import auth
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue
from webapp.http.i18n import ui_language
from webapp.http.page_cache import CachedPage, get_page_cache
from webapp.http.request_args import reader_languages

PERSON = BT + "Person"
#: Longest id a path may name: Q or P and up to 18 digits (as the /entity/ routes).
MAX_ID_LENGTH = 19


def init_app(app: Flask) -> None:
    """Make the link helpers available to every template."""
    app.jinja_env.globals["data_url"] = data_url
    app.jinja_env.globals["page_href"] = page_href
    app.jinja_env.globals["path_for"] = path_for
    app.jinja_env.globals["flashed_messages"] = flashed_messages


def flashed_messages() -> list[tuple[str, str]]:
    """The (category, message) pairs flashed for this reader, handed out once per
    request: a page whose parts each include ``_flashes.html`` shows each message once."""
    if g.get("bigtent_flashes_shown"):
        return []
    g.bigtent_flashes_shown = True
    # with categories, Flask gives (category, message) pairs
    pairs = cast(list[tuple[str, str]], get_flashed_messages(with_categories=True))
    return list(pairs)


def page_href(entity_id: str) -> str:
    """URL of an entity's page; what ``url_for("pages.entity")`` gives, without its cost
    (pages link to dozens of entities)."""
    return f"{request.script_root}/page/{entity_id}"


#: Most distinct (script root, endpoint, arguments) ``path_for`` keeps.
_PATHS_KEPT = 1024


def path_for(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` for the fixed links of every page (navigation,
    footer, style sheet), built once per script root: a page has about twenty of them,
    and building each costs as much as rendering a paragraph."""
    paths: dict[tuple[object, ...], str] = current_app.extensions.setdefault("bigtent.paths", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    found = paths.get(key)
    if found is None:
        found = url_for(endpoint, **values)
        if len(paths) >= _PATHS_KEPT:  # only a proxy varying the script root gets here
            paths.clear()
        paths[key] = found
    return found


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
        history = url_for("pages.history", entity_id=entity_id)
        raise BigtentError(
            f"{entity_id} was deleted{when}{reason}. Its history is still available.",
            title="Gone",
            status=410,
            details={"history": history},
        )
    if state.state == REDIRECT and state.redirect:
        target = url_for(endpoint, entity_id=state.redirect)
        uselang = request.args.get("uselang")
        if uselang:
            target += "?" + urlencode({"uselang": uselang})
        return redirect(target, code=301)
    return None


def unknown_entity(entity_id: str) -> NotFound:
    """The 404 for an id no entity has, with suggestions (live ids one keystroke away,
    entities labelled so) linking to their pages: word for word what the public gets
    for a hidden person (:func:`check_reader_may_see`), so that no page tells the two
    apart."""
    error = get_catalogue().documents.unknown(entity_id[:80], reader_languages())
    _link_suggestions(error)
    return error


def check_page_id(text: str) -> str:
    """``text`` if it looks like Q42 or P31; otherwise a 404 saying what ids look like,
    with suggestions (``q1000`` → Q1000, ``Some_Name`` → entities labelled so)."""
    if len(text) <= MAX_ID_LENGTH and ENTITY_ID.match(text):
        return text
    shown = text[:80]
    error = get_catalogue().documents.unknown(shown, reader_languages())
    error.message = (
        f"{shown!r} is not an entity id: ids look like Q42 (items) or P31 (properties)."
        + (" Perhaps you meant one of those below." if error.details["suggestions"] else "")
        + " Search the catalogue instead."
    )
    _link_suggestions(error)
    raise error


def _link_suggestions(error: BigtentError) -> None:
    suggestions = error.details.get("suggestions")
    if isinstance(suggestions, list):
        for suggestion in suggestions:
            suggestion["href"] = page_href(suggestion["id"])


def check_reader_may_see(entity_id: str) -> bool:
    """True when ``entity_id`` is hidden and the reader is staff (show a banner); raises
    the public's 404 (hidden, the same as :func:`unknown_entity`) or 410 (erased); False
    for everything else. Every route showing an entity's content, history or revisions
    calls it before reading any of them."""
    cat = get_catalogue()
    state = cat.revisions.state(entity_id)
    if state is None or state.state not in (HIDDEN, ERASED):
        return False
    if state.state == HIDDEN:
        if auth.current() is not None:
            return True
        raise unknown_entity(entity_id)
    cat.visibility.check_public(entity_id)
    return False


def page_status(rev: Revision) -> dict[str, bool]:
    """What the entity page needs for the staff controls: is it a person, is it hidden."""
    snapshot = rev.snapshot or b""
    person = f"<{RDF}type> <{PERSON}> .".encode() in snapshot
    return {"person": person, "hidden": rev.state == HIDDEN}
