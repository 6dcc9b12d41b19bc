"""A third-party LDES client (npm ``ldes-client``, the TREE/LDES community's reference
client) replicates the change feed, then stays in sync while the catalogue changes.

Node starts slowly (~1 s), so there are two invocations: one reading the session's
live server to the end, one following a small catalogue served from this process
(so that the test can write to it while the client polls)."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from live_server import LiveServer, free_port
from werkzeug.serving import make_server

from loader.base.namespaces import RDF, relative_turtle_prefixes
from loader.base.settings import load_settings
from loader.catalogue import Catalogue
from loader.publish.feed import AS
from webapp import create_app

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "node_modules" / ".bin" / "ldes-client"
KINDS = {AS + "Create", AS + "Update", AS + "Delete"}


def client_command(url: str, *options: str) -> list[str]:
    assert CLIENT.exists(), "ldes-client is missing: run scripts/bootstrap test (npm ci)"
    return [str(CLIENT), *options, url]


def activities(ntriples: str) -> dict[str, dict[str, set[str]]]:
    """Members the client printed: activity IRI -> predicate -> objects (and the object's
    rdf:types under the key "object types")."""
    # The client prints with N3.js's writer: N-Triples lines with Turtle's number shorthand.
    quads = list(ox.parse(ntriples.encode(), ox.RdfFormat.TURTLE))
    found: dict[str, dict[str, set[str]]] = {}
    for q in quads:
        if q.predicate.value == RDF + "type" and q.object.value in KINDS:
            found[q.subject.value] = {}
    for q in quads:
        if q.subject.value in found:
            found[q.subject.value].setdefault(q.predicate.value, set()).add(q.object.value)
    types: dict[str, set[str]] = {}
    for q in quads:
        if q.predicate.value == RDF + "type" and q.subject.value not in found:
            types.setdefault(q.subject.value, set()).add(q.object.value)
    for member in found.values():
        for obj in member.get(AS + "object", ()):
            member["object types"] = types.get(obj, set())
    return found


def test_ldes_client_reads_every_member(live_server: LiveServer) -> None:
    done = subprocess.run(
        client_command(live_server.url + "changes"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    members = activities(done.stdout)
    total = requests.get(live_server.url + "changes/activity-streams", timeout=10).json()
    expected = {f"{live_server.url}changes/activity/{n}" for n in range(1, total["totalItems"] + 1)}
    assert set(members) == expected
    # The shape told the client to keep the object's types with each activity.
    some = members[f"{live_server.url}changes/activity/1"]
    assert "http://wikiba.se/ontology#Item" in some["object types"]
    assert some[AS + "published"] and some["http://schema.org/version"] == {"1"}


class Following:
    """``ldes-client --follow`` in the background; collects the members it prints."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            client_command(url, "--follow", "--poll-interval", "300"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.text = ""
        self.errors: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._errors, daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _errors(self) -> None:
        assert self.process.stderr is not None
        self.errors.extend(self.process.stderr)

    def wait_for(self, wanted: set[str], timeout: float = 120) -> dict[str, dict[str, set[str]]]:
        """Members printed so far, once all of ``wanted`` are among them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                self.text += self.lines.get(timeout=0.5)
            while not self.lines.empty():
                self.text += self.lines.get()
            # Members are printed as blocks ending with a blank line; parse whole ones.
            complete = self.text[: self.text.rfind("\n\n") + 1]
            members = activities(complete) if complete else {}
            if wanted <= set(members):
                return members
            assert self.process.poll() is None, "".join(self.errors)[-3000:]
        raise AssertionError(
            f"ldes-client did not show {sorted(wanted - set(activities(self.text)))[:5]}; "
            + "".join(self.errors)[-2000:]
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for reader in self.readers:
            reader.join(10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Catalogue]]:
    """A catalogue with the ontology only, served by this process at its own BASE_URL,
    with pages of 20 revisions; the test writes through the catalogue."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    settings = load_settings(
        env={},
        overrides={
            "DATA_DIR": str(tmp_path / "data"),
            "BASE_URL": url,
            "LOAD_WORKERS": 1,
            "DUMP_INTERVAL": 0,
            "FEED_PAGE_SIZE": 20,
        },
    )
    with Catalogue.open(settings) as cat:
        assert cat.install_ontology().ok
    app = create_app(settings)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url, app.extensions["bigtent"]
    finally:
        server.shutdown()
        thread.join(10)
        app.extensions["bigtent"].close()


def test_ldes_client_follows_new_changes(served: tuple[str, Catalogue], tmp_path: Path) -> None:
    url, cat = served
    first = cat.revisions.last_id()
    assert first > 40  # several pages before the client starts
    client = Following(url + "changes")
    try:
        client.wait_for({f"{url}changes/activity/{n}" for n in range(1, first + 1)})
        record = tmp_path / "new.ttl"
        body = "".join(
            f'wd:Q{n} a wikibase:Item ; rdfs:label "Followed organisation {n}"@en ;\n'
            f'  schema:description "a fictional test organisation"@en ; wdt:P1 wd:Q1 .\n'
            for n in range(5000, 5025)  # enough to fill the open page and start new ones
        )
        record.write_text(relative_turtle_prefixes() + body)
        assert cat.load_paths([record], author="tester").ok
        redirect, _ = cat.merge("Q5001", "Q5000", author="tester")
        deletion = cat.delete("Q5002", reason="closed", author="tester")
        newest = cat.revisions.last_id()
        members = client.wait_for(
            {f"{url}changes/activity/{n}" for n in range(first + 1, newest + 1)}
        )
    finally:
        client.stop()
    merged = members[f"{url}changes/activity/{redirect.id}"]
    assert merged[RDF + "type"] == {AS + "Delete"}
    assert merged[AS + "target"] == {url + "entity/Q5000"}
    assert members[f"{url}changes/activity/{deletion.id}"][AS + "object"] == {url + "entity/Q5002"}
    assert len(members) == newest  # each member once, none twice


def test_latest_version_mode_keeps_the_newer_of_two_changes_in_one_second(
    served: tuple[str, Catalogue], tmp_path: Path
) -> None:
    """A create and an update of one entity within one second: ``--last-version-only``
    emits only the update (the members' version times order them; before, both carried
    the same time to the second and the client emitted both)."""
    url, cat = served
    record = tmp_path / "twice.ttl"
    for _ in range(5):
        first = cat.revisions.last_id()
        for label in ("Twice changed", "Twice changed, renamed"):
            record.write_text(
                relative_turtle_prefixes()
                + f'wd:Q5000 a wikibase:Item ; rdfs:label "{label}"@en ; wdt:P1 wd:Q1 .\n'
            )
            assert cat.load_paths([record], author="tester").ok
        created, updated = (rev for rev, _ in cat.revisions.changes(first + 1, first + 2))
        if created.time == updated.time:
            break
    else:
        pytest.skip("no two revisions fell within one second")
    done = subprocess.run(
        client_command(url + "changes", "--last-version-only"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    members = activities(done.stdout)
    entity = url + "entity/Q5000"
    about = {iri for iri, member in members.items() if member.get(AS + "object") == {entity}}
    assert about == {f"{url}changes/activity/{updated.id}"}
    # Each entity's newest version once: as many members as live entities (no deletions).
    assert len(members) == cat.revisions.entity_count()
