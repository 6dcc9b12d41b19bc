"""Dumps: content (isomorphic to the catalogue; truthy = exactly the truthy triples),
manifest, atomic replacement, the background scheduler, and serving them over HTTP."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from graphs import assert_isomorphic, to_rdflib
from live_server import bigtent

from loader.catalogue import Catalogue
from loader.publish.dumps import (
    DUMPS,
    MANIFEST,
    DumpCancelled,
    DumpScheduler,
    dumps_dir,
    read_manifest,
    write_dumps,
)
from loader.storage.revision_log import NewRevision

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]


def catalogue_triples(cat: Catalogue) -> list[Triple]:
    """Every triple of every entity graph, straight from the store (the OWL graph aside)."""
    ontology = cat.ontology_graph
    return [
        (q.subject, q.predicate, q.object)  # type: ignore[misc]
        for q in cat.store.quads()
        if q.graph_name != ontology
    ]


def is_truthy(cat: Catalogue, triple: Triple) -> bool:
    """The definition of Wikibase's truthy dumps, written independently of the dump query:
    no statement, reference or value nodes, no p: links to statements."""
    s, p, _ = triple
    ns = cat.ns
    if isinstance(s, ox.NamedNode) and s.value.startswith((ns["wds"], ns["wdref"], ns["wdv"])):
        return False
    return ns.split_predicate(p.value) != ("p", p.value[len(ns["p"]) :])


def load_dump(path: Path, fmt: ox.RdfFormat) -> list[Triple]:
    store = ox.Store()
    with gzip.open(path, "rb") as fh:
        store.load(fh, fmt)
    return [(q.subject, q.predicate, q.object) for q in store]  # type: ignore[misc]


@pytest.fixture
def demo(app: Flask) -> Catalogue:
    """The demo catalogue (through the app, which owns it)."""
    cat: Catalogue = app.extensions["bigtent"]
    return cat


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty directory for dumps."""
    return tmp_path / "out"


def test_full_dumps_are_isomorphic_to_the_catalogue(demo: Catalogue, out: Path) -> None:
    manifest = write_dumps(demo, out)
    expected = catalogue_triples(demo)
    assert any(isinstance(t[2], ox.BlankNode) for t in expected)  # blank nodes are covered
    for kind in DUMPS:
        if kind.flavour != "full":
            continue
        dumped = load_dump(out / kind.name, kind.format)
        assert_isomorphic(to_rdflib(expected), to_rdflib(dumped))
        entry = manifest.file(kind.name)
        assert entry is not None
        assert entry.triples == len(set(dumped))  # shared value nodes are written once


def test_truthy_dumps_hold_exactly_the_truthy_triples(demo: Catalogue, out: Path) -> None:
    write_dumps(demo, out)
    everything = catalogue_triples(demo)
    expected = [t for t in everything if is_truthy(demo, t)]
    assert 0 < len(set(expected)) < len(set(everything))
    predicates = {t[1].value for t in expected}
    assert demo.ns["wdt"] + "P1" in predicates
    for kind in DUMPS:
        if kind.flavour == "truthy":
            assert_isomorphic(
                to_rdflib(expected), to_rdflib(load_dump(out / kind.name, kind.format))
            )


def test_manifest_describes_the_files(demo: Catalogue, out: Path) -> None:
    manifest = write_dumps(demo, out)
    assert read_manifest(out) == manifest
    assert manifest.revision == demo.revisions.last_id()
    assert manifest.entities == demo.revisions.entity_count()
    assert manifest.classes["https://w3id.org/bigtent/ontology#Organisation"] > 5
    for entry in manifest.files:
        data = (out / entry.name).read_bytes()
        assert entry.bytes == len(data)
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
        with gzip.open(out / entry.name) as fh:
            text = fh.read()
        if entry.name.endswith(".nt.gz"):
            assert entry.triples == text.count(b"\n")
    full_nt, full_ttl = manifest.files[0], manifest.files[1]
    assert full_nt.triples == full_ttl.triples == manifest.triples
    # Nothing half-written is left behind, and the same catalogue gives the same bytes.
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, *(d.name for d in DUMPS)])
    again = write_dumps(demo, out)
    assert [f.sha256 for f in again.files] == [f.sha256 for f in manifest.files]


def test_a_broken_manifest_means_no_dumps(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None
    (tmp_path / MANIFEST).write_text("{not json")
    assert read_manifest(tmp_path) is None
    (tmp_path / MANIFEST).write_text('{"version": 1, "files": [{"name": 3}]}')
    assert read_manifest(tmp_path) is None


def test_cancelled_dump_leaves_the_previous_files(demo: Catalogue, out: Path) -> None:
    before = write_dumps(demo, out)
    old = {d.name: (out / d.name).read_bytes() for d in DUMPS}
    demo.delete("Q1001", reason="test", author="tester")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DumpCancelled):
        write_dumps(demo, out, cancel)
    assert read_manifest(out) == before
    assert {d.name: (out / d.name).read_bytes() for d in DUMPS} == old
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_scheduler_rewrites_only_after_changes_and_at_most_every_interval(
    demo: Catalogue, out: Path
) -> None:
    scheduler = DumpScheduler(demo, out, interval=3600)
    first = scheduler.run_once()
    assert first is not None and first.revision == demo.revisions.last_id()
    assert scheduler.run_once() is None  # nothing changed
    demo.delete("Q1001", reason="test", author="tester")
    assert scheduler.stale()
    assert scheduler.run_once() is None  # changed, but the interval has not passed
    scheduler.stop()  # gives up the dumps lease: one scheduler writes per revision log
    eager = DumpScheduler(demo, out, interval=0.0)
    second = eager.run_once()
    assert second is not None and second.revision == demo.revisions.last_id() > first.revision
    assert not eager.stale()


def test_background_thread_writes_the_dumps_and_stops_with_the_catalogue(
    demo: Catalogue, out: Path
) -> None:
    written = threading.Event()
    scheduler = DumpScheduler(
        demo, out, interval=0.05, poll=0.05, on_written=lambda _: written.set()
    )
    demo.on_close(scheduler.stop)
    scheduler.start()
    assert written.wait(60)
    written.clear()
    demo.revisions.append([NewRevision("Q1001", "delete", "tester", "background test")])
    assert written.wait(60)
    manifest = read_manifest(out)
    assert manifest is not None and manifest.revision == demo.revisions.last_id()
    scheduler.stop()
    assert scheduler._thread is not None and not scheduler._thread.is_alive()


def test_web_app_starts_the_scheduler_when_dump_interval_is_set(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(DUMP_INTERVAL=1)
    settings = app.extensions["bigtent"].settings
    scheduler = app.extensions["bigtent.dumps"]
    try:
        assert scheduler._thread.is_alive()
        deadline = 120
        while read_manifest(dumps_dir(settings)) is None and deadline:
            threading.Event().wait(0.5)
            deadline -= 1
        assert read_manifest(dumps_dir(settings)) is not None
    finally:
        app.extensions["bigtent"].close()
    assert not scheduler._thread.is_alive()


def test_command_line_dump(demo_template: Path, tmp_path: Path) -> None:
    import os
    import shutil

    data = tmp_path / "data"
    shutil.copytree(demo_template, data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIGTENT_")}
    env.update(
        BIGTENT_DATA_DIR=str(data),
        BIGTENT_BASE_URL="https://bigtent.example.org/",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    bigtent("dump", env=env)
    manifest = read_manifest(data / "dumps")
    assert manifest is not None and {f.name for f in manifest.files} == {d.name for d in DUMPS}


def test_temporary_files_of_a_killed_writer_are_cleaned_up(demo: Catalogue, out: Path) -> None:
    import os
    import time

    out.mkdir()
    old, young = out / ".bigtent-full.nt.gz.abc.part", out / ".bigtent-full.nt.gz.def.part"
    old.write_bytes(b"half a dump")
    young.write_bytes(b"another writer's")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    write_dumps(demo, out)
    assert not old.exists() and young.exists()
