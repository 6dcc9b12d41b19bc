"""A throw-away Virtuoso (Debian ``virtuoso-opensource``) for the remote store tests.

:meth:`Virtuoso.start` writes its own ``virtuoso.ini`` into a scratch directory (every
file of the database there, both ports on loopback, free), starts ``virtuoso-t`` in the
foreground, waits until ``/sparql`` answers, replaces the ``dba`` password by a generated
one and creates a writer account with the SPARQL_UPDATE grant (anonymous SPARQL Update
answers 500 on Virtuoso). ``stop()`` checkpoints and ends the server. ``scripts/bootstrap
test`` installs the package; a missing one fails the tests rather than skipping them.
"""

from __future__ import annotations

import contextlib
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

INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
LiteMode = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 20
CheckpointInterval = 60
O_DIRECT = 0
CaseMode = 2
MaxStaticCursorRows = 5000
AllowOSCalls = 0
DirsAllowed = ., {dir}
ThreadCleanupInterval = 0
ThreadThreshold = 10
ResourcesCleanupInterval = 0
MaxQueryMem = 256M
VectorSize = 1000
MaxVectorSize = 1000000
AdjustVectorSize = 0
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 4
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/vsp
MaxClientConnections = 20
DavRoot = DAV
EnabledDavVSP = 0
HTTPProxyEnabled = 0
ServerThreads = 20
MaxKeepAlives = 10
KeepAliveTimeout = 10
HTTPThreadSize = 280000
HttpPrintWarningsInOutput = 0
Charset = UTF-8
EnabledGzipContent = 0

[Client]
SQL_PREFETCH_ROWS = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = {max_seconds}
"""


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
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vsp").mkdir(exist_ok=True)
        server = cls(
            directory,
            free_port(),
            free_port(),
            secrets.token_urlsafe(18),
            secrets.token_urlsafe(18),
        )
        (directory / "virtuoso.ini").write_text(
            INI.format(
                dir=directory,
                sql_port=server.sql_port,
                http_port=server.http_port,
                max_rows=max_rows,
                max_seconds=max_seconds,
            ),
            encoding="utf-8",
        )
        server.run()
        server.isql(
            f"USER_SET_PASSWORD('dba', '{server.dba_password}');",
            password="dba",  # the fresh database's default, replaced at once
        )
        server.isql(
            f"DB.DBA.USER_CREATE('{WRITER}', '{server.writer_password}');",
            f'GRANT SPARQL_UPDATE TO "{WRITER}";',
            f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{WRITER}', 3);",
            # SERVICE (federation, to SPARQL_SERVICE_ALLOW endpoints) for the public reader
            'GRANT SELECT ON DB.DBA.SPARQL_SINV_2 TO "SPARQL";',
            'GRANT EXECUTE ON DB.DBA.SPARQL_SINV_IMP TO "SPARQL";',
        )
        return server

    def run(self) -> None:
        """Start ``virtuoso-t`` on the existing database; wait until it answers."""
        log = (self.directory / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            [VIRTUOSO, "+configfile", str(self.directory / "virtuoso.ini"), "+foreground"],
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
        """Checkpoint and stop the server (stopping twice is harmless)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(Exception):
            self.isql("checkpoint;")
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
