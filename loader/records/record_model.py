"""A record as editors see it: terms per language and statements, not triples.

:class:`RecordModel` is what diffs, three-way merges and the JSON edit model work on.
It is read from a record's normalised triples (a revision snapshot) and written back
as full-form triples that the normaliser turns into the very same snapshot, so an
unchanged model saves as "unchanged". Triples the model does not interpret (on
property entities: the predicate links; anything unusual) travel in ``other``
untouched. Derived triples (truthy ``wdt:``, ``wikibase:BestRank``, materialised
types) are left out: the normaliser derives them again.

The JSON form of a record (documented in docs/staff.md, "Staff accounts and editing API")::

    {"labels": {"en": "..."}, "descriptions": {"en": "..."}, "aliases": {"en": ["..."]},
     "statements": [{"id": "Q5-…", "property": "P9", "value": "2012-05", "rank": "normal",
                     "qualifiers": [{"property": "P6", "value": "Q110"}],
                     "references": [[{"property": "P18", "value": "https://…"}]]}]}

A globe coordinate (P53) is written as Wikibase writes its ``globecoordinate`` datavalue,
so a value copied from ``/data/Q1.json`` can be sent back unchanged::

    {"latitude": 48.8566, "longitude": 2.3522, "altitude": null, "precision": 0.0001,
     "globe": "http://www.wikidata.org/entity/Q2"}
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from loader.base.namespaces import (
    BT,
    EARTH,
    ENTITY_ID,
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
from loader.base.rdf import Node, Term, Triple
from loader.records import coordinates

RDF_TYPE = ox.NamedNode(RDF + "type")
LABEL = ox.NamedNode(RDFS + "label")
DESCRIPTION = ox.NamedNode(SCHEMA + "description")
ALIAS = ox.NamedNode(SKOS + "altLabel")
IN_SCHEME = ox.NamedNode(SKOS + "inScheme")
RANK = ox.NamedNode(WIKIBASE + "rank")
DERIVED_FROM = ox.NamedNode(PROV + "wasDerivedFrom")
STATEMENT = ox.NamedNode(WIKIBASE + "Statement")
REFERENCE = ox.NamedNode(WIKIBASE + "Reference")
BEST_RANK = ox.NamedNode(WIKIBASE + "BestRank")
ITEM = ox.NamedNode(WIKIBASE + "Item")
PROPERTY = ox.NamedNode(WIKIBASE + "Property")
PROPERTY_TYPE = ox.NamedNode(WIKIBASE + "propertyType")
TIME_PRECISION = ox.NamedNode(WIKIBASE + "timePrecision")
XSD_DATETIME = ox.NamedNode(XSD + "dateTime")
XSD_DECIMAL = ox.NamedNode(XSD + "decimal")
RANKS = ("normal", "preferred", "deprecated")
_RANK_IRI = {r: ox.NamedNode(f"{WIKIBASE}{r.capitalize()}Rank") for r in RANKS}
_IRI_RANK = {v: k for k, v in _RANK_IRI.items()}
TERMS = {"labels": LABEL, "descriptions": DESCRIPTION, "aliases": ALIAS}
#: Property types the JSON model can express.
EDITABLE_TYPES = (
    "WikibaseItem",
    "WikibaseProperty",
    "Url",
    "String",
    "ExternalId",
    "Time",
    "Quantity",
    "Monolingualtext",
    "GlobeCoordinate",
)
_PRECISION_NAMES = {9: "year", 10: "month", 11: "day", 14: "second"}


# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A snak's value: an RDF term, with the time precision for time values and the
    precision in degrees (canonical decimal text) for globe coordinates. The value node
    as stored (``node``) is kept for an exact round trip but is not part of the value's
    identity."""

    term: Term  # a blank node means "some value" (unknown)
    precision: int | None = None
    node: tuple[ox.NamedNode, tuple[tuple[ox.NamedNode, Term], ...]] | None = field(
        default=None, compare=False
    )
    geo_precision: str | None = None

    def key(self) -> str:
        """A sort key."""
        return f"{self.term}|{self.precision or ''}|{self.geo_precision or ''}"


@dataclass(frozen=True)
class Snak:
    """A property with a value (None: "no value")."""

    property: str
    value: Value | None

    def key(self) -> tuple[int, str]:
        """A sort key: property number, then value."""
        return (int(self.property[1:]), "" if self.value is None else self.value.key())


@dataclass(frozen=True)
class Reference:
    """A reference: its snaks, sorted (its stored IRI is not part of its identity)."""

    snaks: tuple[Snak, ...]
    iri: str | None = field(default=None, compare=False)

    def key(self) -> str:
        """A sort key."""
        return ";".join(f"{s.property}={s.value.key() if s.value else '-'}" for s in self.snaks)


@dataclass(frozen=True)
class Statement:
    """A statement: property, value, rank, qualifiers, references (and any triples on the
    statement node the model does not interpret, in ``extra``)."""

    id: str | None  # local part after wds:, e.g. "Q5-1b2c…"; None for a new statement
    property: str
    value: Value | None  # None: "no value"
    rank: str = "normal"
    qualifiers: tuple[Snak, ...] = ()
    references: tuple[Reference, ...] = ()
    extra: tuple[tuple[ox.NamedNode, Term], ...] = ()

    def content(self) -> tuple[object, ...]:
        """Everything but the id: two statements with equal content say the same."""
        return (self.property, self.value, self.rank, self.qualifiers, self.references, self.extra)


def _sorted_snaks(snaks: Iterable[Snak]) -> tuple[Snak, ...]:
    return tuple(sorted(set(snaks), key=Snak.key))


def _sorted_references(refs: Iterable[Reference]) -> tuple[Reference, ...]:
    unique: dict[Reference, Reference] = {}
    for ref in refs:
        unique.setdefault(ref, ref)
    return tuple(sorted(unique.values(), key=Reference.key))


@dataclass
class RecordModel:
    """One entity's editable content."""

    entity: str | None
    labels: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)
    other: list[Triple] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """'property' for P entities, else 'item'."""
        return "property" if (self.entity or "").startswith("P") else "item"

    def statement_map(self) -> dict[str, Statement]:
        """Statements by id (statements without an id are left out)."""
        return {s.id: s for s in self.statements if s.id is not None}

    def with_entity(self, entity: str) -> RecordModel:
        """A copy for another entity id (statement ids of a placeholder entity follow)."""
        old = self.entity
        statements = [
            replace(s, id=f"{entity}-{s.id.split('-', 1)[1]}")
            if s.id is not None and old is not None and s.id.startswith(old + "-")
            else s
            for s in self.statements
        ]
        return replace(self, entity=entity, statements=statements)


# --- triples -> model ------------------------------------------------------------------------


def _derived(ns: Namespaces, p: ox.NamedNode, o: Term) -> bool:
    """Entity triples the normaliser derives (never edited)."""
    if p == IN_SCHEME:
        return True
    if p.value.startswith(ns["wdt"]):
        return True
    if p == RDF_TYPE and isinstance(o, ox.NamedNode):
        v = o.value
        return (
            o in (ITEM, PROPERTY)
            or v.startswith(BT)
            or v == SKOS + "Concept"
            or v == SKOS + "ConceptScheme"
            or v.startswith(ns["wdno"])
        )
    return False


def from_triples(ns: Namespaces, entity: str, triples: Iterable[Triple]) -> RecordModel:
    """The model of a normalised record (a revision snapshot or a normalised input)."""
    out: dict[Node, dict[ox.NamedNode, list[Term]]] = defaultdict(lambda: defaultdict(list))
    order: list[Triple] = []
    for t in triples:
        out[t[0]][t[1]].append(t[2])
        order.append(t)
    me = ns.entity(entity)
    used: set[Triple] = set()
    model = RecordModel(entity)

    def value_node(node: Term) -> tuple[ox.NamedNode, tuple[tuple[ox.NamedNode, Term], ...]]:
        assert isinstance(node, ox.NamedNode)
        pairs = tuple(
            sorted(((p, o) for p, objs in out.get(node, {}).items() for o in objs), key=str)
        )
        for p, o in pairs:
            used.add((node, p, o))
        return node, pairs

    def snak_value(holder: Node, kind: str, pid: str, term: Term) -> Value:
        node_pred = ns.predicate({"ps": "psv", "pq": "pqv", "pr": "prv"}[kind], pid)
        nodes = out.get(holder, {}).get(node_pred, [])
        if isinstance(term, ox.Literal) and term.datatype == XSD_DATETIME and nodes:
            node = value_node(nodes[0])
            used.add((holder, node_pred, nodes[0]))
            precision = next(
                (int(o.value) for p, o in node[1] if p == TIME_PRECISION and o.value.isdigit()),
                None,
            )
            return Value(term, precision, node)
        if coordinates.is_wkt(term) and nodes:
            node = value_node(nodes[0])
            used.add((holder, node_pred, nodes[0]))
            geo = next((o.value for p, o in node[1] if p == coordinates.PRECISION), None)
            with contextlib.suppress(ValueError):  # else kept as written: validation reports it
                geo = None if geo is None else coordinates.decimal_text(geo)
            return Value(term, None, node, geo)
        return Value(term)

    def snaks(holder: Node, kind: str) -> list[Snak]:
        found = []
        for p, objs in out.get(holder, {}).items():
            split = ns.split_predicate(p.value)
            if split is None or split[0] != kind:
                continue
            for o in objs:
                used.add((holder, p, o))
                found.append(Snak(split[1], snak_value(holder, kind, split[1], o)))
        return found

    entity_out = out.get(me, {})
    for name, predicate in TERMS.items():
        for o in entity_out.get(predicate, []):
            if isinstance(o, ox.Literal) and o.language:
                used.add((me, predicate, o))
                if name == "aliases":
                    model.aliases.setdefault(o.language, []).append(o.value)
                else:
                    getattr(model, name)[o.language] = o.value
    for texts in model.aliases.values():
        texts.sort()
    for p, objs in entity_out.items():
        for o in objs:
            if _derived(ns, p, o):
                used.add((me, p, o))
    for p, objs in entity_out.items():
        split = ns.split_predicate(p.value)
        if split is None or split[0] != "p":
            continue
        pid = split[1]
        for node in objs:
            if not isinstance(node, ox.NamedNode) or not node.value.startswith(ns["wds"]):
                continue  # unusual: left in "other"
            used.add((me, p, node))
            props = out.get(node, {})
            ps = ns.predicate("ps", pid)
            value: Value | None = None
            extra: list[tuple[ox.NamedNode, Term]] = []
            rank = "normal"
            references: list[Reference] = []
            for q, objs2 in props.items():
                for o in objs2:
                    t = (node, q, o)
                    if q == RDF_TYPE and o in (STATEMENT, BEST_RANK):
                        used.add(t)
                    elif q == RDF_TYPE and o == ns.predicate("wdno", pid):
                        used.add(t)  # "no value": value stays None
                    elif q == RANK and o in _IRI_RANK:
                        used.add(t)
                        rank = _IRI_RANK[o]  # type: ignore[index]
                    elif q == ps and value is None:
                        used.add(t)
                        value = snak_value(node, "ps", pid, o)
                    elif q == DERIVED_FROM and isinstance(o, ox.NamedNode):
                        used.add(t)
                        ref_snaks = snaks(o, "pr")
                        for ref_pred, ref_objs in out.get(o, {}).items():
                            if ref_pred == RDF_TYPE and REFERENCE in ref_objs:
                                used.add((o, RDF_TYPE, REFERENCE))
                        references.append(Reference(_sorted_snaks(ref_snaks), o.value))
            qualifiers = snaks(node, "pq")
            for q, objs2 in props.items():
                for o in objs2:
                    if (node, q, o) not in used:
                        extra.append((q, o))
                        used.add((node, q, o))
            model.statements.append(
                Statement(
                    node.value[len(ns["wds"]) :],
                    pid,
                    value,
                    rank,
                    _sorted_snaks(qualifiers),
                    _sorted_references(references),
                    tuple(sorted(extra, key=str)),
                )
            )
    model.statements.sort(key=lambda s: (int(s.property[1:]), s.id or ""))
    model.other = [t for t in order if t not in used]
    return model


# --- model -> triples ------------------------------------------------------------------------


def _time_literal(value: Value) -> ox.Literal:
    """The short form the normaliser turns back into this time value."""
    text = value.term.value
    negative = text.startswith("-")
    body = text[1:] if negative else text.removeprefix("+")
    sign = "-" if negative else ""
    date = body.split("T")[0]
    year, month = date.split("-")[0], date.split("-")[1]
    if value.precision == 9:
        return ox.Literal(f"{sign}{year}", datatype=ox.NamedNode(XSD + "gYear"))
    if value.precision == 10:
        return ox.Literal(f"{sign}{year}-{month}", datatype=ox.NamedNode(XSD + "gYearMonth"))
    return ox.Literal(text, datatype=XSD_DATETIME)


def _emit_value(
    ns: Namespaces, add: Any, holder: Node, kind: str, pid: str, value: Value | None
) -> None:
    if value is None:
        if kind == "ps":
            add(holder, RDF_TYPE, ns.predicate("wdno", pid))
        return
    pred = ns.predicate(kind, pid)
    term = value.term
    if value.node is not None:
        add(holder, pred, term)
        node_iri, pairs = value.node
        add(holder, ns.predicate({"ps": "psv", "pq": "pqv", "pr": "prv"}[kind], pid), node_iri)
        for p, o in pairs:
            add(node_iri, p, o)
        return
    if isinstance(term, ox.Literal) and term.datatype == XSD_DATETIME and value.precision:
        if value.precision in (9, 10, 11, 14):
            add(holder, pred, _time_literal(value))
            return
        node = ox.BlankNode()  # other precisions: an explicit value node
        add(holder, pred, term)
        add(holder, ns.predicate({"ps": "psv", "pq": "pqv", "pr": "prv"}[kind], pid), node)
        add(node, RDF_TYPE, ox.NamedNode(WIKIBASE + "TimeValue"))
        add(node, ox.NamedNode(WIKIBASE + "timeValue"), term)
        add(
            node,
            TIME_PRECISION,
            ox.Literal(str(value.precision), datatype=ox.NamedNode(XSD + "integer")),
        )
        add(
            node,
            ox.NamedNode(WIKIBASE + "timeTimezone"),
            ox.Literal("0", datatype=ox.NamedNode(XSD + "integer")),
        )
        add(node, ox.NamedNode(WIKIBASE + "timeCalendarModel"), ox.NamedNode(GREGORIAN))
        return
    if coordinates.is_wkt(term) and value.geo_precision is not None:
        point = coordinates.parse_point(term.value)
        if point is not None:
            # A blank value node: the normaliser names it from its content, so it gets the
            # IRI the short form with the same precision would get.
            add(holder, pred, point.wkt())
            coordinate = ox.BlankNode()
            value_pred = ns.predicate({"ps": "psv", "pq": "pqv", "pr": "prv"}[kind], pid)
            add(holder, value_pred, coordinate)
            for p, o in coordinates.value_node_pairs(point, value.geo_precision):
                add(coordinate, p, o)
            return
    add(holder, pred, term)


def to_triples(ns: Namespaces, model: RecordModel) -> list[Triple]:
    """Full-form triples of the model, ready for the normaliser. Statements without an
    id get a new random one (``wds:<entity>-<uuid>``, as Wikibase does)."""
    assert model.entity is not None
    me = ns.entity(model.entity)
    triples: dict[Triple, None] = {}

    def add(s: Node, p: ox.NamedNode, o: Term) -> None:
        triples[(s, p, o)] = None

    for lang, text in sorted(model.labels.items()):
        add(me, LABEL, ox.Literal(text, language=lang))
    for lang, text in sorted(model.descriptions.items()):
        add(me, DESCRIPTION, ox.Literal(text, language=lang))
    for lang, texts in sorted(model.aliases.items()):
        for text in texts:
            add(me, ALIAS, ox.Literal(text, language=lang))
    for st in model.statements:
        sid = st.id or f"{model.entity}-{uuid.uuid4()}"
        node = ox.NamedNode(ns["wds"] + sid)
        add(me, ns.predicate("p", st.property), node)
        add(node, RDF_TYPE, STATEMENT)
        add(node, RANK, _RANK_IRI[st.rank])
        _emit_value(ns, add, node, "ps", st.property, st.value)
        for q in st.qualifiers:
            _emit_value(ns, add, node, "pq", q.property, q.value)
        for ref in st.references:
            ref_node: Node = ox.NamedNode(ref.iri) if ref.iri else ox.BlankNode()
            add(node, DERIVED_FROM, ref_node)
            add(ref_node, RDF_TYPE, REFERENCE)
            for snak in ref.snaks:
                _emit_value(ns, add, ref_node, "pr", snak.property, snak.value)
        for p, o in st.extra:
            add(node, p, o)
    for t in model.other:
        add(*t)
    return list(triples)


# --- JSON ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    """A problem with one field of a submitted record, in plain language."""

    field: str  # "labels", "statements/2/qualifiers", ...
    message: str
    property: str | None = None
    language: str | None = None
    statement: str | None = None
    severity: str = "Violation"

    def as_dict(self) -> dict[str, str | None]:
        """JSON form (keys with no value left out, but field and message always there)."""
        out: dict[str, str | None] = {"field": self.field, "message": self.message}
        for key in ("property", "language", "statement"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.severity != "Violation":
            out["severity"] = self.severity
        return out


def time_text(value: Value) -> str | dict[str, object]:
    """A time value as the JSON model writes it: "2012", "2012-05", "2012-05-03",
    the full dateTime, or {"time", "precision"} for other precisions."""
    text = value.term.value
    negative = text.startswith("-")
    body = text[1:] if negative else text.removeprefix("+")
    sign = "-" if negative else ""
    date = body.split("T")[0]
    if value.precision == 9:
        return sign + date.split("-")[0]
    if value.precision == 10:
        return sign + "-".join(date.split("-")[:2])
    if value.precision == 11 or (value.precision is None and body.endswith("T00:00:00Z")):
        return sign + date
    if value.precision in (14, None):
        return text
    return {"time": text, "precision": value.precision}


def value_json(value: Value, ptype: str | None) -> object:
    """A value in the JSON model."""
    term = value.term
    if isinstance(term, ox.BlankNode):
        return None
    if isinstance(term, ox.NamedNode):
        eid = _entity_local(term.value)
        if ptype in ("WikibaseItem", "WikibaseProperty") and eid:
            return eid
        return term.value
    if term.datatype == XSD_DATETIME:
        return time_text(value)
    if term.language:
        return {"text": term.value, "language": term.language}
    if coordinates.is_wkt(term):
        return coordinate_json(value)
    return term.value


def coordinate_json(value: Value) -> dict[str, object] | str:
    """A globe coordinate as Wikibase's ``globecoordinate`` datavalue (latitude,
    longitude, altitude null, precision, globe); the literal itself when it is not a
    point."""
    point = coordinates.parse_point(value.term.value)
    if point is None:
        return value.term.value
    return {
        "latitude": float(point.latitude),
        "longitude": float(point.longitude),
        "altitude": None,
        "precision": None if value.geo_precision is None else float(value.geo_precision),
        "globe": point.globe,
    }


def _entity_local(iri: str) -> str | None:
    local = iri.rsplit("/", 1)[-1]
    return local if ENTITY_ID.match(local) and "/entity/" in iri else None


def snak_json(snak: Snak, types: Mapping[str, str]) -> dict[str, object]:
    """A qualifier or reference snak in the JSON model."""
    out: dict[str, object] = {"property": snak.property}
    if snak.value is None:
        out["novalue"] = True
    elif isinstance(snak.value.term, ox.BlankNode):
        out["somevalue"] = True
    else:
        out["value"] = value_json(snak.value, types.get(snak.property))
    return out


def statement_json(st: Statement, types: Mapping[str, str]) -> dict[str, object]:
    """A statement in the JSON model."""
    out: dict[str, object] = {"id": st.id, **snak_json(Snak(st.property, st.value), types)}
    out["rank"] = st.rank
    out["qualifiers"] = [snak_json(q, types) for q in st.qualifiers]
    out["references"] = [[snak_json(s, types) for s in ref.snaks] for ref in st.references]
    return out


def model_json(model: RecordModel, types: Mapping[str, str]) -> dict[str, object]:
    """The whole record in the JSON model."""
    out: dict[str, object] = {
        "id": model.entity,
        "type": model.kind,
        "labels": dict(sorted(model.labels.items())),
        "descriptions": dict(sorted(model.descriptions.items())),
        "aliases": {k: list(v) for k, v in sorted(model.aliases.items())},
        "statements": [statement_json(s, types) for s in model.statements],
    }
    if model.kind == "property":
        ptype = next(
            (o.value.removeprefix(WIKIBASE) for s, p, o in model.other if p == PROPERTY_TYPE),
            None,
        )
        out["datatype"] = ptype
    return out


class JsonReader:
    """Reads the JSON model into a :class:`RecordModel`, collecting every problem."""

    RECORD_KEYS = frozenset(
        {
            "id",
            "type",
            "datatype",
            "labels",
            "descriptions",
            "aliases",
            "statements",
            "base_revision",
            "summary",
        }
    )
    STATEMENT_KEYS = frozenset(
        {"id", "property", "value", "novalue", "somevalue", "rank", "qualifiers", "references"}
    )
    SNAK_KEYS = frozenset({"property", "value", "novalue", "somevalue"})

    def __init__(
        self,
        ns: Namespaces,
        property_types: Mapping[str, str],
        language_ok: Any,
    ) -> None:
        self.ns = ns
        self.types = property_types
        self.language_ok = language_ok
        self.problems: list[FieldProblem] = []
        #: For each statement read, its position in the record's "statements" list (a
        #: statement that could not be read is left out of the model, not of the count).
        self.positions: list[int] = []

    def problem(self, where: str, message: str, **extra: str | None) -> None:
        """Record one problem."""
        self.problems.append(FieldProblem(where, message, **extra))  # type: ignore[arg-type]

    def read(self, data: object, entity: str) -> RecordModel:
        """The model of a JSON record (``entity`` is its id or the placeholder)."""
        model = RecordModel(entity)
        if not isinstance(data, dict):
            self.problem("record", "the record must be a JSON object")
            return model
        for key in sorted(set(data) - self.RECORD_KEYS):
            self.problem(
                key[:60],
                f"unknown field {key[:60]!r}; a record has: {', '.join(sorted(self.RECORD_KEYS))}",
            )
        for name in ("labels", "descriptions"):
            texts = data.get(name, {})
            if not isinstance(texts, dict):
                self.problem(name, f"{name} must be an object of language → text")
                continue
            for lang, text in texts.items():
                if self._language(name, lang) and self._text(f"{name}", text, lang):
                    getattr(model, name)[lang] = text
        aliases = data.get("aliases", {})
        if not isinstance(aliases, dict):
            self.problem("aliases", "aliases must be an object of language → list of texts")
        else:
            for lang, texts in aliases.items():
                if not self._language("aliases", lang):
                    continue
                if not isinstance(texts, list):
                    self.problem(
                        "aliases",
                        "the aliases of a language are a list of texts",
                        language=str(lang),
                    )
                    continue
                kept = [t for t in texts if self._text("aliases", t, lang)]
                if kept:
                    model.aliases[lang] = sorted(dict.fromkeys(kept))
        statements = data.get("statements", [])
        if not isinstance(statements, list):
            self.problem("statements", "statements must be a list")
            statements = []
        for index, item in enumerate(statements):
            st = self._statement(f"statements/{index}", item, entity)
            if st is not None:
                model.statements.append(st)
                self.positions.append(index)
        if model.kind == "property":
            ptype = data.get("datatype")
            if ptype is not None:
                if ptype not in EDITABLE_TYPES:
                    self.problem("datatype", f"datatype must be one of {', '.join(EDITABLE_TYPES)}")
                else:
                    model.other.append(
                        (self.ns.entity(entity), PROPERTY_TYPE, ox.NamedNode(WIKIBASE + ptype))
                    )
        return model

    def _language(self, where: str, lang: object) -> bool:
        if not isinstance(lang, str) or not self.language_ok(lang):
            self.problem(
                where,
                f"{str(lang)[:40]!r} is not a known language code: use a code such as en, fr, "
                "pt-BR (ISO 639 with optional region or script)",
                language=str(lang)[:40],
            )
            return False
        return True

    def _text(self, where: str, text: object, lang: str | None = None) -> bool:
        if not isinstance(text, str):
            self.problem(where, "must be text", language=lang)
            return False
        if not text.strip():
            self.problem(where, "must not be empty; remove the field instead", language=lang)
            return False
        if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
            self.problem(where, "contains control characters", language=lang)
            return False
        return True

    def _property(self, where: str, pid: object) -> str | None:
        if not isinstance(pid, str) or not re.fullmatch(r"P[1-9][0-9]*", pid):
            self.problem(where, f"{str(pid)[:40]!r} is not a property id (P followed by a number)")
            return None
        if pid not in self.types:
            self.problem(where, f"there is no property {pid} in this catalogue", property=pid)
            return None
        return pid

    def _snak(self, where: str, item: object, allowed: frozenset[str]) -> Snak | None:
        if not isinstance(item, dict):
            self.problem(where, "must be an object with a property and a value")
            return None
        for key in sorted(set(item) - allowed):
            self.problem(
                where, f"unknown field {key[:60]!r}; allowed: {', '.join(sorted(allowed))}"
            )
        pid = self._property(where, item.get("property"))
        if pid is None:
            return None
        if item.get("novalue") is True:
            return Snak(pid, None)
        if item.get("somevalue") is True:
            return Snak(pid, Value(ox.BlankNode()))
        if "value" not in item:
            self.problem(where, "has no value: give a value (or novalue: true)", property=pid)
            return None
        value = self.value(f"{where}/value" if "rank" in allowed else where, pid, item["value"])
        return None if value is None else Snak(pid, value)

    def _statement(self, where: str, item: object, entity: str) -> Statement | None:
        snak = self._snak(where, item, self.STATEMENT_KEYS)
        if snak is None:
            return None
        assert isinstance(item, dict)
        sid = item.get("id")
        if sid is not None and (
            not isinstance(sid, str)
            or not re.fullmatch(rf"{re.escape(entity)}-[0-9A-Za-z-]{{1,80}}", sid)
        ):
            self.problem(
                f"{where}/id",
                f"{str(sid)[:80]!r} is not a statement id of {entity}; leave id out for a new "
                "statement",
                property=snak.property,
            )
            return None
        rank = item.get("rank", "normal")
        if rank not in RANKS:
            self.problem(
                f"{where}/rank", f"rank must be one of {', '.join(RANKS)}", property=snak.property
            )
            return None
        qualifiers = item.get("qualifiers", [])
        references = item.get("references", [])
        if not isinstance(qualifiers, list):
            self.problem(f"{where}/qualifiers", "qualifiers must be a list", property=snak.property)
            return None
        if not isinstance(references, list) or not all(isinstance(r, list) for r in references):
            self.problem(
                f"{where}/references",
                "references must be a list of references, each a list of property/value pairs",
                property=snak.property,
            )
            return None
        quals = [
            self._snak(f"{where}/qualifiers/{i}", q, self.SNAK_KEYS)
            for i, q in enumerate(qualifiers)
        ]
        refs = []
        for i, ref in enumerate(references):
            parts = [self._snak(f"{where}/references/{i}", s, self.SNAK_KEYS) for s in ref]
            if not parts:
                self.problem(
                    f"{where}/references/{i}", "a reference needs at least one source value"
                )
            refs.append(Reference(_sorted_snaks(p for p in parts if p is not None)))
        return Statement(
            sid,
            snak.property,
            snak.value,
            rank,
            _sorted_snaks(q for q in quals if q is not None),
            _sorted_references(r for r in refs if r.snaks),
        )

    def value(self, where: str, pid: str, raw: object) -> Value | None:
        """A JSON value read as the property's type requires."""
        ptype = self.types.get(pid, "")
        try:
            return _read_value(self.ns, ptype, raw, self.language_ok)
        except ValueError as exc:
            self.problem(where, f"{pid}: {exc}", property=pid)
            return None


_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_TIME = re.compile(r"^([+-]?)(\d{1,16})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d):(\d\d):(\d\d)Z)?)?)?$")


def parse_time(text: str, precision: int | None = None) -> Value:
    """A time value from "2012", "2012-05", "2012-05-03" or "2012-05-03T10:00:00Z"."""
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(
            f"{text[:40]!r} is not a date: write YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"
        )
    sign, year, month, day, hh, mm, ss = m.groups()
    from loader.records.normalise import check_date  # the loader's own date rule

    check_date(int(year), int(month or 1), int(day or 1))
    if hh is not None and (int(hh) > 23 or int(mm) > 59 or int(ss) > 59):
        raise ValueError(f"{text[:40]!r} has an impossible time of day")
    implied = 14 if hh is not None else 11 if day else 10 if month else 9
    year_text = year.zfill(4)
    clock = f"{hh}:{mm}:{ss}" if hh is not None else "00:00:00"
    literal = ox.Literal(
        f"{'-' if sign == '-' else ''}{year_text}-{month or '01'}-{day or '01'}T{clock}Z",
        datatype=XSD_DATETIME,
    )
    if precision is not None and not 0 <= precision <= 14:
        raise ValueError("a time precision is between 0 and 14 (9 year, 10 month, 11 day)")
    return Value(literal, implied if precision is None else precision)


def _read_value(ns: Namespaces, ptype: str, raw: object, language_ok: Any) -> Value:
    if ptype in ("WikibaseItem", "WikibaseProperty"):
        prefix = "Q" if ptype == "WikibaseItem" else "P"
        if not isinstance(raw, str) or not re.fullmatch(rf"{prefix}[1-9][0-9]{{0,15}}", raw):
            kind = "an item id such as Q42" if prefix == "Q" else "a property id such as P9"
            raise ValueError(f"the value must be {kind}")
        return Value(ns.entity(raw))
    if ptype == "Url":
        if not isinstance(raw, str):
            raise ValueError("the value must be a web address (text)")
        if not re.match(r"^https?://[^/?#\s]+", raw, re.IGNORECASE):
            raise ValueError(
                f"{raw[:80]!r} is not a web address: it must start with http:// or https://"
            )
        try:
            return Value(ox.NamedNode(raw))
        except ValueError as exc:
            raise ValueError(
                f"{raw[:80]!r} is not a valid web address ({exc}); spaces and "
                "some characters must be percent-encoded, e.g. %20"
            ) from None
    if ptype in ("String", "ExternalId"):
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("the value must be non-empty text")
        return Value(ox.Literal(raw))
    if ptype == "Time":
        if isinstance(raw, dict) and set(raw) <= {"time", "precision"} and "time" in raw:
            text, precision = raw["time"], raw.get("precision")
            if not isinstance(text, str) or not isinstance(precision, int | None):
                raise ValueError('a time is {"time": text, "precision": number}')
            if "T" in text:
                value = parse_time(text)
                return Value(value.term, precision if precision is not None else value.precision)
            return parse_time(text, precision)
        if not isinstance(raw, str):
            raise ValueError("the value must be a date such as 2012, 2012-05 or 2012-05-03")
        return parse_time(raw)
    if ptype == "Quantity":
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError("the value must be a number")
        if isinstance(raw, str):
            text = raw.strip()
        else:
            try:
                text = format(Decimal(str(raw)), "f")
            except InvalidOperation:
                text = ""
        if not _DECIMAL.match(text):
            raise ValueError(f"{str(raw)[:40]!r} is not a number such as 3, -2 or 0.5")
        return Value(ox.Literal(text, datatype=XSD_DECIMAL))
    if ptype == "GlobeCoordinate":
        return read_coordinate(raw)
    if ptype == "Monolingualtext":
        if not isinstance(raw, dict) or set(raw) != {"text", "language"}:
            raise ValueError('the value must be {"text": ..., "language": ...}')
        text, lang = raw["text"], raw["language"]
        if not isinstance(text, str) or not text.strip():
            raise ValueError("the text must not be empty")
        if not isinstance(lang, str) or not language_ok(lang):
            raise ValueError(f"{str(lang)[:40]!r} is not a known language code")
        return Value(ox.Literal(text, language=lang))
    raise ValueError(f"values of type {ptype or 'unknown'} cannot be edited here")


_COORDINATE_KEYS = frozenset({"latitude", "longitude", "altitude", "precision", "globe"})
_RANGES = {"latitude": 90, "longitude": 180}


def _number(name: str, raw: object) -> str:
    """A coordinate's number (JSON number or numeric text) in canonical text."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"the {name} must be a number in decimal degrees, e.g. 48.8566")
    if isinstance(raw, str) and not raw.strip():
        raise ValueError(f"give the {name} too, in decimal degrees, e.g. 48.8566")
    try:
        return coordinates.decimal_text(raw)
    except ValueError:
        raise ValueError(
            f"the {name} {str(raw)[:40]!r} is not a number: write decimal degrees with a "
            "point, e.g. 48.8566"
        ) from None


def read_coordinate(raw: object) -> Value:
    """A globe coordinate from Wikibase's ``globecoordinate`` datavalue (latitude and
    longitude required; precision optional, else implied by the decimals written;
    altitude null; globe the Earth) or from a WKT text ``"Point(lon lat)"``."""
    if isinstance(raw, str):
        point = coordinates.parse_point(raw)
        if point is None:
            raise ValueError(
                'a coordinate is {"latitude": …, "longitude": …} or a text "Point(lon lat)"'
            )
        raw = {"latitude": point.latitude, "longitude": point.longitude, "globe": point.globe}
    if not isinstance(raw, dict) or not {"latitude", "longitude"} <= set(raw):
        raise ValueError(
            'a coordinate is {"latitude": …, "longitude": …, "precision": …} in decimal degrees'
        )
    unknown = sorted(str(k)[:40] for k in set(raw) - _COORDINATE_KEYS)
    if unknown:
        raise ValueError(
            f"unknown coordinate field {unknown[0]!r}; a coordinate has: "
            f"{', '.join(sorted(_COORDINATE_KEYS))}"
        )
    numbers = {name: _number(name, raw[name]) for name in ("latitude", "longitude")}
    for name, limit in _RANGES.items():
        if abs(Decimal(numbers[name])) > limit:
            raise ValueError(
                f"the {name} must be between -{limit} and {limit} degrees, not {numbers[name][:40]}"
            )
    if raw.get("altitude") is not None:
        raise ValueError("a coordinate has no altitude: leave it out or null")
    globe = raw.get("globe")
    if globe not in (None, EARTH):
        raise ValueError(f"the globe must be the Earth, {EARTH}")
    precision = raw.get("precision")
    if precision is None:
        # from the decimals as typed (text keeps trailing zeros: "52.5200" → 0.0001)
        written = [
            raw[n] if isinstance(raw[n], str) else numbers[n] for n in ("latitude", "longitude")
        ]
        geo = coordinates.implied_precision(str(written[0]), str(written[1]))
    else:
        geo = _number("precision", precision)
        if not 0 < Decimal(geo) <= 360:
            raise ValueError(
                "the precision must be a positive number of degrees, at most 360, "
                "e.g. 0.0001 (about 11 m)"
            )
    point = coordinates.Point(numbers["latitude"], numbers["longitude"])
    return Value(point.wkt(), None, None, geo)
