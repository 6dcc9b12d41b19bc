"""The catalogue: the one object that owns the store, the revision log and every limit.

The web app and the command line call this; nothing else touches pyoxigraph or the
revision database.
"""

from __future__ import annotations

import getpass
import gzip
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from loader.base.errors import BigtentError, ConfigError, NotFound
from loader.base.namespaces import OWL, RDFS, WIKIBASE, Namespaces
from loader.base.resources import DEMO_DIR, ONTOLOGY_DIR, SPARQL_DIR
from loader.base.settings import Settings
from loader.ingest.inputs import expand, parse_format_option
from loader.ingest.pipeline import LoadReport, run_load
from loader.ingest.reader import Term, Triple
from loader.publish.entity_documents import EntityDocuments
from loader.publish.feed import ChangeFeed
from loader.query.examples import Examples
from loader.records.context import INDEXED_PROPERTIES, Context
from loader.records.normalise import canonical_ntriples, data_document
from loader.records.profiles import load_shapes
from loader.records.shacl import ShapesGraph
from loader.storage.database import database_target
from loader.storage.oxigraph_store import OxigraphStore, TripleStore
from loader.storage.page_index import PageIndex
from loader.storage.revision_log import (
    DELETED,
    LIVE,
    PRIVATE_STATES,
    REDIRECT,
    NewRevision,
    Revision,
    RevisionLog,
)

if TYPE_CHECKING:
    from loader.discovery.network import PartnershipNetwork
    from loader.discovery.statistics import Statistics
    from loader.editing.bulk_import import Uploads
    from loader.editing.editor import Editor
    from loader.editing.forms import FormModels
    from loader.editing.privacy import Privacy
    from loader.query.service import QueryService
    from loader.staff.accounts import DatabaseAccounts
    from loader.storage.verify import Drift

OWL_FILE = "bigtent-owl.ttl"
ONTOLOGY_GRAPH = "ontology"  # below the base: {base}ontology


def revision_log_target(settings: Settings) -> Path | str:
    """Where the revision log lives: DATABASE_URL, else ``DATA_DIR/revisions.sqlite3``."""
    return database_target(settings.DATABASE_URL, settings.data_dir / "revisions.sqlite3")


class Catalogue:
    """A Bigtent catalogue: triple store + revision log + shapes + settings."""

    def __init__(self, settings: Settings, store: TripleStore, revisions: RevisionLog) -> None:
        self.settings = settings
        self.ns = Namespaces(settings.BASE_URL)
        self.store = store
        self.revisions = revisions
        self._close_hooks: list[Callable[[], None]] = []
        self.recovered = self.recover()

    # --- lifecycle -----------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings) -> Catalogue:
        """Open (creating if needed) the catalogue in DATA_DIR."""
        if settings.STORE not in ("oxigraph", "sparql"):
            raise ConfigError(
                f"unknown STORE {settings.STORE!r}; this version supports "
                "'oxigraph' and 'sparql' (set BIGTENT_STORE)"
            )
        data_dir = settings.data_dir
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create DATA_DIR {data_dir}: {exc.strerror}") from None
        store: TripleStore
        if settings.STORE == "sparql":
            from loader.storage.remote_store import RemoteStore

            store = RemoteStore(settings)
        else:
            store = OxigraphStore(data_dir / "store")
        try:
            revisions = RevisionLog(revision_log_target(settings))
        except Exception:
            store.close()
            raise
        return cls(settings, store, revisions)

    def on_close(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` when the catalogue closes, before the store and log are released
        (background work that reads them stops there)."""
        self._close_hooks.append(hook)

    def close(self) -> None:
        """Release background work (``on_close`` hooks), the query service, editor, page
        index, store, log and accounts (closing twice is harmless)."""
        hooks, self._close_hooks = self._close_hooks, []
        for hook in hooks:
            hook()
        service = self.__dict__.pop("query_service", None)
        if service is not None:
            service.close()
        editor = self.__dict__.get("editor")
        if editor is not None:
            editor.close()
        index = self.__dict__.pop("page_index", None)
        if index is not None:
            index.close()
        self.store.close()
        self.revisions.close()
        accounts = self.__dict__.pop("accounts", None)
        if accounts is not None:
            accounts.close()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @cached_property
    def feed(self) -> ChangeFeed:
        """The change feed (revisions as activities, paged by FEED_PAGE_SIZE)."""
        return ChangeFeed(self.revisions, self.ns, self.settings.FEED_PAGE_SIZE)

    @cached_property
    def query_service(self) -> QueryService:
        """The public SPARQL query service (worker processes start on first use)."""
        if self.settings.STORE == "sparql":
            from loader.query.remote import RemoteQueryService

            return RemoteQueryService(self)
        from loader.query.service import QueryService

        return QueryService(self)

    # --- staff: accounts and the edit path -------------------------------------------------
    @cached_property
    def accounts(self) -> DatabaseAccounts:
        """The staff account database (``DATA_DIR/accounts.sqlite3``, apart from the store)."""
        from loader.staff.accounts import open_accounts

        return open_accounts(self.settings)

    @cached_property
    def editor(self) -> Editor:
        """The write path for staff edits (create, save, revert, delete, merge)."""
        from loader.editing.editor import Editor

        return Editor(self)

    @cached_property
    def privacy(self) -> Privacy:
        """Hiding, unhiding and erasing person items (``loader.editing.privacy``)."""
        from loader.editing.privacy import Privacy

        return Privacy(self)

    @cached_property
    def form_models(self) -> FormModels:
        """What the edit forms offer per record type (from the shapes and the ontology)."""
        from loader.editing.forms import FormModels

        return FormModels(self)

    @cached_property
    def imports(self) -> Uploads:
        """Bulk-import uploads waiting for confirmation (``DATA_DIR/imports``)."""
        from loader.editing.bulk_import import Uploads

        return Uploads(self.settings.data_dir / "imports", int(self.settings.IMPORT_TTL))

    @cached_property
    def page_index(self) -> PageIndex:
        """Names, facts and backlinks for pages, derived from the revision log
        (``DATA_DIR/pages.sqlite3``); call ``catch_up()`` before reading."""
        path = None if self.revisions.target is None else self.settings.data_dir / "pages.sqlite3"
        return PageIndex(path, self.revisions, self.ns, self.settings.languages)

    @cached_property
    def network(self) -> PartnershipNetwork:
        """The partnership network's data (the network view), from the page index."""
        from loader.discovery.network import PartnershipNetwork

        return PartnershipNetwork(self)

    @cached_property
    def statistics(self) -> Statistics:
        """The statistics charts, each the result of a public example query."""
        from loader.discovery.statistics import Statistics

        return Statistics(self)

    # --- shapes and context ---------------------------------------------------------------
    @cached_property
    def shapes(self) -> ShapesGraph:
        """The compiled shapes of the configured PROFILE."""
        return load_shapes(self.ns.base, self.settings.PROFILE)

    @cached_property
    def examples(self) -> Examples:
        """The named example queries (``sparql/examples``), for this catalogue's base."""
        return Examples(self.ns)

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

    def build_context(self) -> Context:
        """What validation needs to know about entities already in the catalogue."""
        ctx = Context(self.ns, any_property=self.settings.PROFILE == "wikibase")
        ctx.add_owl_hierarchy(self.owl_hierarchy())
        for row in self.store.select(
            "SELECT ?p ?t WHERE { GRAPH ?g { ?p wikibase:propertyType ?t } }",
            prefixes={"wikibase": WIKIBASE},
        ):
            eid = self.ns.entity_id(row["p"].value)
            if eid is not None:
                ctx.property_types[eid] = row["t"].value.removeprefix(WIKIBASE)
        for row in self.store.select(
            "SELECT ?p ?l WHERE { GRAPH ?g { ?p a wikibase:Property ; rdfs:label ?l } }",
            prefixes={"wikibase": WIKIBASE, "rdfs": RDFS},
        ):
            ctx.property_labels[str(row["l"])].add(row["p"].value)
        claims: dict[str, dict[str, set[str]]] = {}
        for pid in INDEXED_PROPERTIES:
            per_entity: dict[str, set[str]] = {}
            rows = self.store.select(
                "SELECT ?e ?v ?p WHERE { GRAPH ?g { ?e ?p ?v } }",
                bindings={"p": self.ns.predicate("wdt", pid)},
            )
            for row in rows:
                eid = self.ns.entity_id(row["e"].value)
                if eid is not None and isinstance(row["v"], ox.NamedNode):
                    per_entity.setdefault(eid, set()).add(row["v"].value)
            claims[pid] = per_entity
        # Hidden persons are not in the store, yet other records still point at them.
        for pid, per_entity in self.privacy.hidden_claims(INDEXED_PROPERTIES).items():
            for eid, values in per_entity.items():
                claims[pid].setdefault(eid, set()).update(values)
        ctx.add_claims(claims)
        return ctx

    # --- loading --------------------------------------------------------------------------
    def load_paths(
        self,
        paths: Sequence[str | Path],
        *,
        dry_run: bool = False,
        all_or_nothing: bool = False,
        author: str | None = None,
        summary: str = "",
        format: str | None = None,
        progress: bool | None = False,
    ) -> LoadReport:
        """Load files/directories ('-' for stdin) through the full pipeline."""
        who = author or self.settings.AUTHOR or getpass.getuser()
        with tempfile.TemporaryDirectory(prefix="bigtent-load-") as spool:
            sources = list(
                expand([str(p) for p in paths], parse_format_option(format), Path(spool))
            )
            if all_or_nothing and not dry_run:
                check = run_load(
                    self, sources, dry_run=True, author=who, summary=summary, progress=progress
                )
                if not check.ok:
                    return check
            return run_load(
                self, sources, dry_run=dry_run, author=who, summary=summary, progress=progress
            )

    def install_ontology(self, author: str = "bigtent") -> LoadReport:
        """Load ``ontology/`` (records through the loader; the OWL file as its own graph)."""
        self._install_owl()
        records = sorted(p for p in ONTOLOGY_DIR.glob("*.ttl") if p.name != OWL_FILE)
        return self.load_paths(records, author=author, summary="Bigtent ontology")

    def _install_owl(self) -> None:
        """(Re)write the OWL part of the ontology as its own graph."""
        data = self.ontology_ntriples()
        if data is not None:
            self.store.replace_graph(self.ontology_graph, data)

    def ontology_ntriples(self) -> bytes | None:
        """The OWL part of the ontology as N-Triples (None without an OWL file)."""
        owl = ONTOLOGY_DIR / OWL_FILE
        if not owl.exists():
            return None
        triples = [
            (q.subject, q.predicate, q.object)
            for q in ox.parse(path=str(owl), format=ox.RdfFormat.TURTLE, base_iri=self.ns.base)
        ]
        return _ntriples(triples)

    def verify(self, *, repair: bool = False) -> Drift:
        """Compare the store with the revision log; with ``repair``, rewrite what drifted
        (see :mod:`loader.storage.verify`)."""
        from loader.storage.verify import verify

        return verify(self, repair=repair)

    @property
    def ontology_graph(self) -> ox.NamedNode:
        """Named graph holding the OWL part of the ontology."""
        return ox.NamedNode(self.ns.base + ONTOLOGY_GRAPH)

    def build_demo(self, author: str = "bigtent demo") -> list[LoadReport]:
        """The ontology and the demo catalogue, through the normal loader path."""
        return [
            self.install_ontology(),
            self.load_paths(
                sorted(DEMO_DIR.glob("*.ttl")), author=author, summary="Demo catalogue"
            ),
        ]

    # --- writing (the only place that writes) ----------------------------------------------
    def _graph_ntriples(self, entity: str, content: bytes | None, revision: Revision) -> bytes:
        return entity_graph_ntriples(self.ns, entity, content, revision)

    def graph_ntriples(self, entity: str, content: bytes | None, revision: Revision) -> bytes:
        """The graph the store holds for an entity at ``revision`` (with its snapshot
        ``content``), as N-Triples: what the dumps are made of."""
        return self._graph_ntriples(entity, content, revision)

    def _graph(self, entity: str, content: bytes | None, revision: Revision) -> list[Triple]:
        data = self._graph_ntriples(entity, content, revision)
        return (
            [(q.subject, q.predicate, q.object) for q in ox.parse(data, ox.RdfFormat.N_TRIPLES)]
            if data
            else []
        )

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
        (``erase``: see ``RevisionLog.append``)."""
        revisions = self.revisions.append(changes, erase=erase)
        self._apply(revisions, {c.entity: c.snapshot for c in changes})
        self._store_newest(revisions)
        return revisions

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
            self.ns.data_document(rev.entity): self._graph_ntriples(
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
        self._live(entity)
        rev = self.revisions.append(
            [NewRevision(entity, "delete", self._author(author), reason or "deleted")]
        )[0]
        self._apply([rev], {})
        return rev

    def merge(
        self, source: str, target: str, author: str | None = None, summary: str = ""
    ) -> tuple[Revision, Revision]:
        """Merge ``source`` into ``target``: its labels and statements move, it redirects."""
        if source == target:
            raise BigtentError(f"cannot merge {source} into itself")
        self._live(source)
        self._live(target)
        from loader.editing.merge import merged_content  # local: merging is rare

        content, content_hash = merged_content(self, source, target)
        who = self._author(author)
        text = summary or f"Merged {source} into {target}"
        [target_rev] = self.write_contents(
            [(target, content, content_hash)], author=who, summary=text, action="update"
        )
        redirect = self.revisions.append(
            [NewRevision(source, "merge", who, text, redirect=target)]
        )[0]
        self._apply([redirect], {})
        return redirect, target_rev

    def reindex(self) -> int:
        """Rebuild the whole triple store from the revision log; returns entities written."""
        self.store.clear()
        self.revisions.forget_applied()
        self._install_owl()
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

    def _live(self, entity: str) -> Any:
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

    def _author(self, author: str | None) -> str:
        return author or self.settings.AUTHOR or getpass.getuser()

    # --- reading ---------------------------------------------------------------------------
    @cached_property
    def documents(self) -> EntityDocuments:
        """Entity data documents (every format, flavor and revision)."""
        return EntityDocuments(self)

    def revision_ntriples(self, revision: Revision) -> bytes:
        """A revision's whole graph as N-Triples, from the log (``revision`` read with
        its snapshot): what the store holds for it, without a store query."""
        return self._graph_ntriples(revision.entity, revision.snapshot, revision)

    def entity_triples(self, entity: str, revision: int | None = None) -> list[Triple]:
        """The entity's graph (current, or rebuilt from a past revision)."""
        if revision is None:
            return self.store.graph_triples(self.ns.data_document(entity))
        rev = self.revisions.get(entity, revision)
        if rev is None:
            raise NotFound(f"{entity} has no revision {revision}")
        return self._graph(entity, rev.snapshot, rev)

    def labels(self, entities: Sequence[str], languages: Sequence[str]) -> dict[str, str]:
        """Best label of each entity id in the reader's languages (falls back to any)."""
        from loader.publish.describe import pick

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

    def counts_by_class(self, languages: Sequence[str]) -> list[tuple[str, str, int]]:
        """(class id, class label, number of entities) for every class in use."""
        rows = self.named_query("counts_by_class")
        ids = [(self.ns.entity_id(r["class"].value), int(r["n"].value)) for r in rows]
        names = self.labels([i for i, _ in ids if i], languages)
        return [(i, names.get(i, i), n) for i, n in ids if i]

    def dump(self, out_dir: Path | None = None) -> list[Path]:
        """Full and truthy dumps, N-Triples and Turtle, gzipped, with their manifest
        (``loader.publish.dumps.read_manifest``), in ``out_dir`` (default DATA_DIR/dumps, where
        the web app serves them from); returns the dump files."""
        from loader.publish.dumps import dumps_dir, write_dumps

        target = out_dir or dumps_dir(self.settings)
        return [target / entry.name for entry in write_dumps(self, target).files]

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


def _ntriples(triples: Sequence[tuple[Term, Term, Term]]) -> bytes:
    return "".join(f"{s} {p} {o} .\n" for s, p, o in triples).encode()


@contextmanager
def opened(settings: Settings) -> Iterator[Catalogue]:
    """``with opened(settings) as cat:``."""
    cat = Catalogue.open(settings)
    try:
        yield cat
    finally:
        cat.close()


def gzip_copy(source: Path, target: Path) -> None:
    """Gzip a file."""
    with source.open("rb") as fin, gzip.open(target, "wb", compresslevel=6) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


__all__ = ["Catalogue", "canonical_ntriples", "opened"]
