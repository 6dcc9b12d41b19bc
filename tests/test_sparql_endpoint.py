"""The /sparql endpoint in-process: protocol, formats, negotiation, dataset, prefixes,
labels, service description, CORS and limits (real worker processes, demo catalogue)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from conftest import BASE, sync_app, unmetered_demo_app
from flask import Flask
from flask.testing import FlaskClient
from graphs import assert_isomorphic, to_rdflib

WD = BASE + "entity/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SELECT_CLASSES = "SELECT ?c WHERE { ?c wdt:P2 wd:Q1 } ORDER BY ?c"
CONSTRUCT_Q1 = "CONSTRUCT { wd:Q1 rdfs:label ?l } WHERE { wd:Q1 rdfs:label ?l }"


@pytest.fixture(scope="module")
def sparql_app(
    demo_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    store_backend: dict[str, Any],
) -> Iterator[Flask]:
    """One app for the read-only tests of this module (no client budget), on each backend."""
    yield from unmetered_demo_app(
        demo_template, tmp_path_factory.mktemp("sparql") / "data", store_backend
    )


@pytest.fixture
def web(sparql_app: Flask) -> FlaskClient:
    """A client of the shared app (the shared Virtuoso resynced if a test changed it)."""
    return sync_app(sparql_app, "demo").test_client()


@pytest.fixture
def custom_app(make_app: Callable[..., Flask], tmp_path: Path) -> Callable[..., Flask]:
    """Factory: an app with some settings changed (closed after the test)."""
    count = 0

    def make(**settings: Any) -> Flask:
        nonlocal count
        count += 1
        return make_app(DATA_DIR=str(tmp_path / f"data{count}"), **settings)

    return make


def select(web: FlaskClient, query: str, **params: str) -> list[dict[str, Any]]:
    """Run a SELECT over GET and return its JSON bindings."""
    response = web.get("/sparql", query_string={"query": query, **params})
    assert response.status_code == 200, response.text
    bindings: list[dict[str, Any]] = response.json["results"]["bindings"]  # type: ignore[index]
    return bindings


def values(web: FlaskClient, query: str, var: str, **params: str) -> list[str]:
    """One variable's values, in result order."""
    return [b[var]["value"] for b in select(web, query, **params) if var in b]


# --- protocol -----------------------------------------------------------------------------
def test_get_form_post_and_direct_post_agree(web: FlaskClient) -> None:
    expected = [WD + "Q3"]
    assert values(web, SELECT_CLASSES, "c")[:1] == expected
    by_form = web.post("/sparql", data={"query": SELECT_CLASSES})
    direct = web.post("/sparql", data=SELECT_CLASSES, content_type="application/sparql-query")
    for response in (by_form, direct):
        assert response.status_code == 200
        assert response.json["results"]["bindings"][0]["c"]["value"] == expected[0]  # type: ignore[index]


def test_default_graph_is_the_union_of_all_graphs(web: FlaskClient) -> None:
    query = "SELECT ?l WHERE { wd:Q1 rdfs:label ?l . wd:Q3 wdt:P2 ?super }"
    assert "organisation" in values(web, query, "l")


def test_protocol_dataset_is_honoured(web: FlaskClient) -> None:
    ask = "ASK { wd:Q1 rdfs:label ?l }"
    only_q1 = {"default-graph-uri": BASE + "data/Q1"}
    only_q3 = {"default-graph-uri": BASE + "data/Q3"}
    assert web.get("/sparql", query_string={"query": ask, **only_q1}).json["boolean"] is True  # type: ignore[index]
    assert web.get("/sparql", query_string={"query": ask, **only_q3}).json["boolean"] is False  # type: ignore[index]
    named = {"named-graph-uri": BASE + "data/Q3"}
    graphs = values(web, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "g", **named)
    assert graphs == [BASE + "data/Q3"]


def test_from_in_the_query_limits_the_default_graph(web: FlaskClient) -> None:
    query = "SELECT ?s FROM wdata:Q3 WHERE { ?s rdfs:label ?l } GROUP BY ?s"
    assert values(web, query, "s") == [WD + "Q3"]


def test_bad_graph_iri_is_refused(web: FlaskClient) -> None:
    response = web.get("/sparql", query_string={"query": "ASK {}", "default-graph-uri": "not iri"})
    assert response.status_code == 400
    assert "default-graph-uri" in response.text


# --- formats and negotiation ---------------------------------------------------------------
SOLUTION_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def parse_rdf(data: bytes, media_type: str) -> rdflib.Graph:
    """A response body as an rdflib graph (parsed by pyoxigraph: rdflib's JSON-LD parser
    warns about its own deprecations)."""
    quads = ox.parse(data, GRAPH_FORMATS[media_type])
    return to_rdflib((q.subject, q.predicate, q.object) for q in quads)


@pytest.mark.parametrize(
    ("params", "accept", "expected"),
    [
        ({}, None, "application/sparql-results+json"),
        ({}, "*/*", "application/sparql-results+json"),
        ({"format": "xml"}, None, "application/sparql-results+xml"),
        ({"format": "csv"}, "application/sparql-results+json", "text/csv"),
        ({"format": "tsv"}, None, "text/tab-separated-values"),
        (
            {},
            "application/sparql-results+xml, application/rdf+xml",
            "application/sparql-results+xml",
        ),
        ({}, "text/csv;q=0.5, text/tab-separated-values", "text/tab-separated-values"),
        ({}, "application/json", "application/sparql-results+json"),
        ({}, "text/*", "text/csv"),
        (
            {},
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/sparql-results+xml",
        ),
        (
            {},
            "application/sparql-results+json,application/json,text/javascript,application/javascript",
            "application/sparql-results+json",
        ),
    ],
)
def test_select_results_by_negotiation_and_format(
    web: FlaskClient, params: dict[str, str], accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = web.get("/sparql", query_string={"query": SELECT_CLASSES, **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.mimetype == expected
    if expected == "text/csv":  # lossy: pyoxigraph does not parse it
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["c"] and rows[1] == [WD + "Q3"]
        assert response.data.endswith(b"\r\n")
        return
    parsed = ox.parse_query_results(response.data, SOLUTION_FORMATS[expected])
    assert isinstance(parsed, ox.QuerySolutions)
    assert [str(s["c"].value) for s in parsed][:1] == [WD + "Q3"]  # type: ignore[union-attr]


@pytest.mark.parametrize("media_type", list(SOLUTION_FORMATS))
def test_ask_in_every_solutions_format(web: FlaskClient, media_type: str) -> None:
    response = web.get(
        "/sparql",
        query_string={"query": "ASK { wd:Q3 wdt:P2 wd:Q1 }"},
        headers={"Accept": media_type},
    )
    assert response.mimetype == media_type
    if media_type == "text/csv":  # as Apache Jena writes it (loader/query/results.py)
        assert response.text == "_askResult\r\ntrue\r\n"
    elif media_type == "text/tab-separated-values":
        assert response.text == "?_askResult\ntrue\n"
    else:
        parsed = ox.parse_query_results(response.data, SOLUTION_FORMATS[media_type])
        assert isinstance(parsed, ox.QueryBoolean) and bool(parsed)


@pytest.mark.parametrize(
    ("params", "accept", "expected"),
    [
        ({}, None, "text/turtle"),
        ({"format": "nt"}, None, "application/n-triples"),
        ({"format": "jsonld"}, None, "application/ld+json"),
        ({"format": "rdf"}, None, "application/rdf+xml"),
        ({}, "application/sparql-results+xml, application/rdf+xml", "application/rdf+xml"),
        ({}, "application/n-triples;q=0.9, text/turtle;q=0.2", "application/n-triples"),
        ({}, "application/sparql-results+json, */*;q=0.1", "text/turtle"),
    ],
)
def test_construct_results_by_negotiation_and_format(
    web: FlaskClient, params: dict[str, str], accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = web.get("/sparql", query_string={"query": CONSTRUCT_Q1, **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.mimetype == expected
    got = parse_rdf(response.data, expected)
    want = rdflib.Graph()
    for lang, text in (
        ("en", "organisation"),
        ("fr", "organisation"),
        ("es", "organización"),
        ("pt", "organização"),
    ):
        want.add((rdflib.URIRef(WD + "Q1"), rdflib.RDFS.label, rdflib.Literal(text, lang=lang)))
    assert_isomorphic(got, want)


def test_describe_is_a_graph(web: FlaskClient) -> None:
    response = web.get("/sparql", query_string={"query": "DESCRIBE wd:Q3"})
    assert response.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    assert (
        rdflib.URIRef(WD + "Q3"),
        rdflib.URIRef(BASE + "prop/direct/P2"),
        rdflib.URIRef(WD + "Q1"),
    ) in graph


def test_format_never_mismatches_the_query_form(web: FlaskClient) -> None:
    select_as_turtle = web.get("/sparql", query_string={"query": SELECT_CLASSES, "format": "ttl"})
    assert select_as_turtle.status_code == 406
    assert "SELECT" in select_as_turtle.text and "json" in select_as_turtle.text
    construct_as_csv = web.get(
        "/sparql", query_string={"query": CONSTRUCT_Q1}, headers={"Accept": "text/csv"}
    )
    assert construct_as_csv.status_code == 406


def test_unknown_format_lists_the_options(web: FlaskClient) -> None:
    response = web.get("/sparql", query_string={"query": SELECT_CLASSES, "format": "xlsx"})
    assert response.status_code == 400
    for name in ("json", "xml", "csv", "tsv", "ttl", "nt", "jsonld", "rdf"):
        assert name in response.text


def test_unacceptable_accept_is_406(web: FlaskClient) -> None:
    response = web.get(
        "/sparql", query_string={"query": SELECT_CLASSES}, headers={"Accept": "image/png"}
    )
    assert response.status_code == 406


# --- WDQS comfort ---------------------------------------------------------------------------
def test_wikibase_and_common_prefixes_are_predefined(web: FlaskClient) -> None:
    names = [
        "wd", "wdt", "p", "ps", "psv", "pq", "pqv", "pr", "prv", "wdno", "wds", "wdref", "wdv",
        "wikibase", "rdf", "rdfs", "owl", "xsd", "skos", "schema", "prov", "dcterms", "org",
        "foaf", "bt", "bts",
    ]  # fmt: skip
    query = "ASK { " + " ".join(f"BIND({n}:x AS ?{n})" for n in names) + " }"
    response = web.get("/sparql", query_string={"query": query})
    assert response.status_code == 200, response.text
    statements = "SELECT ?s WHERE { wd:Q3 p:P2 ?s . ?s ps:P2 wd:Q1 ; wikibase:rank ?r }"
    assert len(values(web, statements, "s")) == 1


def test_declared_prefixes_override_predefined_ones(web: FlaskClient) -> None:
    query = "PREFIX wd: <http://www.wikidata.org/entity/>\nSELECT ?c WHERE { ?c ?p wd:Q1 }"
    assert values(web, query, "c") == []


def test_syntax_errors_say_where(web: FlaskClient) -> None:
    response = web.get(
        "/sparql",
        query_string={"query": "SELECT ?s WHERE {\n  ?s wdt:P1 ?o .\n  FILTER(?o = ) }"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    body = response.json
    assert body is not None and body["line"] == 3 and "line 3" in body["error"]


def test_labels_are_filled_in_the_readers_language(web: FlaskClient) -> None:
    query = "SELECT ?c ?cLabel ?cDescription WHERE { VALUES ?c { wd:Q1 wd:Q1021 } } ORDER BY ?c"
    french = select(web, query, uselang="fr")
    assert french[0]["cLabel"] == {"type": "literal", "value": "organisation", "xml:lang": "fr"}
    assert french[0]["cDescription"]["xml:lang"] == "fr"
    # Q1021 has no French label: the fallback chain (LANGUAGES) gives English
    assert french[1]["cLabel"]["xml:lang"] == "en"
    portuguese = web.get(
        "/sparql", query_string={"query": query}, headers={"Accept-Language": "pt-BR, en;q=0.5"}
    )
    labels = [b["cLabel"]["value"] for b in portuguese.json["results"]["bindings"]]  # type: ignore[index]
    assert labels == ["organização", "Círculo Lusófono de Conhecimento Livre (exemplo fictício)"]


def test_aliases_are_filled_comma_separated(web: FlaskClient) -> None:
    [row] = select(web, "SELECT ?o ?oAltLabel WHERE { VALUES ?o { wd:Q1001 } }")
    assert sorted(row["oAltLabel"]["value"].split(", ")) == ["WMDE", "Wikimedia Germany"]


def test_labels_fall_back_to_the_id_and_never_overwrite(web: FlaskClient) -> None:
    query = """SELECT ?x ?xLabel ?xDescription ?y ?yLabel ?z ?zLabel WHERE {
      VALUES ?x { wd:Q99999999 }
      BIND(wd:Q1 AS ?y) BIND("mine" AS ?yLabel)
      BIND(<https://elsewhere.example/thing> AS ?z)
    }"""
    [row] = select(web, query)
    assert row["xLabel"] == {"type": "literal", "value": "Q99999999"}
    assert "xDescription" not in row
    assert row["yLabel"]["value"] == "mine"
    assert "zLabel" not in row


def test_label_convention_is_plain_sparql_elsewhere() -> None:
    """Another engine (rdflib) runs the same query and leaves the label unbound."""
    graph = rdflib.Graph()
    graph.add(
        (rdflib.URIRef(WD + "Q1"), rdflib.RDFS.label, rdflib.Literal("organisation", lang="en"))
    )
    rows = list(
        graph.query(f"PREFIX wd: <{WD}>\nSELECT ?c ?cLabel WHERE {{ VALUES ?c {{ wd:Q1 }} }}")
    )
    assert len(rows) == 1 and rows[0][1] is None  # type: ignore[index]


# --- service description ---------------------------------------------------------------------
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
BT = rdflib.Namespace("https://w3id.org/bigtent/ontology#")


def service_description(web: FlaskClient, accept: str = "text/turtle") -> rdflib.Graph:
    response = web.get("/sparql", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    return parse_rdf(response.data, response.mimetype)


def test_service_description_lists_formats_features_dataset_and_limits(
    web: FlaskClient, sparql_app: Flask
) -> None:
    graph = service_description(web)
    endpoint = rdflib.URIRef(BASE + "sparql")
    assert (endpoint, SD.endpoint, endpoint) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (endpoint, SD.feature, SD.UnionDefaultGraph) in graph
    assert (endpoint, SD.feature, SD.BasicFederatedQuery) not in graph
    formats = {str(o).rsplit("/", 1)[1] for o in graph.objects(endpoint, SD.resultFormat)}
    assert formats == {
        "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
        "Turtle", "N-Triples", "JSON-LD", "RDF_XML",
    }  # fmt: skip
    [default_graph] = graph.objects(graph.value(endpoint, SD.defaultDataset), SD.defaultGraph)
    # The counts come from one source, as /dataset's (test_dataset_description.py checks
    # that they agree with the dumps); before the first dump there is no triple count.
    counts = sparql_app.extensions["bigtent"].dataset_counts()
    assert graph.value(default_graph, VOID.triples) is None and counts.triples is None
    entities = {r.entity for r in sparql_app.extensions["bigtent"].revisions.recent(10**6)}
    assert graph.value(default_graph, VOID.entities).toPython() == len(entities)
    assert graph.value(endpoint, BT.queryTimeout).toPython() == 30
    assert graph.value(endpoint, BT.maxResultRows).toPython() == 100000
    prefixes = {
        str(graph.value(d, rdflib.SH.prefix)): str(graph.value(d, rdflib.SH.namespace))
        for d in graph.objects(endpoint, rdflib.SH.declare)
    }
    assert prefixes["wd"] == WD and prefixes["wikibase"] == "http://wikiba.se/ontology#"


@pytest.mark.parametrize(
    "accept", ["application/rdf+xml", "application/ld+json", "application/n-triples"]
)
def test_service_description_in_other_rdf_formats(web: FlaskClient, accept: str) -> None:
    assert_isomorphic(service_description(web, accept), service_description(web))


def test_service_description_sends_browsers_to_the_editor_and_revalidates(web: FlaskClient) -> None:
    browser = web.get("/sparql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.status_code == 303 and browser.location.endswith("/query")
    first = web.get("/sparql", headers={"Accept": "text/turtle"})
    again = web.get(
        "/sparql", headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_federation_feature_is_announced_when_services_are_allowed(
    custom_app: Callable[..., Flask],
) -> None:
    app = custom_app(SPARQL_SERVICE_ALLOW="https://query.wikidata.org/sparql")
    graph = service_description(app.test_client())
    assert (rdflib.URIRef(BASE + "sparql"), SD.feature, SD.BasicFederatedQuery) in graph


def test_service_description_names_the_endpoint_under_base_url_not_host(web: FlaskClient) -> None:
    """Finding 9: the Host header was reflected in the (publicly cached) description."""
    forged = web.get(
        "/sparql",
        headers={"Accept": "application/n-triples", "Host": "evil.example"},
        base_url="http://evil.example",
    )
    assert forged.status_code == 200
    assert b"evil.example" not in forged.data
    endpoint = rdflib.URIRef(BASE + "sparql")
    graph = parse_rdf(forged.data, forged.mimetype)
    assert (endpoint, SD.endpoint, endpoint) in graph
    plain = web.get("/sparql", headers={"Accept": "application/n-triples"})
    assert forged.headers["ETag"] == plain.headers["ETag"]  # one cached variant for all


# --- CORS ---------------------------------------------------------------------------------------
def test_direct_post_preflight_and_response_allow_other_origins(web: FlaskClient) -> None:
    preflight = web.options(
        "/sparql",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, accept",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "accept" in allowed
    response = web.post(
        "/sparql",
        data="ASK {}",
        content_type="application/sparql-query",
        headers={"Origin": "https://elsewhere.example"},
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Bigtent-Truncated" in response.headers["Access-Control-Expose-Headers"]


# --- limits -------------------------------------------------------------------------------------
def test_row_cap_truncates_and_says_so(custom_app: Callable[..., Flask]) -> None:
    web = custom_app(SPARQL_MAX_ROWS=3).test_client()
    query = "SELECT ?s WHERE { ?s rdfs:label ?l }"
    response = web.get("/sparql", query_string={"query": query})
    assert response.headers["Bigtent-Truncated"] == "true"
    assert response.json["bigtent"] == {"truncated": True, "maxRows": 3}  # type: ignore[index]
    parsed = ox.parse_query_results(response.data, ox.QueryResultsFormat.JSON)
    assert len(list(parsed)) == 3  # type: ignore[arg-type]
    from rdflib.query import Result

    assert len(Result.parse(io.BytesIO(response.data), format="json")) == 3  # type: ignore[arg-type]
    for fmt in ("xml", "csv", "tsv"):
        other = web.get("/sparql", query_string={"query": query, "format": fmt})
        assert other.headers["Bigtent-Truncated"] == "true"
    construct = web.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s rdfs:label ?l }"})
    assert construct.headers["Bigtent-Truncated"] == "true"
    assert len(rdflib.Graph().parse(data=construct.data, format="turtle")) == 3
    small = web.get("/sparql", query_string={"query": query + " LIMIT 3"})
    assert "Bigtent-Truncated" not in small.headers and "bigtent" not in small.json  # type: ignore[operator]


def test_results_are_cut_at_the_byte_cap_and_say_so(
    custom_app: Callable[..., Flask], store_backend: dict[str, Any]
) -> None:
    """Finding 4: results had no byte cap (a 300-row query returned 269 MB, held whole in
    the web process). Each row here is 32 KB of text; the cap keeps a few of them."""
    cap = 100_000
    web = custom_app(SPARQL_MAX_RESULT_BYTES=cap).test_client()
    doubled = "".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1}) " for i in range(15))
    query = f'SELECT ?s ?v15 WHERE {{ ?s rdfs:label ?l BIND("x" AS ?v0) {doubled}}} LIMIT 300'
    small = web.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s rdfs:label ?l }"})
    assert small.status_code == 200 and "Bigtent-Truncated" not in small.headers
    response = web.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/json"}
    )
    if store_backend:  # a remote engine's answer is read up to twice the cap, then refused
        assert response.status_code == 503, response.text[:300]
        assert "SPARQL_MAX_RESULT_BYTES" in response.json["error"]  # type: ignore[index]
        return
    assert response.status_code == 200, response.text[:300]
    assert len(response.data) <= cap
    assert response.headers["Bigtent-Truncated"] == "true"
    body = response.json
    assert body is not None and body["bigtent"] == {"truncated": True, "maxBytes": cap}
    rows = body["results"]["bindings"]
    assert 1 <= len(rows) < 4 and all(len(r["v15"]["value"]) == 2**15 for r in rows)
    for fmt in ("xml", "csv", "tsv"):
        other = web.get("/sparql", query_string={"query": query, "format": fmt})
        assert other.status_code == 200 and len(other.data) <= cap, fmt
        assert other.headers["Bigtent-Truncated"] == "true", fmt
    construct = "CONSTRUCT { ?s rdfs:comment ?v15 } WHERE { " + query.split("WHERE {", 1)[1]
    for accept in GRAPH_FORMATS:
        graph = web.get("/sparql", query_string={"query": construct}, headers={"Accept": accept})
        assert graph.status_code == 200 and len(graph.data) <= cap, accept
        assert graph.headers["Bigtent-Truncated"] == "true", accept
        assert 1 <= len(parse_rdf(graph.data, graph.mimetype)) < 4, accept


def test_csv_and_tsv_cells_cannot_start_a_spreadsheet_formula(web: FlaskClient) -> None:
    """Finding 9: formulas passed unescaped into SPARQL CSV (OWASP, CSV injection)."""
    query = (
        'SELECT ?eq ?plus ?minus ?at ?tab ?number ?iri WHERE { BIND("=HYPERLINK(\\"http://'
        'evil.example\\";\\"x\\")" AS ?eq) BIND("+1+1" AS ?plus) BIND("-1+1"@en AS ?minus) '
        'BIND("@SUM(A1)" AS ?at) BIND("\\t=1" AS ?tab) BIND(-5 AS ?number) BIND(wd:Q3 AS ?iri) }'
    )
    csv_text = web.get("/sparql", query_string={"query": query, "format": "csv"}).text
    [header, row] = list(csv.reader(io.StringIO(csv_text)))
    cells = dict(zip(header, row, strict=True))
    assert cells == {
        "eq": '\'=HYPERLINK("http://evil.example";"x")',
        "plus": "'+1+1",
        "minus": "'-1+1",
        "at": "'@SUM(A1)",
        "tab": "'\t=1",
        "number": "-5",
        "iri": WD + "Q3",
    }
    assert "\"'=HYPERLINK(" in csv_text  # quoted: ';' splits cells in some locales
    tsv = web.get("/sparql", query_string={"query": query, "format": "tsv"}).text
    cells = dict(zip(*(line.split("\t") for line in tsv.splitlines()), strict=True))
    assert cells["?eq"] == '"\'=HYPERLINK(\\"http://evil.example\\";\\"x\\")"'
    assert cells["?minus"] == '"\'-1+1"@en' and cells["?at"] == '"\'@SUM(A1)"'
    assert cells["?tab"] == '"\'\\t=1"' and cells["?number"] == "-5"
    assert all(not v.lstrip('"').startswith(("=", "+", "@")) for v in cells.values())


def test_per_request_timeout_only_lowers_the_limit(custom_app: Callable[..., Flask]) -> None:
    web = custom_app(SPARQL_TIMEOUT=1.5).test_client()
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    asked_more = web.get(
        "/sparql",
        query_string={"query": runaway, "timeout": "600"},
        headers={"Accept": "application/json"},
    )
    assert asked_more.status_code == 503
    assert "SPARQL_TIMEOUT" in asked_more.json["error"] and "1.5 s" in asked_more.json["error"]  # type: ignore[index]
    bad = web.get("/sparql", query_string={"query": "ASK {}", "timeout": "soon"})
    assert bad.status_code == 400


def test_client_budget_answers_429_with_retry_after(custom_app: Callable[..., Flask]) -> None:
    web = custom_app(SPARQL_CLIENT_BUDGET=0.0005).test_client()
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert web.get("/sparql", query_string={"query": query}).status_code == 200
    refused = web.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/json"}
    )
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "SPARQL_CLIENT_BUDGET" in refused.json["error"]  # type: ignore[index]
    other_client = web.get(
        "/sparql", query_string={"query": query}, environ_base={"REMOTE_ADDR": "127.0.0.2"}
    )
    assert other_client.status_code == 200


def test_forwarded_for_counts_only_from_trusted_proxies(
    custom_app: Callable[..., Flask],
) -> None:
    calls = itertools.count()

    def ask(web: FlaskClient, forwarded: str) -> int:
        # a new query each time: an answer from the cache costs no budget
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} LIMIT {next(calls) + 1}"
        headers = {"X-Forwarded-For": forwarded}
        return web.get("/sparql", query_string={"query": query}, headers=headers).status_code

    direct = custom_app(SPARQL_CLIENT_BUDGET=0.0005).test_client()
    assert ask(direct, "127.0.9.1") == 200
    assert ask(direct, "127.0.9.2") == 429  # not a proxy of ours: the header is the client's
    proxied = custom_app(SPARQL_CLIENT_BUDGET=0.0005, TRUSTED_PROXIES="127.0.0.1").test_client()
    assert ask(proxied, "127.0.9.1") == 200
    assert ask(proxied, "127.0.9.1") == 429
    assert ask(proxied, "127.0.9.2") == 200  # another client behind the proxy
    assert ask(proxied, "127.0.9.3, 127.0.9.2") == 429  # the rightmost untrusted hop counts


def test_a_client_is_its_address_not_its_user_agent(custom_app: Callable[..., Flask]) -> None:
    """Finding 4: a new User-Agent was a new client with a fresh budget."""
    web = custom_app(SPARQL_CLIENT_BUDGET=0.0005).test_client()
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert web.get("/sparql", query_string={"query": query}).status_code == 200
    for limit, agent in enumerate(("curl/8.0", "Mozilla/5.0", "another-tool/1"), 1):
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} LIMIT {limit}"  # not cached
        renamed = web.get("/sparql", query_string={"query": query}, headers={"User-Agent": agent})
        assert renamed.status_code == 429, agent


def test_a_new_record_becomes_visible_within_the_snapshot_interval(
    custom_app: Callable[..., Flask], write_ttl: Callable[[str, str], Path]
) -> None:
    app = custom_app(SPARQL_SNAPSHOT_INTERVAL=0.2, SPARQL_CLIENT_BUDGET=0, SPARQL_CLIENT_PARALLEL=0)
    web = app.test_client()
    ask = "ASK { wd:Q9001 rdfs:label ?l }"
    assert web.get("/sparql", query_string={"query": ask}).json["boolean"] is False  # type: ignore[index]
    path = write_ttl("new.ttl", 'wd:Q9001 rdfs:label "Fresh record"@en ; wdt:P1 wd:Q1 .\n')
    report = app.extensions["bigtent"].load_paths([path])
    assert report.ok
    written = time.monotonic()
    seen = None
    while time.monotonic() - written < 20:
        if web.get("/sparql", query_string={"query": ask}).json["boolean"]:  # type: ignore[index]
            seen = time.monotonic() - written
            break
        time.sleep(0.05)
    # documented bound: SPARQL_SNAPSHOT_INTERVAL plus the time to take a checkpoint
    assert seen is not None and seen < 0.2 + 5


@pytest.mark.embedded_store  # the embedded endpoint's snapshots of the store
def test_old_snapshots_are_deleted_once_unused(
    custom_app: Callable[..., Flask], write_ttl: Callable[[str, str], Path]
) -> None:
    app = custom_app(SPARQL_CLIENT_BUDGET=0)
    web, catalogue = app.test_client(), app.extensions["bigtent"]
    assert web.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    first = catalogue.query_service.snapshots.current
    catalogue.load_paths([write_ttl("a.ttl", 'wd:Q9002 rdfs:label "A"@en ; wdt:P1 wd:Q1 .\n')])
    # Published now, or already by the snapshot thread on a busy machine (then refresh()
    # has nothing left to do and answers None): either way a newer snapshot is current.
    catalogue.query_service.refresh()
    assert catalogue.query_service.snapshots.current is not first
    assert web.get("/sparql", query_string={"query": "ASK { wd:Q9002 ?p ?o }"}).json["boolean"]  # type: ignore[index]
    snapshots = sorted(p.name for p in (Path(catalogue.settings.DATA_DIR) / "snapshots").iterdir())
    assert first.path.name not in snapshots
    assert snapshots == [catalogue.query_service.snapshots.current.path.name]


def test_run_local_runs_a_query_in_process(sparql_app: Flask) -> None:
    service = sparql_app.extensions["bigtent"].query_service
    rows = service.run_local("SELECT ?c ?cLabel WHERE { ?c wdt:P2 wd:Q1 } ORDER BY ?c").bindings()
    assert rows[0] == {"c": WD + "Q3", "cLabel": "network"}
    assert json.loads(service.run_local(service.request("ASK {}")).body)["boolean"] is True


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/sparql-results+json,*/*;q=0.9", "application/json"),  # editors' fetch
        ("application/sparql-results+xml", "application/json"),  # programs never get HTML
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html"),  # browsers do
    ],
)
def test_errors_come_as_json_to_programs_and_html_to_browsers(
    web: FlaskClient, accept: str, expected: str
) -> None:
    response = web.get("/sparql", query_string={"query": "SELEC"}, headers={"Accept": accept})
    assert response.status_code == 400 and response.mimetype == expected
    if expected == "application/json":
        body = response.json
        assert body is not None
        assert set(body) == {"ok", "status", "title", "error", "line", "column"}
        assert body["ok"] is False and body["status"] == 400 and body["line"] == 1


# --- where WDQS is lenient, and error bodies in the format asked ---------------------------
@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain", None])
def test_a_post_with_the_query_in_the_url_takes_any_body(
    web: FlaskClient, content_type: str | None
) -> None:
    """WikibaseIntegrator POSTs ?query= with a multipart/form-data body; WDQS reads it."""
    response = web.post(
        "/sparql",
        query_string={"query": SELECT_CLASSES},
        data=b"ignored",
        content_type=content_type,
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json["results"]["bindings"][0]["c"]["value"] == WD + "Q3"  # type: ignore[index]


def test_a_post_with_the_query_in_the_url_and_the_body_is_refused(web: FlaskClient) -> None:
    response = web.post(
        "/sparql", query_string={"query": SELECT_CLASSES}, data={"query": SELECT_CLASSES}
    )
    assert response.status_code == 400
    assert "both in the URL" in response.text and "request body" in response.text


def test_a_lenient_post_still_has_the_body_cap(web: FlaskClient) -> None:
    response = web.post(
        "/sparql",
        query_string={"query": SELECT_CLASSES},
        data=b"x" * (3 * 100000 + 20000),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "SPARQL_MAX_QUERY_BYTES" in response.text


def test_text_plain_and_any_type_get_a_sensible_default(web: FlaskClient) -> None:
    plain = web.get(
        "/sparql", query_string={"query": SELECT_CLASSES}, headers={"Accept": "text/plain"}
    )
    assert plain.status_code == 200 and plain.mimetype == "text/tab-separated-values"
    assert plain.text.splitlines()[:2] == ["?c", f"<{WD}Q3>"]
    graph = web.get(
        "/sparql", query_string={"query": CONSTRUCT_Q1}, headers={"Accept": "text/plain"}
    )
    assert graph.status_code == 200 and graph.mimetype == "application/n-triples"
    anything = web.get("/sparql", query_string={"query": SELECT_CLASSES}, headers={"Accept": "*/*"})
    assert anything.mimetype == "application/sparql-results+json"


BROKEN = "SELECT ?s WHERE {\n  ?s wdt:P1 ?o .\n  ?o ?p\n}"


@pytest.mark.parametrize(
    ("params", "accept"),
    [
        ({"format": "csv"}, "text/html,application/xhtml+xml,*/*;q=0.8"),  # a download link
        ({"format": "tsv"}, None),
        ({}, "text/csv"),
        ({}, "text/tab-separated-values"),
        ({}, "text/plain"),
    ],
)
def test_errors_of_csv_tsv_and_text_clients_are_plain_text(
    web: FlaskClient, params: dict[str, str], accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = web.get("/sparql", query_string={"query": BROKEN, **params}, headers=headers)
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "<" not in response.text and response.text.count("\n") == 1
    assert "line 4" in response.text  # the "}" where an object was due


def test_syntax_errors_are_concise_and_located(web: FlaskClient) -> None:
    """On either engine: one short message with line and column, never the engine's dump
    of the (rewritten) query nor its lists of expected tokens."""
    response = web.get(
        "/sparql", query_string={"query": BROKEN}, headers={"Accept": "application/json"}
    )
    body = response.json
    assert response.status_code == 400 and body is not None
    assert body["line"] == 4 and body["column"] in (1, 2)  # at or just after the "}"
    assert len(body["error"]) < 200, body["error"]
    for leak in ("SPARQL query:", "PREFIX", "expected one of", "37000", "bigtent_label"):
        assert leak not in body["error"]
    undeclared = web.get(
        "/sparql",
        query_string={"query": "SELECT ?x WHERE {\n  ?x foo:bar ?y }"},
        headers={"Accept": "application/json"},
    ).json
    assert undeclared is not None and (undeclared["line"], undeclared["column"]) == (2, 6)
    assert "'foo'" in undeclared["error"]
