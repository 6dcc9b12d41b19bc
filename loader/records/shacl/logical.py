"""Logical constraint components: ``sh:not``, ``sh:and``, ``sh:or``, ``sh:xone``.

SHACL §4.6 (https://www.w3.org/TR/shacl/#core-components-logical).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Check, each

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph


def not_(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.6.1 ``sh:not``: no value node conforms to the shape."""
    target = shapes.compile(value)
    return each("NotConstraintComponent", lambda g, v: not target.conforms(g, v))


def and_(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.6.2 ``sh:and``: every value node conforms to all the shapes in the list."""
    options = [shapes.compile(s) for s in shapes.rdf_list(value)]
    return each("AndConstraintComponent", lambda g, v: all(o.conforms(g, v) for o in options))


def or_(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.6.3 ``sh:or``: every value node conforms to at least one shape in the list."""
    options = [shapes.compile(s) for s in shapes.rdf_list(value)]
    return each("OrConstraintComponent", lambda g, v: any(o.conforms(g, v) for o in options))


def xone(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.6.4 ``sh:xone``: every value node conforms to exactly one shape in the list."""
    options = [shapes.compile(s) for s in shapes.rdf_list(value)]
    return each("XoneConstraintComponent", lambda g, v: sum(o.conforms(g, v) for o in options) == 1)
