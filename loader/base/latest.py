"""The newest finished result of each whole-catalogue view (statistics, the network, the
map, the partnerships overview, browse counts), so no reader waits for a recomputation.

A :class:`Views` holds one slot per view (and per view's parameters, e.g. languages):

* **single flight** — while a slot is being computed, other readers of it wait for that
  computation instead of starting their own;
* **stale while revalidating** — after a write, a reader gets the slot's newest finished
  result at once (:class:`Finished` says which revision it reflects) while one
  background thread recomputes it; only a slot's very first computation blocks (the
  thread starts with the first recomputation, not at open);
* **privacy first** — when a write since the finished result is a privacy change (a hide
  or an erase), the stale result may show that person: the reader then waits for a
  fresh result instead;
* **own slots** — a bounded table of its own (``slots``), so no other cache (search's)
  can evict the views;
* **saved** — a view given a :class:`Saved` (the statistics: about a minute and a half of
  queries at 1M records) keeps each result there too, and a new process starts from the
  one saved last, under the rules above: current, stale but refreshed in the background,
  or waited for after a privacy change;
* **fresh inside** — a view computed from other views (the map's data from the places,
  the places from the network model) reads them at the newest revision while it is being
  computed, so a result is never stamped with a revision its ingredients did not reach.

The catalogue (``loader/catalogue.py``) builds one and stops its thread at close.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from loader.base.events import log_event

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Views (with their parameters) kept at once; the least recently read idle one goes.
SLOTS = 256
#: Set while this thread computes a view: views it reads must then be current.
_COMPUTING: ContextVar[bool] = ContextVar("bigtent_computing_view", default=False)


@dataclass(frozen=True)
class Finished(Generic[T]):
    """A view's result and the revision (``revisions.last_id()``) it reflects."""

    value: T
    revision: int


class Saved(Protocol[T]):
    """Where a view's finished result outlives the process (see :meth:`Views.get`)."""

    def load(self) -> Finished[T] | None:
        """The result saved last, or None."""

    def save(self, finished: Finished[T]) -> None:
        """Keep ``finished`` (a newer one than any saved before)."""


class _Slot:
    __slots__ = ("compute", "done", "queued", "running", "saved")

    def __init__(self) -> None:
        self.done: Finished[Any] | None = None
        self.running = False
        self.queued = False
        self.compute: Callable[[], Any] | None = None
        self.saved: Saved[Any] | None = None


class Views:
    """Latest finished results, kept per key (see the module docstring).

    ``head()`` is the newest revision id; ``private_since(revision)`` says whether a
    hide or an erase was written after ``revision``."""

    def __init__(
        self,
        head: Callable[[], int],
        private_since: Callable[[int], bool],
        slots: int = SLOTS,
    ) -> None:
        self._head = head
        self._private_since = private_since
        self._limit = slots
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._slots: OrderedDict[Hashable, _Slot] = OrderedDict()
        self._queue: deque[_Slot] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False

    def get(
        self, key: Hashable, compute: Callable[[], T], saved: Saved[T] | None = None
    ) -> Finished[T]:
        """The result of ``compute()`` for ``key``: the newest finished one when it is
        current, or stale but not hiding a privacy change (a recomputation then starts
        in the background); otherwise a fresh one (computed once for all the readers
        waiting for it). ``compute`` must not need a request context. With ``saved``,
        every result computed is saved there, and a slot without one starts from the
        result saved last (by this process or an earlier one), under the same rules."""
        head = self._head()
        slot = self._slot(key)
        if saved is not None and slot.saved is None:
            loaded = saved.load()
            with self._lock:
                slot.saved = saved
                if loaded is not None and slot.done is None:
                    slot.done = loaded
        done = slot.done
        if done is not None and done.revision >= head:
            return done
        if (
            done is not None
            and not _COMPUTING.get()
            and not self._closed
            and not self._private_since(done.revision)
        ):
            self._refresh(slot, compute)
            return done
        return self._fresh(slot, compute, head)

    def settle(self) -> None:
        """Wait until no recomputation is queued or running (for tests and benches:
        afterwards every slot holds the newest result it was asked to compute)."""
        with self._lock:
            while self._queue or any(s.running for s in self._slots.values()):
                self._changed.wait()

    def close(self) -> None:
        """Stop the background thread (after the computation it is running)."""
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._changed.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    # --- internals -------------------------------------------------------------------------
    def _slot(self, key: Hashable) -> _Slot:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _Slot()
                if len(self._slots) > self._limit:
                    for old_key, old in list(self._slots.items()):
                        if not (old.running or old.queued) and old is not slot:
                            del self._slots[old_key]
                            break
            else:
                self._slots.move_to_end(key)
            return slot

    def _fresh(self, slot: _Slot, compute: Callable[[], T], head: int) -> Finished[T]:
        with self._lock:
            while True:
                done = slot.done
                if done is not None and done.revision >= head:
                    return done
                if not slot.running:
                    slot.running = True
                    break
                self._changed.wait()
        finished: Finished[T] = self._run(slot, compute)
        return finished

    def _run(self, slot: _Slot, compute: Callable[[], Any]) -> Finished[Any]:
        """Compute ``slot`` in this thread (``slot.running`` is already set)."""
        finished: Finished[Any] | None = None
        try:
            revision = self._head()  # read first: a write during compute() leaves it stale
            token = _COMPUTING.set(True)
            try:
                finished = Finished(compute(), revision)
            finally:
                _COMPUTING.reset(token)
        finally:
            with self._lock:
                slot.running = False
                if finished is not None and (
                    slot.done is None or slot.done.revision <= finished.revision
                ):
                    slot.done = finished
                self._changed.notify_all()
        assert finished is not None  # compute() raised otherwise
        if slot.saved is not None and slot.done is finished:
            try:
                slot.saved.save(finished)
            except Exception as exc:  # the result stands; only the next start recomputes
                log_event(log, logging.WARNING, "view_save_failed", error=repr(exc)[:200])
        return finished

    def _refresh(self, slot: _Slot, compute: Callable[[], Any]) -> None:
        with self._lock:
            slot.compute = compute
            if slot.running or slot.queued or self._closed:
                return
            slot.queued = True
            self._queue.append(slot)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="bigtent-views", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                slot = self._queue.popleft()
                slot.queued = False
                self._changed.notify_all()  # settle() may be waiting for the queue
                if slot.running or slot.compute is None:
                    continue
                slot.running = True
                compute = slot.compute
            try:
                done = slot.done
                current = done is not None and done.revision >= self._head()
            except Exception:
                current = False  # compute() below meets the same failure and reports it
            if current:
                with self._lock:  # a reader computed it meanwhile
                    slot.running = False
                    self._changed.notify_all()
                continue
            try:
                self._run(slot, compute)
            except Exception as exc:  # the stale result stays; the next reader retries
                log_event(log, logging.WARNING, "view_refresh_failed", error=repr(exc)[:200])
