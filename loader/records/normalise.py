"""Normalisation of a record to the Wikibase model.

Short-form truthy triples become statement nodes; blank-node statements,
references and time values get Wikibase-style IRIs (statement ids, reference and
value hashes) derived from their content, so re-loading an unchanged file yields
identical triples; truthy ``wdt:`` triples and ``wikibase:BestRank`` are derived
from ranks; ``rdf:type`` is materialised from "instance of"; property entities get
every predicate link. Problems are left for validation to report, never "fixed".
"""

from __future__ import annotations

import calendar
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph as ox

from loader.base import ids
from loader.base.namespaces import (
    BT,
    GREGORIAN,
    OWL,
    PROPERTY_LINKS,
    RDF,
    SCHEMA,
    SKOS,
    WIKIBASE,
    XSD,
)
from loader.base.rdf import Node, Term, Triple
from loader.records import coordinates
from loader.records.context import SKOS_CONCEPT, Context
from loader.records.source import SourceRecord

RDF_TYPE = ox.NamedNode(RDF + "type")
STATEMENT = ox.NamedNode(WIKIBASE + "Statement")
REFERENCE = ox.NamedNode(WIKIBASE + "Reference")
BEST_RANK = ox.NamedNode(WIKIBASE + "BestRank")
RANK = ox.NamedNode(WIKIBASE + "rank")
NORMAL = ox.NamedNode(WIKIBASE + "NormalRank")
PREFERRED = ox.NamedNode(WIKIBASE + "PreferredRank")
DEPRECATED = ox.NamedNode(WIKIBASE + "DeprecatedRank")
ITEM = ox.NamedNode(WIKIBASE + "Item")
PROPERTY = ox.NamedNode(WIKIBASE + "Property")
PROPERTY_TYPE = ox.NamedNode(WIKIBASE + "propertyType")
DERIVED_FROM = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
SCHEMA_ABOUT = ox.NamedNode(SCHEMA + "about")
SCHEMA_DATASET = ox.NamedNode(SCHEMA + "Dataset")
IN_SCHEME = ox.NamedNode(SKOS + "inScheme")
XSD_DATETIME = ox.NamedNode(XSD + "dateTime")
XSD_INTEGER = ox.NamedNode(XSD + "integer")
TIME_VALUE = ox.NamedNode(WIKIBASE + "TimeValue")
OWL_CLASS = ox.NamedNode(OWL + "Class")

#: Property types whose values are IRIs (Wikibase types their predicates owl:ObjectProperty).
IRI_TYPES = frozenset(
    {
        "WikibaseItem",
        "WikibaseProperty",
        "WikibaseLexeme",
        "Url",
        "CommonsMedia",
        "GeoShape",
        "TabularData",
    }
)
_PRECISION = {XSD + "gYear": 9, XSD + "gYearMonth": 10, XSD + "date": 11}
_VALUE_KIND = {"ps": "psv", "pq": "pqv", "pr": "prv"}


@dataclass
class NormalRecord:
    """A record in full Wikibase form, ready to validate and write."""

    entity: str
    triples: list[Triple]
    content_hash: str
    source: str
    line: int | None

    content: bytes = b""

    def ntriples(self) -> bytes:
        """Canonical content: sorted N-Triples."""
        return self.content or canonical_ntriples(self.triples)


def canonical_ntriples(triples: list[Triple]) -> bytes:
    """Sorted, de-duplicated N-Triples lines."""
    lines = sorted({f"{s} {p} {o} .\n" for s, p, o in triples})
    return "".join(lines).encode()


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()


def check_date(year: int, month: int, day: int) -> None:
    """Raise ValueError unless the month exists and the day exists in that month
    (proleptic Gregorian; years outside 1-9999 are checked as if a leap year)."""
    if not 1 <= month <= 12:
        raise ValueError(f"there is no month {month:02d}: months are 01 to 12")
    days = calendar.monthrange(year if 1 <= year <= 9999 else 2000, month)[1]
    if not 1 <= day <= days:
        raise ValueError(f"there is no day {day:02d} in month {month:02d} of year {year}")


def _time(literal: ox.Literal) -> tuple[ox.Literal, int] | None:
    """(xsd:dateTime literal, precision) for a time-like literal; None otherwise."""
    datatype = literal.datatype.value
    text = literal.value.strip()
    negative = text.startswith("-")
    body = text[1:] if negative or text.startswith("+") else text
    sign = "-" if negative else ""
    try:
        if datatype in _PRECISION:
            precision = _PRECISION[datatype]
            parts = body.split("-")
            year = parts[0]
            month = parts[1] if precision >= 10 else "01"
            day = parts[2][:2] if precision >= 11 else "01"
            check_date(int(year), int(month), int(day))
            return ox.Literal(
                f"{sign}{year}-{month}-{day}T00:00:00Z", datatype=XSD_DATETIME
            ), precision
        if datatype == XSD + "dateTime":
            day_part, _, clock = body.partition("T")
            numbers = day_part.split("-")
            check_date(int(numbers[0]), int(numbers[1]), int(numbers[2]))
            return literal, 11 if clock.startswith("00:00:00") else 14
    except (IndexError, ValueError):
        return None
    return None


def time_value(literal: ox.Literal) -> tuple[ox.Literal, int] | None:
    """(xsd:dateTime literal, precision) of a time literal the loader accepts (xsd:gYear,
    gYearMonth, date or dateTime naming a real day); None for anything else."""
    return _time(literal)


class _Builder:
    """Normalises one record; see :func:`normalise`."""

    def __init__(self, record: SourceRecord, ctx: Context) -> None:
        self.ctx = ctx
        self.ns = ctx.ns
        self.eid = record.entity
        self.entity = self.ns.entity(self.eid)
        self.record = record
        self.triples: dict[Triple, None] = {}
        data_doc = self.ns.data_document(self.eid)
        datasets = {s for s, p, o in record.triples if p == RDF_TYPE and o == SCHEMA_DATASET}
        foreign_docs = {
            s
            for s, p, o in record.triples
            if p == SCHEMA_ABOUT and o == self.entity and s != data_doc and s in datasets
        }
        for t in record.triples:
            s, p, o = t
            if s == data_doc or s in foreign_docs:
                continue  # rebuilt from the revision log when written
            if s == self.entity and p == RDF_TYPE and self._derived_type(o):
                continue
            if s == self.entity and p == IN_SCHEME:
                continue
            if p == RDF_TYPE and o == BEST_RANK:
                continue
            self.triples[t] = None

    @staticmethod
    def _derived_type(o: Term) -> bool:
        return isinstance(o, ox.NamedNode) and (
            o.value.startswith(BT) or o.value == SKOS_CONCEPT or o.value == SKOS + "ConceptScheme"
        )

    def add(self, s: Node, p: ox.NamedNode, o: Term) -> None:
        self.triples[(s, p, o)] = None

    def run(self) -> NormalRecord:
        self._short_form()
        self._times()
        self._coordinates()
        self._name_nodes()
        self._statement_defaults()
        self._derive_truthy()
        self._entity_types()
        if self.eid.startswith("P"):
            self._property_links()
        self._relabel_blank_nodes()
        triples = list(self.triples)
        content = canonical_ntriples(triples)
        return NormalRecord(
            self.eid,
            triples,
            _digest(content.decode()),
            self.record.source,
            self.record.line,
            content,
        )

    # --- statements --------------------------------------------------------------------
    def _claims(self) -> dict[str, list[Node]]:
        claims: dict[str, list[Node]] = defaultdict(list)
        for s, p, o in self.triples:
            if s == self.entity and isinstance(o, ox.NamedNode | ox.BlankNode):
                split = self.ns.split_predicate(p.value)
                if split is not None and split[0] == "p":
                    claims[split[1]].append(o)
        return claims

    def _short_form(self) -> None:
        """wdt: triples (and `a wdno:P`) without a statement of that value become statements.

        A truthy value that is already the main value of one of the entity's statements is
        left for validation to check against the ranks; any other is short form.
        """
        claimed: dict[str, set[Term]] = defaultdict(set)
        preferred: set[str] = set()
        for pid, nodes in self._claims().items():
            ps = self.ns.predicate("ps", pid)
            for node in nodes:
                if (node, RANK, PREFERRED) in self.triples:
                    preferred.add(pid)
                claimed[pid].update(o for s, p, o in self.triples if s == node and p == ps)
                claimed[pid].update(
                    ox.Literal("novalue")
                    for s, p, o in self.triples
                    if s == node and p == RDF_TYPE and o == self.ns.predicate("wdno", pid)
                )
        for s, p, o in list(self.triples):
            if s != self.entity:
                continue
            split = self.ns.split_predicate(p.value)
            novalue = (
                p == RDF_TYPE
                and isinstance(o, ox.NamedNode)
                and (nv := self.ns.split_predicate(o.value)) is not None
                and nv[0] == "wdno"
            )
            if novalue:
                pid = nv[1]  # type: ignore[index]
            elif split is not None and split[0] == "wdt":
                pid = split[1]
            else:
                continue
            if (ox.Literal("novalue") if novalue else o) in claimed.get(pid, ()):
                continue
            if pid in preferred:
                # As a new normal-rank statement it could never be truthy next to a
                # preferred one: leave it for validation to report the contradiction.
                continue
            del self.triples[(s, p, o)]
            node = ox.BlankNode()  # named from its content by _name_nodes, like full form
            self.add(self.entity, self.ns.predicate("p", pid), node)
            self.add(node, RDF_TYPE, STATEMENT)
            self.add(node, RANK, NORMAL)
            if novalue:
                self.add(node, RDF_TYPE, self.ns.predicate("wdno", pid))
            else:
                self.add(node, self.ns.predicate("ps", pid), o)

    def _times(self) -> None:
        """Time literals become xsd:dateTime with a value node carrying the precision."""
        for s, p, o in list(self.triples):
            if not isinstance(o, ox.Literal):
                continue
            split = self.ns.split_predicate(p.value)
            if split is None or split[0] not in ("ps", "pq", "pr", "wdt"):
                continue
            kind, pid = split
            if self.ctx.property_types.get(pid) != "Time":
                continue
            converted = _time(o)
            if converted is None:
                continue  # validation reports the wrong value type
            value, precision = converted
            if value != o:
                del self.triples[(s, p, o)]
                self.add(s, p, value)
            if kind == "wdt":
                continue
            value_pred = self.ns.predicate(_VALUE_KIND[kind], pid)
            if any(t[0] == s and t[1] == value_pred for t in self.triples):
                continue
            node = ox.NamedNode(self.ns["wdv"] + _digest(value.value, str(precision)))
            self.add(s, value_pred, node)
            self.add(node, RDF_TYPE, TIME_VALUE)
            self.add(node, ox.NamedNode(WIKIBASE + "timeValue"), value)
            self.add(
                node,
                ox.NamedNode(WIKIBASE + "timePrecision"),
                ox.Literal(str(precision), datatype=XSD_INTEGER),
            )
            self.add(
                node, ox.NamedNode(WIKIBASE + "timeTimezone"), ox.Literal("0", datatype=XSD_INTEGER)
            )
            self.add(node, ox.NamedNode(WIKIBASE + "timeCalendarModel"), ox.NamedNode(GREGORIAN))

    def _coordinates(self) -> None:
        """Globe coordinates: the wktLiteral in canonical form, and a value node (a blank
        node here, named from its content by :meth:`_name_nodes`) with latitude, longitude,
        globe and the precision the written decimals imply, unless one is given."""
        for s, p, o in list(self.triples):
            if not coordinates.is_wkt(o):
                continue
            split = self.ns.split_predicate(p.value)
            if split is None or split[0] not in ("ps", "pq", "pr", "wdt"):
                continue
            kind, pid = split
            if self.ctx.property_types.get(pid) != "GlobeCoordinate":
                continue
            point = coordinates.parse_point(o.value)
            if point is None:
                continue  # validation reports the malformed literal
            value = point.wkt()
            if value != o:
                del self.triples[(s, p, o)]
                self.add(s, p, value)
            if kind == "wdt":
                continue
            value_pred = self.ns.predicate(_VALUE_KIND[kind], pid)
            if any(t[0] == s and t[1] == value_pred for t in self.triples):
                continue
            node = ox.BlankNode()
            self.add(s, value_pred, node)
            precision = coordinates.written_precision(o.value)
            for pred, obj in coordinates.value_node_pairs(point, precision):
                self.add(node, pred, obj)

    def _index(self) -> dict[Node, list[tuple[ox.NamedNode, Term]]]:
        index: dict[Node, list[tuple[ox.NamedNode, Term]]] = defaultdict(list)
        for s, p, o in self.triples:
            index[s].append((p, o))
        return index

    @staticmethod
    def _content_key(index: dict[Node, list[tuple[ox.NamedNode, Term]]], node: Node) -> str:
        return "\n".join(sorted(f"{p} {o}" for p, o in index.get(node, ())))

    def _rename_all(self, mapping: dict[Node, Node]) -> None:
        if not mapping:
            return
        updated: dict[Triple, None] = {}
        get = mapping.get
        for s, p, o in self.triples:
            updated[(get(s, s), p, get(o, o))] = None  # type: ignore[arg-type]
        self.triples = updated

    def _statement_key(self, pid: str, node: Node) -> str:
        """Identity of a statement: entity, property, value, and whatever else it says
        beyond the defaults, so the short and the plain full form get the same id."""
        ps = self.ns.predicate("ps", pid)
        psv = self.ns.predicate("psv", pid)
        wdno = self.ns.predicate("wdno", pid)
        defaults = {(RDF_TYPE, STATEMENT), (RANK, NORMAL)}
        values, extras = [], []
        for p, o in self._index_cache.get(node, ()):
            if (p, o) in defaults or p == psv:
                continue
            if p == ps or (p == RDF_TYPE and o == wdno):
                values.append("novalue" if p == RDF_TYPE else str(o))
            else:
                extras.append(f"{p} {o}")
        return "|".join([self.eid, pid, *sorted(values), *sorted(extras)])

    def _name_nodes(self) -> None:
        """Blank-node value nodes, references and statements get content-derived IRIs
        (innermost first, since a reference's identity includes its value nodes)."""
        index = self._index()
        values = {
            o
            for s, p, o in self.triples
            if isinstance(o, ox.BlankNode)
            and (split := self.ns.split_predicate(p.value)) is not None
            and split[0] in ("psv", "pqv", "prv")
        }
        self._rename_all(
            {b: ox.NamedNode(self.ns["wdv"] + _digest(self._content_key(index, b))) for b in values}
        )
        references = {o for s, p, o in self.triples if p == DERIVED_FROM}
        for ref in references:
            if (ref, RDF_TYPE, REFERENCE) not in self.triples:
                self.add(ref, RDF_TYPE, REFERENCE)  # type: ignore[arg-type]
        index = self._index()
        self._rename_all(
            {
                r: ox.NamedNode(self.ns["wdref"] + _digest(self._content_key(index, r)))
                for r in references
                if isinstance(r, ox.BlankNode)
            }
        )
        mapping: dict[Node, Node] = {}
        self._index_cache = self._index()
        for pid, nodes in self._claims().items():
            for node in nodes:
                if isinstance(node, ox.BlankNode):
                    ident = uuid.uuid5(uuid.NAMESPACE_URL, self._statement_key(pid, node))
                    mapping[node] = ox.NamedNode(f"{self.ns['wds']}{self.eid}-{ident}")
        self._rename_all(mapping)

    def _statement_defaults(self) -> None:
        for nodes in self._claims().values():
            for node in nodes:
                if (node, RDF_TYPE, STATEMENT) not in self.triples:
                    self.add(node, RDF_TYPE, STATEMENT)
                if not any(s == node and p == RANK for s, p, _ in self.triples):
                    self.add(node, RANK, NORMAL)

    def _derive_truthy(self) -> None:
        by_subject: dict[Node, list[tuple[ox.NamedNode, Term]]] = defaultdict(list)
        for s, p, o in self.triples:
            by_subject[s].append((p, o))
        for pid, nodes in self._claims().items():
            ranks = {n: {o for p, o in by_subject.get(n, ()) if p == RANK} for n in nodes}
            preferred = [n for n in nodes if PREFERRED in ranks[n]]
            best = preferred or [n for n in nodes if NORMAL in ranks[n]]
            wdt = self.ns.predicate("wdt", pid)
            ps = self.ns.predicate("ps", pid)
            wdno = self.ns.predicate("wdno", pid)
            for node in best:
                if DEPRECATED in ranks[node]:
                    continue
                self.add(node, RDF_TYPE, BEST_RANK)
                for p, o in by_subject.get(node, ()):
                    if p == ps:
                        self.add(self.entity, wdt, o)
                    elif p == RDF_TYPE and o == wdno:
                        self.add(self.entity, RDF_TYPE, wdno)

    def _entity_types(self) -> None:
        self.add(self.entity, RDF_TYPE, PROPERTY if self.eid.startswith("P") else ITEM)
        wdt_p1 = self.ns.predicate("wdt", ids.INSTANCE_OF)
        for s, p, o in list(self.triples):
            if s == self.entity and p == wdt_p1 and isinstance(o, ox.NamedNode):
                for cls in self.ctx.classes_of_item(o.value):
                    self.add(self.entity, RDF_TYPE, ox.NamedNode(cls))
                if self.ctx.is_vocabulary(o.value):
                    self.add(self.entity, RDF_TYPE, ox.NamedNode(SKOS_CONCEPT))
                    self.add(self.entity, IN_SCHEME, o)

    def _property_links(self) -> None:
        pid = self.eid
        ptype_values = [o for s, p, o in self.triples if s == self.entity and p == PROPERTY_TYPE]
        ptype = ""
        if ptype_values and isinstance(ptype_values[0], ox.NamedNode):
            ptype = ptype_values[0].value.removeprefix(WIKIBASE)
        object_like = ptype in IRI_TYPES
        for kind, link in PROPERTY_LINKS:
            predicate = self.ns.predicate(kind, pid)
            link_node = ox.NamedNode(WIKIBASE + link)
            if not any(s == self.entity and p == link_node for s, p, _ in self.triples):
                self.add(self.entity, link_node, predicate)
            if kind == "wdno":
                continue
            if any(s == predicate and p == RDF_TYPE for s, p, _ in self.triples):
                continue
            obj = kind in ("p", "psv", "pqv", "prv") or object_like
            self.add(
                predicate,
                RDF_TYPE,
                ox.NamedNode(OWL + ("ObjectProperty" if obj else "DatatypeProperty")),
            )
        wdno = self.ns.predicate("wdno", pid)
        if (wdno, RDF_TYPE, OWL_CLASS) not in self.triples:
            restriction = ox.BlankNode()
            self.add(wdno, RDF_TYPE, OWL_CLASS)
            self.add(wdno, ox.NamedNode(OWL + "complementOf"), restriction)
            self.add(restriction, RDF_TYPE, ox.NamedNode(OWL + "Restriction"))
            self.add(restriction, ox.NamedNode(OWL + "onProperty"), self.ns.predicate("wdt", pid))
            self.add(restriction, ox.NamedNode(OWL + "someValuesFrom"), ox.NamedNode(OWL + "Thing"))

    def _relabel_blank_nodes(self) -> None:
        """Remaining blank nodes get labels derived from where they hang, for stable hashes."""
        blanks = {t for s, _, o in self.triples for t in (s, o) if isinstance(t, ox.BlankNode)}
        if not blanks:
            return
        mapping: dict[ox.BlankNode, ox.BlankNode] = {}
        for b in blanks:
            incoming = sorted(
                f"{s if not isinstance(s, ox.BlankNode) else '_'} {p}"
                for s, p, o in self.triples
                if o == b
            )
            outgoing = sorted(
                f"{p} {o if not isinstance(o, ox.BlankNode) else '_'}"
                for s, p, o in self.triples
                if s == b
            )
            mapping[b] = ox.BlankNode("b" + _digest(self.eid, *incoming, "|", *outgoing)[:30])
        updated: dict[Triple, None] = {}
        for s, p, o in self.triples:
            ns_ = mapping.get(s, s) if isinstance(s, ox.BlankNode) else s
            no = mapping.get(o, o) if isinstance(o, ox.BlankNode) else o
            updated[(ns_, p, no)] = None
        self.triples = updated


def normalise(record: SourceRecord, ctx: Context) -> NormalRecord:
    """The record in full Wikibase form (see module docstring)."""
    return _Builder(record, ctx).run()


def data_document(
    ns_entity: ox.NamedNode, doc: ox.NamedNode, version: int, modified: str
) -> list[Triple]:
    """The data-document triples Wikibase publishes with every entity."""
    return [
        (doc, RDF_TYPE, SCHEMA_DATASET),
        (doc, SCHEMA_ABOUT, ns_entity),
        (doc, ox.NamedNode(SCHEMA + "version"), ox.Literal(str(version), datatype=XSD_INTEGER)),
        (doc, ox.NamedNode(SCHEMA + "dateModified"), ox.Literal(modified, datatype=XSD_DATETIME)),
    ]
