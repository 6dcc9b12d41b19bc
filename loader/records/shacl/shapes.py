"""A compiled SHACL validator for single records.

The shapes in ``shapes/`` are the definition of a valid record. pySHACL is the
reference implementation (the test suite checks both agree on every example),
but running it per record is far too slow for bulk loads, so the shapes are
compiled once into Python objects and evaluated over an indexed record graph.
Only the SHACL Core subset the shapes use is supported; an unsupported construct
makes compilation fail loudly rather than silently pass data. Nodes outside the
record are looked up in the load :class:`~loader.records.context.Context`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from loader.base.namespaces import RDF, RDFS, SH, XSD
from loader.base.rdf import Term, Triple
from loader.records.context import Context

BTS = "https://w3id.org/bigtent/shapes#"
RDF_TYPE = ox.NamedNode(RDF + "type")
RDFS_LABEL = ox.NamedNode(RDFS + "label")
RDF_LANGSTRING = RDF + "langString"
_NIL = ox.NamedNode(RDF + "nil")
_FIRST = ox.NamedNode(RDF + "first")
_REST = ox.NamedNode(RDF + "rest")


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


# --- the record graph --------------------------------------------------------------------


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


# --- paths -------------------------------------------------------------------------------

Path_ = Callable[[RecordGraph, Term], list[Term]]


def _unique(values: Iterable[Term]) -> list[Term]:
    return list(dict.fromkeys(values))


# --- compiled shapes -----------------------------------------------------------------------


@dataclass
class Shape:
    """A node or property shape, compiled."""

    iri: str
    path: Path_ | None = None
    path_text: str | None = None
    checks: list[
        Callable[[RecordGraph, Term, list[Term]], Iterator[tuple[str, Term | None, str | None]]]
    ] = field(default_factory=list)
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
        own = g.out.get(focus)
        for prop in self.properties:
            if not prop.skip(own):
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
        own = g.out.get(focus)
        return all(prop.conforms(g, focus) for prop in self.properties if not prop.skip(own))

    def skip(self, own: dict[ox.NamedNode, list[Term]] | None) -> bool:
        """True when this property shape cannot apply to a record node with predicates
        ``own`` (its path starts with predicates the node does not have)."""
        return (
            own is not None
            and self.predicates is not None
            and self.vacuous_when_empty
            and self.predicates.isdisjoint(own)
        )

    def _message(self, detail: str | None) -> str:
        if self.messages:
            return self.messages[0] if detail is None else f"{self.messages[0]} ({detail})"
        return detail or f"does not conform to {self.iri}"


def term_text(term: Term) -> str:
    """A term as validation problems name it: an IRI bare, a blank node as ``_:id``."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


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
        values = self.out.get(node, {}).get(sh(local), [])
        return values[0] if values else None

    def all(self, node: Term, local: str) -> list[Term]:
        return list(self.out.get(node, {}).get(sh(local), []))

    def rdf_list(self, head: Term) -> list[Term]:
        items: list[Term] = []
        while head != _NIL:
            preds = self.out.get(head)
            if preds is None or _FIRST not in preds:
                raise ShapeError(f"malformed RDF list at {term_text(head)}")
            items.append(preds[_FIRST][0])
            head = preds[_REST][0]
        return items

    # compiling
    def compile(self, node: Term) -> Shape:
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
            shape.path, shape.path_text = self._path(path_node)
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
        return shape

    def _path(self, node: Term) -> tuple[Path_, str]:
        if isinstance(node, ox.NamedNode):
            pred = node

            def step(g: RecordGraph, focus: Term) -> list[Term]:
                values = g.objects(focus, pred)
                return values if len(values) < 2 else _unique(values)

            return step, node.value
        preds = self.out.get(node, {})
        if _FIRST in preds:
            parts = [self._path(p) for p in self.rdf_list(node)]

            def sequence(g: RecordGraph, focus: Term) -> list[Term]:
                current = [focus]
                for part, _ in parts:
                    current = _unique(v for c in current for v in part(g, c))
                return current

            return sequence, "/".join(t for _, t in parts)
        inverse = self.one(node, "inversePath")
        if isinstance(inverse, ox.NamedNode):
            inv = inverse

            def backwards(g: RecordGraph, focus: Term) -> list[Term]:
                return _unique(g.subjects(focus, inv))

            return backwards, f"^{inv.value}"
        alternative = self.one(node, "alternativePath")
        if alternative is not None:
            branches = self.rdf_list(alternative)
            if all(isinstance(b, ox.NamedNode) for b in branches):
                predicates = frozenset(branches)

                def any_of(g: RecordGraph, focus: Term) -> list[Term]:
                    props = g.out.get(focus)
                    if props is None:
                        return _unique(v for p in predicates for v in g.objects(focus, p))  # type: ignore[arg-type]
                    return _unique(v for p, vs in props.items() if p in predicates for v in vs)

                return any_of, "|".join(b.value for b in branches)
            options = [self._path(p) for p in branches]

            def either(g: RecordGraph, focus: Term) -> list[Term]:
                return _unique(v for option, _ in options for v in option(g, focus))

            return either, "|".join(t for _, t in options)
        for local, include_self, repeat in (
            ("zeroOrMorePath", True, True),
            ("oneOrMorePath", False, True),
            ("zeroOrOnePath", True, False),
        ):
            inner_node = self.one(node, local)
            if inner_node is not None:
                inner, text = self._path(inner_node)
                return _closure(
                    inner, include_self, repeat
                ), f"({text}){'*' if include_self and repeat else '+' if repeat else '?'}"
        raise ShapeError(f"unsupported SHACL path at {term_text(node)}")

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
                builder = _BUILDERS.get(local)
                if builder is None:
                    raise ShapeError(
                        f"{shape.iri}: sh:{local} is not supported by the compiled validator"
                    )
                for value in values:
                    shape.checks.append(builder(self, node, value))
            elif iri in self.natives:
                if any(isinstance(v, ox.Literal) and v.value == "true" for v in values):
                    shape.checks.append(_native(iri, self.natives[iri]))
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


def _closure(inner: Path_, include_self: bool, repeat: bool) -> Path_:
    def walk(g: RecordGraph, focus: Term) -> list[Term]:
        found: dict[Term, None] = {focus: None} if include_self else {}
        frontier = [focus]
        while frontier:
            nxt = []
            for node in frontier:
                for v in inner(g, node):
                    if v not in found:
                        found[v] = None
                        nxt.append(v)
            frontier = nxt if repeat else []
        return list(found)

    return walk


# --- constraint components -------------------------------------------------------------------

Check = Callable[[RecordGraph, Term, list[Term]], Iterator[tuple[str, Term | None, str | None]]]
NativeCheck = Callable[[RecordGraph, Term], Iterator[tuple[Term | None, str]]]


def _native(iri: str, fn: NativeCheck) -> Check:
    component = iri.removeprefix(BTS)

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        for value, detail in fn(g, focus):
            yield component, value, detail

    return check


def _int(term: Term | None) -> int:
    if not isinstance(term, ox.Literal):
        raise ShapeError("expected an integer literal")
    return int(term.value)


def _min_count(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    n = _int(value)

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if len(values) < n:
            yield "MinCountConstraintComponent", None, None

    return check


def _max_count(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    n = _int(value)

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if len(values) > n:
            yield "MaxCountConstraintComponent", None, None

    return check


def _each(component: str, ok: Callable[[RecordGraph, Term], bool]) -> Check:
    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        for v in values:
            if not ok(g, v):
                yield component, v, None

    return check


def _datatype(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    dt = value.value

    def ok(g: RecordGraph, v: Term) -> bool:
        if not isinstance(v, ox.Literal):
            return False
        if v.language:
            return dt == RDF_LANGSTRING
        return v.datatype.value == dt and _well_formed(v)

    return _each("DatatypeConstraintComponent", ok)


def _well_formed(v: ox.Literal) -> bool:
    dt = v.datatype.value
    text = v.value
    try:
        if dt in (XSD + "integer", XSD + "int", XSD + "long", XSD + "nonNegativeInteger"):
            int(text)
        elif dt == XSD + "decimal":
            Decimal(text)
        elif dt == XSD + "dateTime":
            return bool(
                re.fullmatch(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", text)
            )
    except (ValueError, InvalidOperation):
        return False
    return True


_NODE_KINDS = {
    "IRI": (ox.NamedNode,),
    "BlankNode": (ox.BlankNode,),
    "Literal": (ox.Literal,),
    "BlankNodeOrIRI": (ox.BlankNode, ox.NamedNode),
    "BlankNodeOrLiteral": (ox.BlankNode, ox.Literal),
    "IRIOrLiteral": (ox.NamedNode, ox.Literal),
}


def _node_kind(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    kinds = _NODE_KINDS[value.value.removeprefix(SH)]
    return _each("NodeKindConstraintComponent", lambda g, v: isinstance(v, kinds))


def _class(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    cls = value.value
    return _each(
        "ClassConstraintComponent", lambda g, v: not isinstance(v, ox.Literal) and cls in g.types(v)
    )


def _in(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    allowed = set(shapes.rdf_list(value))
    return _each("InConstraintComponent", lambda g, v: v in allowed)


def _has_value(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if value not in values:
            yield "HasValueConstraintComponent", None, None

    return check


def _pattern(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    flags_term = shapes.one(node, "flags")
    flags = 0
    if isinstance(flags_term, ox.Literal) and "i" in flags_term.value:
        flags |= re.IGNORECASE
    regex = re.compile(value.value, flags)
    return _each(
        "PatternConstraintComponent",
        lambda g, v: not isinstance(v, ox.BlankNode) and regex.search(v.value) is not None,
    )


def _language_in(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    ranges = [r.value.lower() for r in shapes.rdf_list(value)]

    def ok(g: RecordGraph, v: Term) -> bool:
        if not isinstance(v, ox.Literal) or not v.language:
            return False
        lang = v.language.lower()
        return any(r == "*" or lang == r or lang.startswith(r + "-") for r in ranges)

    return _each("LanguageInConstraintComponent", ok)


def _unique_lang(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    enabled = isinstance(value, ox.Literal) and value.value == "true"

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if not enabled:
            return
        seen: dict[str, int] = defaultdict(int)
        for v in values:
            if isinstance(v, ox.Literal) and v.language:
                seen[v.language.lower()] += 1
        for lang, count in sorted(seen.items()):
            if count > 1:
                yield "UniqueLangConstraintComponent", None, f"{count} values in language '{lang}'"

    return check


def _comparable(v: Term) -> tuple[int, object] | None:
    if not isinstance(v, ox.Literal):
        return None
    dt = v.datatype.value
    if dt in (XSD + "dateTime", XSD + "date"):
        m = re.match(r"(-?)(\d+)(.*)", v.value)
        if m is None:
            return None
        year = int(m.group(2)) * (-1 if m.group(1) else 1)
        return 0, (year, m.group(3).rstrip("Z"))
    try:
        return 1, Decimal(v.value)
    except InvalidOperation:
        return 2, v.value


def _compare(strict: bool) -> Callable[[ShapesGraph, Term, Term], Check]:
    component = "LessThanConstraintComponent" if strict else "LessThanOrEqualsConstraintComponent"

    def build(shapes: ShapesGraph, node: Term, value: Term) -> Check:
        other = value  # a property IRI

        def check(
            g: RecordGraph, focus: Term, values: list[Term]
        ) -> Iterator[tuple[str, Term | None, str | None]]:
            for v in values:
                for w in g.objects(focus, other):  # type: ignore[arg-type]
                    a, b = _comparable(v), _comparable(w)
                    if a is None or b is None or a[0] != b[0]:
                        yield component, v, None
                        continue
                    if (a[1] >= b[1]) if strict else (a[1] > b[1]):  # type: ignore[operator]
                        yield component, v, None

        return check

    return build


def _length(minimum: bool) -> Callable[[ShapesGraph, Term, Term], Check]:
    def build(shapes: ShapesGraph, node: Term, value: Term) -> Check:
        n = _int(value)
        component = "MinLengthConstraintComponent" if minimum else "MaxLengthConstraintComponent"

        def ok(g: RecordGraph, v: Term) -> bool:
            if isinstance(v, ox.BlankNode):
                return False
            return len(v.value) >= n if minimum else len(v.value) <= n

        return _each(component, ok)

    return build


def _node(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    target = shapes.compile(value)
    return _each("NodeConstraintComponent", lambda g, v: target.conforms(g, v))


def _not(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    target = shapes.compile(value)
    return _each("NotConstraintComponent", lambda g, v: not target.conforms(g, v))


def _or(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    options = [shapes.compile(s) for s in shapes.rdf_list(value)]
    return _each("OrConstraintComponent", lambda g, v: any(o.conforms(g, v) for o in options))


def _and(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    options = [shapes.compile(s) for s in shapes.rdf_list(value)]
    return _each("AndConstraintComponent", lambda g, v: all(o.conforms(g, v) for o in options))


def _xone(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    options = [shapes.compile(s) for s in shapes.rdf_list(value)]
    return _each(
        "XoneConstraintComponent", lambda g, v: sum(o.conforms(g, v) for o in options) == 1
    )


def _qualified(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    target = shapes.compile(value)
    low = shapes.one(node, "qualifiedMinCount")
    high = shapes.one(node, "qualifiedMaxCount")

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        count = sum(1 for v in values if target.conforms(g, v))
        if low is not None and count < _int(low):
            yield "QualifiedMinCountConstraintComponent", None, None
        if high is not None and count > _int(high):
            yield "QualifiedMaxCountConstraintComponent", None, None

    return check


def _closed(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    enabled = isinstance(value, ox.Literal) and value.value == "true"
    allowed: set[ox.NamedNode] = set()
    for prop in shapes.all(node, "property"):
        path = shapes.one(prop, "path")
        if isinstance(path, ox.NamedNode):
            allowed.add(path)
    ignored = shapes.one(node, "ignoredProperties")
    if ignored is not None:
        allowed.update(p for p in shapes.rdf_list(ignored) if isinstance(p, ox.NamedNode))

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if not enabled:
            return
        for v in values:
            for predicate, objects in g.out.get(v, {}).items():
                if predicate not in allowed:
                    for o in objects:
                        yield (
                            "ClosedConstraintComponent",
                            o,
                            f"{predicate.value} is not allowed here",
                        )

    return check


_BUILDERS: dict[str, Callable[[ShapesGraph, Term, Term], Check]] = {
    "minCount": _min_count,
    "maxCount": _max_count,
    "datatype": _datatype,
    "nodeKind": _node_kind,
    "class": _class,
    "in": _in,
    "hasValue": _has_value,
    "pattern": _pattern,
    "languageIn": _language_in,
    "uniqueLang": _unique_lang,
    "lessThan": _compare(True),
    "lessThanOrEquals": _compare(False),
    "minLength": _length(True),
    "maxLength": _length(False),
    "node": _node,
    "not": _not,
    "or": _or,
    "and": _and,
    "xone": _xone,
    "qualifiedValueShape": _qualified,
    "closed": _closed,
}
