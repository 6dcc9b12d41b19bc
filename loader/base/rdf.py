"""RDF terms and triples as Bigtent passes them around (pyoxigraph's classes), and the
one table of the RDF formats Bigtent reads and writes, with their media types and file
extensions.

Inputs (``bigtent load``, uploads), entity documents, dumps, content negotiation and the
dataset description all take formats from :data:`FORMATS`; adding a format is one row.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

Node = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[Node, ox.NamedNode, Term]


def ntriples(triples: Iterable[tuple[Term, Term, Term]]) -> bytes:
    """Triples as N-Triples, one per line."""
    return "".join(f"{s} {p} {o} .\n" for s, p, o in triples).encode()
