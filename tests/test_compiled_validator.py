"""The compiled validator agrees with pySHACL (the reference) on every shape example."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from shapes_support import context_graph
from test_shapes import EXAMPLES, Example, RecordValidator, curie

from loader.base.namespaces import Namespaces
from loader.records.context import Context
from loader.records.profiles import SHAPES_DIR, shape_files
from loader.records.shacl import ShapesGraph
from loader.records.wikibase_rules import NATIVES
from tests.conftest import BASE

NS = Namespaces(BASE)


@pytest.fixture(scope="module")
def reference() -> RecordValidator:
    return RecordValidator()


@pytest.fixture(scope="module")
def compiled() -> tuple[ShapesGraph, Context]:
    shapes = ShapesGraph.from_files(shape_files("bigtent", SHAPES_DIR), BASE, NATIVES)
    data = context_graph().serialize(format="nt", encoding="utf-8")
    triples = [(q.subject, q.predicate, q.object) for q in ox.parse(data, ox.RdfFormat.N_TRIPLES)]
    return shapes, Context.from_triples(NS, triples)


def _record(path: Path) -> list[tuple[object, object, object]]:
    return [
        (q.subject, q.predicate, q.object)
        for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compiled_validator_agrees_with_pyshacl(
    path: Path, reference: RecordValidator, compiled: tuple[ShapesGraph, Context]
) -> None:
    from rdflib import Graph

    example = Example(path)
    record_graph = Graph()
    record_graph.parse(path, format="turtle", publicID=BASE)
    expected = {r.focus for r in reference.validate(record_graph) if r.severity == "sh:Violation"}
    shapes, ctx = compiled
    problems = shapes.validate(_record(path), ctx)  # type: ignore[arg-type]
    found = {curie(p.focus) for p in problems if p.severity == "Violation"}
    assert found == expected, (
        f"{'valid' if example.valid else 'invalid'} example: pySHACL flags {sorted(expected)}, "
        f"compiled flags {sorted(found)}:\n" + "\n".join(f"  {p}" for p in problems)
    )
