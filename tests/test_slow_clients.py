"""Slow or many clients cannot starve the rest (a real ``bigtent serve`` on loopback).

Two hundred connections trickle their request headers one line a second, and one client
runs four runaway SPARQL queries; meanwhile another client's ``/health`` and entity page
must keep answering within a second (p99 over the run). Everything is bounded: the
trickle stops after TRICKLE_SECONDS, every request has a timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from live_server import LiveServer

SLOW_CLIENTS = 200
TRICKLE_SECONDS = 12.0
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
PAGE = "page/Q1000"  # the demo's first organisation


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "BIGTENT_SERVER_THREADS": "8",
        "BIGTENT_SPARQL_WORKERS": "4",
        "BIGTENT_SPARQL_TIMEOUT": "20",
        "BIGTENT_SPARQL_CLIENT_PARALLEL": "4",
        "BIGTENT_SPARQL_CLIENT_BUDGET": "600",
        "BIGTENT_DUMP_INTERVAL": "0",
    }
    with LiveServer.start(tmp_path_factory.mktemp("slow"), settings) as live:
        yield live


def _trickle(url: str, stop: threading.Event, opened: list[socket.socket]) -> None:
    """Open SLOW_CLIENTS connections and send each one header line a second."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: slow.example\r\n")
        opened.append(sock)
    line = 0
    while not stop.wait(1.0):
        line += 1
        for sock in list(opened):
            try:
                sock.sendall(f"X-Slow-{line}: a\r\n".encode())
            except OSError:
                opened.remove(sock)  # the server may close idle connections: fair


def _runaway(url: str, stop: threading.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(requests.RequestException):
            requests.get(url + "sparql", params={"query": RUNAWAY}, timeout=30)


def test_health_and_pages_answer_while_slow_clients_and_runaway_queries_wait(
    server: LiveServer, tmp_path: Path
) -> None:
    stop = threading.Event()
    opened: list[socket.socket] = []
    trickler = threading.Thread(target=_trickle, args=(server.url, stop, opened), daemon=True)
    runaways = [
        threading.Thread(target=_runaway, args=(server.url, stop), daemon=True) for _ in range(4)
    ]
    trickler.start()
    for runner in runaways:
        runner.start()
    times: list[float] = []
    try:
        time.sleep(2.0)  # the slow connections are open and the queries running
        deadline = time.monotonic() + TRICKLE_SECONDS - 2.0
        with requests.Session() as other:
            while time.monotonic() < deadline:
                for path in ("health", PAGE):
                    began = time.monotonic()
                    try:
                        answer = other.get(server.url + path, timeout=5)
                        assert answer.status_code == 200, (path, answer.status_code)
                    except requests.Timeout:
                        pass  # counted as 5 s below
                    times.append(time.monotonic() - began)
                time.sleep(0.1)
        assert len(opened) > SLOW_CLIENTS // 2, "the slow clients could not even connect"
    finally:
        stop.set()
        trickler.join(timeout=10)
        for sock in opened:
            sock.close()
        for runner in runaways:
            runner.join(timeout=35)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    median = times[len(times) // 2]
    print(f"slow clients: {len(times)} requests, median {median:.3f} s, p99 {p99:.3f} s")
    assert len(times) >= 20
    assert p99 < 1.0, f"p99 {p99:.2f} s over {len(times)} requests; slowest {times[-3:]}"
