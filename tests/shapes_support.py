"""The validation context for the shape tests.

A record is validated together with its context: the ontology (property entities, class items,
vocabularies, capacities, languages) with the rdf:types the loader materialises, plus the
rdf:types of the entities the record refers to. ``context_graph()`` builds that context from the
ontology files and ``tests/data/shapes/referenced.ttl`` (stub types of the demo entities the
examples refer to). Keep it small: it is meant to be swapped for the loader's normalised
ontology.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import RDF, SKOS, Graph, URIRef

BASE = "https://bigtent.example.org/"
ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = ROOT / "ontology"
SHAPES_DIR = ROOT / "shapes"
REFERENCED = Path(__file__).resolve().parent / "data" / "shapes" / "referenced.ttl"


def parse_turtle(path: Path, graph: Graph | None = None) -> Graph:
    """Parse a Bigtent Turtle file (relative prefixes) against the test base."""
    graph = Graph() if graph is None else graph
    graph.parse(path, format="turtle", publicID=BASE)
    return graph


def context_graph() -> Graph:
    """Ontology + materialised types + stub types of referenced demo entities."""
    graph = Graph()
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        parse_turtle(path, graph)
    p1, p2, p3 = (URIRef(f"{BASE}prop/direct/{p}") for p in ("P1", "P2", "P3"))
    controlled_vocabulary = URIRef(f"{BASE}entity/Q20")
    # What the loader materialises: instance of (P1) -> the class item's equivalent class (P3),
    # following subclass of (P2); instances of a vocabulary class item are SKOS concepts.
    for entity, class_item in list(graph.subject_objects(p1)):
        for ancestor in graph.transitive_objects(class_item, p2):
            for owl_class in graph.objects(ancestor, p3):
                graph.add((entity, RDF.type, owl_class))
        if (class_item, p1, controlled_vocabulary) in graph:
            graph.add((entity, RDF.type, SKOS.Concept))
            graph.add((entity, SKOS.inScheme, class_item))
    return parse_turtle(REFERENCED, graph)


def shapes_graph() -> Graph:
    """All shapes files in one graph."""
    graph = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        parse_turtle(path, graph)
    return graph
