"""The store catches up with the log by itself: :class:`StoreApplier`, a background thread
in every serving process.

The revision log is the truth; the store follows it. A save whose revision reached the log
but not the store (the engine stopped, refused, timed out) stands, and is left unapplied
(``entities.applied``). The applier looks for unapplied revisions every ``idle`` seconds
(cheap: one indexed query) and at once when a write tells it the store fell behind, and
applies them (:meth:`Repository.recover`, idempotent graph swaps). While the store keeps
failing it waits longer each time, up to ``cap`` seconds, so it finds the engine back within
``cap`` seconds of its return. With nothing pending it asks a remote engine ``ASK {}``
each round, so an outage is noticed even when nobody writes. Each outage is one
``outage_start`` and one ``outage_end`` log line (:mod:`loader.base.events`), naming the
service (``store`` or ``database``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from loader.base.errors import BigtentError, Unavailable
from loader.base.events import log_event
from loader.storage.database import DatabaseUnavailable
from loader.storage.repository import Repository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    """Whether this process can serve now, and how far the store is behind the log."""

    database: bool
    store: bool
    pending: int  # revisions in the log, not yet in the store
    oldest: str | None  # time of the oldest of them
    lag: float  # seconds since then (0 when nothing is pending)

    @property
    def ready(self) -> bool:
        """True when the store and the database both answer."""
        return self.database and self.store

    def as_dict(self) -> dict[str, object]:
        """JSON form (no hosts, users or settings: it is public)."""
        return {
            "ready": self.ready,
            "database": "ok" if self.database else "unavailable",
            "store": "ok" if self.store else "unavailable",
            "lag": {"revisions": self.pending, "oldest": self.oldest, "seconds": self.lag},
        }


def seconds_since(when: str | None) -> float:
    """Seconds from a revision time (``2024-01-31T12:00:00Z``) to now; 0 for None."""
    if when is None:
        return 0.0
    then = datetime.fromisoformat(when.replace("Z", "+00:00"))
    return max(0.0, round((datetime.now(UTC) - then).total_seconds(), 1))


class StoreApplier:
    """Applies the revisions the store missed, in a background thread (``start``/``stop``)."""

    def __init__(
        self, repository: Repository, *, idle: float = 2.0, first: float = 0.5, cap: float = 4.0
    ) -> None:
        self.repository = repository
        self.idle, self.first, self.cap = idle, first, cap
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: when the current outage began (time.time()), None while the store keeps up
        self.down_since: float | None = None
        self.service = ""  # what is down: "store" or "database"
        self.last_error = ""
        self.applied = 0  # revisions applied by this applier since it started

    def start(self) -> None:
        """Start the thread (once); from now on a write the store cannot take stands
        (it is in the log) and is applied here later."""
        self.repository.on_behind = self.behind
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="bigtent-store-applier", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread and wait for it (an apply in progress finishes first)."""
        self.repository.on_behind = None
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def behind(self, exc: BaseException) -> None:
        """A write reached the log but not the store: note the outage, and try again soon."""
        self._outage(exc)
        self._wake.set()

    def _outage(self, exc: BaseException) -> None:
        reason = exc.message if isinstance(exc, BigtentError) else f"{type(exc).__name__}: {exc}"
        service = "database" if isinstance(exc, DatabaseUnavailable) else "store"
        with self._lock:
            self.last_error = reason
            if self.down_since is not None:
                return
            self.down_since = time.time()
            self.service = service
        log_event(log, logging.WARNING, "outage_start", service=service, reason=reason)

    def _recovered(self, applied: int) -> None:
        with self._lock:
            since, self.down_since = self.down_since, None
            service, self.last_error = self.service, ""
        if since is not None:
            log_event(
                log,
                logging.WARNING,
                "outage_end",
                service=service,
                seconds=round(time.time() - since, 1),
                applied=applied,
                since=datetime.fromtimestamp(since, UTC).isoformat(timespec="seconds"),
            )

    def apply_once(self) -> int:
        """Apply what is pending now; returns how many revisions (raises on failure).
        With nothing pending, check that a remote engine answers."""
        count = self.repository.recover()
        self.applied += count
        if not count:
            ping = getattr(self.repository.store, "ping", None)
            if ping is not None:
                ping()
        return count

    def lag(self) -> tuple[int, str | None, float]:
        """(revisions not yet in the store, time of the oldest, its age in seconds);
        raises when the log cannot be read."""
        pending, oldest = self.repository.revisions.lag()
        return pending, oldest, seconds_since(oldest)

    def readiness(self) -> Readiness:
        """Ask the database and the store now (a remote engine: ``ASK {}``)."""
        try:
            pending, oldest, lag = self.lag()
            database = True
        except Unavailable:
            pending, oldest, lag, database = 0, None, 0.0, False
        store = True
        ping = getattr(self.repository.store, "ping", None)
        if ping is not None:
            try:
                ping()
            except Unavailable:
                store = False
        return Readiness(database, store, pending, oldest, lag)

    def _run(self) -> None:
        wait = self.idle
        backoff = self.first
        while not self._stopping.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                count = self.apply_once()
            except Exception as exc:  # a background loop must survive anything
                self._outage(exc)
                wait, backoff = backoff, min(self.cap, backoff * 2)
                continue
            if self.down_since is not None:
                self._recovered(count)
            wait, backoff = self.idle, self.first
