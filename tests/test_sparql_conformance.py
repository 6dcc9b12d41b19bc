"""The W3C SPARQL 1.1 Protocol and Service Description test manifests, replayed against a
real server whose store holds the manifests' data graphs.

Every query test must pass as written. The endpoint is read-only, so every request of an
update test must be refused with a 4xx instead of the 2xx the manifest expects for
servers that accept updates; the requests after it check the update's effect and are
not sent.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from live_server import LiveServer
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

DATA = Path(__file__).resolve().parent / "data"
PROTOCOL_DIR = DATA / "sparql11-protocol"
SD_DIR = DATA / "sparql11-service-description"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
STATUS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
BOOLEAN_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
}
TABULAR_TYPES = {*BOOLEAN_TYPES, "text/csv", "text/tab-separated-values"}
RDF_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


@dataclass
class HttpRequest:
    """One request of a protocol test and what its response must be."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[int]  # 2, 3, 4 (the hundreds digit)
    expected_format: str | None
    expected_boolean: bool | None

    @property
    def is_update(self) -> bool:
        content_type = self.headers.get("content-type", "")
        body = self.body or b""
        return (
            content_type.startswith("application/sparql-update")
            or body.startswith(b"update=")
            or "update=" in self.path
            or "using-graph-uri=" in self.path
            or "using-named-graph-uri=" in self.path
        )


@dataclass
class ProtocolTest:
    """A manifest entry."""

    name: str
    label: str
    requests: list[HttpRequest] = field(default_factory=list)
    graphs: dict[str, Path] = field(default_factory=dict)


def _items(graph: Graph, head: Node | None) -> list[Node]:
    return [] if head is None else list(Collection(graph, head))


def load_protocol_tests() -> list[ProtocolTest]:
    """The entries of the protocol manifest, in order."""
    graph = Graph().parse(PROTOCOL_DIR / "manifest.ttl", publicID=PROTOCOL_DIR.as_uri() + "/")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in _items(graph, graph.value(manifest, MF.entries)):
        test = ProtocolTest(str(entry).rsplit("#", 1)[1], str(graph.value(entry, MF.name)))
        for data in graph.objects(entry, UT.graphData):
            source = Path(str(graph.value(data, UT.graph)).removeprefix("file://"))
            test.graphs[str(graph.value(data, RDFS.label))] = source
        action = graph.value(entry, MF.action)
        for node in _items(graph, graph.value(action, HT.requests)):
            headers = {
                str(graph.value(h, HT.fieldName)).lower(): str(graph.value(h, HT.fieldValue))
                for h in _items(graph, graph.value(node, HT.headers))
            }
            body_node = graph.value(node, HT.body)
            body = None
            if body_node is not None:
                encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(graph.value(body_node, CNT.chars)).encode(encoding)
            response = graph.value(node, HT.resp)
            boolean = graph.value(response, MF.expectedBoolean)
            expected_format = graph.value(response, MF.expectedFormat)
            test.requests.append(
                HttpRequest(
                    method=str(graph.value(node, HT.methodName)),
                    path=str(graph.value(node, HT.absolutePath)),
                    headers=headers,
                    body=body,
                    statuses={
                        int(str(s).removeprefix(STATUS)[0])
                        for s in graph.objects(response, MF.expectedStatus)
                    },
                    expected_format=None if expected_format is None else str(expected_format),
                    expected_boolean=None if boolean is None else bool(boolean.toPython()),
                )
            )
        tests.append(test)
    return tests


PROTOCOL_TESTS = load_protocol_tests()


@pytest.fixture(scope="module")
def protocol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server over a store holding every data graph the manifest names."""
    workdir = tmp_path_factory.mktemp("protocol")
    (workdir / "data").mkdir()
    store = ox.Store(str(workdir / "data" / "store"))
    graphs = {name: path for test in PROTOCOL_TESTS for name, path in test.graphs.items()}
    for name, path in graphs.items():
        store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
    store.flush()
    del store
    with LiveServer.start(workdir, demo=False) as server:
        yield server


def check_response(request: HttpRequest, response: requests.Response) -> None:
    """The response has the status class, format and value the manifest expects."""
    assert response.status_code // 100 in request.statuses, (response.status_code, response.text)
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if request.expected_format == "boolean":
        assert media_type in BOOLEAN_TYPES, media_type
        parsed = ox.parse_query_results(response.content, BOOLEAN_TYPES[media_type])
        assert isinstance(parsed, ox.QueryBoolean)
        if request.expected_boolean is not None:
            assert bool(parsed) is request.expected_boolean
    elif request.expected_format == "tabular":
        assert media_type in TABULAR_TYPES, media_type
        if media_type in BOOLEAN_TYPES:
            parsed = ox.parse_query_results(response.content, BOOLEAN_TYPES[media_type])
            assert isinstance(parsed, ox.QuerySolutions) and len(list(parsed)) == 1
    elif request.expected_format == "RDF":
        assert media_type in RDF_TYPES, media_type
        list(ox.parse(response.content, RDF_TYPES[media_type]))


@pytest.mark.parametrize("test", PROTOCOL_TESTS, ids=[t.name for t in PROTOCOL_TESTS])
def test_protocol_manifest(protocol_server: LiveServer, test: ProtocolTest) -> None:
    assert test.requests, test.name
    for request in test.requests:
        url = protocol_server.url.rstrip("/") + request.path.replace("/sparql/", "/sparql", 1)
        response = requests.request(
            request.method, url, headers=request.headers, data=request.body, timeout=60
        )
        if request.is_update:
            assert 400 <= response.status_code < 500, (test.name, response.status_code)
            return  # read-only: what follows checks the update's effect
        check_response(request, response)


def test_the_manifest_has_the_expected_tests() -> None:
    names = [t.name for t in PROTOCOL_TESTS]
    assert len(names) == 34
    updates = [t.name for t in PROTOCOL_TESTS if any(r.is_update for r in t.requests)]
    # the 7 update tests, and 6 of the 7 bad_update tests (the 7th, a text/plain body,
    # is refused for its media type like any query would be)
    assert len(updates) == 13


# --- Service description manifest ----------------------------------------------------------
def service_description(server: LiveServer, accept: str | None) -> tuple[str, Graph]:
    url = server.url + "sparql"
    headers = {"Accept": accept} if accept else {}
    response = requests.get(url, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    media_type = response.headers["Content-Type"].split(";")[0]
    assert media_type in RDF_TYPES, media_type
    triples = ox.parse(response.content, RDF_TYPES[media_type])
    data = ox.serialize(triples, format=ox.RdfFormat.N_QUADS) or b""
    return url, Graph().parse(io.BytesIO(data), format="nt")


def sd_tests() -> list[str]:
    graph = Graph().parse(SD_DIR / "manifest.ttl")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    return [str(e).rsplit("#", 1)[1] for e in _items(graph, graph.value(manifest, MF.entries))]


@pytest.mark.parametrize("name", sd_tests())
@pytest.mark.parametrize(
    "accept", [None, "text/turtle", "application/rdf+xml", "application/ld+json"]
)
def test_service_description_manifest(
    live_server: LiveServer, name: str, accept: str | None
) -> None:
    url, graph = service_description(live_server, accept)
    if name == "returns-rdf":
        assert len(graph) > 10
    elif name == "has-endpoint-triple":
        assert (None, SD.endpoint, URIRef(url)) in graph
    elif name == "conforms-to-schema":
        from pyshacl import validate

        shapes = Graph().parse(SD_DIR / "schema-shapes.ttl")
        conforms, _, report = validate(graph, shacl_graph=shapes)
        assert conforms, report
        assert (URIRef(url), RDF.type, SD.Service) in graph
    else:
        pytest.fail(f"unknown service description test {name}")
