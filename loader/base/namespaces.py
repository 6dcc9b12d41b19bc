"""IRI layout of a Bigtent catalogue, following the Wikibase RDF dump format.

Every IRI an instance mints hangs off one configurable base (``BIGTENT_BASE_URL``).
Files shipped with Bigtent (ontology, shapes, demo records) use *relative* prefix
declarations such as ``@prefix wd: <entity/> .`` and are parsed with the base as
``base_iri``, so the same files serve every instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from pyoxigraph import NamedNode

WIKIBASE = "http://wikiba.se/ontology#"
BT = "https://w3id.org/bigtent/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "http://schema.org/"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
#: Blazegraph's namespace: WDQS predefines ``bd:`` (``bd:serviceParam`` of the label service).
BIGDATA = "http://www.bigdata.com/rdf#"
#: GeoSPARQL 1.1: the truthy value of a globe coordinate is a ``geo:wktLiteral``.
GEO = "http://www.opengis.net/ont/geosparql#"

#: Wikidata's proleptic Gregorian calendar item, used by every Wikibase for time values.
GREGORIAN = "http://www.wikidata.org/entity/Q1985727"
#: Wikidata's item for the Earth: the globe of every coordinate Bigtent accepts.
EARTH = "http://www.wikidata.org/entity/Q2"

#: Entity ids: Q or P and a number of at most 16 digits, so every id fits the 64-bit
#: integers of SQLite and PostgreSQL (the page index stores them as numbers).
ENTITY_ID = re.compile(r"^[QP][1-9][0-9]{0,15}$")

# (prefix name, path below the base) in the order Wikibase documents them.
_LAYOUT: tuple[tuple[str, str], ...] = (
    ("wd", "entity/"),
    ("wds", "entity/statement/"),
    ("wdt", "prop/direct/"),
    ("p", "prop/"),
    ("ps", "prop/statement/"),
    ("psv", "prop/statement/value/"),
    ("pq", "prop/qualifier/"),
    ("pqv", "prop/qualifier/value/"),
    ("pr", "prop/reference/"),
    ("prv", "prop/reference/value/"),
    ("wdno", "prop/novalue/"),
    ("wdref", "reference/"),
    ("wdv", "value/"),
    ("wdata", "data/"),
)

#: Predicate namespaces of a property, as (prefix name, wikibase link predicate).
PROPERTY_LINKS: tuple[tuple[str, str], ...] = (
    ("wdt", "directClaim"),
    ("p", "claim"),
    ("ps", "statementProperty"),
    ("psv", "statementValue"),
    ("pq", "qualifier"),
    ("pqv", "qualifierValue"),
    ("pr", "reference"),
    ("prv", "referenceValue"),
    ("wdno", "novalue"),
)

STANDARD_PREFIXES: dict[str, str] = {
    "wikibase": WIKIBASE,
    "bt": BT,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "skos": SKOS,
    "schema": SCHEMA,
    "prov": PROV,
    "org": "http://www.w3.org/ns/org#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "vf": "https://w3id.org/valueflows/ont/vf#",
    "geo": GEO,
    "sh": SH,
    "bts": "https://w3id.org/bigtent/shapes#",
}


@dataclass(frozen=True)
class Namespaces:
    """The IRIs of one catalogue, derived from its base IRI."""

    base: str
    prefixes: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _split_cache: dict[str, tuple[str, str] | None] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not self.base.endswith("/"):
            raise ValueError(f"the base IRI must end with '/': {self.base!r} (setting BASE_URL)")
        ours = {name: self.base + path for name, path in _LAYOUT}
        object.__setattr__(self, "prefixes", {**ours, **STANDARD_PREFIXES})

    def __getitem__(self, name: str) -> str:
        return self.prefixes[name]

    # --- entities -------------------------------------------------------------
    def entity(self, entity_id: str) -> NamedNode:
        """``wd:Q1`` for ``"Q1"``."""
        return NamedNode(self.prefixes["wd"] + entity_id)

    def data_document(self, entity_id: str) -> NamedNode:
        """The entity's data document, which is also its named graph in the store."""
        return NamedNode(self.prefixes["wdata"] + entity_id)

    def entity_id(self, iri: str) -> str | None:
        """``"Q1"`` for ``wd:Q1``; None for any other IRI."""
        wd = self.prefixes["wd"]
        if iri.startswith(wd):
            local = iri[len(wd) :]
            if ENTITY_ID.match(local):
                return local
        return None

    def data_document_entity(self, iri: str) -> str | None:
        """``"Q1"`` for ``wdata:Q1``; None otherwise."""
        wdata = self.prefixes["wdata"]
        if iri.startswith(wdata):
            local = iri[len(wdata) :]
            if ENTITY_ID.match(local):
                return local
        return None

    def predicate(self, kind: str, property_id: str) -> NamedNode:
        """A property's predicate of one kind, e.g. ``predicate("wdt", "P1")``."""
        return NamedNode(self.prefixes[kind] + property_id)

    @cached_property
    def predicate_kinds(self) -> tuple[tuple[str, str], ...]:
        """(namespace IRI, kind) pairs, longest namespace first so prefixes never shadow."""
        kinds = [(self.prefixes[k], k) for k, _ in PROPERTY_LINKS]
        return tuple(sorted(kinds, key=lambda pair: -len(pair[0])))

    def split_predicate(self, iri: str) -> tuple[str, str] | None:
        """``("ps", "P5")`` for ``ps:P5``; None when the IRI is no property predicate."""
        cache = self._split_cache
        try:
            return cache[iri]
        except KeyError:
            pass
        found = None
        for namespace, kind in self.predicate_kinds:
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if local.startswith("P") and ENTITY_ID.match(local):
                    found = (kind, local)
                break
        if len(cache) < 100_000:  # predicates are few; object IRIs may be many
            cache[iri] = found
        return found

    def turtle_prefixes(self) -> str:
        """Turtle ``@prefix`` lines for every prefix, absolute IRIs."""
        return "".join(f"@prefix {k}: <{v}> .\n" for k, v in self.prefixes.items())

    def sparql_prefixes(self) -> dict[str, str]:
        """Prefixes predefined for SPARQL queries (as WDQS does, ``bd:`` included): the
        one list the endpoint, its service description and ``/sparql/prefixes`` use."""
        return {**self.prefixes, "bd": BIGDATA}


def relative_turtle_prefixes() -> str:
    """``@prefix`` lines with the catalogue prefixes *relative* to the base (``wd:`` is
    ``<entity/>``) and the standard ones absolute: the header of Bigtent's own Turtle
    files, which are parsed with the catalogue base as ``base_iri``."""
    ours = "".join(f"@prefix {name}: <{path}> .\n" for name, path in _LAYOUT)
    return ours + "".join(f"@prefix {k}: <{v}> .\n" for k, v in STANDARD_PREFIXES.items())


def wikibase(local: str) -> NamedNode:
    """``wikibase:local``."""
    return NamedNode(WIKIBASE + local)
