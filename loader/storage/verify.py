"""``bigtent verify``: compare the triple store with the revision log and repair drift.

The revision log is the source of truth. For every entity, the graph the store should hold
is rebuilt from the newest revision's snapshot (nothing for a deleted entity) and compared
by digest with the graph the store holds; the ontology graph is compared with the OWL file.
Graphs the log does not explain (under the catalogue's BASE_URL) are extra. Repair rewrites
missing and different graphs and drops extra ones, then marks the revisions applied.

Blank nodes are compared by what they say (their predicates and objects), not by their
labels, which differ between the log and any store; numbers by value, because engines
store them in their own canonical form (Virtuoso turns "+3"^^xsd:decimal into "3").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.storage.oxigraph_store import Triple3

if TYPE_CHECKING:
    from loader.storage.repository import Repository

BATCH = 200  # entities compared per round trip to the store


@dataclass
class Drift:
    """What ``verify`` found (graph IRIs) and what it repaired."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    repaired: int = 0

    @property
    def clean(self) -> bool:
        """True when the store matches the log."""
        return not (self.missing or self.extra or self.different)

    def lines(self) -> list[str]:
        """A human report."""
        out = [
            f"checked {self.checked} graphs: {len(self.missing)} missing, "
            f"{len(self.extra)} extra, {len(self.different)} different"
        ]
        for label, graphs in (
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
            obj = "_:" if isinstance(o, ox.BlankNode) else str(o)
            about.setdefault(s.value, []).append(f"{p} {obj}")
    names = {
        label: "_:" + hashlib.sha256("\n".join(sorted(facts)).encode()).hexdigest()[:32]
        for label, facts in about.items()
    }

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
        if isinstance(t, ox.BlankNode):
            return names.get(t.value, "_:")
        if isinstance(t, ox.Literal) and t.datatype.value in NUMBERS:
            return _number(t)
        return str(t)

    lines = sorted({f"{term(s)} {p} {term(o)}" for s, p, o in triples})
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


XSD = "http://www.w3.org/2001/XMLSchema#"
NUMBERS = frozenset(XSD + name for name in ("integer", "decimal", "double", "float", "long", "int"))


def _number(literal: ox.Literal) -> str:
    """A numeric literal by value (its datatype kept)."""
    try:
        value = Decimal(literal.value.strip()).normalize()
    except InvalidOperation:
        return str(literal)
    return f'"{value}"^^<{literal.datatype.value}>'


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
    expected_names: set[str] = set()
    expected_ontology = cat.ontology_ntriples()
    pending: list[tuple[ox.NamedNode, bytes, object]] = []
    if expected_ontology is not None:
        pending.append((cat.ontology_graph, expected_ontology, None))

    def compare() -> None:
        stored = _stored(cat, [g for g, _, _ in pending])
        fixes: dict[ox.NamedNode, bytes] = {}
        revisions = []
        for graph, data, revision in pending:
            drift.checked += 1
            want = _parse(data)
            have = stored.get(graph, [])
            if want:
                expected_names.add(graph.value)
            if not want and not have:
                continue
            if not have:
                drift.missing.append(graph.value)
            elif not want:
                drift.extra.append(graph.value)
            elif graph_digest(want) != graph_digest(have):
                drift.different.append(graph.value)
            else:
                continue
            fixes[graph] = data
            if revision is not None:
                revisions.append(revision)
        if repair and fixes:
            cat.store.replace_graphs_bulk(fixes)
            cat.revisions.mark_applied(revisions)  # type: ignore[arg-type]
            drift.repaired += len(fixes)
        pending.clear()

    for revision in cat.revisions.latest_revisions():
        graph = cat.ns.data_document(revision.entity)
        pending.append((graph, cat.revision_ntriples(revision), revision))
        if len(pending) >= BATCH:
            compare()
    if pending:
        compare()
    extra = [g for g in cat.store.graph_names() if g.value not in expected_names]
    reported = set(drift.extra)
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
