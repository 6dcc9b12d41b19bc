"""The repository: the triple store and the revision log kept in step, and the one write
protocol that changes them.

Every write, whatever its source (a bulk load, a form, the API, an import, a merge, a
hide), ends in :meth:`Repository.write_revisions`: the revision rows are committed first,
then the entities' graphs are swapped in the store, then the rows are marked applied. A
crash between the two leaves rows unapplied, and :meth:`Repository.recover` (run at every
open) swaps them in. Nothing else writes to the store or the log.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from loader.base.errors import BigtentError, DiskFull, NotFound, Unavailable, is_disk_full
from loader.base.languages import pick
from loader.base.namespaces import OWL, RDFS, Namespaces
from loader.base.rdf import Term, Triple, ntriples
from loader.base.resources import ONTOLOGY_DIR, SPARQL_DIR
from loader.base.settings import Settings
from loader.records.normalise import data_document
from loader.storage.disk import ensure_room
from loader.storage.oxigraph_store import OxigraphStore, TripleStore
from loader.storage.revision_log import (
    DELETED,
    LIVE,
    PRIVATE_STATES,
    REDIRECT,
    NewRevision,
    Revision,
    RevisionLog,
)

OWL_FILE = "bigtent-owl.ttl"
ONTOLOGY_GRAPH = "ontology"  # below the base: {base}ontology


class Repository:
    """The store and the revision log of one catalogue, and the write protocol."""

    def __init__(
        self,
        settings: Settings,
        store: TripleStore,
        revisions: RevisionLog,
        *,
        recover: bool = True,
    ) -> None:
        """``recover``: apply the revisions the store missed now (``bigtent verify``
        opens without, so it can report them before it repairs)."""
        self.settings = settings
        self.ns = Namespaces(settings.BASE_URL)
        self.store = store
        self.revisions = revisions
        #: Where a change that reached the log but not the store is reported (set by the
        #: background applier of a serving process, :mod:`loader.storage.applier`): the
        #: change then stands and the store catches up later. None (the command line):
        #: the store's error is raised, and the change waits in the log for the next
        #: open or ``bigtent verify --repair``.
        self.on_behind: Callable[[Unavailable], None] | None = None
        self.recovered = self.recover() if recover else 0

    def close(self) -> None:
        """Release the store and the log (closing twice is harmless)."""
        self.store.close()
        self.revisions.close()

    # --- the ontology ------------------------------------------------------------------------
    @property
    def ontology_graph(self) -> ox.NamedNode:
        """Named graph holding the OWL part of the ontology."""
        return ox.NamedNode(self.ns.base + ONTOLOGY_GRAPH)

    def owl_hierarchy(self) -> list[tuple[str, str]]:
        """(subclass, superclass) pairs declared in the ontology's OWL file."""
        path = ONTOLOGY_DIR / OWL_FILE
        if not path.exists():
            return []
        sub = RDFS + "subClassOf"
        return [
            (q.subject.value, q.object.value)
            for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=self.ns.base)
            if q.predicate.value == sub
            and isinstance(q.subject, ox.NamedNode)
            and isinstance(q.object, ox.NamedNode)
        ]

    def ontology_ntriples(self) -> bytes | None:
        """The OWL part of the ontology as N-Triples (None without an OWL file)."""
        owl = ONTOLOGY_DIR / OWL_FILE
        if not owl.exists():
            return None
        triples = [
            (q.subject, q.predicate, q.object)
            for q in ox.parse(path=str(owl), format=ox.RdfFormat.TURTLE, base_iri=self.ns.base)
        ]
        return ntriples(triples)

    def install_owl(self) -> None:
        """(Re)write the OWL part of the ontology as its own graph."""
        data = self.ontology_ntriples()
        if data is not None:
            self.store.replace_graph(self.ontology_graph, data)

    # --- writing (the only place that writes) ----------------------------------------------
    def graph_ntriples(self, entity: str, content: bytes | None, revision: Revision) -> bytes:
        """The graph the store holds for an entity at ``revision`` (with its snapshot
        ``content``), as N-Triples: what the dumps are made of."""
        return entity_graph_ntriples(self.ns, entity, content, revision)

    def write_contents(
        self,
        changes: Sequence[tuple[str, bytes, str]],
        *,
        author: str,
        summary: str,
        action: str | None = None,
    ) -> list[Revision]:
        """Record and store new content for entities: log first, then store, then applied."""
        states = self.revisions.states(e for e, _, _ in changes)
        return self.write_revisions(
            [
                NewRevision(
                    entity,
                    action
                    or (
                        "update" if entity in states and states[entity].state == LIVE else "create"
                    ),
                    author,
                    summary,
                    content_hash,
                    content,
                )
                for entity, content, content_hash in changes
            ]
        )

    def write_revisions(
        self, changes: Sequence[NewRevision], *, erase: bool = False
    ) -> list[Revision]:
        """The write protocol: revision rows committed, graphs swapped, rows marked applied
        (``erase``: see ``RevisionLog.append``). Refused whole (DiskFull) when the disk of
        DATA_DIR lacks room for it."""
        ensure_room(self.settings, sum(len(c.snapshot or c.compressed or b"") for c in changes))
        revisions = self.revisions.append(changes, erase=erase)
        try:
            self._apply(revisions, {c.entity: c.snapshot for c in changes})
        except Unavailable as exc:
            if self.on_behind is None:
                raise
            self.on_behind(exc)  # in the log: it stands; the store catches up later
            return revisions
        except Exception as exc:
            if not is_disk_full(exc) or erase:
                raise
            self._undo(revisions)
            raise DiskFull(self.settings.data_dir, "the store could not take the change") from exc
        try:
            self._store_newest(revisions)
        except Unavailable as exc:
            if self.on_behind is None:
                raise
            self.on_behind(exc)
        return revisions

    def _apply_logged(self, revisions: Sequence[Revision]) -> None:
        """Apply revisions already committed to the log; a store (or database) that
        fails now leaves them pending for the applier, and the change stands."""
        try:
            self._apply(revisions, {})
        except Unavailable as exc:
            if self.on_behind is None:
                raise
            self.on_behind(exc)

    def pending(self, entities: Sequence[str]) -> bool:
        """True when the store does not hold the newest revision of one of ``entities``
        yet (the log has it; the applier will store it). False when the log cannot be
        read just now (nothing is claimed then)."""
        try:
            states = self.revisions.states(entities)
        except Unavailable:
            return False
        return any(s.applied != s.latest for s in states.values())

    def _undo(self, written: Sequence[Revision]) -> None:
        """After the store refused a write for lack of space: give the entities their
        graphs of the revision before, then take the new revisions out of the log, so
        the two agree again and nothing of the write remains. If this fails too (the
        disk still full), the revisions stay in the log unapplied, and the next open
        applies them (:meth:`recover`), as after a crash."""
        first: dict[str, Revision] = {}
        for rev in written:
            first.setdefault(rev.entity, rev)
        graphs: dict[ox.NamedNode, bytes] = {}
        for entity, rev in first.items():
            before = None if rev.parent is None else self.revisions.get(entity, rev.parent)
            graphs[self.ns.data_document(entity)] = (
                b"" if before is None else self.graph_ntriples(entity, before.snapshot, before)
            )
        try:
            if len(graphs) == 1:
                ((graph, data),) = graphs.items()
                self.store.replace_graph(graph, data)
            else:
                self.store.replace_graphs_bulk(graphs)
            self.revisions.retract(written)
        except Exception as exc:  # still full: the next open applies them (recover)
            if not is_disk_full(exc):
                raise

    def _store_newest(self, written: Sequence[Revision]) -> None:
        """Another process sharing the log may have written one of these entities after
        us and swapped its graph in *before* ours landed; then the store would hold our
        older version. So whoever finds a newer revision after its own swap stores that
        one again, until no one overtook (one batched look-up when no one did)."""
        mine = {rev.entity: rev.id for rev in written}
        for _round in range(10):
            states = self.revisions.states(mine)
            newer = [e for e, rev_id in mine.items() if e in states and states[e].latest != rev_id]
            if not newer:
                return
            revs = list(self.revisions.latest_revisions(newer))
            self._apply(revs, {r.entity: r.snapshot for r in revs})
            mine = {r.entity: r.id for r in revs}

    def _apply(self, revisions: Sequence[Revision], contents: dict[str, bytes | None]) -> None:
        graphs = {
            self.ns.data_document(rev.entity): self.graph_ntriples(
                rev.entity, contents.get(rev.entity), rev
            )
            for rev in revisions
        }
        if len(graphs) == 1:
            ((graph, data),) = graphs.items()
            self.store.replace_graph(graph, data)  # one atomic swap
        else:
            self.store.replace_graphs_bulk(graphs)
        self.revisions.mark_applied(revisions)

    def recover(self) -> int:
        """Re-apply revisions the store may have missed (after a crash); returns how many."""
        pending = self.revisions.unapplied()
        if not pending:
            return 0
        for start in range(0, len(pending), 5000):
            revs = list(self.revisions.latest_revisions(pending[start : start + 5000]))
            self._apply(revs, {r.entity: r.snapshot for r in revs})
        return len(pending)

    def after_write(self) -> None:
        """Make bulk writes durable."""
        flush = getattr(self.store, "flush", None)
        if flush is not None:
            flush()

    def delete(self, entity: str, reason: str, author: str | None = None) -> Revision:
        """Delete an entity, leaving a tombstone in the log (410 Gone for readers)."""
        self.live(entity)
        ensure_room(self.settings)
        rev = self.revisions.append(
            [NewRevision(entity, "delete", self.author(author), reason or "deleted")]
        )[0]
        self._apply_logged([rev])
        return rev

    def redirect(self, source: str, target: str, author: str, summary: str) -> Revision:
        """Turn ``source`` into a redirect to ``target`` (the second half of a merge)."""
        ensure_room(self.settings)
        rev = self.revisions.append(
            [NewRevision(source, "merge", author, summary, redirect=target)]
        )[0]
        self._apply_logged([rev])
        return rev

    def reindex(self) -> int:
        """Rebuild the whole triple store from the revision log; returns entities written."""
        self.store.clear()
        self.revisions.forget_applied()
        self.install_owl()
        count = self.recover()
        self.after_write()
        return count

    def rebuild_store(self) -> int:
        """Rebuild the embedded store from the revision log in a fresh directory, then
        delete the old one; returns entities written. Unlike :meth:`reindex`, which
        deletes inside the same files (RocksDB keeps deleted keys in its logs and
        tombstones, and Oxigraph never forgets a string it has stored), no byte of
        removed content survives. A crash midway is repaired at the next open: the
        log marks every entity as not yet in the store first."""
        import shutil

        store = self.store
        if not isinstance(store, OxigraphStore) or store.path is None:
            return self.reindex()
        path = store.path
        old = path.with_name(path.name + ".old")
        self.revisions.forget_applied()
        store.close()
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
        self.store = OxigraphStore(path)
        count = self.reindex()
        shutil.rmtree(old)
        return count

    def live(self, entity: str) -> Any:
        """The state of ``entity``; NotFound or 409 unless it is live."""
        state = self.revisions.state(entity)
        if state is None:
            raise NotFound(f"{entity} does not exist in this catalogue")
        if state.state != LIVE:
            raise BigtentError(
                f"{entity} is {state.state}; only live entities can change",
                status=409,
                title="Conflict",
            )
        return state

    def author(self, author: str | None) -> str:
        """Who a change is by: the given name, else the AUTHOR setting, else the OS user."""
        return author or self.settings.AUTHOR or getpass.getuser()

    # --- reading ---------------------------------------------------------------------------
    def revision_ntriples(self, revision: Revision) -> bytes:
        """A revision's whole graph as N-Triples, from the log (``revision`` read with
        its snapshot): what the store holds for it, without a store query."""
        return self.graph_ntriples(revision.entity, revision.snapshot, revision)

    def entity_triples(self, entity: str, revision: int | None = None) -> list[Triple]:
        """The entity's graph (current, or rebuilt from a past revision)."""
        if revision is None:
            return self.store.graph_triples(self.ns.data_document(entity))
        rev = self.revisions.get(entity, revision)
        if rev is None:
            raise NotFound(f"{entity} has no revision {revision}")
        data = self.graph_ntriples(entity, rev.snapshot, rev)
        return (
            [(q.subject, q.predicate, q.object) for q in ox.parse(data, ox.RdfFormat.N_TRIPLES)]
            if data
            else []
        )

    def labels(self, entities: Sequence[str], languages: Sequence[str]) -> dict[str, str]:
        """Best label of each entity id in the reader's languages (falls back to any)."""
        found: dict[str, str] = {}
        label = ox.NamedNode(RDFS + "label")
        for eid in entities:
            texts: dict[str, str] = {}
            for term in self.store.objects(self.ns.entity(eid), label):
                if isinstance(term, ox.Literal):
                    texts.setdefault(term.language or "", term.value)
            chosen = pick(texts, list(languages))
            if chosen is not None:
                found[eid] = chosen[1]
        return found

    def dump_nquads(self, path: str | Path) -> None:
        """The whole store as N-Quads."""
        if isinstance(self.store, OxigraphStore):
            self.store.dump_nquads(path)
            return
        with Path(path).open("wb") as fh:
            fh.write(ox.serialize(self.store.quads(), format=ox.RdfFormat.N_QUADS) or b"")

    def select(self, query: str, bindings: dict[str, Term] | None = None) -> list[dict[str, Term]]:
        """Run a SELECT with the catalogue's prefixes; values are bound, never formatted."""
        return self.store.select(query, bindings=bindings, prefixes=self.ns.sparql_prefixes())

    def named_query(
        self, name: str, bindings: dict[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        """Run ``sparql/<name>.rq``."""
        path = SPARQL_DIR / f"{name}.rq"
        return self.select(path.read_text(encoding="utf-8"), bindings)


def entity_graph_ntriples(
    ns: Namespaces, entity: str, content: bytes | None, revision: Revision
) -> bytes:
    """The graph the store holds for an entity at ``revision`` (its snapshot ``content``
    plus the data document, or the redirect), as N-Triples; nothing for a deleted,
    hidden or erased entity (the public store never holds those)."""
    if revision.state == DELETED or revision.state in PRIVATE_STATES:
        return b""
    entity_iri = ns.entity(entity)
    doc = ns.data_document(entity)
    parts = [content or b""]
    if revision.state == REDIRECT and revision.redirect:
        target = ns.entity(revision.redirect)
        parts.append(f"{entity_iri} <{OWL}sameAs> {target} .\n".encode())
    parts.append(
        "".join(
            f"{s} {p} {o} .\n"
            for s, p, o in data_document(entity_iri, doc, revision.id, revision.time)
        ).encode()
    )
    return b"".join(parts)
