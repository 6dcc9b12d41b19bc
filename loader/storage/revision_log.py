"""The revision log: every accepted change; the source of truth for history.

It lives in SQLite (``DATA_DIR/revisions.sqlite3``) or, for several app processes sharing
one catalogue, in PostgreSQL (``DATABASE_URL``); :mod:`loader.storage.database` hides the
difference.

Each revision row holds the full content snapshot of its entity (compressed
N-Triples), so any past state can be restored and the triple store rebuilt
(`bigtent reindex`). The store is written *after* the log; ``entities.applied``
records what the store holds, so a crash between the two is repaired at the next
open by re-applying the log (see :meth:`RevisionLog.unapplied`).
"""

from __future__ import annotations

import logging
import time as _time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from loader.base.errors import BigtentError
from loader.base.events import log_event
from loader.storage.database import POSTGRESQL, Database, DatabaseUnavailable, Rows

log = logging.getLogger(__name__)

#: Inside a read scope (one public GET request), each log's head as first read: a page
#: asks "has anything changed?" a dozen times (caches, the page index, snapshots), and
#: one answer per request is both cheaper and consistent. Writes never run in a scope.
_HEADS: ContextVar[dict[int, int] | None] = ContextVar("bigtent_log_heads", default=None)


def begin_read_scope() -> Token[dict[int, int] | None]:
    """Start a read scope in this context: :meth:`RevisionLog.last_id` reads each log's
    head once until :func:`end_read_scope`. For requests that do not write."""
    return _HEADS.set({})


def end_read_scope(token: Token[dict[int, int] | None]) -> None:
    """End the read scope ``token`` began."""
    _HEADS.reset(token)


SCHEMA = """
CREATE TABLE IF NOT EXISTS revisions (
    id           INTEGER PRIMARY KEY,   -- global revision id, published as schema:version
    entity       TEXT    NOT NULL,
    number       INTEGER NOT NULL,      -- 1, 2, ... per entity
    parent       INTEGER,               -- previous revision of the same entity
    time         TEXT    NOT NULL,      -- UTC, ISO 8601
    author       TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    action       TEXT    NOT NULL,      -- create | update | delete | merge | restore |
                                        -- hide | unhide | erase
    content_hash TEXT,                  -- NULL for deletions and redirects
    snapshot     BLOB,                  -- zlib-compressed N-Triples of the entity's content
    redirect     TEXT,                  -- target entity of a merge
    UNIQUE (entity, number)
);
CREATE TABLE IF NOT EXISTS entities (
    entity       TEXT PRIMARY KEY,
    latest       INTEGER NOT NULL,      -- newest revision id
    number       INTEGER NOT NULL,      -- its per-entity number
    state        TEXT    NOT NULL,      -- live | deleted | redirect | hidden | erased
    content_hash TEXT,
    redirect     TEXT,
    applied      INTEGER                -- revision id the triple store holds
);
CREATE INDEX IF NOT EXISTS revisions_time ON revisions (time);
CREATE INDEX IF NOT EXISTS entities_unapplied ON entities (applied, latest);
CREATE INDEX IF NOT EXISTS entities_latest ON entities (latest);
"""

#: Every table of the log, in the order a copy fills them.
TABLES = ("revisions", "entities")
LIVE, DELETED, REDIRECT = "live", "deleted", "redirect"
#: A hidden person: the log keeps the content (staff see it), the public sees nothing.
#: An erased one: the log keeps only when each revision was made (loader.editing.privacy).
HIDDEN, ERASED = "hidden", "erased"
PRIVATE_STATES = (HIDDEN, ERASED)
#: Summaries that mark a revision as a revert or a bulk import (written by the Editor's
#: revert and by :mod:`loader.editing.bulk_import`).
REVERT_SUMMARY, IMPORT_SUMMARY = "Reverted to revision ", "Imported from "
#: Kinds of change (the audit view's filter) as conditions on the revisions table.
CHANGE_KINDS = {
    "create": f"action = 'create' AND summary NOT LIKE '{IMPORT_SUMMARY}%'",
    "edit": (
        f"action = 'update' AND summary NOT LIKE '{IMPORT_SUMMARY}%' "
        f"AND summary NOT LIKE '{REVERT_SUMMARY}%'"
    ),
    "revert": f"action = 'restore' OR (action = 'update' AND summary LIKE '{REVERT_SUMMARY}%')",
    "delete": "action = 'delete'",
    "merge": "action = 'merge'",
    "import": f"action IN ('create', 'update') AND summary LIKE '{IMPORT_SUMMARY}%'",
}
_STATE_COLUMNS = (
    "SELECT entity, latest, number, state, content_hash, redirect, applied FROM entities"
)
#: The range of the integer columns (SQLite INTEGER, PostgreSQL BIGINT): a number from a
#: request beyond it names no revision, and is clamped before it reaches the database
#: (which would refuse it with an error rather than an empty answer).
SQL_INT_MAX = 2**63 - 1


def _fits(number: int) -> bool:
    return -SQL_INT_MAX <= number <= SQL_INT_MAX


def _clamp(number: int) -> int:
    return max(-SQL_INT_MAX, min(number, SQL_INT_MAX))


@dataclass(frozen=True)
class EntityState:
    """The newest revision of one entity."""

    entity: str
    latest: int
    number: int
    state: str
    content_hash: str | None
    redirect: str | None
    applied: int | None


@dataclass(frozen=True)
class NewRevision:
    """A change about to be recorded."""

    entity: str
    action: str
    author: str
    summary: str
    content_hash: str | None = None
    snapshot: bytes | None = None  # N-Triples of the content (uncompressed)
    redirect: str | None = None
    compressed: bytes | None = None  # the snapshot already compressed (by a load worker)
    #: Optimistic concurrency: when ``check_latest`` is set, the change is refused (and
    #: nothing of the batch recorded) unless the entity's newest revision id is still
    #: ``expect_latest`` (None: the entity must not exist yet).
    expect_latest: int | None = None
    check_latest: bool = False


class StaleRevision(BigtentError):
    """An entity changed after the revision a change was based on."""

    def __init__(self, entity: str, expected: int | None, latest: int | None) -> None:
        super().__init__(
            f"{entity} has changed since revision {expected} (it is now at revision "
            f"{latest}); reload it and apply your change again",
            title="Conflict",
            status=409,
        )
        self.entity, self.expected, self.latest = entity, expected, latest


def compress(snapshot: bytes) -> bytes:
    """How snapshots are stored."""
    return zlib.compress(snapshot, 1)


@dataclass(frozen=True)
class Revision:
    """A recorded change."""

    id: int
    entity: str
    number: int
    parent: int | None
    time: str
    author: str
    summary: str
    action: str
    content_hash: str | None
    redirect: str | None
    snapshot: bytes | None = None  # uncompressed N-Triples, when asked for

    @property
    def state(self) -> str:
        """The entity's state after this revision."""
        if self.action == "delete":
            return DELETED
        if self.action == "merge":
            return REDIRECT
        if self.action == "hide":
            return HIDDEN
        if self.action == "erase":
            return ERASED
        return LIVE


@dataclass(frozen=True)
class Export:
    """What :meth:`RevisionLog.export` reads: every entity's newest revision."""

    revision: int  # the newest revision id in the log
    rows: Iterator[tuple[Revision, bytes | None]]  # (revision, zlib-compressed snapshot)


def utc_now() -> str:
    """Current time as Wikibase writes it: ``2024-01-31T12:00:00Z``."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class RevisionLog:
    """The revision log. One writer at a time (in any process); safe to read from several
    threads.

    ``target`` is the SQLite file (None: in memory) or a PostgreSQL URL."""

    def __init__(self, target: Path | str | None) -> None:
        self._db = Database(target, "revisions", SCHEMA)
        self.path = self._db.path
        #: what another process opens to read the same log (a path or a URL); None in memory
        self.target: Path | str | None = self._db.url or self._db.path

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def _writing(self, durable: bool = True) -> Iterator[Database]:
        try:
            with self._db.write(durable) as db:
                yield db
        finally:
            heads = _HEADS.get()
            if heads is not None:  # a write inside a read scope: read the head again
                heads.pop(id(self), None)

    # --- reading ----------------------------------------------------------------
    def states(self, entities: Iterable[str]) -> dict[str, EntityState]:
        """Newest state of each named entity that has any revision."""
        found: dict[str, EntityState] = {}
        ids = list(entities)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"{_STATE_COLUMNS} WHERE entity IN ({marks})"
            rows = self._db.execute(query, chunk)
            for row in rows:
                found[row[0]] = EntityState(*row)
        return found

    def state(self, entity: str) -> EntityState | None:
        """Newest state of one entity, or None if it never existed."""
        return self.states([entity]).get(entity)

    def count(self) -> int:
        """Number of revisions."""
        return int(self._db.execute("SELECT count(*) FROM revisions").fetchone()[0])

    def last_id(self) -> int:
        """The newest revision id (0 for an empty log): a cheap change counter for
        caches, dumps and snapshots — it grows with every write, in any process."""
        heads = _HEADS.get()
        if heads is not None and id(self) in heads:
            return heads[id(self)]
        row = self._db.execute("SELECT max(id) FROM revisions").fetchone()
        head = int(row[0] or 0)
        if heads is not None:
            heads[id(self)] = head
        return head

    def highest_number(self, kind: str) -> int:
        """The highest number of any entity id of a kind ('Q' or 'P') ever used (0 if none);
        deleted and merged ids count, so they are never given out again."""
        row = self._db.execute(
            "SELECT max(CAST(substr(entity, 2) AS INTEGER)) FROM entities "
            "WHERE substr(entity, 1, 1) = ?",
            (kind,),
        ).fetchone()
        return int(row[0] or 0)

    def entity_count(self, state: str = LIVE) -> int:
        """Number of entities in a state."""
        row = self._db.execute("SELECT count(*) FROM entities WHERE state = ?", (state,))
        return int(row.fetchone()[0])

    def entities_in(self, state: str) -> list[str]:
        """Every entity whose newest revision leaves it in ``state``."""
        rows = self._db.execute("SELECT entity FROM entities WHERE state = ?", (state,))
        return [str(row[0]) for row in rows]

    def history(self, entity: str) -> list[Revision]:
        """Every revision of one entity, newest first (without snapshots)."""
        rows = self._db.execute(
            "SELECT id, entity, number, parent, time, author, summary, action, content_hash, "
            "redirect FROM revisions WHERE entity = ? ORDER BY id DESC",
            (entity,),
        )
        return [Revision(*row) for row in rows]

    def get(self, entity: str, revision: int | None = None) -> Revision | None:
        """One revision with its snapshot: the newest, or the one with that id."""
        sql = (
            "SELECT id, entity, number, parent, time, author, summary, action, content_hash, "
            "redirect, snapshot FROM revisions WHERE entity = ? "
        )
        if revision is None:
            # by number, not id: the (entity, number) index answers it on both engines
            row = self._db.execute(sql + "ORDER BY number DESC LIMIT 1", (entity,)).fetchone()
        elif not _fits(revision):
            return None
        else:
            row = self._db.execute(sql + "AND id = ?", (entity, revision)).fetchone()
        return None if row is None else _with_snapshot(row)

    def latest_revisions(self, only: Sequence[str] | None = None) -> Iterator[Revision]:
        """Newest revision (with snapshot) of every entity, or of ``only`` those."""
        sql = (
            "SELECT r.id, r.entity, r.number, r.parent, r.time, r.author, r.summary, r.action, "
            "r.content_hash, r.redirect, r.snapshot FROM entities e JOIN revisions r "
            "ON r.id = e.latest"
        )
        if only is None:
            for row in self._db.execute(sql + " ORDER BY r.id"):
                yield _with_snapshot(row)
            return
        for start in range(0, len(only), 500):
            chunk = list(only[start : start + 500])
            marks = ",".join("?" * len(chunk))
            query = sql + f" WHERE e.entity IN ({marks})"
            for row in self._db.execute(query, chunk):
                yield _with_snapshot(row)

    def applied_through(self) -> int:
        """The newest revision id up to which the triple store holds every change: a
        copy of the store taken now shows the catalogue as of this revision."""
        last = self.last_id()
        row = self._db.execute(
            "SELECT min(latest) FROM entities WHERE applied IS NULL OR applied != latest"
        ).fetchone()
        return last if row[0] is None else min(last, int(row[0]) - 1)

    def private_since(self, revision_id: int) -> bool:
        """Whether a privacy change (a hide or an erase) was written after
        ``revision_id``: results computed before it may show that person."""
        row = self._db.execute(
            "SELECT 1 FROM revisions WHERE id > ? AND action IN ('hide', 'erase') LIMIT 1",
            (_clamp(revision_id),),
        ).fetchone()
        return row is not None

    def changed_since(self, revision_id: int) -> list[EntityState]:
        """Entities whose newest revision is newer than ``revision_id`` (for derived
        indexes that catch up with the log)."""
        rows = self._db.execute(
            f"{_STATE_COLUMNS} WHERE latest > ? ORDER BY latest", (_clamp(revision_id),)
        )
        return [EntityState(*row) for row in rows]

    def unapplied(self) -> list[str]:
        """Entities whose newest revision the triple store may not hold yet."""
        rows = self._db.execute(
            "SELECT entity FROM entities WHERE applied IS NULL OR applied != latest"
        )
        return [row[0] for row in rows]

    def lag(self) -> tuple[int, str | None]:
        """How far the triple store is behind the log: (revisions not yet applied, time
        of the oldest of them, None when there is none)."""
        row = self._db.execute(
            "SELECT count(*), min(r.time) FROM entities e JOIN revisions r "
            "ON r.entity = e.entity AND r.id > coalesce(e.applied, 0) AND r.id <= e.latest "
            "WHERE e.applied IS NULL OR e.applied != e.latest"
        ).fetchone()
        return int(row[0] or 0), None if row[1] is None else str(row[1])

    def recent(self, limit: int = 50) -> list[Revision]:
        """Newest revisions across the catalogue."""
        rows = self._db.execute(
            "SELECT id, entity, number, parent, time, author, summary, action, content_hash, "
            "redirect FROM revisions ORDER BY id DESC LIMIT ?",
            (_clamp(limit),),
        )
        return [Revision(*row) for row in rows]

    def recent_matching(
        self,
        *,
        before: int | None = None,
        limit: int = 50,
        author: str | None = None,
        kind: str | None = None,
    ) -> list[Revision]:
        """Newest revisions first, older than revision ``before``, by ``author`` and of
        one ``kind`` of change (see :data:`CHANGE_KINDS`) when given."""
        where: list[str] = []
        args: list[int | str] = []
        if before is not None:
            where.append("id < ?")
            args.append(_clamp(before))
        if author is not None:
            where.append("author = ?")
            args.append(author)
        if kind is not None:
            where.append(CHANGE_KINDS[kind])
        sql = (
            "SELECT id, entity, number, parent, time, author, summary, action, content_hash, "
            "redirect FROM revisions"
        )
        if where:
            sql += " WHERE " + " AND ".join(f"({w})" for w in where)
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, _clamp(limit)))
        return [Revision(*row) for row in rows]

    def changes(self, first_id: int, last_id: int) -> list[tuple[Revision, bytes | None]]:
        """Revisions with ids in ``[first_id, last_id]``, oldest first, each with the
        entity's content as of that revision: its own snapshot, or for a deletion or
        merge (which have none) the snapshot of the revision before."""
        rows = self._db.execute(
            "SELECT r.id, r.entity, r.number, r.parent, r.time, r.author, r.summary, r.action, "
            "r.content_hash, r.redirect, coalesce(r.snapshot, p.snapshot) FROM revisions r "
            "LEFT JOIN revisions p ON p.id = r.parent WHERE r.id BETWEEN ? AND ? ORDER BY r.id",
            (_clamp(first_id), _clamp(last_id)),
        )
        out = []
        for row in rows:
            blob = row[10]
            content = zlib.decompress(blob) if isinstance(blob, bytes) else None
            out.append((Revision(*row[:10]), content))
        return out

    @contextmanager
    def export(self) -> Iterator[Export]:
        """A consistent view of the whole catalogue for dumps: the newest revision id and
        the newest revision (with its compressed snapshot) of every entity that is live
        or redirects (not deleted, hidden or erased), read in one transaction on a
        connection of its own, so writes meanwhile neither show up half-way nor wait."""
        with self._db.snapshot() as db:
            newest = int(db.execute("SELECT coalesce(max(id), 0) FROM revisions").fetchone()[0])
            rows: Rows = db.execute(
                "SELECT r.id, r.entity, r.number, r.parent, r.time, r.author, r.summary, "
                "r.action, r.content_hash, r.redirect, r.snapshot FROM entities e "
                "JOIN revisions r ON r.id = e.latest WHERE e.state IN (?, ?) ORDER BY e.rowid",
                (LIVE, REDIRECT),
            )
            yield Export(newest, ((Revision(*row[:10]), row[10]) for row in rows))

    def revision_time(self, revision_id: int) -> str | None:
        """When a revision was made (None if there is no such revision)."""
        if not _fits(revision_id):
            return None
        row = self._db.execute("SELECT time FROM revisions WHERE id = ?", (revision_id,))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def live_entities(self, offset: int, limit: int) -> list[tuple[str, str]]:
        """(entity, time of its newest revision) for live entities, in the order they were
        first created (stable as the catalogue grows), ``limit`` from ``offset``."""
        rows = self._db.execute(
            "SELECT e.entity, r.time FROM entities e JOIN revisions r ON r.id = e.latest "
            "WHERE e.state = ? ORDER BY e.rowid LIMIT ? OFFSET ?",
            (LIVE, _clamp(limit), _clamp(offset)),
        )
        return [(str(entity), str(when)) for entity, when in rows]

    # --- writing ----------------------------------------------------------------
    def append(
        self, changes: Sequence[NewRevision], time: str | None = None, *, erase: bool = False
    ) -> list[Revision]:
        """Record changes in one transaction; returns them with ids and numbers.

        A revision's time is never earlier than the time of the revision before it. With
        ``erase``, every earlier revision of the changed entities loses its content
        (snapshot, content hash, summary) in the same transaction: only when each was
        made, by whom and what kind of change it was remain."""
        if not changes:
            return []
        rows: list[tuple[object, ...]] = []
        try:
            return self._append(changes, time, erase, rows)
        except DatabaseUnavailable:
            # The connection failed: before the commit (nothing written) or after the
            # server committed but before its answer came back. Ask the log which.
            if rows and self._committed(rows):
                log_event(
                    log, logging.WARNING, "commit_confirmed", first=rows[0][0], last=rows[-1][0]
                )
                return [_sent(row) for row in rows]
            raise

    def _committed(self, rows: Sequence[tuple[object, ...]]) -> bool:
        """True when the revision rows an interrupted transaction sent are in the log,
        as sent (ids are handed out under the writer lock, so another writer's rows
        would differ in entity, time, author or content); a few tries while the
        server comes back. Raises, saying the outcome is unknown, if it stays away."""
        sql = (
            "SELECT id, entity, number, parent, time, author, summary, action, content_hash, "
            "redirect FROM revisions WHERE id = ?"
        )
        for attempt in range(4):
            try:
                found = [self._db.execute(sql, (row[0],)).fetchone() for row in rows]
            except DatabaseUnavailable:
                _time.sleep(0.25 * 2**attempt)
                continue
            return all(
                got is not None and tuple(got) == (*row[:9], row[10])
                for got, row in zip(found, rows, strict=True)
            )
        raise DatabaseUnavailable(
            "the connection to the database (DATABASE_URL) failed while the change was being "
            "committed, and the database has not answered since: whether it was recorded is "
            "not known. Look at the entity's history before saving again.",
            title="Database unavailable",
            public=(
                "The catalogue's database stopped answering while your change was being "
                "saved; whether it was saved is not known yet. Please look at the record's "
                "history in a minute before saving again."
            ),
        )

    def _append(
        self,
        changes: Sequence[NewRevision],
        time: str | None,
        erase: bool,
        rows: list[tuple[object, ...]],
    ) -> list[Revision]:
        when = time or utc_now()
        out: list[Revision] = []
        with self._writing() as db:
            next_id = int(db.execute("SELECT coalesce(max(id), 0) FROM revisions").fetchone()[0])
            # Times never decrease along ids (even if the clock is set back), so the change
            # feed can promise "everything after this page is at least this new".
            newest = db.execute("SELECT time FROM revisions WHERE id = ?", (next_id,)).fetchone()
            if newest is not None and newest[0] > when:
                when = newest[0]
            states = self.states({c.entity for c in changes})
            rows.clear()
            entity_rows = []
            for change in changes:
                next_id += 1
                previous = states.get(change.entity)
                if change.check_latest:
                    latest = None if previous is None else previous.latest
                    if latest != change.expect_latest:
                        raise StaleRevision(change.entity, change.expect_latest, latest)
                number = 1 if previous is None else previous.number + 1
                parent = None if previous is None else previous.latest
                blob = change.compressed
                if blob is None and change.snapshot is not None:
                    blob = compress(change.snapshot)
                rows.append(
                    (
                        next_id,
                        change.entity,
                        number,
                        parent,
                        when,
                        change.author,
                        change.summary,
                        change.action,
                        change.content_hash,
                        blob,
                        change.redirect,
                    )
                )
                rev = Revision(
                    next_id,
                    change.entity,
                    number,
                    parent,
                    when,
                    change.author,
                    change.summary,
                    change.action,
                    change.content_hash,
                    change.redirect,
                )
                applied = None if previous is None else previous.applied
                states[change.entity] = EntityState(
                    change.entity,
                    next_id,
                    number,
                    rev.state,
                    change.content_hash,
                    change.redirect,
                    applied,
                )
                entity_rows.append(
                    (
                        change.entity,
                        next_id,
                        number,
                        rev.state,
                        change.content_hash,
                        change.redirect,
                        applied,
                    )
                )
                out.append(rev)
            if erase:
                db.executemany(
                    "UPDATE revisions SET snapshot = NULL, content_hash = NULL, summary = ? "
                    "WHERE entity = ?",
                    [(ERASED, change.entity) for change in changes],
                )
            db.executemany("INSERT INTO revisions VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
            db.executemany(
                "INSERT INTO entities (entity, latest, number, state, content_hash, redirect, "
                "applied) VALUES (?,?,?,?,?,?,?) ON CONFLICT(entity) DO UPDATE SET "
                "latest=excluded.latest, number=excluded.number, state=excluded.state, "
                "content_hash=excluded.content_hash, redirect=excluded.redirect",
                entity_rows,
            )
        return out

    def retract(self, revisions: Sequence[Revision]) -> None:
        """Take revisions just appended back out, when the store could not take them
        (a full disk, see ``Repository.write_revisions``): each entity's row returns to
        the revision before (or goes, when there was none) and the rows are deleted, in
        one transaction. Only for the newest revisions of their entities; their ids are
        given out again."""
        if not revisions:
            return
        with self._writing() as db:
            for rev in sorted(revisions, key=lambda r: -r.id):
                if rev.parent is None:
                    db.execute("DELETE FROM entities WHERE entity = ?", (rev.entity,))
                    continue
                row = db.execute(
                    "SELECT id, entity, number, parent, time, author, summary, action, "
                    "content_hash, redirect FROM revisions WHERE id = ?",
                    (rev.parent,),
                ).fetchone()
                before = Revision(*row)
                db.execute(
                    "UPDATE entities SET latest = ?, number = ?, state = ?, content_hash = ?, "
                    "redirect = ? WHERE entity = ?",
                    (
                        before.id,
                        before.number,
                        before.state,
                        before.content_hash,
                        before.redirect,
                        rev.entity,
                    ),
                )
            db.executemany("DELETE FROM revisions WHERE id = ?", [(r.id,) for r in revisions])

    def mark_applied(self, revisions: Iterable[Revision]) -> None:
        """Record that the store now holds these revisions."""
        pairs = [(r.id, r.entity) for r in revisions]
        if not pairs:
            return
        # The mark is only a hint: if it is lost (power cut), recover() applies the revision
        # again, which is harmless. So it is not worth an fsync of its own (which cost as
        # much as the rest of a staff edit); the next revision's commit syncs it anyway.
        with self._writing(durable=False) as db:
            db.executemany("UPDATE entities SET applied = ? WHERE entity = ?", pairs)

    def copy_into(self, other: RevisionLog) -> int:
        """Copy the whole log (ids, times, snapshots, creation order) into another, empty
        one — from SQLite into PostgreSQL or back; returns the rows copied."""
        return self._db.copy_into(other._db, TABLES)

    def compact(self) -> None:
        """Rewrite the database file without free pages and empty the write-ahead log, so
        the bytes of erased content are gone from disk, not just unreachable."""
        if self._db.dialect == POSTGRESQL:
            # Autocommit connection: VACUUM cannot run inside a transaction.
            self._db.execute("VACUUM FULL revisions")
            return
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def forget_applied(self) -> None:
        """Mark every entity as not in the store (before a full reindex)."""
        self._db.execute("UPDATE entities SET applied = NULL")


def _sent(row: Sequence[object]) -> Revision:
    """The revision of a row as ``append`` inserts it (the snapshot column left out)."""
    return Revision(*row[:9], row[10])  # type: ignore[arg-type, call-arg]


def _with_snapshot(row: Sequence[object]) -> Revision:
    blob = row[10]
    snapshot = zlib.decompress(blob) if isinstance(blob, bytes) else None
    return Revision(*row[:10], snapshot=snapshot)  # type: ignore[arg-type, misc]
