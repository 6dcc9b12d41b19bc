"""RDF terms and triples as Bigtent passes them around (pyoxigraph's classes), and the
one table of the RDF syntaxes Bigtent reads and writes: name, file extension, media
type, pyoxigraph format and the other names people use for each.

Inputs (``bigtent load``, uploads), entity documents, dumps, SPARQL graph results,
content negotiation and the dataset description all take syntaxes from
:data:`SYNTAXES`; each use picks the ones it offers by extension. Adding a syntax is one
row here (and the serialiser, where pyoxigraph has none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyoxigraph as ox

Node = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[Node, ox.NamedNode, Term]


@dataclass(frozen=True)
class Syntax:
    """One RDF syntax."""

    label: str  # as people call it: "Turtle"
    extension: str  # the canonical file extension and ?format= value
    media_type: str
    rdf_format: ox.RdfFormat
    names: tuple[str, ...] = ()  # other extensions and --format / ?format= values
    media_aliases: tuple[str, ...] = ()  # other media types clients send for it
    file_type: str = ""  # the EU Publications Office file type (DCAT dct:format)

    @property
    def line_based(self) -> bool:
        """One triple or quad per line (line numbers in errors are exact)."""
        return self.rdf_format in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS)

    @property
    def content_type(self) -> str:
        """The Content-Type header value (every RDF syntax here is UTF-8)."""
        return f"{self.media_type}; charset=utf-8"


SYNTAXES: tuple[Syntax, ...] = (
    Syntax(
        "Turtle",
        "ttl",
        "text/turtle",
        ox.RdfFormat.TURTLE,
        ("turtle", "n3"),
        ("application/x-turtle",),
        "RDF_TURTLE",
    ),
    Syntax(
        "N-Triples",
        "nt",
        "application/n-triples",
        ox.RdfFormat.N_TRIPLES,
        ("ntriples",),
        ("text/plain",),
        "RDF_N_TRIPLES",
    ),
    Syntax(
        "JSON-LD",
        "jsonld",
        "application/ld+json",
        ox.RdfFormat.JSON_LD,
        ("json-ld",),
        (),
        "JSON_LD",
    ),
    Syntax(
        "RDF/XML",
        "rdf",
        "application/rdf+xml",
        ox.RdfFormat.RDF_XML,
        ("rdfxml", "rdf+xml", "owl", "xml"),
        ("application/xml", "text/xml"),
        "RDF_XML",
    ),
    Syntax(
        "N-Quads",
        "nq",
        "application/n-quads",
        ox.RdfFormat.N_QUADS,
        ("nquads",),
        (),
        "RDF_N_QUADS",
    ),
    Syntax("TriG", "trig", "application/trig", ox.RdfFormat.TRIG, (), (), "RDF_TRIG"),
)
BY_EXTENSION: dict[str, Syntax] = {s.extension: s for s in SYNTAXES}
BY_MEDIA_TYPE: dict[str, Syntax] = {s.media_type: s for s in SYNTAXES}
#: Every name a syntax goes by (extension, other names), lower case.
BY_NAME: dict[str, Syntax] = {name: s for s in SYNTAXES for name in (s.extension, *s.names)}


def syntaxes(*extensions: str) -> tuple[Syntax, ...]:
    """The syntaxes with these extensions, in the order given (KeyError for others)."""
    return tuple(BY_EXTENSION[ext] for ext in extensions)


def parse_ntriples(data: bytes | None) -> list[Triple]:
    """The triples of an N-Triples document (a revision's snapshot)."""
    if not data:
        return []
    return [(q.subject, q.predicate, q.object) for q in ox.parse(data, ox.RdfFormat.N_TRIPLES)]


def ntriples(triples: Iterable[tuple[Term, Term, Term]]) -> bytes:
    """Triples as N-Triples, one per line."""
    return "".join(f"{s} {p} {o} .\n" for s, p, o in triples).encode()


def graphs_as_nquads(graphs: Mapping[ox.NamedNode, bytes]) -> bytes:
    """Canonical N-Triples per graph as one N-Quads document (empty graphs contribute
    nothing). Canonical N-Triples have one triple a line, each ending " .\\n", and no raw
    line break inside a literal, so every " .\\n" ends a triple."""
    chunks: list[bytes] = []
    for graph, data in graphs.items():
        if not data:
            continue
        chunks.append(data.replace(b" .\n", f" {graph} .\n".encode()))
        if not data.endswith(b"\n"):
            chunks.append(b"\n")
    return b"".join(chunks)
