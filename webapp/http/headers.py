"""Headers every response carries: CORS (open, without credentials), Vary, and the
security headers.

Security headers: ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy`` on
everything; on HTML and SVG (the responses a browser renders) a Content-Security-Policy
that allows scripts only from this site (no inline script, no ``eval``; the pages keep
their data in ``application/json`` blocks, which are not executed), and refuses framing
unless the endpoint is in :data:`EMBEDDABLE` (pictures and views meant to be embedded
elsewhere, as WDQS embeds its result views).
"""

from __future__ import annotations

from flask import Flask, Response, request

EXPOSED = "ETag, Last-Modified, Link, Location, Content-Location, Retry-After, Bigtent-Truncated"
ALLOWED_REQUEST_HEADERS = "Accept, Accept-Language, Content-Type, If-None-Match, If-Modified-Since"
#: Endpoints other sites may show in a frame.
EMBEDDABLE = frozenset({"network.network_svg", "network.network_page", "query_editor.embed"})
_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}"
)
CSP_FRAMED = _POLICY.format(ancestors="*")
CSP = _POLICY.format(ancestors="'none'")
RENDERED = ("text/html", "image/svg+xml")


def init_app(app: Flask) -> None:
    """Add CORS and the security headers to every response, and answer preflights."""

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_REQUEST_HEADERS
            response.headers["Access-Control-Max-Age"] = "86400"
        response.vary.update(("Accept", "Accept-Language"))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if response.mimetype in RENDERED:
            framed = request.endpoint in EMBEDDABLE
            response.headers["Content-Security-Policy"] = CSP_FRAMED if framed else CSP
            if not framed:
                response.headers["X-Frame-Options"] = "DENY"  # for browsers without CSP 3
        return response
