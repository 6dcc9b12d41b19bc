"""Native implementations of the SHACL-SPARQL components in ``shapes/wikibase.ttl``.

Each function checks one focus node of a record and yields ``(value, detail)`` per
problem. pySHACL runs the SPARQL definitions; the tests check both agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import pyoxigraph as ox

from loader.namespaces import PROV, RDF, WIKIBASE, XSD
from loader.reader import Term
from loader.shacl import BTS, NativeCheck, RecordGraph

RDF_TYPE = ox.NamedNode(RDF + "type")
RANK = ox.NamedNode(WIKIBASE + "rank")
PREFERRED = ox.NamedNode(WIKIBASE + "PreferredRank")
NORMAL = ox.NamedNode(WIKIBASE + "NormalRank")
DERIVED_FROM = ox.NamedNode(PROV + "wasDerivedFrom")

_NUMERIC = {XSD + t for t in ("decimal", "integer", "double", "float", "int", "long")}
_STRING = XSD + "string"


def _claims(g: RecordGraph, focus: Term) -> dict[str, list[Term]]:
    claims: dict[str, list[Term]] = defaultdict(list)
    for predicate, objects in g.out.get(focus, {}).items():  # type: ignore[call-overload]
        split = g.ctx.ns.split_predicate(predicate.value)
        if split is not None and split[0] == "p":
            claims[split[1]].extend(objects)
    return claims


def truthy_agreement(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """wdt: values are exactly the values of the best-ranked statements."""
    ns = g.ctx.ns
    claims = _claims(g, focus)
    expected: dict[str, set[Term]] = defaultdict(set)
    for pid, nodes in claims.items():
        ranks = {n: set(g.objects(n, RANK)) for n in nodes}
        best = [n for n in nodes if PREFERRED in ranks[n]] or [n for n in nodes if NORMAL in ranks[n]]
        for n in best:
            expected[pid].update(g.objects(n, ns.predicate("ps", pid)))
    actual: dict[str, set[Term]] = defaultdict(set)
    for predicate, objects in g.out.get(focus, {}).items():  # type: ignore[call-overload]
        split = ns.split_predicate(predicate.value)
        if split is not None and split[0] == "wdt":
            actual[split[1]].update(objects)
    for pid in sorted(set(expected) | set(actual)):
        for value in sorted(actual[pid] - expected[pid], key=str):
            yield value, f"wdt:{pid} {value} has no best-ranked {pid} statement with that value"
        for value in sorted(expected[pid] - actual[pid], key=str):
            yield value, f"the best-ranked {pid} statement value {value} has no wdt:{pid} triple"


def _kind_ok(ptype: str, value: Term, ns_wd: str) -> bool:
    if ptype in ("WikibaseItem", "WikibaseProperty"):
        return isinstance(value, ox.NamedNode | ox.BlankNode) and (
            isinstance(value, ox.BlankNode) or value.value.startswith(ns_wd))
    if ptype in ("Url", "CommonsMedia", "GeoShape", "TabularData"):
        return isinstance(value, ox.NamedNode | ox.BlankNode)
    if isinstance(value, ox.BlankNode):
        return True  # "some value"
    if not isinstance(value, ox.Literal):
        return False
    datatype = value.datatype.value
    if ptype in ("String", "ExternalId"):
        return datatype == _STRING and not value.language
    if ptype == "Time":
        return datatype == XSD + "dateTime"
    if ptype == "Quantity":
        return datatype in _NUMERIC
    if ptype == "Monolingualtext":
        return bool(value.language)
    return True  # types Bigtent does not constrain (e.g. globe coordinates)


def value_types_match(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """Values of wdt:/ps:/pq:/pr: predicates on the focus node fit the property's type."""
    ns = g.ctx.ns
    for predicate, objects in g.out.get(focus, {}).items():  # type: ignore[call-overload]
        split = ns.split_predicate(predicate.value)
        if split is None or split[0] not in ("wdt", "ps", "pq", "pr"):
            continue
        ptype = g.ctx.property_types.get(split[1])
        if ptype is None:
            continue  # reported as an undeclared property
        for value in objects:
            if not _kind_ok(ptype, value, ns["wd"]):
                yield value, f"{split[1]} takes {ptype} values"


def declared_properties(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """Every property predicate used on the focus node belongs to a declared property."""
    ns = g.ctx.ns
    for predicate, objects in g.out.get(focus, {}).items():  # type: ignore[call-overload]
        split = ns.split_predicate(predicate.value)
        pid = split[1] if split is not None else None
        if predicate == RDF_TYPE:
            for o in objects:
                nv = ns.split_predicate(o.value) if isinstance(o, ox.NamedNode) else None
                if nv is not None and nv[0] == "wdno" and nv[1] not in g.ctx.property_types:
                    yield o, f"unknown property {nv[1]}"
            continue
        if pid is not None and pid not in g.ctx.property_types:
            yield None, f"unknown property {pid} (used as {split[0]}:{pid})"  # type: ignore[index]


def one_statement_value(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """A statement has exactly one ps: value, or is a novalue statement."""
    ns = g.ctx.ns
    own = set()  # the statement's property, from the entity's p: link to it
    for preds in g.inv.get(focus, {}):
        split = ns.split_predicate(preds.value)
        if split is not None and split[0] == "p":
            own.add(split[1])
    values = 0
    novalue = 0
    for predicate, objects in g.out.get(focus, {}).items():  # type: ignore[call-overload]
        split = ns.split_predicate(predicate.value)
        if split is not None and split[0] == "ps":
            values += len(objects)
        if predicate == RDF_TYPE:
            for o in objects:
                nv = ns.split_predicate(o.value) if isinstance(o, ox.NamedNode) else None
                # `a wdno:P` means "no value" for the main snak only when P is the
                # statement's own property; otherwise it is a novalue qualifier.
                if nv is not None and nv[0] == "wdno" and (not own or nv[1] in own):
                    novalue += 1
    if values + novalue == 0:
        yield None, "the statement has no value"
    elif values + novalue > 1:
        yield None, f"the statement has {values + novalue} values"


def reference_has_value(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """A reference has at least one pr: value."""
    ns = g.ctx.ns
    for predicate in g.out.get(focus, {}):  # type: ignore[call-overload]
        split = ns.split_predicate(predicate.value)
        if split is not None and split[0] == "pr":
            return
    yield None, "the reference has no value"


NATIVES: dict[str, NativeCheck] = {
    BTS + "truthyAgreement": truthy_agreement,
    BTS + "valueTypesMatch": value_types_match,
    BTS + "declaredProperties": declared_properties,
    BTS + "oneStatementValue": one_statement_value,
    BTS + "referenceHasValue": reference_has_value,
}
