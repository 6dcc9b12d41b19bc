"""The in-process reference of the per-query benchmark answers what the endpoint answers."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox

from loader.base.namespaces import Namespaces
from loader.base.settings import Settings
from loader.query.service import request_template
from tests.conftest import BASE, close_app, open_app

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import sparql_direct  # noqa: E402

#: Organisations with their labels filled by the ``?xLabel`` convention.
LABELLED = """PREFIX wd: <entity/>
PREFIX wdt: <prop/direct/>
SELECT ?org ?orgLabel ?country ?countryLabel WHERE {
  ?org wdt:P1 wd:Q1 . OPTIONAL { ?org wdt:P12 ?country }
} ORDER BY ?org"""


def test_the_in_process_reference_gives_the_endpoints_answer(
    demo_template: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    shutil.copytree(demo_template, tmp_path / "data")
    settings = make_settings(SPARQL_CLIENT_BUDGET=0, DUMP_INTERVAL=0)
    app = open_app(settings, "demo")
    try:
        answer = app.test_client().post(
            "/sparql",
            data={"query": LABELLED},
            headers={"Accept": sparql_direct.SOLUTIONS_TYPE},
        )
    finally:
        close_app(app, "demo")
    assert answer.status_code == 200, answer.data[:300]
    assert b'"orgLabel"' in answer.data

    ns = Namespaces(BASE)
    template = replace(
        request_template(settings, ns),
        solutions_type=sparql_direct.SOLUTIONS_TYPE,
        graph_type=sparql_direct.GRAPH_TYPE,
    )
    store = ox.Store.read_only(str(tmp_path / "data" / "store"))
    timed = sparql_direct.run_query(store, template, LABELLED, BASE, ns.sparql_prefixes())
    assert timed["form"] == "select"
    assert timed["bytes"] == len(answer.data)
    assert sparql_direct.run_bigtent(store, template, LABELLED)["bytes"] == len(answer.data)
    # pyoxigraph alone leaves the label columns unbound: a smaller answer
    assert 0 < timed["engine_bytes"] < timed["bytes"]
    refused = sparql_direct.run_query(
        store, template, "DELETE WHERE { ?s ?p ?o }", BASE, ns.sparql_prefixes()
    )
    assert "error" in refused
