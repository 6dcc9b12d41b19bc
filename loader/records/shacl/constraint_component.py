"""What every constraint component compiles to, and the helpers the builders share.

SHACL §2.1.1 Constraints, Parameters and Constraint Components
(https://www.w3.org/TR/shacl/#constraints): a shape's value for a component's parameter
(``sh:minCount 1``) is a constraint. A :data:`Builder` turns one such value into a
:data:`Check`, which yields ``(component, value node or None, detail or None)`` for each
result of a focus node and its value nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeAlias

import pyoxigraph as ox

from loader.base.rdf import Term
from loader.records.shacl.graph import RecordGraph, ShapeError

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph

Check = Callable[[RecordGraph, Term, list[Term]], Iterator[tuple[str, Term | None, str | None]]]
#: Compiles the value of one parameter (shapes graph, shape node, value) to a check.
Builder: TypeAlias = Callable[["ShapesGraph", Term, Term], Check]


def each(component: str, ok: Callable[[RecordGraph, Term], bool]) -> Check:
    """A check giving one result per value node that is not ``ok``."""

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        for v in values:
            if not ok(g, v):
                yield component, v, None

    return check


def integer(term: Term | None) -> int:
    """The value of an integer parameter such as ``sh:minCount``."""
    if not isinstance(term, ox.Literal):
        raise ShapeError("expected an integer literal")
    return int(term.value)
