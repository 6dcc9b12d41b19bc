"""Native implementations of the SHACL-SPARQL components in ``shapes/wikibase.ttl``.

Each function checks one focus node of a record and yields ``(value, detail)`` per
problem, following the comment above the component in ``shapes/wikibase.ttl``
word for word. pySHACL runs the SPARQL definitions; the tests check both agree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

import pyoxigraph as ox

from loader.base.namespaces import GEO, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, WIKIBASE, XSD
from loader.base.rdf import Term
from loader.records.shacl import BTS, NativeCheck, RecordGraph

RDF_TYPE = ox.NamedNode(RDF + "type")
RANK = ox.NamedNode(WIKIBASE + "rank")
PREFERRED = ox.NamedNode(WIKIBASE + "PreferredRank")
NORMAL = ox.NamedNode(WIKIBASE + "NormalRank")
DEPRECATED = ox.NamedNode(WIKIBASE + "DeprecatedRank")
BEST = ox.NamedNode(WIKIBASE + "BestRank")
STATEMENT = ox.NamedNode(WIKIBASE + "Statement")
REFERENCE = ox.NamedNode(WIKIBASE + "Reference")
DERIVED_FROM = ox.NamedNode(PROV + "wasDerivedFrom")

_ENTITY_TERMS = {
    RDF + "type",
    RDFS + "label",
    SCHEMA + "description",
    SKOS + "altLabel",
    SKOS + "prefLabel",
    SCHEMA + "name",
    SKOS + "inScheme",
    SCHEMA + "version",
    SCHEMA + "dateModified",
    WIKIBASE + "sitelinks",
    WIKIBASE + "statements",
    WIKIBASE + "identifiers",
}
_LINKS = (
    "directClaim",
    "claim",
    "statementProperty",
    "statementValue",
    "qualifier",
    "qualifierValue",
    "reference",
    "referenceValue",
    "novalue",
)
_PROPERTY_TERMS = (
    {WIKIBASE + "propertyType"}
    | {WIKIBASE + link for link in _LINKS}
    | {
        WIKIBASE + n
        for n in (
            "directClaimNormalized",
            "statementValueNormalized",
            "qualifierValueNormalized",
            "referenceValueNormalized",
        )
    }
)
_LINK_KIND = dict(
    zip(
        (WIKIBASE + link for link in _LINKS),
        ("wdt", "p", "ps", "psv", "pq", "pqv", "pr", "prv", "wdno"),
        strict=True,
    )
)
_IRI_TYPES = {"WikibaseItem", "WikibaseProperty", "Url", "CommonsMedia", "GeoShape", "TabularData"}
_ITEM_ID = re.compile(r"^Q[1-9][0-9]*$")
# The same expression as in the SPARQL of bts:ValueTypeConstraintComponent (flag "i"); no
# backslashes, so that it reads the same in Turtle, SPARQL and Python.
_WKT_POINT = re.compile(
    "^ *(<[^<> ]+> *)?POINT *[(] *[+-]?([0-9]{1,3}([.][0-9]*)?|[.][0-9]+)"
    " +[+-]?([0-9]{1,3}([.][0-9]*)?|[.][0-9]+) *[)] *$",
    re.IGNORECASE,
)


def _split(g: RecordGraph, predicate: ox.NamedNode) -> tuple[str, str] | None:
    """(kind, property id) of a declared property's predicate; None otherwise."""
    memo = g.splits
    if predicate in memo:
        return memo[predicate]
    split = g.ctx.ns.split_predicate(predicate.value)
    if split is not None and not g.ctx.declared(split[1]):
        split = None
    memo[predicate] = split
    return split


def _novalue_of(g: RecordGraph, term: Term) -> str | None:
    """The property id of a declared property's novalue class; None otherwise."""
    if not isinstance(term, ox.NamedNode):
        return None
    split = g.ctx.ns.split_predicate(term.value)
    if split is None or split[0] != "wdno" or not g.ctx.declared(split[1]):
        return None
    return split[1]


def _claims(g: RecordGraph, focus: Term) -> dict[str, list[Term]]:
    claims: dict[str, list[Term]] = defaultdict(list)
    for predicate, objects in g.out.get(focus, {}).items():
        split = _split(g, predicate)
        if split is not None and split[0] == "p":
            claims[split[1]].extend(objects)
    return claims


def truthy_agreement(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """Truthy values, "no value" types and BestRank marks agree with the statements."""
    ns = g.ctx.ns
    own = g.out.get(focus, {})
    types = set(own.get(RDF_TYPE, ()))
    claims = _claims(g, focus)
    for pid in sorted(set(claims) | {s[1] for p in own if (s := _split(g, p)) and s[0] == "wdt"}):
        nodes = claims.get(pid, [])
        wdt, ps, wdno = (ns.predicate(k, pid) for k in ("wdt", "ps", "wdno"))
        marked = [n for n in nodes if BEST in g.objects(n, RDF_TYPE)]
        best_values = {v for n in marked for v in g.objects(n, ps)}
        for value in own.get(wdt, ()):  # 1
            if value not in best_values:
                yield value, f"wdt:{pid} {value} has no best-ranked {pid} statement with that value"
        for n in marked:  # 2 and 4
            for value in g.objects(n, ps):
                if value not in own.get(wdt, ()):
                    yield n, f"best-ranked statement value {value} has no wdt:{pid} triple"
            if wdno in g.objects(n, RDF_TYPE) and wdno not in types:
                yield n, f"best-ranked 'no value' statement without `a wdno:{pid}`"
        if wdno in types and not any(wdno in g.objects(n, RDF_TYPE) for n in marked):  # 3
            yield wdno, f"`a wdno:{pid}` has no best-ranked 'no value' statement"
        has_preferred = any(PREFERRED in g.objects(n, RANK) for n in nodes)
        for n in nodes:
            ranks = set(g.objects(n, RANK))
            is_marked = n in marked
            for rank in ranks:
                best = rank == PREFERRED or (rank == NORMAL and not has_preferred)
                if is_marked and (rank == DEPRECATED or (rank == NORMAL and has_preferred)):
                    yield n, "marked wikibase:BestRank but does not have the best rank"  # 5
                if best and not is_marked:
                    yield n, "has the best rank but is not marked wikibase:BestRank"  # 6
    for value in types:  # 3, for properties without any statement
        novalue_pid = _novalue_of(g, value)
        if novalue_pid is not None and novalue_pid not in claims:
            yield value, f"`a wdno:{novalue_pid}` has no best-ranked 'no value' statement"


def _fits(g: RecordGraph, pid: str, value: Term) -> bool:
    ptype = g.ctx.property_types.get(pid)
    if ptype == "WikibaseItem":
        if not isinstance(value, ox.NamedNode):
            return False
        namespace = g.ctx.ns["wd"]
        return value.value.startswith(namespace) and bool(
            _ITEM_ID.match(value.value[len(namespace) :])
        )
    if ptype == "Url":
        return isinstance(value, ox.NamedNode)
    if not isinstance(value, ox.Literal):
        return False
    datatype = value.datatype.value
    if ptype in ("String", "ExternalId"):
        return datatype == XSD + "string" and not value.language
    if ptype == "Time":
        return datatype == XSD + "dateTime"
    if ptype == "Quantity":
        return datatype in (XSD + "decimal", XSD + "integer")
    if ptype == "Monolingualtext":
        return bool(value.language)
    if ptype == "GlobeCoordinate":
        return datatype == GEO + "wktLiteral" and _WKT_POINT.match(value.value) is not None
    return False


def value_types_match(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """Values of wdt:/ps:/pq:/pr: predicates fit their property's wikibase:propertyType."""
    for predicate, objects in g.out.get(focus, {}).items():
        split = _split(g, predicate)
        if split is None or split[0] not in ("wdt", "ps", "pq", "pr"):
            continue
        if split[1] not in g.ctx.property_types:
            continue  # declared only by assumption (wikibase profile): no type to check
        for value in objects:
            if not _fits(g, split[1], value):
                ptype = g.ctx.property_types.get(split[1], "?")
                yield value, f"{split[0]}:{split[1]} takes {ptype} values"


def declared_properties(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """Only the predicates allowed on a statement, reference or entity are used."""
    own = g.out.get(focus, {})
    types = set(own.get(RDF_TYPE, ()))
    for predicate, objects in own.items():
        iri = predicate.value
        split = _split(g, predicate)
        kind = split[0] if split else None
        if STATEMENT in types:
            ok = iri in (RDF + "type", WIKIBASE + "rank", PROV + "wasDerivedFrom") or kind in (
                "ps",
                "psv",
                "pq",
                "pqv",
            )
        elif REFERENCE in types:
            ok = iri == RDF + "type" or kind in ("pr", "prv")
        else:
            ok = (
                iri in _ENTITY_TERMS
                or kind in ("wdt", "p")
                or (iri in _PROPERTY_TERMS and _is_property(g, focus))
            )
        if not ok:
            raw = g.ctx.ns.split_predicate(iri)
            detail = (
                f"unknown property {raw[1]} ({raw[0]}:{raw[1]})"
                if raw and not split
                else f"{iri} is not allowed here"
            )
            for value in objects:
                yield value, detail


def _is_property(g: RecordGraph, focus: Term) -> bool:
    return isinstance(focus, ox.NamedNode) and (g.ctx.ns.entity_id(focus.value) or "").startswith(
        "P"
    )


def one_statement_value(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """A statement hangs off one entity by one claim predicate of a declared property P
    and has exactly one main value of P (or P's "no value" type), at most one value node,
    and no main value or value node of another property."""
    owners = [
        (s, p)
        for p, subjects in g.inv.get(focus, {}).items()
        for s in subjects
        if (split := _split(g, p)) is not None and split[0] == "p"
    ]
    if len(owners) != 1:
        yield (
            focus,
            (
                f"the statement hangs off {len(owners)} claims; it must belong to exactly "
                "one entity through one p: predicate"
            ),
        )
        if not owners:
            return
    pid = g.ctx.ns.split_predicate(owners[0][1].value)[1]  # type: ignore[index]
    main = novalue = value_nodes = 0
    for predicate, objects in g.out.get(focus, {}).items():
        split = g.ctx.ns.split_predicate(predicate.value)
        if split is not None and split[0] in ("ps", "psv"):
            if split[1] != pid:
                for value in objects:
                    yield value, f"a {split[0]}:{split[1]} value on a {pid} statement"
            elif split[0] == "ps":
                main += len(objects)
            else:
                value_nodes += len(objects)
        if predicate == RDF_TYPE:
            for value in objects:
                other = _novalue_of(g, value)
                if other == pid:
                    novalue += 1
    if main + novalue == 0:
        yield focus, f"the {pid} statement has no value"
    elif main + novalue > 1:
        yield focus, f"the {pid} statement has {main + novalue} values; it takes exactly one"
    if value_nodes > 1:
        yield focus, f"the {pid} statement has {value_nodes} value nodes"


def reference_has_value(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """A reference has at least one pr: value or "no value" type of a declared property."""
    for predicate, objects in g.out.get(focus, {}).items():
        split = _split(g, predicate)
        if split is not None and split[0] == "pr":
            return
        if predicate == RDF_TYPE and any(_novalue_of(g, o) for o in objects):
            return
    yield focus, "the reference has no value"


def predicate_links_match(g: RecordGraph, focus: Term) -> Iterator[tuple[Term | None, str]]:
    """A property's links point at its own predicates, typed as Wikibase types them."""
    if not isinstance(focus, ox.NamedNode):
        return
    ns = g.ctx.ns
    pid = ns.entity_id(focus.value) or ""
    own = g.out.get(focus, {})
    types = own.get(ox.NamedNode(WIKIBASE + "propertyType"), [])
    ptype = types[0].value.removeprefix(WIKIBASE) if types else ""
    for predicate, objects in own.items():
        kind = _LINK_KIND.get(predicate.value)
        if kind is None:
            continue
        for value in objects:
            if pid is None or value != ns.predicate(kind, pid):
                yield value, f"{predicate.value} must point at {kind}:{pid}"
            if kind == "wdno":
                continue
            objectish = kind in ("p", "psv", "pqv", "prv") or ptype in _IRI_TYPES
            expected = ox.NamedNode(OWL + ("ObjectProperty" if objectish else "DatatypeProperty"))
            if expected not in g.objects(value, RDF_TYPE):
                yield value, f"{value} must be typed {expected.value}"
    direct = own.get(ox.NamedNode(WIKIBASE + "directClaim"), [])
    for novalue in own.get(ox.NamedNode(WIKIBASE + "novalue"), []):
        ok = ox.NamedNode(OWL + "Class") in g.objects(novalue, RDF_TYPE) and any(
            ox.NamedNode(OWL + "Restriction") in g.objects(r, RDF_TYPE)
            and any(d in g.objects(r, ox.NamedNode(OWL + "onProperty")) for d in direct)
            and ox.NamedNode(OWL + "Thing") in g.objects(r, ox.NamedNode(OWL + "someValuesFrom"))
            for r in g.objects(novalue, ox.NamedNode(OWL + "complementOf"))
        )
        if not ok:
            yield novalue, "the 'no value' class must complement a restriction on its wdt:"


NATIVES: dict[str, NativeCheck] = {
    BTS + "truthyAgreement": truthy_agreement,
    BTS + "valueTypesMatch": value_types_match,
    BTS + "declaredProperties": declared_properties,
    BTS + "oneStatementValue": one_statement_value,
    BTS + "referenceHasValue": reference_has_value,
    BTS + "predicateLinksMatch": predicate_links_match,
}
