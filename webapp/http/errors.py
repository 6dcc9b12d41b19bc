"""One error handler: every error becomes HTML or JSON, as the client asked. A body over
its route's cap is a 413 naming the setting (``bodies.py``); a full disk, wherever it
shows up, a 507 naming DATA_DIR."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from loader.base.errors import BigtentError, DiskFull, is_disk_full
from webapp.http.bodies import too_large
from webapp.http.catalogue import get_settings

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """True when the client wants JSON rather than an HTML page: the JSON API at /api/
    and requests sending JSON always do; so do clients preferring JSON, programs that do
    not accept HTML at all (a SPARQL client asking for application/sparql-results+xml),
    and scripts asking for some JSON type without naming HTML (``…+json, */*;q=0.9``)."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    if request.path == "/reconcile" or request.path.startswith("/reconcile/suggest/"):
        return True  # reconciliation clients (OpenRefine) read JSON errors
    accept = request.accept_mimetypes
    if request.args.get("format") == "json":
        return True
    if accept.best_match(["text/html", "application/json"]) == "application/json":
        return True
    if not request.headers.get("Accept"):
        return False
    named = [value for value, _ in accept]
    if "text/html" not in named and any(value.endswith("json") for value in named):
        return True
    return accept.quality("text/html") == 0


def render_error(error: BigtentError) -> Response:
    """The error as JSON or as an HTML page (with Retry-After when the error has one)."""
    if wants_json():
        response = jsonify(error.to_dict())
    else:
        response = make_response(render_template("error.html", error=error))
    response.status_code = error.status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(BigtentError)
    def _bigtent(error: BigtentError) -> Response:
        return render_error(error)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 413:  # Werkzeug stopped a body at the route's cap while reading it
            return render_error(too_large())
        return render_error(
            BigtentError(error.description or error.name, title=error.name, status=status)
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if is_disk_full(error):
            log.error("disk full on %s: %s", request.path, error)
            return render_error(DiskFull(get_settings().data_dir))
        log.exception("unexpected error on %s", request.path)
        return render_error(
            BigtentError(
                "Something went wrong on our side; it has been logged. Please try again.",
                title="Internal error",
                status=500,
            )
        )
