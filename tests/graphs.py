"""Graph comparison helpers: isomorphism, not string equality."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic


def to_rdflib(triples: Iterable[tuple[object, object, object]]) -> Graph:
    """An rdflib graph from pyoxigraph triples (via N-Triples)."""
    data = ox.serialize(
        [ox.Triple(s, p, o) for s, p, o in triples],
        format=ox.RdfFormat.N_TRIPLES,  # type: ignore[arg-type]
    )
    graph = Graph()
    graph.parse(data=data or b"", format="nt")
    return graph


def assert_isomorphic(a: Graph, b: Graph) -> None:
    """Fail with the differing triples when two graphs are not isomorphic."""
    if isomorphic(a, b):
        return
    _, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
    lines = ["graphs differ", "only in first:"]
    lines += sorted(f"  {t}" for t in only_a.serialize(format="nt").splitlines() if t)[:30]
    lines.append("only in second:")
    lines += sorted(f"  {t}" for t in only_b.serialize(format="nt").splitlines() if t)[:30]
    raise AssertionError("\n".join(lines))
