"""Bigtent's own constraint components: checks SHACL cannot express, written in Python.

A shape switches one on with ``bts:someRule true``; the implementations are in
``loader/records/wikibase_rules.py`` and are passed to :class:`ShapesGraph` as
``natives``. They stand where standard SHACL would use SPARQL-based constraint
components (§6, https://www.w3.org/TR/shacl/#sparql-constraint-components).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from loader.base.rdf import Term
from loader.records.shacl.constraint_component import Check
from loader.records.shacl.graph import RecordGraph

BTS = "https://w3id.org/bigtent/shapes#"

NativeCheck = Callable[[RecordGraph, Term], Iterator[tuple[Term | None, str]]]


def native(iri: str, fn: NativeCheck) -> Check:
    """The check for the native component ``iri`` (named by its local part in results)."""
    component = iri.removeprefix(BTS)

    def check(
        g: RecordGraph, focus: Term, values: list[Term]
    ) -> Iterator[tuple[str, Term | None, str | None]]:
        for value, detail in fn(g, focus):
            yield component, value, detail

    return check
