"""A throw-away Virtuoso (Debian ``virtuoso-opensource``) for the remote store tests.

Driven by ``scripts/virtuoso``, the script docs/operations.md tells operators to use, so
every test run exercises it: :meth:`Virtuoso.start` has it write ``virtuoso.ini`` into a
scratch directory (every file of the database there, both ports on loopback, free),
start ``virtuoso-t`` in the foreground, and (once ``/sparql`` answers) replace the
``dba`` password by a generated one and create a writer account with the SPARQL_UPDATE
grant (anonymous SPARQL Update answers 500 on Virtuoso). ``stop()`` runs its clean stop
(``checkpoint; shutdown;``). ``scripts/bootstrap test`` installs the package; a missing
one fails the tests rather than skipping them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import requests
from live_server import free_port

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
WRITER = "bigtent"

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "virtuoso"


@dataclass
class Virtuoso:
    """A running Virtuoso server in ``directory``."""

    directory: Path
    http_port: int
    sql_port: int
    dba_password: str
    writer_password: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Root URL of the HTTP server."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def query_url(self) -> str:
        """Anonymous SPARQL query endpoint."""
        return self.url + "/sparql"

    @property
    def update_url(self) -> str:
        """Authenticated (digest) SPARQL endpoint, where updates are allowed."""
        return self.url + "/sparql-auth"

    @property
    def graph_store_url(self) -> str:
        """Authenticated Graph Store HTTP Protocol endpoint."""
        return self.url + "/sparql-graph-crud-auth"

    def settings(self) -> dict[str, str]:
        """The Bigtent settings that point a catalogue at this server."""
        return {
            "STORE": "sparql",
            "STORE_QUERY_URL": self.query_url,
            "STORE_UPDATE_URL": self.update_url,
            "STORE_GRAPH_STORE_URL": self.graph_store_url,
            "STORE_USER": WRITER,
            "STORE_PASSWORD": self.writer_password,
        }

    @classmethod
    def start(
        cls, directory: Path, *, max_rows: int = 1_000_000, max_seconds: int = 60
    ) -> Virtuoso:
        """Create a fresh database in ``directory`` and start serving it."""
        if shutil.which(VIRTUOSO) is None:
            raise RuntimeError(
                f"{VIRTUOSO} is missing: run scripts/bootstrap test (Debian package "
                "virtuoso-opensource)"
            )
        server = cls(
            directory,
            free_port(),
            free_port(),
            secrets.token_urlsafe(18),
            secrets.token_urlsafe(18),
        )
        server.script(
            "create",
            str(server.http_port),
            str(server.sql_port),
            VIRTUOSO_MAX_ROWS=str(max_rows),
            VIRTUOSO_MAX_SECONDS=str(max_seconds),
        )
        server.run()
        server.script("setup")
        server.isql(
            # SERVICE (federation, to SPARQL_SERVICE_ALLOW endpoints) for the public reader
            'GRANT SELECT ON DB.DBA.SPARQL_SINV_2 TO "SPARQL";',
            'GRANT EXECUTE ON DB.DBA.SPARQL_SINV_IMP TO "SPARQL";',
        )
        return server

    def run(self) -> None:
        """Start ``virtuoso-t`` on the existing database; wait until it answers."""
        log = (self.directory / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            [str(SCRIPT), "start", str(self.directory)],  # execs virtuoso-t: the same process
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t ended at start:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                answer = requests.get(self.query_url, params={"query": "ASK {}"}, timeout=5)
                if answer.status_code == 200:
                    return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"virtuoso-t did not answer within 120 s:\n{self.log_tail()}")

    def script(self, command: str, *args: str, **env: str) -> str:
        """Run ``scripts/virtuoso COMMAND DIRECTORY ARGS…`` with the passwords in its
        environment; raise with its output when it fails."""
        done = subprocess.run(
            [str(SCRIPT), command, str(self.directory), *args],
            env={
                **os.environ,
                "VIRTUOSO_DBA_PASSWORD": self.dba_password,
                "BIGTENT_STORE_USER": WRITER,
                "BIGTENT_STORE_PASSWORD": self.writer_password,
                **env,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/virtuoso {command} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def isql(self, *statements: str, password: str | None = None) -> str:
        """Run SQL statements as dba through ``isql-vt``; raise with its output on error."""
        script = "\n".join(statements) + "\n"
        done = subprocess.run(
            [ISQL, f"127.0.0.1:{self.sql_port}", "dba", password or self.dba_password],
            input=script,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = done.stdout + done.stderr
        if done.returncode != 0 or "*** Error" in output:
            raise RuntimeError(f"isql-vt failed:\n{output}")
        return output

    def stop(self) -> None:
        """Stop the server cleanly, ``checkpoint; shutdown;`` (``scripts/virtuoso stop``),
        so the next start need not replay the transaction log; stopping twice is
        harmless. A server that does not answer is ended with SIGTERM, then SIGKILL."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(Exception):
            self.script("stop")
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)

    def kill(self) -> None:
        """End the server at once (SIGKILL), as a crash would."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=30)

    def restart(self) -> None:
        """Stop and start again on the same database and ports."""
        self.stop()
        self.run()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for error messages."""
        path = self.directory / "virtuoso.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> Virtuoso:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
