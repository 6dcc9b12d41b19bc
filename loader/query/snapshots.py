"""Read-only snapshots of the triple store for the SPARQL worker processes.

pyoxigraph lets other processes open a store read-only, but not while one process writes
to it. So the web process (the one writer) publishes *checkpoints*: ``Store.backup`` into
``DATA_DIR/snapshots/<generation>-<n>``, made of hard links to RocksDB's immutable files,
hence cheap. Workers open the newest one with ``Store.read_only`` and switch between
queries. A snapshot is deleted once it is neither the newest nor open in any worker.

The generation of a snapshot is the revision id up to which the store held every change
when it was taken (:meth:`RevisionLog.applied_through`), so a write that lands while a
snapshot is being taken is picked up by the next one.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from loader.storage.oxigraph_store import OxigraphStore
from loader.storage.revision_log import RevisionLog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """One published checkpoint."""

    path: Path
    generation: int
    taken: float  # time.time()


class Snapshots:
    """The snapshots of one store: taking, handing out, and deleting them."""

    def __init__(self, store: OxigraphStore, revisions: RevisionLog, root: Path) -> None:
        self._store = store
        self._revisions = revisions
        self.root = root
        self._lock = threading.Lock()  # guards _current and _users
        self._taking = threading.Lock()  # one checkpoint at a time
        self._current: Snapshot | None = None
        self._pending: Path | None = None  # being written
        self._users: Counter[Path] = Counter()
        self._serial = 0
        self._opened = False

    def open(self) -> None:
        """Clear what an earlier process left in the folder and start afresh, once: at the
        first snapshot, when the query service starts its workers (not when it is built,
        so a catalogue opened by a command never touches a server's snapshots)."""
        with self._lock:
            if not self._opened:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root.mkdir(parents=True, exist_ok=True)
                self._opened = True

    @property
    def current(self) -> Snapshot | None:
        """The newest snapshot (None before the first)."""
        return self._current

    def refresh(self) -> Snapshot | None:
        """Take a snapshot if the catalogue changed since the newest one; returns it."""
        self.open()  # the first snapshot clears the folder
        with self._taking:
            current = self._current
            if current is not None and self._revisions.last_id() == current.generation:
                return None
            generation = self._revisions.applied_through()
            self._serial += 1
            path = self.root / f"{generation}-{self._serial}"
            with self._lock:
                self._pending = path
            try:
                self._store.checkpoint(path)
            except BaseException:
                with self._lock:
                    self._pending = None
                raise
            snapshot = Snapshot(path, generation, time.time())
            # Pending becomes current in one step: a _collect() from a worker's release()
            # in between would otherwise delete the snapshot just taken.
            with self._lock:
                self._current = snapshot
                self._pending = None
            self._collect()
            return snapshot

    def acquire(self) -> Snapshot:
        """The newest snapshot, counted as used until :meth:`release`."""
        with self._lock:
            snapshot = self._current
            if snapshot is None:
                raise RuntimeError("no snapshot taken yet")
            self._users[snapshot.path] += 1
            return snapshot

    def release(self, path: Path) -> None:
        """A worker no longer has ``path`` open; the last user's release may free it."""
        with self._lock:
            self._users[path] -= 1
            unused = self._users[path] <= 0
            if unused:
                del self._users[path]
        if unused:  # the folder is listed only when a snapshot may have become deletable
            self._collect()

    def _collect(self) -> None:
        with self._lock:
            keep = set(self._users)
            if self._pending is not None:
                keep.add(self._pending)
                # RocksDB writes a checkpoint into "<target>.tmp" and renames it at the end
                keep.add(self._pending.with_name(self._pending.name + ".tmp"))
            if self._current is not None:
                keep.add(self._current.path)
        # RocksDB writes a checkpoint into "<target>.tmp" and renames it when done.
        keep |= {path.with_name(path.name + ".tmp") for path in keep}
        for child in self.root.iterdir():
            if child not in keep:
                shutil.rmtree(child, ignore_errors=True)

    def close(self) -> None:
        """Delete every snapshot."""
        with self._lock:
            self._current = None
            self._users.clear()
            opened, self._opened = self._opened, False
        if opened:
            shutil.rmtree(self.root, ignore_errors=True)
