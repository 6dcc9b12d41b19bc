"""Answers to GET queries come from a cache tied to the catalogue revision (ETag, 304,
Cache-Control from SPARQL_CACHE_MAX_AGE), so a popular query costs one execution per
change; POST answers are never cached; hiding a person is a change like any other.
The executions are counted by the query service itself (``QueryService.executions``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loader.catalogue import Catalogue

PERSON = "Q1500"  # Amara Okonkwo, fictional (loader/data/demo/people.ttl)
EVENT = "Q1604"  # lists PERSON as a participant (P5)
PARTICIPANTS = f"SELECT ?x ?xLabel WHERE {{ wd:{EVENT} wdt:P5 ?x }} ORDER BY ?x"
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture
def cached_app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """An app with a short snapshot interval and a 120 s browser cache lifetime."""
    return make_app(
        DATA_DIR=str(tmp_path / "data"),
        SPARQL_SNAPSHOT_INTERVAL=0.05,
        SPARQL_CACHE_MAX_AGE=120,
        SPARQL_CLIENT_BUDGET=0,
        SPARQL_CLIENT_PARALLEL=0,
    )


def catalogue(app: Flask) -> Catalogue:
    """The app's catalogue."""
    found: Catalogue = app.extensions["bigtent"]
    return found


def get(web: FlaskClient, query: str, **headers: str) -> Any:
    """A GET of ``query`` asking for SPARQL JSON."""
    return web.get("/sparql", query_string={"query": query}, headers={**JSON, **headers})


def test_identical_gets_cost_one_execution(cached_app: Flask) -> None:
    web = cached_app.test_client()
    service = catalogue(cached_app).query_service
    first = get(web, PARTICIPANTS)
    assert first.status_code == 200
    before = service.executions
    spaced = PARTICIPANTS.replace(" ", "\n  ") + "  # the same query, written otherwise"
    for text in (PARTICIPANTS, spaced, PARTICIPANTS):
        again = get(web, text)
        assert again.status_code == 200 and again.data == first.data
        assert again.headers["ETag"] == first.headers["ETag"]
    assert service.executions == before
    assert first.headers["Cache-Control"] == "public, max-age=120"
    assert "Accept" in first.headers["Vary"] and "Accept-Language" in first.headers["Vary"]
    # another format, another language or another query is another answer
    get(web, PARTICIPANTS, Accept="text/csv")
    get(web, PARTICIPANTS, **{"Accept-Language": "fr"})
    assert service.executions == before + 2


def test_if_none_match_gives_304_without_running(cached_app: Flask) -> None:
    web = cached_app.test_client()
    service = catalogue(cached_app).query_service
    tag = get(web, PARTICIPANTS).headers["ETag"]
    before = service.executions
    again = get(web, PARTICIPANTS, **{"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag
    assert service.executions == before


def test_post_is_never_cached(cached_app: Flask) -> None:
    web = cached_app.test_client()
    service = catalogue(cached_app).query_service
    before = service.executions
    for _ in range(2):
        answer = web.post("/sparql", data={"query": PARTICIPANTS}, headers=JSON)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store" and "ETag" not in answer.headers
    assert service.executions == before + 2


def test_a_change_is_never_served_from_the_cache(cached_app: Flask) -> None:
    """Hiding a person moves the revision: the cached answer naming them is not served
    (the privacy sweep's ``labels-filled`` query)."""
    web = cached_app.test_client()
    cat = catalogue(cached_app)
    person = cat.repository.ns["wd"] + PERSON
    first = get(web, PARTICIPANTS)
    names = [b["x"]["value"] for b in first.json["results"]["bindings"]]
    assert person in names and "Amara Okonkwo" in first.text
    cat.privacy.hide(PERSON, "asked to be removed from the public registry", "test")
    cat.query_service.refresh()  # what the snapshot thread does within its interval
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = get(web, PARTICIPANTS)
        if "Okonkwo" not in answer.text:
            break
        time.sleep(0.1)
    assert answer.status_code == 200
    assert "Okonkwo" not in answer.text  # the event still links the id, never the name
    assert answer.headers["ETag"] != first.headers["ETag"]
    stale = get(web, PARTICIPANTS, **{"If-None-Match": first.headers["ETag"]})
    assert stale.status_code == 200 and "Okonkwo" not in stale.text


def test_errors_are_not_cached(cached_app: Flask) -> None:
    web = cached_app.test_client()
    service = catalogue(cached_app).query_service
    bad = "SELECT ?x WHERE { ?x ?y }"
    before = service.executions
    for _ in range(2):
        answer = get(web, bad)
        assert answer.status_code == 400 and "ETag" not in answer.headers
    assert service.executions == before + 2
