"""The page index: what browsing, searching and "what links here" need, in SQLite.

Derived from the revision log (never from the triple store, which is written after the
log) and kept up to date incrementally: :meth:`PageIndex.catch_up` compares
:meth:`RevisionLog.last_id` with the id it indexed last and re-indexes only the
entities changed since. It holds, per live entity:

* ``name``: labels, aliases and descriptions in every language, with a folded form
  (case and accents removed) for exact and prefix ranking; labels and aliases are also
  in the FTS5 table ``name_fts`` for word-prefix search;
* ``fact``: truthy item values (``wdt:P ?item``) for class listings and facets;
* ``link``: every statement, qualifier and reference that points at an entity,
  keyed by the target so an entity's backlinks are one index range;
* ``use``: every statement, qualifier and reference that uses a property as its
  predicate, whatever its value (a property's usage and "what links here");
* ``class_fact``: how many instances of each class have each fact (facet counts);
* ``property``: each property's type and formatter URL (how pages show its values).

Entity ids are stored as integers: ``Q12`` is 12, ``P12`` is -12.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from loader.base.ids import FORMATTER_URL
from loader.base.languages import pick
from loader.base.namespaces import ENTITY_ID, PROV, RDFS, SCHEMA, SKOS, WIKIBASE, Namespaces
from loader.storage.revision_log import LIVE, Revision, RevisionLog

SCHEMA_VERSION = "4"
LABEL, ALIAS, DESCRIPTION = 0, 1, 2
KIND_BY_PREDICATE = {
    RDFS + "label": LABEL,
    SKOS + "altLabel": ALIAS,
    SCHEMA + "description": DESCRIPTION,
}
#: link kinds: the statement's value, a qualifier value, a reference value
VALUE, QUALIFIER, REFERENCE = 0, 1, 2
_LINK_KINDS = {"ps": VALUE, "pq": QUALIFIER, "pr": REFERENCE}
DERIVED_FROM = PROV + "wasDerivedFrom"
INSTANCE_OF = -1  # P1
PROPERTY_TYPE = WIKIBASE + "propertyType"
#: formatter URL (ontology/README.md): turns an external identifier into a link
BATCH = 500
#: Derived figures remembered between catch-ups (see PageIndex.memo).
MEMO_SIZE = 512
T = TypeVar("T")

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entity (
    num      INTEGER PRIMARY KEY,   -- Q12 -> 12, P12 -> -12
    sort_key TEXT NOT NULL,         -- folded label in the first LANGUAGES language it has
    classes  INTEGER NOT NULL       -- how many instance-of values it has
);
CREATE INDEX IF NOT EXISTS entity_sort ON entity (sort_key, num);
CREATE INDEX IF NOT EXISTS entity_multi ON entity (num) WHERE classes > 1;
CREATE TABLE IF NOT EXISTS name (
    id   INTEGER PRIMARY KEY,       -- also the rowid in name_fts
    num  INTEGER NOT NULL,
    kind INTEGER NOT NULL,          -- 0 label, 1 alias, 2 description
    lang TEXT NOT NULL,
    text TEXT NOT NULL,
    norm TEXT NOT NULL              -- folded: lower case, no accents, single spaces
);
CREATE INDEX IF NOT EXISTS name_num ON name (num, kind);
CREATE INDEX IF NOT EXISTS name_norm ON name (norm);
-- Names written in each language, kept by the triggers below: the languages a reader's
-- choice can matter for. (An index on name.lang instead made SQLite read the names of a
-- page through it: 1.7 s instead of milliseconds at 1M records.)
CREATE TABLE IF NOT EXISTS name_language (
    lang  TEXT PRIMARY KEY,
    names INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS name_added AFTER INSERT ON name BEGIN
    INSERT INTO name_language (lang, names) VALUES (new.lang, 1)
    ON CONFLICT (lang) DO UPDATE SET names = names + 1;
END;
CREATE VIRTUAL TABLE IF NOT EXISTS name_fts USING fts5 (
    norm, tokenize = "unicode61 remove_diacritics 2", prefix = '2 3'
);
CREATE TABLE IF NOT EXISTS fact (
    prop  INTEGER NOT NULL,
    value INTEGER NOT NULL,
    num   INTEGER NOT NULL,
    PRIMARY KEY (prop, value, num)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fact_num ON fact (num, prop, value);
CREATE TABLE IF NOT EXISTS link (
    target    INTEGER NOT NULL,
    source    INTEGER NOT NULL,
    prop      INTEGER NOT NULL,
    kind      INTEGER NOT NULL,     -- 0 statement value, 1 qualifier, 2 reference
    statement TEXT NOT NULL,        -- local name of the statement (its page anchor)
    PRIMARY KEY (target, source, prop, kind, statement)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS link_source ON link (source);
CREATE TABLE IF NOT EXISTS use (
    prop      INTEGER NOT NULL,     -- the property used as predicate (-5 for P5)
    kind      INTEGER NOT NULL,     -- 0 statement, 1 qualifier, 2 reference
    source    INTEGER NOT NULL,
    statement TEXT NOT NULL,
    PRIMARY KEY (prop, kind, source, statement)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS use_source ON use (source);
-- The members of each direct class (instance of) in label order: a page of a class reads
-- its range. (Scanning entity_sort for them read up to every entity: 1.8 s for a deep page
-- of organisations at 1M records.)
CREATE TABLE IF NOT EXISTS member (
    class    INTEGER NOT NULL,
    sort_key TEXT NOT NULL,
    num      INTEGER NOT NULL,
    PRIMARY KEY (class, sort_key, num)
) WITHOUT ROWID;
-- Facts counted per direct class (instance of): unfiltered facet counts without a scan.
CREATE TABLE IF NOT EXISTS class_fact (
    class INTEGER NOT NULL,
    prop  INTEGER NOT NULL,
    value INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (class, prop, value)
) WITHOUT ROWID;
-- Finished results of whole-catalogue views (loader/base/latest.py, Saved), so that a
-- restarted server answers at once; derived data like the rest.
CREATE TABLE IF NOT EXISTS saved_view (
    key      TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,     -- the revision log id the result reflects
    body     BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS property (
    num       INTEGER PRIMARY KEY,  -- -12 for P12
    type      TEXT NOT NULL,        -- wikibase:propertyType without the namespace
    formatter TEXT                  -- formatter URL (P52) with $1, for external identifiers
);
"""

#: Part of DDL; :meth:`PageIndex._reset` drops it while it empties the tables (a trigger
#: takes SQLite's quick way of deleting every row away: one call per name instead).
NAME_REMOVED = """
CREATE TRIGGER IF NOT EXISTS name_removed AFTER DELETE ON name BEGIN
    UPDATE name_language SET names = names - 1 WHERE lang = old.lang;
    DELETE FROM name_language WHERE lang = old.lang AND names <= 0;
END;
"""
DDL += NAME_REMOVED


def num(entity_id: str) -> int:
    """``Q12`` → 12, ``P12`` → -12."""
    value = int(entity_id[1:])
    return -value if entity_id[0] == "P" else value


def entity_id(number: int) -> str:
    """12 → ``Q12``, -12 → ``P12``."""
    return f"P{-number}" if number < 0 else f"Q{number}"


# Combining diacritical marks (the blocks Latin, Greek and Cyrillic accents come from);
# marks of other scripts (Indic vowel signs...) are letters to their readers and stay.
_DIACRITICS = dict.fromkeys(
    c
    for start, end in ((0x300, 0x36F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF))
    for c in range(start, end + 1)
)


def fold(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed: how names are compared."""
    if text.isascii():
        return " ".join(text.lower().split())
    bare = unicodedata.normalize("NFKD", text).translate(_DIACRITICS)
    return " ".join(unicodedata.normalize("NFC", bare).casefold().split())


@dataclass(frozen=True)
class Backlink:
    """One statement, qualifier or reference of ``source`` pointing at an entity."""

    source: str
    property: str
    kind: int
    statement: str
    #: True when ``source`` uses the entity (a property) as the predicate, not as a value
    used: bool = False


@dataclass(frozen=True)
class PropertyInfo:
    """How a property's values are shown."""

    type: str
    formatter: str | None


@dataclass
class Extract:
    """What the index keeps of one entity."""

    names: list[tuple[int, str, str]]  # (kind, lang, text)
    facts: set[tuple[int, int]]  # (prop, value)
    links: set[tuple[int, int, int, str]]  # (target, prop, kind, statement)
    uses: set[tuple[int, int, str]] = field(default_factory=set)  # (prop, kind, statement)
    property_type: str | None = None
    formatter: str | None = None


def extract(ns: Namespaces, entity: str, snapshot: bytes) -> Extract:
    """Names, truthy item facts and outgoing links of one entity's content."""
    me = ns.entity(entity).value
    statement_ns = ns["wds"]
    formatter = ns.predicate("wdt", FORMATTER_URL).value
    out = Extract([], set(), set())
    references: dict[str, list[str]] = {}
    referenced: list[tuple[str, int, int]] = []  # (reference node, target, prop)
    used_in_references: list[tuple[str, int]] = []  # (reference node, prop)
    for triple in ox.parse(snapshot, ox.RdfFormat.N_TRIPLES):
        s, p, o = triple.subject, triple.predicate.value, triple.object
        if s.value == me:
            if isinstance(o, ox.Literal):
                kind = KIND_BY_PREDICATE.get(p)
                if kind is not None:
                    out.names.append((kind, (o.language or "").lower(), o.value))
                elif p == formatter:
                    out.formatter = o.value
                continue
            if p == PROPERTY_TYPE:
                out.property_type = o.value.removeprefix(WIKIBASE)
                continue
        if p == DERIVED_FROM:
            references.setdefault(o.value, []).append(s.value.removeprefix(statement_ns))
            continue
        split = ns.split_predicate(p)
        if split is not None:  # the property used: statements (p:), qualifiers, references
            used_prefix, used_prop = split
            if used_prefix == "p" and s.value == me:
                out.uses.add((num(used_prop), VALUE, o.value.removeprefix(statement_ns)))
            elif used_prefix == "pq":
                out.uses.add((num(used_prop), QUALIFIER, s.value.removeprefix(statement_ns)))
            elif used_prefix == "pr":
                used_in_references.append((s.value, num(used_prop)))
        if not isinstance(o, ox.NamedNode):
            continue
        target = ns.entity_id(o.value)
        if target is None or split is None:
            continue
        prefix, prop = split
        if prefix == "wdt" and s.value == me:
            out.facts.add((num(prop), num(target)))
        elif prefix in ("ps", "pq"):
            statement = s.value.removeprefix(statement_ns)
            out.links.add((num(target), num(prop), _LINK_KINDS[prefix], statement))
        elif prefix == "pr":
            referenced.append((s.value, num(target), num(prop)))
    for node, ref_target, ref_prop in referenced:
        for statement in sorted(references.get(node, []))[:1]:
            out.links.add((ref_target, ref_prop, REFERENCE, statement))
    for node, used in used_in_references:
        for statement in sorted(references.get(node, []))[:1]:
            out.uses.add((used, REFERENCE, statement))
    return out


class _Batch:
    """Rows of many entities, inserted with one executemany per table."""

    def __init__(self) -> None:
        self.entities: list[tuple[int, str, int]] = []
        self.names: list[tuple[int, int, int, str, str, str]] = []
        self.searchable: list[tuple[int, str]] = []
        self.facts: list[tuple[int, int, int]] = []
        self.links: list[tuple[int, int, int, int, str]] = []
        self.uses: list[tuple[int, int, int, str]] = []
        self.properties: list[tuple[int, str, str | None]] = []
        self.class_facts: Counter[tuple[int, int, int]] = Counter()
        self.members: list[tuple[int, str, int]] = []

    def add(self, number: int, data: Extract, languages: Sequence[str], next_id: int) -> int:
        """Queue one entity's rows; returns the next free name id."""
        labels = {lang: text for kind, lang, text in data.names if kind == LABEL}
        best = pick(labels, languages)
        classes = {value for prop, value in data.facts if prop == INSTANCE_OF}
        sort_key = fold(best[1]) if best else "\uffff"
        self.entities.append((number, sort_key, len(classes)))
        self.members += [(cls, sort_key, number) for cls in classes]
        for kind, lang, text in data.names:
            norm = fold(text)
            self.names.append((next_id, number, kind, lang, text, norm))
            if kind != DESCRIPTION:
                self.searchable.append((next_id, norm))
            next_id += 1
        self.facts += [(prop, value, number) for prop, value in data.facts]
        for cls in classes:
            self.class_facts.update((cls, prop, value) for prop, value in data.facts)
        self.links += [(target, number, prop, kind, st) for target, prop, kind, st in data.links]
        self.uses += [(prop, kind, number, st) for prop, kind, st in data.uses]
        if data.property_type is not None:
            self.properties.append((number, data.property_type, data.formatter))
        return next_id

    def insert(self, db: sqlite3.Connection) -> None:
        """Write the queued rows."""
        db.executemany("INSERT INTO entity VALUES (?, ?, ?)", self.entities)
        db.executemany("INSERT INTO name VALUES (?, ?, ?, ?, ?, ?)", self.names)
        db.executemany("INSERT INTO name_fts (rowid, norm) VALUES (?, ?)", self.searchable)
        db.executemany("INSERT OR IGNORE INTO fact VALUES (?, ?, ?)", self.facts)
        db.executemany("INSERT OR IGNORE INTO link VALUES (?, ?, ?, ?, ?)", self.links)
        db.executemany("INSERT OR IGNORE INTO use VALUES (?, ?, ?, ?)", self.uses)
        db.executemany("INSERT INTO property VALUES (?, ?, ?)", self.properties)
        db.executemany("INSERT OR IGNORE INTO member VALUES (?, ?, ?)", self.members)
        db.executemany(
            "INSERT INTO class_fact VALUES (?, ?, ?, ?) "
            "ON CONFLICT (class, prop, value) DO UPDATE SET n = n + excluded.n",
            [(*key, n) for key, n in self.class_facts.items()],
        )


class PageIndex:
    """SQLite index in ``DATA_DIR/pages.sqlite3``, derived from the revision log.

    One writer (a lock serialises catch-ups); readers use one connection per thread."""

    def __init__(
        self, path: Path | None, revisions: RevisionLog, ns: Namespaces, languages: Sequence[str]
    ) -> None:
        self.path = path
        self.revisions = revisions
        self.ns = ns
        self.languages = list(languages)
        self._target = ":memory:" if path is None else str(path)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._writer = self._connect()
        self._migrate()
        self._indexed = self._meta_int("indexed_id")
        self._checked = False
        self._empty = False
        self._properties: dict[str, PropertyInfo] | None = None
        self._memo: OrderedDict[tuple[int, Hashable], object] = OrderedDict()
        self._memo_lock = threading.Lock()
        self._memo_stamp: int | None = None  # the index revision of the memo's entries

    def _migrate(self) -> None:
        """Create the tables; an index of another schema version is dropped first (it is
        derived data: the next catch-up rebuilds it). Tables added within a schema version
        are filled once from the others (no rebuild), one process at a time."""
        db = self._writer
        with self._shared_file_lock():
            tables = self._tables()
            if "meta" in tables:
                row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                if row is None or row[0] != SCHEMA_VERSION:
                    for table in ("name_fts", *sorted(tables - {"name_fts"})):
                        if table in tables and not table.startswith(("sqlite_", "name_fts_")):
                            db.execute(f'DROP TABLE IF EXISTS "{table}"')
                    tables = self._tables()
            db.executescript(DDL)
            if "name" in tables and "name_language" not in tables:
                db.execute(
                    "INSERT OR IGNORE INTO name_language "
                    "SELECT lang, count(*) FROM name GROUP BY lang"
                )
            if "entity" in tables and "member" not in tables:
                db.execute(
                    "INSERT OR IGNORE INTO member SELECT c.value, e.sort_key, e.num FROM fact c "
                    "JOIN entity e ON e.num = c.num WHERE c.prop = ?",
                    (INSTANCE_OF,),
                )

    def _tables(self) -> set[str]:
        rows = self._writer.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}

    # --- connections ---------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._target, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=10000")
        # No mmap: every connection (one per serving thread) mapped the file again, so the
        # same OS-cached pages counted once per thread in the server's RSS (1.5 GB at 100k
        # records, which the OOM killer also counts); read() of the same cached pages was
        # within 5 % of its speed on entity pages.
        self._connections.append(db)
        return db

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's read connection (the writer's for an in-memory index)."""
        if self.path is None:
            return self._writer
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    def close(self) -> None:
        """Close every connection (closing twice is harmless)."""
        for db in self._connections:
            db.close()
        self._connections.clear()

    def compact(self) -> None:
        """Merge the full-text index's segments (a deleted row's words otherwise linger
        in older segments), rewrite the file without free pages and empty the
        write-ahead log: after an erase, no byte of the removed names stays on disk."""
        with self._lock:
            db = self._writer
            db.execute("DELETE FROM saved_view")  # results from before the erase
            db.execute("INSERT INTO name_fts (name_fts) VALUES ('optimize')")
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _meta_int(self, key: str) -> int:
        row = self._writer.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _meta(self, key: str) -> str | None:
        row = self._writer.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # --- keeping up with the log ---------------------------------------------------------
    @property
    def indexed_id(self) -> int:
        """The revision id the index reflects."""
        return self._indexed

    def current(self) -> PageIndex:
        """This index, caught up with the log first (what readers of the index want)."""
        self.catch_up()
        return self

    def catch_up(self) -> int:
        """Index every entity changed since the last catch-up; returns how many.

        Cheap when nothing changed (one max(id) on the log)."""
        if self._checked and self.revisions.last_id() == self._indexed:
            return 0
        with self._lock, self._shared_file_lock():
            self._adopt_other_writers()
            head = self.revisions.recent(1)
            head_id, head_time = (head[0].id, head[0].time) if head else (0, "")
            if not self._checked or head_id < self._indexed:
                if self._stale(head_id, head_time):
                    self._reset()
                self._checked = True
            if head_id == self._indexed:
                return 0
            changed = [s.entity for s in self.revisions.changed_since(self._indexed)]
            for start in range(0, len(changed), BATCH):
                chunk = changed[start : start + BATCH]
                self._write(chunk, self.revisions.latest_revisions(chunk))
            self._set_meta({"indexed_id": str(head_id), "indexed_time": head_time})
            self._indexed = head_id
            self._empty = False
            return len(changed)

    @contextmanager
    def _shared_file_lock(self) -> Iterator[None]:
        """Across processes: one catch-up at a time per index file. Another process on the
        same DATA_DIR (a second app process, or `bigtent load` beside a server, on a shared
        revision log) may index the same changes; taking turns keeps each catch-up's read
        of the log and write of the index in order, so an older revision never overwrites
        a newer one."""
        if self.path is None:
            yield
            return
        with open(f"{self.path}.lock", "a+b") as handle:  # noqa: PTH123 - needs the fd
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _adopt_other_writers(self) -> None:
        """Start from what the index file holds, which another process may have moved on."""
        if self.path is None or not self._checked:
            return
        on_file = self._meta_int("indexed_id")
        if on_file != self._indexed:
            self._indexed = on_file
            self._properties = None

    def _stale(self, head_id: int, head_time: str) -> bool:
        """True when the index was built from another log or with other settings."""
        if self._meta("schema") != SCHEMA_VERSION:
            return True
        if self._meta("base") != self.ns.base or self._meta("languages") != ",".join(
            self.languages
        ):
            return True
        if head_id < self._indexed:
            return True
        return head_id == self._indexed and self._meta("indexed_time") not in (None, head_time)

    def _reset(self) -> None:
        db = self._writer
        db.execute("BEGIN IMMEDIATE")
        db.execute("DROP TRIGGER IF EXISTS name_removed")
        tables = (
            "entity",
            "name",
            "name_language",
            "name_fts",
            "fact",
            "link",
            "use",
            "class_fact",
            "member",
            "property",
            "saved_view",
            "meta",
        )
        for table in tables:
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        db.execute(NAME_REMOVED)
        db.execute("COMMIT")
        self._set_meta(
            {
                "schema": SCHEMA_VERSION,
                "base": self.ns.base,
                "languages": ",".join(self.languages),
                "indexed_id": "0",
            }
        )
        self._indexed = 0
        self._empty = True

    def _set_meta(self, values: dict[str, str]) -> None:
        self._writer.executemany(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            list(values.items()),
        )

    def _write(self, entities: Sequence[str], revisions: Iterable[Revision]) -> None:
        """Replace what the index holds about ``entities`` by their newest revisions,
        in one transaction with batched inserts."""
        rows = {r.entity: r for r in revisions}
        db = self._writer
        db.execute("BEGIN IMMEDIATE")
        try:
            numbers = [(num(e),) for e in entities]
            if not self._empty:  # right after a reset there is nothing to forget
                self._forget(db, numbers)
            next_id = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM name").fetchone()[0])
            batch = _Batch()
            for entity in entities:
                rev = rows.get(entity)
                if rev is not None and rev.state == LIVE and rev.snapshot is not None:
                    data = extract(self.ns, entity, rev.snapshot)
                    next_id = batch.add(num(entity), data, self.languages, next_id)
            batch.insert(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._properties = None

    @staticmethod
    def _forget(db: sqlite3.Connection, numbers: list[tuple[int]]) -> None:
        db.executemany(
            "UPDATE class_fact SET n = n - 1 WHERE (class, prop, value) IN ("
            "SELECT c.value, f.prop, f.value FROM fact c JOIN fact f ON f.num = c.num "
            "WHERE c.num = ?1 AND c.prop = ?2)",
            [(n, INSTANCE_OF) for (n,) in numbers],
        )
        db.execute("DELETE FROM class_fact WHERE n <= 0")
        db.executemany(
            "DELETE FROM member WHERE (class, sort_key, num) IN ("
            "SELECT c.value, e.sort_key, e.num FROM fact c JOIN entity e ON e.num = c.num "
            "WHERE c.num = ?1 AND c.prop = ?2)",
            [(n, INSTANCE_OF) for (n,) in numbers],
        )
        db.executemany(
            "DELETE FROM name_fts WHERE rowid IN (SELECT id FROM name WHERE num = ?)", numbers
        )
        for sql in (
            "DELETE FROM name WHERE num = ?",
            "DELETE FROM entity WHERE num = ?",
            "DELETE FROM fact WHERE num = ?",
            "DELETE FROM link WHERE source = ?",
            "DELETE FROM use WHERE source = ?",
            "DELETE FROM property WHERE num = ?",
        ):
            db.executemany(sql, numbers)

    # --- reading -------------------------------------------------------------------------
    def names(
        self, entities: Iterable[str], languages: Sequence[str], kind: int = LABEL
    ) -> dict[str, tuple[str, str]]:
        """Best (language, text) of each entity's labels (or descriptions) in the
        reader's languages, falling back to any; entities without one are left out."""
        numbers = sorted({num(e) for e in entities if ENTITY_ID.match(e)})
        rank = {lang: i for i, lang in reversed(list(enumerate(languages)))}
        best: dict[int, tuple[int, str, str]] = {}
        wanted = list(rank)
        for chunk in _chunks(numbers, 400):
            marks = ",".join("?" * len(chunk))
            langs = ",".join("?" * len(wanted))
            rows = self.db.execute(
                f"SELECT num, lang, text FROM name WHERE num IN ({marks}) AND kind = ? "  # noqa: S608
                f"AND lang IN ({langs})",
                (*chunk, kind, *wanted),
            )
            for number, lang, text in rows:
                order = rank[lang]
                if number not in best or order < best[number][0]:
                    best[number] = (order, lang, text)
        missing = [n for n in numbers if n not in best]
        for chunk in _chunks(missing, 400):  # no label in the reader's languages: any one
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT num, min(lang), text FROM name WHERE num IN ({marks}) AND kind = ? "  # noqa: S608
                "GROUP BY num",
                (*chunk, kind),
            )
            for number, lang, text in rows:
                best[number] = (len(rank), lang, text)
        return {entity_id(n): (lang, text) for n, (_, lang, text) in best.items()}

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered until the index next changes (for derived figures
        such as facet counts that cost a scan). At most MEMO_SIZE are kept."""
        stamped = (self._indexed, key)  # a value computed mid-catch-up is never reused
        memo = self._memo
        with self._memo_lock:
            if stamped in memo:
                memo.move_to_end(stamped)
                return memo[stamped]  # type: ignore[return-value]
        value = compute()
        with self._memo_lock:
            if stamped[0] != self._indexed:  # the index moved on meanwhile: never asked again
                return value
            if stamped[0] != self._memo_stamp:
                # Entries of an older index can never be asked for again: dropped at once,
                # not when a count of newer ones pushes them out (at 1M records, a few of
                # them, such as network graphs, took gigabytes between edits).
                for old in [k for k in memo if k[0] != stamped[0]]:
                    del memo[old]
                self._memo_stamp = stamped[0]
            memo[stamped] = value
            # least recently used first: the per-page entries of a crawl (link counts,
            # small maps) never push out the catalogue-wide ones every page reads
            while len(memo) > MEMO_SIZE:
                memo.popitem(last=False)
        return value

    def saved_view(self, key: str) -> tuple[int, bytes] | None:
        """(revision, body) of the view result saved under ``key``, or None."""
        self.catch_up()  # an index of another log is emptied first
        row = self.db.execute(
            "SELECT revision, body FROM saved_view WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def save_view(self, key: str, revision: int, body: bytes) -> None:
        """Save a view result under ``key``, unless one of a newer revision is there."""
        with self._lock:
            self._writer.execute(
                "INSERT INTO saved_view VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
                "SET revision = excluded.revision, body = excluded.body "
                "WHERE excluded.revision >= saved_view.revision",
                (key, revision, body),
            )

    def written_languages(self) -> frozenset[str]:
        """Every language a label, description or alias is written in (remembered until
        the index next changes)."""

        def compute() -> frozenset[str]:
            rows = self.db.execute("SELECT lang FROM name_language WHERE names > 0")
            return frozenset(lang for (lang,) in rows)

        return self.memo(("languages",), compute)

    def properties(self) -> dict[str, PropertyInfo]:
        """Type and formatter URL of every property (cached until the next catch-up)."""
        cached = self._properties
        if cached is None:
            rows = self.db.execute("SELECT num, type, formatter FROM property")
            cached = {entity_id(n): PropertyInfo(t, f) for n, t, f in rows}
            self._properties = cached
        return cached

    def values(self, entities: Iterable[str], prop: str) -> dict[str, list[str]]:
        """Truthy item values of one property (e.g. instance of) for each entity."""
        numbers = sorted({num(e) for e in entities if ENTITY_ID.match(e)})
        found: dict[str, list[str]] = {}
        for chunk in _chunks(numbers, 400):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT num, value FROM fact WHERE num IN ({marks}) AND prop = ? "  # noqa: S608
                "ORDER BY num, value",
                (*chunk, num(prop)),
            )
            for number, value in rows:
                found.setdefault(entity_id(number), []).append(entity_id(value))
        return found

    def live(self, entities: Iterable[str]) -> set[str]:
        """Those of ``entities`` that are live and indexed (hidden, erased, deleted and
        unknown ones are left out), in one lookup per 400."""
        numbers = sorted({num(e) for e in entities if ENTITY_ID.match(e)})
        found: set[str] = set()
        for chunk in _chunks(numbers, 400):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT num FROM entity WHERE num IN ({marks})", chunk)  # noqa: S608
            found.update(entity_id(n) for (n,) in rows)
        return found

    def exists(self, entity: str) -> bool:
        """True when the entity is live and indexed."""
        row = self.db.execute("SELECT 1 FROM entity WHERE num = ?", (num(entity),)).fetchone()
        return row is not None

    def backlink_count(self, target: str) -> int:
        """How many statements, qualifiers and references point at ``target`` or, for a
        property, use it as their predicate."""
        return sum(self.link_counts(target)) + sum(self.usage(target))

    def link_counts(self, target: str) -> tuple[int, int, int]:
        """Statements, qualifiers and references pointing at ``target``, by kind."""

        def count() -> tuple[int, int, int]:
            rows = self.db.execute(
                "SELECT kind, count(*) FROM link WHERE target = ? GROUP BY kind", (num(target),)
            )
            return _by_kind(rows)

        return self.memo(("link_counts", target), count)

    def usage(self, prop: str) -> tuple[int, int, int]:
        """Statements, qualifiers and references using the property ``prop`` as their
        predicate, by kind (zero for an item)."""
        if not prop.startswith("P"):
            return (0, 0, 0)

        def count() -> tuple[int, int, int]:
            rows = self.db.execute(
                "SELECT kind, count(*) FROM use WHERE prop = ? GROUP BY kind", (num(prop),)
            )
            return _by_kind(rows)

        return self.memo(("usage", prop), count)

    def backlinks(self, target: str, limit: int, offset: int = 0) -> list[Backlink]:
        """A page of backlinks, in a stable order (source, property, kind, statement):
        the links to ``target`` and, for a property, the uses of it as predicate."""
        if target.startswith("P"):
            sql = (
                "SELECT source, prop, kind, statement, 0 AS used FROM link WHERE target = ?1 "
                "UNION ALL SELECT source, prop, kind, statement, 1 FROM use WHERE prop = ?1 "
                "ORDER BY source, prop, used, kind, statement LIMIT ?2 OFFSET ?3"
            )
        else:  # items are never predicates: one index range, no sort
            sql = (
                "SELECT source, prop, kind, statement, 0 FROM link WHERE target = ?1 "
                "ORDER BY source, prop, kind, statement LIMIT ?2 OFFSET ?3"
            )
        rows = self.db.execute(sql, (num(target), limit, offset))
        return [Backlink(entity_id(s), entity_id(p), k, st, bool(u)) for s, p, k, st, u in rows]

    def entity_count(self) -> int:
        """Live entities in the index."""
        return int(self.db.execute("SELECT count(*) FROM entity").fetchone()[0])


def _by_kind(rows: Iterable[tuple[int, int]]) -> tuple[int, int, int]:
    counts = dict(rows)
    return (counts.get(VALUE, 0), counts.get(QUALIFIER, 0), counts.get(REFERENCE, 0))


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
