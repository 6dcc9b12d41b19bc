"""SPARQL is fair, on a real ``bigtent serve``: a client is its address, one client's
runaway queries do not starve another client, and a client that has spent its
query-seconds gets 429 with Retry-After whatever User-Agent it sends (issue 12, finding 4).

Small settings keep it fast and bounded: two workers, a 3-second time limit, and a budget
of 4 query-seconds a minute. Each client sends from its own loopback address
(``tests/loopback.py``); nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from live_server import LiveServer
from loopback import client_at

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
TIMEOUT = 3
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "BIGTENT_SPARQL_WORKERS": "2",
        "BIGTENT_SPARQL_TIMEOUT": str(TIMEOUT),
        "BIGTENT_SPARQL_CLIENT_PARALLEL": "4",
        "BIGTENT_SPARQL_CLIENT_BUDGET": "4",
        "BIGTENT_DUMP_INTERVAL": "0",
    }
    with LiveServer.start(tmp_path_factory.mktemp("fair"), settings) as live:
        yield live


def ask(session: requests.Session, server: LiveServer, query: str, **headers: str) -> Any:
    return session.get(
        server.url + "sparql", params={"query": query}, headers={**JSON, **headers}, timeout=60
    )


def test_another_clients_ask_answers_within_2s_while_one_client_runs_four_runaways(
    server: LiveServer,
) -> None:
    polite = client_at("127.0.2.3")
    assert ask(polite, server, "ASK {}").status_code == 200  # the workers are up
    statuses: list[int] = []

    def run_away(number: int) -> None:
        # one session per thread, all from the runaway client's address
        response = ask(client_at("127.0.2.2"), server, RUNAWAY, **{"User-Agent": f"r{number}"})
        statuses.append(response.status_code)

    runners = [threading.Thread(target=run_away, args=(n,)) for n in range(4)]
    for runner in runners:
        runner.start()
    time.sleep(0.7)  # all four admitted: one running, three waiting
    began = time.monotonic()
    answer = ask(polite, server, "ASK { wd:Q3 wdt:P2 wd:Q1 }")
    took = time.monotonic() - began
    assert answer.status_code == 200 and answer.json()["boolean"] is True
    assert took < 2.0, f"the other client's ASK took {took:.1f} s"
    assert len(statuses) == 0, "the runaways were still running when the ASK was answered"
    for runner in runners:
        runner.join(timeout=6 * TIMEOUT)
    # each one ran to the time limit or waited as long as a query may run: never a 200
    assert sorted(statuses) == [503, 503, 503, 503]


def test_a_spent_budget_gives_429_with_retry_after_whatever_the_user_agent(
    server: LiveServer,
) -> None:
    spender = client_at("127.0.2.4")
    statuses = []
    for number in range(4):  # each runaway is charged TIMEOUT s of a 4 s-a-minute budget
        response = ask(spender, server, RUNAWAY, **{"User-Agent": f"tool-{number}"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses == [503, 503, 429]
    error = response.json()
    assert "SPARQL_CLIENT_BUDGET" in error["error"]
    assert int(response.headers["Retry-After"]) >= 10  # 1.6 s short, refilled at 4 s a minute
    # a query not answered before (an answer from the cache would cost no budget)
    cheap = ask(spender, server, "ASK { wd:Q1 ?p ?o }", **{"User-Agent": "a-brand-new-tool"})
    assert cheap.status_code == 429  # a new User-Agent is the same client
    other = ask(client_at("127.0.2.5"), server, "ASK {}")
    assert other.status_code == 200  # another address has its own budget
