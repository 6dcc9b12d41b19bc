"""The schema.org JSON-LD embedded in entity pages uses only properties that schema.org
defines on the types it uses, checked against schema.org's published vocabulary (an
extract of release 12.0 in tests/data/schema-org/, see tests/data/README.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pages_support import Page
from rdflib import RDFS, Graph, Namespace

from loader.base.rdf import parse_ntriples
from loader.catalogue import Catalogue
from loader.publish.describe import describe, referenced_ids
from loader.publish.schema_org import SchemaTypes, json_ld

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = ROOT / "tests" / "data" / "schema-org" / "schemaorg-12.0-domains.ttl"
SCHEMA = Namespace("https://schema.org/")


@cache
def vocabulary() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(type → its supertypes, property → the types it is defined on), by local name."""
    graph = Graph().parse(VOCABULARY, format="turtle")

    def local(term: object) -> str:
        return str(term).removeprefix(str(SCHEMA))

    parents: dict[str, set[str]] = {}
    for s, o in graph.subject_objects(RDFS.subClassOf):
        parents.setdefault(local(s), set()).add(local(o))
    domains: dict[str, set[str]] = {}
    for s, o in graph.subject_objects(SCHEMA.domainIncludes):
        domains.setdefault(local(s), set()).add(local(o))
    return parents, domains


def ancestors(kind: str) -> set[str]:
    """``kind`` and every type above it."""
    parents, _ = vocabulary()
    found, todo = {kind}, [kind]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def misused(node: dict[str, Any], where: str = "") -> Iterator[str]:
    """Every property of ``node`` (and of the nodes inside it) that schema.org does not
    define on the node's types, and every type schema.org does not have."""
    parents, domains = vocabulary()
    kinds = node.get("@type")
    if kinds is None:
        yield f"{where or 'top'}: no @type"
        return
    kinds = [kinds] if isinstance(kinds, str) else kinds
    for kind in kinds:
        if kind != "Thing" and kind not in parents:
            yield f"{where}@type {kind}: not a schema.org type"
    allowed = set().union(*(ancestors(k) for k in kinds))
    for key, value in node.items():
        if key.startswith("@"):
            continue
        if not domains.get(key, set()) & allowed:
            yield f"{where}{key} on {'/'.join(kinds)} (schema.org: {sorted(domains.get(key, ()))})"
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                yield from misused(item, f"{where}{key}.")


def test_the_checker_finds_what_the_issue_reported() -> None:
    """dateModified on an Organization, Person or Place is what schema.org does not allow."""
    for kind in ("Organization", "Person", "Place"):
        assert list(misused({"@type": kind, "name": "x", "dateModified": "2024-01-01"})) == [
            f"dateModified on {kind} (schema.org: ['CreativeWork', 'DataFeedItem'])"
        ]
    assert list(misused({"@type": "WebPage", "dateModified": "2024-01-01"})) == []
    assert list(misused({"@type": "Person", "location": {"@type": "Place"}})) != []
    assert list(misused({"@type": "Organization", "geo": {"@type": "GeoCoordinates"}})) != []
    assert list(misused({"@type": "Organisation"})) != []  # a misspelt type


def entity_json_ld(cat: Catalogue, entity: str, types: Mapping[str, list[str]]) -> Any:
    """The JSON-LD of an entity's page, built as the page view builds it."""
    rev = cat.revisions.get(entity)
    assert rev is not None and rev.snapshot is not None
    triples = parse_ntriples(rev.snapshot)
    index = cat.page_index
    names = index.names(referenced_ids(cat.ns, triples) | {entity}, ["en"])
    description = describe(
        cat.ns, entity, triples, ["en"], names, index.properties(), rev.id, rev.time
    )
    return json_ld(description, f"{cat.ns.base}page/{entity}", types)


def test_every_entity_uses_schema_org_as_defined(app: Flask) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    cat.page_index.catch_up()
    types = SchemaTypes().get(cat.repository, cat.revisions.last_id())
    entities = [entity for entity, _ in cat.revisions.live_entities(0, 10_000)]
    assert len(entities) > 300
    kinds: set[str] = set()
    problems: dict[str, list[str]] = {}
    with_coordinates = 0
    for entity in entities:
        data = entity_json_ld(cat, entity, types)
        found = list(misused(data))
        if found:
            problems[entity] = found
        kind = data["@type"]
        kinds.update([kind] if isinstance(kind, str) else kind)
        with_coordinates += "geo" in data or "location" in data
    assert problems == {}
    # The types the ontology maps to are all exercised, places with coordinates too.
    assert {"Organization", "Person", "Place", "Event", "CreativeWork"} <= kinds
    assert with_coordinates > 5


def test_the_page_carries_its_modification_date(client: FlaskClient) -> None:
    data = Page(client.get("/page/Q1001").get_data(as_text=True)).json_ld()
    assert data["@type"] == "Organization" and "dateModified" not in data
    page = data["mainEntityOfPage"]
    assert page["@type"] == "WebPage" and page["@id"].endswith("/page/Q1001")
    assert page["dateModified"].endswith("Z")
