"""The public SPARQL query service: worker processes, hard time limits, budgets.

pyoxigraph cannot cancel a running query, so queries do not run in the web process. A
pool of SPARQL_WORKERS worker processes (:mod:`loader.query.worker`) each open the newest
read-only snapshot of the store (:mod:`loader.query.snapshots`) and run one query at a time,
serialising the complete result before sending a byte back. The web process waits at
most the query's time limit; past it, it SIGKILLs the worker (freeing its CPU at once),
starts a replacement and answers with an error naming SPARQL_TIMEOUT. Because nothing is
sent before the result is complete, a client never receives a truncated body.

Before a query waits for a worker, its text passes every check of
:mod:`loader.query.policy` here, in the web process (unparsable, too deeply nested, an
update, a SERVICE outside the allow-list: refused at once, never queued), and its client
passes the budget (:mod:`loader.query.budgets`). Waiting queries are served fairly across
clients (:mod:`loader.query.fair_queue`): one client never holds every worker, and a
freed worker goes to the waiting client holding the fewest.

Queries wait in one of two lanes (:mod:`loader.query.lanes`). Queries predicted cheap wait
in the fast lane, served by SPARQL_FAST_WORKERS workers of their own (and by the normal
workers when no normal query waits), each run there for at most SPARQL_FAST_SLICE seconds:
one still running then is stopped and run again in the normal lane. So a cheap query never
waits behind an expensive one. In either lane a query waits at most SPARQL_QUEUE_WAIT
seconds; only when SPARQL_QUEUE_MAX queries already wait in its lane is it refused at once
(503, with a Retry-After estimated from the queries ahead of it): shedding is for overload.

Results are capped in the worker at SPARQL_MAX_RESULT_BYTES (cut and flagged, see
:mod:`loader.query.execute`) rather than streamed: streaming would send a 200 before the
query is known to finish within its time limit. So the web process holds at most
SPARQL_WORKERS results of at most that size, and it refuses a reply that says it is
larger without reading it.

A background thread publishes a new snapshot when the revision log has moved on, at most
every SPARQL_SNAPSHOT_INTERVAL seconds, and moves idle workers onto it; a change is thus
visible to queries within that interval (plus the time to take a checkpoint).

Every limit of the endpoint lives here, read from the settings once.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyoxigraph as ox

from loader.base.errors import BigtentError, ConfigError
from loader.query.budgets import ClientBudget
from loader.query.execute import QueryOutcome, QueryRequest, check, execute
from loader.query.fair_queue import FairQueue
from loader.query.lanes import FAST, NORMAL, ShapeHistory, query_shape
from loader.query.result_cache import ResultCache, request_digest
from loader.query.snapshots import Snapshot, Snapshots
from loader.query.worker import read_frame, write_frame
from loader.storage.oxigraph_store import OxigraphStore

if TYPE_CHECKING:
    from loader.base.namespaces import Namespaces
    from loader.base.settings import Settings
    from loader.storage.repository import Repository

log = logging.getLogger(__name__)

_GRAPH_PARAMETERS = (("default_graphs", "default-graph-uri"), ("named_graphs", "named-graph-uri"))
INTERNAL = ""  # client key of the service's own queries: no budget
_STARTUP = 60.0  # seconds a new worker may take to start


class _Timeout(Exception):
    pass


class _WorkerDied(Exception):
    pass


class _Oversized(Exception):
    pass


class _SliceOver(Exception):
    """A fast-lane query ran past SPARQL_FAST_SLICE (its worker was replaced)."""


@dataclass(eq=False)
class _Ticket:
    """One query waiting for a worker."""

    worker: _Worker | None = None
    turned_away: bool = False


class _Worker:
    """One worker process and the pipes to it."""

    def __init__(
        self, memory_mb: int, isolate: bool, max_body: int = 0, fast: bool = False
    ) -> None:
        self.max_body = max_body  # largest reply body read (0: any); see _read
        self.fast = fast  # reserved for the fast lane
        command = [sys.executable, "-m", "loader.query.worker", "--memory", str(memory_mb)]
        if isolate:
            command.append("--isolate")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in: IO[bytes] = self.process.stdin
        self._out = self.process.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._out, select.POLLIN | select.POLLHUP)
        self.ready = False
        self.isolated = False
        self.snapshot: Path | None = None  # the snapshot the worker has (or will have) open

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def call(self, header: dict[str, Any], deadline: float) -> tuple[dict[str, Any], bytes]:
        """Send one request; the reply, or _Timeout past ``deadline`` / _WorkerDied. The
        time a new worker takes to start moves ``deadline`` on: it is not the query's."""
        if not self.ready:
            waited = time.monotonic()
            hello, _ = self._read(waited + _STARTUP)
            self.ready = True
            self.isolated = bool(hello.get("isolated"))
            deadline += time.monotonic() - waited
        try:
            write_frame(self._in, header)
        except (BrokenPipeError, OSError):
            raise _WorkerDied from None
        return self._read(deadline)

    def _read(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        prefix = self._read_exactly(8, deadline)
        head_len = int.from_bytes(prefix[:4], "big")
        body_len = int.from_bytes(prefix[4:], "big")
        if self.max_body and body_len > self.max_body:
            raise _Oversized  # never read: the worker should have cut it
        data = self._read_exactly(head_len + body_len, deadline)
        message = read_frame(io.BytesIO(prefix + data))
        if message is None:
            raise _WorkerDied
        return message

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        missing = size
        while missing > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll.poll(math.ceil(remaining * 1000)):
                raise _Timeout
            chunk = os.read(self._out, min(missing, 1 << 20))
            if not chunk:
                raise _WorkerDied
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        """SIGKILL the process and reap it."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def request_template(settings: Settings, ns: Namespaces) -> QueryRequest:
    """What every query of the endpoint runs with, its text left empty: the limits of
    the settings, the catalogue's prefixes and base, and the default label languages.
    ``bench.sparql_direct`` runs queries in-process with the same template."""
    return QueryRequest(
        query="",
        max_rows=max(1, int(settings.SPARQL_MAX_ROWS)),
        max_nesting=int(settings.SPARQL_MAX_NESTING),
        max_chain=int(settings.SPARQL_MAX_CHAIN),
        max_bytes=int(settings.SPARQL_MAX_RESULT_BYTES),
        service_allow=tuple(sorted(settings.service_allow)),
        prefixes=ns.sparql_prefixes(),
        base_iri=ns.base,
        entity_namespace=ns["wd"],
        languages=tuple(settings.languages),
    )


class QueryService:
    """Runs public SPARQL queries under the endpoint's limits (see the module docstring)."""

    def __init__(self, repository: Repository) -> None:
        store = repository.store
        if not isinstance(store, OxigraphStore) or store.path is None:
            raise ConfigError("the SPARQL endpoint needs the embedded on-disk store")
        self.store = store
        self._configure(repository)
        self.snapshots = Snapshots(
            store, repository.revisions, repository.settings.data_dir / "snapshots"
        )
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._workers: list[_Worker] = []
        self._queues: dict[str, FairQueue[_Ticket]] = {
            NORMAL: FairQueue(
                self.workers_wanted - 1 if self.workers_wanted > 1 else 1, self.max_waiting
            ),
            # a fast-lane query holds any worker for one slice at most
            FAST: FairQueue(self.workers_wanted + self.fast_workers - 1, self.max_waiting),
        }
        self._mean_run = {NORMAL: self.timeout / 4, FAST: self.fast_slice / 2}
        self.shapes = ShapeHistory()
        self._started = False
        self._closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _configure(self, repository: Repository) -> None:
        """Every limit of the endpoint, from the settings (shared by every backend)."""
        settings = repository.settings
        self.repository = repository
        self.workers_wanted = max(1, int(settings.SPARQL_WORKERS))
        self.timeout = float(settings.SPARQL_TIMEOUT)
        if self.timeout <= 0:
            raise ConfigError("SPARQL_TIMEOUT must be more than 0 seconds")
        self.template = request_template(settings, repository.ns)
        self.max_rows = self.template.max_rows
        self.max_query_bytes = int(settings.SPARQL_MAX_QUERY_BYTES)
        self.max_nesting = self.template.max_nesting
        self.max_chain = self.template.max_chain
        self.max_result_bytes = self.template.max_bytes
        self.memory_mb = int(settings.SPARQL_WORKER_MEMORY)
        self.service_allow = settings.service_allow
        self.snapshot_interval = max(0.05, float(settings.SPARQL_SNAPSHOT_INTERVAL))
        self.budget = ClientBudget(
            float(settings.SPARQL_CLIENT_BUDGET), int(settings.SPARQL_CLIENT_PARALLEL)
        )
        self.max_waiting = max(0, int(settings.SPARQL_QUEUE_MAX))
        self.queue_wait = max(0.0, float(settings.SPARQL_QUEUE_WAIT))
        self.fast_workers = max(0, int(settings.SPARQL_FAST_WORKERS))
        self.fast_slice = max(0.01, float(settings.SPARQL_FAST_SLICE))
        self.cache = ResultCache(int(settings.SPARQL_CACHE_MB) * 1024 * 1024)
        self.cache_max_age = max(0, int(settings.SPARQL_CACHE_MAX_AGE))
        self.executions = 0  # queries handed to an engine (cache hits are not)
        self._executions_lock = threading.Lock()
        self._warn_unbounded_budget()

    # --- the public interface ----------------------------------------------------------
    def request(self, query: str, **options: Any) -> QueryRequest:
        """A :class:`QueryRequest` with this endpoint's limits, prefixes and base; graph
        IRIs (``default_graphs``, ``named_graphs``) are checked here."""
        for key, name in (
            ("default_graphs", "default-graph-uri"),
            ("named_graphs", "named-graph-uri"),
        ):
            for iri in options.get(key) or ():
                try:
                    ox.NamedNode(iri)
                except ValueError:
                    raise BigtentError(
                        f"{name}={iri!r} is not an absolute IRI.", title="Bad graph IRI"
                    ) from None
        return replace(self.template, query=query, **options)

    def run(
        self, request: QueryRequest, *, client: str = INTERNAL, timeout: float | None = None
    ) -> QueryOutcome:
        """Run ``request`` in a worker within the time limit (``timeout`` may only lower
        SPARQL_TIMEOUT); raises :class:`BigtentError` for every failure. ``client`` is the
        budget key (:func:`loader.query.budgets.client_key`) of whoever asked."""
        self.check(request)
        return self._run(request, client, timeout)

    def _run(self, request: QueryRequest, client: str, timeout: float | None) -> QueryOutcome:
        """:meth:`run` for a request that passed :meth:`check`."""
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        lowered = timeout is not None and timeout < self.timeout
        self._start()
        shape = query_shape(request.query)
        lane = self.shapes.lane(shape) if self.fast_workers else NORMAL
        budgeted = client != INTERNAL
        if budgeted:
            self.budget.admit(client)
        started: float | None = None  # when the client's charge began (budget.start)
        ran = 0.0  # seconds run in finished attempts
        began: float | None = None  # when the current attempt got its worker
        self._count_execution()
        try:
            if lane == FAST and limit > self.fast_slice:
                worker = self._checkout(client, FAST)
                began = time.monotonic()
                if budgeted:
                    started = self.budget.start(client)
                try:
                    outcome = self._call(
                        worker, client, FAST, request, began + self.fast_slice, limit, lowered
                    )
                except _SliceOver:  # mispredicted: run it again in the normal lane
                    self.shapes.record(shape, slow=True)
                else:
                    self.shapes.record(shape, slow=False)
                    outcome.raise_for_error()
                    return outcome
                ran, began = time.monotonic() - began, None
            worker = self._checkout(client, NORMAL)
            began = time.monotonic()
            if budgeted and started is None:
                started = self.budget.start(client)
            outcome = self._call(
                worker, client, NORMAL, request, began + limit - ran, limit, lowered
            )
            if outcome.status == 200:
                self.shapes.record(shape, slow=time.monotonic() - began > self.fast_slice)
        finally:
            if budgeted:
                if began is not None:
                    ran += time.monotonic() - began
                self.budget.finish(client, ran if started is not None else 0.0, started)
        outcome.raise_for_error()
        return outcome

    def run_cached(
        self,
        request: QueryRequest,
        *,
        client: str = INTERNAL,
        timeout: float | None = None,
        checked: bool = False,
    ) -> QueryOutcome:
        """:meth:`run`, answered from the cache (SPARQL_CACHE_MB) when the same request
        was answered at the revision queries see now; for GET requests, whose answers
        may be shared. A cached answer costs the client no budget. A refused query is
        refused before the cache is asked (``checked``: the caller just ran
        :meth:`check` on this request)."""
        if not checked:
            self.check(request)
        digest = request_digest(request)
        found = self.cache.get(self.current_revision(), digest)
        if found is not None:
            return found
        outcome = self._run(request, client, timeout)
        if outcome.revision >= 0:
            self.cache.put(outcome.revision, digest, outcome)
        return outcome

    def answer_tag(self, request: QueryRequest, revision: int | None = None) -> str:
        """The ETag of the answer to ``request`` at ``revision`` (default: the revision
        queries see now): the same until the catalogue changes."""
        if revision is None:
            revision = self.current_revision()
        return f"{revision}-{request_digest(request)}"

    def current_revision(self) -> int:
        """The catalogue revision queries see now: the newest snapshot's."""
        self._start()
        current = self.snapshots.current
        return current.generation if current is not None else -1

    def _count_execution(self) -> None:
        with self._executions_lock:
            self.executions += 1

    def check(self, request: QueryRequest) -> None:
        """The checks every query passes before it may wait for the engine: its length,
        then :func:`loader.query.execute.check` (the text's policy)."""
        self.check_length(request.query)
        check(request)

    def run_local(self, request: QueryRequest | str) -> QueryOutcome:
        """Run a query in this process on the live store, with the endpoint's prefixes,
        dataset, labels and row cap but no time limit: for tests and trusted tools."""
        if isinstance(request, str):
            request = self.request(request)
        return execute(self.store.engine(), request, network_isolated=False)

    def check_length(self, query: str) -> None:
        """413 for queries longer than SPARQL_MAX_QUERY_BYTES."""
        size = len(query.encode("utf-8", "surrogatepass"))
        if size > self.max_query_bytes:
            raise BigtentError(
                f"The query is {size} bytes long; the limit is {self.max_query_bytes} bytes "
                "(setting SPARQL_MAX_QUERY_BYTES).",
                title="Query too long",
                status=413,
            )

    def _warn_unbounded_budget(self) -> None:
        """Say so when SPARQL_CLIENT_BUDGET can never run out: one client cannot use more
        query-seconds per minute than 60 times the workers it may hold at once."""
        budget = self.budget
        most = max(1, self.workers_wanted - 1)
        if budget.parallel:
            most = min(most, budget.parallel)
        if budget.capacity and budget.capacity >= 60 * most:
            log.warning(
                "SPARQL_CLIENT_BUDGET=%g query-seconds per minute can never run out: one "
                "client runs at most %d query(ies) at once (SPARQL_CLIENT_PARALLEL, "
                "SPARQL_WORKERS), i.e. %d query-seconds per minute",
                budget.capacity,
                most,
                60 * most,
            )

    def _timed_out(self, limit: float, lowered: bool) -> BigtentError:
        """The error for a query stopped at its time limit (``lowered``: by ?timeout=)."""
        return BigtentError(
            f"The query ran for {limit:g} s, the limit "
            + ("you asked for with ?timeout= (the most is " if lowered else "(")
            + f"{self.timeout:g} s, setting SPARQL_TIMEOUT), and was stopped. Make it "
            "more selective: fewer unbound triple patterns, a LIMIT, no cartesian "
            "products.",
            title="Query timeout",
            status=503,
        )

    @property
    def started(self) -> bool:
        """Whether this service has started its workers (and so owns the snapshots)."""
        return self._started

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (for monitoring and tests)."""
        with self._cond:
            return [w.pid for w in self._workers]

    def refresh(self) -> Snapshot | None:
        """Publish a new snapshot now if anything changed (else None)."""
        self._start()
        snapshot = self.snapshots.refresh()
        if snapshot is not None:
            self._move_idle_workers()
        return snapshot

    def close(self) -> None:
        """Stop the workers and the snapshot thread; delete the snapshots."""
        with self._cond:
            self._closed = True
            workers, self._workers, self._idle = self._workers, [], []
            self._cond.notify_all()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for worker in workers:
            worker.kill()
        self.snapshots.close()

    # --- workers -------------------------------------------------------------------------
    def _start(self) -> None:
        with self._cond:
            if self._closed:
                raise BigtentError("the query service is shut down", status=503)
            if self._started:
                return
            self.snapshots.open()
            self.snapshots.refresh()
            for number in range(self.workers_wanted + self.fast_workers):
                self._spawn(fast=number >= self.workers_wanted)
            self._thread = threading.Thread(
                target=self._publish_loop, name="bigtent-snapshots", daemon=True
            )
            self._thread.start()
            self._started = True

    def _spawn(self, fast: bool = False) -> None:
        """Start a worker and make it available (caller holds the condition)."""
        worker = _Worker(
            self.memory_mb,
            isolate=not self.service_allow,
            max_body=self.max_result_bytes + (1 << 20) if self.max_result_bytes else 0,
            fast=fast,
        )
        self._workers.append(worker)
        self._idle.append(worker)
        self._dispatch()

    def _dispatch(self) -> None:
        """Give idle workers to waiting queries, fairly within each lane (caller holds
        the condition): a fast-lane worker takes only fast-lane queries; a normal worker
        takes normal queries first, then fast-lane ones."""
        handed = False
        for worker in sorted(self._idle, key=lambda w: not w.fast):  # fast-lane ones first
            lanes = (FAST,) if worker.fast else (NORMAL, FAST)
            for lane in lanes:
                found = self._queues[lane].pop()
                if found is not None:
                    self._idle.remove(worker)
                    found[1].worker = worker
                    handed = True
                    break
        if handed:
            self._cond.notify_all()

    def _checkout(self, client: str, lane: str) -> _Worker:
        queue = self._queues[lane]
        deadline = time.monotonic() + self.queue_wait
        with self._cond:
            if self._closed:
                raise self._busy(lane)
            ticket = _Ticket()
            turned_away = queue.push(client, ticket)
            if turned_away is ticket:
                raise self._busy(lane)
            if turned_away is not None:
                turned_away.turned_away = True
                self._cond.notify_all()
            self._dispatch()
            while ticket.worker is None:
                remaining = deadline - time.monotonic()
                if ticket.turned_away or self._closed or remaining <= 0:
                    queue.remove(client, ticket)
                    raise self._busy(lane)
                self._cond.wait(remaining)
            return ticket.worker

    def _checkin(
        self, worker: _Worker, client: str | None = None, lane: str = NORMAL, ran: float = 0.0
    ) -> None:
        with self._cond:
            if client is not None:
                self._queues[lane].done(client)
                self._mean_run[lane] += (ran - self._mean_run[lane]) / 8
            if worker in self._workers:
                self._idle.append(worker)
                self._dispatch()
            else:  # the service closed meanwhile
                worker.kill()

    def _discard(self, worker: _Worker, client: str | None = None, lane: str = NORMAL) -> None:
        """Kill a worker (timed out or crashed) and start its replacement."""
        worker.kill()
        if worker.snapshot is not None:
            self.snapshots.release(worker.snapshot)
        with self._cond:
            if client is not None:
                self._queues[lane].done(client)
            if worker in self._workers:
                self._workers.remove(worker)
                if not self._closed:
                    self._spawn(fast=worker.fast)

    def _busy(self, lane: str = NORMAL) -> BigtentError:
        """503 for a query that found its lane's queue full or waited too long, with a
        Retry-After of the time the queries ahead of it need (caller holds the
        condition, or the estimate is merely approximate)."""
        serving = self.workers_wanted + (self.fast_workers if lane == FAST else 0)
        ahead = self._queues[lane].waiting + serving
        wait = ahead * self._mean_run[lane] / max(1, serving)
        return BigtentError(
            f"All query workers are busy: {self._queues[lane].waiting} queries wait for "
            f"them ({self.max_waiting} may, setting SPARQL_QUEUE_MAX), each at most "
            f"{self.queue_wait:g} s (setting SPARQL_QUEUE_WAIT). Try again shortly.",
            title="Endpoint busy",
            status=503,
            retry_after=max(1, min(math.ceil(wait), math.ceil(self.timeout))),
        )

    def _call(
        self,
        worker: _Worker,
        client: str,
        lane: str,
        request: QueryRequest,
        deadline: float,
        limit: float,
        lowered: bool,
    ) -> QueryOutcome:
        """Run ``request`` on ``worker`` until ``deadline``; past it, _SliceOver in the
        fast lane, else the time-limit error (``limit``, ``lowered``: for its message)."""
        began = time.monotonic()
        try:
            snapshot = self.snapshots.acquire()
            previous, worker.snapshot = worker.snapshot, snapshot.path
            if previous is not None:
                self.snapshots.release(previous)  # the worker switches before it runs the query
            payload = {"snapshot": str(snapshot.path), "request": request.to_json()}
            header, body = worker.call(payload, deadline)
        except _Timeout:
            self._discard(worker, client, lane)
            if lane == FAST:
                raise _SliceOver from None
            raise self._timed_out(limit, lowered) from None
        except _Oversized:
            self._discard(worker, client, lane)
            raise BigtentError(
                f"The result is larger than {self.max_result_bytes} bytes (setting "
                "SPARQL_MAX_RESULT_BYTES). Select fewer rows or shorter values.",
                title="Result too large",
                status=503,
            ) from None
        except _WorkerDied:
            self._discard(worker, client, lane)
            log.warning(
                "SPARQL worker %s ended with code %s", worker.pid, worker.process.returncode
            )
            raise BigtentError(
                "The query stopped the query engine before it finished: it may need more "
                f"memory than a query may use ({self.memory_mb} MB, setting "
                "SPARQL_WORKER_MEMORY) or be nested too deeply. Simplify it.",
                title="Query too expensive",
                status=503,
            ) from None
        except BaseException:  # whatever else: the worker and the client's share come back
            self._discard(worker, client, lane)
            raise
        self._checkin(worker, client, lane, time.monotonic() - began)
        header["revision"] = snapshot.generation
        return QueryOutcome(**header, body=body)

    def _move_idle_workers(self) -> None:
        """Let idle workers switch to the newest snapshot, so old ones can go."""
        current = self.snapshots.current
        if current is None:
            return
        with self._cond:
            stale = [w for w in self._idle if w.snapshot not in (None, current.path)]
            for worker in stale:
                self._idle.remove(worker)
        for worker in stale:
            snapshot = self.snapshots.acquire()
            previous, worker.snapshot = worker.snapshot, snapshot.path
            if previous is not None:
                self.snapshots.release(previous)
            try:
                worker.call({"snapshot": str(snapshot.path), "request": None}, _soon(60))
            except (_Timeout, _WorkerDied):
                self._discard(worker)
            else:
                self._checkin(worker)

    def _publish_loop(self) -> None:
        while not self._stop.wait(self.snapshot_interval):
            try:
                if self.snapshots.refresh() is not None:
                    self._move_idle_workers()
            except Exception:  # keep publishing; the next tick retries
                log.exception("could not publish a SPARQL snapshot")


def _soon(seconds: float) -> float:
    return time.monotonic() + seconds
