"""Leases in the shared database: one process of a deployment elected for a job.

Several ``bigtent serve`` processes share the revision log (PostgreSQL, or one SQLite
file on one machine). Work that one of them should do for all — writing the dumps to
shared storage — goes to whoever holds the job's lease: a row ``(name, holder,
expires)`` in the ``leases`` table of the revision log's database. A process takes the
lease when nobody holds it or the holder's has expired, and renews it while it works;
a process that dies simply stops renewing, and another takes over after ``seconds``.
Taking and renewing run in one writer transaction of the database (PostgreSQL:
a transaction-scoped advisory lock; SQLite: ``BEGIN IMMEDIATE``), so two processes never
both hold it. Expiry compares the processes' clocks: keep them in step (NTP), which any
multi-machine deployment does.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from loader.storage.database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires REAL NOT NULL     -- Unix time
);
"""


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, and until when (Unix time)."""

    holder: str
    expires: float


def process_name() -> str:
    """A name for this process that no other process of the deployment has."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """The lease ``name`` in the database at ``target`` (the revision log's: a PostgreSQL
    URL or the SQLite file), held ``seconds`` at a time by ``holder``."""

    def __init__(
        self, target: str | Path, name: str, seconds: float, holder: str | None = None
    ) -> None:
        self.name = name
        self.seconds = seconds
        self.holder = holder or process_name()
        self._db = Database(target, "leases", SCHEMA)

    def acquire(self) -> bool:
        """Take or renew the lease; True when this process holds it now."""
        now = time.time()
        with self._db.write(durable=False) as db:
            row = db.execute(
                "SELECT holder, expires FROM leases WHERE name = ?", (self.name,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)",
                    (self.name, self.holder, now + self.seconds),
                )
                return True
            if row[0] != self.holder and float(row[1]) > now:
                return False
            db.execute(
                "UPDATE leases SET holder = ?, expires = ? WHERE name = ?",
                (self.holder, now + self.seconds, self.name),
            )
            return True

    def current(self) -> Holder | None:
        """The live holder, or None when nobody holds the lease."""
        row = self._db.execute(
            "SELECT holder, expires FROM leases WHERE name = ?", (self.name,)
        ).fetchone()
        if row is None or float(row[1]) <= time.time():
            return None
        return Holder(str(row[0]), float(row[1]))

    def release(self) -> None:
        """Give the lease up (when held), so another process takes over at once."""
        with self._db.write(durable=False) as db:
            db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (self.name, self.holder))

    def close(self) -> None:
        """Close the database connections."""
        self._db.close()


def current_holder(target: str | Path | None, name: str) -> Holder | None:
    """Who holds ``name`` now in the database at ``target`` (None: nobody, or no shared
    database)."""
    if target is None:
        return None
    lease = Lease(target, name, 0.0, holder="-")
    try:
        return lease.current()
    finally:
        lease.close()
