"""Shapes, compiled, and validation of a record against them.

SHACL §2 Shapes and Constraints (https://www.w3.org/TR/shacl/#constraints-section): node
and property shapes with their targets (§2.1.3), severity, messages and deactivation,
compiled once into :class:`Shape` objects. §3 Validation and Graphs
(https://www.w3.org/TR/shacl/#validation): :meth:`ShapesGraph.validate` finds the focus
nodes of a record and collects every :class:`~loader.records.shacl.graph.Problem`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from loader.base.namespaces import RDFS, SH
from loader.base.rdf import Term, Triple
from loader.records.context import Context
from loader.records.shacl.components import BUILDERS
from loader.records.shacl.constraint_component import Check
from loader.records.shacl.graph import (
    RDF_FIRST,
    RDF_NIL,
    RDF_REST,
    RDF_TYPE,
    Problem,
    RecordGraph,
    ShapeError,
    sh,
    term_text,
)
from loader.records.shacl.native import BTS, NativeCheck, native
from loader.records.shacl.paths import Path_, compile_path


@dataclass
class Shape:
    """A node or property shape, compiled."""

    iri: str
    path: Path_ | None = None
    path_text: str | None = None
    checks: list[Check] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    severity: str = "Violation"
    targets: list[tuple[str, ox.NamedNode]] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    deactivated: bool = False
    alternatives: frozenset[ox.NamedNode] = frozenset()
    #: True when no constraint of this shape can fail on a path with no values, so an
    #: empty path needs no evaluation (most property shapes, on most records).
    vacuous_when_empty: bool = False
    #: The predicates a plain or alternative path starts with (None for other paths).
    predicates: frozenset[ox.NamedNode] | None = None
    #: Predicates a node must have one of for this shape to apply (None: it always may).
    needs: frozenset[ox.NamedNode] | None = None

    def evaluate(
        self, g: RecordGraph, focus: Term, out: list[Problem], root: str | None = None
    ) -> None:
        """Append the problems of ``focus`` against this shape to ``out``."""
        if self.deactivated:
            return
        values = self.path(g, focus) if self.path is not None else [focus]
        if not values and self.vacuous_when_empty:
            return
        shape = self.iri if root is None or not self.iri.startswith("_:") else root
        for check in self.checks:
            for component, value, detail in check(g, focus, values):
                out.append(
                    Problem(
                        focus=term_text(focus),
                        path=self._where(g, focus, value),
                        value=None if value is None else term_text(value),
                        shape=shape,
                        component=component,
                        message=self._message(detail),
                        severity=self.severity,
                    )
                )
        for prop in self.applicable(g.out.get(focus)):
            prop.evaluate(g, focus, out, shape)

    def _where(self, g: RecordGraph, focus: Term, value: Term | None) -> str | None:
        """The path, narrowed to the predicate that holds ``value`` for alternatives."""
        if self.alternatives and value is not None:
            for predicate, objects in g.out.get(focus, {}).items():
                if predicate in self.alternatives and value in objects:
                    return predicate.value
        return self.path_text

    def conforms(self, g: RecordGraph, focus: Term) -> bool:
        """True when ``focus`` gives no result at all against this shape (stops early)."""
        if self.deactivated:
            return True
        values = self.path(g, focus) if self.path is not None else [focus]
        if not values and self.vacuous_when_empty:
            return True
        for check in self.checks:
            for _ in check(g, focus, values):
                return False
        return all(prop.conforms(g, focus) for prop in self.applicable(g.out.get(focus)))

    def applicable(self, own: dict[ox.NamedNode, list[Term]] | None) -> list[Shape]:
        """The property shapes that may apply to a node with predicates ``own`` (a shape
        whose path starts with predicates the node lacks and that cannot fail on an empty
        path does not), in their order."""
        if own is None:
            return self.properties
        return [
            prop
            for prop in self.properties
            if (needs := prop.needs) is None or not needs.isdisjoint(own)
        ]

    def _message(self, detail: str | None) -> str:
        if self.messages:
            return self.messages[0] if detail is None else f"{self.messages[0]} ({detail})"
        return detail or f"does not conform to {self.iri}"


class ShapesGraph:
    """Shapes compiled from Turtle files."""

    def __init__(
        self,
        triples: Iterable[Triple],
        natives: dict[str, NativeCheck],
        ignored: frozenset[str] = frozenset(),
    ) -> None:
        self.out: dict[Term, dict[ox.NamedNode, list[Term]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for s, p, o in triples:
            self.out[s][p].append(o)
        self.natives = natives
        self.ignored = ignored
        self._compiled: dict[Term, Shape] = {}
        self.shapes: list[Shape] = []
        self.by_class: dict[str, list[Shape]] = defaultdict(list)
        self.by_subject_of: dict[str, list[Shape]] = defaultdict(list)
        self.by_object_of: dict[str, list[Shape]] = defaultdict(list)
        self.by_node: dict[str, list[Shape]] = defaultdict(list)
        targets = (
            sh("targetClass"),
            sh("targetSubjectsOf"),
            sh("targetObjectsOf"),
            sh("targetNode"),
        )
        roots = [s for s, preds in self.out.items() if any(t in preds for t in targets)]
        implicit = [
            s
            for s, preds in self.out.items()
            if ox.NamedNode(RDFS + "Class") in preds.get(RDF_TYPE, ())
            and sh("NodeShape") in preds.get(RDF_TYPE, ())
        ]
        for node in dict.fromkeys(roots + implicit):
            shape = self.compile(node)
            self.shapes.append(shape)
            index = {
                "targetClass": self.by_class,
                "targetSubjectsOf": self.by_subject_of,
                "targetObjectsOf": self.by_object_of,
                "targetNode": self.by_node,
            }
            for kind, value in shape.targets:
                index[kind][value.value].append(shape)
            if node in implicit and isinstance(node, ox.NamedNode):
                self.by_class[node.value].append(shape)

    @classmethod
    def from_files(
        cls,
        paths: Iterable[Path],
        base_iri: str,
        natives: dict[str, NativeCheck],
        ignored: frozenset[str] = frozenset(),
    ) -> ShapesGraph:
        """Parse Turtle shape files (relative prefixes resolved against ``base_iri``)."""
        triples: list[Triple] = []
        for path in sorted(paths):
            for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base_iri):
                triples.append((quad.subject, quad.predicate, quad.object))
        return cls(triples, natives, ignored)

    def restrict(self, roots: set[str]) -> None:
        """Validate only with the named root shapes (a profile's subset)."""
        self.shapes = [shape for shape in self.shapes if shape.iri in roots]
        for index in (self.by_class, self.by_subject_of, self.by_object_of, self.by_node):
            for key in list(index):
                index[key] = [shape for shape in index[key] if shape.iri in roots]

    # helpers over the shapes graph
    def one(self, node: Term, local: str) -> Term | None:
        """The first value of ``sh:local`` on ``node``, if any."""
        values = self.out.get(node, {}).get(sh(local), [])
        return values[0] if values else None

    def all(self, node: Term, local: str) -> list[Term]:
        """Every value of ``sh:local`` on ``node``."""
        return list(self.out.get(node, {}).get(sh(local), []))

    def rdf_list(self, head: Term) -> list[Term]:
        """The members of the RDF list starting at ``head``."""
        items: list[Term] = []
        while head != RDF_NIL:
            preds = self.out.get(head)
            if preds is None or RDF_FIRST not in preds:
                raise ShapeError(f"malformed RDF list at {term_text(head)}")
            items.append(preds[RDF_FIRST][0])
            head = preds[RDF_REST][0]
        return items

    # compiling
    def compile(self, node: Term) -> Shape:
        """The shape at ``node``, compiled once (builders call this for shapes they name)."""
        cached = self._compiled.get(node)
        if cached is not None:
            return cached
        shape = Shape(iri=term_text(node))
        self._compiled[node] = shape  # before recursing: shapes may refer to each other
        preds = self.out.get(node, {})
        for kind in ("targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode"):
            for value in preds.get(sh(kind), ()):
                if isinstance(value, ox.NamedNode):
                    shape.targets.append((kind, value))
        path_node = self.one(node, "path")
        if path_node is not None:
            shape.path, shape.path_text = compile_path(self, path_node)
            alternative = self.one(path_node, "alternativePath")
            if alternative is not None:
                shape.alternatives = frozenset(
                    b for b in self.rdf_list(alternative) if isinstance(b, ox.NamedNode)
                )
                if len(shape.alternatives) == len(self.rdf_list(alternative)):
                    shape.predicates = shape.alternatives
            elif isinstance(path_node, ox.NamedNode):
                shape.predicates = frozenset({path_node})
        shape.messages = [
            m.value
            for m in self.all(node, "message")
            if isinstance(m, ox.Literal) and m.language in (None, "", "en")
        ]
        severity = self.one(node, "severity")
        if isinstance(severity, ox.NamedNode):
            shape.severity = severity.value.removeprefix(SH)
        deactivated = self.one(node, "deactivated")
        shape.deactivated = isinstance(deactivated, ox.Literal) and deactivated.value == "true"
        for prop in self.all(node, "property"):
            shape.properties.append(self.compile(prop))
        self._constraints(node, shape, preds)
        counting = {sh("minCount"), sh("hasValue"), sh("qualifiedMinCount")}
        shape.vacuous_when_empty = (
            shape.path is not None
            and not shape.properties
            and not any(p in counting for p in preds)
            and not any(p.value in self.natives for p in preds)
        )
        shape.needs = shape.predicates if shape.vacuous_when_empty else None
        return shape

    def _constraints(self, node: Term, shape: Shape, preds: dict[ox.NamedNode, list[Term]]) -> None:
        supported = {
            "targetClass",
            "targetSubjectsOf",
            "targetObjectsOf",
            "targetNode",
            "path",
            "property",
            "message",
            "severity",
            "name",
            "description",
            "deactivated",
            "order",
            "group",
            "defaultValue",
            "qualifiedMinCount",
            "qualifiedMaxCount",
            "qualifiedValueShapesDisjoint",
            "ignoredProperties",
            "flags",
        }
        for predicate, values in preds.items():
            iri = predicate.value
            if iri.startswith(SH):
                local = iri[len(SH) :]
                if local in supported:
                    continue
                builder = BUILDERS.get(local)
                if builder is None:
                    raise ShapeError(
                        f"{shape.iri}: sh:{local} is not supported by the compiled validator"
                    )
                for value in values:
                    shape.checks.append(builder(self, node, value))
            elif iri in self.natives:
                if any(isinstance(v, ox.Literal) and v.value == "true" for v in values):
                    shape.checks.append(native(iri, self.natives[iri]))
            elif iri.startswith(BTS) and iri not in self.ignored:
                raise ShapeError(f"{shape.iri}: {iri} has no native implementation")

    # validation
    def validate(
        self,
        triples: Iterable[Triple],
        ctx: Context,
        focus_filter: Callable[[Term], bool] | None = None,
    ) -> list[Problem]:
        """Every problem of the record ``triples`` (focus nodes inside the record only)."""
        g = RecordGraph(triples, ctx)
        problems: list[Problem] = []
        seen: set[tuple[int, Term]] = set()

        def run(shape: Shape, focus: Term) -> None:
            key = (id(shape), focus)
            if key in seen or (focus_filter is not None and not focus_filter(focus)):
                return
            seen.add(key)
            shape.evaluate(g, focus, problems)

        for subject in list(g.out):
            types = g.types(subject)
            for cls in types:
                for shape in self.by_class.get(cls, ()):
                    run(shape, subject)
            for predicate in list(g.out[subject]):
                for shape in self.by_subject_of.get(predicate.value, ()):
                    run(shape, subject)
                for shape in self.by_object_of.get(predicate.value, ()):
                    for obj in g.out[subject][predicate]:
                        run(shape, obj)
            if isinstance(subject, ox.NamedNode):
                for shape in self.by_node.get(subject.value, ()):
                    run(shape, subject)
        return problems
