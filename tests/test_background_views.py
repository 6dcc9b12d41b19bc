"""Whole-catalogue views never make a reader wait for a recomputation (issue 15): one
computation for many readers, the newest finished result (with its revision) after an
edit while one thread recomputes, a privacy change waited for, threads stopped at close."""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loader.base.latest import Finished, Views
from loader.catalogue import Catalogue
from loader.discovery import browse
from loader.discovery.network import partnership_register
from loader.discovery.statistics import CHARTS, Statistics
from loader.storage.page_index import PageIndex

PERSON = "Q1500"  # Amara Okonkwo, fictional (loader/data/demo/people.ttl)
NAME = "Amara Okonkwo"
PEOPLE = "people"  # the record type slug of persons (ids.RECORD_TYPES)
JSON = {"Accept": "application/json"}


def catalogue(app: Flask) -> Catalogue:
    cat: Catalogue = app.extensions["bigtent"]
    return cat


def counts(found: list[tuple[str, str, int]]) -> dict[str, int]:
    return {slug: n for slug, _, n in found}


def partnership_ttl(number: int, year: int) -> str:
    return (
        f'wd:Q{number} a wikibase:Item ; rdfs:label "Exchange {number}"@en ; wdt:P1 wd:Q4 ; '
        f'wdt:P5 wd:Q1000 , wd:Q1001 ; wdt:P7 wd:Q136 ; wdt:P9 "{year}"^^xsd:gYear .'
    )


def views_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bigtent-views"]


# --- single flight -------------------------------------------------------------------------
def test_concurrent_readers_of_a_cold_view_compute_it_once(app: Flask) -> None:
    cat = catalogue(app)
    readers = 8
    entered = threading.Semaphore(0)
    calls: list[int] = []

    def compute(index: PageIndex) -> list[tuple[str, str, int]]:
        calls.append(1)
        for _ in range(readers):  # hold the computation until every reader has asked
            entered.acquire(timeout=10)  # a guard against a hang, not a timing check
        return browse.record_counts(index)

    results: list[object] = []

    def read() -> None:
        entered.release()
        results.append(cat.views.get(("cold-counts",), compute))

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == readers
    assert all(r is results[0] for r in results)


def test_a_stale_view_is_recomputed_once_in_the_background(
    app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat = catalogue(app)
    calls: list[int] = []

    def compute(index: PageIndex) -> list[tuple[str, str, int]]:
        calls.append(1)
        return browse.record_counts(index)

    first = cat.views.get(("counted",), compute)
    assert cat.load_paths([write_ttl("new.ttl", partnership_ttl(5400, 2015))]).ok
    stale = [cat.views.get(("counted",), compute) for _ in range(5)]
    assert all(s is first for s in stale)  # the newest finished result, at once
    cat.views.settle()
    fresh = cat.views.get(("counted",), compute)
    assert fresh.revision > first.revision
    assert len(calls) == 2  # the first computation and one background recomputation


# --- after an edit: the previous result at once, then the new one ---------------------------
def test_after_an_edit_readers_get_the_previous_result_then_the_new_one(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat = catalogue(app)
    before = client.get("/network.json", headers=JSON).get_json()
    page = client.get("/partnerships").get_data(as_text=True)
    assert f"As of revision {before['revision']}." in page
    assert cat.load_paths([write_ttl("new.ttl", partnership_ttl(5401, 2016))]).ok
    head = cat.revisions.last_id()

    at_once = client.get("/network.json", headers=JSON)
    assert at_once.get_json()["revision"] == before["revision"] < head
    assert f"-r{before['revision']}-" in at_once.headers["ETag"]
    assert "Q5401" not in {n["id"] for n in at_once.get_json()["nodes"]}
    assert f"As of revision {before['revision']}." in client.get("/partnerships").get_data(
        as_text=True
    )

    cat.views.settle()
    later = client.get("/network.json", headers=JSON)
    assert later.get_json()["revision"] >= head
    assert f"-r{later.get_json()['revision']}-" in later.headers["ETag"]
    assert "Q5401" in {n["id"] for n in later.get_json()["nodes"]}
    register = client.get("/partnerships").get_data(as_text=True)
    assert "Q5401" in register
    assert f"As of revision {head}." in register


def test_statistics_say_which_revision_they_reflect(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat = catalogue(app)
    head = cat.revisions.last_id()
    assert f"As of revision {head}." in client.get("/statistics").get_data(as_text=True)
    assert cat.load_paths([write_ttl("new.ttl", partnership_ttl(5402, 2032))]).ok
    html = client.get("/statistics").get_data(as_text=True)
    assert f"As of revision {head}." in html  # the newest finished result, at once
    cat.statistics.views.settle()
    html = client.get("/statistics").get_data(as_text=True)
    assert f"As of revision {cat.revisions.last_id()}." in html
    assert "2032" in html


def test_pages_after_an_edit_never_rebuild_the_network_model_themselves(
    client: FlaskClient,
    app: Flask,
    write_ttl: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: the first organisation page, home page or map after any write rebuilt
    the whole network model and the map's places in the request (seconds at 100k)."""
    cat = catalogue(app)
    pages = ("/", "/page/Q1000", "/map", "/network")
    for path in pages:
        assert client.get(path).status_code == 200
    built: list[str] = []
    for service, name in ((cat.network, "_build"), (cat.geography, "_places")):
        original = getattr(service, name)

        def spy(index: PageIndex, original: Callable[[PageIndex], object] = original) -> object:
            built.append(threading.current_thread().name)
            return original(index)

        monkeypatch.setattr(service, name, spy)
    assert cat.load_paths([write_ttl("new.ttl", partnership_ttl(5402, 2017))]).ok
    for path in pages:
        assert client.get(path).status_code == 200
    cat.views.settle()
    assert len(built) == 2  # the model and the places, once each
    assert set(built) == {"bigtent-views"}
    assert cat.geography.places().revision == cat.revisions.last_id()


def test_a_view_computed_from_another_reads_it_at_the_newest_revision() -> None:
    head = [1]
    views = Views(lambda: head[0], lambda _revision: False)
    try:

        def inner() -> int:
            return head[0]

        def outer() -> int:
            return views.get("inner", inner).value

        assert views.get("outer", outer) == Finished(1, 1)
        head[0] = 2
        assert views.get("outer", outer) == Finished(1, 1)  # the previous result at once
        views.settle()
        # recomputed from the inner view at revision 2, not from its stale result
        assert views.get("outer", outer) == Finished(2, 2)
    finally:
        views.close()


# --- keyed by the languages labels are written in ------------------------------------------
def test_the_page_index_knows_the_languages_names_are_written_in(
    app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat = catalogue(app)
    index = cat.page_index
    written = {lang for (lang,) in index.db.execute("SELECT DISTINCT lang FROM name")}
    assert index.written_languages() == written and {"en", "fr"} <= written
    body = partnership_ttl(5403, 2016).replace('"@en ;', '"@en , "Austausch 5403"@de ;')
    report = cat.load_paths([write_ttl("de.ttl", body)])
    assert report.ok, report.rejections
    index.catch_up()
    assert index.written_languages() == written | {"de"}


def test_readers_of_languages_without_labels_share_the_catalogue_views(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: each Accept-Language was a view of its own, computed afresh while its
    reader waited; languages no name is written in cannot change a label."""
    cat = catalogue(app)
    statistics = cat.statistics
    runs: list[object] = []
    real_run = statistics._run

    def counted(*args: Any) -> Any:
        runs.append(args)
        return real_run(*args)

    monkeypatch.setattr(statistics, "_run", counted)
    csv_path = "/statistics/partnerships-by-activity-and-year.csv"
    first = client.get(csv_path, headers={"Accept-Language": "xx"})
    computed = len(runs)
    network = client.get("/network.json", headers={**JSON, "Accept-Language": "xx"})
    for header in ("yy-zz", "qq, ww;q=0.5", "xx-yy-zz, en;q=0.1"):
        again = client.get(csv_path, headers={"Accept-Language": header})
        assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
        same = client.get("/network.json", headers={**JSON, "Accept-Language": header})
        assert same.headers["ETag"] == network.headers["ETag"]
    assert len(runs) == computed
    french = client.get(csv_path, headers={"Accept-Language": "fr"})
    assert french.headers["ETag"] != first.headers["ETag"]
    assert french.data != first.data  # the demo's activity types have French labels


# --- privacy: a hide is waited for ---------------------------------------------------------
def _territory_people(client: FlaskClient) -> int:
    data = client.get("/map.geojson?include=territories", headers=JSON).get_json(force=True)
    return sum(
        f["properties"].get("people", 0)
        for f in data["features"]
        if f["properties"]["type"] == "territory"
    )


def test_a_hidden_person_is_absent_from_the_very_next_views(
    client: FlaskClient, app: Flask
) -> None:
    cat = catalogue(app)
    before_counts = counts(cat.views.record_counts().value)
    before_people = _territory_people(client)
    client.get("/statistics")  # every view warm: a stale result exists for each
    client.get("/browse/")
    network_before = client.get("/network.json", headers=JSON).get_json()
    home_before = client.get("/").get_data(as_text=True)
    assert home_before

    rev = cat.privacy.hide(PERSON, "asked to be removed from the public registry", "test")

    # No settle(): the very next reader gets a result computed after the hide.
    assert counts(cat.views.record_counts().value)[PEOPLE] == before_counts[PEOPLE] - 1
    assert cat.views.record_counts().revision >= rev.id
    assert _territory_people(client) < before_people  # a stale result would count them
    geojson = client.get("/map.geojson?include=territories", headers=JSON).get_json(force=True)
    assert geojson["revision"] >= rev.id
    assert PERSON not in json.dumps(geojson)
    network = client.get("/network.json", headers=JSON).get_json()
    assert network["revision"] >= rev.id > network_before["revision"]
    assert PERSON not in json.dumps(network) and NAME not in json.dumps(network)
    html = client.get("/statistics").get_data(as_text=True)
    shown = int(re.search(r"As of revision (\d+)\.", html).group(1))  # type: ignore[union-attr]
    assert shown >= rev.id
    assert NAME not in html
    browse_page = client.get("/browse/").get_data(as_text=True)
    assert f"As of revision {rev.id}." in browse_page
    for chart in CHARTS:
        found = cat.statistics.latest(chart, ["en"])
        assert found.revision >= rev.id
        assert NAME.encode() not in found.value.csv


# --- saved results: a restarted server answers at once --------------------------------------
def _restarted(cat: Catalogue, runs: list[object], monkeypatch: pytest.MonkeyPatch) -> Statistics:
    """The statistics of a new process on the same catalogue (empty slots), counting the
    charts it computes."""
    restarted = Statistics(cat.repository, cat.query_service, cat.examples, cat.page_index)
    real_run = restarted._run

    def counted(*args: Any) -> Any:
        runs.append(args)
        return real_run(*args)

    monkeypatch.setattr(restarted, "_run", counted)
    return restarted


def test_a_restarted_server_answers_the_statistics_from_the_saved_result(
    app: Flask, write_ttl: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = catalogue(app)
    chart = CHARTS[0]
    first = cat.statistics.latest(chart, ["en"])
    runs: list[object] = []
    restarted = _restarted(cat, runs, monkeypatch)
    try:
        again = restarted.latest(chart, ["en"])
        assert runs == []
        assert again.revision == first.revision
        assert (again.value.csv, again.value.rows) == (first.value.csv, first.value.rows)
        assert cat.load_paths([write_ttl("new.ttl", partnership_ttl(5404, 2033))]).ok
        assert restarted.latest(chart, ["en"]).revision == first.revision  # at once
        restarted.views.settle()
        newer = restarted.latest(chart, ["en"])
        assert len(runs) == 1 and newer.revision > first.revision
        assert b"2033" in newer.value.csv
    finally:
        restarted.close()
    later: list[object] = []
    third = _restarted(cat, later, monkeypatch)
    try:
        assert third.latest(chart, ["en"]).revision == newer.revision and later == []
    finally:
        third.close()


def test_a_saved_result_is_not_served_after_a_hide_an_erase_or_a_new_query(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = catalogue(app)
    chart = next(c for c in CHARTS if c.id == "people-and-organisations-by-territory")
    first = cat.statistics.latest(chart, ["en"])
    query = Statistics.query
    monkeypatch.setattr(Statistics, "query", lambda self, c: query(self, c) + "\n# changed")
    runs: list[object] = []
    changed = _restarted(cat, runs, monkeypatch)
    try:
        changed.latest(chart, ["en"])
        assert len(runs) == 1  # the saved result answered another query
    finally:
        changed.close()
    monkeypatch.setattr(Statistics, "query", query)
    rev = cat.privacy.hide(PERSON, "asked to be removed from the public registry", "test")
    hidden: list[object] = []
    restarted = _restarted(cat, hidden, monkeypatch)
    try:
        found = restarted.latest(chart, ["en"])  # no settle(): computed for this reader
        assert len(hidden) == 1 and found.revision >= rev.id > first.revision
    finally:
        restarted.close()
    assert cat.page_index.db.execute("SELECT count(*) FROM saved_view").fetchone()[0] > 0
    cat.page_index.compact()  # what an erase ends with: no saved result survives it
    assert cat.page_index.db.execute("SELECT count(*) FROM saved_view").fetchone()[0] == 0


# --- results equal a fresh recomputation after random edits --------------------------------
def _fresh(cat: Catalogue) -> dict[str, Any]:
    index = cat.page_index
    index.catch_up()
    return {
        "counts": browse.record_counts(index),
        "classes": browse.class_counts(index),
        "register": partnership_register(index),
    }


def _kept(cat: Catalogue) -> dict[str, Any]:
    return {
        "counts": cat.views.record_counts().value,
        "classes": cat.views.class_counts().value,
        "register": cat.network.register().value,
    }


def test_background_results_equal_a_recomputation_after_random_edits(
    app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    cat = catalogue(app)
    rng = random.Random(15)
    hidden = False
    made: list[int] = []
    for step in range(8):
        _kept(cat)  # readers between edits start background recomputations
        choice = rng.choice(["add", "add", "privacy"]) if made else "add"
        if choice == "add":
            number = 5500 + step
            body = partnership_ttl(number, rng.randint(2000, 2030))
            assert cat.load_paths([write_ttl(f"e{step}.ttl", body)]).ok
            made.append(number)
        elif hidden:
            cat.privacy.unhide(PERSON, "test")
            hidden = False
        else:
            cat.privacy.hide(PERSON, "asked", "test")
            hidden = True
        _kept(cat)
        cat.views.settle()
        kept, fresh = _kept(cat), _fresh(cat)
        assert kept == fresh, f"step {step} ({choice})"


# --- threads stop at close -----------------------------------------------------------------
def test_background_threads_stop_at_close(
    make_app: Callable[..., Flask], write_ttl: Callable[[str, str], Path]
) -> None:
    before = set(views_threads())
    for round_ in range(3):
        app = make_app(DATA_DIR=str(Path(write_ttl("x.ttl", "").parent) / f"data{round_}"))
        client = app.test_client()
        cat = catalogue(app)
        client.get("/network.json", headers=JSON)
        client.get("/statistics")
        assert cat.load_paths([write_ttl(f"n{round_}.ttl", partnership_ttl(5600, 2020))]).ok
        client.get("/network.json", headers=JSON)  # stale: starts a background thread
        client.get("/statistics")
        assert set(views_threads()) - before  # running
        cat.close()
        assert set(views_threads()) == before
