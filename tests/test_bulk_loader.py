"""`bigtent load` into Virtuoso through the engine's own bulk loader (STORE_BULK_DIR,
STORE_BULK_COMMAND): the store ends up as the revision log says, a graph the engine
failed to load is sent again over HTTP, and a failing command is a clear error after
which the log's revisions reach the store at the next open."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from virtuoso import SCRIPT, Virtuoso

from bench import generate as gen
from loader.base.errors import ConfigError
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.storage import bulk_loader
from loader.storage.bulk_loader import BulkLoader, BulkLoadFailed
from tests import conftest
from tests.conftest import BASE

RECORDS = 120


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bulk") / "records.nt"
    gen.generate(RECORDS, path, seed=5, base=BASE)
    return path


@pytest.fixture
def bulk_settings(
    virtuoso: Virtuoso,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Settings]:
    """Settings for a catalogue on the test Virtuoso with its bulk loader configured
    (a folder of its database directory, which DirsAllowed lists), and batches of a
    few records already large enough for it."""
    folder = virtuoso.directory / f"bulk-{secrets.token_hex(4)}"
    folder.mkdir()
    monkeypatch.setenv("VIRTUOSO_DBA_PASSWORD", virtuoso.dba_password)
    monkeypatch.setattr(bulk_loader, "BULK_MIN_TRIPLES", 100)
    conftest._SharedStore.key = None  # the shared store is rewritten here

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            **virtuoso.settings(),
            "STORE_BULK_DIR": str(folder),
            "STORE_BULK_COMMAND": f"{SCRIPT} sql {virtuoso.directory}",
        }
        values.update(overrides)
        return make_settings(**values)

    return make


@pytest.fixture
def bulk_loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The size (bytes) of every file the engine was asked to load."""
    sizes: list[int] = []
    real = BulkLoader.load

    def counted(self: BulkLoader, nquads: bytes, *args: Any, **kwargs: Any) -> str:
        sizes.append(len(nquads))
        return real(self, nquads, *args, **kwargs)

    monkeypatch.setattr(BulkLoader, "load", counted)
    yield sizes


def test_a_load_goes_through_the_engines_bulk_loader_and_matches_the_log(
    bulk_settings: Callable[..., Settings], generated: Path, bulk_loads: list[int]
) -> None:
    with Catalogue.open(bulk_settings()) as cat:
        cat.store.clear()
        cat.install_ontology()
        report = cat.load_paths([generated])
        assert report.ok and report.created == RECORDS
        assert bulk_loads and sum(bulk_loads) > 100_000
        assert not list(Path(str(cat.settings.STORE_BULK_DIR)).iterdir())  # files removed
        drift = cat.verify()
        assert drift.clean, drift.lines()
        assert drift.checked > RECORDS


def test_a_graph_the_engine_did_not_load_is_sent_again(
    bulk_settings: Callable[..., Settings],
    generated: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Virtuoso's loader skips a line it cannot read without a word: the count check
    after each batch finds the graph short and replaces it over HTTP."""
    real = BulkLoader.load
    dropped: list[bytes] = []

    def lossy(self: BulkLoader, nquads: bytes, *args: Any, **kwargs: Any) -> str:
        lines = nquads.splitlines(keepends=True)
        dropped.append(lines[len(lines) // 2])
        kept = lines[: len(lines) // 2] + lines[len(lines) // 2 + 1 :]
        return real(self, b"".join(kept), *args, **kwargs)

    monkeypatch.setattr(BulkLoader, "load", lossy)
    with Catalogue.open(bulk_settings()) as cat:
        cat.store.clear()
        cat.install_ontology()
        assert cat.load_paths([generated]).ok
        assert dropped
        assert "sending it over HTTP" in caplog.text
        drift = cat.verify()
        assert drift.clean, drift.lines()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("false", "STORE_BULK_COMMAND ended with exit code 1"),
        ("true", "STORE_BULK_COMMAND did not print what its SQL statements answer"),
        ("/nonexistent/isql", "STORE_BULK_COMMAND '/nonexistent/isql' was not found"),
    ],
)
def test_a_failing_command_stops_the_load_and_the_next_open_stores_the_batch(
    bulk_settings: Callable[..., Settings], generated: Path, command: str, message: str
) -> None:
    with Catalogue.open(bulk_settings()) as cat:
        cat.store.clear()
        cat.install_ontology()
    with Catalogue.open(bulk_settings(STORE_BULK_COMMAND=command)) as cat:
        with pytest.raises(BulkLoadFailed, match=message):
            cat.load_paths([generated])
        assert cat.verify().pending  # in the log, not yet in the store
    # the next open applies what the log holds and the store lacks, as after a crash
    with Catalogue.open(bulk_settings(STORE_BULK_DIR="", STORE_BULK_COMMAND="")) as cat:
        drift = cat.verify()
        assert drift.clean, drift.lines()
        assert cat.store.graph_triples(ox.NamedNode(BASE + "data/Q100000"))


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"STORE_BULK_DIR": "/tmp"}, "go together"),
        ({"STORE_BULK_COMMAND": "true"}, "go together"),
        ({"STORE_BULK_DIR": "/nonexistent/bulk", "STORE_BULK_COMMAND": "true"}, "not a directory"),
        ({"STORE_BULK_DIR": "/tmp", "STORE_BULK_COMMAND": "'unclosed"}, "cannot be read"),
    ],
)
def test_bulk_settings_are_checked_at_start(
    make_settings: Callable[..., Settings], overrides: dict[str, str], needle: str
) -> None:
    with pytest.raises(ConfigError, match=needle):
        BulkLoader.from_settings(make_settings(**overrides))
