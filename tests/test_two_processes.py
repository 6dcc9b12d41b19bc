"""Two ``bigtent serve`` processes on one catalogue — the remote store (Virtuoso) and the
revision log, accounts and sessions in PostgreSQL: an edit through one is seen through
the other (page, SPARQL, change feed), a session works on both, and a conflicting edit
through the other gives 409 with both versions.

Each process has its own DATA_DIR (page index, caches, dumps: per process, derived from
the shared log) and its own port, as behind a reverse proxy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from live_server import LiveServer
from postgres import Cluster
from staff_support import PASSWORD
from virtuoso import Virtuoso

BASE = "http://two-processes.bigtent.test/"  # graphs of its own in the shared Virtuoso
ENTITY = "Q1200"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@pytest.fixture(scope="module")
def servers(
    postgres: Cluster, virtuoso: Virtuoso, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    root = tmp_path_factory.mktemp("two-processes")
    settings = {
        "BIGTENT_DATABASE_URL": postgres.create_database(),
        "BIGTENT_BASE_URL": BASE,
        "BIGTENT_SECRET_KEY": "one secret for both processes",
        "BIGTENT_PASSWORD_SCRYPT_N": "1024",
        "BIGTENT_DUMP_INTERVAL": "0",
        **{f"BIGTENT_{name}": value for name, value in virtuoso.settings().items()},
    }
    first = LiveServer.start(root / "a", settings, demo=True)
    try:
        (root / "b").mkdir()
        second = LiveServer.start(root / "b", settings, demo=False)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BIGTENT_")}
            env.update(settings, BIGTENT_DATA_DIR=str(root / "cli"))
            env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
            for name, role in (("alice", "admin"), ("bob", "editor")):
                subprocess.run(
                    [sys.executable, "-m", "webapp.cli", "user", "add", name, "--role", role],
                    input=PASSWORD + "\n",
                    env=env,
                    text=True,
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def logged_in(server: LiveServer, name: str) -> tuple[requests.Session, dict[str, str]]:
    session = requests.Session()
    anonymous = session.get(server.url + "api/session", timeout=30).json()
    answer = session.post(
        server.url + "login",
        json={"name": name, "password": PASSWORD},
        headers={"X-CSRF-Token": anonymous["csrf_token"]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return session, {"X-CSRF-Token": answer.json()["csrf_token"]}


def record(session: requests.Session, server: LiveServer) -> tuple[dict[str, Any], int]:
    data = session.get(f"{server.url}api/entity/{ENTITY}", timeout=30).json()
    data.pop("modified")
    return data, int(data.pop("revision"))


def sparql_labels(endpoint: str) -> set[str]:
    """The entity's labels, asked of a SPARQL endpoint (Bigtent's /sparql or the engine's)."""
    query = (
        f"SELECT ?label WHERE {{ GRAPH ?g {{ <{BASE}entity/{ENTITY}> <{RDFS_LABEL}> ?label }} }}"
    )
    answer = requests.get(
        endpoint,
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return {b["label"]["value"] for b in answer.json()["results"]["bindings"]}


def test_edit_through_one_read_through_the_other(
    servers: tuple[LiveServer, LiveServer], virtuoso: Virtuoso
) -> None:
    a, b = servers
    assert requests.get(f"{b.url}page/{ENTITY}", timeout=60).status_code == 200  # B warm
    writer, token = logged_in(a, "alice")
    data, base = record(writer, a)
    data["labels"]["en"] = "Edited through process A"
    saved = writer.put(
        f"{a.url}api/entity/{ENTITY}", json={**data, "base_revision": base}, headers=token
    )
    assert saved.status_code == 200, saved.text
    revision = saved.json()["revision"]

    page = requests.get(f"{b.url}page/{ENTITY}", timeout=60)
    assert page.status_code == 200 and "Edited through process A" in page.text
    assert "Edited through process A" in sparql_labels(b.url + "sparql")  # B's endpoint
    assert "Edited through process A" in sparql_labels(virtuoso.query_url)  # the engine
    activity = requests.get(
        f"{b.url}changes/activity/{revision}", headers={"Accept": "text/turtle"}, timeout=60
    )
    assert activity.status_code == 200 and ENTITY in activity.text

    # The session made on A works on B (shared sessions, shared SECRET_KEY).
    who = requests.get(b.url + "api/session", cookies=writer.cookies, timeout=30).json()
    assert who["authenticated"] and who["user"] == "alice"


def test_conflicting_edit_through_the_other_process(
    servers: tuple[LiveServer, LiveServer], virtuoso: Virtuoso
) -> None:
    a, b = servers
    on_a, t_a = logged_in(a, "alice")
    on_b, t_b = logged_in(b, "bob")
    theirs, base = record(on_a, a)
    mine = {**theirs, "labels": {**theirs["labels"], "en": "Bob through B"}}
    theirs["labels"]["en"] = "Alice through A"
    first = on_a.put(
        f"{a.url}api/entity/{ENTITY}", json={**theirs, "base_revision": base}, headers=t_a
    )
    assert first.status_code == 200, first.text
    refused = on_b.put(
        f"{b.url}api/entity/{ENTITY}", json={**mine, "base_revision": base}, headers=t_b
    )
    assert refused.status_code == 409, refused.text
    conflict = refused.json()["conflict"]
    assert conflict["fields"][0]["theirs"] == "Alice through A"
    assert conflict["fields"][0]["mine"] == "Bob through B"
    assert "Alice through A" in sparql_labels(virtuoso.query_url)  # nothing half-written


def test_sparql_through_the_other_process(servers: tuple[LiveServer, LiveServer]) -> None:
    a, b = servers
    assert sparql_labels(b.url + "sparql") == sparql_labels(a.url + "sparql") != set()
