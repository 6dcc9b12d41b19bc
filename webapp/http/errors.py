"""One error handler: every error becomes HTML or JSON, as the client asked. A body over
its route's cap is a 413 naming the setting (``bodies.py``); a full disk, wherever it
shows up, a 507 naming DATA_DIR.

Internals stay inside: an error of a service the catalogue depends on (``Unavailable``:
the triple store, the database) or of the configuration is logged whole, as one
structured line, and the client reads only its ``public`` text, never a host, port,
user or setting value. Every 503, wherever it comes from, carries ``Retry-After``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from loader.base.errors import BigtentError, ConfigError, DiskFull, Unavailable, is_disk_full
from loader.base.events import log_event
from webapp.http.bodies import too_large
from webapp.http.catalogue import get_settings

log = logging.getLogger(__name__)


View = TypeVar("View", bound=Callable[..., object])


def json_only(view: View) -> View:
    """Mark a view that answers only JSON (data routes such as ``/network.json``): its
    errors are JSON too unless the client explicitly prefers HTML (a browser)."""
    view.bigtent_json_only = True  # type: ignore[attr-defined]
    return view


def _json_only_route() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "bigtent_json_only", False))


def wants_json() -> bool:
    """True when the client wants JSON rather than an HTML page: the JSON API at /api/
    and requests sending JSON always do; so do clients preferring JSON, programs that do
    not accept HTML at all (a SPARQL client asking for application/sparql-results+xml),
    and scripts asking for some JSON type without naming HTML (``…+json, */*;q=0.9``)."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    accept = request.accept_mimetypes
    if _json_only_route() and accept.best_match(["application/json", "text/html"]) != "text/html":
        return True  # curl's */* or no Accept at all: the route's own format
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


#: ``?format=`` values and media types of clients that read errors as plain text
TEXT_FORMATS = frozenset({"csv", "tsv", "text", "txt"})
TEXT_TYPES = ("text/plain", "text/csv", "text/tab-separated-values")


def wants_text() -> bool:
    """True when the client asked for CSV, TSV or plain text (``?format=csv``, or an
    Accept header preferring one of them to HTML and JSON): its error is plain text, one
    line, never an HTML page it cannot show."""
    fmt = request.args.get("format", "").lower()
    if fmt in TEXT_FORMATS or fmt in TEXT_TYPES:
        return True
    if fmt or not request.headers.get("Accept"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json", *TEXT_TYPES])
    return best in TEXT_TYPES


#: seconds a client is asked to wait after a 503 that does not say how long itself
RETRY_AFTER = 5
CONFIG_PUBLIC = "This catalogue is not configured correctly; the operators have been told."


def public_error(error: BigtentError) -> BigtentError:
    """What a client may read of ``error``: itself, or for an outage or a configuration
    problem (whose message names hosts and settings) its public text, after logging the
    whole message once for the operators."""
    if isinstance(error, Unavailable):
        public = error.public
    elif isinstance(error, ConfigError) and error.status >= 500:
        public = CONFIG_PUBLIC
    else:
        return error
    log_event(
        log,
        logging.ERROR,
        "service_error",
        status=error.status,
        title=error.title,
        method=request.method,
        path=request.path,
        detail=error.message,
    )
    return BigtentError(
        public, title=error.title, status=error.status, retry_after=error.retry_after
    )


def render_error(error: BigtentError) -> Response:
    """The error as JSON or as an HTML page (with Retry-After when the error has one;
    internals replaced by :func:`public_error`)."""
    error = public_error(error)
    if wants_text():
        response = Response(f"{error.title}: {error.message}\n", mimetype="text/plain")
    elif wants_json():
        response = jsonify(error.to_dict())
    else:
        response = make_response(render_template("error.html", error=error))
    response.status_code = error.status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def init_app(app: Flask) -> None:
    """Register the handlers, and the hook that gives every 503 a ``Retry-After``."""

    @app.after_request
    def _retry_after(response: Response) -> Response:
        if response.status_code == 503 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

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
