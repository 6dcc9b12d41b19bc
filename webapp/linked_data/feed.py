"""The change feed over HTTP: /changes (Linked Data Event Stream) and
/changes/activity-streams (Activity Streams 2.0 OrderedCollection).

Complete pages never change: they are served as immutable with a year's cache
lifetime. The newest page grows, so it may be cached for a few seconds only. The one
change an old page or activity sees is a summary withheld once its person is hidden or
erased: the ETag says so, and no copy from before is confirmed (304).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from flask import Blueprint, Response, render_template

from loader.base.errors import BigtentError
from loader.publish.feed import FEED_PREFIXES, Activity, ChangeFeed, FeedPage, parse_page_number
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue
from webapp.http.i18n import language_etag
from webapp.http.rdf_response import HTML, RDF_FORMATS, choose, content_type, serialise

bp = Blueprint("feed", __name__)

RDF_OFFERED = [*RDF_FORMATS, HTML]
AS_JSON = (
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/activity+json",
    "application/json",
)
AS_OFFERED = ["application/ld+json", "application/activity+json", "application/json"]
LATEST_MAX_AGE = 5  # seconds: the newest page changes with every write
ROOT_MAX_AGE = 300
REPRESENTATION = "v1"  # bump when the serialisation of pages changes


def _feed() -> ChangeFeed:
    return get_catalogue().feed


def _page(text: str) -> FeedPage:
    return _feed().page(parse_page_number(text))


def _revision(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 15:
        raise BigtentError(
            f"'{text[:40]}' is not a revision id: activities are numbered 1, 2, 3, …",
            title="Bad revision id",
        )
    return int(text)


def _withheld(activities: Iterable[Activity]) -> str:
    """A tag part naming the activities whose summary is withheld (their entity hidden or
    erased since): they did not change, what the public may see of them did, and a
    client's copy from before must not be confirmed (304)."""
    ids = ",".join(str(a.revision) for a in activities if a.withheld)
    return "-w" + hashlib.sha256(ids.encode()).hexdigest()[:16] if ids else ""


def _page_caching(response: Response, page: FeedPage, tag: str) -> Response:
    newest = page.activities[-1].revision if page.activities else 0
    withheld = _withheld(page.activities)
    modified = None if withheld else page.newest_time  # If-Modified-Since cannot tell
    if page.complete:
        return conditional(response, f"{tag}-complete{withheld}", modified, immutable=True)
    return conditional(response, f"{tag}-{newest}{withheld}", modified, LATEST_MAX_AGE)


def _rdf(triples: list, chosen: str) -> Response:  # type: ignore[type-arg]
    body = serialise(triples, chosen, FEED_PREFIXES)
    return Response(body, content_type=content_type(chosen))


def _html(**context: object) -> Response:
    return Response(render_template("changes.html", **context))


@bp.get("/changes")
def stream() -> Response:
    """The event stream: what it is, how its members are ordered, where to start."""
    feed = _feed()
    chosen = choose(RDF_OFFERED)
    if chosen == HTML:
        last = feed.last_page()
        response = _html(feed=feed, page=None, last_page=last)
        tag = language_etag(f"changes-root-{last}-html")
        return conditional(response, tag, None, LATEST_MAX_AGE)
    response = _rdf(feed.stream_triples(), chosen)
    return conditional(response, f"changes-root-{REPRESENTATION}-{chosen}", None, ROOT_MAX_AGE)


@bp.get("/changes/page/<number>")
def stream_page(number: str) -> Response:
    """One page of the event stream (a ``tree:Node``)."""
    feed = _feed()
    page = _page(number)
    chosen = choose(RDF_OFFERED)
    if chosen == HTML:
        response = _html(feed=feed, page=page, last_page=page.last_page)
    else:
        response = _rdf(feed.page_triples(page), chosen)
    tag = f"changes-{feed.page_size}-{page.number}-{REPRESENTATION}-{chosen}"
    if chosen == HTML:
        tag = language_etag(tag)
    return _page_caching(response, page, tag)


@bp.get("/changes/activity/<revision>")
def activity(revision: str) -> Response:
    """One member: the activity of one revision (it never changes)."""
    feed = _feed()
    found: Activity = feed.activity(_revision(revision))
    chosen = choose([*RDF_OFFERED[:-1], *AS_OFFERED[1:]])
    if chosen in AS_OFFERED[1:]:
        body = {"@context": "https://www.w3.org/ns/activitystreams", **feed.activity_json(found)}
        response = Response(
            json.dumps(body), content_type=AS_JSON[1 if "activity" in chosen else 2]
        )
    else:
        response = _rdf(feed.activity_triples(found), chosen)
    tag = f"activity-{found.revision}-{REPRESENTATION}-{chosen}{_withheld([found])}"
    modified = None if found.withheld else found.published  # If-Modified-Since cannot tell
    return conditional(response, tag, modified, immutable=True)


@bp.get("/changes/activity-streams")
def collection() -> Response:
    """The Activity Streams ``OrderedCollection``: total and first and last pages."""
    feed = _feed()
    chosen = choose(AS_OFFERED)
    body = feed.collection_json()
    response = Response(json.dumps(body), content_type=AS_JSON[AS_OFFERED.index(chosen)])
    tag = f"collection-{feed.page_size}-{body['totalItems']}-{REPRESENTATION}-{chosen}"
    return conditional(response, tag, None, LATEST_MAX_AGE)


@bp.get("/changes/activity-streams/page/<number>")
def collection_page(number: str) -> Response:
    """One ``OrderedCollectionPage``, oldest activity first, with ``prev`` and ``next``."""
    feed = _feed()
    page = _page(number)
    chosen = choose(AS_OFFERED)
    body = json.dumps(feed.collection_page_json(page))
    response = Response(body, content_type=AS_JSON[AS_OFFERED.index(chosen)])
    tag = f"collection-{feed.page_size}-{page.number}-{REPRESENTATION}-{chosen}"
    return _page_caching(response, page, tag)
