"""The catalogue: the composition root.

:meth:`Catalogue.open` builds every service once, in dependency order, and hands each the
narrow collaborators it uses; :meth:`Catalogue.close` closes them in reverse order. The
web app and the command line reach the services as attributes of the catalogue; the
services never reach the catalogue (``tests/test_layers.py``). Nothing is built lazily
on first use, so two first requests on two threads cannot build two of anything.

The order, bottom up::

    Repository   store + revision log + the write protocol     (loader.storage)
    Visibility   what the public may see                       (loader.storage)
    PageIndex    names, facts and backlinks for pages          (loader.storage)
    Validation   compiled shapes + validation context          (loader.ingest)
    QueryService the public SPARQL endpoint                    (loader.query)
    Examples, ChangeFeed, EntityDocuments                      (loader.query, loader.publish)
    IndexViews   whole-catalogue views, kept in the background (loader.discovery)
    PartnershipNetwork, Geography, Statistics                  (loader.discovery)
    Privacy, Editor, FormModels, Uploads                       (loader.editing)
    DatabaseAccounts                                           (loader.staff)
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType

import pyoxigraph as ox

from loader.base.errors import ConfigError
from loader.base.rdf import Term, Triple
from loader.base.resources import DEMO_DIR, ONTOLOGY_DIR
from loader.base.settings import Settings
from loader.discovery.geography import Geography
from loader.discovery.neighbourhood import Neighbourhood
from loader.discovery.network import PartnershipNetwork
from loader.discovery.statistics import Statistics
from loader.discovery.views import IndexViews
from loader.editing.bulk_import import Uploads
from loader.editing.editor import Editor
from loader.editing.forms import FormModels
from loader.editing.merge import merge
from loader.editing.privacy import Privacy
from loader.ingest.inputs import expand, parse_format_option
from loader.ingest.pipeline import LoadReport, run_load
from loader.ingest.validation import Validation
from loader.publish.dataset import DatasetCounts, dataset_counts
from loader.publish.dumps import dumps_dir, read_manifest, write_dumps
from loader.publish.entity_documents import EntityDocuments
from loader.publish.feed import ChangeFeed
from loader.query.examples import Examples
from loader.query.remote import RemoteQueryService
from loader.query.service import QueryService
from loader.records.context import Context
from loader.records.shacl import ShapesGraph
from loader.staff.accounts import DatabaseAccounts, open_accounts
from loader.storage.applier import StoreApplier
from loader.storage.database import database_target
from loader.storage.oxigraph_store import OxigraphStore, TripleStore
from loader.storage.page_index import PageIndex
from loader.storage.remote_store import RemoteStore
from loader.storage.repository import OWL_FILE, Repository
from loader.storage.revision_log import Revision, RevisionLog
from loader.storage.verify import Drift, verify
from loader.storage.visibility import Visibility

STORES = ("oxigraph", "sparql")


def revision_log_target(settings: Settings) -> Path | str:
    """Where the revision log lives: DATABASE_URL, else ``DATA_DIR/revisions.sqlite3``."""
    return database_target(settings.DATABASE_URL, settings.data_dir / "revisions.sqlite3")


class Catalogue:
    """A Bigtent catalogue: every service, built once over one store and revision log."""

    def __init__(
        self,
        settings: Settings,
        store: TripleStore,
        revisions: RevisionLog,
        *,
        recover: bool = True,
    ) -> None:
        self._close_hooks: list[Callable[[], None]] = []
        with ExitStack() as undo:  # a service that fails to build closes the ones before it
            undo.callback(store.close)
            undo.callback(revisions.close)
            self.settings = settings
            self.repository = repo = Repository(settings, store, revisions, recover=recover)
            self.ns = repo.ns
            self.revisions = revisions
            self.recovered = repo.recovered
            self.visibility = Visibility(revisions, repo.ns)
            self.page_index = PageIndex(
                None if revisions.target is None else settings.data_dir / "pages.sqlite3",
                revisions,
                repo.ns,
                settings.languages,
            )
            undo.callback(self.page_index.close)
            self.validation = Validation(repo, self.visibility)
            self.query_service = self._query_service()
            undo.callback(self.query_service.close)
            self.examples = Examples(repo.ns)
            self.feed = ChangeFeed(revisions, repo.ns, settings.FEED_PAGE_SIZE)
            self.documents = EntityDocuments(repo, self.visibility)
            #: whole-catalogue views of the page index (browse counts, the network model,
            #: partnerships, places, the network and map documents): newest finished
            #: result, recomputed in the background after writes; the thread starts with
            #: the first recomputation
            self.views = IndexViews(revisions, self.page_index)
            undo.callback(self.views.close)
            self.network = PartnershipNetwork(repo, self.page_index, self.views)
            self.neighbourhood = Neighbourhood(repo.ns, revisions, self.page_index)
            self.geography = Geography(repo, self.page_index, self.network, self.views)
            self.statistics = Statistics(repo, self.query_service, self.examples, self.page_index)
            undo.callback(self.statistics.close)
            self.privacy = Privacy(
                repo,
                self.page_index,
                rewrite_dumps=self._rewrite_dumps,
                snapshots_in_use=lambda: self.query_service.started,
            )
            #: applies revisions the store missed, in the background; started by the web
            #: app (every serving process), never by the command line
            self.applier = StoreApplier(repo)
            self.editor = Editor(repo, self.validation, self.privacy)
            undo.callback(self.editor.close)
            self.form_models = FormModels(repo)
            self.imports = Uploads(settings.data_dir / "imports", int(settings.IMPORT_TTL))
            self.accounts: DatabaseAccounts = open_accounts(settings)
            undo.pop_all()

    def _query_service(self) -> QueryService:
        if isinstance(self.repository.store, RemoteStore):
            return RemoteQueryService(self.repository)
        return QueryService(self.repository)

    # --- lifecycle -----------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, *, recover: bool = True, serving: bool = False) -> Catalogue:
        """Open (creating if needed) the catalogue in DATA_DIR; with ``recover`` (the
        default) apply the revisions the store missed (see :meth:`Repository.recover`).
        ``serving``: for the web app, whose requests retry a remote store only
        STORE_RETRY_SECONDS (the background applier catches up after an outage)."""
        if settings.STORE not in STORES:
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
        store = (
            RemoteStore(
                settings,
                retry_seconds=float(settings.STORE_RETRY_SECONDS) if serving else None,
            )
            if settings.STORE == "sparql"
            else OxigraphStore(data_dir / "store")
        )
        try:
            revisions = RevisionLog(revision_log_target(settings))
        except Exception:
            store.close()
            raise
        return cls(settings, store, revisions, recover=recover)

    def on_close(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` when the catalogue closes, before any service is closed
        (background work that reads them stops there)."""
        self._close_hooks.append(hook)

    def close(self) -> None:
        """Stop background work (``on_close`` hooks), then close the services in the
        reverse order of building (closing twice is harmless)."""
        hooks, self._close_hooks = self._close_hooks, []
        for hook in hooks:
            hook()
        self.views.close()
        self.statistics.close()
        self.applier.stop()
        self.accounts.close()
        self.editor.close()
        self.query_service.close()
        self.page_index.close()
        self.repository.close()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- what the command line and the web app call ------------------------------------------
    @property
    def store(self) -> TripleStore:
        """The triple store (a new object after :meth:`rebuild_store`)."""
        return self.repository.store

    @property
    def shapes(self) -> ShapesGraph:
        """The compiled shapes of the configured PROFILE."""
        return self.validation.shapes

    @property
    def ontology_graph(self) -> ox.NamedNode:
        """Named graph holding the OWL part of the ontology."""
        return self.repository.ontology_graph

    def build_context(self) -> Context:
        """What validation needs to know about entities already in the catalogue."""
        return self.validation.build_context()

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
        who = self.repository.author(author)
        with tempfile.TemporaryDirectory(prefix="bigtent-load-") as spool:
            sources = list(
                expand([str(p) for p in paths], parse_format_option(format), Path(spool))
            )

            def load(dry: bool) -> LoadReport:
                return run_load(
                    self.repository,
                    self.validation,
                    sources,
                    dry_run=dry,
                    author=who,
                    summary=summary,
                    progress=progress,
                )

            if all_or_nothing and not dry_run:
                check = load(True)
                if not check.ok:
                    return check
            return load(dry_run)

    def install_ontology(self, author: str = "bigtent") -> LoadReport:
        """Load ``ontology/`` (records through the loader; the OWL file as its own graph)."""
        self.repository.install_owl()
        records = sorted(p for p in ONTOLOGY_DIR.glob("*.ttl") if p.name != OWL_FILE)
        return self.load_paths(records, author=author, summary="Bigtent ontology")

    def build_demo(self, author: str = "bigtent demo") -> list[LoadReport]:
        """The ontology and the demo catalogue, through the normal loader path."""
        return [
            self.install_ontology(),
            self.load_paths(
                sorted(DEMO_DIR.glob("*.ttl")), author=author, summary="Demo catalogue"
            ),
        ]

    def verify(self, *, repair: bool = False) -> Drift:
        """Compare the store with the revision log; with ``repair``, rewrite what drifted
        (see :mod:`loader.storage.verify`)."""
        return verify(self.repository, repair=repair)

    def write_contents(
        self,
        changes: Sequence[tuple[str, bytes, str]],
        *,
        author: str,
        summary: str,
        action: str | None = None,
    ) -> list[Revision]:
        """Record and store new content for entities (:class:`Repository`)."""
        return self.repository.write_contents(
            changes, author=author, summary=summary, action=action
        )

    def after_write(self) -> None:
        """Make bulk writes durable."""
        self.repository.after_write()

    def delete(self, entity: str, reason: str, author: str | None = None) -> Revision:
        """Delete an entity, leaving a tombstone in the log (410 Gone for readers)."""
        return self.repository.delete(entity, reason, author)

    def merge(
        self, source: str, target: str, author: str | None = None, summary: str = ""
    ) -> tuple[Revision, Revision]:
        """Merge ``source`` into ``target``: its labels and statements move, it redirects."""
        return merge(self.repository, self.validation, source, target, author, summary)

    def reindex(self) -> int:
        """Rebuild the whole triple store from the revision log; returns entities written."""
        return self.repository.reindex()

    def rebuild_store(self) -> int:
        """Rebuild the embedded store in fresh files (:meth:`Repository.rebuild_store`)."""
        return self.repository.rebuild_store()

    def graph_ntriples(self, entity: str, content: bytes | None, revision: Revision) -> bytes:
        """The graph the store holds for an entity at ``revision``, as N-Triples."""
        return self.repository.graph_ntriples(entity, content, revision)

    def entity_triples(self, entity: str, revision: int | None = None) -> list[Triple]:
        """The entity's graph (current, or rebuilt from a past revision)."""
        return self.repository.entity_triples(entity, revision)

    def labels(self, entities: Sequence[str], languages: Sequence[str]) -> dict[str, str]:
        """Best label of each entity id in the reader's languages (falls back to any)."""
        return self.repository.labels(entities, languages)

    def select(self, query: str, bindings: dict[str, Term] | None = None) -> list[dict[str, Term]]:
        """Run a SELECT with the catalogue's prefixes; values are bound, never formatted."""
        return self.repository.select(query, bindings)

    def named_query(
        self, name: str, bindings: dict[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        """Run ``sparql/<name>.rq``."""
        return self.repository.named_query(name, bindings)

    def counts_by_class(self, languages: Sequence[str]) -> list[tuple[str, str, int]]:
        """(class id, class label, number of entities) for every class in use."""
        rows = self.named_query("counts_by_class")
        ids = [(self.ns.entity_id(r["class"].value), int(r["n"].value)) for r in rows]
        names = self.labels([i for i, _ in ids if i], languages)
        return [(i, names.get(i, i), n) for i, n in ids if i]

    def dump(self, out_dir: Path | None = None) -> list[Path]:
        """Full and truthy dumps, N-Triples and Turtle, gzipped, with their manifest
        (``loader.publish.dumps.read_manifest``), in ``out_dir`` (default DATA_DIR/dumps,
        where the web app serves them from); returns the dump files."""
        target = out_dir or dumps_dir(self.settings)
        return [target / entry.name for entry in write_dumps(self.repository, target).files]

    def dataset_counts(self) -> DatasetCounts:
        """The catalogue's triple and entity counts, from their one source
        (``loader.publish.dataset.dataset_counts``: /dataset, VoID, the SPARQL service
        description and the dumps' manifest say the same)."""
        return dataset_counts(self.repository, dumps_dir(self.settings))

    def _rewrite_dumps(self) -> None:
        """Write the dumps again where there are some (after an erase)."""
        target = dumps_dir(self.settings)
        if read_manifest(target) is not None:
            self.dump(target)

    def dump_nquads(self, path: str | Path) -> None:
        """The whole store as N-Quads."""
        self.repository.dump_nquads(path)


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


__all__ = ["Catalogue", "opened"]
