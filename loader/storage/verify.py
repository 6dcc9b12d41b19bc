"""``bigtent verify``: compare the triple store with the revision log and repair drift.

The revision log is the source of truth. For every entity, the graph the store should hold
is rebuilt from the newest revision's snapshot (nothing for a deleted entity) and compared
by digest with the graph the store holds; the ontology graph is compared with the OWL file.
Graphs the log does not explain (under the catalogue's BASE_URL) are extra. Revisions the
log holds but has not yet marked applied, whose graphs the store lacks or holds in an older
form, are *pending*: the store is behind (an outage, a crash), and every serving process
applies them in the background; they are drift too, reported apart from graphs that are
different for no reason the log knows. Verifying never repairs by itself: repair (the
``--repair`` flag) applies the pending revisions, rewrites missing and different graphs and
drops extra ones, then marks the revisions applied.

Blank nodes are compared by what they say (their predicates and objects), not by their
labels, which differ between the log and any store; numbers and WKT points by value,
because engines store them in their own form (Virtuoso turns "+3"^^xsd:decimal into "3",
a double into its binary value, a ``geo:wktLiteral`` into its own geometry type).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.records import coordinates
from loader.storage.oxigraph_store import Triple3
from loader.storage.revision_log import Revision

if TYPE_CHECKING:
    from loader.storage.repository import Repository

BATCH = 200  # entities compared per round trip to the store


@dataclass
class Drift:
    """What ``verify`` found (graph IRIs) and what it repaired."""

    checked: int = 0
    pending: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    repaired: int = 0

    @property
    def clean(self) -> bool:
        """True when the store matches the log."""
        return not (self.pending or self.missing or self.extra or self.different)

    def lines(self) -> list[str]:
        """A human report: pending revisions (the store is behind the log; they will be
        applied) apart from graphs that are missing, extra or different."""
        out = [
            f"checked {self.checked} graphs: {len(self.pending)} pending (logged, not yet "
            f"applied; will be applied), {len(self.missing)} missing, "
            f"{len(self.extra)} extra, {len(self.different)} different"
        ]
        for label, graphs in (
            ("pending, will be applied", self.pending),
            ("missing", self.missing),
            ("extra", self.extra),
            ("different", self.different),
        ):
            out.extend(f"  {label}: {g}" for g in graphs[:50])
            if len(graphs) > 50:
                out.append(f"  ... and {len(graphs) - 50} more {label}")
        if self.repaired:
            out.append(f"repaired {self.repaired} graphs")
        return out


def graph_digest(triples: Iterable[Triple3]) -> str:
    """A digest of a graph that does not depend on blank node labels or order."""
    triples = list(triples)
    about: dict[str, list[str]] = {}
    for s, p, o in triples:
        if isinstance(s, ox.BlankNode):
            obj = "_:" if isinstance(o, ox.BlankNode) else _value(o)
            about.setdefault(s.value, []).append(f"{p} {obj}")
    names = {
        label: "_:" + hashlib.sha256("\n".join(sorted(facts)).encode()).hexdigest()[:32]
        for label, facts in about.items()
    }

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
        if isinstance(t, ox.BlankNode):
            return names.get(t.value, "_:")
        return _value(t)

    lines = sorted({f"{term(s)} {p} {term(o)}" for s, p, o in triples})
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _value(t: ox.NamedNode | ox.Literal) -> str:
    """A term by value where engines rewrite literals (numbers, WKT points)."""
    if isinstance(t, ox.Literal) and t.datatype.value in NUMBERS:
        return _number(t)
    if isinstance(t, ox.Literal) and t.datatype.value == WKT:
        return _wkt(t)
    return str(t)


XSD = "http://www.w3.org/2001/XMLSchema#"
NUMBERS = frozenset(XSD + name for name in ("integer", "decimal", "double", "float", "long", "int"))


FLOATS = frozenset(XSD + name for name in ("double", "float"))
WKT = coordinates.WKT_LITERAL.value


def _number(literal: ox.Literal) -> str:
    """A numeric literal by value (its datatype kept); floating-point ones by their
    binary value (``"4.88566e1"`` and ``"48.8566"`` are the same double)."""
    text = literal.value.strip()
    try:
        if literal.datatype.value in FLOATS:
            return f'"{float(text)!r}"^^<{literal.datatype.value}>'
        value = Decimal(text).normalize()
    except (InvalidOperation, ValueError):
        return str(literal)
    return f'"{value}"^^<{literal.datatype.value}>'


def _wkt(literal: ox.Literal) -> str:
    """A WKT point by value (``"POINT(2.30 48.8)"`` and ``"Point(2.3 48.8)"`` are one
    point); other WKT as written."""
    point = coordinates.parse_point(literal.value)
    if point is None:
        return str(literal)
    return f'"{point.globe} {float(point.longitude)!r} {float(point.latitude)!r}"^^<{WKT}>'


def _parse(ntriples: bytes) -> list[Triple3]:
    if not ntriples:
        return []
    return [(q.subject, q.predicate, q.object) for q in ox.parse(ntriples, ox.RdfFormat.N_TRIPLES)]


def _stored(cat: Repository, graphs: Sequence[ox.NamedNode]) -> dict[ox.NamedNode, list[Triple3]]:
    many = getattr(cat.store, "graphs_triples", None)
    if many is not None:
        found: dict[ox.NamedNode, list[Triple3]] = many(graphs)
        return found
    return {g: cat.store.graph_triples(g) for g in graphs}


def verify(cat: Repository, *, repair: bool = False) -> Drift:
    """Compare every graph with the revision log; with ``repair``, fix the drift."""
    drift = Drift()
    unapplied = set(cat.revisions.unapplied())
    expected_names: set[str] = set()
    expected_ontology = cat.ontology_ntriples()
    pending: list[tuple[ox.NamedNode, bytes, Revision | None]] = []
    if expected_ontology is not None:
        pending.append((cat.ontology_graph, expected_ontology, None))

    def compare() -> None:
        stored = _stored(cat, [g for g, _, _ in pending])
        fixes: dict[ox.NamedNode, bytes] = {}
        revisions: list[Revision] = []
        settled: list[Revision] = []  # unapplied, yet already in the store: the mark is late
        for graph, data, revision in pending:
            drift.checked += 1
            want = _parse(data)
            have = stored.get(graph, [])
            if want:
                expected_names.add(graph.value)
            late = revision if revision is not None and revision.entity in unapplied else None
            if (not want and not have) or (
                want and have and graph_digest(want) == graph_digest(have)
            ):
                if late is not None:
                    settled.append(late)
                continue
            if late is not None:
                drift.pending.append(graph.value)
            elif not have:
                drift.missing.append(graph.value)
            elif not want:
                drift.extra.append(graph.value)
            else:
                drift.different.append(graph.value)
            fixes[graph] = data
            if revision is not None:
                revisions.append(revision)
        if repair and fixes:
            cat.store.replace_graphs_bulk(fixes)
            cat.revisions.mark_applied(revisions)
            drift.repaired += len(fixes)
        if repair and settled:
            cat.revisions.mark_applied(settled)
        pending.clear()

    for revision in cat.revisions.latest_revisions():
        graph = cat.ns.data_document(revision.entity)
        pending.append((graph, cat.revision_ntriples(revision), revision))
        if len(pending) >= BATCH:
            compare()
    if pending:
        compare()
    extra = [g for g in cat.store.graph_names() if g.value not in expected_names]
    reported = set(drift.extra) | set(drift.pending)
    for graph in extra:
        if graph.value in reported:
            continue
        drift.checked += 1
        drift.extra.append(graph.value)
        if repair:
            cat.store.replace_graph(graph, b"")
            drift.repaired += 1
    cat.after_write()
    return drift
