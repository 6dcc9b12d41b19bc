"""The production server: waitress, one process, an event loop in front of request threads.

Why waitress. A public service meets clients that send their request a byte at a time,
on purpose or over bad networks. A server that hands a connection to a thread before
the request is complete (gunicorn's ``gthread`` worker reads the request in the thread)
lets a few hundred such clients hold every thread while nobody else is served. waitress
reads each request whole in one ``poll`` loop, buffering it within the size caps below,
and only then gives it to a thread, so slow clients cost a socket and a buffer, never a
thread. ``tests/test_slow_clients.py`` proves it: 200 trickling connections plus four
runaway queries, and another client's pages still answer within a second.

One process, because the embedded store admits one writer process; threads, because
pyoxigraph releases the GIL while it reads and slow work (SPARQL queries, dumps) runs
outside the request thread anyway. What waitress does not do, a reverse proxy in front
must: TLS, per-address connection and request-rate limits (SECURITY.md).
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

from waitress.server import create_server

from loader.base.settings import Settings

log = logging.getLogger(__name__)


class _Stop(SystemExit):
    """SIGTERM or SIGINT arrived: leave the event loop.

    A ``SystemExit``: the handler runs wherever the main thread is, often inside a
    connection's event handler, and waitress passes only ``SystemExit`` and
    ``KeyboardInterrupt`` on from there (anything else it logs as that connection's error
    and serves on, which ignored the stop). Its ``run()`` then stops its threads and
    returns."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def serve(settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM, then close the catalogue; returns the exit code."""
    from webapp import create_app

    app = create_app(settings)
    server = create_server(
        app,
        host=settings.HOST,
        port=int(settings.PORT),
        threads=int(settings.SERVER_THREADS),
        connection_limit=int(settings.SERVER_CONNECTIONS),
        channel_timeout=int(settings.SERVER_IDLE_TIMEOUT),
        max_request_header_size=int(settings.SERVER_MAX_HEADER_BYTES),
        # No body bigger than any route takes is buffered (413 before the app is called).
        max_request_body_size=int(settings.REQUEST_MAX_BYTES),
        asyncore_use_poll=True,  # select() stops at 1024 descriptors
        backlog=1024,
        ident="Bigtent",
        # Forwarded headers reach the app, which believes them only from TRUSTED_PROXIES.
        clear_untrusted_proxy_headers=False,
        expose_tracebacks=False,
    )
    logging.getLogger("waitress").setLevel(logging.ERROR)
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
        app.extensions["bigtent"].close()
    return 0
