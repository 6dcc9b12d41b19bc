"""Consented contact routes: how a person (or organisation) who chose to be reachable
can be contacted, for the peers page.

A record may state a Wikimedia username (P54, Wikidata P4174 semantics) or a public
contact page (P55, an http or https URL). Nothing else is ever a route: the shapes refuse
e-mail addresses and telephone numbers on people, and this module only builds links to
the wiki's own "e-mail this user" page (which keeps the address private) or to the page
given. The values are read from the entity's newest revision in the revision log; hidden
and erased people are never asked about (they are never peers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from loader.base import ids
from loader.base.namespaces import Namespaces
from loader.base.rdf import parse_ntriples
from loader.storage.revision_log import PRIVATE_STATES, RevisionLog

WIKIMEDIA, PAGE = "wikimedia", "page"
#: Longest username or URL used as a route (longer values are ignored).
MAX_ROUTE_LENGTH = 500


@dataclass(frozen=True)
class ContactRoute:
    """One way to contact an entity: the kind, the link and what to show for it."""

    kind: str  # WIKIMEDIA or PAGE
    url: str
    text: str  # the username, or the page's host


def wiki_email_url(wiki_base: str, username: str) -> str:
    """``Special:EmailUser`` of ``username`` on the wiki at ``wiki_base`` (e.g.
    ``https://meta.wikimedia.org/wiki/``); spaces become underscores, as MediaWiki
    writes user names in URLs, and everything else is percent-encoded."""
    name = "_".join(username.strip().split())
    return f"{wiki_base}Special:EmailUser/{quote(name, safe='')}"


def page_route(url: str) -> ContactRoute | None:
    """A contact page as a route, when it is an http or https URL with a host."""
    url = url.strip()
    if len(url) > MAX_ROUTE_LENGTH:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return ContactRoute(PAGE, url, parts.hostname)


def contact_routes(
    log: RevisionLog, ns: Namespaces, entities: Iterable[str], wiki_base: str
) -> dict[str, list[ContactRoute]]:
    """The contact routes of each of ``entities`` that has any (Wikimedia username
    first, then contact pages)."""
    username = ns.predicate("wdt", ids.WIKIMEDIA_USERNAME)
    page = ns.predicate("wdt", ids.CONTACT_PAGE)
    found: dict[str, list[ContactRoute]] = {}
    for entity in entities:
        rev = log.get(entity)
        if rev is None or not rev.snapshot or rev.state in PRIVATE_STATES:
            continue
        if username.value.encode() not in rev.snapshot and page.value.encode() not in rev.snapshot:
            continue  # most records state neither: no parsing
        subject = ns.entity(entity)
        names: list[str] = []
        pages: list[str] = []
        for s, p, o in parse_ntriples(rev.snapshot):
            if s != subject:
                continue
            if p == username:
                names.append(o.value)
            elif p == page:
                pages.append(o.value)
        routes = [
            ContactRoute(WIKIMEDIA, wiki_email_url(wiki_base, name), name.strip())
            for name in sorted(names)
            if name.strip() and len(name) <= MAX_ROUTE_LENGTH
        ]
        routes += [r for r in (page_route(url) for url in sorted(pages)) if r is not None]
        if routes:
            found[entity] = routes
    return found
