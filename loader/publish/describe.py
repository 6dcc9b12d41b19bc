"""What an entity page shows: labels, statements, qualifiers, references, in the
reader's languages.

:func:`describe` is pure: it turns an entity's triples into a :class:`Description`
given the labels of the entities and properties it mentions (one batched lookup, see
:func:`referenced_ids`) and how each property's values are shown. The page builds
it from the newest revision's snapshot in the revision log, so a page costs one log
read, one N-Triples parse and one label query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import pyoxigraph as ox

from loader.base import ids
from loader.base.languages import pick
from loader.base.namespaces import PROV, RDF, RDFS, SCHEMA, SKOS, WIKIBASE, XSD, Namespaces
from loader.base.rdf import Term, Triple
from loader.records import coordinates
from loader.storage.page_index import PropertyInfo

LABEL, DESCRIPTION, ALIAS = RDFS + "label", SCHEMA + "description", SKOS + "altLabel"
RANK = WIKIBASE + "rank"
RDF_TYPE = RDF + "type"
DERIVED_FROM = PROV + "wasDerivedFrom"
PRECISION = WIKIBASE + "timePrecision"
QUANTITY_UNIT = WIKIBASE + "quantityUnit"
QUANTITY_AMOUNT = WIKIBASE + "quantityAmount"
#: Wikibase's unit "1" (no unit)
UNIT_ONE = "http://www.wikidata.org/entity/Q199"
RANKS = {"preferred": 0, "normal": 1, "deprecated": 2}
#: Properties shown first, in this order; the rest follow by number.
LEADING_PROPERTIES = (ids.INSTANCE_OF, ids.SUBCLASS_OF, ids.BROADER, ids.PART_OF, ids.MEMBER_OF)
#: Properties whose values are identifiers of this entity elsewhere (shown apart).
IDENTIFIER_TYPES = frozenset({"ExternalId"})
LinkMaker = Callable[[str], str]

__all__ = ["Description", "Snak", "Statement", "Value", "describe", "pick", "referenced_ids"]


@dataclass
class Value:
    """A value as shown: text, what it is, an optional link and language."""

    text: str
    # entity, url, external, time, quantity, coordinate, text, string, novalue, somevalue
    kind: str = "string"
    href: str | None = None
    lang: str | None = None
    foreign: bool = False  # in another language than the reader's: show a badge
    entity: str | None = None
    datetime: str | None = None  # machine-readable date for <time>
    unit: Value | None = None
    #: a globe coordinate's (latitude, longitude) in decimal degrees, canonical text
    coordinate: tuple[str, str] | None = None


@dataclass
class Snak:
    """A property with its values (a statement group head, qualifier or reference part)."""

    property: str
    label: Value
    values: list[Value] = field(default_factory=list)


@dataclass
class Statement:
    """One statement."""

    id: str  # local name of the statement IRI: its anchor on the page
    value: Value
    rank: str  # preferred | normal | deprecated
    qualifiers: list[Snak] = field(default_factory=list)
    references: list[list[Snak]] = field(default_factory=list)


@dataclass
class PropertyGroup:
    """All statements of one property."""

    property: str
    label: Value
    type: str
    statements: list[Statement]


@dataclass
class Terms:
    """Label, description and aliases in one language."""

    lang: str
    label: str
    description: str
    aliases: list[str]


@dataclass
class Description:
    """Everything a page shows about an entity."""

    id: str
    iri: str
    label: Value
    description: Value | None
    aliases: list[Value]
    terms: list[Terms]
    statements: list[PropertyGroup]
    identifiers: list[PropertyGroup]
    classes: list[Value]
    types: list[str]  # rdf:type IRIs (materialised OWL classes)
    property_type: str | None
    revision: int | None
    modified: str | None

    def values_of(self, prop: str) -> list[Value]:
        """Every statement value of one property, best rank first."""
        for group in (*self.statements, *self.identifiers):
            if group.property == prop:
                return [s.value for s in group.statements if s.rank != "deprecated"]
        return []


def primary(lang: str | None) -> str:
    """``pt`` for ``pt-br``."""
    return (lang or "").split("-")[0]


def referenced_ids(ns: Namespaces, triples: Iterable[Triple]) -> set[str]:
    """Ids of the properties and entities the triples mention (to look up their labels)."""
    found: set[str] = set()
    for _s, p, o in triples:
        split = ns.split_predicate(p.value)
        if split is not None:
            found.add(split[1])
        if isinstance(o, ox.NamedNode):
            eid = ns.entity_id(o.value)
            if eid is not None:
                found.add(eid)
    return found


def _format_time(text: str, precision: int | None) -> tuple[str, str]:
    """(shown, machine-readable) text of an xsd:dateTime at its precision."""
    negative = text.startswith("-")
    body = text[1:] if negative else text
    date = body.split("T")[0]
    year, _, rest = date.partition("-")
    year = year.lstrip("0") or "0"
    if negative:
        year = "-" + year
    month, _, day = rest.partition("-")
    if precision is not None and precision <= 9:
        shown = year
    elif precision == 10:
        shown = f"{year}-{month}"
    elif precision is None or precision == 11:
        shown = f"{year}-{month}-{day}"
    else:
        return text, text
    machine = shown if not negative and len(year) == 4 else ""
    return shown, machine


def _format_amount(text: str) -> str:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return text
    return format(amount.normalize(), "f") if amount == amount.to_integral() else str(amount)


def _is_web_link(iri: str) -> bool:
    return iri.startswith(("https://", "http://"))


def describe(
    ns: Namespaces,
    entity: str,
    triples: Sequence[Triple],
    languages: Sequence[str],
    names: Mapping[str, tuple[str, str]],
    properties: Mapping[str, PropertyInfo],
    revision: int | None = None,
    modified: str | None = None,
) -> Description:
    """Describe an entity from its triples.

    ``names`` maps entity and property ids to their (language, label) in the reader's
    languages; ``properties`` says each property's type and formatter URL."""
    reader = primary(languages[0]) if languages else ""
    out: dict[Term, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in triples:
        out[s][p.value].append(o)
    me = ns.entity(entity)
    mine = out.get(me, {})
    genid = ns.base + ".well-known/genid/"

    def texts(pred: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for o in mine.get(pred, []):
            if isinstance(o, ox.Literal):
                found[(o.language or "").lower()].append(o.value)
        return found

    def shown(lang: str | None, text: str, kind: str = "text") -> Value:
        return Value(text, kind=kind, lang=lang, foreign=bool(lang) and primary(lang) != reader)

    def name_of(eid: str) -> Value:
        found = names.get(eid)
        if found is None:
            return Value(eid, kind="entity", entity=eid)
        value = shown(found[0], found[1], "entity")
        value.entity = eid
        return value

    def value_node_props(node: Term | None) -> dict[str, list[Term]]:
        return out.get(node, {}) if node is not None else {}

    def show(pid: str, term: Term, value_node: Term | None) -> Value:
        if isinstance(term, ox.BlankNode) or (
            isinstance(term, ox.NamedNode) and term.value.startswith(genid)
        ):
            return Value("unknown value", kind="somevalue")
        if isinstance(term, ox.NamedNode):
            eid = ns.entity_id(term.value)
            if eid is not None:
                return name_of(eid)
            href = term.value if _is_web_link(term.value) else None
            return Value(term.value, kind="url", href=href)
        datatype = term.datatype.value
        if datatype == XSD + "dateTime":
            precision = None
            for p in value_node_props(value_node).get(PRECISION, []):
                precision = int(p.value)
            text, machine = _format_time(term.value, precision)
            return Value(text, kind="time", datetime=machine or None)
        if datatype == XSD + "decimal":
            node = value_node_props(value_node)
            unit = None
            for u in node.get(QUANTITY_UNIT, []):
                unit_id = ns.entity_id(u.value) if isinstance(u, ox.NamedNode) else None
                if unit_id is not None:
                    unit = name_of(unit_id)
                elif u.value != UNIT_ONE:
                    unit = Value(
                        u.value, kind="url", href=u.value if _is_web_link(u.value) else None
                    )
            return Value(_format_amount(term.value), kind="quantity", unit=unit)
        if datatype == coordinates.WKT_LITERAL.value:
            return coordinate_value(term, value_node_props(value_node))
        if term.language:
            return shown(term.language.lower(), term.value)
        info = properties.get(pid)
        if info is not None and info.type in IDENTIFIER_TYPES:
            href = None
            if info.formatter and "$1" in info.formatter:
                candidate = info.formatter.replace("$1", quote(term.value, safe=""))
                href = candidate if _is_web_link(candidate) else None
            return Value(term.value, kind="external", href=href)
        return Value(term.value, kind="string")

    def snaks(node: Term, kind: str) -> list[Snak]:
        found: dict[str, list[Value]] = defaultdict(list)
        props = out.get(node, {})
        value_kind = {"pq": "pqv", "pr": "prv"}[kind]
        for pred, objects in props.items():
            split = ns.split_predicate(pred)
            if split is None or split[0] != kind:
                continue
            pid = split[1]
            nodes = props.get(ns.predicate(value_kind, pid).value, [])
            for o in objects:
                found[pid].append(show(pid, o, _value_node(out, nodes, o)))
        return [
            Snak(pid, name_of(pid), sorted(vals, key=lambda v: v.text.casefold()))
            for pid, vals in sorted(found.items(), key=lambda kv: _property_order(kv[0]))
        ]

    groups: dict[str, list[Statement]] = defaultdict(list)
    for pred, objects in mine.items():
        split = ns.split_predicate(pred)
        if split is None or split[0] != "p":
            continue
        pid = split[1]
        novalue = ns.predicate("wdno", pid).value
        for node in objects:
            props = out.get(node, {})
            values = props.get(ns.predicate("ps", pid).value, [])
            value_nodes = props.get(ns.predicate("psv", pid).value, [])
            if values:
                value = show(pid, values[0], _value_node(out, value_nodes, values[0]))
            elif any(t.value == novalue for t in props.get(RDF_TYPE, [])):
                value = Value("no value", kind="novalue")
            else:
                value = Value("unknown value", kind="somevalue")
            rank_iri = props.get(RANK, [ox.NamedNode(WIKIBASE + "NormalRank")])[0].value
            groups[pid].append(
                Statement(
                    id=node.value.removeprefix(ns["wds"]) if isinstance(node, ox.NamedNode) else "",
                    value=value,
                    rank=rank_iri.removeprefix(WIKIBASE).removesuffix("Rank").lower(),
                    qualifiers=snaks(node, "pq"),
                    references=sorted(
                        (snaks(ref, "pr") for ref in props.get(DERIVED_FROM, [])),
                        key=lambda ref: [(s.property, [v.text for v in s.values]) for s in ref],
                    ),
                )
            )
    statements: list[PropertyGroup] = []
    identifiers: list[PropertyGroup] = []
    for pid in sorted(groups, key=_property_order):
        info = properties.get(pid)
        type_ = info.type if info else ""
        group = PropertyGroup(
            pid,
            name_of(pid),
            type_,
            sorted(
                groups[pid],
                key=lambda s: (RANKS.get(s.rank, 1), s.value.text.casefold(), s.id),
            ),
        )
        (identifiers if type_ in IDENTIFIER_TYPES else statements).append(group)

    labels = {k: v[0] for k, v in texts(LABEL).items()}
    descriptions = {k: v[0] for k, v in texts(DESCRIPTION).items()}
    aliases = {k: sorted(v, key=str.casefold) for k, v in texts(ALIAS).items()}
    label = pick(labels, languages)
    description = pick(descriptions, languages)
    alias_lang = next((lang for lang in languages if lang in aliases), None)
    terms = [
        Terms(lang, labels.get(lang, ""), descriptions.get(lang, ""), aliases.get(lang, []))
        for lang in sorted(
            set(labels) | set(descriptions) | set(aliases),
            key=lambda lang: (languages.index(lang) if lang in languages else len(languages), lang),
        )
    ]
    property_type = next(
        (o.value.removeprefix(WIKIBASE) for o in mine.get(WIKIBASE + "propertyType", [])), None
    )
    return Description(
        id=entity,
        iri=me.value,
        label=shown(*label) if label else Value(entity),
        description=shown(*description) if description else None,
        aliases=[shown(alias_lang, a) for a in aliases.get(alias_lang, [])] if alias_lang else [],
        terms=terms,
        statements=statements,
        identifiers=identifiers,
        classes=[
            s.value for g in statements if g.property == ids.INSTANCE_OF for s in g.statements
        ],
        types=sorted(o.value for o in mine.get(RDF_TYPE, []) if isinstance(o, ox.NamedNode)),
        property_type=property_type,
        revision=revision,
        modified=modified,
    )


def coordinate_value(term: ox.Literal, node: Mapping[str, list[Term]]) -> Value:
    """A globe coordinate as shown: degrees, minutes and seconds as far as its precision
    goes (``48°51′24″N 2°21′8″E``), with the decimal degrees for machines."""
    point = coordinates.parse_point(term.value)
    if point is None:
        return Value(term.value, kind="string")
    precision = next((p.value for p in node.get(coordinates.PRECISION.value, [])), None)
    try:
        text = coordinates.dms_text(point.latitude, point.longitude, precision)
    except (ValueError, ArithmeticError):
        text = coordinates.dms_text(point.latitude, point.longitude, None)
    return Value(text, kind="coordinate", coordinate=(point.latitude, point.longitude))


def _value_node(
    out: Mapping[Term, Mapping[str, list[Term]]], nodes: list[Term], value: Term
) -> Term | None:
    """The value node (time precision, quantity unit) that belongs to ``value``."""
    if len(nodes) == 1:
        return nodes[0]
    for node in nodes:
        props = out.get(node, {})
        for pred in (WIKIBASE + "timeValue", QUANTITY_AMOUNT):
            if value in props.get(pred, []):
                return node
    return nodes[0] if nodes else None


def _property_order(pid: str) -> tuple[int, int]:
    if pid in LEADING_PROPERTIES:
        return (0, LEADING_PROPERTIES.index(pid))
    return (1, int(pid[1:]))
