"""Structured descriptions of entities for pages: labels, statements, qualifiers, references."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.namespaces import PROV, RDFS, SCHEMA, SKOS, WIKIBASE, XSD
from loader.reader import Term, Triple

if TYPE_CHECKING:
    from loader.catalogue import Catalogue

LABEL, DESCRIPTION, ALIAS = RDFS + "label", SCHEMA + "description", SKOS + "altLabel"
RANK = WIKIBASE + "rank"
DERIVED_FROM = PROV + "wasDerivedFrom"
PRECISION = WIKIBASE + "timePrecision"


@dataclass
class Value:
    """A value as shown: text, optional link, optional language."""

    text: str
    href: str | None = None
    lang: str | None = None
    entity: str | None = None


@dataclass
class Snak:
    """A property with its values (a qualifier or reference part)."""

    property: str
    label: str
    values: list[Value]


@dataclass
class Statement:
    """One statement."""

    id: str
    value: Value | None  # None: no value
    rank: str
    qualifiers: list[Snak] = field(default_factory=list)
    references: list[list[Snak]] = field(default_factory=list)


@dataclass
class Description:
    """Everything a page shows about an entity."""

    id: str
    iri: str
    label: Value
    description: Value | None
    labels: dict[str, str]
    descriptions: dict[str, str]
    aliases: dict[str, list[str]]
    statements: list[tuple[Snak, list[Statement]]]
    version: int | None
    modified: str | None


def pick(values: dict[str, str], languages: list[str]) -> tuple[str, str] | None:
    """(language, text) by preference order, falling back to any language."""
    for lang in languages:
        if lang in values:
            return lang, values[lang]
    for lang in sorted(values):
        return lang, values[lang]
    return None


def _format_time(literal: ox.Literal, precision: int | None) -> str:
    text = literal.value
    if precision == 9:
        return text[: text.index("-", 1)]
    if precision == 10:
        return text[: text.index("-", 1) + 3]
    if precision is not None and precision <= 11:
        return text.split("T")[0]
    return text


def describe(
    cat: Catalogue, entity: str, languages: list[str], triples: list[Triple] | None = None
) -> Description:
    """Describe an entity from its graph (current state unless ``triples`` given)."""
    ns = cat.ns
    triples = cat.entity_triples(entity) if triples is None else triples
    out: dict[Term, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in triples:
        out[s][p.value].append(o)
    me = ns.entity(entity)
    mine = out.get(me, {})

    def texts(pred: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for o in mine.get(pred, []):
            if isinstance(o, ox.Literal):
                found[o.language or ""].append(o.value)
        return found

    labels = {k: v[0] for k, v in texts(LABEL).items()}
    descriptions = {k: v[0] for k, v in texts(DESCRIPTION).items()}
    referenced: set[str] = set()
    for _s, p, o in triples:
        split = ns.split_predicate(p.value)
        if split is not None:
            referenced.add(split[1])
        if isinstance(o, ox.NamedNode) and ns.entity_id(o.value):
            referenced.add(ns.entity_id(o.value))  # type: ignore[arg-type]
    names = cat.labels(sorted(referenced), languages)

    def show(term: Term, value_node: Term | None = None) -> Value:
        if isinstance(term, ox.NamedNode):
            eid = ns.entity_id(term.value)
            if eid is not None:
                return Value(names.get(eid, eid), href=f"/entity/{eid}", entity=eid)
            return Value(term.value, href=term.value)
        if isinstance(term, ox.BlankNode):
            return Value("unknown value")
        if term.datatype.value == XSD + "dateTime":
            precision = None
            if value_node is not None:
                for p in out.get(value_node, {}).get(PRECISION, []):
                    precision = int(p.value)
            return Value(_format_time(term, precision))
        return Value(term.value, lang=term.language)

    def snaks(node: Term, kind: str) -> list[Snak]:
        found: dict[str, list[Value]] = defaultdict(list)
        for pred, objects in out.get(node, {}).items():
            split = ns.split_predicate(pred)
            if split is None or split[0] != kind:
                continue
            value_pred = ns.predicate({"pq": "pqv", "pr": "prv"}[kind], split[1]).value
            value_nodes = out.get(node, {}).get(value_pred, [])
            for o in objects:
                found[split[1]].append(show(o, value_nodes[0] if value_nodes else None))
        return [
            Snak(pid, names.get(pid, pid), vals)
            for pid, vals in sorted(found.items(), key=lambda kv: int(kv[0][1:]))
        ]

    groups: dict[str, list[Statement]] = defaultdict(list)
    for pred, objects in mine.items():
        split = ns.split_predicate(pred)
        if split is None or split[0] != "p":
            continue
        pid = split[1]
        for node in objects:
            props = out.get(node, {})
            values = props.get(ns.predicate("ps", pid).value, [])
            value_nodes = props.get(ns.predicate("psv", pid).value, [])
            rank = props.get(RANK, [ox.NamedNode(WIKIBASE + "NormalRank")])[0]
            statement = Statement(
                id=node.value if isinstance(node, ox.NamedNode) else "",
                value=show(values[0], value_nodes[0] if value_nodes else None) if values else None,
                rank=rank.value.removeprefix(WIKIBASE).removesuffix("Rank").lower(),
                qualifiers=snaks(node, "pq"),
                references=[snaks(ref, "pr") for ref in props.get(DERIVED_FROM, [])],
            )
            groups[pid].append(statement)
    statements = [
        (Snak(pid, names.get(pid, pid), []), sorted(stmts, key=lambda s: s.id))
        for pid, stmts in sorted(groups.items(), key=lambda kv: int(kv[0][1:]))
    ]
    doc = out.get(ns.data_document(entity), {})
    version = doc.get(SCHEMA + "version", [])
    modified = doc.get(SCHEMA + "dateModified", [])
    chosen = pick(labels, languages)
    chosen_desc = pick(descriptions, languages)
    return Description(
        id=entity,
        iri=me.value,
        label=Value(chosen[1], lang=chosen[0]) if chosen else Value(entity),
        description=Value(chosen_desc[1], lang=chosen_desc[0]) if chosen_desc else None,
        labels=labels,
        descriptions=descriptions,
        aliases=dict(texts(ALIAS)),
        statements=statements,
        version=int(version[0].value) if version else None,
        modified=modified[0].value if modified else None,
    )
