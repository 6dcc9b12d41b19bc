"""What the edit forms offer for each record type, derived from the shapes and the ontology.

A record type is a class item (an item with an equivalent class, P3). Its fields are the
properties its shapes (and those of its superclasses) talk about, in shape order, after
instance of (P1); every other property a record may carry (all declared properties, or
the listed ones for a closed shape such as the person shape) can be added. Each field
knows its datatype, its cardinality, the qualifiers its shape asks for, and, when a
shape restricts its values to the instances of a vocabulary (``sh:class`` of a concept
scheme), the controlled values to choose from.

Two layers: what the shape files say (:func:`shape_facts`, parsed once per shape files
digest), and names and vocabularies read from the catalogue (:class:`FormModels`, kept
per interface language until a property, class or concept changes).
"""

from __future__ import annotations

import builtins
import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base import ids
from loader.base.collation import sorted_by_label
from loader.base.ids import INSTANCE_OF
from loader.base.languages import pick
from loader.base.namespaces import RDF, RDFS, SCHEMA, SH, WIKIBASE, Namespaces
from loader.records.profiles import shape_files
from loader.records.record_model import EDITABLE_TYPES

if TYPE_CHECKING:
    from loader.storage.repository import Repository

#: The class of controlled vocabularies (its instances are concept schemes).
VOCABULARY_CLASS = ids.CONTROLLED_VOCABULARY
#: Most values offered in a <select>; larger vocabularies use the type-ahead.
MAX_OPTIONS = 400
_FIRST = ox.NamedNode(RDF + "first")
_REST = ox.NamedNode(RDF + "rest")
_NIL = ox.NamedNode(RDF + "nil")


def _sh(local: str) -> ox.NamedNode:
    return ox.NamedNode(SH + local)


# --- what the shapes say ----------------------------------------------------------------------


@dataclass
class ShapeField:
    """What the shapes say about one property for one target class."""

    property: str
    min_count: int = 0
    max_count: int | None = None
    recommended: bool = False  # a minimum with severity Warning
    qualifiers: list[str] = field(default_factory=list)
    value_class: str | None = None  # IRI of the class values must have


@dataclass
class ShapeFacts:
    """Fields per target class (IRI), closed property lists, value classes per property."""

    fields: dict[str, list[ShapeField]] = field(default_factory=dict)
    closed: dict[str, frozenset[str]] = field(default_factory=dict)
    value_class: dict[str, str] = field(default_factory=dict)


def _list(store: ox.Store, node: ox.NamedNode | ox.BlankNode) -> list[ox.NamedNode]:
    items: list[ox.NamedNode] = []
    seen = 0
    while node != _NIL and seen < 500:
        first = next(iter(store.quads_for_pattern(node, _FIRST, None)), None)
        rest = next(iter(store.quads_for_pattern(node, _REST, None)), None)
        if first is None or rest is None:
            break
        if isinstance(first.object, ox.NamedNode):
            items.append(first.object)
        node = rest.object  # type: ignore[assignment]
        seen += 1
    return items


def _one(store: ox.Store, subject: ox.NamedNode | ox.BlankNode, local: str) -> object | None:
    quad = next(iter(store.quads_for_pattern(subject, _sh(local), None)), None)
    return None if quad is None else quad.object


def _int(term: object) -> int | None:
    if isinstance(term, ox.Literal) and term.value.isdigit():
        return int(term.value)
    return None


def _nodes(store: ox.Store, node: ox.NamedNode | ox.BlankNode) -> list[ox.NamedNode | ox.BlankNode]:
    """The members of an RDF list that are nodes (``sh:or`` lists of shapes)."""
    items: list[ox.NamedNode | ox.BlankNode] = []
    current: object = node
    for _ in range(500):
        if current == _NIL or not isinstance(current, ox.NamedNode | ox.BlankNode):
            break
        first = next(iter(store.quads_for_pattern(current, _FIRST, None)), None)
        rest = next(iter(store.quads_for_pattern(current, _REST, None)), None)
        if first is None or rest is None:
            break
        if isinstance(first.object, ox.NamedNode | ox.BlankNode):
            items.append(first.object)
        current = rest.object
    return items


def _path_properties(
    ns: Namespaces, store: ox.Store, path: object, kinds: tuple[str, ...]
) -> list[str]:
    """Property ids a path names (a predicate, or an alternative path of predicates)."""
    if isinstance(path, ox.NamedNode):
        predicates = [path]
    elif isinstance(path, ox.BlankNode):
        alternative = _one(store, path, "alternativePath")
        if not isinstance(alternative, ox.NamedNode | ox.BlankNode):
            return []
        predicates = _list(store, alternative)
    else:
        return []
    found = []
    for predicate in predicates:
        split = ns.split_predicate(predicate.value)
        if split is not None and split[0] in kinds and split[1] not in found:
            found.append(split[1])
    return found


@lru_cache(maxsize=8)
def _shape_facts(base: str, profile: str, digest: str) -> ShapeFacts:
    del digest  # part of the cache key only
    ns = Namespaces(base)
    store = ox.Store()
    for path in shape_files(profile):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base)
    facts = ShapeFacts()
    for quad in store.quads_for_pattern(None, _sh("targetClass"), None):
        shape, target = quad.subject, quad.object
        if not isinstance(target, ox.NamedNode) or not isinstance(
            shape, ox.NamedNode | ox.BlankNode
        ):
            continue
        entries = facts.fields.setdefault(target.value, [])
        by_property = {f.property: f for f in entries}
        for prop_quad in store.quads_for_pattern(shape, _sh("property"), None):
            node = prop_quad.object
            if not isinstance(node, ox.NamedNode | ox.BlankNode):
                continue
            for pid in _path_properties(ns, store, _one(store, node, "path"), ("wdt", "p")):
                entry = by_property.get(pid)
                if entry is None:
                    entry = by_property[pid] = ShapeField(pid)
                    entries.append(entry)
                warning = _one(store, node, "severity") == _sh("Warning")
                minimum = _int(_one(store, node, "minCount")) or _int(
                    _one(store, node, "qualifiedMinCount")
                )
                if minimum:
                    if warning:
                        entry.recommended = True
                    else:
                        entry.min_count = max(entry.min_count, minimum)
                maximum = _int(_one(store, node, "maxCount"))
                if maximum is not None:
                    entry.max_count = min(entry.max_count or maximum, maximum)
                value_class = _one(store, node, "class")
                if isinstance(value_class, ox.NamedNode):
                    entry.value_class = value_class.value
                for nested_key in ("node", "qualifiedValueShape"):
                    nested = _one(store, node, nested_key)
                    if not isinstance(nested, ox.NamedNode | ox.BlankNode):
                        continue
                    for inner in store.quads_for_pattern(nested, _sh("property"), None):
                        if isinstance(inner.object, ox.NamedNode | ox.BlankNode):
                            for qualifier in _path_properties(
                                ns, store, _one(store, inner.object, "path"), ("pq",)
                            ):
                                if qualifier not in entry.qualifiers:
                                    entry.qualifiers.append(qualifier)
        if _one(store, shape, "closed") == ox.Literal(
            "true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
        ):
            ignored = _one(store, shape, "ignoredProperties")
            allowed: set[str] = set()
            if isinstance(ignored, ox.NamedNode | ox.BlankNode):
                for predicate in _list(store, ignored):
                    split = ns.split_predicate(predicate.value)
                    if split is not None and split[0] in ("wdt", "p"):
                        allowed.add(split[1])
            facts.closed[target.value] = frozenset(allowed)
    # Value classes given anywhere (e.g. the controlled-value shape, by alternative paths)
    for quad in store.quads_for_pattern(None, _sh("class"), None):
        node = quad.subject
        if not isinstance(quad.object, ox.NamedNode) or not isinstance(
            node, ox.NamedNode | ox.BlankNode
        ):
            continue
        for pid in _path_properties(ns, store, _one(store, node, "path"), ("wdt", "pq", "pr")):
            facts.value_class.setdefault(pid, quad.object.value)
    # ... or as a choice of classes (sh:or of sh:class): values of any of them, e.g. the
    # parties of a partnership are organisations, networks or people (space-separated)
    for quad in store.quads_for_pattern(None, _sh("or"), None):
        node = quad.subject
        if not isinstance(node, ox.NamedNode | ox.BlankNode) or not isinstance(
            quad.object, ox.NamedNode | ox.BlankNode
        ):
            continue
        members = _nodes(store, quad.object)
        classes = [_one(store, m, "class") for m in members]
        if not members or not all(isinstance(c, ox.NamedNode) for c in classes):
            continue
        choice = " ".join(c.value for c in classes if isinstance(c, ox.NamedNode))
        for pid in _path_properties(ns, store, _one(store, node, "path"), ("wdt", "pq", "pr")):
            facts.value_class.setdefault(pid, choice)
    return facts


def shapes_digest(profile: str) -> str:
    """A digest of the shape files of a profile (names, sizes and modification times: a
    changed file changes it without reading every file on each call)."""
    digest = hashlib.sha256()
    for path in shape_files(profile):
        stat = Path(path).stat()
        digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def shape_facts(base: str, profile: str) -> ShapeFacts:
    """What the shape files of ``profile`` say about fields (cached per shapes version)."""
    return _shape_facts(base, profile, shapes_digest(profile))


# --- with names from the catalogue -----------------------------------------------------------


@dataclass(frozen=True)
class PropertyInfo:
    """A property as a form shows it."""

    id: str
    label: str
    description: str
    datatype: str  # wikibase:propertyType local name, e.g. "WikibaseItem"

    @property
    def editable(self) -> bool:
        """True when the forms can edit values of this type."""
        return self.datatype in EDITABLE_TYPES


@dataclass(frozen=True)
class Field:
    """One field of a record type's form."""

    property: PropertyInfo
    min_count: int = 0
    max_count: int | None = None
    recommended: bool = False
    qualifiers: tuple[str, ...] = ()
    value_class: str | None = None  # class item id(s), comma-separated (type-ahead filter)
    vocabulary: str | None = None  # class item id of the concept scheme of controlled values
    primary: bool = True  # shown on every form of the type (else: added on demand)

    @builtins.property
    def id(self) -> str:
        """The property id."""
        return self.property.id


@dataclass(frozen=True)
class RecordType:
    """A class of records and the fields of its form."""

    id: str  # the class item, e.g. "Q4"
    label: str
    description: str
    fields: tuple[Field, ...]
    closed: bool = False

    def field(self, pid: str) -> Field | None:
        """The field of a property, if records of this type may carry it."""
        return next((f for f in self.fields if f.id == pid), None)

    @property
    def primary(self) -> list[Field]:
        """Fields shown on every form."""
        return [f for f in self.fields if f.primary]


@dataclass
class _Names:
    """Catalogue facts a form model needs (language independent)."""

    types: dict[str, str] = field(default_factory=dict)  # property -> datatype
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # entity -> lang -> text
    descriptions: dict[str, dict[str, str]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)  # class item -> equivalent class IRI
    superclasses: dict[str, list[str]] = field(default_factory=dict)
    vocabularies: set[str] = field(default_factory=set)
    options: dict[str, list[str]] = field(default_factory=dict)  # vocabulary -> concepts


class FormModels:
    """Form models of one catalogue, per interface language (``Catalogue.form_models``)."""

    def __init__(self, cat: Repository) -> None:
        self.cat = cat
        self.ns = cat.ns
        self.lock = threading.Lock()
        self._names: _Names | None = None
        self._at = -1
        self._types: dict[tuple[str, ...], dict[str, RecordType]] = {}
        self._options: dict[tuple[str, ...], list[tuple[str, str]]] = {}

    # --- catalogue facts, kept while no property, class or concept changes ---------------
    def _current(self) -> _Names:
        with self.lock:
            last = self.cat.revisions.last_id()
            if self._names is not None and last != self._at and not self._touched(self._at):
                self._at = last
            if self._names is None or last != self._at:
                self._names = self._read()
                self._types.clear()
                self._options.clear()
                self._at = last
            return self._names

    def _touched(self, since: int) -> bool:
        """True when a change since ``since`` may concern the form models."""
        names = self._names
        assert names is not None
        changed = self.cat.revisions.changed_since(since)
        if len(changed) > 200:
            return True
        known = set(names.classes) | {c for cs in names.options.values() for c in cs}
        p1 = self.ns.predicate("wdt", INSTANCE_OF)
        p3 = self.ns.predicate("wdt", ids.EQUIVALENT_CLASS)
        for state in changed:
            if state.entity.startswith("P") or state.entity in known:
                return True
            me = self.ns.entity(state.entity)
            if self.cat.store.objects(me, p3):
                return True
            for value in self.cat.store.objects(me, p1):
                eid = self.ns.entity_id(value.value) if isinstance(value, ox.NamedNode) else None
                if eid in names.vocabularies or eid == VOCABULARY_CLASS:
                    return True
        return False

    def _read(self) -> _Names:
        names = _Names()
        label, description = ox.NamedNode(RDFS + "label"), ox.NamedNode(SCHEMA + "description")
        for row in self.cat.select(
            "SELECT ?p ?t WHERE { GRAPH ?g { ?p wikibase:propertyType ?t } }"
        ):
            pid = self.ns.entity_id(row["p"].value)
            if pid is not None:
                names.types[pid] = row["t"].value.removeprefix(WIKIBASE)
        for row in self.cat.select(
            "SELECT ?c ?eq ?p WHERE { GRAPH ?g { ?c ?p ?eq } }",
            {"p": self.ns.predicate("wdt", ids.EQUIVALENT_CLASS)},
        ):
            cid = self.ns.entity_id(row["c"].value)
            if cid is not None and isinstance(row["eq"], ox.NamedNode):
                names.classes.setdefault(cid, row["eq"].value)
        for row in self.cat.select(
            "SELECT ?c ?s ?p WHERE { GRAPH ?g { ?c ?p ?s } }",
            {"p": self.ns.predicate("wdt", ids.SUBCLASS_OF)},
        ):
            cid, sup = self.ns.entity_id(row["c"].value), self.ns.entity_id(row["s"].value)
            if cid is not None and sup is not None:
                names.superclasses.setdefault(cid, []).append(sup)
        for row in self.cat.select(
            "SELECT ?c ?v ?p WHERE { GRAPH ?g { ?c ?p ?v } }",
            {"v": self.ns.entity(VOCABULARY_CLASS), "p": self.ns.predicate("wdt", INSTANCE_OF)},
        ):
            cid = self.ns.entity_id(row["c"].value)
            if cid is not None:
                names.vocabularies.add(cid)
        for eid in [*names.types, *names.classes]:
            me = self.ns.entity(eid)
            for predicate, target in ((label, names.labels), (description, names.descriptions)):
                texts = target.setdefault(eid, {})
                for term in self.cat.store.objects(me, predicate):
                    if isinstance(term, ox.Literal) and term.language:
                        texts.setdefault(term.language, term.value)
        return names

    def _concepts(self, names: _Names, vocabulary: str) -> list[str]:
        """The concepts of a vocabulary (read once per catalogue version)."""
        if vocabulary not in names.options:
            rows = self.cat.select(
                "SELECT DISTINCT ?c ?v ?p WHERE { GRAPH ?g { ?c ?p ?v } }",
                {"v": self.ns.entity(vocabulary), "p": self.ns.predicate("wdt", INSTANCE_OF)},
            )
            found = [e for r in rows if (e := self.ns.entity_id(r["c"].value)) is not None]
            names.options[vocabulary] = sorted(found, key=lambda e: (len(e), e))
            label = ox.NamedNode(RDFS + "label")
            for eid in names.options[vocabulary]:
                if eid not in names.labels:
                    names.labels[eid] = {
                        t.language: t.value
                        for t in self.cat.store.objects(self.ns.entity(eid), label)
                        if isinstance(t, ox.Literal) and t.language
                    }
        return names.options[vocabulary]

    # --- models ---------------------------------------------------------------------------
    def _name(self, texts: dict[str, str] | None, languages: Sequence[str], default: str) -> str:
        chosen = pick(texts or {}, list(languages))
        return chosen[1] if chosen else default

    def property(self, pid: str, languages: Sequence[str]) -> PropertyInfo | None:
        """A property's label, description and datatype in the reader's languages."""
        names = self._current()
        if pid not in names.types:
            return None
        return PropertyInfo(
            pid,
            self._name(names.labels.get(pid), languages, pid),
            self._name(names.descriptions.get(pid), languages, ""),
            names.types[pid],
        )

    def properties(self, languages: Sequence[str]) -> list[PropertyInfo]:
        """Every property, by number."""
        names = self._current()
        found = (self.property(p, languages) for p in sorted(names.types, key=_number))
        return [p for p in found if p is not None]

    def record_types(self, languages: Sequence[str]) -> list[RecordType]:
        """Every record type (class item), by number."""
        names = self._current()
        found = (self.record_type(c, languages) for c in sorted(names.classes, key=_number))
        return [t for t in found if t is not None]

    def class_chain(self, class_id: str) -> list[str]:
        """The class and its superclasses (subclass of, P2), nearest first."""
        names = self._current()
        chain: list[str] = []
        todo = [class_id]
        while todo and len(chain) < 50:
            cid = todo.pop(0)
            if cid not in chain:
                chain.append(cid)
                todo.extend(names.superclasses.get(cid, []))
        return chain

    def record_type(self, class_id: str, languages: Sequence[str]) -> RecordType | None:
        """The form model of a class item (None when it is no class)."""
        names = self._current()
        if class_id not in names.classes:
            return None
        key = tuple(languages)
        cached = self._types.setdefault(key, {})
        if class_id not in cached:
            cached[class_id] = self._build(names, class_id, languages)
        return cached[class_id]

    def _build(self, names: _Names, class_id: str, languages: Sequence[str]) -> RecordType:
        settings = self.cat.settings
        facts = shape_facts(self.ns.base, str(settings.PROFILE))
        chain = self.class_chain(class_id)
        targets = [names.classes[c] for c in chain if c in names.classes]
        if class_id in names.vocabularies or any(
            VOCABULARY_CLASS in names.superclasses.get(c, []) for c in chain
        ):
            targets.append("http://www.w3.org/2004/02/skos/core#Concept")
        # instances of a vocabulary class item are concepts
        merged: dict[str, ShapeField] = {INSTANCE_OF: ShapeField(INSTANCE_OF, min_count=1)}
        for target in targets:
            for entry in facts.fields.get(target, []):
                seen = merged.setdefault(entry.property, ShapeField(entry.property))
                seen.min_count = max(seen.min_count, entry.min_count)
                if entry.max_count is not None:
                    seen.max_count = min(seen.max_count or entry.max_count, entry.max_count)
                seen.recommended = seen.recommended or entry.recommended
                seen.qualifiers += [q for q in entry.qualifiers if q not in seen.qualifiers]
                seen.value_class = seen.value_class or entry.value_class
        first = merged.pop(INSTANCE_OF)
        ranked = sorted(
            merged.values(), key=lambda e: (-e.min_count, not e.recommended, _number(e.property))
        )
        merged = {INSTANCE_OF: first, **{e.property: e for e in ranked}}
        closed: frozenset[str] | None = None
        for target in targets:
            if target in facts.closed:
                closed = facts.closed[target]
        class_of = {iri: cid for cid, iri in names.classes.items()}
        fields: list[Field] = []
        editable = sorted((p for p, t in names.types.items() if t in EDITABLE_TYPES), key=_number)
        order = list(merged) + [p for p in editable if p not in merged]
        for pid in order:
            info = self.property(pid, languages)
            if info is None or not info.editable:
                continue
            if closed is not None and pid not in closed:
                continue
            shaped = merged.get(pid)
            value_class_iri = (shaped.value_class if shaped else None) or facts.value_class.get(pid)
            # one class item, or a comma-separated choice of them (see shape_facts)
            choices = [class_of[i] for i in (value_class_iri or "").split() if i in class_of]
            value_class = ",".join(choices) or None
            vocabulary = value_class if value_class in names.vocabularies else None
            if pid == INSTANCE_OF:
                value_class = None
            fields.append(
                Field(
                    info,
                    shaped.min_count if shaped else 0,
                    shaped.max_count if shaped else None,
                    shaped.recommended if shaped else False,
                    tuple(shaped.qualifiers) if shaped else (),
                    value_class,
                    vocabulary,
                    primary=shaped is not None or (closed is not None and pid in closed),
                )
            )
        return RecordType(
            class_id,
            self._name(names.labels.get(class_id), languages, class_id),
            self._name(names.descriptions.get(class_id), languages, ""),
            tuple(fields),
            closed is not None,
        )

    def options(self, pid: str, languages: Sequence[str]) -> list[tuple[str, str]]:
        """(id, label) of the controlled values of a property ([] when not controlled)."""
        names = self._current()
        key = ("options", pid, *languages)
        cached = self._options.get(key)
        if cached is None:
            vocabulary = self.vocabulary_of(pid)
            concepts = [] if vocabulary is None else self._concepts(names, vocabulary)
            named = [(c, self._name(names.labels.get(c), languages, c)) for c in concepts]
            # in the reader's alphabetical order (collation of their language), not by id
            ordered = sorted_by_label(
                named, lambda option: option[1], languages[0] if languages else "en"
            )
            cached = self._options[key] = ordered[:MAX_OPTIONS]
        return cached

    def vocabulary_of(self, pid: str) -> str | None:
        """The class item of the concept scheme a property's values come from."""
        names = self._current()
        facts = shape_facts(self.ns.base, str(self.cat.settings.PROFILE))
        class_of = {iri: cid for cid, iri in names.classes.items()}
        vocabulary = class_of.get(facts.value_class.get(pid, ""))
        return vocabulary if vocabulary in names.vocabularies else None

    def class_of_record(self, p1_values: Iterable[str]) -> str | None:
        """The record type of a record from its instance of (P1) values (first known)."""
        names = self._current()
        return next((c for c in p1_values if c in names.classes), None)

    def labels(self, entities: Iterable[str], languages: Sequence[str]) -> dict[str, str]:
        """Names of entities (concepts, classes, properties known to the form models)."""
        names = self._current()
        return {
            e: self._name(names.labels.get(e), languages, e) for e in entities if e in names.labels
        }


def _number(entity: str) -> int:
    return int(entity[1:]) if entity[1:].isdigit() else 0


def by_property(fields: Iterable[Field]) -> dict[str, Field]:
    """Fields by property id."""
    out: dict[str, Field] = defaultdict()
    for f in fields:
        out[f.id] = f
    return dict(out)
