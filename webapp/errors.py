"""One error handler: every error becomes HTML or JSON, as the client asked."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from loader.errors import BigtentError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """True when the client prefers JSON to HTML (the JSON API at /api/ and requests
    sending JSON always get JSON)."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" or request.args.get("format") == "json"


def render_error(error: BigtentError) -> tuple[Response | str, int]:
    """The error as JSON or as an HTML page."""
    if wants_json():
        return jsonify(error.to_dict()), error.status
    return render_template("error.html", error=error), error.status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(BigtentError)
    def _bigtent(error: BigtentError) -> tuple[Response | str, int]:
        return render_error(error)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        return render_error(
            BigtentError(error.description or error.name, title=error.name, status=status)
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        log.exception("unexpected error on %s", request.path)
        return render_error(
            BigtentError(
                "Something went wrong on our side; it has been logged. Please try again.",
                title="Internal error",
                status=500,
            )
        )
