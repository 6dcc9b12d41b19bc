"""Other constraint components: ``sh:closed`` (with ``sh:ignoredProperties``),
``sh:hasValue``, ``sh:in``.

SHACL §4.8 (https://www.w3.org/TR/shacl/#core-components-others).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Check, each
from loader.records.shacl.graph import RecordGraph

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph


def closed(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.8.1 ``sh:closed``: value nodes use only the predicates of the shape's property
    shapes (plain paths) and its ``sh:ignoredProperties``; one result per other triple."""
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


def has_value(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.8.2 ``sh:hasValue``: the value is among the value nodes."""

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if value not in values:
            yield "HasValueConstraintComponent", None, None

    return check


def in_(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.8.3 ``sh:in``: every value node is a member of the list."""
    allowed = set(shapes.rdf_list(value))
    return each("InConstraintComponent", lambda g, v: v in allowed)
