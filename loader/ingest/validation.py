"""What every record is validated against before it is written: the compiled shapes of
the configured PROFILE, and the context of the catalogue (property types and labels,
the class hierarchy, and the facts of other entities that shapes look up).

Bulk loads, uploads, edits and merges all validate through one :class:`Validation`, so a
record that ``bigtent load`` refuses is refused by the forms for the same reason.
"""

from __future__ import annotations

import threading

import pyoxigraph as ox

from loader.base.namespaces import RDFS, WIKIBASE
from loader.records.context import INDEXED_PROPERTIES, Context
from loader.records.profiles import load_shapes
from loader.records.shacl import ShapesGraph
from loader.storage.repository import Repository
from loader.storage.visibility import Visibility


class Validation:
    """The shapes and the validation context of one catalogue."""

    def __init__(self, repository: Repository, visibility: Visibility) -> None:
        self.repository = repository
        self.visibility = visibility
        self._shapes: ShapesGraph | None = None
        self._lock = threading.Lock()

    @property
    def shapes(self) -> ShapesGraph:
        """The compiled shapes of the configured PROFILE (compiled once, on first use)."""
        with self._lock:
            if self._shapes is None:
                repo = self.repository
                self._shapes = load_shapes(repo.ns.base, repo.settings.PROFILE)
            return self._shapes

    def build_context(self) -> Context:
        """What validation needs to know about entities already in the catalogue."""
        repo = self.repository
        ns = repo.ns
        ctx = Context(ns, any_property=repo.settings.PROFILE == "wikibase")
        ctx.add_owl_hierarchy(repo.owl_hierarchy())
        for row in repo.store.select(
            "SELECT ?p ?t WHERE { GRAPH ?g { ?p wikibase:propertyType ?t } }",
            prefixes={"wikibase": WIKIBASE},
        ):
            eid = ns.entity_id(row["p"].value)
            if eid is not None:
                ctx.property_types[eid] = row["t"].value.removeprefix(WIKIBASE)
        for row in repo.store.select(
            "SELECT ?p ?l WHERE { GRAPH ?g { ?p a wikibase:Property ; rdfs:label ?l } }",
            prefixes={"wikibase": WIKIBASE, "rdfs": RDFS},
        ):
            ctx.property_labels[str(row["l"])].add(row["p"].value)
        claims: dict[str, dict[str, set[str]]] = {}
        for pid in INDEXED_PROPERTIES:
            per_entity: dict[str, set[str]] = {}
            rows = repo.store.select(
                "SELECT ?e ?v ?p WHERE { GRAPH ?g { ?e ?p ?v } }",
                bindings={"p": ns.predicate("wdt", pid)},
            )
            for row in rows:
                eid = ns.entity_id(row["e"].value)
                if eid is not None and isinstance(row["v"], ox.NamedNode):
                    per_entity.setdefault(eid, set()).add(row["v"].value)
            claims[pid] = per_entity
        # Hidden persons are not in the store, yet other records still point at them.
        for pid, per_entity in self.visibility.hidden_claims(INDEXED_PROPERTIES).items():
            for eid, values in per_entity.items():
                claims[pid].setdefault(eid, set()).update(values)
        ctx.add_claims(claims)
        return ctx
