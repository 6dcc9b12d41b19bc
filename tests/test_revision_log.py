"""The revision log itself, on SQLite and on PostgreSQL (fixture ``db_target``), including
writers in several processes racing for the same entity."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from postgres import Cluster

from loader.base.errors import ConfigError
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.storage.database import Database, database_target, postgres_schema
from loader.storage.oxigraph_store import OxigraphStore
from loader.storage.revision_log import (
    DELETED,
    LIVE,
    NewRevision,
    RevisionLog,
    StaleRevision,
    begin_read_scope,
    end_read_scope,
)

Target = Callable[[str], Path | str]


@pytest.fixture
def log(db_target: Target) -> Iterator[RevisionLog]:
    opened = RevisionLog(db_target("revisions"))
    yield opened
    opened.close()


def create(entity: str, text: str = "a", **kw: object) -> NewRevision:
    body = f"<urn:{entity}> <urn:p> {text!r} .\n".replace("'", '"').encode()
    return NewRevision(entity, "create", "tester", "made", content_hash=text, snapshot=body, **kw)  # type: ignore[arg-type]


def update(entity: str, text: str, expect: int | None = None, check: bool = False) -> NewRevision:
    body = f'<urn:{entity}> <urn:p> "{text}" .\n'.encode()
    return NewRevision(
        entity,
        "update",
        "tester",
        "changed",
        content_hash=text,
        snapshot=body,
        expect_latest=expect,
        check_latest=check,
    )


def test_appends_and_reads_back(log: RevisionLog) -> None:
    assert log.last_id() == 0 and log.count() == 0
    first = log.append([create("Q2"), create("P7")], time="2024-01-01T00:00:00Z")
    assert [r.id for r in first] == [1, 2] and [r.number for r in first] == [1, 1]
    second = log.append([update("Q2", "b")], time="2023-01-01T00:00:00Z")[0]
    # The clock went back; revision times never do.
    assert second.time == "2024-01-01T00:00:00Z" and second.parent == 1 and second.number == 2
    deleted = log.append([NewRevision("P7", "delete", "tester", "gone")])[0]
    assert log.last_id() == 4 and log.count() == 4
    assert [r.id for r in log.history("Q2")] == [3, 1]
    newest = log.get("Q2")
    assert newest is not None and newest.snapshot == b'<urn:Q2> <urn:p> "b" .\n'
    old = log.get("Q2", 1)
    assert old is not None and old.snapshot == b'<urn:Q2> <urn:p> "a" .\n'
    states = log.states(["Q2", "P7", "Q404"])
    assert states["Q2"].state == LIVE and states["P7"].state == DELETED and "Q404" not in states
    assert log.highest_number("Q") == 2 and log.highest_number("P") == 7
    assert log.entity_count() == 1 and log.entity_count(DELETED) == 1
    assert [r.id for r in log.recent(2)] == [4, 3]
    # A deletion's content is the snapshot before it (what the change feed shows).
    changes = log.changes(3, 4)
    assert [(r.id, content) for r, content in changes] == [
        (3, b'<urn:Q2> <urn:p> "b" .\n'),
        (4, b'<urn:P7> <urn:p> "a" .\n'),
    ]
    assert log.revision_time(4) == deleted.time and log.revision_time(99) is None
    assert [s.entity for s in log.changed_since(2)] == ["Q2", "P7"]


def test_a_read_scope_reads_the_head_once_and_its_own_writes_again(
    log: RevisionLog, db_target: Target
) -> None:
    log.append([create("Q2")])
    other = RevisionLog(db_target("revisions"))  # another process, say
    try:
        token = begin_read_scope()
        try:
            assert log.last_id() == 1
            other.append([update("Q2", "b")])
            assert log.last_id() == 1  # one revision for the whole request
            log.append([update("Q2", "c")])
            assert log.last_id() == 3  # a write in the scope is seen at once
        finally:
            end_read_scope(token)
        other.append([update("Q2", "d")])
        assert log.last_id() == 4  # outside a scope, every read asks the database
    finally:
        other.close()


def test_writers_on_several_threads_never_mix_their_transactions(log: RevisionLog) -> None:
    """Regression: on SQLite every thread shares one connection, and a second writer's
    BEGIN failed inside the first one's transaction; its ROLLBACK then undid the first
    one's (612 of 800 appends failed here, some half-written)."""
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        for number in range(50):
            try:
                log.append([create(f"Q{thread}{number:03d}")])
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert log.count() == 200 and log.last_id() == 200


def test_a_stale_base_refuses_the_whole_batch(log: RevisionLog) -> None:
    (made,) = log.append([create("Q1")])
    log.append([update("Q1", "b", expect=made.id, check=True)])
    with pytest.raises(StaleRevision) as stale:
        log.append([create("Q5"), update("Q1", "c", expect=made.id, check=True)])
    assert stale.value.status == 409 and stale.value.latest == made.id + 1
    with pytest.raises(StaleRevision):  # "must not exist yet"
        log.append([create("Q1", check_latest=True, expect_latest=None)])
    assert log.count() == 2 and log.state("Q5") is None  # nothing of the batch


def test_applied_marks(log: RevisionLog) -> None:
    revs = log.append([create("Q1"), create("Q2"), create("Q3")])
    assert sorted(log.unapplied()) == ["Q1", "Q2", "Q3"] and log.applied_through() == 0
    log.mark_applied(revs[:2])
    assert log.unapplied() == ["Q3"] and log.applied_through() == 2
    log.mark_applied(revs[2:])
    assert log.unapplied() == [] and log.applied_through() == 3
    log.forget_applied()
    assert len(log.unapplied()) == 3


def test_export_is_a_consistent_view_in_creation_order(log: RevisionLog) -> None:
    log.append([create("Q9"), create("Q1"), create("Q4")])
    log.append([update("Q9", "new"), NewRevision("Q4", "delete", "tester", "gone")])
    assert [e for e, _ in log.live_entities(0, 10)] == ["Q9", "Q1"]
    assert [e for e, _ in log.live_entities(1, 10)] == ["Q1"]
    with log.export() as export:
        first = next(export.rows)
        log.append([create("Q7"), update("Q1", "later")])  # while the dump reads
        rest = list(export.rows)
    assert export.revision == 5
    assert [r.entity for r, _ in [first, *rest]] == ["Q9", "Q1"]  # created order, no Q4/Q7
    assert [r.id for r, _ in [first, *rest]] == [4, 2]  # Q1 as it was when the view began
    assert log.last_id() == 7


def test_postgres_schema_translation() -> None:
    ddl = postgres_schema(
        "CREATE TABLE IF NOT EXISTS t (\n"
        "    id INTEGER PRIMARY KEY,\n    name TEXT UNIQUE COLLATE NOCASE,\n    b BLOB\n);\n"
        "CREATE TABLE IF NOT EXISTS u (\n    x REAL,\n    y INTEGER -- note\n);"
    )
    assert "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" in ddl
    assert "NOCASE" not in ddl and "b BYTEA" in ddl and "x DOUBLE PRECISION" in ddl
    # u has no integer key: it gets a rowid (creation order), after the commented column
    assert ddl.count("rowid") == 1 and "y BIGINT -- note\n    , rowid" in ddl


# --- several processes ---------------------------------------------------------------------


ROUNDS = 15


def _racer(target: Path | str, barrier: threading.Barrier) -> list[str]:
    """Each round: every process reads the same newest revision of Q1, then all try to
    save a change based on it at the same moment."""
    log = RevisionLog(target)
    outcomes = []
    try:
        for _ in range(ROUNDS):
            barrier.wait(60)
            state = log.state("Q1")
            assert state is not None
            barrier.wait(60)
            try:
                log.append([update("Q1", str(os.getpid()), state.latest, True)])
                outcomes.append("saved")
            except StaleRevision:
                outcomes.append("stale")
        return outcomes
    finally:
        log.close()


def _writer(target: Path | str, prefix: int, barrier: threading.Barrier) -> int:
    log = RevisionLog(target)
    try:
        barrier.wait(60)
        for n in range(40):
            log.append([create(f"Q{prefix * 1000 + n}")])
        return 40
    finally:
        log.close()


def test_processes_racing_on_one_base_save_once(db_target: Target) -> None:
    target = db_target("revisions")
    with _opened(target) as log:
        log.append([create("Q1")])
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(3) as pool:
        barrier = manager.Barrier(3)
        rounds = pool.starmap(_racer, [(target, barrier)] * 3)
    for outcomes in zip(*rounds, strict=True):  # one round: what each process got
        assert sorted(outcomes) == ["saved", "stale", "stale"]
    with _opened(target) as log:
        assert log.count() == 1 + ROUNDS
        assert [r.number for r in log.history("Q1")] == list(range(1 + ROUNDS, 0, -1))


def test_processes_writing_at_once_lose_nothing(db_target: Target) -> None:
    target = db_target("revisions")
    _opened(target).log.close()  # the schema exists before the writers start
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(3) as pool:
        barrier = manager.Barrier(3)
        done = pool.starmap(_writer, [(target, p, barrier) for p in (1, 2, 3)])
    assert done == [40, 40, 40]
    with _opened(target) as log:
        ids = [r.id for r in log.recent(200)]
        assert sorted(ids) == list(range(1, 121))  # unique, no gaps
        assert log.entity_count() == 120


class _opened:
    """A revision log closed at the end of a ``with``."""

    def __init__(self, target: Path | str) -> None:
        self.log = RevisionLog(target)

    def __enter__(self) -> RevisionLog:
        return self.log

    def __exit__(self, *exc: object) -> None:
        self.log.close()


# --- bad configuration ---------------------------------------------------------------------


def test_unreachable_database_names_the_setting() -> None:
    from live_server import free_port

    url = f"postgresql://bigtent:secret-pw@127.0.0.1:{free_port()}/bigtent"
    with pytest.raises(ConfigError) as refused:
        RevisionLog(url)
    message = refused.value.message
    assert "DATABASE_URL" in message and "secret-pw" not in message and "***" in message
    assert refused.value.status == 503


def test_wrong_password_names_the_setting(postgres: Cluster) -> None:
    wrong = f"postgresql://bigtent:wrong-pw@127.0.0.1:{postgres.port}/bigtent"
    with pytest.raises(ConfigError, match="DATABASE_URL") as refused:
        Database(wrong, "revisions", "")
    assert "password authentication failed" in refused.value.message
    assert "wrong-pw" not in refused.value.message


def test_database_url_of_another_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BIGTENT_DATABASE_URL"):
        database_target("mysql://user:pw@host/db", tmp_path / "x.sqlite3")
    assert database_target("  ", tmp_path / "x.sqlite3") == tmp_path / "x.sqlite3"


def test_a_dropped_connection_is_replaced(postgres: Cluster) -> None:
    import psycopg

    url = postgres.fresh_url()
    log = RevisionLog(url)
    try:
        log.append([create("Q1")])
        with psycopg.connect(postgres.url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE usename = current_user AND pid <> pg_backend_pid() "
                "AND datname = current_database() AND backend_type = 'client backend'"
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        assert log.last_id() == 1  # a read reconnects
        with psycopg.connect(postgres.url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = current_user AND pid <> pg_backend_pid() "
                "AND datname = current_database() AND backend_type = 'client backend'"
            )
        assert [r.id for r in log.append([update("Q1", "b")])] == [2]  # so does a write
        assert log.count() == 2
    finally:
        log.close()


# --- moving a catalogue's database ----------------------------------------------------------


def test_copy_database_moves_log_and_accounts_into_postgresql(
    catalogue: Catalogue,
    postgres: Cluster,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from contextlib import closing

    from loader.staff.accounts import DatabaseAccounts, Policy, open_accounts
    from webapp.cli import main

    monkeypatch.setenv("BIGTENT_PASSWORD_SCRYPT_N", "1024")
    source = catalogue.revisions
    catalogue.delete(source.recent(1)[0].entity, reason="gone before the move")
    data_dir = catalogue.settings.data_dir
    with closing(open_accounts(catalogue.settings)) as accounts:
        accounts.add_user("alice", "admin", "a long enough password")
    url = postgres.fresh_url()
    assert main(["--data-dir", str(data_dir), "copy-database", url]) == 0
    assert f"copied {source.count()} revisions" in capsys.readouterr().out

    with closing(RevisionLog(url)) as copy:
        assert (copy.count(), copy.last_id()) == (source.count(), source.last_id())
        assert copy.live_entities(0, 10_000) == source.live_entities(0, 10_000)
        assert copy.entity_count(DELETED) == source.entity_count(DELETED) == 1
        with copy.export() as theirs, source.export() as ours:
            assert [(r.id, blob) for r, blob in theirs.rows] == [
                (r.id, blob) for r, blob in ours.rows
            ]
        newest = copy.append([create("Q999999")])[0]
        assert newest.id == source.last_id() + 1
    with closing(DatabaseAccounts(url, Policy(scrypt_n=1024))) as copied:
        alice = copied.authenticate("alice", "a long enough password", "x")
        assert copied.add_user("bob", "editor", "another long password").id > alice.id
    # Copying again would mix two catalogues: refused.
    assert main(["--data-dir", str(data_dir), "copy-database", url]) == 2
    assert "already has rows in revisions" in capsys.readouterr().err


# --- the store follows the newest revision, whoever swapped last ------------------------------


class OvertakenStore(OxigraphStore):
    """The real store; once, just before our graph swap, ``meanwhile`` runs: what another
    process does between our log write and our swap."""

    meanwhile: Callable[[], None] | None = None

    def replace_graph(self, graph: ox.NamedNode, ntriples: bytes) -> None:
        hook, self.meanwhile = self.meanwhile, None
        if hook is not None:
            hook()
        super().replace_graph(graph, ntriples)


def test_a_write_overtaken_by_another_process_leaves_the_newest_in_the_store(
    db_target: Target, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    target = db_target("revisions")
    store = OvertakenStore(tmp_path / "store")
    cat = Catalogue(make_settings(), store, RevisionLog(target))
    other_log = RevisionLog(target)  # the other process's handle on the shared log
    try:
        iri = cat.ns.entity("Q1")
        label = "<http://www.w3.org/2000/01/rdf-schema#label>"

        def content(text: str) -> tuple[str, bytes, str]:
            return ("Q1", f'{iri} {label} "{text}" .\n'.encode(), text)

        cat.write_contents([content("first")], author="a", summary="s")

        def other_process_writes() -> None:  # its revision is newer; its swap lands first
            _, body, digest = content("theirs")
            (rev,) = other_log.append([NewRevision("Q1", "update", "b", "s", digest, body)])
            OxigraphStore.replace_graph(
                store, cat.ns.data_document("Q1"), cat.graph_ntriples("Q1", body, rev)
            )
            other_log.mark_applied([rev])

        store.meanwhile = other_process_writes
        cat.write_contents([content("mine")], author="a", summary="s")
        labels = cat.select(f"SELECT ?l WHERE {{ GRAPH ?g {{ {iri} {label} ?l }} }}")
        assert [str(row["l"].value) for row in labels] == ["theirs"]
        assert cat.revisions.unapplied() == []
    finally:
        other_log.close()
        cat.close()


def test_threads_get_connections_of_their_own_and_ended_ones_are_closed(
    postgres: Cluster,
) -> None:
    log = RevisionLog(postgres.fresh_url())
    try:
        log.append([create("Q1")])
        seen: list[int] = []

        def read() -> None:
            seen.append(log.last_id())

        for _ in range(5):
            worker = threading.Thread(target=read)
            worker.start()
            worker.join()
        log.last_id()  # this thread's connection is new or reused; ended threads' go
        assert seen == [1] * 5
        assert sum(not c.closed for c in log._db._pg) <= 2
    finally:
        log.close()
