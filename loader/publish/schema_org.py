"""schema.org descriptions of entities (JSON-LD for search engines).

The type comes from the ontology: an entity's materialised OWL class (``rdf:type bt:…``)
and that class's nearest ``rdfs:subClassOf schema:…`` in ``ontology/bigtent-owl.ttl``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from loader.base.ids import COORDINATE_LOCATION, EXACT_MATCH, OFFICIAL_WEBSITE
from loader.base.namespaces import SCHEMA

if TYPE_CHECKING:
    from loader.publish.describe import Description
    from loader.storage.repository import Repository

_SUBCLASS_QUERY = "SELECT ?g ?c ?super WHERE { GRAPH ?g { ?c rdfs:subClassOf ?super } }"


class SchemaTypes:
    """OWL class IRI → nearest schema.org types, read from the ontology graph and
    re-read when the revision log moves on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = -1
        self._types: dict[str, list[str]] = {}

    def get(self, cat: Repository, revision: int) -> Mapping[str, list[str]]:
        """The mapping as of ``revision`` (the log's newest id)."""
        with self._lock:
            if self._at != revision:
                rows = cat.select(_SUBCLASS_QUERY, {"g": cat.ontology_graph})
                parents: dict[str, list[str]] = {}
                for row in rows:
                    if isinstance(row["c"], ox.NamedNode) and isinstance(
                        row["super"], ox.NamedNode
                    ):
                        parents.setdefault(row["c"].value, []).append(row["super"].value)
                self._types = {cls: nearest_schema_types(cls, parents) for cls in parents}
                self._at = revision
            return self._types


def nearest_schema_types(cls: str, parents: Mapping[str, list[str]]) -> list[str]:
    """The schema.org classes closest above ``cls`` (breadth first), local names."""
    seen, level = {cls}, [cls]
    while level:
        found = sorted(
            {
                p.removeprefix(SCHEMA)
                for c in level
                for p in parents.get(c, ())
                if p.startswith(SCHEMA)
            }
        )
        if found:
            return found
        level = [p for c in level for p in parents.get(c, ()) if p not in seen]
        seen.update(level)
    return []


def json_ld(
    description: Description, page_url: str, types: Mapping[str, list[str]]
) -> dict[str, Any]:
    """A schema.org ``Thing`` (or subtype) for an entity page."""
    kinds = sorted({t for cls in description.types for t in types.get(cls, ())})
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": (kinds[0] if len(kinds) == 1 else kinds) if kinds else "Thing",
        "@id": description.iri,
        "identifier": description.id,
        "name": description.label.text,
        # The page is the record: its modification date belongs to the WebPage (schema.org
        # defines dateModified on CreativeWork, not on Organization, Person or Place).
        "mainEntityOfPage": {"@type": "WebPage", "@id": page_url},
    }
    if description.description is not None:
        data["description"] = description.description.text
    aliases = [a.text for a in description.aliases]
    if aliases:
        data["alternateName"] = aliases
    website = _links(description.values_of(OFFICIAL_WEBSITE))
    if website:
        data["url"] = website[0]
    same = _links(description.values_of(EXACT_MATCH))
    same += _links(v for g in description.identifiers for s in g.statements for v in [s.value])
    if same:
        data["sameAs"] = list(dict.fromkeys(same))
    point = next(
        (v.coordinate for v in description.values_of(COORDINATE_LOCATION) if v.coordinate), None
    )
    if point is not None:
        geo = {"@type": "GeoCoordinates", "latitude": float(point[0]), "longitude": float(point[1])}
        if "Place" in kinds:
            data["geo"] = geo
        else:  # schema:geo belongs to places: an organisation is at a place that has it
            data["location"] = {"@type": "Place", "geo": geo}
    if description.modified:
        data["mainEntityOfPage"]["dateModified"] = description.modified
    return data


def _links(values: Iterable[Any]) -> list[str]:
    return [v.href for v in values if getattr(v, "href", None)]
