"""Full-text search over labels and aliases: ``/search?q=…&type=…&page=…``, as HTML or
JSON (``Accept: application/json`` or ``?format=json``, for type-ahead clients), and
``/search/suggest?q=…``, the few best names for a search box's suggestions.

A query that is an entity id (``Q42``, ``p12``, ``q 42``: any case, spaces allowed) goes
straight to that entity's page (303) when it exists; when it does not, the page says so
and offers entities with a similar id.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from loader.base.errors import BigtentError
from loader.base.ids import INSTANCE_OF
from loader.base.namespaces import ENTITY_ID
from loader.discovery import browse as listing_data
from loader.discovery.search import MAX_QUERY_WORDS, TIER_NAMES, WORD, Results
from loader.discovery.search import search as run_search
from loader.storage.page_index import ALIAS, DESCRIPTION, PageIndex, fold
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.errors import json_only
from webapp.http.rendering import cached_html, index, language_tag
from webapp.http.request_args import check_page_in_range, page_number, reader_languages, wants_json
from webapp.public.browse import ITEM_ID, SLUGS

bp = Blueprint("search", __name__)

#: Longest query accepted, in characters.
MAX_QUERY_LENGTH = 200
RESULTS_PER_PAGE = 20
#: Names a search box suggests while the reader types.
SUGGESTIONS = 8
#: A query that is an entity id: Q or P (any case), then the number, spaces allowed.
ID_QUERY = re.compile(r"^\s*([QqPp])\s*([1-9][0-9]{0,15})\s*$")


def entity_id_query(query: str) -> str | None:
    """The entity id ``query`` names (``"q 42"`` → ``"Q42"``), or None."""
    found = ID_QUERY.match(query)
    if found is None:
        return None
    candidate = found.group(1).upper() + found.group(2)
    return candidate if ENTITY_ID.match(candidate) else None


def _query_arg() -> str:
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY_LENGTH:
        raise BigtentError(
            f"the query is {len(query):,} characters long; at most {MAX_QUERY_LENGTH} are "
            "searched: shorten q",
            title="Query too long",
        )
    return query.strip()


@bp.get("/search")
def search() -> Response | WerkzeugResponse | str:
    """Entities whose labels or aliases match ``q``, best first; an entity id goes
    straight to its page."""
    query = _query_arg()
    as_json = wants_json()
    page = page_number()
    languages = reader_languages()
    found = index()
    type_id, classes = _type_filter(found)
    asked_id = entity_id_query(query)
    jump = asked_id if asked_id is not None and found.exists(asked_id) else None
    if jump is not None and not as_json:
        return redirect(url_for("pages.entity", entity_id=jump), code=303)
    missing = asked_id if asked_id is not None and jump is None else None
    if as_json:
        hits = _found(found, query, classes, page, languages, also=(type_id, jump))
        return jsonify(_as_json(query, type_id, page, hits.results, *hits.labels))

    def render() -> tuple[str, None]:
        similar = (
            get_catalogue().documents.suggest(missing, languages) if missing is not None else []
        )
        hits = _found(found, query, classes, page, languages, also=(type_id,))
        names, descriptions, kinds = hits.labels
        html = render_template(
            "search.html",
            q=query,
            type_id=type_id,
            results=hits.results,
            names=names,
            descriptions=descriptions,
            kinds=kinds,
            page=page,
            pages=hits.pages,
            first=(page - 1) * RESULTS_PER_PAGE + 1,
            jump=jump,
            missing=missing,
            similar=similar,
            type_choices=[(qid, slug) for slug, qid in SLUGS.items()],
            type_names=found.names(SLUGS.values(), languages),
            too_many_words=len(WORD.findall(query)) > MAX_QUERY_WORDS,
            alias=ALIAS,
            tier_names=TIER_NAMES,
        )
        return html, None

    # A result page is kept like any page (popular searches are answered from memory, and
    # a reader's copy gets 304) until the catalogue next changes.
    head = get_catalogue().revisions.last_id()
    asked = f"{query}\x00{type_id}\x00{page}"
    etag = f"search-r{head}-{zlib.crc32(asked.encode()):08x}-{language_tag(languages)}"
    return cached_html(("search", head, query, type_id, page, tuple(languages)), etag, render)


@dataclass(frozen=True)
class _Found:
    results: Results
    pages: int
    #: names, descriptions and classes of the hits
    labels: tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]], dict[str, list[str]]]


def _found(
    found: PageIndex,
    query: str,
    classes: list[str] | None,
    page: int,
    languages: Sequence[str],
    also: Sequence[str | None] = (),
) -> _Found:
    """One page of results, with what the page shows of each hit (and the names of the
    entities ``also`` lists)."""
    offset = (page - 1) * RESULTS_PER_PAGE
    results = found.memo(  # popular queries (type-ahead prefixes) are answered once per change
        ("search", fold(query), tuple(classes or ()), RESULTS_PER_PAGE, offset),
        lambda: run_search(found, query, classes=classes, limit=RESULTS_PER_PAGE, offset=offset),
    )
    pages = check_page_in_range(page, results.total, RESULTS_PER_PAGE)
    ids = [h.id for h in results.hits]
    kinds = found.values(ids, INSTANCE_OF)
    wanted = {*ids, *(c for cs in kinds.values() for c in cs), *(e for e in also if e)}
    names = found.names(wanted, languages)
    descriptions = found.names(ids, languages, kind=DESCRIPTION)
    return _Found(results, pages, (names, descriptions, kinds))


@bp.get("/search/suggest")
@json_only
def suggest() -> Response:
    """The best few names for ``q`` (labels or aliases, any language), as JSON for a
    search box: ``{"query", "go", "results": [{"id", "label", "description", "url"}]}``;
    ``go`` is the page an entity id in ``q`` names, when that entity exists."""
    query = _query_arg()
    languages = reader_languages()
    found = index()
    asked_id = entity_id_query(query)
    go = asked_id if asked_id is not None and found.exists(asked_id) else None
    results = found.memo(
        ("search", fold(query), (), SUGGESTIONS, 0),
        lambda: run_search(found, query, limit=SUGGESTIONS),
    )
    ids = [h.id for h in results.hits]
    names = found.names([*ids, *([go] if go else [])], languages)
    descriptions = found.names(ids, languages, kind=DESCRIPTION)

    def entry(entity: str) -> dict[str, Any]:
        label = names.get(entity)
        description = descriptions.get(entity)
        return {
            "id": entity,
            "label": label[1] if label else entity,
            "labelLanguage": label[0] if label else None,
            "description": description[1] if description else None,
            "url": url_for("pages.entity", entity_id=entity),
        }

    return jsonify(
        {
            "query": query,
            "go": entry(go) if go else None,
            "results": [entry(e) for e in ids],
        }
    )


def _type_filter(found: PageIndex) -> tuple[str | None, list[str] | None]:
    """``?type=`` as a class id and its subclasses, or several class ids separated by
    commas (the type-ahead of a field whose values may be of any of them, e.g. a
    partnership's participants); 400 unless each is a class with instances."""
    raw = request.args.get("type", "")
    if not raw:
        return None, None
    type_id = SLUGS.get(raw, raw)
    classes: list[str] = []
    for one in type_id.split(",")[:10]:
        found_classes = listing_data.subclasses(found, one) if ITEM_ID.match(one) else []
        if not found_classes:
            classes = []
            break
        classes += [c for c in found_classes if c not in classes]
    if not classes or listing_data.member_count(found, classes) == 0:
        raise BigtentError(
            f"type={raw[:40]!r} is not a class with instances here: use a class id such "
            "as Q1 or one of " + ", ".join(SLUGS),
            title="Unknown type",
        )
    return type_id, classes


def _as_json(
    query: str,
    type_id: str | None,
    page: int,
    results: Any,
    names: dict[str, tuple[str, str]],
    descriptions: dict[str, tuple[str, str]],
    kinds: dict[str, list[str]],
) -> dict[str, Any]:
    base = get_settings().BASE_URL
    items = []
    for hit in results.hits:
        label = names.get(hit.id)
        description = descriptions.get(hit.id)
        items.append(
            {
                "id": hit.id,
                "iri": f"{base}entity/{hit.id}",
                "url": url_for("pages.entity", entity_id=hit.id),
                "label": label[1] if label else hit.id,
                "labelLanguage": label[0] if label else None,
                "description": description[1] if description else None,
                "descriptionLanguage": description[0] if description else None,
                "match": {
                    "text": hit.matched,
                    "language": hit.matched_lang,
                    "kind": "alias" if hit.matched_kind == ALIAS else "label",
                    "rank": TIER_NAMES[hit.tier] if hit.tier < len(TIER_NAMES) else "other",
                },
                "classes": kinds.get(hit.id, []),
            }
        )
    return {
        "query": query,
        "type": type_id,
        "page": page,
        "pageSize": RESULTS_PER_PAGE,
        "total": results.total,
        "more": results.more,
        "results": items,
    }
