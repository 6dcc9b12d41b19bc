"""Dumps of the whole catalogue, as Wikibase publishes them: full and truthy,
N-Triples and Turtle, gzipped, described by a manifest (``dumps.json``).

The catalogue is the union of every entity graph (the OWL ontology graph aside).
Each dump is one SPARQL CONSTRUCT evaluated and serialised by pyoxigraph, so no
Python code runs per triple; CONSTRUCT returns a set, so reference and value nodes
shared by several entities appear once.

Every file is written under a temporary name in the same directory and renamed
into place; the manifest is renamed last. A reader therefore sees either the old
or the new file, never a half-written one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import pyoxigraph as ox

from loader.settings import Settings

if TYPE_CHECKING:
    from loader.catalogue import Catalogue

log = logging.getLogger(__name__)

MANIFEST = "dumps.json"
FULL, TRUTHY = "full", "truthy"
GZIP_LEVEL = 6
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class DumpKind:
    """One of the published dump files."""

    name: str
    flavour: str
    format: ox.RdfFormat
    media_type: str
    title: str


DUMPS: tuple[DumpKind, ...] = (
    DumpKind(
        "bigtent-full.nt.gz",
        FULL,
        ox.RdfFormat.N_TRIPLES,
        "application/n-triples",
        "Full dump (N-Triples, gzip)",
    ),
    DumpKind(
        "bigtent-full.ttl.gz",
        FULL,
        ox.RdfFormat.TURTLE,
        "text/turtle",
        "Full dump (Turtle, gzip)",
    ),
    DumpKind(
        "bigtent-truthy.nt.gz",
        TRUTHY,
        ox.RdfFormat.N_TRIPLES,
        "application/n-triples",
        "Truthy dump (N-Triples, gzip)",
    ),
    DumpKind(
        "bigtent-truthy.ttl.gz",
        TRUTHY,
        ox.RdfFormat.TURTLE,
        "text/turtle",
        "Truthy dump (Turtle, gzip)",
    ),
)
DUMPS_BY_NAME = {d.name: d for d in DUMPS}

# Every triple of every entity graph. ?ontology is the graph of the OWL ontology, which
# is published with the ontology rather than in the dumps. VALUES_ binds the namespace
# variables (pyoxigraph substitutes only projected variables, which CONSTRUCT has none of).
FULL_QUERY = """
CONSTRUCT { ?s ?p ?o } WHERE {
  VALUES_
  GRAPH ?g { ?s ?p ?o }
  FILTER (?g != ?ontology)
}
"""
# Truthy: what Wikibase's truthy dumps hold. No statement, reference or value nodes,
# and no p:P… links to statements; labels, descriptions, aliases, wdt: triples, types
# and property definitions stay. Blank nodes (in property definitions) are kept.
TRUTHY_QUERY = """
CONSTRUCT { ?s ?p ?o } WHERE {
  VALUES_
  GRAPH ?g { ?s ?p ?o }
  FILTER (?g != ?ontology)
  FILTER (isBlank(?s) || !(STRSTARTS(STR(?s), ?statements) || STRSTARTS(STR(?s), ?references)
                           || STRSTARTS(STR(?s), ?values)))
  FILTER (!(STRSTARTS(STR(?p), ?claims) && !CONTAINS(STRAFTER(STR(?p), ?claims), "/")))
}
"""
CLASS_QUERY = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  VALUES_
  GRAPH ?g { ?s a ?class }
  FILTER (?g != ?ontology)
} GROUP BY ?class ORDER BY ?class
"""


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
            files=files,
            entities=int(raw["entities"]),
            classes={str(k): int(v) for k, v in raw.get("classes", {}).items()},
        )
    except (KeyError, TypeError, ValueError):
        return None


class _CountingHasher:
    """A write-only binary file that hashes what passes through it to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


class DumpCancelled(Exception):
    """Writing stopped because the catalogue is closing; the old dumps stay."""


class _LineCounter:
    """A write-only binary file counting newlines (N-Triples: one triple per line) that
    stops the writer when ``cancel`` is set."""

    def __init__(self, target: IO[bytes], cancel: threading.Event | None) -> None:
        self.target = target
        self.cancel = cancel
        self.lines = 0

    def write(self, data: bytes) -> int:
        if self.cancel is not None and self.cancel.is_set():
            raise DumpCancelled
        self.lines += data.count(b"\n")
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


def _utc(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


@contextmanager
def _atomic(target: Path) -> Iterator[IO[bytes]]:
    """A temporary file next to ``target`` that replaces it only when complete."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            yield raw
            raw.flush()
            os.fsync(raw.fileno())
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


def _bound(query: str, cat: Catalogue) -> str:
    """``query`` with its namespace variables bound by a VALUES row of serialised terms
    (IRIs derived from BASE_URL, never user input)."""
    ns = cat.ns
    terms: dict[str, ox.NamedNode | ox.Literal] = {
        "ontology": cat.ontology_graph,
        "statements": ox.Literal(ns["wds"]),
        "references": ox.Literal(ns["wdref"]),
        "values": ox.Literal(ns["wdv"]),
        "claims": ox.Literal(ns["p"]),
    }
    names = " ".join(f"?{k}" for k in terms)
    row = " ".join(str(v) for v in terms.values())
    return query.replace("VALUES_", f"VALUES ({names}) {{ ({row}) }}")


def _construct(cat: Catalogue, flavour: str) -> ox.QueryTriples:
    return cat.store.construct(_bound(FULL_QUERY if flavour == FULL else TRUTHY_QUERY, cat))


def _write_one(
    cat: Catalogue, kind: DumpKind, out_dir: Path, cancel: threading.Event | None = None
) -> DumpFile:
    target = out_dir / kind.name
    with _atomic(target) as raw:
        hasher = _CountingHasher(raw)
        # No name and no time in the gzip header: the same catalogue gives the same bytes.
        gz = gzip.GzipFile(
            filename="",
            mode="wb",
            fileobj=cast("IO[bytes]", hasher),
            compresslevel=GZIP_LEVEL,
            mtime=0,
        )
        counter = _LineCounter(cast("IO[bytes]", gz), cancel)
        triples = _construct(cat, kind.flavour)
        if kind.format == ox.RdfFormat.TURTLE:
            ox.serialize(
                triples,
                cast("IO[bytes]", counter),
                kind.format,
                prefixes=_turtle_prefixes(cat),
            )
        else:
            triples.serialize(cast("IO[bytes]", counter), kind.format)
        gz.close()
        count = counter.lines
    return DumpFile(
        name=kind.name,
        bytes=hasher.size,
        triples=count,
        sha256=hasher.sha.hexdigest(),
        modified=_utc(target.stat().st_mtime),
    )


def _turtle_prefixes(cat: Catalogue) -> dict[str, str]:
    return {k: v for k, v in cat.ns.prefixes.items() if k not in ("sh", "bts")}


def class_counts(cat: Catalogue) -> dict[str, int]:
    """Instances of each class (``rdf:type`` object) in the catalogue."""
    rows = cat.store.select(_bound(CLASS_QUERY, cat))
    return {r["class"].value: int(r["n"].value) for r in rows}


def dumps_dir(settings: Settings) -> Path:
    """Where the dumps of a catalogue are written and served from."""
    return settings.data_dir / "dumps"


def write_dumps(cat: Catalogue, out_dir: Path, cancel: threading.Event | None = None) -> Manifest:
    """Write every dump file and then the manifest into ``out_dir``.

    Setting ``cancel`` stops the writing (DumpCancelled); files already renamed into
    place are complete, the manifest still describes the previous set."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    revision = cat.revisions.last_id()
    files = tuple(_write_one(cat, kind, out_dir, cancel) for kind in DUMPS)
    manifest = Manifest(
        revision=revision,
        generated=_utc(time.time()),
        seconds=round(time.perf_counter() - started, 3),
        files=files,
        entities=cat.revisions.entity_count(),
        classes=class_counts(cat),
    )
    with _atomic(out_dir / MANIFEST) as raw:
        raw.write(json.dumps(manifest.as_dict(), indent=1).encode())
    return manifest


class DumpScheduler:
    """Keeps the dumps in step with the catalogue from a background thread.

    Every few seconds it compares ``RevisionLog.last_id()`` with the revision the dumps
    were made at; when they differ, and the previous dump started at least ``interval``
    seconds ago, it writes them again. Requests never wait for it.
    """

    def __init__(
        self,
        cat: Catalogue,
        out_dir: Path,
        interval: float,
        poll: float = 5.0,
        on_written: Callable[[Manifest], None] | None = None,
    ) -> None:
        self.cat = cat
        self.out_dir = out_dir
        self.interval = interval
        self.poll = min(poll, interval) if interval > 0 else poll
        self.on_written = on_written
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
        """Stop the thread; a dump being written is abandoned (the old one stays)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def stale(self) -> bool:
        """True when the dumps do not show the newest revision."""
        manifest = read_manifest(self.out_dir)
        return manifest is None or manifest.revision != self.cat.revisions.last_id()

    def run_once(self) -> Manifest | None:
        """Write the dumps now if they are stale and the interval allows it."""
        now = time.monotonic()
        if self._last_start is not None and now - self._last_start < self.interval:
            return None
        if not self.stale():
            return None
        with self._lock:
            self._last_start = time.monotonic()
            manifest = write_dumps(self.cat, self.out_dir, self._stop)
        log.info("wrote dumps at revision %s in %.1fs", manifest.revision, manifest.seconds)
        if self.on_written is not None:
            self.on_written(manifest)
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


__all__ = ["DUMPS", "DumpScheduler", "Manifest", "dumps_dir", "read_manifest", "write_dumps"]
