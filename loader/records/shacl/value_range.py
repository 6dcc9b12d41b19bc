"""Value range constraint components: ``sh:minExclusive``, ``sh:minInclusive``,
``sh:maxExclusive``, ``sh:maxInclusive``.

SHACL §4.3 (https://www.w3.org/TR/shacl/#core-components-range). Only numeric ranges
(the numeric XSD datatypes, compared as decimals) are implemented: a value node that is
not a number, or a bound that is not one, is a result, as SPARQL's ``<`` gives an error
for terms it cannot compare.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.namespaces import XSD
from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Builder, Check, each
from loader.records.shacl.graph import RecordGraph, ShapeError

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph

_NUMERIC = {
    XSD + name
    for name in (
        "decimal", "integer", "double", "float", "long", "int", "short", "byte",
        "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
        "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    )
}  # fmt: skip


def number(term: Term) -> Decimal | None:
    """The value of a numeric literal; None for anything else (NaN and infinities too)."""
    if not isinstance(term, ox.Literal) or term.datatype.value not in _NUMERIC:
        return None
    try:
        value = Decimal(term.value.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def bound(minimum: bool, inclusive: bool) -> Builder:
    """§4.3.1–4.3.4: every value node is a number above (``minimum``) or below the bound,
    or equal to it when ``inclusive``."""
    component = ("Min" if minimum else "Max") + (
        "InclusiveConstraintComponent" if inclusive else "ExclusiveConstraintComponent"
    )

    def build(shapes: ShapesGraph, node: Term, value: Term) -> Check:
        limit = number(value)
        if limit is None:
            raise ShapeError(f"sh:{component[:12]}: the bound {value} is not a number")

        def ok(g: RecordGraph, v: Term) -> bool:
            n = number(v)
            if n is None:
                return False
            if minimum:
                return n >= limit if inclusive else n > limit
            return n <= limit if inclusive else n < limit

        return each(component, ok)

    return build
