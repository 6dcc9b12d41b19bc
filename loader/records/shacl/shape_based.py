"""Shape-based constraint components: ``sh:node`` and ``sh:qualifiedValueShape`` (with
``sh:qualifiedMinCount``, ``sh:qualifiedMaxCount``).

SHACL §4.7 (https://www.w3.org/TR/shacl/#core-components-shape). ``sh:property``
(§4.7.2) is compiled with the shape itself, in ``shapes.py``;
``sh:qualifiedValueShapesDisjoint`` is accepted but not enforced.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Check, each, integer
from loader.records.shacl.graph import RecordGraph

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph


def node(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.7.1 ``sh:node``: every value node conforms to the shape."""
    target = shapes.compile(value)
    return each("NodeConstraintComponent", lambda g, v: target.conforms(g, v))


def qualified_value_shape(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.7.3 ``sh:qualifiedValueShape``: bounds on how many value nodes conform to the
    shape, from the shape's ``sh:qualifiedMinCount`` and ``sh:qualifiedMaxCount``."""
    target = shapes.compile(value)
    low = shapes.one(node, "qualifiedMinCount")
    high = shapes.one(node, "qualifiedMaxCount")

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        count = sum(1 for v in values if target.conforms(g, v))
        if low is not None and count < integer(low):
            yield "QualifiedMinCountConstraintComponent", None, None
        if high is not None and count > integer(high):
            yield "QualifiedMaxCountConstraintComponent", None, None

    return check
