"""Content negotiation shared by every area: pick the best offered media type."""

from __future__ import annotations

from collections.abc import Sequence

from flask import request

from loader.base.errors import BigtentError

# Longer Accept headers are cut here before parsing: no client needs more, and a
# hostile one must not cost us a quadratic parse.
MAX_ACCEPT_LENGTH = 4096


def best_type(offered: Sequence[str], accept: str | None = None) -> str | None:
    """The offered media type the client prefers (q-values and wildcards honoured;
    ties go to the first offered), or None when it accepts none of them.

    ``accept`` defaults to the current request's Accept header; a missing header
    accepts anything."""
    from werkzeug.datastructures import MIMEAccept
    from werkzeug.http import parse_accept_header

    header = request.headers.get("Accept") if accept is None else accept
    if not header:
        return offered[0] if offered else None
    parsed = parse_accept_header(header[:MAX_ACCEPT_LENGTH], MIMEAccept)
    return parsed.best_match(offered)


def not_acceptable(offered: Sequence[str]) -> BigtentError:
    """The 406 error listing what is offered."""
    return BigtentError(
        "None of the media types in your Accept header is available here. Offered: "
        + ", ".join(offered)
        + ". Ask for one of them, or add ?format= where the page supports it.",
        title="Not acceptable",
        status=406,
    )
