"""The parallel load path: workers parse and group blocks of whole records
(loader/ingest/blocks.py), and the records are exactly those of the serial path, on
inputs whose blocks are independent and on inputs whose blocks are not (which the
scan sends to the serial path)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from bench import generate as gen
from loader.base.namespaces import Namespaces
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.ingest import blocks, pipeline
from loader.ingest.blocks import Block, BlockCheck, record_blocks
from loader.ingest.inputs import InputLimits, Source
from loader.ingest.pipeline import LoadReport
from loader.ingest.reader import named_owner, scan
from tests.conftest import BASE

NS = Namespaces(BASE)
SMALL_BLOCK = 12_000  # bytes: about ten generated records a block


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("blocks") / "records.nt"
    gen.generate(300, path, seed=3, base=BASE)
    return path


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blocks, "TARGET_BLOCK_BYTES", SMALL_BLOCK)


def _source(path: Path) -> Source:
    fmt = ox.RdfFormat.N_TRIPLES if path.suffix == ".nt" else ox.RdfFormat.TURTLE
    return Source(path.name, path, fmt, False)


def _limits(make_settings: Callable[..., Settings]) -> InputLimits:
    return InputLimits.from_settings(make_settings())


def _blocks(path: Path, limits: InputLimits) -> list[Block]:
    with _source(path).read(limits) as fh:
        return list(record_blocks(fh, NS, limits, path.name))


@dataclass
class Loads:
    """Loads of one input into fresh copies of the ontology-only catalogue, serial
    (one worker) or parallel (two), with small blocks."""

    make_settings: Callable[..., Settings]
    ontology: Path
    tmp_path: Path

    def write(self, name: str, data: bytes) -> Path:
        """An input file."""
        path = self.tmp_path / name
        path.write_bytes(data)
        return path

    def why_serial(self, path: Path) -> str | None:
        """Why the scan sends the input the serial way (None: it does not)."""
        return scan(_source(path), NS, _limits(self.make_settings)).why_serial

    def load(self, path: Path, workers: int) -> tuple[LoadReport, dict[str, str | None]]:
        """The report and every loaded entity's content hash."""
        data_dir = self.tmp_path / f"data-{path.stem}-{workers}"
        shutil.copytree(self.ontology, data_dir)
        settings = self.make_settings(
            DATA_DIR=str(data_dir), LOAD_WORKERS=workers, LOAD_CHUNK_RECORDS=5
        )
        with Catalogue.open(settings) as cat:
            report = cat.load_paths([path])
            states = cat.revisions.states(report.entities)
            return report, {entity: state.content_hash for entity, state in states.items()}

    def same(self, path: Path) -> LoadReport:
        """Load serially and in parallel; both must give the same records and errors."""
        serial, serial_hashes = self.load(path, 1)
        parallel, parallel_hashes = self.load(path, 2)
        assert parallel_hashes == serial_hashes
        assert (parallel.created, parallel.rejected, parallel.triples_written) == (
            serial.created,
            serial.rejected,
            serial.triples_written,
        )
        assert [str(e) for e in parallel.file_errors] == [str(e) for e in serial.file_errors]
        return serial


@pytest.fixture
def loads(
    make_settings: Callable[..., Settings],
    ontology_template: Path,
    tmp_path: Path,
    small_blocks: None,
) -> Loads:
    return Loads(make_settings, ontology_template, tmp_path)


def test_blocks_hold_every_line_once_and_start_at_a_new_entity(
    generated: Path, make_settings: Callable[..., Settings], small_blocks: None
) -> None:
    limits = _limits(make_settings)
    found = _blocks(generated, limits)
    data = generated.read_bytes()
    assert len(found) > 10
    assert b"".join(b.data for b in found) == data
    lines_before = 0
    for block in found:
        assert block.first_line == lines_before + 1
        assert block.cut_at_boundary
        assert block.data.startswith(b"<" + NS["wd"].encode() + b"Q")
        lines_before += block.data.count(b"\n")
    assert scan(_source(generated), NS, limits).why_serial is None


def test_workers_reading_blocks_make_exactly_the_records_of_the_serial_path(
    generated: Path, loads: Loads, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial, serial_hashes = loads.load(generated, 1)

    def no_grouping_here(*args: object, **kwargs: object) -> Iterator[object]:
        raise AssertionError("the main process grouped records: the block path was not taken")

    monkeypatch.setattr(pipeline, "read_records", no_grouping_here)
    parallel, parallel_hashes = loads.load(generated, 2)
    assert serial.created == parallel.created == 300
    assert parallel.ok and serial.triples_written == parallel.triples_written
    assert parallel_hashes == serial_hashes


def test_a_record_in_two_blocks_goes_the_serial_way_and_stays_one_record(
    generated: Path, loads: Loads
) -> None:
    lines = generated.read_bytes().splitlines(keepends=True)
    moved = loads.write("split.nt", b"".join(lines[1:] + lines[:1]))  # first line last
    why = loads.why_serial(moved)
    assert why is not None and "Q100000" in why and "more than one block" in why
    loads.same(moved)


def test_a_blank_node_in_two_blocks_is_refused_as_the_serial_path_refuses_it(
    generated: Path, loads: Loads
) -> None:
    data = generated.read_bytes()
    label = data[data.index(b"\n_:") + 1 :].split(b" ", 1)[0]
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[1].split(b" ", 1)[0]
    link = last + b" <" + NS["p"].encode() + b"P13> " + label + b" .\n"
    shared = loads.write("shared.nt", data + link)
    why = loads.why_serial(shared)
    assert why is not None and label.decode() in why
    assert "used by both" in str(loads.same(shared).file_errors[0])


def test_a_syntax_error_in_a_later_block_names_the_same_line(
    generated: Path, loads: Loads, make_settings: Callable[..., Settings]
) -> None:
    lines = generated.read_bytes().splitlines(keepends=True)
    at = len(lines) * 3 // 4
    broken = loads.write("broken.nt", b"".join([*lines[:at], b"<oops\n", *lines[at:]]))
    assert len(_blocks(broken, _limits(make_settings))) > 10
    assert loads.same(broken).file_errors[0].line == at + 1


def test_value_and_reference_nodes_must_be_described_where_they_are_linked() -> None:
    check = BlockCheck(NS, lambda iri: named_owner(NS, iri))
    reference = ox.NamedNode(NS["wdref"] + "abc")
    statement = ox.NamedNode(NS["wds"] + "Q1-1")
    derived = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
    url = ox.NamedNode(NS["pr"] + "P18")
    check.start(Block(0, b"", 1))
    check.see(ox.Quad(statement, derived, reference))
    check.see(ox.Quad(reference, url, ox.NamedNode("https://example.org/")))
    check.start(Block(1, b"", 2))
    check.see(ox.Quad(ox.NamedNode(NS["wds"] + "Q2-1"), derived, reference))
    check.finish()
    assert check.why_not is not None and "reference/abc" in check.why_not


def test_only_line_based_inputs_are_cut(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    turtle = tmp_path / "one.ttl"
    turtle.write_text(f"<{NS['wd']}Q5000> <{NS['wdt']}P1> <{NS['wd']}Q1> .\n")
    assert scan(_source(turtle), NS, _limits(make_settings)).why_serial == (
        "not N-Triples or N-Quads"
    )
