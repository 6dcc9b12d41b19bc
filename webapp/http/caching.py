"""Conditional responses: ETag, Last-Modified, Cache-Control and 304s, in one place."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from flask import Response, request
from werkzeug.http import http_date

IMMUTABLE_MAX_AGE = 31536000  # one year, the longest RFC 9111 asks caches to honour
#: Request headers that can change the answer (as WSGI environ keys).
_PRECONDITIONS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_RANGE",
)


@lru_cache(maxsize=4096)
def _http_date_of(iso: str) -> str:
    # Revision times repeat across requests; parsing and formatting them once is cheaper.
    return http_date(datetime.fromisoformat(iso.replace("Z", "+00:00")))


def conditional(
    response: Response,
    etag: str,
    last_modified: datetime | str | None = None,
    max_age: int = 60,
    immutable: bool = False,
) -> Response:
    """Tag ``response`` and turn it into a 304 when the client already has it.

    ``etag`` should change whenever the body would (e.g. the entity's revision id plus
    the representation); ``last_modified`` is a datetime or an ISO 8601 string.
    Malformed ``If-None-Match``/``If-Modified-Since`` headers are ignored, as RFC 9110
    asks, so they give the full response rather than an error."""
    response.set_etag(etag)
    if last_modified is not None:
        response.headers["Last-Modified"] = (
            _http_date_of(last_modified)
            if isinstance(last_modified, str)
            else http_date(last_modified)
        )
    # One header write instead of three CacheControl attribute updates (each of which
    # re-serialises the header): this runs on every document and redirect.
    response.headers["Cache-Control"] = (
        f"public, max-age={IMMUTABLE_MAX_AGE}, immutable"
        if immutable
        else f"public, max-age={max_age}"
    )
    environ = request.environ
    if any(key in environ for key in _PRECONDITIONS):  # most requests have none
        response.make_conditional(request)  # updates response in place
    return response
