"""Wikibase entity JSON (as ``Special:EntityData/Q1.json`` serves it), derived from RDF.

The record's RDF is the source of truth; this module reads it back into Wikibase's
canonical JSON shape: labels, descriptions, aliases, and claims with main snak,
qualifiers, references and rank. Values come from the simple value (``ps:``/``pq:``/
``pr:``) and, where present, the full value node (``psv:``…: time precision,
quantity bounds and unit, coordinate precision and globe).

Two things RDF cannot give back exactly: the order of qualifiers and reference
snaks (listed by property number) and Wikibase's own snak hashes (``hash`` here is a
SHA-1 of the snak's JSON, stable but not equal to Wikibase's).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox

from loader.base.namespaces import (
    GREGORIAN,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    WIKIBASE,
    XSD,
    Namespaces,
)
from loader.base.rdf import Term, Triple

RDF_TYPE = RDF + "type"
COMMONS_FILE = "http://commons.wikimedia.org/wiki/Special:FilePath/"
COMMONS_DATA = "http://commons.wikimedia.org/data/main/"
GEO_WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
UNIT_ONE = "http://www.wikidata.org/entity/Q199"
GENID = "/.well-known/genid/"

#: wikibase:propertyType local names → the JSON ``datatype`` Wikibase writes.
DATATYPES = {
    "WikibaseItem": "wikibase-item",
    "WikibaseProperty": "wikibase-property",
    "WikibaseLexeme": "wikibase-lexeme",
    "WikibaseForm": "wikibase-form",
    "WikibaseSense": "wikibase-sense",
    "String": "string",
    "ExternalId": "external-id",
    "Url": "url",
    "CommonsMedia": "commonsMedia",
    "GlobeCoordinate": "globe-coordinate",
    "Monolingualtext": "monolingualtext",
    "Quantity": "quantity",
    "Time": "time",
    "GeoShape": "geo-shape",
    "TabularData": "tabular-data",
    "Math": "math",
    "MusicalNotation": "musical-notation",
    "EntitySchema": "entity-schema",
}
RANKS = {
    WIKIBASE + "PreferredRank": "preferred",
    WIKIBASE + "NormalRank": "normal",
    WIKIBASE + "DeprecatedRank": "deprecated",
}
BOUNDS = (("upperBound", "quantityUpperBound"), ("lowerBound", "quantityLowerBound"))
_POINT = re.compile(r"^\s*(?:<([^>]*)>\s*)?Point\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.IGNORECASE)

Index = Mapping[Term, Mapping[str, Sequence[Term]]]


def _pid_number(pid: str) -> int:
    return int(pid[1:])


def statement_json_id(entity: str, local: str) -> str:
    """Wikibase statement id from the local name of its IRI: Wikibase writes
    ``Q1$abc`` as ``wds:Q1-abc``; other local names are kept as they are."""
    head = f"{entity}-"
    if local[: len(head)].upper() == head.upper():
        return local[: len(entity)] + "$" + local[len(head) :]
    return local


def _json_time(literal: str, precision: int) -> str:
    """``+2009-01-00T00:00:00Z`` for month precision, as Wikibase writes times.

    RDF years count 1 BCE as year 0 (XSD 1.1); Wikibase JSON has no year 0, so years
    at or before 0 move back by one (RDF -0199 is JSON -0200)."""
    negative = literal.startswith("-")
    body = literal.lstrip("+-")
    date, _, clock = body.partition("T")
    parts = date.split("-")
    year = int(parts[0]) * (-1 if negative else 1)
    month = parts[1] if len(parts) > 1 else "00"
    day = parts[2] if len(parts) > 2 else "00"
    if year <= 0:
        year -= 1
    if precision <= 9:
        month, day = "00", "00"
    elif precision == 10:
        day = "00"
    clock = clock or "00:00:00Z"
    if precision <= 11:
        clock = "00:00:00Z"
    sign = "-" if year < 0 else "+"
    return f"{sign}{abs(year):04d}-{month}-{day}T{clock}"


def _signed(number: str) -> str:
    return number if number.startswith(("+", "-")) else "+" + number


class _Reader:
    """Reads one entity's triples into Wikibase JSON."""

    def __init__(
        self,
        ns: Namespaces,
        entity: str,
        triples: Sequence[Triple],
        property_type: Callable[[str], str | None],
    ) -> None:
        self.ns = ns
        self.entity = entity
        self.property_type = property_type
        index: dict[Term, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        for s, p, o in triples:
            index[s][p.value].append(o)
        self.index: Index = index
        # Properties without a declared type: the datatype their values show, so that
        # "no value" and "unknown value" snaks get one too (Wikibase always writes it).
        self.inferred: dict[str, str] = {}
        for _s, p, o in triples:
            split = ns.split_predicate(p.value)
            if (
                split is not None
                and split[0] in ("ps", "pq", "pr")
                and split[1] not in self.inferred
            ):
                if isinstance(o, ox.BlankNode) or GENID in o.value:
                    continue
                self.inferred[split[1]] = self.datavalue(o, None)[1]

    def first(self, node: Term, predicate: str) -> Term | None:
        values = self.index.get(node, {}).get(predicate, ())
        return values[0] if values else None

    # --- values ---------------------------------------------------------------------
    def datavalue(self, term: Term, value_node: Term | None) -> tuple[dict[str, Any], str]:
        """(datavalue, inferred datatype) for a simple value and its optional value node."""
        if isinstance(term, ox.NamedNode):
            eid = self.ns.entity_id(term.value)
            if eid is not None:
                kind = "property" if eid.startswith("P") else "item"
                value = {"entity-type": kind, "numeric-id": int(eid[1:]), "id": eid}
                return {"value": value, "type": "wikibase-entityid"}, f"wikibase-{kind}"
            if term.value.startswith(COMMONS_FILE):
                name = unquote(term.value[len(COMMONS_FILE) :]).replace("_", " ")
                return {"value": name, "type": "string"}, "commonsMedia"
            if term.value.startswith(COMMONS_DATA):
                name = unquote(term.value[len(COMMONS_DATA) :])
                kind = "geo-shape" if name.endswith(".map") else "tabular-data"
                return {"value": name, "type": "string"}, kind
            return {"value": term.value, "type": "string"}, "url"
        assert isinstance(term, ox.Literal)
        if term.language:
            value = {"text": term.value, "language": term.language}
            return {"value": value, "type": "monolingualtext"}, "monolingualtext"
        datatype = term.datatype.value
        if datatype == XSD + "dateTime":
            return {"value": self._time(term, value_node), "type": "time"}, "time"
        if datatype == GEO_WKT:
            return {"value": self._coordinate(term, value_node), "type": "globecoordinate"}, (
                "globe-coordinate"
            )
        if datatype in (XSD + "decimal", XSD + "integer", XSD + "double"):
            return {"value": self._quantity(term, value_node), "type": "quantity"}, "quantity"
        return {"value": term.value, "type": "string"}, "string"

    def _time(self, term: ox.Literal, node: Term | None) -> dict[str, Any]:
        precision, timezone, calendar = 11, 0, GREGORIAN
        if node is not None:
            if (p := self.first(node, WIKIBASE + "timePrecision")) is not None:
                precision = int(p.value)
            if (z := self.first(node, WIKIBASE + "timeTimezone")) is not None:
                timezone = int(z.value)
            if (c := self.first(node, WIKIBASE + "timeCalendarModel")) is not None:
                calendar = c.value
        return {
            "time": _json_time(term.value, precision),
            "timezone": timezone,
            "before": 0,
            "after": 0,
            "precision": precision,
            "calendarmodel": calendar,
        }

    def _coordinate(self, term: ox.Literal, node: Term | None) -> dict[str, Any]:
        match = _POINT.match(term.value)
        globe = "http://www.wikidata.org/entity/Q2"
        latitude = longitude = precision = None
        if match:
            globe = match.group(1) or globe
            longitude, latitude = float(match.group(2)), float(match.group(3))
        if node is not None:
            if (v := self.first(node, WIKIBASE + "geoLatitude")) is not None:
                latitude = float(v.value)
            if (v := self.first(node, WIKIBASE + "geoLongitude")) is not None:
                longitude = float(v.value)
            if (v := self.first(node, WIKIBASE + "geoPrecision")) is not None:
                precision = float(v.value)
            if (v := self.first(node, WIKIBASE + "geoGlobe")) is not None:
                globe = v.value
        return {
            "latitude": latitude,
            "longitude": longitude,
            "altitude": None,
            "precision": precision,
            "globe": globe,
        }

    def _quantity(self, term: ox.Literal, node: Term | None) -> dict[str, Any]:
        value: dict[str, Any] = {"amount": _signed(term.value), "unit": "1"}
        if node is not None:
            unit = self.first(node, WIKIBASE + "quantityUnit")
            if unit is not None and unit.value != UNIT_ONE:
                value["unit"] = unit.value
            for key, local in BOUNDS:
                if (bound := self.first(node, WIKIBASE + local)) is not None:
                    value[key] = _signed(bound.value)
        return value

    # --- snaks ----------------------------------------------------------------------
    def snak(self, pid: str, term: Term | None, value_node: Term | None) -> dict[str, Any]:
        """One snak; ``term`` None means "no value"; a blank node "unknown value"."""
        declared = self.property_type(pid)
        datatype = DATATYPES.get(declared or "") or self.inferred.get(pid)
        snak: dict[str, Any] = {"snaktype": "value", "property": pid}
        if term is None:
            snak["snaktype"] = "novalue"
        elif isinstance(term, ox.BlankNode) or (
            isinstance(term, ox.NamedNode) and GENID in term.value
        ):
            snak["snaktype"] = "somevalue"
        else:
            datavalue, inferred = self.datavalue(term, value_node)
            snak["datavalue"] = datavalue
            datatype = DATATYPES.get(declared or "") or inferred
        snak["hash"] = hashlib.sha1(
            json.dumps(snak, sort_keys=True).encode(), usedforsecurity=False
        ).hexdigest()
        if datatype:
            snak["datatype"] = datatype
        return snak

    def snaks(self, node: Term, kind: str, skip_novalue: str | None = None) -> dict[str, list[Any]]:
        """Qualifier (``pq``) or reference (``pr``) snaks of a node, by property."""
        value_kind = {"pq": "pqv", "pr": "prv"}[kind]
        found: dict[str, list[Any]] = defaultdict(list)
        props = self.index.get(node, {})
        for predicate, objects in props.items():
            split = self.ns.split_predicate(predicate)
            if split is None or split[0] != kind:
                continue
            pid = split[1]
            value_nodes = props.get(self.ns.predicate(value_kind, pid).value, [])
            for term in objects:
                found[pid].append(self.snak(pid, term, self._value_node(term, value_nodes)))
        for cls in props.get(RDF_TYPE, ()):
            split = self.ns.split_predicate(cls.value)
            if split is not None and split[0] == "wdno" and split[1] != skip_novalue:
                found[split[1]].append(self.snak(split[1], None, None))
        return {pid: found[pid] for pid in sorted(found, key=_pid_number)}

    def _value_node(self, term: Term, value_nodes: Sequence[Term]) -> Term | None:
        """The full value node whose simple value is ``term`` (one value per node)."""
        if len(value_nodes) == 1:
            return value_nodes[0]
        for node in value_nodes:
            for local in ("timeValue", "quantityAmount"):
                if self.first(node, WIKIBASE + local) == term:
                    return node
        return None

    # --- statements -----------------------------------------------------------------
    def statement(self, pid: str, node: Term) -> dict[str, Any]:
        props = self.index.get(node, {})
        values = props.get(self.ns.predicate("ps", pid).value, [])
        value_nodes = props.get(self.ns.predicate("psv", pid).value, [])
        novalue = self.ns.predicate("wdno", pid) in props.get(RDF_TYPE, ())
        main = values[0] if values else None
        mainsnak = self.snak(pid, main, self._value_node(main, value_nodes) if main else None)
        out: dict[str, Any] = {"mainsnak": mainsnak, "type": "statement"}
        # A "no value" class on the statement is the main snak's when it has no value;
        # otherwise it is a qualifier's.
        qualifiers = self.snaks(node, "pq", skip_novalue=pid if novalue and not values else None)
        if qualifiers:
            out["qualifiers"] = qualifiers
            out["qualifiers-order"] = list(qualifiers)
        if isinstance(node, ox.NamedNode) and node.value.startswith(self.ns["wds"]):
            out["id"] = statement_json_id(self.entity, node.value[len(self.ns["wds"]) :])
        rank = self.first(node, WIKIBASE + "rank")
        out["rank"] = RANKS.get(rank.value if rank is not None else "", "normal")
        references = []
        for ref in props.get(PROV + "wasDerivedFrom", ()):
            snaks = self.snaks(ref, "pr")
            entry: dict[str, Any] = {}
            if isinstance(ref, ox.NamedNode) and ref.value.startswith(self.ns["wdref"]):
                entry["hash"] = ref.value[len(self.ns["wdref"]) :]
            entry["snaks"] = snaks
            entry["snaks-order"] = list(snaks)
            references.append(entry)
        if references:
            out["references"] = sorted(references, key=lambda r: str(r.get("hash", "")))
        return out

    def texts(self, predicate: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for term in self.index.get(self.ns.entity(self.entity), {}).get(predicate, ()):
            if isinstance(term, ox.Literal) and term.language:
                found[term.language].append(term.value)
        return {lang: sorted(found[lang]) for lang in sorted(found)}

    def entity_json(self, revision: int, modified: str) -> dict[str, Any]:
        me = self.ns.entity(self.entity)
        kind = "property" if self.entity.startswith("P") else "item"
        out: dict[str, Any] = {"type": kind, "id": self.entity}
        if kind == "property":
            ptype = self.first(me, WIKIBASE + "propertyType")
            local = ptype.value.removeprefix(WIKIBASE) if ptype is not None else ""
            out["datatype"] = DATATYPES.get(local, local or "string")
        labels = self.texts(RDFS + "label")
        out["labels"] = {
            lang: {"language": lang, "value": texts[0]} for lang, texts in labels.items()
        }
        out["descriptions"] = {
            lang: {"language": lang, "value": texts[0]}
            for lang, texts in self.texts(SCHEMA + "description").items()
        }
        out["aliases"] = {
            lang: [{"language": lang, "value": t} for t in texts]
            for lang, texts in self.texts(SKOS + "altLabel").items()
        }
        claims: dict[str, list[Any]] = {}
        mine = self.index.get(me, {})
        by_property: dict[str, list[Term]] = defaultdict(list)
        for predicate, objects in mine.items():
            split = self.ns.split_predicate(predicate)
            if split is not None and split[0] == "p":
                by_property[split[1]].extend(objects)
        for pid in sorted(by_property, key=_pid_number):
            statements = [self.statement(pid, node) for node in by_property[pid]]
            claims[pid] = sorted(statements, key=lambda s: str(s.get("id", "")))
        out["claims"] = claims
        if kind == "item":
            out["sitelinks"] = {}
        out["lastrevid"] = revision
        out["modified"] = modified
        return out


def entity_json(
    ns: Namespaces,
    entity: str,
    triples: Sequence[Triple],
    revision: int,
    modified: str,
    property_type: Callable[[str], str | None],
) -> dict[str, Any]:
    """``{"entities": {entity: {...}}}`` for the entity's triples.

    ``property_type(pid)`` gives a property's ``wikibase:propertyType`` local name (or
    None when unknown; the datatype is then inferred from the value)."""
    reader = _Reader(ns, entity, triples, property_type)
    return {"entities": {entity: reader.entity_json(revision, modified)}}
