"""The sweep: a person hidden by staff appears in no public output (tests/privacy_sweep.py
lists them), once one regeneration cycle has run (dumps rewritten, SPARQL snapshot
refreshed); caches filled before the hide must not leak it either."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import close_app, open_app, sync_app
from flask import Flask
from privacy_sweep import MARKERS, PERSON, PUBLIC_URLS, body_of, expand, leaks, sparql_url
from staff_support import FAST, PASSWORD, catalogue, login

from loader.base.settings import load_settings
from loader.publish.dumps import DumpScheduler, dumps_dir
from loader.staff.accounts import EDITOR

BASE = "https://bigtent.example.org/"


@pytest.fixture(scope="module")
def hidden_app(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory, store_backend: dict[str, Any]
) -> Iterator[Flask]:
    """The demo catalogue served in-process, the person hidden through the edit API after
    every output was read once (so caches hold it), then one regeneration cycle."""
    data = tmp_path_factory.mktemp("sweep") / "data"
    shutil.copytree(demo_template, data)
    settings = load_settings(
        env={},
        overrides={
            "DATA_DIR": str(data),
            "BASE_URL": BASE,
            "LOAD_WORKERS": 1,
            "DUMP_INTERVAL": 0,
            **FAST,
            **store_backend,
        },
    )
    app = open_app(settings, "demo")
    cat = catalogue(app)
    cat.dump()
    public = app.test_client()
    seen = [u for t in PUBLIC_URLS for u in expand(t, cat) if leaks(body_of(public, u))]
    # The sweep can fail: before hiding, the person shows in each kind of output.
    for needle in (
        *("/page/", "/search", "/data/", "/sparql?", "/dumps/bigtent", "/browse/"),
        *("/peers?", "/api/peers?", "/reconcile?"),
    ):
        assert any(needle in u for u in seen), f"no {needle} output showed the person"
    cat.accounts.add_user("eve", EDITOR, PASSWORD)
    staff = app.test_client()
    token = login(staff, "eve")
    answer = staff.post(
        f"/api/entity/{PERSON}/hide",
        json={"reason": "asked to leave the public registry"},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    # One regeneration cycle: the dumps are rewritten, SPARQL gets a new snapshot.
    assert DumpScheduler(cat, dumps_dir(settings), 0.0).run_once() is not None
    cat.query_service.refresh()
    yield app
    close_app(app, "demo")


@pytest.fixture
def hidden(hidden_app: Flask) -> Flask:
    """The module's app, the shared Virtuoso resynced if a test in between changed it."""
    return sync_app(hidden_app, "sweep")


@pytest.mark.parametrize("template", PUBLIC_URLS)
def test_a_hidden_person_appears_in_no_public_output(hidden: Flask, template: str) -> None:
    client = hidden.test_client()
    for url in expand(template, catalogue(hidden)):
        found = leaks(body_of(client, url))
        assert not found, f"{url} shows the hidden person: {found}"


def test_staff_still_see_the_hidden_person(hidden: Flask) -> None:
    client = hidden.test_client()
    login(client, "eve")
    html = client.get(f"/page/{PERSON}").get_data(as_text=True)
    assert MARKERS[0] in html


def test_the_sparql_queries_find_the_person_when_visible(app: Flask) -> None:
    # The sweep's SPARQL queries are able to fail: on the demo they find the person.
    client = app.test_client()
    for name in ("label", "graph", "labels-filled", "describe"):
        fmt = "ttl" if name == "describe" else "json"
        assert leaks(body_of(client, sparql_url(name, fmt))), name
