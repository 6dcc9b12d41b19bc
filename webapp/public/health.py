"""``/health``: a tiny plain-text status for operators, load balancers and benchmarks.

It answers ``ok`` and the newest revision id (one indexed SQLite ``max(id)``; no triple
store query), so it is also the ceiling ``bench.http`` compares the real routes with.
"""

from __future__ import annotations

from flask import Blueprint, Response

from webapp.http.catalogue import get_catalogue

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """``ok`` plus the last revision id; never cached."""
    last = get_catalogue().revisions.last_id()
    response = Response(f"ok\nlast revision: {last}\n", mimetype="text/plain")
    response.cache_control.no_store = True
    return response
