"""The SPARQL endpoint answers instead of shedding, on a real ``bigtent serve`` (issue 15):
cheap lookups run on a reserved fast-lane worker and never wait behind expensive queries
holding the normal workers; queries beyond the workers wait instead of being refused; only
a full queue sheds load, with 503 and Retry-After. Each client sends from its own loopback
address (``tests/loopback.py``); no timing assertions, only statuses and the order in which
answers completed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
from live_server import LiveServer
from loopback import client_at

from loader.query.lanes import FAST, NORMAL, ShapeHistory, query_shape

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
LOOKUP = "SELECT ?p ?o WHERE { wd:Q%d ?p ?o }"
TIMEOUT = 5
JSON = {"Accept": "application/json"}


def ask(address: str, server: LiveServer, query: str) -> requests.Response:
    return client_at(address).get(
        server.url + "sparql", params={"query": query}, headers=JSON, timeout=120
    )


def run_all(jobs: list[tuple[str, str]], server: LiveServer) -> list[tuple[int, float, str]]:
    """Send each (address, query) at once; (status, when it completed, title) in order."""
    results: list[tuple[int, float, str]] = [(0, 0.0, "")] * len(jobs)

    def send(index: int, address: str, query: str) -> None:
        response = ask(address, server, query)
        title = response.json().get("title", "") if response.status_code != 200 else ""
        results[index] = (response.status_code, time.monotonic(), title)

    threads = [
        threading.Thread(target=send, args=(n, address, query))
        for n, (address, query) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "BIGTENT_SPARQL_WORKERS": "2",
        "BIGTENT_SPARQL_FAST_WORKERS": "1",
        "BIGTENT_SPARQL_FAST_SLICE": "0.5",
        "BIGTENT_SPARQL_TIMEOUT": str(TIMEOUT),
        "BIGTENT_SPARQL_CLIENT_PARALLEL": "0",
        "BIGTENT_SPARQL_CLIENT_BUDGET": "0",
        "BIGTENT_SPARQL_CACHE_MB": "0",  # every lookup runs in a worker
        "BIGTENT_SERVER_THREADS": "24",
        "BIGTENT_DUMP_INTERVAL": "0",
    }
    with LiveServer.start(tmp_path_factory.mktemp("queue"), settings) as live:
        yield live


def test_sixteen_cheap_lookups_answer_while_two_expensive_queries_hold_the_workers(
    server: LiveServer,
) -> None:
    assert ask("127.0.4.1", server, LOOKUP % 1).status_code == 200  # workers up
    expensive: list[tuple[int, float, str]] = []
    runners = [
        threading.Thread(target=lambda a=address: expensive.extend(run_all([(a, RUNAWAY)], server)))
        for address in ("127.0.4.2", "127.0.4.3")
    ]
    for runner in runners:
        runner.start()
    time.sleep(2.5)  # both past the fast lane's slice, each holding a normal worker
    cheap = run_all([(f"127.0.4.{10 + n}", LOOKUP % (n + 1)) for n in range(16)], server)
    for runner in runners:
        runner.join(timeout=6 * TIMEOUT)

    assert [status for status, _, _ in cheap] == [200] * 16
    # the expensive ones ran to the time limit (they held the workers throughout) ...
    assert [(status, title) for status, _, title in expensive] == [(503, "Query timeout")] * 2
    # ... and every cheap lookup was answered before either of them ended
    assert max(done for _, done, _ in cheap) < min(done for _, done, _ in expensive)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "BIGTENT_SPARQL_WORKERS": "1",
        "BIGTENT_SPARQL_FAST_WORKERS": "0",
        "BIGTENT_SPARQL_TIMEOUT": "3",
        "BIGTENT_SPARQL_QUEUE_MAX": "1",
        "BIGTENT_SPARQL_QUEUE_WAIT": "2",
        "BIGTENT_SPARQL_CLIENT_PARALLEL": "0",
        "BIGTENT_SPARQL_CLIENT_BUDGET": "0",
        "BIGTENT_DUMP_INTERVAL": "0",
    }
    with LiveServer.start(tmp_path_factory.mktemp("shed"), settings) as live:
        yield live


def test_a_full_queue_sheds_at_once_with_retry_after(small_server: LiveServer) -> None:
    assert ask("127.0.5.1", small_server, "ASK {}").status_code == 200  # worker up
    held: list[tuple[int, float, str]] = []
    # one runs, one waits: the queue (SPARQL_QUEUE_MAX=1) is full
    runners = [
        threading.Thread(target=lambda a=a: held.extend(run_all([(a, RUNAWAY)], small_server)))
        for a in ("127.0.5.2", "127.0.5.3")
    ]
    for runner in runners:
        runner.start()
        time.sleep(0.7)
    shed = ask("127.0.5.4", small_server, "ASK { wd:Q1 ?p ?o }")
    shed_at = time.monotonic()
    for runner in runners:
        runner.join(timeout=30)
    assert shed.status_code == 503
    error = shed.json()
    assert error["title"] == "Endpoint busy" and "SPARQL_QUEUE_MAX" in error["error"]
    assert int(shed.headers["Retry-After"]) >= 1
    # refused at once: before the running one ended and before the waiting one gave up
    assert all(shed_at < done for _, done, _ in held)
    assert sorted(title for _, _, title in held) == ["Endpoint busy", "Query timeout"]


def test_shapes_ignore_constants_and_remember_the_last_run() -> None:
    one = query_shape('SELECT ?o WHERE { wd:Q1 <http://x/p> ?o . FILTER(?o != "a b") } LIMIT 5')
    two = query_shape("SELECT ?o  WHERE { wd:Q77 <http://y/q> ?o . FILTER(?o != 'c') } LIMIT 9")
    assert one == two
    assert query_shape("SELECT ?x1 WHERE { ?x1 ?p ?o }") != query_shape(
        "SELECT ?x WHERE {?x ?p ?o}"
    )
    history = ShapeHistory(size=2)
    assert history.lane(one) == FAST  # never ran: tried in the fast lane
    history.record(one, slow=True)
    assert history.lane(two) == NORMAL
    history.record(one, slow=False)
    assert history.lane(one) == FAST
    history.record(one, slow=True)
    history.record("b", slow=True)
    history.record("c", slow=True)  # the oldest shape is forgotten
    assert history.lane(one) == FAST
