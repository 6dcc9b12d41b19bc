"""The SPARQL 1.1 Service Description of the public endpoint.

Languages, result formats, features, the default dataset with VoID counts (given by
the caller from ``loader.publish.dataset.dataset_counts``, the one source that /dataset
and the dumps' manifest use too), the predefined prefixes (as SHACL prefix declarations,
which query editors can read) and the endpoint's limits as properties defined in the
description itself.
"""

from __future__ import annotations

import pyoxigraph as ox

from loader.base.namespaces import BT, RDF, RDFS, SH, XSD
from loader.query.results import BY_NAME, GRAPH, ResultFormat, serialise_triples
from loader.query.service import QueryService

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"
PREFIXES = {
    "sd": SD,
    "formats": FORMATS,
    "void": VOID,
    "bt": BT,
    "rdfs": RDFS,
    "xsd": XSD,
    "sh": SH,
    "dcterms": DCTERMS,
}
_FORMAT_IRIS = {
    "json": "SPARQL_Results_JSON",
    "xml": "SPARQL_Results_XML",
    "csv": "SPARQL_Results_CSV",
    "tsv": "SPARQL_Results_TSV",
    "ttl": "Turtle",
    "nt": "N-Triples",
    "jsonld": "JSON-LD",
    "rdf": "RDF_XML",
}
#: The limits, as (property, setting, what it means, datatype).
LIMITS: tuple[tuple[str, str, str, str], ...] = (
    ("queryTimeout", "SPARQL_TIMEOUT", "Seconds a query may run before it is stopped.", "decimal"),
    ("maxResultRows", "SPARQL_MAX_ROWS", "Most rows or triples in one result.", "integer"),
    ("maxQueryBytes", "SPARQL_MAX_QUERY_BYTES", "Longest query accepted, in bytes.", "integer"),
    (
        "maxResultBytes",
        "SPARQL_MAX_RESULT_BYTES",
        "Largest result, in bytes; longer results are cut and flagged; 0: no limit.",
        "integer",
    ),
    (
        "clientBudget",
        "SPARQL_CLIENT_BUDGET",
        "Query-seconds per minute per client (network address); 0: no limit.",
        "decimal",
    ),
    (
        "clientParallelQueries",
        "SPARQL_CLIENT_PARALLEL",
        "Queries one client may run at once; 0: no limit.",
        "integer",
    ),
)


def service_description(
    service: QueryService,
    endpoint: str,
    triples: int | None = None,
    entities: int | None = None,
) -> list[ox.Triple]:
    """The description of ``service`` answering at ``endpoint`` (the web app passes its
    address under BASE_URL, never one built from the request's Host header), with the
    catalogue's ``triples`` and ``entities`` as VoID counts (left out when None)."""
    out: list[ox.Triple] = []
    me = ox.NamedNode(endpoint)

    def add(
        s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal
    ) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    add(me, RDF + "type", ox.NamedNode(SD + "Service"))
    add(me, SD + "endpoint", me)
    add(me, DCTERMS + "title", ox.Literal("Bigtent SPARQL endpoint", language="en"))
    for language in ("SPARQL10Query", "SPARQL11Query"):
        add(me, SD + "supportedLanguage", ox.NamedNode(SD + language))
    for name in BY_NAME:
        add(me, SD + "resultFormat", ox.NamedNode(FORMATS + _FORMAT_IRIS[name]))
    add(me, SD + "feature", ox.NamedNode(SD + "UnionDefaultGraph"))
    if service.service_allow:
        add(me, SD + "feature", ox.NamedNode(SD + "BasicFederatedQuery"))
    add(me, SD + "defaultEntailmentRegime", ox.NamedNode("http://www.w3.org/ns/entailment/Simple"))

    dataset, graph = ox.BlankNode(), ox.BlankNode()
    add(me, SD + "defaultDataset", dataset)
    add(dataset, RDF + "type", ox.NamedNode(SD + "Dataset"))
    add(dataset, SD + "defaultGraph", graph)
    add(graph, RDF + "type", ox.NamedNode(SD + "Graph"))
    for prop, value in (("triples", triples), ("entities", entities)):
        if value is not None:
            add(graph, VOID + prop, _integer(value))

    values: dict[str, float] = {
        "SPARQL_TIMEOUT": service.timeout,
        "SPARQL_MAX_ROWS": service.max_rows,
        "SPARQL_MAX_QUERY_BYTES": service.max_query_bytes,
        "SPARQL_MAX_RESULT_BYTES": service.max_result_bytes,
        "SPARQL_CLIENT_BUDGET": service.budget.capacity,
        "SPARQL_CLIENT_PARALLEL": service.budget.parallel,
    }
    for prop, setting, meaning, datatype in LIMITS:
        iri = ox.NamedNode(BT + prop)
        number = values[setting]
        literal = (
            _integer(int(number))
            if datatype == "integer"
            else ox.Literal(f"{number:.3f}", datatype=ox.NamedNode(XSD + "decimal"))
        )
        add(me, iri.value, literal)
        add(iri, RDF + "type", ox.NamedNode(RDF + "Property"))
        add(iri, RDFS + "domain", ox.NamedNode(SD + "Service"))
        add(iri, RDFS + "comment", ox.Literal(f"{meaning} Setting {setting}."))

    for prefix, namespace in sorted(service.template.prefixes.items()):
        declaration = ox.BlankNode()
        add(me, SH + "declare", declaration)
        add(declaration, SH + "prefix", ox.Literal(prefix))
        add(
            declaration,
            SH + "namespace",
            ox.Literal(namespace, datatype=ox.NamedNode(XSD + "anyURI")),
        )
    return out


def describe(
    service: QueryService,
    endpoint: str,
    fmt: ResultFormat,
    triples: int | None = None,
    entities: int | None = None,
) -> bytes:
    """The service description serialised in ``fmt`` (an RDF format)."""
    if fmt.kind != GRAPH:
        raise ValueError(fmt.name)
    described = service_description(service, endpoint, triples, entities)
    return serialise_triples(fmt, described, PREFIXES)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
