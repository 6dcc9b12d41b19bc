"""docs/operations.md, run: every command in its shell blocks is one these tests (or the
fixtures, through ``scripts/virtuoso``) run, on a small catalogue, with real Virtuoso,
PostgreSQL and SQLite. A command added to the runbook without a test fails
:func:`test_every_runbook_command_is_exercised`."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from live_server import LiveServer
from postgres import Cluster
from virtuoso import Virtuoso

from loader.base.settings import Settings
from loader.catalogue import Catalogue
from tests.conftest import BASE

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = ROOT / "docs" / "operations.md"

#: The programs the runbook's shell blocks call, each exercised below (or, for
#: ``scripts/virtuoso start|setup|stop``, by every test on Virtuoso: tests/virtuoso.py).
EXERCISED = {
    "scripts/virtuoso": "test_virtuoso_script_lifecycle, tests/virtuoso.py",
    "createuser": "test_postgresql_setup_backup_and_restore",
    "createdb": "test_postgresql_setup_backup_and_restore",
    "pg_dump": "test_postgresql_setup_backup_and_restore",
    "pg_restore": "test_postgresql_setup_backup_and_restore",
    "sqlite3": "test_sqlite_backup_and_restore",
    "bigtent": "the tests here",
    "curl": "test_probes_answer_as_the_runbook_says",
    "export": "(sets a variable)",
}

RECORD = """\
@prefix wd: <entity/> . @prefix wdt: <prop/direct/> .
@prefix wikibase: <http://wikiba.se/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
wd:Q5000 a wikibase:Item ; rdfs:label "Runbook Lab"@en ; wdt:P1 wd:Q1 ;
  wdt:P53 "Point(2.352222 48.856614)"^^geo:wktLiteral .
"""


def _shell_commands(text: str) -> list[str]:
    """Every command line of the ```sh blocks (continuations joined, comments dropped)."""
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_every_runbook_command_is_exercised() -> None:
    commands = _shell_commands(RUNBOOK.read_text(encoding="utf-8"))
    assert len(commands) > 10
    unexercised = [c for c in commands if c.split()[0] not in EXERCISED]
    assert not unexercised, f"runbook commands no test runs: {unexercised}"


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    """One command of the runbook; no terminal (so prompts read stdin), 60 s at most."""
    done = subprocess.run(
        args,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        start_new_session=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def _bigtent_env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BIGTENT_", "PG"))}
    env.update(
        BIGTENT_DATA_DIR=str(data),
        BIGTENT_BASE_URL=BASE,
        BIGTENT_LOAD_WORKERS="1",
        PYTHONPATH=str(ROOT),
        PATH=f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}",
        **extra,
    )
    return env


def _small_catalogue(data: Path, tmp_path: Path, **settings: str) -> dict[str, str]:
    env = _bigtent_env(data, **settings)
    record = tmp_path / "record.ttl"
    record.write_text(RECORD, encoding="utf-8")
    _run(["bigtent", "ontology"], env)
    _run(["bigtent", "load", "--no-progress", str(record)], env)
    return env


def _graphs(settings: Settings) -> tuple[int, set[str]]:
    with Catalogue.open(settings) as cat:
        return cat.revisions.last_id(), {g.value for g in cat.store.graph_names()}


def test_sqlite_backup_and_restore(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    """One machine: back up the revision log and accounts with ``sqlite3 .backup`` while
    the catalogue is in use, keep ``bigtent dump --nquads``; restore into an empty
    DATA_DIR and rebuild the store with ``bigtent reindex``; ``bigtent verify`` is clean."""
    data, backup, restored = tmp_path / "data", tmp_path / "backup", tmp_path / "restored"
    env = _small_catalogue(data, tmp_path)
    backup.mkdir()
    for name in ("revisions.sqlite3", "accounts.sqlite3"):
        if (data / name).exists():
            _run(["sqlite3", str(data / name), f".backup {backup / name}"], env)
    _run(["bigtent", "dump", "--nquads", "--out", str(backup)], env)
    assert (backup / "revisions.sqlite3").exists() and (backup / "bigtent-graphs.nq.gz").exists()
    restored.mkdir()
    for name in ("revisions.sqlite3", "accounts.sqlite3"):
        if (backup / name).exists():
            shutil.copy(backup / name, restored / name)
    renv = _bigtent_env(restored)
    _run(["bigtent", "reindex"], renv)
    _run(["bigtent", "verify"], renv)  # exit 0: the store equals the log
    assert _graphs(make_settings(DATA_DIR=str(restored))) == _graphs(
        make_settings(DATA_DIR=str(data))
    )


def test_postgresql_setup_backup_and_restore(
    postgres: Cluster, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    """The runbook's PostgreSQL: create the account and database, run Bigtent on it, back
    the log up with ``pg_dump -Fc``, restore into an empty database with ``pg_restore``,
    ``bigtent reindex``; ``bigtent verify`` is clean and the revisions are all there."""
    role = f"app{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    admin = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PG")},
        "PGHOST": "127.0.0.1",
        "PGPORT": str(postgres.port),
        "PGUSER": "bigtent",  # the test cluster's superuser
        "PGPASSWORD": postgres.password,
    }
    # createuser --pwprompt asks twice; without a terminal it reads stdin
    _run(["createuser", "--pwprompt", role], admin, stdin=f"{password}\n{password}\n")
    _run(["createdb", "--owner", role, role], admin)
    url = f"postgresql://{role}:{password}@127.0.0.1:{postgres.port}/{role}"
    env = _small_catalogue(tmp_path / "data", tmp_path, BIGTENT_DATABASE_URL=url)
    dump = tmp_path / "bigtent.pgdump"
    _run(["pg_dump", "--format=custom", f"--file={dump}", url], env)
    _run(["createdb", "--owner", role, f"{role}_restored"], admin)
    restored_url = f"{url}_restored"
    _run(["pg_restore", "--no-owner", f"--dbname={restored_url}", str(dump)], env)
    renv = _bigtent_env(tmp_path / "restored", BIGTENT_DATABASE_URL=restored_url)
    _run(["bigtent", "reindex"], renv)
    _run(["bigtent", "verify"], renv)
    with psycopg.connect(restored_url) as conn:
        row = conn.execute("SELECT count(*), max(id) FROM revisions").fetchone()
    assert row is not None and row[0] == row[1] > 1
    before = _graphs(make_settings(DATA_DIR=str(tmp_path / "data"), DATABASE_URL=url))
    after = _graphs(make_settings(DATA_DIR=str(tmp_path / "restored"), DATABASE_URL=restored_url))
    assert before == after


def test_virtuoso_script_lifecycle(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    """``scripts/virtuoso``: the ini has the runbook's limits, the default ``dba``
    password no longer works after ``setup``, the writer can write, and ``stop``
    (``checkpoint; shutdown;``) ends the server with nothing to replay: it starts again
    with the data kept."""
    with Virtuoso.start(tmp_path / "virtuoso") as server:
        ini = (server.directory / "virtuoso.ini").read_text()
        assert "ResultSetMaxRows = 1000000" in ini
        assert f"DirsAllowed = ., {server.directory}" in ini
        with pytest.raises(RuntimeError):
            server.isql("SELECT 1;", password="dba")
        record = tmp_path / "record.ttl"
        record.write_text(RECORD, encoding="utf-8")
        settings = make_settings(**server.settings())
        with Catalogue.open(settings) as cat:
            assert cat.install_ontology().ok
            assert cat.load_paths([record]).ok
            assert cat.verify().clean
        server.stop()
        assert not (server.directory / "virtuoso.lck").exists()
        server.run()
        with Catalogue.open(settings) as cat:
            assert cat.verify().clean  # the graphs survived the stop


def test_probes_answer_as_the_runbook_says(live_server: LiveServer) -> None:
    """The monitoring commands: ``curl -fsS …/health`` (liveness) and ``…/ready``
    (readiness, with the store's lag) on a real ``bigtent serve``."""
    env = dict(os.environ)
    _run(["curl", "-fsS", live_server.url + "health"], env)
    ready = json.loads(_run(["curl", "-fsS", live_server.url + "ready"], env))
    assert ready["lag"]["revisions"] == 0
