"""The data graph being validated, and what validation reports about it.

SHACL §3.2 Data Graph (https://www.w3.org/TR/shacl/#data-graph): here a single record's
triples, indexed both ways, with nodes outside the record looked up in the load
:class:`~loader.records.context.Context`. A :class:`Problem` is one validation result
(§3.6.2, https://www.w3.org/TR/shacl/#results-validation-result).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from loader.base.namespaces import RDF, RDFS, SH
from loader.base.rdf import Term, Triple
from loader.records.context import Context

RDF_TYPE = ox.NamedNode(RDF + "type")
RDFS_LABEL = ox.NamedNode(RDFS + "label")
RDF_NIL = ox.NamedNode(RDF + "nil")
RDF_FIRST = ox.NamedNode(RDF + "first")
RDF_REST = ox.NamedNode(RDF + "rest")


def sh(local: str) -> ox.NamedNode:
    """``sh:local``."""
    return ox.NamedNode(SH + local)


class ShapeError(Exception):
    """The shapes use something this validator does not implement."""


@dataclass(frozen=True)
class Problem:
    """One validation result."""

    focus: str
    path: str | None
    value: str | None
    shape: str
    component: str
    message: str
    severity: str = "Violation"

    def as_dict(self) -> dict[str, str | None]:
        """JSON-friendly form."""
        return {
            "focus": self.focus,
            "path": self.path,
            "value": self.value,
            "shape": self.shape,
            "component": self.component,
            "message": self.message,
            "severity": self.severity,
        }


class RecordGraph:
    """A record's triples indexed both ways, with context for nodes outside it."""

    def __init__(self, triples: Iterable[Triple], ctx: Context) -> None:
        self.ctx = ctx
        out: dict[Term, dict[ox.NamedNode, list[Term]]] = {}
        inv: dict[Term, dict[ox.NamedNode, list[Term]]] = {}
        for s, p, o in triples:
            out.setdefault(s, {}).setdefault(p, []).append(o)
            inv.setdefault(o, {}).setdefault(p, []).append(s)
        self.out = out
        self.inv = inv
        self._types: dict[Term, set[str]] = {}
        #: Per-record memo of rules that classify predicates (see wikibase_rules).
        self.splits: dict[ox.NamedNode, tuple[str, str] | None] = {}

    def objects(self, node: Term, predicate: ox.NamedNode) -> list[Term]:
        """Values of ``predicate`` on ``node`` (inside the record, else from the context)."""
        found = self.out.get(node)
        if found is not None:
            return found.get(predicate, _EMPTY)
        if isinstance(node, ox.NamedNode):
            return [ox.NamedNode(v) for v in self.ctx.lookup(node.value, predicate.value)]
        return _EMPTY

    def subjects(self, node: Term, predicate: ox.NamedNode) -> list[Term]:
        """Nodes pointing at ``node`` with ``predicate``: the record's, and for labels also
        other properties' (the record's own entity is never taken from the context, which
        may hold its previous version)."""
        found = self.inv.get(node)
        inside = found.get(predicate, _EMPTY) if found else _EMPTY
        if predicate != RDFS_LABEL or not isinstance(node, ox.Literal):
            return inside
        outside = [
            ox.NamedNode(iri)
            for iri in sorted(self.ctx.property_labels.get(str(node), ()))
            if ox.NamedNode(iri) not in self.out
        ]
        return [*inside, *outside]

    def types(self, node: Term) -> set[str]:
        """rdf:types of a node, with superclasses."""
        cached = self._types.get(node)
        if cached is not None:
            return cached
        direct: set[str] = set()
        props = self.out.get(node)
        if props is not None:
            direct = {o.value for o in props.get(RDF_TYPE, ()) if isinstance(o, ox.NamedNode)}
        elif isinstance(node, ox.NamedNode):
            direct = set(self.ctx.types_of(node.value))
        closed: set[str] = set()
        for t in direct:
            closed |= self.ctx.all_superclasses(t)
        self._types[node] = closed
        return closed


_EMPTY: list[Term] = []


def term_text(term: Term) -> str:
    """A term as validation problems name it: an IRI bare, a blank node as ``_:id``."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)
