"""Property pair constraint components: ``sh:lessThan``, ``sh:lessThanOrEquals``.

SHACL §4.5 (https://www.w3.org/TR/shacl/#core-components-property-pairs). ``sh:equals``
and ``sh:disjoint`` are not implemented.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.namespaces import XSD
from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Builder, Check
from loader.records.shacl.graph import RecordGraph

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph


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


def compare(strict: bool) -> Builder:
    """§4.5.3 ``sh:lessThan`` (``strict``) or §4.5.4 ``sh:lessThanOrEquals``: every value
    node is less than every value of the other property on the focus node (values that
    cannot be compared are results too)."""
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
