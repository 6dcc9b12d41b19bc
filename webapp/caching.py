"""Conditional responses: ETag, Last-Modified, Cache-Control and 304s, in one place."""

from __future__ import annotations

from datetime import datetime

from flask import Response, request


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
        if isinstance(last_modified, str):
            last_modified = datetime.fromisoformat(last_modified.replace("Z", "+00:00"))
        response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.max_age = 31536000 if immutable else max_age
    if immutable:
        response.cache_control.immutable = True
    response.make_conditional(request)  # updates response in place
    return response
