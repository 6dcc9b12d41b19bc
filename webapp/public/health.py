"""Probes for operators and load balancers, and ``maxlag``.

* ``/health`` — liveness: the process is up and its request threads answer. ``ok`` and the
  newest revision id (one indexed ``max(id)``; no store query), so it is also the ceiling
  ``bench.http`` compares the real routes with. It stays 200 during an outage of the
  store or the database (restarting the process would not help).
* ``/ready`` — readiness: 200 when the triple store and the database both answer, else 503
  with ``Retry-After`` (a load balancer sends traffic elsewhere meanwhile). Its JSON tells
  how far the store is behind the revision log (revisions not yet applied, the age of the
  oldest): the background applier catches up by itself.
* ``maxlag=N`` on the write API (``/api/…``) and ``/sparql``, as on Wikidata: when the store
  is more than N seconds behind the log, the request is refused with 503 and
  ``Retry-After`` before it does anything, so polite bots back off until it catches up.
"""

from __future__ import annotations

import math

from flask import Blueprint, Flask, Response, jsonify, request

from loader.base.errors import BigtentError, Unavailable
from webapp.http.catalogue import get_catalogue

bp = Blueprint("health", __name__)

#: seconds a load balancer or a bot is asked to wait before asking again
READY_RETRY_AFTER = 5


def init_app(app: Flask) -> None:
    """Register the probes and the ``maxlag`` check."""
    app.register_blueprint(bp)
    app.before_request(_maxlag)


@bp.get("/health")
def health() -> Response:
    """Liveness: ``ok`` plus the last revision id; never cached."""
    try:
        last: object = get_catalogue().revisions.last_id()
    except Unavailable:
        last = "unknown (the database is not answering: see /ready)"
    response = Response(f"ok\nlast revision: {last}\n", mimetype="text/plain")
    response.cache_control.no_store = True
    return response


@bp.get("/ready")
def ready() -> Response:
    """Readiness: 200 when the store and the database answer, else 503 + Retry-After;
    the JSON body has the store's lag behind the log."""
    state = get_catalogue().applier.readiness()
    response = jsonify(state.as_dict())
    response.status_code = 200 if state.ready else 503
    if not state.ready:
        response.headers["Retry-After"] = str(READY_RETRY_AFTER)
    response.cache_control.no_store = True
    return response


def _maxlag() -> None:
    """Refuse an API or SPARQL request sent with ``maxlag=N`` while the store is more
    than N seconds behind the revision log (503, Retry-After)."""
    raw = request.args.get("maxlag")
    if raw is None or not (request.path.startswith("/api/") or request.path == "/sparql"):
        return
    try:
        limit = float(raw)
    except ValueError:
        raise BigtentError(
            "maxlag must be a number of seconds, e.g. maxlag=5", title="Bad maxlag"
        ) from None
    if not math.isfinite(limit) or limit < 0:
        raise BigtentError("maxlag must be 0 or more seconds", title="Bad maxlag")
    pending, _oldest, lag = get_catalogue().applier.lag()
    if pending and lag > limit:
        raise BigtentError(
            f"Waiting for the triple store: it is {lag:g} seconds behind the revision log "
            f"({pending} revisions not yet applied), more than maxlag={limit:g}. "
            "Try again later.",
            title="maxlag",
            status=503,
            retry_after=max(1, min(60, math.ceil(lag - limit))),
            details={"lag": lag, "pending": pending},
        )
