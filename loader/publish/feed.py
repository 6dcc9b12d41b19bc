"""The change feed: every revision of the log as an Activity Streams 2.0 activity.

Pages are cut by revision id, which only grows: page ``n`` holds the revisions with
ids ``(n-1)*size+1 … n*size``. A page is *complete* once the newest revision id
reaches its end; from then on its content never changes (it is immutable), so a
harvester that has read it never needs it again. Only the newest page grows.

The same pages are published two ways (the web layer picks the syntax):

* a Linked Data Event Stream (https://w3id.org/ldes/specification): the stream
  ``{base}changes`` has one view, page 1; each page links to the next with a
  ``tree:GreaterThanOrEqualToRelation`` on ``as:published``;
* an Activity Streams ``OrderedCollection`` of ``OrderedCollectionPage``s with
  ``prev``/``next`` (IIIF Change Discovery style).

Each activity is ``Create``, ``Update`` or ``Delete`` of one entity. A merge is two
activities: ``Update`` of the target, then ``Delete`` of the merged entity with
``as:target`` naming where it now redirects (and ``owl:sameAs`` on the object).

Versions are ordered even within one second. The revision log records times to the
second (as Wikibase does), so a create and an update of one entity may share
``as:published``. Each member therefore also carries ``prov:generatedAtTime``: its time
with milliseconds, the revisions of one second 1 ms apart in the order of their ids
(:func:`version_time`), which the stream names as ``ldes:timestampPath`` and
``ldes:versionTimestampPath`` (LDES clients that keep the latest version of each entity,
e.g. ldes-client 0.3, compare that time) and ``schema:version``, the revision id, as
``ldes:sequencePath`` and ``ldes:versionSequencePath`` (for clients that order equal
times by sequence).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import OWL, PROV, RDF, SCHEMA, SH, XSD, Namespaces
from loader.storage.revision_log import PRIVATE_STATES, Revision, RevisionLog

AS = "https://www.w3.org/ns/activitystreams#"
LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
DCT = "http://purl.org/dc/terms/"
FEED_PREFIXES = {
    "as": AS,
    "ldes": LDES,
    "tree": TREE,
    "sh": SH,
    "xsd": XSD,
    "schema": SCHEMA,
    "owl": OWL,
    "prov": PROV,
    "dct": DCT,
    "rdf": RDF,
    "wikibase": "http://wikiba.se/ontology#",
    "bt": "https://w3id.org/bigtent/ontology#",
}

#: Activity type of each action the revision log records.
ACTIVITY_TYPES = {
    "create": "Create",
    "update": "Update",
    "restore": "Create",
    "delete": "Delete",
    "merge": "Delete",
    # Hiding and erasing a person withdraw it from the public: harvesters drop it.
    "hide": "Delete",
    "erase": "Delete",
    "unhide": "Create",
}

# Path segments under the base; the web routes mirror them.
STREAM_PATH = "changes"
PAGE_PATH = "changes/page/"
ACTIVITY_PATH = "changes/activity/"
COLLECTION_PATH = "changes/activity-streams"
COLLECTION_PAGE_PATH = "changes/activity-streams/page/"

_TYPE = b"<" + RDF.encode() + b"type>"
#: Revisions of one second get version times 1 ms apart; past this many, they share the
#: last millisecond (their ``schema:version`` still orders them).
MAX_ORDINAL = 999


@dataclass(frozen=True)
class Activity:
    """One revision as a change-feed activity."""

    revision: int
    entity: str
    type: str  # Create | Update | Delete
    action: str  # the log's action: create, update, delete, merge, restore
    published: str  # UTC, ISO 8601, to the second (the revision log's time)
    summary: str
    object_types: tuple[str, ...]  # rdf:type IRIs of the entity at that revision
    redirect: str | None  # merge target
    #: the summary is left out because the entity is hidden or erased now (cache keys
    #: must change with it: the activity did not, what the public may see of it did)
    withheld: bool = False
    #: how many earlier revisions share this one's second (see :func:`version_time`)
    ordinal: int = 0

    @property
    def version_time(self) -> str:
        """``published`` with milliseconds that order the revisions of one second."""
        return version_time(self.published, self.ordinal)


@dataclass(frozen=True)
class FeedPage:
    """One page of the feed."""

    number: int
    first_id: int
    last_id: int  # the last id this page can hold
    activities: tuple[Activity, ...]
    complete: bool  # full: its content never changes again
    last_page: int  # the newest page when this one was read

    @property
    def previous(self) -> int | None:
        """Number of the page before, if any."""
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        """Number of the page after, once this one is complete."""
        return self.number + 1 if self.complete else None

    @property
    def newest_time(self) -> str | None:
        """Time of the newest activity on the page."""
        return self.activities[-1].published if self.activities else None

    @property
    def newest_version_time(self) -> str | None:
        """Version time of the newest activity on the page."""
        return self.activities[-1].version_time if self.activities else None


def version_time(published: str, ordinal: int) -> str:
    """A revision time to the second (``2024-01-31T12:00:00Z``) with milliseconds added:
    the ``ordinal``-th revision of that second (0 for the first) gets ``.000``, ``.001``,
    … (at most ``.999``), so times alone order the revisions of one second. Times in
    another form are returned unchanged.

    >>> version_time("2024-01-31T12:00:00Z", 2)
    '2024-01-31T12:00:00.002Z'
    """
    if len(published) != 20 or not published.endswith("Z") or published[19 - 3] != ":":
        return published
    return f"{published[:-1]}.{min(ordinal, MAX_ORDINAL):03d}Z"


def object_types(entity_iri: str, content: bytes | None) -> tuple[str, ...]:
    """The ``rdf:type`` IRIs of the entity in a canonical N-Triples snapshot."""
    if not content:
        return ()
    prefix = f"<{entity_iri}> ".encode() + _TYPE + b" <"
    found = []
    for line in content.split(b"\n"):
        if line.startswith(prefix):
            found.append(line[len(prefix) :].split(b">", 1)[0].decode())
    return tuple(sorted(found))


def parse_page_number(text: str) -> int:
    """A page number from a URL segment (a positive decimal integer)."""
    if not text.isascii() or not text.isdigit() or len(text) > 12 or text.startswith("0"):
        raise BigtentError(
            f"'{text[:40]}' is not a page number: pages are numbered 1, 2, 3, …",
            title="Bad page number",
        )
    return int(text)


class ChangeFeed:
    """Reads the change feed out of the revision log."""

    def __init__(self, revisions: RevisionLog, ns: Namespaces, page_size: int) -> None:
        if page_size < 1:
            raise BigtentError(
                f"FEED_PAGE_SIZE must be at least 1, got {page_size}",
                status=500,
                title="Bad setting",
            )
        self.revisions = revisions
        self.ns = ns
        self.page_size = page_size

    # --- IRIs -------------------------------------------------------------------------
    @property
    def stream_iri(self) -> str:
        """The ``ldes:EventStream``."""
        return self.ns.base + STREAM_PATH

    def page_iri(self, number: int) -> str:
        """An LDES page (``tree:Node``)."""
        return f"{self.ns.base}{PAGE_PATH}{number}"

    def activity_iri(self, revision: int) -> str:
        """A member: the activity of one revision."""
        return f"{self.ns.base}{ACTIVITY_PATH}{revision}"

    @property
    def collection_iri(self) -> str:
        """The Activity Streams ``OrderedCollection``."""
        return self.ns.base + COLLECTION_PATH

    def collection_page_iri(self, number: int) -> str:
        """An Activity Streams ``OrderedCollectionPage``."""
        return f"{self.ns.base}{COLLECTION_PAGE_PATH}{number}"

    @property
    def shape_iri(self) -> str:
        """The SHACL shape every member conforms to."""
        return self.stream_iri + "#activity"

    # --- reading ------------------------------------------------------------------------
    def last_page(self, last_id: int | None = None) -> int:
        """Number of the newest page (page 1 exists even when the log is empty)."""
        newest = self.revisions.last_id() if last_id is None else last_id
        return newest // self.page_size + 1

    def page_of(self, revision: int) -> int:
        """The page that holds a revision."""
        return (revision - 1) // self.page_size + 1

    def page(self, number: int) -> FeedPage:
        """One page; NotFound when it does not exist (yet)."""
        newest = self.revisions.last_id()
        last_page = self.last_page(newest)
        if number < 1 or number > last_page:
            raise NotFound(
                f"there is no change page {number}: pages run from 1 to {last_page} "
                f"({self.page_size} revisions each, setting FEED_PAGE_SIZE)",
                title="No such page",
            )
        first_id = (number - 1) * self.page_size + 1
        last_id = number * self.page_size
        rows = self.revisions.changes(first_id, min(last_id, newest))
        private = self._private({rev.entity for rev, _ in rows})
        activities: list[Activity] = []
        for rev, content in rows:
            previous = activities[-1] if activities else None
            if previous is None:
                ordinal = self._ordinal(rev)
            elif previous.published == rev.time:
                ordinal = previous.ordinal + 1
            else:
                ordinal = 0
            activities.append(self._activity(rev, content, rev.entity in private, ordinal))
        return FeedPage(
            number=number,
            first_id=first_id,
            last_id=last_id,
            activities=tuple(activities),
            complete=newest >= last_id,
            last_page=last_page,
        )

    def activity(self, revision: int) -> Activity:
        """The activity of one revision; NotFound when there is no such revision."""
        rows = self.revisions.changes(revision, revision) if revision > 0 else []
        if not rows:
            raise NotFound(f"there is no revision {revision}", title="No such activity")
        rev, content = rows[0]
        return self._activity(rev, content, bool(self._private({rev.entity})), self._ordinal(rev))

    def _ordinal(self, rev: Revision) -> int:
        """How many revisions before ``rev`` share its second (looking back at most
        MAX_ORDINAL ids; ids without a revision are skipped)."""
        ordinal = 0
        for earlier in range(rev.id - 1, max(0, rev.id - 1 - MAX_ORDINAL), -1):
            when = self.revisions.revision_time(earlier)
            if when is None:
                continue
            if when != rev.time:
                break
            ordinal += 1
        return ordinal

    def _private(self, entities: set[str]) -> set[str]:
        """Those of ``entities`` that are hidden or erased now."""
        states = self.revisions.states(entities)
        return {e for e, s in states.items() if s.state in PRIVATE_STATES}

    def _activity(
        self, rev: Revision, content: bytes | None, private: bool, ordinal: int
    ) -> Activity:
        # A hidden or erased person's activities keep only what, when and which id:
        # summaries are free text that may name the person (or say why it was hidden).
        return Activity(
            revision=rev.id,
            entity=rev.entity,
            type=ACTIVITY_TYPES.get(rev.action, "Update"),
            action=rev.action,
            published=rev.time,
            summary="" if private else rev.summary,
            object_types=object_types(self.ns.entity(rev.entity).value, content),
            redirect=rev.redirect,
            withheld=private and bool(rev.summary),
            ordinal=ordinal,
        )

    # --- RDF ----------------------------------------------------------------------------
    def activity_triples(self, activity: Activity) -> list[ox.Triple]:
        """The member: the activity and the types of its object."""
        node = ox.NamedNode(self.activity_iri(activity.revision))
        entity = self.ns.entity(activity.entity)
        triples = [
            ox.Triple(node, _iri(RDF + "type"), _iri(AS + activity.type)),
            ox.Triple(node, _iri(AS + "object"), entity),
            ox.Triple(node, _iri(AS + "published"), _time(activity.published)),
            ox.Triple(node, _iri(PROV + "generatedAtTime"), _time(activity.version_time)),
            ox.Triple(node, _iri(SCHEMA + "version"), _integer(activity.revision)),
        ]
        if activity.summary:
            triples.append(ox.Triple(node, _iri(AS + "summary"), ox.Literal(activity.summary)))
        if activity.redirect:
            target = self.ns.entity(activity.redirect)
            triples.append(ox.Triple(node, _iri(AS + "target"), target))
            triples.append(ox.Triple(entity, _iri(OWL + "sameAs"), target))
        triples.extend(
            ox.Triple(entity, _iri(RDF + "type"), _iri(t)) for t in activity.object_types
        )
        return triples

    def stream_triples(self) -> list[ox.Triple]:
        """The event stream: its view, what orders and versions its members, their shape."""
        stream = ox.NamedNode(self.stream_iri)
        shape = ox.NamedNode(self.shape_iri)
        triples = [
            ox.Triple(stream, _iri(RDF + "type"), _iri(LDES + "EventStream")),
            ox.Triple(stream, _iri(TREE + "view"), ox.NamedNode(self.page_iri(1))),
            ox.Triple(stream, _iri(TREE + "shape"), shape),
            ox.Triple(stream, _iri(LDES + "timestampPath"), _iri(PROV + "generatedAtTime")),
            ox.Triple(stream, _iri(LDES + "sequencePath"), _iri(SCHEMA + "version")),
            ox.Triple(stream, _iri(LDES + "versionOfPath"), _iri(AS + "object")),
            ox.Triple(stream, _iri(LDES + "versionTimestampPath"), _iri(PROV + "generatedAtTime")),
            ox.Triple(stream, _iri(LDES + "versionSequencePath"), _iri(SCHEMA + "version")),
            ox.Triple(stream, _iri(LDES + "versionCreateObject"), _iri(AS + "Create")),
            ox.Triple(stream, _iri(LDES + "versionUpdateObject"), _iri(AS + "Update")),
            ox.Triple(stream, _iri(LDES + "versionDeleteObject"), _iri(AS + "Delete")),
            ox.Triple(stream, _iri(DCT + "isPartOf"), ox.NamedNode(self.ns.base + "dataset")),
        ]
        return triples + self._shape_triples(shape)

    def _shape_triples(self, shape: ox.NamedNode) -> list[ox.Triple]:
        """A SHACL shape of the members; it also tells clients to keep the object's types."""
        obj = ox.NamedNode(self.stream_iri + "#object")
        triples = [
            ox.Triple(shape, _iri(RDF + "type"), _iri(SH + "NodeShape")),
            ox.Triple(obj, _iri(RDF + "type"), _iri(SH + "NodeShape")),
        ]
        kinds = ox.BlankNode("kinds")
        triples += _rdf_list(kinds, [_iri(AS + t) for t in ("Create", "Update", "Delete")])
        properties: list[list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]]] = [
            [("path", _iri(RDF + "type")), ("minCount", _integer(1)), ("in", kinds)],
            [
                ("path", _iri(AS + "object")),
                ("minCount", _integer(1)),
                ("maxCount", _integer(1)),
                ("nodeKind", _iri(SH + "IRI")),
                ("node", obj),
            ],
            [
                ("path", _iri(AS + "published")),
                ("minCount", _integer(1)),
                ("maxCount", _integer(1)),
                ("datatype", _iri(XSD + "dateTime")),
            ],
            [
                ("path", _iri(PROV + "generatedAtTime")),
                ("minCount", _integer(1)),
                ("maxCount", _integer(1)),
                ("datatype", _iri(XSD + "dateTime")),
            ],
            [
                ("path", _iri(SCHEMA + "version")),
                ("minCount", _integer(1)),
                ("maxCount", _integer(1)),
                ("datatype", _iri(XSD + "integer")),
            ],
            [
                ("path", _iri(AS + "target")),
                ("maxCount", _integer(1)),
                ("nodeKind", _iri(SH + "IRI")),
            ],
            [("path", _iri(AS + "summary")), ("maxCount", _integer(1))],
        ]
        for index, constraint in enumerate(properties):
            node = ox.BlankNode(f"property{index}")
            triples.append(ox.Triple(shape, _iri(SH + "property"), node))
            triples += [ox.Triple(node, _iri(SH + key), value) for key, value in constraint]
        type_constraint = ox.BlankNode("objectType")
        triples += [
            ox.Triple(obj, _iri(SH + "property"), type_constraint),
            ox.Triple(type_constraint, _iri(SH + "path"), _iri(RDF + "type")),
            ox.Triple(type_constraint, _iri(SH + "nodeKind"), _iri(SH + "IRI")),
        ]
        return triples

    def page_triples(self, page: FeedPage) -> list[ox.Triple]:
        """An LDES page: its members and, once complete, the relation to the next page."""
        stream = ox.NamedNode(self.stream_iri)
        node = ox.NamedNode(self.page_iri(page.number))
        triples = [
            ox.Triple(node, _iri(RDF + "type"), _iri(TREE + "Node")),
            ox.Triple(node, _iri(DCT + "isPartOf"), stream),
        ]
        if page.number == 1:
            triples.append(ox.Triple(stream, _iri(TREE + "view"), node))
        if page.complete:
            triples.append(
                ox.Triple(
                    node,
                    _iri(LDES + "immutable"),
                    ox.Literal("true", datatype=_iri(XSD + "boolean")),
                )
            )
        after = page.next
        if after is not None:
            relation = ox.BlankNode("next")  # fixed labels: a complete page never changes
            triples += [
                ox.Triple(node, _iri(TREE + "relation"), relation),
                ox.Triple(relation, _iri(TREE + "node"), ox.NamedNode(self.page_iri(after))),
            ]
            floor = page.newest_version_time
            if floor is None:  # only if ids had gaps: a plain link
                triples.append(ox.Triple(relation, _iri(RDF + "type"), _iri(TREE + "Relation")))
            else:
                # Revision times never decrease along ids (RevisionLog.append), so every
                # member from the next page on is at least as new as the newest one here.
                triples += [
                    ox.Triple(
                        relation, _iri(RDF + "type"), _iri(TREE + "GreaterThanOrEqualToRelation")
                    ),
                    ox.Triple(relation, _iri(TREE + "path"), _iri(PROV + "generatedAtTime")),
                    ox.Triple(relation, _iri(TREE + "value"), _time(floor)),
                ]
        for activity in page.activities:
            member = ox.NamedNode(self.activity_iri(activity.revision))
            triples.append(ox.Triple(stream, _iri(TREE + "member"), member))
            triples += self.activity_triples(activity)
        return triples

    # --- Activity Streams JSON ------------------------------------------------------------
    def activity_json(self, activity: Activity) -> dict[str, object]:
        """An activity in Activity Streams 2.0 JSON."""
        obj: dict[str, object] = {"id": self.ns.entity(activity.entity).value}
        if activity.object_types:
            obj["type"] = list(activity.object_types)
        item: dict[str, object] = {
            "id": self.activity_iri(activity.revision),
            "type": activity.type,
            "object": obj,
            "published": activity.published,
            "endTime": activity.published,
        }
        if activity.summary:
            item["summary"] = activity.summary
        if activity.redirect:
            item["target"] = {"id": self.ns.entity(activity.redirect).value}
        return item

    def collection_json(self) -> dict[str, object]:
        """The Activity Streams ``OrderedCollection`` of every change."""
        newest = self.revisions.last_id()
        last = self.last_page(newest)
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.collection_iri,
            "type": "OrderedCollection",
            "totalItems": newest,
            "first": {"id": self.collection_page_iri(1), "type": "OrderedCollectionPage"},
            "last": {"id": self.collection_page_iri(last), "type": "OrderedCollectionPage"},
        }

    def collection_page_json(self, page: FeedPage) -> dict[str, object]:
        """One ``OrderedCollectionPage``, oldest activity first."""
        body: dict[str, object] = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.collection_page_iri(page.number),
            "type": "OrderedCollectionPage",
            "partOf": {"id": self.collection_iri, "type": "OrderedCollection"},
            "startIndex": page.first_id - 1,
        }
        if page.previous is not None:
            body["prev"] = {
                "id": self.collection_page_iri(page.previous),
                "type": "OrderedCollectionPage",
            }
        if page.next is not None:
            body["next"] = {
                "id": self.collection_page_iri(page.next),
                "type": "OrderedCollectionPage",
            }
        body["orderedItems"] = [self.activity_json(a) for a in page.activities]
        return body


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _time(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "dateTime"))


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def _rdf_list(head: ox.BlankNode, items: list[ox.NamedNode]) -> list[ox.Triple]:
    triples = []
    node: ox.BlankNode | ox.NamedNode = head
    for index, item in enumerate(items):
        triples.append(ox.Triple(node, _iri(RDF + "first"), item))
        rest: ox.BlankNode | ox.NamedNode = (
            ox.BlankNode(f"{head.value}{index + 1}")
            if index < len(items) - 1
            else _iri(RDF + "nil")
        )
        triples.append(ox.Triple(node, _iri(RDF + "rest"), rest))
        node = rest
    return triples
