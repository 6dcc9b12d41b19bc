"""``bigtent serve`` stops on SIGTERM whatever its event loop is doing at that moment."""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from live_server import LiveServer
from waitress import wasyncore

from webapp import server as serving

#: Connections opened and closed at once while the signal arrives.
CHURNERS = 6


def _churn(host: str, port: int, stop: threading.Event) -> None:
    """Open a connection, send half a request, close it; again and again."""
    while not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=2) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            time.sleep(0.01)  # refused while stopping: keep knocking


def test_sigterm_stops_the_server_while_connections_come_and_go(tmp_path: Path) -> None:
    """Regression: the SIGTERM handler raised an ordinary exception in the main thread.
    When it landed while waitress was closing a connection, waitress logged it as that
    connection's error and went on serving: the operator's stop was ignored."""
    server = LiveServer.start(tmp_path)
    address = urlsplit(server.url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    stop = threading.Event()
    churners = [
        threading.Thread(target=_churn, args=(host, port, stop), daemon=True)
        for _ in range(CHURNERS)
    ]
    try:
        for thread in churners:
            thread.start()
        time.sleep(1.0)  # the event loop is now mostly opening and closing connections
        server.process.send_signal(signal.SIGTERM)
        try:
            code = server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
    finally:
        stop.set()
        for thread in churners:
            thread.join(timeout=5)
        server.stop()
    log = server.log.read_text(errors="replace")
    assert code == 0, f"bigtent serve did not stop on SIGTERM:\n{log[-2000:]}"
    assert "uncaptured python exception" not in log


def test_the_stop_passes_through_a_connection_handler() -> None:
    """The same regression, deterministically: the signal handler's exception, raised
    inside a connection's event handler, reaches the loop's caller instead of being
    handled as that connection's error."""

    class Channel:
        def handle_read_event(self) -> None:
            serving._raise_stop(signal.SIGTERM, None)

        def handle_error(self) -> None:
            raise AssertionError("waitress took the stop for this connection's error")

    with pytest.raises(SystemExit):
        wasyncore.readwrite(Channel(), select.POLLIN)
