"""Headers every response carries: CORS (open, without credentials) and Vary."""

from __future__ import annotations

from flask import Flask, Response, request

EXPOSED = "ETag, Last-Modified, Link, Location, Content-Location, Retry-After, Bigtent-Truncated"
ALLOWED_REQUEST_HEADERS = "Accept, Accept-Language, Content-Type, If-None-Match, If-Modified-Since"


def init_app(app: Flask) -> None:
    """Add CORS to every response and answer preflights."""

    @app.after_request
    def _cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_REQUEST_HEADERS
            response.headers["Access-Control-Max-Age"] = "86400"
        response.vary.update(("Accept", "Accept-Language"))
        return response
