"""The load pipeline: scan → group → normalise + validate (in workers) → write.

Writes follow one protocol: revision rows are committed to the log first, then the
entity graphs are swapped in the store, then the log records them as applied. A
crash in between is repaired when the catalogue is next opened.

Nothing here waits without end. The worker processes (:class:`Workers`) each take one
chunk at a time over a pipe of their own, and the main process waits on that pipe and on
the process itself, so a worker that dies (killed, out of memory) or cannot start is an
error at once. (``multiprocessing.Pool``, used before, waits forever for the answer of a
killed worker and starts new workers without end when their initialiser fails;
``concurrent.futures`` misses a worker killed while it takes a task.) A failure of the
writer (a full disk: ``DiskFull`` before anything of its batch is written) stops reading
at the next batch, and the workers are killed rather than waited for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

import pyoxigraph as ox

from loader.base.errors import BigtentError, SourceError
from loader.ingest.blocks import Block, BlockSource, record_blocks
from loader.ingest.inputs import InputLimits, Source
from loader.ingest.reader import (
    Grouper,
    OversizedRecord,
    ScanResult,
    locate,
    parse_block,
    read_records,
    scan,
)
from loader.records.context import Context
from loader.records.normalise import normalise
from loader.records.profiles import load_shapes
from loader.records.shacl import Problem, ShapesGraph
from loader.records.source import SourceRecord
from loader.storage.disk import ensure_room
from loader.storage.revision_log import HIDDEN, PRIVATE_STATES, NewRevision, compress

if TYPE_CHECKING:
    from loader.ingest.validation import Validation
    from loader.storage.repository import Repository


@dataclass
class RecordProblem:
    """Why one record was rejected."""

    entity: str
    source: str
    line: int | None
    problems: list[Problem]

    def lines(self, prefixes: dict[str, str] | None = None, verdict: str = "rejected") -> list[str]:
        """Human-readable report lines, IRIs shortened with ``prefixes``."""

        def short(iri: str) -> str:
            for name, namespace in sorted((prefixes or {}).items(), key=lambda kv: -len(kv[1])):
                if iri.startswith(namespace) and "/" not in iri[len(namespace) :]:
                    return f"{name}:{iri[len(namespace) :]}"
            return iri if iri.startswith("_:") or " " in iri else f"<{iri}>"

        where = self.source + (f":{self.line}" if self.line else "")
        out = [f"{where}: record {self.entity} {verdict}:"]
        for p in self.problems:
            path = f" {short(p.path)}" if p.path and "|" not in p.path else ""
            value = f" = {short(p.value)}" if p.value else ""
            out.append(f"  - {short(p.focus)}{path}{value}: {p.message} [{short(p.shape)}]")
        return out


@dataclass
class LoadReport:
    """What a load did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    triples_written: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    rejections: list[RecordProblem] = field(default_factory=list)
    file_errors: list[SourceError] = field(default_factory=list)
    warnings: list[RecordProblem] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    prefixes: dict[str, str] = field(default_factory=dict)

    @property
    def loaded(self) -> int:
        """Records created or updated."""
        return self.created + self.updated

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return self.rejected == 0 and not self.file_errors

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly summary."""
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "triples_written": self.triples_written,
            "seconds": round(self.seconds, 3),
            "rejections": [
                {
                    "entity": r.entity,
                    "source": r.source,
                    "line": r.line,
                    "problems": [p.as_dict() for p in r.problems],
                }
                for r in self.rejections
            ],
            "file_errors": [
                {"source": e.source, "line": e.line, "column": e.column, "error": e.detail}
                for e in self.file_errors
            ],
        }


@dataclass(frozen=True)
class Outcome:
    """A processed record: content or problems."""

    entity: str
    source: str
    line: int | None
    content: bytes | None  # canonical N-Triples when accepted
    content_hash: str | None
    compressed: bytes | None  # the content as the revision log stores it
    triples: int
    problems: list[Problem]
    warnings: list[Problem]


# --- worker side ---------------------------------------------------------------------------

_STATE: dict[str, object] = {}
WorkerArgs = tuple[Context, str, str, InputLimits]
#: What a worker is sent: records grouped by the main process, or a block of an input
#: (with the input's name and media type) that the worker parses and groups itself.
Task = tuple[Literal["records"], list[SourceRecord]] | tuple[Literal["block"], "BlockTask"]


@dataclass(frozen=True)
class BlockTask:
    """A block of a line-based input for a worker to parse, group and process."""

    block: Block
    source: str
    media_type: str


def _init_worker(ctx: Context, base: str, profile: str, limits: InputLimits) -> None:
    _STATE["ctx"], _STATE["limits"] = ctx, limits
    _STATE["shapes"] = load_shapes(base, profile)


def _worker_main(conn: Connection, args: WorkerArgs) -> None:
    """A worker process: set up, then answer each task it is sent, until told to stop."""
    # Ctrl+C reaches the whole process group; the main process handles it and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _init_worker(*args)
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    # The context and shapes live as long as the process: out of the collector's sight,
    # so collections (frequent while records are built) do not walk them every time.
    gc.freeze()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        answer: tuple[str, Any]
        try:
            kind, payload = task
            outcomes = process_block(payload) if kind == "block" else process_records(payload)
            answer = ("ok", outcomes)
        except SourceError as exc:  # the input's fault: reported as the serial path does
            answer = ("source-error", (exc.source, exc.detail, exc.line, exc.column))
        except BaseException:
            answer = ("error", traceback.format_exc())
        conn.send(answer)


def process_block(task: BlockTask) -> list[Outcome]:
    """Parse, group, normalise and validate one block of whole records (in a worker)."""
    ctx: Context = _STATE["ctx"]  # type: ignore[assignment]
    limits: InputLimits = _STATE["limits"]  # type: ignore[assignment]
    block = task.block
    grouper = Grouper(
        BlockSource(task.source),
        ctx.ns,
        None,
        limits.max_buffered_triples,
        limits.max_record_triples,
    )
    rdf_format = ox.RdfFormat.from_media_type(task.media_type)
    if rdf_format is None:  # never: the main process sends a format it read
        raise ValueError(f"unknown media type {task.media_type}")
    records: list[SourceRecord] = []
    for quad, line in parse_block(block.data, block.first_line, task.source, rdf_format, limits):
        grouper.feed(quad, line)
        if grouper.buffered >= limits.max_buffered_triples:
            records.extend(grouper.ready())
    records.extend(grouper.finish())
    return process_records(records)


def process_records(records: Sequence[SourceRecord]) -> list[Outcome]:
    """Normalise and validate records (in a worker or inline)."""
    ctx: Context = _STATE["ctx"]  # type: ignore[assignment]
    shapes: ShapesGraph = _STATE["shapes"]  # type: ignore[assignment]
    limit = _STATE["limits"].max_record_triples  # type: ignore[attr-defined]
    out = []
    for record in records:
        if isinstance(record, OversizedRecord):  # only counted while it was read
            out.append(_too_large(record, ctx, record.problem_message(limit)))
            continue
        normal = normalise(record, ctx)
        if len(normal.triples) > limit:
            message = (
                f"the record has {len(normal.triples)} triples, more than "
                f"MAX_RECORD_TRIPLES ({limit}); split it or raise BIGTENT_MAX_RECORD_TRIPLES"
            )
            out.append(_too_large(record, ctx, message))
            continue
        found = shapes.validate(normal.triples, ctx)
        errors = [p for p in found if p.severity == "Violation"]
        warnings = [p for p in found if p.severity != "Violation"]
        content = None if errors else normal.ntriples()
        out.append(
            Outcome(
                record.entity,
                record.source,
                record.line,
                content,
                normal.content_hash,
                None if content is None else compress(content),
                len(normal.triples),
                errors,
                warnings,
            )
        )
    return out


def _too_large(record: SourceRecord, ctx: Context, message: str) -> Outcome:
    problem = Problem(
        focus=ctx.ns["wd"] + record.entity,
        path=None,
        value=None,
        shape="(loader)",
        component="MaxRecordTriples",
        message=message,
    )
    return Outcome(record.entity, record.source, record.line, None, None, None, 0, [problem], [])


# --- main side -----------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 1)
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0

    def advance(self, n: int) -> None:
        """Count ``n`` more records."""
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.2 or self.done >= self.total):
            self._last = now
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 30)
            rate = self.done / max(now - self.started, 1e-6)
            self.stream.write(f"\r[{bar:<30}] {self.done}/{self.total} records {rate:,.0f}/s ")
            self.stream.flush()

    def close(self) -> None:
        """End the line."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _chunks(records: Iterable[SourceRecord], size: int) -> Iterator[list[SourceRecord]]:
    chunk: list[SourceRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class WorkerFailed(BigtentError):
    """A worker process died, could not start, or failed on a chunk."""

    status = 500

    def __init__(self, why: str) -> None:
        super().__init__(
            f"a load worker process {why}; nothing of the records it held was written. "
            "Run the load again (with fewer LOAD_WORKERS or a smaller LOAD_CHUNK_RECORDS if "
            "memory is short).",
            title="Load failed",
        )


class Workers:
    """Worker processes that normalise and validate chunks of records, in order. Each
    worker has its own pipe and holds at most one chunk: it is sent the next only after
    its answer was read, so neither side can block the other, and waiting for an answer
    also watches the process, so a worker that dies is noticed at once."""

    def __init__(self, count: int, args: WorkerArgs) -> None:
        spawn = multiprocessing.get_context("spawn")
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        for _ in range(count):
            mine, theirs = spawn.Pipe()
            process = spawn.Process(target=_worker_main, args=(theirs, args), daemon=True)
            process.start()
            theirs.close()
            self._conns.append(mine)
            self._procs.append(process)

    def map(self, tasks: Iterator[Task]) -> Iterator[list[Outcome]]:
        """The outcomes of each task, in the order of the tasks."""
        count = len(self._conns)
        busy: list[int] = []  # workers holding a chunk, in the order they got it
        for index, task in enumerate(tasks):
            worker = index % count
            if len(busy) == count:
                yield self._answer(busy.pop(0))
            self._send(worker, task)
            busy.append(worker)
        while busy:
            yield self._answer(busy.pop(0))

    def _send(self, worker: int, task: Task) -> None:
        try:
            self._conns[worker].send(task)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self._answer(worker)  # its error, if it sent one before it ended
            raise WorkerFailed("stopped unexpectedly") from None

    def _answer(self, worker: int) -> list[Outcome]:
        conn, process = self._conns[worker], self._procs[worker]
        ready = wait([conn, process.sentinel])
        if conn not in ready and not conn.poll():
            raise WorkerFailed(f"stopped unexpectedly (exit code {process.exitcode})")
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):
            raise WorkerFailed(f"stopped unexpectedly (exit code {process.exitcode})") from None
        if kind == "source-error":
            raise SourceError(*payload)
        if kind == "error":
            sys.stderr.write(str(payload))
            raise WorkerFailed(f"failed: {str(payload).strip().splitlines()[-1][:300]}")
        outcomes: list[Outcome] = payload
        return outcomes

    def close(self) -> None:
        """Let the workers end (after every answer was read)."""
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        for process in self._procs:
            process.join(10)
        self.kill()

    def kill(self) -> None:
        """End the workers now, whatever they are doing."""
        for process in self._procs:
            if process.is_alive():
                process.kill()
        for process in self._procs:
            process.join(5)
        for conn in self._conns:
            conn.close()


def run_load(
    cat: Repository,
    validation: Validation,
    sources: Sequence[Source | SourceError],
    *,
    dry_run: bool,
    author: str,
    summary: str,
    progress: bool | None,
) -> LoadReport:
    """Load sources into the catalogue; see the module docstring for the write protocol."""
    settings = cat.settings
    started = time.monotonic()
    if not dry_run:
        ensure_room(settings)  # before reading anything: a full disk fails at once
    limits = InputLimits.from_settings(settings)
    report = LoadReport(dry_run=dry_run, prefixes=cat.ns.prefixes)
    ctx = validation.build_context()
    scanned = []
    for source in sources:
        if isinstance(source, SourceError):
            report.file_errors.append(source)
            continue
        try:
            result = scan(source, cat.ns, limits)
        except SourceError as exc:
            report.file_errors.append(exc)
            continue
        if result.entities == 0:
            report.file_errors.append(
                SourceError(
                    source.name,
                    "holds no records (no triples about an entity <…entity/Q…>); "
                    "is it empty or written with another base IRI (setting BASE_URL)?",
                )
            )
            continue
        ctx.add_claims(result.claims)
        ctx.property_types.update(result.property_types)
        for label, owners in result.property_labels.items():
            ctx.property_labels[label] |= owners
        scanned.append((source, result))
    bar = Progress(sum(r.entities for _, r in scanned), enabled=progress)
    workers = settings.LOAD_WORKERS or os.cpu_count() or 1
    chunk_size = max(1, settings.LOAD_CHUNK_RECORDS)
    worker_args = (ctx, cat.ns.base, settings.PROFILE, limits)
    pool = None
    if workers > 1 and sum(r.entities for _, r in scanned) > chunk_size:
        pool = Workers(workers, worker_args)
    _init_worker(*worker_args)
    writer = _Writer(cat, report, dry_run=dry_run, author=author, summary=summary)
    gc.freeze()  # the context and what was read so far stay: collections skip them
    try:
        for source, result in scanned:
            batches = _batches(cat, source, result, limits, pool, chunk_size)
            try:
                for outcomes in batches:
                    writer.check()  # the writer failed (a full disk): stop reading now
                    _record_outcomes(cat, source, outcomes, report, writer)
                    bar.advance(len(outcomes))
            except SourceError as exc:
                report.file_errors.append(exc)
    except BaseException:
        # Interrupted or failed: stop the workers and the writer without waiting on them.
        # Whatever the revision log accepted but the store may lack is re-applied when the
        # catalogue is next opened; batches not yet logged were never accepted.
        writer.abandon()
        if pool is not None:
            pool.kill()
        bar.close()
        raise
    finally:
        gc.unfreeze()
    try:
        writer.close()
    finally:
        if pool is not None:
            pool.close()
        bar.close()
    if not dry_run:
        cat.after_write()
    report.seconds = time.monotonic() - started
    return report


def _batches(
    cat: Repository,
    source: Source,
    result: ScanResult,
    limits: InputLimits,
    pool: Workers | None,
    chunk_size: int,
) -> Iterator[list[Outcome]]:
    """The outcomes of a source's records, in input order: with workers and independent
    blocks (see :mod:`loader.ingest.blocks`), the workers read the blocks; otherwise this
    process reads and groups the records and the workers (if any) process them."""
    if pool is not None and result.why_serial is None:
        return pool.map(_block_tasks(source, cat, limits))
    records = read_records(source, cat.ns, result.rebase, limits)
    chunks = _chunks(records, chunk_size)
    if pool is None:
        return map(process_records, chunks)
    return pool.map(("records", chunk) for chunk in chunks)


def _block_tasks(source: Source, cat: Repository, limits: InputLimits) -> Iterator[Task]:
    media_type = source.format.media_type
    with source.read(limits) as fh:
        for block in record_blocks(fh, cat.ns, limits, source.name):
            yield ("block", BlockTask(block, source.name, media_type))


def _record_outcomes(
    cat: Repository, source: Source, outcomes: list[Outcome], report: LoadReport, writer: _Writer
) -> None:
    """Report rejections and warnings; hand accepted records to the writer."""
    for outcome in outcomes:
        if outcome.warnings:
            report.warnings.append(
                RecordProblem(outcome.entity, outcome.source, outcome.line, outcome.warnings)
            )
        if outcome.problems:
            report.rejected += 1
            line = outcome.line
            if line is None and not source.line_based:
                line = locate(source, cat.ns["wd"] + outcome.entity, "wd:" + outcome.entity)
            report.rejections.append(
                RecordProblem(outcome.entity, outcome.source, line, outcome.problems)
            )
        else:
            writer.add(outcome)


#: Size of a write batch: bulk loads have a large fixed cost per call, so batches are large,
#: but bounded (in triples and in bytes) so memory is too.
WRITE_BATCH_TRIPLES = 250_000
WRITE_BATCH_BYTES = 32 << 20


class _Writer:
    """Writes accepted records in input order, in large batches, on a background thread,
    so reading and validation go on while the store ingests. Revision numbers, the
    unchanged check and the created/updated counts all happen here, in order."""

    def __init__(
        self, cat: Repository, report: LoadReport, *, dry_run: bool, author: str, summary: str
    ) -> None:
        self.cat, self.report, self.dry_run = cat, report, dry_run
        self.author, self.summary = author, summary
        self._queue: queue.Queue[list[Outcome] | None] = queue.Queue(maxsize=2)
        self._pending: list[Outcome] = []
        self._pending_triples = 0
        self._pending_bytes = 0
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="bigtent-writer", daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Re-raise a failure of the writer (in the main thread)."""
        if self._error is not None:
            raise self._error

    def add(self, outcome: Outcome) -> None:
        """Queue one accepted record."""
        self.check()
        if self.dry_run:  # only counted: keep nothing of the content
            outcome = dataclasses.replace(outcome, content=None, compressed=None)
        self._pending.append(outcome)
        self._pending_triples += outcome.triples
        self._pending_bytes += len(outcome.content or b"") + len(outcome.compressed or b"")
        if self._pending_triples >= WRITE_BATCH_TRIPLES or self._pending_bytes >= WRITE_BATCH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._queue.put(self._pending)
            self._pending, self._pending_triples, self._pending_bytes = [], 0, 0

    def close(self) -> None:
        """Write what is left and wait; re-raise a failure of the writer."""
        try:
            self._flush()
        finally:
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self, wait: float = 10.0) -> None:
        """Drop queued batches and give the batch being written ``wait`` seconds."""
        self._stopped = True
        self._pending = []
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(wait)

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None and not self._stopped:
                try:
                    self._write(batch)
                except BaseException as exc:  # handed to the main thread by close()/add()
                    self._error = exc

    def _refuse_private(self, outcome: Outcome, state: str) -> None:
        """A load never writes over a hidden or erased person (it would publish it)."""
        fix = "unhide it first" if state == HIDDEN else "its id is not used again"
        self.report.rejected += 1
        self.report.rejections.append(
            RecordProblem(
                outcome.entity,
                outcome.source,
                outcome.line,
                [
                    Problem(
                        focus=self.cat.ns["wd"] + outcome.entity,
                        path=None,
                        value=None,
                        shape="bigtent:privacy",
                        component="PrivateEntity",
                        message=f"{outcome.entity} is {state}: {fix}",
                    )
                ],
            )
        )

    def _write(self, batch: list[Outcome]) -> None:
        report, cat = self.report, self.cat
        states = cat.revisions.states(o.entity for o in batch)
        changes = []
        for outcome in batch:
            state = states.get(outcome.entity)
            if state is not None and state.state in PRIVATE_STATES:
                self._refuse_private(outcome, state.state)
                continue
            live = state is not None and state.state == "live"
            if live and state.content_hash == outcome.content_hash:  # type: ignore[union-attr]
                report.unchanged += 1
                continue
            if live:
                report.updated += 1
            else:
                report.created += 1
            report.triples_written += outcome.triples
            report.entities.append(outcome.entity)
            changes.append(
                NewRevision(
                    outcome.entity,
                    "update" if live else "create",
                    self.author,
                    self.summary or f"Loaded from {Path(outcome.source).name}",
                    outcome.content_hash,
                    outcome.content,
                    compressed=outcome.compressed,
                )
            )
        if changes and not self.dry_run:
            cat.write_revisions(changes)
