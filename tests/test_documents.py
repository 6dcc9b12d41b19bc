"""Linked data: entity IRIs dereference (303), data documents in every format, flavor
and revision, statement/predicate/reference/value IRIs, deleted and merged entities."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph
from werkzeug.test import TestResponse

from loader.base.namespaces import Namespaces
from loader.catalogue import Catalogue
from tests.conftest import BASE
from tests.graphs import assert_isomorphic, to_rdflib

NS = Namespaces(BASE)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
RDF_MEDIA = {
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
}
OX_FORMAT = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdf": ox.RdfFormat.RDF_XML,
}
RECORD = """
wd:Q9100 a wikibase:Item ;
  rdfs:label "{label}"@en ;
  wdt:P1 wd:Q1 .
"""


def _cat(app: Flask) -> Catalogue:
    catalogue: Catalogue = app.extensions["bigtent"]
    return catalogue


def _parsed(response: TestResponse, ext: str) -> Graph:
    quads = ox.parse(response.get_data(), OX_FORMAT[ext])
    return to_rdflib((q.subject, q.predicate, q.object) for q in quads)


def _store_graph(app: Flask, entity: str) -> Graph:
    return to_rdflib(_cat(app).entity_triples(entity))


def _statement_of(app: Flask, entity: str, pid: str) -> str:
    claim = NS.predicate("p", pid)
    return next(o.value for s, p, o in _cat(app).entity_triples(entity) if p == claim)


def _revise(app: Flask, write_ttl: Callable[[str, str], Path], label: str) -> int:
    report = _cat(app).load_paths([write_ttl("rec.ttl", RECORD.format(label=label))])
    assert report.ok
    return _cat(app).revisions.history("Q9100")[0].id


# --- the entity IRI ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accept", "location"),
    [
        (None, "/page/Q1200"),
        (BROWSER, "/page/Q1200"),
        ("*/*", "/page/Q1200"),
        ("text/turtle", "/data/Q1200.ttl"),
        ("application/n-triples", "/data/Q1200.nt"),
        ("application/ld+json", "/data/Q1200.jsonld"),
        ("application/rdf+xml", "/data/Q1200.rdf"),
        ("application/json", "/data/Q1200.json"),
        ("text/turtle;q=0.5, application/ld+json;q=0.9", "/data/Q1200.jsonld"),
        ("text/html;q=0.1, application/rdf+xml", "/data/Q1200.rdf"),
        ("application/*", "/data/Q1200.nt"),
    ],
)
def test_entity_iri_answers_303_by_accept(
    client: FlaskClient, accept: str | None, location: str
) -> None:
    response = client.get("/entity/Q1200", headers={"Accept": accept} if accept else {})
    assert response.status_code == 303
    assert response.headers["Location"] == location
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["ETag"] and response.headers["Last-Modified"]


def test_nothing_acceptable_is_406_listing_what_is_offered(client: FlaskClient) -> None:
    response = client.get("/entity/Q1200", headers={"Accept": "image/png"})
    assert response.status_code == 406
    text = response.get_data(as_text=True)
    for offered in ("text/html", "text/turtle", "application/ld+json", "application/rdf+xml"):
        assert offered in text


def test_redirects_keep_the_arguments_that_apply(client: FlaskClient, app: Flask) -> None:
    revision = _cat(app).revisions.history("Q1200")[0].id
    page = client.get("/entity/Q1200?uselang=fr&flavor=simple", headers={"Accept": "text/html"})
    assert page.headers["Location"] == "/page/Q1200?uselang=fr"
    data = client.get(
        f"/entity/Q1200?uselang=fr&flavor=simple&revision={revision}",
        headers={"Accept": "text/turtle"},
    )
    assert data.headers["Location"] == f"/data/Q1200.ttl?flavor=simple&revision={revision}"


def test_following_the_redirect_gives_the_document(client: FlaskClient, app: Flask) -> None:
    response = client.get("/entity/Q1200", headers={"Accept": "text/turtle"}, follow_redirects=True)
    assert response.status_code == 200
    assert response.content_type.startswith("text/turtle")
    assert_isomorphic(_parsed(response, "ttl"), _store_graph(app, "Q1200"))


# --- data documents ----------------------------------------------------------------------
@pytest.mark.parametrize("ext", list(RDF_MEDIA))
@pytest.mark.parametrize("entity", ["Q1200", "Q1205", "P1", "Q2"])
def test_every_format_is_isomorphic_with_the_store(
    client: FlaskClient, app: Flask, entity: str, ext: str
) -> None:
    response = client.get(f"/data/{entity}.{ext}")
    assert response.status_code == 200
    assert response.content_type == f"{RDF_MEDIA[ext]}; charset=utf-8"
    assert_isomorphic(_parsed(response, ext), _store_graph(app, entity))


def test_negotiated_document_names_its_stable_url(client: FlaskClient) -> None:
    default = client.get("/data/Q1200")
    assert default.status_code == 200
    assert default.content_type.startswith("text/turtle")
    assert default.headers["Content-Location"] == "/data/Q1200.ttl"
    jsonld = client.get("/data/Q1200?flavor=simple", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["Content-Location"] == "/data/Q1200.jsonld?flavor=simple"
    fixed = client.get("/data/Q1200.jsonld?flavor=simple")
    assert jsonld.get_data() == fixed.get_data()
    assert jsonld.headers["ETag"] == fixed.headers["ETag"]


def test_html_readers_of_data_urls_go_to_the_page(client: FlaskClient) -> None:
    assert client.get("/data/Q1200", headers={"Accept": BROWSER}).headers["Location"] == (
        "/page/Q1200"
    )
    assert client.get("/data/Q1200.html").headers["Location"] == "/page/Q1200"


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib
def test_jsonld_has_a_context_that_other_parsers_understand(
    client: FlaskClient, app: Flask
) -> None:
    body = client.get("/data/Q1200.jsonld").get_json()
    context = body["@context"]
    assert context["wd"] == NS["wd"] and context["wdt"] == NS["wdt"]
    assert context["rdfs"] == "http://www.w3.org/2000/01/rdf-schema#"
    entity = next(node for node in body["@graph"] if node["@id"] == "wd:Q1200")
    assert entity["wdt:P1"] == [{"@id": "wd:Q4"}]
    assert "wikibase:Item" in entity["@type"]
    rdflib_graph = Graph().parse(data=json.dumps(body), format="json-ld")
    assert_isomorphic(rdflib_graph, _store_graph(app, "Q1200"))


def test_simple_flavor_is_truthy_triples_and_terms(client: FlaskClient, app: Flask) -> None:
    simple = _parsed(client.get("/data/Q1200.nt?flavor=simple"), "nt")
    me, doc = f"{NS['wd']}Q1200", f"{NS['wdata']}Q1200"
    expected = Graph()
    for s, p, o in _store_graph(app, "Q1200"):
        keep = str(s) == doc or (str(s) == me and not _is_claim(str(p)))
        if keep:
            expected.add((s, p, o))
    assert_isomorphic(simple, expected)
    predicates = {str(p) for _, p, _ in simple}
    assert f"{NS['wdt']}P1" in predicates
    assert "http://www.w3.org/2000/01/rdf-schema#label" in predicates
    assert "http://schema.org/description" in predicates
    assert not any(str(s).startswith(NS["wds"]) for s, _, _ in simple)


def _is_claim(predicate: str) -> bool:
    split = NS.split_predicate(predicate)
    return split is not None and split[0] == "p"


def test_full_flavor_adds_labels_of_linked_entities(client: FlaskClient, app: Flask) -> None:
    full = _parsed(client.get("/data/Q1200.ttl?flavor=full"), "ttl")
    stored = _store_graph(app, "Q1200")
    assert all(t in full for t in stored)
    added = full - stored
    label = "http://www.w3.org/2000/01/rdf-schema#label"
    labelled = {str(s) for s, p, _ in added if str(p) == label}
    assert {f"{NS['wd']}Q4", f"{NS['wd']}Q1001", f"{NS['wd']}P1", f"{NS['wd']}P5"} <= labelled
    languages = {o.language for _, p, o in added if str(p) == label}  # type: ignore[union-attr]
    assert languages <= {"en", "fr", "es", "pt"} and "en" in languages
    assert (
        f"{NS['wd']}P1",
        "http://wikiba.se/ontology#directClaim",
        f"{NS['wdt']}P1",
    ) in {(str(s), str(p), str(o)) for s, p, o in added}


def test_past_revisions_are_served_and_immutable(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    first = _revise(app, write_ttl, "Open Test Lab")
    old_graph = to_rdflib(_cat(app).entity_triples("Q9100", first))
    second = _revise(app, write_ttl, "Open Testing Laboratory")
    assert second > first
    current = client.get("/data/Q9100.ttl")
    past = client.get(f"/data/Q9100.ttl?revision={first}")
    assert past.status_code == current.status_code == 200
    assert "Open Testing Laboratory" in current.get_data(as_text=True)
    assert "Open Test Lab" in past.get_data(as_text=True)
    assert_isomorphic(_parsed(past, "ttl"), old_graph)
    assert "immutable" in past.headers["Cache-Control"]
    assert "immutable" not in current.headers["Cache-Control"]
    assert past.headers["ETag"] != current.headers["ETag"]
    version = f"{NS['wdata']}Q9100", "http://schema.org/version"
    versions = {str(o) for s, p, o in _parsed(past, "ttl") if (str(s), str(p)) == version}
    assert versions == {str(first)}


def test_conditional_requests_get_304(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    _revise(app, write_ttl, "Open Test Lab")
    for path, accept in (("/data/Q9100.ttl", None), ("/entity/Q9100", "text/turtle")):
        headers = {"Accept": accept} if accept else {}
        first = client.get(path, headers=headers)
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        again = client.get(path, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b""
        since = client.get(path, headers={**headers, "If-Modified-Since": modified})
        assert since.status_code == 304
    stale = client.get("/data/Q9100.ttl").headers["ETag"]
    _revise(app, write_ttl, "Open Testing Laboratory")
    changed = client.get("/data/Q9100.ttl", headers={"If-None-Match": stale})
    assert changed.status_code == 200 and changed.headers["ETag"] != stale
    assert "Open Testing Laboratory" in changed.get_data(as_text=True)


def test_full_flavor_changes_when_a_linked_label_does(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    # Q9100 links to Q1 only; a new entity linking to Q9100 sees Q9100's label change.
    _revise(app, write_ttl, "Open Test Lab")
    other = write_ttl(
        "other.ttl",
        'wd:Q9101 a wikibase:Item ; rdfs:label "Sister Lab"@en ; wdt:P1 wd:Q1 ; wdt:P17 wd:Q9100 .',
    )
    assert _cat(app).load_paths([other]).ok
    before = client.get("/data/Q9101.ttl?flavor=full")
    assert "Open Test Lab" in before.get_data(as_text=True)
    _revise(app, write_ttl, "Open Testing Laboratory")
    after = client.get(
        "/data/Q9101.ttl?flavor=full", headers={"If-None-Match": before.headers["ETag"]}
    )
    assert after.status_code == 200
    assert "Open Testing Laboratory" in after.get_data(as_text=True)


def test_head_answers_like_get_without_a_body(client: FlaskClient) -> None:
    get = client.get("/data/Q1200.ttl")
    head = client.head("/data/Q1200.ttl")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["ETag"] == get.headers["ETag"]
    assert client.head("/entity/Q1200").status_code == 303


def test_every_answer_carries_validators_cors_and_vary(client: FlaskClient, app: Flask) -> None:
    statement = _statement_of(app, "Q1200", "P1")[len(NS["wds"]) :]
    paths = [
        "/entity/Q1200",
        "/data/Q1200",
        "/data/Q1200.json",
        "/data/Q1200.rdf?flavor=full",
        "/data/P5.jsonld?flavor=simple",
        f"/entity/statement/{statement}",
        "/prop/direct/P1",
    ]
    for path in paths:
        response = client.get(path, headers={"Accept": "text/turtle"})
        assert response.status_code in (200, 303), path
        assert response.headers["ETag"], path
        assert response.headers["Last-Modified"], path
        assert "Accept" in response.headers["Vary"], path
        assert response.headers["Access-Control-Allow-Origin"] == "*", path


# --- statement, predicate, reference and value IRIs --------------------------------------
def test_statement_iris_dereference(client: FlaskClient, app: Flask) -> None:
    local = _statement_of(app, "Q1200", "P5")[len(NS["wds"]) :]
    page = client.get(f"/entity/statement/{local}")
    assert page.status_code == 303
    assert page.headers["Location"] == f"/page/Q1200#{local}"
    data = client.get(f"/entity/statement/{local}", headers={"Accept": "text/turtle"})
    assert data.headers["Location"] == "/data/Q1200.ttl"
    wikibase_form = local.replace("-", "$", 1)  # Q1200$uuid, as Wikibase JSON writes it
    assert client.get(f"/entity/statement/{wikibase_form}").headers["Location"] == (
        f"/page/Q1200#{local}"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/prop/P1",
        "/prop/direct/P1",
        "/prop/statement/P1",
        "/prop/qualifier/P1",
        "/prop/reference/P1",
        "/prop/novalue/P1",
        "/prop/statement/value/P1",
        "/prop/qualifier/value/P1",
        "/prop/reference/value/P1",
    ],
)
def test_predicate_iris_dereference_to_their_property(
    client: FlaskClient, app: Flask, path: str
) -> None:
    data = client.get(path, headers={"Accept": "text/turtle"})
    assert data.status_code == 303 and data.headers["Location"] == "/data/P1.ttl"
    assert client.get(path).headers["Location"] == "/page/P1"
    # ... and the property's document says what the predicate IRI is.
    document = _parsed(client.get(data.headers["Location"]), "ttl")
    predicate = NS.base + path.removeprefix("/")
    assert any(str(o) == predicate or str(s) == predicate for s, _, o in document)


def test_reference_and_value_nodes_are_small_documents(client: FlaskClient, app: Flask) -> None:
    triples = _cat(app).entity_triples("Q1205")
    derived = "http://www.w3.org/ns/prov#wasDerivedFrom"
    reference = next(o.value for _, p, o in triples if p.value == derived)
    value = next(
        o.value for _, p, o in triples if (NS.split_predicate(p.value) or ("",))[0] == "psv"
    )
    for iri in (reference, value):
        path = "/" + iri.removeprefix(NS.base)
        response = client.get(path, headers={"Accept": "text/turtle"})
        assert response.status_code == 200, path
        assert response.headers["ETag"] and response.headers["Last-Modified"]
        own = Graph()
        for s, p, o in to_rdflib(triples):
            if str(s) == iri:
                own.add((s, p, o))
        got = _parsed(response, "ttl")
        assert all(t in got for t in own) and len(own) > 0
        assert {str(s) for s, _, _ in got} <= {iri} | {
            str(o) for _, _, o in own if str(o).startswith(NS["wdv"])
        }
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["Location"].startswith("/page/Q")


# --- deleted, merged, unknown --------------------------------------------------------------
def test_deleted_entities_are_gone_saying_when_and_why(client: FlaskClient, app: Flask) -> None:
    before = _cat(app).revisions.history("Q1527")[0].id
    deletion = _cat(app).delete("Q1527", reason="duplicate of a real person", author="tester")
    for path in ("/entity/Q1527", "/data/Q1527.ttl", "/data/Q1527"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 410, path
        body = response.get_json()
        assert body["deleted"] == deletion.time and body["reason"] == "duplicate of a real person"
        assert deletion.time in body["error"]
    html = client.get("/entity/Q1527").get_data(as_text=True)
    assert "duplicate of a real person" in html
    # History stays readable.
    assert client.get(f"/data/Q1527.ttl?revision={before}").status_code == 200


def test_merged_entities_redirect_to_their_target(client: FlaskClient, app: Flask) -> None:
    _cat(app).merge("Q1021", "Q1020", author="tester")
    entity = client.get("/entity/Q1021", headers={"Accept": "text/turtle"})
    assert entity.status_code == 301 and entity.headers["Location"] == "/entity/Q1020"
    assert entity.headers["ETag"]
    document = client.get("/data/Q1021.ttl?flavor=simple")
    assert document.status_code == 301
    assert document.headers["Location"] == "/data/Q1020.ttl?flavor=simple"
    negotiated = client.get("/data/Q1021")
    assert negotiated.headers["Location"] == "/data/Q1020"
    followed = client.get("/data/Q1021.nt", follow_redirects=True)
    assert followed.status_code == 200
    assert_isomorphic(_parsed(followed, "nt"), _store_graph(app, "Q1020"))


def test_unknown_entities_get_a_helpful_404(client: FlaskClient) -> None:
    html = client.get("/entity/Q12000")
    assert html.status_code == 404
    text = html.get_data(as_text=True)
    assert 'role="search"' in text and 'action="/search"' in text and 'name="q"' in text
    assert 'href="/entity/Q1200"' in text  # one digit too many
    data = client.get("/entity/Q12000", headers={"Accept": "application/json"}).get_json()
    assert {"ok", "status", "title", "error", "suggestions", "search"} <= set(data)
    offered = {s["id"]: s for s in data["suggestions"]}
    assert offered["Q1200"]["href"] == "/entity/Q1200" and offered["Q1200"]["label"]
    assert data["search"]["href"] == "/search?q=Q12000"


def test_unknown_names_are_matched_against_labels(client: FlaskClient) -> None:
    data = client.get(
        "/entity/Bundesarchiv", headers={"Accept": "application/json", "Accept-Language": "de"}
    ).get_json()
    assert data["status"] == 404
    assert "Q1002" in [s["id"] for s in data["suggestions"]]
    assert data["suggestions"][0]["label"]
