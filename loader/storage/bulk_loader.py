"""Large writes to a SPARQL store through the engine's own bulk loader (Virtuoso's
``ld_dir`` + ``rdf_loader_run``), for ``bigtent load`` at scale.

Over HTTP a load sends every graph through the Graph Store Protocol or SPARQL Update
(a few thousand triples a second into Virtuoso); the engine's loader reads files at
hundreds of thousands. With ``STORE_BULK_DIR`` (a directory the engine reads at the same
path) and ``STORE_BULK_COMMAND`` (a command that runs SQL statements as the engine's
administrator), a large batch is written there as one N-Quads file and, in one session
of that command, the quads of the graphs it replaces are deleted, the engine loads the
file and checkpoints, and the file is removed. Then the batch is checked: the engine
must hold exactly as many more quads as were sent (Virtuoso's loader skips a line it
cannot read without a word); if not, each graph is counted, and one that is short is
replaced over HTTP. The revision log, written before the store, keeps a failure
half-way recoverable as with any write (``bigtent verify --repair``).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from loader.base.errors import ConfigError, Unavailable
from loader.base.rdf import graphs_as_nquads
from loader.base.settings import Settings

log = logging.getLogger(__name__)

#: Batches smaller than this many triples go over HTTP (a bulk load has a fixed cost).
BULK_MIN_TRIPLES = 20_000
#: Graphs named in one SQL statement.
GRAPHS_PER_STATEMENT = 500
#: Counts every quad of the engine, printed as ``bigtent-<when>:<n>``.
_TALLY = "SELECT concat('bigtent-{}:', cast(COUNT(*) AS VARCHAR)) FROM DB.DBA.RDF_QUAD;"
_COUNT = re.compile(r"bigtent-(before|after):([0-9]+)")
#: The most seconds one bulk load (load, checkpoint) may take.
BULK_TIMEOUT = 3600.0


class BulkLoadFailed(Unavailable):
    """The engine's bulk loader could not be run."""


class BulkLoader:
    """Runs the engine's bulk loader on files in ``directory`` through ``command``."""

    def __init__(self, directory: Path, command: list[str], base: str) -> None:
        self.directory = directory
        self.command = command
        self.base = base

    @classmethod
    def from_settings(cls, settings: Settings) -> BulkLoader | None:
        """The loader STORE_BULK_DIR and STORE_BULK_COMMAND describe; None when unset."""
        directory = str(settings.STORE_BULK_DIR)
        command = str(settings.STORE_BULK_COMMAND)
        if not directory and not command:
            return None
        if not directory or not command:
            raise ConfigError(
                "STORE_BULK_DIR and STORE_BULK_COMMAND go together: set both "
                "(BIGTENT_STORE_BULK_DIR, BIGTENT_STORE_BULK_COMMAND) or neither"
            )
        path = Path(directory)
        if not path.is_dir():
            raise ConfigError(
                f"STORE_BULK_DIR {directory} is not a directory: create it where the engine "
                "can read it (Virtuoso: list it in DirsAllowed), or set BIGTENT_STORE_BULK_DIR"
            )
        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise ConfigError(f"STORE_BULK_COMMAND cannot be read: {exc}") from None
        return cls(path.resolve(), words, str(settings.BASE_URL))

    def wanted(self, graphs: Mapping[ox.NamedNode, bytes]) -> bool:
        """True when a batch is large enough for the bulk loader."""
        return sum(data.count(b"\n") for data in graphs.values()) >= BULK_MIN_TRIPLES

    def replace(
        self,
        graphs: Mapping[ox.NamedNode, bytes],
        counts: Callable[[list[ox.NamedNode]], dict[ox.NamedNode, int]],
        resend: Callable[[ox.NamedNode, bytes], None],
    ) -> None:
        """Replace ``graphs`` (canonical N-Triples each) in one session of the command:
        their quads deleted, the engine's quads counted, the file loaded, the quads
        counted again. When the difference is not the number of triples sent, each
        graph is counted (``counts``, SPARQL) and those that differ are sent again
        (``resend``, HTTP)."""
        names = list(graphs)
        step = GRAPHS_PER_STATEMENT
        ids = [
            ", ".join(f"iri_to_id({_sql(g.value)}, 0)" for g in names[i : i + step])
            for i in range(0, len(names), step)
        ]
        output = self.load(
            graphs_as_nquads(graphs),
            before=[
                *(f"DELETE FROM DB.DBA.RDF_QUAD WHERE G IN ({i});" for i in ids),  # noqa: S608
                _TALLY.format("before"),
            ],
            after=[_TALLY.format("after")],
        )
        tally = dict(_COUNT.findall(output))
        if set(tally) != {"before", "after"}:
            raise BulkLoadFailed(
                "STORE_BULK_COMMAND did not print what its SQL statements answer (as isql "
                "does): the load cannot be checked",
                title="Bulk load failed",
            )
        sent = sum(data.count(b"\n") for data in graphs.values())
        if int(tally["after"]) - int(tally["before"]) == sent:
            return
        found = counts(names)
        for graph, data in graphs.items():
            if found.get(graph, 0) != data.count(b"\n"):
                log.warning("bulk load left %s incomplete; sending it over HTTP", graph.value)
                resend(graph, data)

    def load(self, nquads: bytes, before: Sequence[str] = (), after: Sequence[str] = ()) -> str:
        """Have the engine load ``nquads`` and checkpoint, running the SQL statements
        ``before`` and ``after`` in the same session; the command's output."""
        name = f"bigtent-{os.getpid()}-{secrets.token_hex(6)}.nq"
        path = self.directory / name
        path.write_bytes(nquads)
        # isql takes no parameters: the file name is ours, the directory the operator's
        # setting and the graphs the catalogue's, all quoted as SQL strings
        try:
            return self.run(
                *before,
                f"ld_dir({_sql(str(self.directory))}, {_sql(name)}, {_sql(self.base)});",
                "rdf_loader_run();",
                "checkpoint;",
                f"DELETE FROM DB.DBA.LOAD_LIST WHERE ll_file = {_sql(str(path))};",  # noqa: S608
                *after,
            )
        finally:
            path.unlink(missing_ok=True)

    def run(self, *statements: str) -> str:
        """Run SQL statements through STORE_BULK_COMMAND; its output."""
        try:
            done = subprocess.run(
                [*self.command, *statements],
                capture_output=True,
                text=True,
                timeout=BULK_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise BulkLoadFailed(
                f"STORE_BULK_COMMAND {self.command[0]!r} was not found: set "
                "BIGTENT_STORE_BULK_COMMAND to a command that runs SQL on the engine",
                title="Bulk load failed",
            ) from None
        except subprocess.TimeoutExpired:
            raise BulkLoadFailed(
                f"STORE_BULK_COMMAND did not finish within {BULK_TIMEOUT:g} s",
                title="Bulk load failed",
            ) from None
        if done.returncode != 0:
            said = " ".join((done.stderr or done.stdout).split())[-500:] or "(no output)"
            raise BulkLoadFailed(
                f"STORE_BULK_COMMAND ended with exit code {done.returncode}: {said}",
                title="Bulk load failed",
            )
        return done.stdout


def _sql(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
