"""The change feed: LDES pages and the Activity Streams collection, their caching, the
resume guarantee (read up to T, change things, read again: exactly the changes since T,
in order, deletions and merges included) and bad page ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from graphs import assert_isomorphic, to_rdflib

from loader.base.namespaces import OWL, PROV, RDF, relative_turtle_prefixes
from loader.catalogue import Catalogue
from loader.publish.feed import AS, LDES, TREE

BASE = "https://bigtent.example.org/"
PAGE_SIZE = 50
STREAM = BASE + "changes"
RECORD = """
wd:{qid} a wikibase:Item ;
  rdfs:label "{label}"@en ;
  schema:description "a fictional test organisation"@en ;
  wdt:P1 wd:Q1 ;
  wdt:P48 "2012-05"^^xsd:gYearMonth .
"""


@dataclass(frozen=True)
class Member:
    """An activity as a harvester sees it."""

    iri: str
    type: str
    entity: str
    published: str
    revision: int
    target: str | None
    version_time: datetime  # prov:generatedAtTime, the stream's ldes:timestampPath


@pytest.fixture
def feed_app(make_app: Callable[..., Flask]) -> Flask:
    """The demo catalogue with small feed pages, so it spans several (on each backend)."""
    return make_app(FEED_PAGE_SIZE=PAGE_SIZE)


def catalogue(app: Flask) -> Catalogue:
    cat: Catalogue = app.extensions["bigtent"]
    return cat


def load(cat: Catalogue, tmp_path: Path, qid: str, label: str) -> None:
    path = tmp_path / f"{qid}-{label.replace(' ', '-')}.ttl"
    path.write_text(relative_turtle_prefixes() + RECORD.format(qid=qid, label=label))
    report = cat.load_paths([path], author="tester")
    assert report.ok, report.as_dict()


def fetch(
    client: FlaskClient, iri: str, accept: str = "text/turtle"
) -> tuple[ox.Store, dict[str, str]]:
    """GET an IRI of the feed; the parsed RDF and the response headers."""
    response = client.get(iri.removeprefix(BASE.rstrip("/")), headers={"Accept": accept})
    assert response.status_code == 200, response.get_data(as_text=True)
    store = ox.Store()
    store.load(response.get_data(), ox.RdfFormat.from_media_type(response.mimetype), base_iri=iri)
    return store, dict(response.headers)


def one(
    store: ox.Store, s: ox.NamedNode | ox.BlankNode, p: str
) -> ox.NamedNode | ox.Literal | None:
    found = [q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None)]
    assert len(found) <= 1
    return found[0] if found else None  # type: ignore[return-value]


def instant(text: str) -> datetime:
    """An xsd:dateTime (UTC, ``Z``) as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def members(store: ox.Store) -> list[Member]:
    """The members of a page, as the LDES says: ``<stream> tree:member ?m``."""
    out = []
    for quad in store.quads_for_pattern(ox.NamedNode(STREAM), ox.NamedNode(TREE + "member"), None):
        node = quad.object
        assert isinstance(node, ox.NamedNode)
        kind, obj = one(store, node, RDF + "type"), one(store, node, AS + "object")
        published, version = (
            one(store, node, AS + "published"),
            one(store, node, "http://schema.org/version"),
        )
        target = one(store, node, AS + "target")
        version_time = one(store, node, PROV + "generatedAtTime")
        assert kind and obj and published and version and version_time
        out.append(
            Member(
                node.value,
                kind.value.removeprefix(AS),
                obj.value.removeprefix(BASE + "entity/"),
                published.value,
                int(version.value),
                target.value.removeprefix(BASE + "entity/") if target else None,
                instant(version_time.value),
            )
        )
    return sorted(out, key=lambda m: m.revision)


def walk_ldes(client: FlaskClient, start: str | None = None) -> tuple[list[Member], list[str]]:
    """Follow the event stream from its view (or from ``start``) to the newest page, as
    an LDES client does; returns the members in order and the pages read."""
    if start is None:
        root, _ = fetch(client, STREAM)
        view = one(root, ox.NamedNode(STREAM), TREE + "view")
        assert isinstance(view, ox.NamedNode)
        start = view.value
    found: list[Member] = []
    pages = []
    page: str | None = start
    floor = instant("0001-01-01T00:00:00Z")
    while page is not None:
        store, _ = fetch(client, page)
        pages.append(page)
        batch = members(store)
        assert all(m.version_time >= floor for m in batch)  # the relation that led here held
        found += batch
        relations = [
            q.object
            for q in store.quads_for_pattern(
                ox.NamedNode(page), ox.NamedNode(TREE + "relation"), None
            )
        ]
        assert len(relations) <= 1
        page = None
        if relations:
            relation = relations[0]
            assert isinstance(relation, ox.BlankNode)
            kind = one(store, relation, RDF + "type")
            assert kind == ox.NamedNode(TREE + "GreaterThanOrEqualToRelation")
            assert one(store, relation, TREE + "path") == ox.NamedNode(PROV + "generatedAtTime")
            value = one(store, relation, TREE + "value")
            assert isinstance(value, ox.Literal) and value.datatype.value.endswith("#dateTime")
            floor = instant(value.value)
            node = one(store, relation, TREE + "node")
            assert isinstance(node, ox.NamedNode)
            page = node.value
    return found, pages


def expected_members(cat: Catalogue, after: int = 0) -> list[tuple[int, str, str, str | None]]:
    """(revision, activity type, entity, merge target) for every revision after ``after``."""
    kinds = {"create": "Create", "update": "Update", "delete": "Delete", "merge": "Delete"}
    rows = cat.revisions.changes(after + 1, cat.revisions.last_id())
    return [(r.id, kinds[r.action], r.entity, r.redirect) for r, _ in rows]


def summary(found: list[Member]) -> list[tuple[int, str, str, str | None]]:
    return [(m.revision, m.type, m.entity, m.target) for m in found]


def test_stream_describes_itself(feed_app: Flask) -> None:
    root, headers = fetch(feed_app.test_client(), STREAM)
    stream = ox.NamedNode(STREAM)
    assert one(root, stream, RDF + "type") == ox.NamedNode(LDES + "EventStream")
    assert one(root, stream, TREE + "view") == ox.NamedNode(BASE + "changes/page/1")
    assert one(root, stream, LDES + "timestampPath") == ox.NamedNode(PROV + "generatedAtTime")
    assert one(root, stream, LDES + "versionTimestampPath") == ox.NamedNode(
        PROV + "generatedAtTime"
    )
    assert one(root, stream, LDES + "versionOfPath") == ox.NamedNode(AS + "object")
    version = ox.NamedNode("http://schema.org/version")
    assert one(root, stream, LDES + "sequencePath") == version
    assert one(root, stream, LDES + "versionSequencePath") == version
    assert one(root, stream, LDES + "versionDeleteObject") == ox.NamedNode(AS + "Delete")
    shape = one(root, stream, TREE + "shape")
    assert shape is not None and one(root, shape, RDF + "type") is not None  # type: ignore[arg-type]
    assert "ETag" in headers and "max-age" in headers["Cache-Control"]


def test_every_revision_is_a_member_in_order(feed_app: Flask) -> None:
    cat = catalogue(feed_app)
    found, pages = walk_ldes(feed_app.test_client())
    assert summary(found) == expected_members(cat)
    assert len(pages) == cat.revisions.last_id() // PAGE_SIZE + 1
    assert all(m.iri == f"{BASE}changes/activity/{m.revision}" for m in found)
    first = found[0]
    assert first.type == "Create"


def test_complete_pages_are_immutable_and_the_newest_is_short_lived(feed_app: Flask) -> None:
    client = feed_app.test_client()
    last_page = catalogue(feed_app).revisions.last_id() // PAGE_SIZE + 1
    full = client.get("/changes/page/1", headers={"Accept": "text/turtle"})
    assert "immutable" in full.headers["Cache-Control"]
    assert "max-age=31536000" in full.headers["Cache-Control"]
    assert full.headers["Last-Modified"]
    assert (
        client.get(
            "/changes/page/1",
            headers={"Accept": "text/turtle", "If-None-Match": full.headers["ETag"]},
        ).status_code
        == 304
    )
    newest = client.get(f"/changes/page/{last_page}", headers={"Accept": "text/turtle"})
    assert "immutable" not in newest.headers["Cache-Control"]
    assert "max-age=5" in newest.headers["Cache-Control"]
    again = client.get(
        f"/changes/page/{last_page}",
        headers={"Accept": "text/turtle", "If-None-Match": newest.headers["ETag"]},
    )
    assert again.status_code == 304
    catalogue(feed_app).delete("Q1001", reason="test", author="tester")
    changed = client.get(
        f"/changes/page/{last_page}",
        headers={"Accept": "text/turtle", "If-None-Match": newest.headers["ETag"]},
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != newest.headers["ETag"]
    # The complete page did not change at all.
    assert client.get("/changes/page/1", headers={"Accept": "text/turtle"}).data == full.data


def test_every_syntax_says_the_same(feed_app: Flask) -> None:
    client = feed_app.test_client()
    turtle, _ = fetch(client, BASE + "changes/page/2")
    for media_type in (
        "application/ld+json",
        "application/n-triples",
        "application/rdf+xml",
        "application/n-quads",
        "application/trig",
    ):
        other, _ = fetch(client, BASE + "changes/page/2", media_type)
        assert_isomorphic(
            to_rdflib((q.subject, q.predicate, q.object) for q in turtle),
            to_rdflib((q.subject, q.predicate, q.object) for q in other),
        )
    html = client.get("/changes/page/2", headers={"Accept": "text/html"})
    assert html.status_code == 200 and "Q" in html.get_data(as_text=True)


def read_collection(client: FlaskClient, since: str = "") -> list[dict[str, object]]:
    """IIIF Change Discovery style: from ``last``, walk ``prev`` until activities are
    older than ``since``; returns the activities from ``since`` on, oldest first."""
    collection = client.get("/changes/activity-streams").get_json()
    assert collection["type"] == "OrderedCollection"
    page_id: str | None = collection["last"]["id"]
    found: list[dict[str, object]] = []
    while page_id:
        page = client.get(page_id.removeprefix(BASE.rstrip("/"))).get_json()
        assert page["type"] == "OrderedCollectionPage"
        items = page["orderedItems"]
        found = [a for a in items if str(a["endTime"]) >= since] + found
        if items and str(items[0]["endTime"]) < since:
            break
        page_id = page.get("prev", {}).get("id")
    return found


def test_activity_streams_collection(feed_app: Flask) -> None:
    cat = catalogue(feed_app)
    client = feed_app.test_client()
    collection = client.get("/changes/activity-streams")
    assert collection.mimetype == "application/ld+json"
    body = collection.get_json()
    assert body["@context"] == "https://www.w3.org/ns/activitystreams"
    assert body["totalItems"] == cat.revisions.last_id()
    assert body["first"]["id"].endswith("/page/1")
    activities = read_collection(client)
    assert [int(str(a["id"]).rsplit("/", 1)[1]) for a in activities] == list(
        range(1, cat.revisions.last_id() + 1)
    )
    page2 = client.get("/changes/activity-streams/page/2").get_json()
    assert page2["prev"]["id"].endswith("/page/1") and page2["next"]["id"].endswith("/page/3")
    assert page2["startIndex"] == PAGE_SIZE
    item = page2["orderedItems"][0]
    assert item["type"] in {"Create", "Update", "Delete"}
    assert str(item["object"]["id"]).startswith(BASE + "entity/")
    assert "http://wikiba.se/ontology#Item" in item["object"]["type"] or item["object"]["type"]


def test_harvester_reading_again_gets_exactly_the_changes_since(
    feed_app: Flask, tmp_path: Path
) -> None:
    cat = catalogue(feed_app)
    client = feed_app.test_client()
    # First harvest: everything, through the LDES and through the AS2 collection.
    seen, pages = walk_ldes(client)
    seen_as = read_collection(client)
    last_seen = seen[-1]
    since = last_seen.published
    # Then the catalogue changes: a new entity, an update, a merge and a deletion, enough of
    # them that the newest page fills up and a new one starts.
    load(cat, tmp_path, "Q5000", "Open Knowledge Lab")
    load(cat, tmp_path, "Q5001", "OK Lab")
    load(cat, tmp_path, "Q5000", "Open Knowledge Laboratory")
    cat.merge("Q5001", "Q5000", author="tester")
    cat.delete("Q1001", reason="closed", author="tester")
    for number in range(PAGE_SIZE):
        load(cat, tmp_path, f"Q{6000 + number}", f"Filler organisation {number}")
    # Second harvest, LDES style: start again at the page read last; skip known members.
    again, _ = walk_ldes(client, start=pages[-1])
    known = {m.iri for m in seen}
    new = [m for m in again if m.iri not in known]
    assert summary(new) == expected_members(cat, after=last_seen.revision)
    kinds = [(m.type, m.entity, m.target) for m in new[:6]]
    assert kinds == [
        ("Create", "Q5000", None),
        ("Create", "Q5001", None),
        ("Update", "Q5000", None),
        ("Update", "Q5000", None),  # the merge: the entity kept gets the statements…
        ("Delete", "Q5001", "Q5000"),  # …and the merged one is gone, pointing there
        ("Delete", "Q1001", None),
    ]
    # Second harvest, time based: everything published at or after T, minus what was seen.
    everything, _ = walk_ldes(client)
    assert [m for m in everything if m.published >= since and m.iri not in known] == new
    # Second harvest through the Activity Streams collection, IIIF style.
    known_as = {a["id"] for a in seen_as}
    new_as = [a for a in read_collection(client, since) if a["id"] not in known_as]
    assert [a["id"] for a in new_as] == [m.iri for m in new]
    merged = next(a for a in new_as if a.get("target"))
    assert merged["type"] == "Delete" and merged["target"] == {"id": BASE + "entity/Q5000"}


def test_deleted_and_merged_entities_keep_their_type(feed_app: Flask, tmp_path: Path) -> None:
    cat = catalogue(feed_app)
    load(cat, tmp_path, "Q5000", "Open Knowledge Lab")
    load(cat, tmp_path, "Q5001", "OK Lab")
    redirect, _ = cat.merge("Q5001", "Q5000", author="tester")
    deletion = cat.delete("Q1001", reason="closed", author="tester")
    client = feed_app.test_client()
    for rev, entity in ((redirect, "Q5001"), (deletion, "Q1001")):
        store, headers = fetch(client, f"{BASE}changes/activity/{rev.id}")
        node = ox.NamedNode(f"{BASE}changes/activity/{rev.id}")
        assert one(store, node, RDF + "type") == ox.NamedNode(AS + "Delete")
        types = {
            q.object.value
            for q in store.quads_for_pattern(
                ox.NamedNode(BASE + "entity/" + entity), ox.NamedNode(RDF + "type"), None
            )
        }
        assert "https://w3id.org/bigtent/ontology#Organisation" in types
        assert "immutable" in headers["Cache-Control"]
    store, _ = fetch(client, f"{BASE}changes/activity/{redirect.id}")
    same = one(store, ox.NamedNode(BASE + "entity/Q5001"), OWL + "sameAs")
    assert same == ox.NamedNode(BASE + "entity/Q5000")


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/changes/page/0", 400, "not a page number"),
        ("/changes/page/-1", 400, "not a page number"),
        ("/changes/page/01", 400, "not a page number"),
        ("/changes/page/abc", 400, "not a page number"),
        ("/changes/page/%C3%A9", 400, "not a page number"),
        ("/changes/page/1e3", 400, "not a page number"),
        ("/changes/page/99999999999999999999999", 400, "not a page number"),
        ("/changes/page/999", 404, "pages run from 1 to"),
        ("/changes/activity-streams/page/0", 400, "not a page number"),
        ("/changes/activity-streams/page/999", 404, "FEED_PAGE_SIZE"),
        ("/changes/activity/0", 404, "no revision 0"),
        ("/changes/activity/99999", 404, "no revision 99999"),
        ("/changes/activity/x1", 400, "not a revision id"),
        ("/changes/nothing-here", 404, ""),
    ],
)
def test_bad_page_and_activity_ids(feed_app: Flask, path: str, status: int, words: str) -> None:
    response = feed_app.test_client().get(path, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert words in response.get_json()["error"]


def test_bad_negotiation(feed_app: Flask) -> None:
    client = feed_app.test_client()
    assert client.get("/changes", headers={"Accept": "image/png"}).status_code == 406
    assert (
        client.get("/changes/activity-streams", headers={"Accept": "text/turtle"}).status_code
        == 406
    )
    response = client.get("/changes/page/1?format=pdf", headers={"Accept": "application/json"})
    assert response.status_code == 400 and "ttl" in response.get_json()["error"]
    huge = client.get("/changes", headers={"Accept": "text/turtle;q=0.1, " + "x/y, " * 5000})
    assert huge.status_code == 200


def test_version_times_order_changes_made_within_one_second(
    feed_app: Flask, tmp_path: Path
) -> None:
    """The log keeps times to the second; the members' version times (the stream's
    ldes:timestampPath) still strictly increase along revision ids, across page
    boundaries, and a single activity's document says the same as its page."""
    cat = catalogue(feed_app)
    client = feed_app.test_client()
    for _ in range(5):  # a create and an update of one entity within one second
        first = cat.revisions.last_id()
        load(cat, tmp_path, "Q5100", "Same second")
        load(cat, tmp_path, "Q5100", "Same second, renamed")
        created, updated = (cat.revisions.changes(first + 1, first + 2)[i][0] for i in (0, 1))
        if created.time == updated.time:
            break
    else:
        pytest.skip("no two revisions fell within one second")
    found, _ = walk_ldes(client)
    by_revision = {m.revision: m for m in found}
    pair = [by_revision[created.id], by_revision[updated.id]]
    assert pair[0].published == pair[1].published
    assert pair[0].version_time < pair[1].version_time
    times = [m.version_time for m in found]
    assert times == sorted(times) and len(set(times)) == len(times)
    shared = [m for m in found if m.published == found[PAGE_SIZE].published]
    assert shared  # the demo load makes several revisions a second, also across pages
    for member in (*pair, found[PAGE_SIZE], found[PAGE_SIZE - 1]):
        alone, _ = fetch(client, member.iri)
        node = ox.NamedNode(member.iri)
        value = one(alone, node, PROV + "generatedAtTime")
        assert value is not None and instant(value.value) == member.version_time


def test_version_time_doctests() -> None:
    import doctest

    from loader.publish import feed

    result = doctest.testmod(feed)
    assert result.attempted >= 1 and result.failed == 0
