"""Value type constraint components: ``sh:class``, ``sh:datatype``, ``sh:nodeKind``.

SHACL §4.1 (https://www.w3.org/TR/shacl/#core-components-value-type).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.namespaces import RDF, SH, XSD
from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Check, each
from loader.records.shacl.graph import RecordGraph

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph

RDF_LANGSTRING = RDF + "langString"


def class_(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.1.1 ``sh:class``: every value node is an instance of the class (or a subclass)."""
    cls = value.value
    return each(
        "ClassConstraintComponent", lambda g, v: not isinstance(v, ox.Literal) and cls in g.types(v)
    )


def datatype(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.1.2 ``sh:datatype``: every value node is a well-formed literal of the datatype."""
    dt = value.value

    def ok(g: RecordGraph, v: Term) -> bool:
        if not isinstance(v, ox.Literal):
            return False
        if v.language:
            return dt == RDF_LANGSTRING
        return v.datatype.value == dt and _well_formed(v)

    return each("DatatypeConstraintComponent", ok)


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


def node_kind(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.1.3 ``sh:nodeKind``: every value node is of the kind (``sh:IRI``, ``sh:Literal``…)."""
    kinds = _NODE_KINDS[value.value.removeprefix(SH)]
    return each("NodeKindConstraintComponent", lambda g, v: isinstance(v, kinds))
