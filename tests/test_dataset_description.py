"""/dataset and /.well-known/void: DCAT 3 + VoID, validated with pySHACL against the
shapes in shapes/dcat/ (written from DCAT 3 and DCAT-AP 3; see that file)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from graphs import to_rdflib
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from loader.catalogue import Catalogue
from loader.publish.dumps import dumps_dir, read_manifest

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "shapes" / "dcat" / "dcat-ap.ttl"
EXAMPLES = ROOT / "tests" / "data" / "dcat"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
VOID = Namespace("http://rdfs.org/ns/void#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
BASE = "https://bigtent.example.org/"
DATASET = URIRef(BASE + "dataset")
RDF_TYPES = ("text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml")


def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


def problems(data: Graph) -> set[str]:
    """The property paths of every violation pySHACL reports."""
    conforms, report, _ = validate(data, shacl_graph=shapes(), advanced=True)
    sh = Namespace("http://www.w3.org/ns/shacl#")
    paths = {str(p) for p in report.objects(None, sh.resultPath)}
    assert conforms == (not paths)
    return paths


@pytest.fixture
def dumped(app: Flask) -> Flask:
    """The demo app with its dumps written."""
    app.extensions["bigtent"].dump()
    return app


def get_graph(client: FlaskClient, media_type: str = "text/turtle") -> Graph:
    response = client.get("/dataset", headers={"Accept": media_type})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == media_type
    # pyoxigraph parses every syntax (rdflib's JSON-LD parser warns of deprecations).
    quads = ox.parse(response.get_data(), ox.RdfFormat.from_media_type(media_type))
    return to_rdflib((q.subject, q.predicate, q.object) for q in quads)


def test_valid_example_conforms() -> None:
    for path in sorted(EXAMPLES.glob("valid-*.ttl")):
        assert problems(Graph().parse(path)) == set(), path.name


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("invalid-*.ttl")), ids=lambda p: p.name)
def test_invalid_examples_report_exactly_what_their_header_says(path: Path) -> None:
    expected = {
        line.split(":", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.startswith("# expect:")
    }
    assert expected
    assert problems(Graph().parse(path)) == expected


def test_dataset_description_conforms_in_every_syntax(dumped: Flask) -> None:
    client = dumped.test_client()
    graphs = [get_graph(client, media_type) for media_type in RDF_TYPES]
    assert problems(graphs[0]) == set()
    from rdflib.compare import isomorphic

    for other in graphs[1:]:
        assert isomorphic(graphs[0], other)


def test_description_says_what_the_issue_asks(dumped: Flask) -> None:
    cat: Catalogue = dumped.extensions["bigtent"]
    graph = get_graph(dumped.test_client())
    assert (DATASET, RDF.type, DCAT.Dataset) in graph
    assert (DATASET, RDF.type, VOID.Dataset) in graph
    assert graph.value(DATASET, DCT.license) == URIRef(
        "http://creativecommons.org/publicdomain/zero/1.0/"
    )
    publisher = graph.value(DATASET, DCT.publisher)
    assert publisher is not None and graph.value(publisher, RDF.type) is not None
    assert graph.value(DATASET, VOID.uriSpace) == Literal(BASE + "entity/")
    assert int(graph.value(DATASET, VOID.entities)) == cat.revisions.entity_count()  # type: ignore[arg-type]
    manifest = read_manifest(dumps_dir(cat.settings))
    assert manifest is not None
    assert int(graph.value(DATASET, VOID.triples)) == manifest.triples  # type: ignore[arg-type]
    newest = cat.revisions.revision_time(cat.revisions.last_id())
    modified = graph.value(DATASET, DCT.modified)
    assert isinstance(modified, Literal) and newest is not None
    assert modified.toPython() == datetime.fromisoformat(newest.replace("Z", "+00:00"))
    partitions = {
        str(graph.value(p, VOID["class"])): int(graph.value(p, VOID.entities))  # type: ignore[arg-type]
        for p in graph.objects(DATASET, VOID.classPartition)
    }
    assert partitions["https://w3id.org/bigtent/ontology#Organisation"] > 5
    dumps = {
        str(graph.value(d, DCAT.downloadURL)): d
        for d in graph.objects(DATASET, DCAT.distribution)
        if graph.value(d, DCAT.downloadURL) is not None
    }
    assert set(dumps) == {BASE + "dumps/" + f.name for f in manifest.files}
    for entry in manifest.files:
        dist = dumps[BASE + "dumps/" + entry.name]
        assert int(graph.value(dist, DCAT.byteSize)) == entry.bytes  # type: ignore[arg-type]
        assert graph.value(dist, DCAT.compressFormat) == URIRef(
            "https://www.iana.org/assignments/media-types/application/gzip"
        )
        assert str(graph.value(dist, DCAT.mediaType)).endswith(
            ("application/n-triples", "text/turtle")
        )
        checksum = graph.value(dist, SPDX.checksum)
        assert str(graph.value(checksum, SPDX.checksumValue)) == entry.sha256
        assert graph.value(dist, DCT.issued) is not None
    services = {
        str(graph.value(s, DCAT.endpointURL)) for s in graph.subjects(RDF.type, DCAT.DataService)
    }
    assert {BASE + "sparql", BASE + "changes", BASE + "changes/activity-streams"} <= services
    assert graph.value(DATASET, VOID.sparqlEndpoint) == URIRef(BASE + "sparql")


def test_licence_and_publisher_come_from_settings(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        LICENSE_URL="https://creativecommons.org/licenses/by/4.0/",
        PUBLISHER="Open Knowledge Lab",
        PUBLISHER_URL="https://example.org/okl",
        DATASET_TITLE="Lab registry",
    )
    graph = get_graph(app.test_client())
    assert graph.value(DATASET, DCT.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )
    publisher = graph.value(DATASET, DCT.publisher)
    assert publisher == URIRef("https://example.org/okl")
    assert str(graph.value(publisher, URIRef("http://xmlns.com/foaf/0.1/name"))) == (
        "Open Knowledge Lab"
    )
    assert str(graph.value(DATASET, DCT.title)) == "Lab registry"
    # Without dumps the description has no distributions nor triple count, and still conforms.
    assert graph.value(DATASET, VOID.triples) is None
    assert problems(graph) == set()


def test_html_and_well_known_void(dumped: Flask) -> None:
    client = dumped.test_client()
    page = client.get("/dataset", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "creativecommons.org/publicdomain/zero" in text and "/dumps/bigtent-full.nt.gz" in text
    moved = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert moved.status_code == 303 and moved.location.endswith("/dataset")
    followed = client.get(
        "/.well-known/void", headers={"Accept": "text/turtle"}, follow_redirects=True
    )
    assert followed.status_code == 200 and followed.mimetype == "text/turtle"


def test_conditional_requests_and_bad_negotiation(dumped: Flask) -> None:
    client = dumped.test_client()
    first = client.get("/dataset", headers={"Accept": "text/turtle"})
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(
        "/dataset", headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    other = client.get(
        "/dataset",
        headers={"Accept": "application/ld+json", "If-None-Match": first.headers["ETag"]},
    )
    assert other.status_code == 200  # another representation, another tag
    refused = client.get("/dataset", headers={"Accept": "image/png"})
    assert refused.status_code == 406 and "text/turtle" in refused.get_data(as_text=True)
    unknown = client.get("/dataset?format=docx", headers={"Accept": "application/json"})
    assert unknown.status_code == 400 and "ttl" in unknown.get_json()["error"]
    garbage = client.get("/dataset", headers={"Accept": "text/turtle", "If-None-Match": '"x'})
    assert garbage.status_code == 200


def test_description_changes_after_a_change(dumped: Flask) -> None:
    cat: Catalogue = dumped.extensions["bigtent"]
    client = dumped.test_client()
    before = client.get("/dataset", headers={"Accept": "text/turtle"})
    cat.delete("Q1001", reason="test", author="tester")
    after = client.get(
        "/dataset", headers={"Accept": "text/turtle", "If-None-Match": before.headers["ETag"]}
    )
    assert after.status_code == 200
    graph = Graph().parse(data=after.get_data(), format="turtle")
    assert int(graph.value(DATASET, VOID.entities)) == cat.revisions.entity_count()  # type: ignore[arg-type]
