"""A throw-away PostgreSQL cluster for the tests (Debian's ``postgresql`` package).

``initdb`` into a fresh temporary directory, a generated password, a free loopback port;
stopped and deleted afterwards. PostgreSQL refuses to run as root, so under root the
cluster belongs to the ``postgres`` system user (the directory is handed to it).
Every test gets a schema of its own (:meth:`Cluster.fresh_url`), so tests never see each
other's tables and no database has to be created per test.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from live_server import free_port

USER = "bigtent"
DATABASE = "bigtent"


def server_binaries() -> Path:
    """The newest installed PostgreSQL's bin directory; fails with the fix if missing."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed: run `scripts/bootstrap test` "
            "(it installs Debian's postgresql package)"
        )
    return found[-1].parent


@dataclass
class Cluster:
    """A running throw-away cluster."""

    root: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]
    _schemas: int = field(default=0)
    command: list[str] = field(default_factory=list, repr=False)  # how the server started
    as_owner: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        """The database's URL (default schema ``public``)."""
        return f"postgresql://{USER}:{quote(self.password)}@127.0.0.1:{self.port}/{DATABASE}"

    def fresh_url(self) -> str:
        """The URL of a new, empty schema: a database of its own for one test."""
        self._schemas += 1
        name = f"t{os.getpid()}_{self._schemas}_{secrets.token_hex(3)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url}?options=-csearch_path%3D{name}"

    def create_database(self, template: str | None = None) -> str:
        """A new database (a copy of database ``template`` if given); returns its URL."""
        self._schemas += 1
        name = f"db{os.getpid()}_{self._schemas}_{secrets.token_hex(3)}"
        copy = f" TEMPLATE {template}" if template else ""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}{copy}")
        return self.database_url(name)

    def database_url(self, name: str) -> str:
        """The URL of database ``name``."""
        return self.url.rsplit("/", 1)[0] + "/" + name

    def restart(self, timeout: float = 60) -> None:
        """What ``pg_ctl restart -m fast`` does: a fast shutdown (SIGINT: open
        transactions rolled back, every connection closed), then the same server started
        again on the same data and port; returns once it accepts connections. Done here
        rather than through pg_ctl, whose new server would be no child of this process
        (so the fixture could not stop it), and which refuses to run as root."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        log = self.root / "server.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=True,
                **self.as_owner,
            )
        _wait_until_ready(self, log, timeout)

    def stop(self) -> None:
        """Fast shutdown, then delete the cluster's files."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast": roll back and stop
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _owner() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root needs the 'postgres' system user") from None
    return entry.pw_uid, entry.pw_gid


@contextlib.contextmanager
def running_cluster(timeout: float = 60) -> Iterator[Cluster]:
    """Start a cluster; stop and delete it on exit."""
    binaries = server_binaries()
    root = Path(tempfile.mkdtemp(prefix="bigtent-pg-"))
    owner = _owner()
    password = secrets.token_urlsafe(18)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if owner is not None:
        for path in (root, pwfile):
            os.chown(path, *owner)
    as_owner: dict[str, Any] = (
        {"user": owner[0], "group": owner[1], "extra_groups": []} if owner else {}
    )
    log = root / "server.log"
    try:
        subprocess.run(
            [
                str(binaries / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            cwd=root,
            **as_owner,
        )
        port = free_port()
        with log.open("wb") as out:
            if owner is not None:
                os.chown(log, *owner)
            command = [
                str(binaries / "postgres"),
                "-D",
                str(root / "data"),
                "-p",
                str(port),
                "-k",
                str(root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",  # throw-away data: durability only costs time here
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ]
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=root,
                start_new_session=True,  # a Ctrl-C in the terminal is the tests' to handle
                **as_owner,
            )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {exc.stderr.decode(errors='replace')}") from None
    cluster = Cluster(root, port, password, process, command=command, as_owner=as_owner)
    try:
        _wait_until_ready(cluster, log, timeout)
        with psycopg.connect(cluster.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {DATABASE}")
        yield cluster
    finally:
        cluster.stop()


def _wait_until_ready(cluster: Cluster, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    admin = cluster.url.rsplit("/", 1)[0] + "/postgres"
    while time.monotonic() < deadline:
        if cluster.process.poll() is not None:
            break
        try:
            with psycopg.connect(admin, connect_timeout=2):
                return
        except psycopg.OperationalError:
            time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text(errors='replace')}")
