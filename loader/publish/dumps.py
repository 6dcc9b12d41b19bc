"""Dumps of the whole catalogue, as Wikibase publishes them: full and truthy,
N-Triples and Turtle, gzipped, described by a manifest (``dumps.json``).

The catalogue is the union of every entity graph (the OWL ontology graph aside). The
dumps are made from the revision log, which holds each entity's graph as N-Triples
already, in one pass that writes all four files (see ``loader.publish.dump_format``): reading
the same triples back out of the store costs ten times as much, in decoding terms.
Reference and value nodes shared by several entities are written once.

Every file is written under a temporary name in the same directory and renamed
into place; the manifest is renamed last. A reader therefore sees either the old
or the new file, never a half-written one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import multiprocessing
import os
import queue
import signal
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyoxigraph as ox

from loader.base.errors import Unavailable
from loader.base.namespaces import Namespaces
from loader.base.rdf import syntaxes
from loader.base.settings import Settings
from loader.publish.dump_format import DumpFormatter
from loader.storage.leases import Lease, current_holder
from loader.storage.revision_log import LIVE, Revision, RevisionLog

if TYPE_CHECKING:
    from loader.storage.repository import Repository

log = logging.getLogger(__name__)

MANIFEST = "dumps.json"
FULL, TRUTHY = "full", "truthy"
# zlib level 3 compresses N-Triples twice as fast as the default 6 (≈220 vs ≈105 MB/s on
# the dev machine) into files about a fifth bigger; dumps are rewritten often, so speed
# wins.
GZIP_LEVEL = 3
CHUNK_BYTES = 4 << 20  # text handed to a compressing thread at a time
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class DumpKind:
    """One of the published dump files."""

    name: str
    flavour: str
    format: ox.RdfFormat
    media_type: str
    title: str


DUMPS: tuple[DumpKind, ...] = tuple(
    DumpKind(
        f"bigtent-{flavour}.{s.extension}.gz",
        flavour,
        s.rdf_format,
        s.media_type,
        f"{flavour.capitalize()} dump ({s.label}, gzip)",
    )
    for flavour in (FULL, TRUTHY)
    for s in syntaxes("nt", "ttl")
)
DUMPS_BY_NAME = {d.name: d for d in DUMPS}


@dataclass(frozen=True)
class DumpFile:
    """A written dump file, as the manifest records it."""

    name: str
    bytes: int
    triples: int
    sha256: str
    modified: str  # UTC, ISO 8601


@dataclass(frozen=True)
class Manifest:
    """What the dump directory holds: which revision the dumps show, and each file."""

    revision: int  # RevisionLog.last_id() when the dumps were made
    generated: str  # UTC, ISO 8601
    seconds: float
    files: tuple[DumpFile, ...]
    entities: int  # live entities at that revision
    classes: dict[str, int] = field(default_factory=dict)  # class IRI -> instances
    version: int = MANIFEST_VERSION

    def file(self, name: str) -> DumpFile | None:
        """The entry of one file, or None."""
        return next((f for f in self.files if f.name == name), None)

    @property
    def triples(self) -> int:
        """Triples in the full dump (the whole catalogue)."""
        entry = self.file(DUMPS[0].name)
        return entry.triples if entry else 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def read_manifest(out_dir: Path) -> Manifest | None:
    """The manifest of ``out_dir``, or None when there are no (complete) dumps."""
    try:
        raw = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("version") != MANIFEST_VERSION:
        return None
    try:
        files = tuple(DumpFile(**f) for f in raw["files"])
        return Manifest(
            revision=int(raw["revision"]),
            generated=str(raw["generated"]),
            seconds=float(raw["seconds"]),
            files=tuple(files),
            entities=int(raw["entities"]),
            classes={str(k): int(v) for k, v in raw.get("classes", {}).items()},
        )
    except (KeyError, TypeError, ValueError):
        return None


class DumpCancelled(Exception):
    """Writing stopped because the catalogue is closing; the old dumps stay."""


def _utc(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


class _Sink:
    """One dump file being written: text in, gzip out, compressed and hashed in a thread
    of its own (zlib and hashlib release the GIL), under a temporary name that replaces
    the file only when complete."""

    def __init__(self, kind: DumpKind, out_dir: Path) -> None:
        self.kind = kind
        self.target = out_dir / kind.name
        fd, name = tempfile.mkstemp(prefix=f".{kind.name}.", suffix=".part", dir=out_dir)
        self.tmp = Path(name)
        self._raw = os.fdopen(fd, "wb")
        self._sha = hashlib.sha256()
        self._size = 0
        self._parts: list[bytes] = []
        self._buffered = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._compress, name=f"dump {kind.name}")
        self._thread.start()

    def write(self, parts: list[bytes]) -> None:
        """Add text; it is handed to the compressing thread in chunks of a few MB."""
        self._parts.extend(parts)
        self._buffered += sum(len(x) for x in parts)
        if self._buffered >= CHUNK_BYTES:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._error is not None:
            raise self._error
        if self._parts:
            self._queue.put(b"".join(self._parts))
        self._parts, self._buffered = [], 0

    def _compress(self) -> None:
        # No name and no time in the gzip header: the same catalogue gives the same bytes.
        try:
            compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
            while (chunk := self._queue.get()) is not None:
                self._emit(compressor.compress(chunk))
            self._emit(compressor.flush())
        except BaseException as exc:  # reported by finish()
            self._error = exc
            while self._queue.get() is not None:  # let the producer finish
                pass

    def _emit(self, data: bytes) -> None:
        if data:
            self._sha.update(data)
            self._size += len(data)
            self._raw.write(data)

    def finish(self, triples: int) -> DumpFile:
        """Complete the file and rename it into place."""
        self._hand_over()
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        self.tmp.chmod(0o644)
        self.tmp.replace(self.target)
        return DumpFile(
            name=self.kind.name,
            bytes=self._size,
            triples=triples,
            sha256=self._sha.hexdigest(),
            modified=_utc(self.target.stat().st_mtime),
        )

    def abort(self) -> None:
        """Stop and remove the temporary file (the previous dump stays)."""
        if self._thread.is_alive():
            self._parts = []
            self._queue.put(None)
            self._thread.join()
        with suppress(OSError):
            self._raw.close()
        with suppress(OSError):
            self.tmp.unlink()


class DumpSource(Protocol):
    """What a dump is made from: a :class:`~loader.storage.repository.Repository`, or a
    :class:`LogSource` over the revision log alone."""

    ns: Namespaces
    revisions: RevisionLog

    def graph_ntriples(self, entity: str, content: bytes | None, revision: Revision) -> bytes:
        """The entity's graph as the store holds it."""
        ...


class LogSource:
    """The revision log alone, as a dump source: what a dump process opens, so it never
    needs the store (which the serving process holds)."""

    def __init__(self, base_url: str, log: Path | str) -> None:
        self.ns = Namespaces(base_url)
        self.revisions = RevisionLog(log)

    def graph_ntriples(self, entity: str, content: bytes | None, revision: Revision) -> bytes:
        """The entity's graph as the store holds it."""
        from loader.storage.repository import entity_graph_ntriples

        return entity_graph_ntriples(self.ns, entity, content, revision)


def _turtle_prefixes(cat: DumpSource) -> dict[str, str]:
    return {k: v for k, v in cat.ns.prefixes.items() if k not in ("sh", "bts")}


def dumps_dir(settings: Settings) -> Path:
    """Where the dumps of a catalogue are written and served from (DUMP_DIR, by default
    DATA_DIR/dumps)."""
    chosen = str(settings.DUMP_DIR)
    return Path(chosen) if chosen else settings.data_dir / "dumps"


#: The lease (in the shared database) of the process that writes the dumps.
DUMP_LEASE = "dumps"
#: How long the dumps lease lasts without renewal (a dead writer is replaced after this).
LEASE_SECONDS = 60.0


def dump_writer(settings: Settings, revisions_target: str | Path | None) -> str:
    """Who keeps the dumps up to date, for the /dumps/ page and its 503s: ``"server"``
    when this process writes them in the background (DUMP_INTERVAL) or another process
    holds the dumps lease now; ``"operator"`` when no process will (every DUMP_INTERVAL
    is 0: ``bigtent dump`` writes them, on the operator's schedule)."""
    if float(settings.DUMP_INTERVAL) > 0:
        return "server"
    try:
        holder = current_holder(revisions_target, DUMP_LEASE)
    except Unavailable:
        holder = None
    return "server" if holder is not None else "operator"


def write_dumps(cat: DumpSource, out_dir: Path, cancel: threading.Event | None = None) -> Manifest:
    """Write every dump file and then the manifest into ``out_dir``.

    The content is read from the revision log (every entity's newest snapshot, as the
    store holds it), in one read transaction. Setting ``cancel`` stops the writing
    (DumpCancelled); the previous files and manifest stay."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out_dir)
    started = time.perf_counter()
    formatter = DumpFormatter(cat.ns, _turtle_prefixes(cat))
    sinks: list[_Sink] = []
    entities = 0
    try:
        sinks.extend(_Sink(kind, out_dir) for kind in DUMPS)
        full_nt, full_ttl, truthy_nt, truthy_ttl = sinks
        header = formatter.turtle_header()
        full_ttl.write([header])
        truthy_ttl.write([header])
        with cat.revisions.export() as export:
            for count, (rev, blob) in enumerate(export.rows):
                if cancel is not None and count % 512 == 0 and cancel.is_set():
                    raise DumpCancelled
                content = zlib.decompress(blob) if blob else None
                streams = formatter.entity(rev.entity, cat.graph_ntriples(rev.entity, content, rev))
                full_nt.write(streams.full_nt)
                full_ttl.write(streams.full_ttl)
                truthy_nt.write(streams.truthy_nt)
                truthy_ttl.write(streams.truthy_ttl)
                entities += rev.state == LIVE
            revision = export.revision
        files = (
            full_nt.finish(formatter.triples),
            full_ttl.finish(formatter.triples),
            truthy_nt.finish(formatter.truthy_triples),
            truthy_ttl.finish(formatter.truthy_triples),
        )
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    manifest = Manifest(
        revision=revision,
        generated=_utc(time.time()),
        seconds=round(time.perf_counter() - started, 3),
        files=files,
        entities=entities,
        classes={
            term[1:-1].decode(): n
            for term, n in sorted(formatter.classes.items())
            if term.startswith(b"<")
        },
    )
    _write_atomically(out_dir / MANIFEST, json.dumps(manifest.as_dict(), indent=1).encode())
    return manifest


#: The graph-named N-Quads of ``bigtent dump --nquads``.
NQUADS = "bigtent-graphs.nq.gz"


def write_nquads(cat: Repository, path: Path) -> int:
    """Write what the triple store should hold as gzipped N-Quads to ``path``: one named
    graph per entity (its data document IRI, as in the store) and the ontology graph,
    made from the revision log, for an engine's bulk loader (Virtuoso's ``ld_dir`` +
    ``rdf_loader_run()``, Oxigraph's ``load``); ``bigtent verify`` then finds the engine
    equal to the log. Blank node labels are made unique per graph. Written under a
    temporary name and renamed into place; returns the number of quads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(name)
    quads = 0
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            ontology = cat.ontology_ntriples()
            if ontology is not None:
                quads += _write_graph(out, cat.ontology_graph, "o", ontology)
            with cat.revisions.export() as export:
                for rev, blob in export.rows:
                    content = zlib.decompress(blob) if blob else None
                    data = cat.graph_ntriples(rev.entity, content, rev)
                    quads += _write_graph(out, cat.ns.data_document(rev.entity), rev.entity, data)
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    return quads


_Node = ox.NamedNode | ox.BlankNode | ox.Literal


def _write_graph(out: gzip.GzipFile, graph: ox.NamedNode, tag: str, ntriples: bytes) -> int:
    if not ntriples:
        return 0

    def own(
        term: ox.NamedNode | ox.BlankNode | ox.Literal,
    ) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        return ox.BlankNode(f"{tag}x{term.value}") if isinstance(term, ox.BlankNode) else term

    quads = [
        ox.Quad(own(t.subject), t.predicate, own(t.object), graph)  # type: ignore[arg-type]
        for t in ox.parse(ntriples, ox.RdfFormat.N_TRIPLES)
    ]
    out.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    return len(quads)


def _remove_abandoned(out_dir: Path, older_than: float = 3600.0) -> None:
    """Delete temporary files a killed writer left behind (only old ones: a younger one
    may belong to a writer still at work)."""
    limit = time.time() - older_than
    for leftover in out_dir.glob(".*.part"):
        with suppress(OSError):
            if leftover.stat().st_mtime < limit:
                leftover.unlink()


def _write_atomically(target: Path, data: bytes) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


class DumpScheduler:
    """Keeps the dumps in step with the catalogue from a background thread.

    Every few seconds it compares ``RevisionLog.last_id()`` with the revision the dumps
    were made at; when they differ, and the previous dump started at least ``interval``
    seconds ago, it writes them again. Requests never wait for it.

    The writing runs in a child process at low priority, reading the revision log only:
    a 100k-entity dump is ~20 s of CPU that would otherwise hold the serving process's
    GIL. (An in-memory catalogue, which a child cannot open, is dumped in the thread.)
    """

    def __init__(
        self,
        cat: Repository,
        out_dir: Path,
        interval: float,
        poll: float = 5.0,
        on_written: Callable[[Manifest], None] | None = None,
        elect: bool = True,
    ) -> None:
        """``elect``: with a revision log in a database (shared by several processes),
        write only while holding the ``dumps`` lease there (:mod:`loader.storage.leases`),
        so one process of a deployment writes the dumps to shared storage and the others
        serve them."""
        self.cat = cat
        self.out_dir = out_dir
        self.interval = interval
        self.poll = min(poll, interval) if interval > 0 else poll
        self.on_written = on_written
        target = cat.revisions.target
        self.lease = (
            Lease(target, DUMP_LEASE, max(LEASE_SECONDS, 4 * self.poll))
            if elect and target is not None
            else None
        )
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_start: float | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread (a daemon: it never keeps the process alive)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="bigtent-dumps", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread; a dump being written is abandoned (the old one stays). The
        lease is given up, so another process takes over the dumps at once."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if self.lease is not None:
            with suppress(Exception):  # a database that is gone lets the lease expire
                self.lease.release()
            self.lease.close()

    def elected(self) -> bool:
        """Take or renew the dumps lease: True when this process is the one to write the
        dumps (always, without a shared database)."""
        if self.lease is None:
            return True
        try:
            return self.lease.acquire()
        except Unavailable:
            return False  # the database is away: whoever holds the lease keeps it

    def stale(self) -> bool:
        """True when the dumps do not show the newest revision."""
        manifest = read_manifest(self.out_dir)
        return manifest is None or manifest.revision != self.cat.revisions.last_id()

    def run_once(self) -> Manifest | None:
        """Write the dumps now if this process is elected, they are stale and the interval
        allows it."""
        if not self.elected():
            return None
        now = time.monotonic()
        if self._last_start is not None and now - self._last_start < self.interval:
            return None
        if not self.stale():
            return None
        with self._lock:
            self._last_start = time.monotonic()
            if self.cat.revisions.target is None:
                manifest = write_dumps(self.cat, self.out_dir, self._stop)
            else:
                manifest = self._write_in_child()
        log.info("wrote dumps at revision %s in %.1fs", manifest.revision, manifest.seconds)
        if self.on_written is not None:
            self.on_written(manifest)
        return manifest

    def _write_in_child(self) -> Manifest:
        context = multiprocessing.get_context("spawn")
        child = context.Process(
            target=_dump_process,
            args=(self.cat.settings.BASE_URL, self.cat.revisions.target, self.out_dir),
            name="bigtent-dumps",
            daemon=True,
        )
        child.start()
        renewed = time.monotonic()
        while child.exitcode is None:
            if self._stop.wait(0.2):
                child.terminate()  # the old files stay; temporaries are swept later
                child.join(10)
                raise DumpCancelled
            if time.monotonic() - renewed > self.poll:
                renewed = time.monotonic()
                self.elected()  # keep the lease while a long dump is written
            child.join(0)
        manifest = read_manifest(self.out_dir)
        if child.exitcode != 0 or manifest is None:
            raise RuntimeError(f"the dump process failed (exit code {child.exitcode})")
        return manifest

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.wait(delay):
            delay = self.poll
            try:
                self.run_once()
            except DumpCancelled:
                return
            except Exception:  # keep serving; the next round tries again
                if self._stop.is_set():
                    return
                log.exception("writing the dumps to %s failed", self.out_dir)


def _dump_process(base_url: str, log: Path | str, out_dir: Path) -> None:
    """Body of the dump process: lower priority, ignore Ctrl+C (the parent stops it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with suppress(OSError):
        os.nice(10)
    source = LogSource(base_url, log)
    try:
        write_dumps(source, out_dir)
    finally:
        source.revisions.close()


__all__ = [
    "DUMPS",
    "NQUADS",
    "DumpScheduler",
    "Manifest",
    "dump_writer",
    "dumps_dir",
    "read_manifest",
    "write_dumps",
    "write_nquads",
]
