"""Entity data documents: the RDF and Wikibase JSON served at ``/data/<id>``.

A document is one revision of one entity in one format and flavor. Documents are
built from the revision log, which keeps every revision's full snapshot as
N-Triples: the default N-Triples document is that snapshot plus the data-document
header (no store query, no parsing); other formats cost one parse and one
serialisation, both in Rust. Only the ``full`` flavor (labels of linked entities)
and the dereferencing of statement, reference and value IRIs read the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.entity_json import entity_json
from loader.errors import BigtentError, Gone, NotFound
from loader.jsonld import compact_jsonld
from loader.lru import ByteLRU
from loader.namespaces import ENTITY_ID, PROPERTY_LINKS, RDF, RDFS, WIKIBASE
from loader.reader import Triple
from loader.revisions import DELETED, Revision

if TYPE_CHECKING:
    from loader.catalogue import Catalogue

#: Flavors besides the default (the record as stored).
FLAVORS = ("simple", "full")

#: Prefixes written into Turtle, RDF/XML and JSON-LD documents.
DOCUMENT_PREFIXES = (
    "wd", "wds", "wdt", "p", "ps", "psv", "pq", "pqv", "pr", "prv", "wdno", "wdref", "wdv",
    "wdata", "wikibase", "bt", "rdf", "rdfs", "xsd", "owl", "skos", "schema", "prov",
)  # fmt: skip

#: Most revisions listed in a "no such revision" message.
LISTED_REVISIONS = 20
#: Most suggestions offered for an unknown entity.
SUGGESTIONS = 5
#: Longest text looked up as a label when a path is no entity id.
MAX_LABEL_LOOKUP = 100

RDF_TYPE = ox.NamedNode(RDF + "type")
LABEL = ox.NamedNode(RDFS + "label")
PROPERTY_TYPE = ox.NamedNode(WIKIBASE + "propertyType")
_PROPERTY_FACTS = (
    RDF_TYPE,
    LABEL,
    PROPERTY_TYPE,
    *(ox.NamedNode(WIKIBASE + link) for _, link in PROPERTY_LINKS),
)


@dataclass(frozen=True)
class Format:
    """One serialisation of a document."""

    ext: str
    media_type: str
    rdf_format: ox.RdfFormat | None  # None: written in Python (JSON-LD, Wikibase JSON)

    @property
    def content_type(self) -> str:
        """The Content-Type header value."""
        return f"{self.media_type}; charset=utf-8"


FORMATS: dict[str, Format] = {
    "ttl": Format("ttl", "text/turtle", ox.RdfFormat.TURTLE),
    "nt": Format("nt", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    "jsonld": Format("jsonld", "application/ld+json", None),
    "rdf": Format("rdf", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    "json": Format("json", "application/json", None),
}
RDF_FORMATS = ("ttl", "nt", "jsonld", "rdf")


@dataclass(frozen=True)
class Suggestion:
    """An existing entity offered instead of a missing one."""

    id: str
    label: str


class EntityDocuments:
    """Builds entity documents from the revision log (owned by the Catalogue)."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat
        self.ns = cat.ns
        self.prefixes = {name: cat.ns[name] for name in DOCUMENT_PREFIXES}
        # Revisions and rendered documents, keyed so that a change is never served
        # stale: the current revision under the log's change counter, everything
        # else under revision ids (a revision never changes).
        self._cache: ByteLRU[object] = ByteLRU(int(cat.settings.DOCUMENT_CACHE_MB) << 20)

    # --- which revision ----------------------------------------------------------------
    def revision(self, entity: str, number: int | None = None) -> Revision:
        """The entity's newest revision (or revision ``number``), with its snapshot.

        Unknown entities and revisions raise NotFound (with suggestions); a deleted
        entity raises Gone saying when and why. A merged entity's revision is returned
        as it is (``state == REDIRECT``): the caller redirects."""
        log = self.cat.revisions
        key = ("revision", entity, number if number is not None else -log.last_id())
        cached = self._cache.get(key)
        if isinstance(cached, Revision):
            return cached
        rev = self._read_revision(entity, number)
        self._cache.put(key, rev, len(rev.snapshot or b"") + 500)
        return rev

    def _read_revision(self, entity: str, number: int | None) -> Revision:
        log = self.cat.revisions
        if number is None:
            rev = log.get(entity)
            if rev is None:
                raise self.unknown(entity)
            if rev.state == DELETED:
                raise self.gone(rev)
            return rev
        rev = log.get(entity, number)
        if rev is None:
            history = log.history(entity)
            if not history:
                raise self.unknown(entity)
            ids = [r.id for r in reversed(history)]
            shown = ", ".join(str(i) for i in ids[-LISTED_REVISIONS:])
            more = ""
            if len(ids) > LISTED_REVISIONS:
                more = f" (the newest {LISTED_REVISIONS} of {len(ids)})"
            raise NotFound(
                f"{entity} has no revision {number}. Its revisions are {shown}{more}; "
                "?revision= takes one of them (revision ids count across the whole catalogue).",
                title="No such revision",
                details={"revisions": ids[-LISTED_REVISIONS:]},
            )
        if rev.state == DELETED:
            raise Gone(
                f"revision {rev.id} deleted {entity} on {rev.time}: {rev.summary}",
                title="Gone",
                details={"deleted": rev.time, "reason": rev.summary},
            )
        return rev

    def gone(self, rev: Revision) -> Gone:
        """The 410 for a deleted entity."""
        return Gone(
            f"{rev.entity} was deleted on {rev.time} (revision {rev.id}). Reason: {rev.summary}",
            title="Gone",
            details={"deleted": rev.time, "reason": rev.summary, "revision": rev.id},
        )

    def unknown(self, text: str, languages: Sequence[str] = ()) -> NotFound:
        """The helpful 404 for a path that names no entity (suggestions labelled in
        ``languages``, then LANGUAGES)."""
        suggestions = self.suggest(text, languages)
        return NotFound(
            f"There is no entity {text[:80]!r} in this catalogue."
            + (" Perhaps you meant one of those below." if suggestions else "")
            + " Entity ids look like Q42 (items) or P31 (properties).",
            title="Not found",
            details={"suggestions": [{"id": s.id, "label": s.label} for s in suggestions]},
        )

    def last_change(self) -> tuple[int, str | None]:
        """(id, time) of the newest revision in the catalogue (for the ``full`` flavor,
        whose labels of other entities change when those entities do)."""
        recent = self.cat.revisions.recent(1)
        return (recent[0].id, recent[0].time) if recent else (0, None)

    # --- documents ---------------------------------------------------------------------
    def ntriples(self, rev: Revision) -> bytes:
        """The revision's graph as N-Triples: content plus data-document header."""
        return self.cat.revision_ntriples(rev)

    def triples(self, rev: Revision, flavor: str | None = None) -> list[Triple]:
        """The revision's triples in a flavor (None: the record as stored)."""
        data = self.ntriples(rev)
        triples: list[Triple] = [
            (q.subject, q.predicate, q.object) for q in ox.parse(data, ox.RdfFormat.N_TRIPLES)
        ]
        if flavor == "simple":
            return self._simple(rev.entity, triples)
        if flavor == "full":
            return triples + self.linked_facts(rev.entity, triples)
        return triples

    def render(self, rev: Revision, ext: str, flavor: str | None = None) -> bytes:
        """The document's bytes in format ``ext`` (a key of FORMATS)."""
        # The full flavor shows other entities' labels: it changes when they do.
        changes = self.cat.revisions.last_id() if flavor == "full" else 0
        key = ("document", rev.id, ext, flavor, changes)
        cached = self._cache.get(key)
        if isinstance(cached, bytes):
            return cached
        body = self._render(rev, ext, flavor)
        self._cache.put(key, body, len(body) + 100)
        return body

    def _render(self, rev: Revision, ext: str, flavor: str | None) -> bytes:
        if flavor is None and ext in ("nt", "ttl", "rdf"):
            data = self.ntriples(rev)
            if ext == "nt":
                return data
            # Straight from the parser to the serialiser: no Python objects per triple.
            return self._serialize(ox.parse(data, ox.RdfFormat.N_TRIPLES), ext)
        if ext == "json":
            document = entity_json(
                self.ns, rev.entity, self.triples(rev), rev.id, rev.time, self.property_type
            )
            return json.dumps(document, ensure_ascii=False).encode()
        return self.render_triples(self.triples(rev, flavor), ext)

    def render_triples(self, triples: Sequence[Triple], ext: str) -> bytes:
        """Any triples in one of the RDF formats (``ttl``, ``nt``, ``jsonld``, ``rdf``)."""
        if ext == "jsonld":
            return compact_jsonld(triples, self.prefixes)
        return self._serialize((ox.Triple(s, p, o) for s, p, o in triples), ext)

    def _serialize(self, triples: Iterable[ox.Triple] | Iterable[ox.Quad], ext: str) -> bytes:
        rdf_format = FORMATS[ext].rdf_format
        assert rdf_format is not None
        prefixes = None if ext == "nt" else self.prefixes
        return ox.serialize(triples, format=rdf_format, prefixes=prefixes) or b""

    def _simple(self, entity: str, triples: list[Triple]) -> list[Triple]:
        """Truthy triples, labels, descriptions, aliases and types: what the entity says
        directly, without statement nodes."""
        me = self.ns.entity(entity)
        doc = self.ns.data_document(entity)
        kept = []
        for s, p, o in triples:
            if s == doc:
                kept.append((s, p, o))
            elif s == me:
                split = self.ns.split_predicate(p.value)
                if split is None or split[0] != "p":
                    kept.append((s, p, o))
        return kept

    def linked_facts(self, entity: str, triples: Iterable[Triple]) -> list[Triple]:
        """Labels (in LANGUAGES) of every entity and property the triples link to, and
        each linked property's type and predicates."""
        languages = set(self.cat.settings.languages)
        linked: set[str] = set()
        for _s, p, o in triples:
            split = self.ns.split_predicate(p.value)
            if split is not None:
                linked.add(split[1])
            if isinstance(o, ox.NamedNode):
                eid = self.ns.entity_id(o.value)
                if eid is not None:
                    linked.add(eid)
                else:
                    split = self.ns.split_predicate(o.value)  # a wdno: class
                    if split is not None:
                        linked.add(split[1])
        linked.discard(entity)
        store = self.cat.store
        out: list[Triple] = []
        for eid in sorted(linked, key=lambda i: (i[0], int(i[1:]))):
            iri = self.ns.entity(eid)
            for term in store.objects(iri, LABEL):
                if isinstance(term, ox.Literal) and term.language in languages:
                    out.append((iri, LABEL, term))
            if eid.startswith("P"):
                for predicate in _PROPERTY_FACTS[2:]:
                    out.extend((iri, predicate, term) for term in store.objects(iri, predicate))
        return out

    def property_type(self, pid: str) -> str | None:
        """A property's ``wikibase:propertyType`` local name, or None."""
        for term in self.cat.store.objects(self.ns.entity(pid), PROPERTY_TYPE):
            return term.value.removeprefix(WIKIBASE)
        return None

    # --- statement, reference and value IRIs --------------------------------------------
    def entity_using(self, iri: str) -> str | None:
        """The entity whose graph has ``iri`` as a subject (statement, reference or
        value node), or None."""
        rows = self.cat.select(
            "SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1",
            {"s": ox.NamedNode(iri)},
        )
        if not rows:
            return None
        return self.ns.data_document_entity(rows[0]["g"].value)

    def node_triples(self, iri: str) -> tuple[str, list[Triple]] | None:
        """(entity using it, triples) of a reference or value node: its own triples and
        those of the value nodes it points to. None when no entity uses it."""
        entity = self.entity_using(iri)
        if entity is None:
            return None
        graph = {"g": self.ns.data_document(entity)}
        node = ox.NamedNode(iri)
        out: list[Triple] = []
        for row in self.cat.select(
            "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", {**graph, "s": node}
        ):
            out.append((node, row["p"], row["o"]))  # type: ignore[arg-type]
        wdv = self.ns["wdv"]
        nested = {o for _, _, o in out if isinstance(o, ox.NamedNode) and o.value.startswith(wdv)}
        for value in sorted(nested, key=lambda n: n.value):
            for row in self.cat.select(
                "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", {**graph, "s": value}
            ):
                out.append((value, row["p"], row["o"]))  # type: ignore[arg-type]
        return entity, out

    # --- suggestions -------------------------------------------------------------------
    def suggest(self, text: str, languages: Sequence[str] = ()) -> list[Suggestion]:
        """Live entities whose id is one keystroke from ``text``, or whose label in one
        of ``languages`` or LANGUAGES is ``text`` (in a few letter cases), best first."""
        languages = list(dict.fromkeys([*languages, *self.cat.settings.languages]))
        candidates = _id_candidates(text)
        found: list[str] = []
        if candidates:
            states = self.cat.revisions.states(candidates)
            found = [c for c in candidates if c in states and states[c].state == "live"]
        elif 0 < len(text) <= MAX_LABEL_LOOKUP:
            found = self._label_matches(text, languages)
        found = list(dict.fromkeys(found))[:SUGGESTIONS]
        names = self.cat.labels(found, languages)
        return [Suggestion(eid, names.get(eid, eid)) for eid in found]

    def _label_matches(self, text: str, languages: Sequence[str]) -> list[str]:
        variants = dict.fromkeys((text, text.strip(), text.replace("_", " ")))
        found: list[str] = []
        for variant in list(variants):
            variants.update(dict.fromkeys((variant.lower(), variant.title(), variant.capitalize())))
        for variant in variants:
            for lang in languages:
                literal = ox.Literal(variant, language=lang)
                rows = self.cat.select(
                    "SELECT ?e ?l WHERE { GRAPH ?g { ?e rdfs:label ?l } } LIMIT 5", {"l": literal}
                )
                for row in rows:
                    eid = self.ns.entity_id(row["e"].value)
                    if eid is not None:
                        found.append(eid)
            if len(found) >= SUGGESTIONS:
                break
        return found


def _id_candidates(text: str) -> list[str]:
    """Entity ids one edit away from an id-like text (``q12`` → Q12, ``Q012`` → Q12,
    ``Q1234`` → Q124, Q1243, …, and P1234), nearest first; empty when the text does not
    look like an id."""
    raw = text.strip().upper()
    digits = raw[1:]
    if not (2 <= len(raw) <= 20 and raw[0] in "QP" and digits.isascii() and digits.isdigit()):
        return []
    variants = [digits]
    for i in range(len(digits)):
        variants.append(digits[:i] + digits[i + 1 :])  # one digit too many
        if i + 1 < len(digits):
            variants.append(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])  # swapped
        variants.extend(digits[:i] + d + digits[i + 1 :] for d in "0123456789")  # one wrong
    for i in range(len(digits) + 1):
        variants.extend(digits[:i] + d + digits[i:] for d in "0123456789")  # one missing
    other = "P" if raw[0] == "Q" else "Q"
    ids = [raw[0] + v.lstrip("0") for v in variants] + [other + digits.lstrip("0")]
    return [c for c in dict.fromkeys(ids) if c != text and ENTITY_ID.match(c)]


def parse_revision(value: str | None) -> int | None:
    """``?revision=`` as a revision id; BigtentError (400) when it is not one."""
    if value is None:
        return None
    if not (1 <= len(value) <= 18 and value.isascii() and value.isdigit() and value[0] != "0"):
        raise BigtentError(
            f"revision must be a revision id (a positive whole number such as 42), not {value!r}; "
            "the entity's history lists its revisions.",
            title="Bad revision",
        )
    return int(value)


def parse_flavor(value: str | None) -> str | None:
    """``?flavor=`` checked; None for the default (the record as stored)."""
    if value is None or value == "":
        return None
    if value not in FLAVORS:
        raise BigtentError(
            f"unknown flavor {value[:40]!r}; flavor is one of: {', '.join(FLAVORS)} "
            "(or leave it out for the record as stored).",
            title="Unknown flavor",
        )
    return value


def is_entity_id(text: str) -> bool:
    """True for ``Q42``/``P31``."""
    return bool(ENTITY_ID.match(text))
