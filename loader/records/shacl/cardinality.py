"""Cardinality constraint components: ``sh:minCount``, ``sh:maxCount``.

SHACL §4.2 (https://www.w3.org/TR/shacl/#core-components-count).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Check, integer
from loader.records.shacl.graph import RecordGraph

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph


def min_count(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.2.1 ``sh:minCount``: at least this many value nodes."""
    n = integer(value)

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if len(values) < n:
            yield "MinCountConstraintComponent", None, None

    return check


def max_count(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.2.2 ``sh:maxCount``: at most this many value nodes."""
    n = integer(value)

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if len(values) > n:
            yield "MaxCountConstraintComponent", None, None

    return check
