"""The production server: gunicorn, one process with request threads.

One process because the embedded store admits one writer process; threads because
pyoxigraph releases the GIL while it reads, and slow work (SPARQL queries, dumps)
runs outside the request thread anyway.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from loader.base.settings import Settings


class BigtentServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running one Bigtent app built from ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app: Flask | None = None
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"{self.settings.HOST}:{self.settings.PORT}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": self.settings.SERVER_THREADS,
            "control_socket_disable": True,  # gunicorn 27 would create ~/.gunicorn otherwise
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 120,
            "graceful_timeout": 10,
            "keepalive": 5,
            "limit_request_line": 8190,
            "limit_request_fields": 100,
            "limit_request_field_size": 16384,
            "worker_exit": self._close_app,
        }
        for key, value in options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def _close_app(self, _server: Any, _worker: Any) -> None:
        if self.app is not None:
            self.app.extensions["bigtent"].close()

    def load(self) -> Flask:
        if self.app is None:
            from webapp import create_app

            self.app = create_app(self.settings)
        return self.app


def serve(settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit code."""
    BigtentServer(settings).run()
    return 0
