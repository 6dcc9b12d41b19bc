"""String-based constraint components: ``sh:minLength``, ``sh:maxLength``, ``sh:pattern``
(with ``sh:flags``), ``sh:languageIn``, ``sh:uniqueLang``.

SHACL §4.4 (https://www.w3.org/TR/shacl/#core-components-string).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Builder, Check, each, integer
from loader.records.shacl.graph import RecordGraph

if TYPE_CHECKING:
    from loader.records.shacl.shapes import ShapesGraph


def length(minimum: bool) -> Builder:
    """§4.4.1 ``sh:minLength`` (``minimum``) or §4.4.2 ``sh:maxLength``: bounds on the
    length of every value node's string (a blank node never conforms)."""

    def build(shapes: ShapesGraph, node: Term, value: Term) -> Check:
        n = integer(value)
        component = "MinLengthConstraintComponent" if minimum else "MaxLengthConstraintComponent"

        def ok(g: RecordGraph, v: Term) -> bool:
            if isinstance(v, ox.BlankNode):
                return False
            return len(v.value) >= n if minimum else len(v.value) <= n

        return each(component, ok)

    return build


def pattern(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.4.3 ``sh:pattern``: every value node's string matches the regular expression
    (only the ``i`` of ``sh:flags`` is honoured)."""
    flags_term = shapes.one(node, "flags")
    flags = 0
    if isinstance(flags_term, ox.Literal) and "i" in flags_term.value:
        flags |= re.IGNORECASE
    regex = re.compile(value.value, flags)
    return each(
        "PatternConstraintComponent",
        lambda g, v: not isinstance(v, ox.BlankNode) and regex.search(v.value) is not None,
    )


def language_in(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.4.4 ``sh:languageIn``: every value node has a language tag in one of the ranges."""
    ranges = [r.value.lower() for r in shapes.rdf_list(value)]

    def ok(g: RecordGraph, v: Term) -> bool:
        if not isinstance(v, ox.Literal) or not v.language:
            return False
        lang = v.language.lower()
        return any(r == "*" or lang == r or lang.startswith(r + "-") for r in ranges)

    return each("LanguageInConstraintComponent", ok)


def unique_lang(shapes: ShapesGraph, node: Term, value: Term) -> Check:
    """§4.4.5 ``sh:uniqueLang``: no two value nodes share a language tag (one result per
    language)."""
    enabled = isinstance(value, ox.Literal) and value.value == "true"

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        if not enabled:
            return
        seen: dict[str, int] = defaultdict(int)
        for v in values:
            if isinstance(v, ox.Literal) and v.language:
                seen[v.language.lower()] += 1
        for lang, count in sorted(seen.items()):
            if count > 1:
                yield "UniqueLangConstraintComponent", None, f"{count} values in language '{lang}'"

    return check
