"""What validation and normalisation need to know beyond the record itself.

Built from the store and the ontology when a load starts, then extended with what
pass 1 learnt about the entities each input defines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from loader.base import ids
from loader.base.ids import CONTROLLED_VOCABULARY
from loader.base.namespaces import BT, RDF, RDFS, SKOS, WIKIBASE, Namespaces

SKOS_CONCEPT = SKOS + "Concept"
RDF_TYPE = RDF + "type"
#: Properties whose values validation may need for entities outside a record:
#: instance of, subclass of, equivalent class, broader concept.
INDEXED_PROPERTIES = (ids.INSTANCE_OF, ids.SUBCLASS_OF, ids.EQUIVALENT_CLASS, ids.BROADER)


@dataclass
class Context:
    """Property types, the class map, and the types of known entities."""

    ns: Namespaces
    property_types: dict[str, str] = field(default_factory=dict)  # "P4" -> "WikibaseItem"
    equivalent_class: dict[str, str] = field(default_factory=dict)  # item IRI -> OWL class IRI
    item_superclasses: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    owl_superclasses: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    instance_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    entity_types: dict[str, frozenset[str]] = field(default_factory=dict)  # IRI -> rdf:types
    #: Truthy values of selected properties, for paths that leave a record:
    #: ``{wdt predicate IRI: {entity IRI: {value IRI}}}``.
    claims: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    #: Labels of property entities (N-Triples form of the literal -> property IRIs), for
    #: the rule that property labels are unique per language.
    property_labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: Treat every P-id as a declared property (profile "wikibase": a mirror of another
    #: Wikibase whose property definitions may not be loaded).
    any_property: bool = False
    _class_cache: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _super_cache: dict[str, set[str]] = field(default_factory=dict, repr=False)

    # --- building ---------------------------------------------------------------
    def add_claims(self, claims: Mapping[str, Mapping[str, Iterable[str]]]) -> None:
        """Add truthy values per property and entity id: ``{"P1": {"Q5": {iri, ...}}}``."""
        wd = self.ns["wd"]
        for pid, per_entity in claims.items():
            table = self.claims.setdefault(self.ns["wdt"] + pid, {})
            for eid, values in per_entity.items():
                table.setdefault(wd + eid, set()).update(values)
        for eid, values in claims.get(ids.EQUIVALENT_CLASS, {}).items():
            for v in values:
                self.equivalent_class[wd + eid] = v
        for eid, values in claims.get(ids.SUBCLASS_OF, {}).items():
            self.item_superclasses[wd + eid].update(values)
        for eid, values in claims.get(ids.INSTANCE_OF, {}).items():
            self.instance_of[wd + eid].update(values)
        self._class_cache.clear()

    def set_entity_claims(self, eid: str, claims: Mapping[str, Iterable[str]]) -> None:
        """Replace what the context knows about one entity's indexed properties (after an
        edit, a deletion — empty ``claims`` — or a merge)."""
        iri = self.ns["wd"] + eid
        for pid in INDEXED_PROPERTIES:
            table = self.claims.setdefault(self.ns["wdt"] + pid, {})
            values = set(claims.get(pid, ()))
            if values:
                table[iri] = values
            else:
                table.pop(iri, None)
        self.equivalent_class.pop(iri, None)
        for value in sorted(claims.get(ids.EQUIVALENT_CLASS, ())):
            self.equivalent_class[iri] = value
        for index, pid in (
            (self.item_superclasses, ids.SUBCLASS_OF),
            (self.instance_of, ids.INSTANCE_OF),
        ):
            values = set(claims.get(pid, ()))
            if values:
                index[iri] = values
            else:
                index.pop(iri, None)
        self.entity_types.pop(iri, None)
        self._class_cache.clear()
        self._super_cache.clear()

    def add_owl_hierarchy(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Add ``(subclass, superclass)`` pairs of OWL classes."""
        for sub, sup in pairs:
            self.owl_superclasses[sub].add(sup)
        self._class_cache.clear()
        self._super_cache.clear()

    # --- questions --------------------------------------------------------------
    def classes_of_item(self, item: str) -> frozenset[str]:
        """OWL classes (with Bigtent superclasses) that instances of a class item get."""
        cached = self._class_cache.get(item)
        if cached is not None:
            return cached
        found: set[str] = set()
        todo, seen = [item], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            owl = self.equivalent_class.get(current)
            if owl is not None:
                found.add(owl)
            todo.extend(self.item_superclasses.get(current, ()))
        result = frozenset(self._owl_closure(found))
        self._class_cache[item] = result
        return result

    def _owl_closure(self, classes: set[str]) -> set[str]:
        out, todo = set(), list(classes)
        while todo:
            c = todo.pop()
            if c in out:
                continue
            out.add(c)
            todo.extend(s for s in self.owl_superclasses.get(c, ()) if s.startswith(BT))
        return out

    @classmethod
    def from_triples(
        cls, ns: Namespaces, triples: Iterable[tuple[object, object, object]]
    ) -> Context:
        """A context from an RDF graph holding the ontology and referenced entities
        (the loader builds it from the store instead; tests use this)."""
        import pyoxigraph as ox

        ctx = cls(ns)
        claims: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        wdt = {ns["wdt"] + pid: pid for pid in INDEXED_PROPERTIES}
        types: dict[str, set[str]] = defaultdict(set)
        labels: list[tuple[str, str]] = []
        hierarchy = []
        for s, p, o in triples:
            if not isinstance(s, ox.NamedNode) or not isinstance(p, ox.NamedNode):
                continue
            eid = ns.entity_id(s.value)
            if p.value == WIKIBASE + "propertyType" and eid and isinstance(o, ox.NamedNode):
                ctx.property_types[eid] = o.value.removeprefix(WIKIBASE)
            elif p.value in wdt and eid and isinstance(o, ox.NamedNode):
                claims[wdt[p.value]][eid].add(o.value)
            elif p.value == RDF_TYPE and isinstance(o, ox.NamedNode):
                types[s.value].add(o.value)
            elif p.value == RDFS + "subClassOf" and isinstance(o, ox.NamedNode):
                hierarchy.append((s.value, o.value))
            elif p.value == RDFS + "label" and isinstance(o, ox.Literal):
                labels.append((s.value, str(o)))
        ctx.add_claims(claims)
        ctx.add_owl_hierarchy(hierarchy)
        ctx.entity_types.update({k: frozenset(v) for k, v in types.items()})
        for subject, label in labels:
            if WIKIBASE + "Property" in types.get(subject, ()):
                ctx.property_labels[label].add(subject)
        return ctx

    def lookup(self, node: str, predicate: str) -> list[str]:
        """Values of ``predicate`` on an entity outside the record being validated."""
        if predicate == RDF_TYPE:
            return sorted(self.types_of(node))
        table = self.claims.get(predicate)
        return sorted(table.get(node, ())) if table else []

    def declared(self, pid: str) -> bool:
        """True when ``pid`` is a declared property."""
        return self.any_property or pid in self.property_types

    def is_vocabulary(self, item: str) -> bool:
        """True for class items that are controlled vocabularies (concept schemes)."""
        return self.ns["wd"] + CONTROLLED_VOCABULARY in self.instance_of.get(item, ())

    def types_of(self, iri: str) -> frozenset[str]:
        """rdf:types an entity has or will have once loaded (for sh:class checks)."""
        known = self.entity_types.get(iri)
        if known is not None:
            return known
        classes: set[str] = set()
        eid = self.ns.entity_id(iri)
        if eid is not None and eid in self.property_types:
            classes.add(WIKIBASE + "Property")
        for item in self.instance_of.get(iri, ()):
            classes |= self.classes_of_item(item)
            if self.is_vocabulary(item):
                classes.add(SKOS_CONCEPT)
        return frozenset(classes)

    def all_superclasses(self, cls: str) -> set[str]:
        """A class and every superclass of it (any namespace)."""
        cached = self._super_cache.get(cls)
        if cached is not None:
            return cached
        out, todo = set(), [cls]
        while todo:
            c = todo.pop()
            if c in out:
                continue
            out.add(c)
            todo.extend(self.owl_superclasses.get(c, ()))
        self._super_cache[cls] = out
        return out
