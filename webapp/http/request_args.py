"""What a page request asks for: the reader's languages, the page number, the format."""

from __future__ import annotations

import re

from flask import request

from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import ENTITY_ID
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.negotiation import best_type, not_acceptable

# BCP 47 as Wikimedia writes it: a primary language and optional subtags.
LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8}){0,3}$")
#: Languages kept from Accept-Language (more only make the cache key longer).
MAX_READER_LANGUAGES = 6
#: Highest page number any listing accepts.
MAX_PAGE = 100_000
HTML, JSON = "text/html", "application/json"


def reader_languages() -> list[str]:
    """The reader's languages in order: ``?uselang=``, then Accept-Language (each tag
    followed by its primary language: pt-BR, pt), then the catalogue's LANGUAGES."""
    chosen: list[str] = []
    uselang = request.args.get("uselang")
    if uselang is not None:
        if not LANGUAGE_TAG.match(uselang):
            raise BigtentError(
                f"uselang={uselang[:40]!r} is not a language code; use one like 'fr' or 'pt-br'"
            )
        chosen += _with_primary(uselang.lower())
    accepted = 0
    for tag, quality in request.accept_languages:
        if accepted >= MAX_READER_LANGUAGES or quality <= 0:
            break
        if LANGUAGE_TAG.match(tag):
            chosen += _with_primary(tag.lower().replace("_", "-"))
            accepted += 1
    chosen += get_settings().languages
    return list(dict.fromkeys(chosen))


def label_languages() -> list[str]:
    """:func:`reader_languages` without those no label, description or alias of the
    catalogue is written in: they cannot change any name shown, so the whole-catalogue
    views (statistics, network and map data) are kept per what is left. Keyed by every
    Accept-Language, each new one was a view of its own, computed afresh while its reader
    waited (seconds of CPU for the statistics at 100k records) and crowding the others'
    results out of their slots."""
    index = get_catalogue().page_index
    index.catch_up()
    in_use = index.written_languages()
    return [lang for lang in reader_languages() if lang in in_use] or get_settings().languages


def _with_primary(tag: str) -> list[str]:
    primary = tag.split("-")[0]
    return [tag] if primary == tag else [tag, primary]


def page_number(name: str = "page") -> int:
    """``?page=`` (or ``?<name>=``; 1 when absent); 400 unless a whole number from 1 to
    MAX_PAGE."""
    raw = request.args.get(name)
    if raw is None:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BigtentError(
            f"{name}={raw[:20]!r} is not a page number: use a whole number from 1 to {MAX_PAGE:,}",
            title="Bad page number",
        )
    return int(raw)


def check_page_in_range(page: int, total: int, size: int) -> int:
    """The number of pages; 404 when ``page`` is past the last one."""
    pages = max(1, -(-total // size))
    if page > pages:
        raise NotFound(
            f"page {page} does not exist: there {'is' if pages == 1 else 'are'} {pages:,} "
            f"page{'s' if pages != 1 else ''} of {size} here",
            title="No such page",
        )
    return pages


def check_entity_id(entity_id: str) -> str:
    """404 unless ``entity_id`` looks like Q42 or P31."""
    if not ENTITY_ID.match(entity_id):
        raise NotFound(
            f"{entity_id[:60]!r} is not an entity id: ids look like Q42 (items) or P31 "
            "(properties). Search the catalogue instead.",
            title="Not found",
        )
    return entity_id


def wants_json() -> bool:
    """True when the client asked for JSON (``?format=json`` or by Accept); 400 for an
    unknown ``format``, 406 when it accepts neither HTML nor JSON."""
    fmt = request.args.get("format")
    if fmt is not None:
        if fmt not in ("json", "html"):
            raise BigtentError(f"format={fmt[:20]!r} is not offered here: use json or html")
        return fmt == "json"
    best = best_type([HTML, JSON])
    if best is None:
        raise not_acceptable([HTML, JSON])
    return best == JSON
