"""Property paths, compiled to functions from a focus node to its value nodes.

SHACL §2.3.1 SHACL Property Paths (https://www.w3.org/TR/shacl/#property-paths):
predicate, sequence, alternative, inverse, zero-or-more, one-or-more and zero-or-one
paths. Each compiles once to a :data:`Path_` plus the text validation results show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.rdf import Term
from loader.records.shacl.graph import RDF_FIRST, RecordGraph, ShapeError, term_text

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph

Path_ = Callable[[RecordGraph, Term], list[Term]]


def _unique(values: Iterable[Term]) -> list[Term]:
    return list(dict.fromkeys(values))


def compile_path(shapes: ShapesGraph, node: Term) -> tuple[Path_, str]:
    """The path at ``node`` of the shapes graph, and its text (``^p``, ``p/q``, ``(p)*``…)."""
    if isinstance(node, ox.NamedNode):
        pred = node

        def step(g: RecordGraph, focus: Term) -> list[Term]:
            values = g.objects(focus, pred)
            return values if len(values) < 2 else _unique(values)

        return step, node.value
    preds = shapes.out.get(node, {})
    if RDF_FIRST in preds:
        parts = [compile_path(shapes, p) for p in shapes.rdf_list(node)]

        def sequence(g: RecordGraph, focus: Term) -> list[Term]:
            current = [focus]
            for part, _ in parts:
                current = _unique(v for c in current for v in part(g, c))
            return current

        return sequence, "/".join(t for _, t in parts)
    inverse = shapes.one(node, "inversePath")
    if isinstance(inverse, ox.NamedNode):
        inv = inverse

        def backwards(g: RecordGraph, focus: Term) -> list[Term]:
            return _unique(g.subjects(focus, inv))

        return backwards, f"^{inv.value}"
    alternative = shapes.one(node, "alternativePath")
    if alternative is not None:
        branches = shapes.rdf_list(alternative)
        if all(isinstance(b, ox.NamedNode) for b in branches):
            predicates = frozenset(branches)

            def any_of(g: RecordGraph, focus: Term) -> list[Term]:
                props = g.out.get(focus)
                if props is None:
                    return _unique(v for p in predicates for v in g.objects(focus, p))  # type: ignore[arg-type]
                return _unique(v for p, vs in props.items() if p in predicates for v in vs)

            return any_of, "|".join(b.value for b in branches)
        options = [compile_path(shapes, p) for p in branches]

        def either(g: RecordGraph, focus: Term) -> list[Term]:
            return _unique(v for option, _ in options for v in option(g, focus))

        return either, "|".join(t for _, t in options)
    for local, include_self, repeat in (
        ("zeroOrMorePath", True, True),
        ("oneOrMorePath", False, True),
        ("zeroOrOnePath", True, False),
    ):
        inner_node = shapes.one(node, local)
        if inner_node is not None:
            inner, text = compile_path(shapes, inner_node)
            return _closure(
                inner, include_self, repeat
            ), f"({text}){'*' if include_self and repeat else '+' if repeat else '?'}"
    raise ShapeError(f"unsupported SHACL path at {term_text(node)}")


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
