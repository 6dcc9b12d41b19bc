"""The SHACL Core constraint components this validator implements: each parameter's builder.

SHACL §4 Core Constraint Components (https://www.w3.org/TR/shacl/#core-components). The
builders live in one module per subsection; a parameter missing here (and not read by a
shape or another builder, see ``ShapesGraph._constraints``) makes compilation fail.
"""

from __future__ import annotations

from loader.records.shacl import (
    cardinality,
    logical,
    other,
    property_pair,
    shape_based,
    string_based,
    value_range,
    value_type,
)
from loader.records.shacl.constraint_component import Builder

BUILDERS: dict[str, Builder] = {
    # §4.1 value type
    "class": value_type.class_,
    "datatype": value_type.datatype,
    "nodeKind": value_type.node_kind,
    # §4.2 cardinality
    "minCount": cardinality.min_count,
    "maxCount": cardinality.max_count,
    # §4.3 value range (numbers)
    "minExclusive": value_range.bound(True, False),
    "minInclusive": value_range.bound(True, True),
    "maxExclusive": value_range.bound(False, False),
    "maxInclusive": value_range.bound(False, True),
    # §4.4 string-based
    "minLength": string_based.length(True),
    "maxLength": string_based.length(False),
    "pattern": string_based.pattern,
    "languageIn": string_based.language_in,
    "uniqueLang": string_based.unique_lang,
    # §4.5 property pair
    "lessThan": property_pair.compare(True),
    "lessThanOrEquals": property_pair.compare(False),
    # §4.6 logical
    "not": logical.not_,
    "and": logical.and_,
    "or": logical.or_,
    "xone": logical.xone,
    # §4.7 shape-based
    "node": shape_based.node,
    "qualifiedValueShape": shape_based.qualified_value_shape,
    # §4.8 other
    "closed": other.closed,
    "hasValue": other.has_value,
    "in": other.in_,
}
