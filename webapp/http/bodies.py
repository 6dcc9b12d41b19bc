"""Request bodies: each route's size cap, enforced before anything reads the body, and
the one bounded parser for JSON in requests (:func:`parse_json`).

Every route has a cap: its own, declared on the view with :func:`limit` (the import
upload: IMPORT_MAX_BYTES; a record: EDIT_MAX_BYTES; SPARQL: SPARQL_MAX_QUERY_BYTES) or on
a whole blueprint with :func:`limit_blueprint`, else FORM_MAX_BYTES (login included);
never more than REQUEST_MAX_BYTES, which is also Flask's MAX_CONTENT_LENGTH. The hook runs
before any other code of the request may read the body (the CSRF check reads the form):
a declared Content-Length over the cap is refused with 413 naming the setting before a
byte is read; a body of unknown length (chunked) is read up to one byte over the cap and
refused if it gets there (Werkzeug alone would cut it at the cap without a word), else
handed on with its length known.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, request

from loader.base.errors import BigtentError
from loader.base.settings import Settings
from webapp.http.catalogue import get_settings

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BodyLimit:
    """A body cap: ``factor`` × the setting ``setting`` + ``extra`` bytes (room for the
    envelope around what the setting counts: multipart headers, other form fields)."""

    setting: str
    factor: int = 1
    extra: int = 0

    def bytes(self, settings: Settings) -> int:
        """The cap in bytes, within REQUEST_MAX_BYTES."""
        own = int(getattr(settings, self.setting)) * self.factor + self.extra
        return min(own, int(settings.REQUEST_MAX_BYTES))

    def names(self, settings: Settings) -> str:
        """The setting(s) that make the cap, for messages."""
        own = int(getattr(settings, self.setting)) * self.factor + self.extra
        if own > int(settings.REQUEST_MAX_BYTES):
            return "REQUEST_MAX_BYTES"
        return self.setting


#: Routes without a cap of their own.
FORM = BodyLimit("FORM_MAX_BYTES")
_ATTRIBUTE = "_bigtent_body_limit"
_BLUEPRINTS: dict[str, BodyLimit] = {}


def limit(body_limit: BodyLimit) -> Callable[[F], F]:
    """Decorator: the body cap of one view."""

    def decorate(view: F) -> F:
        setattr(view, _ATTRIBUTE, body_limit)
        return view

    return decorate


def limit_blueprint(blueprint: Blueprint, body_limit: BodyLimit) -> None:
    """The body cap of every view of a blueprint that declares none itself."""
    _BLUEPRINTS[blueprint.name] = body_limit


def route_limit() -> BodyLimit:
    """The body cap of the current request's route."""
    view = current_app.view_functions.get(request.endpoint or "")
    own = getattr(view, _ATTRIBUTE, None)
    if isinstance(own, BodyLimit):
        return own
    return _BLUEPRINTS.get(request.blueprint or "", FORM)


def too_large(size: int | None = None) -> BigtentError:
    """The 413 of the current route, naming the setting that caps it."""
    settings = get_settings()
    found = g.get("body_limit") or route_limit()
    cap = found.bytes(settings)
    said = f"{size:,} bytes" if size is not None else "larger than that"
    name = found.names(settings)
    return BigtentError(
        f"the request body is {said}; this address accepts at most {cap:,} bytes (setting "
        f"{name}): send less, or raise BIGTENT_{name}",
        title="Request too large",
        status=413,
    )


def init_app(app: Flask, settings: Settings) -> None:
    """Cap every request body before the request's own code runs (register this before
    anything that may read a body)."""
    app.config["MAX_CONTENT_LENGTH"] = int(settings.REQUEST_MAX_BYTES)

    @app.before_request
    def _cap_body() -> None:
        found = route_limit()
        g.body_limit = found
        cap = found.bytes(get_settings())
        request.max_content_length = cap
        size = request.content_length
        if size is not None and size > cap:
            raise too_large(size)
        if size is None and request.environ.get("wsgi.input_terminated"):
            data = _read_at_most(request.environ["wsgi.input"], cap + 1)
            if len(data) > cap:
                raise too_large()
            request.environ["wsgi.input"] = io.BytesIO(data)
            request.environ["CONTENT_LENGTH"] = str(len(data))


def _read_at_most(stream: Any, limit: int) -> bytes:
    parts, total = [], 0
    while total < limit:
        part = stream.read(min(1 << 16, limit - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)


# --- JSON --------------------------------------------------------------------------------

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]", re.I)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _malformed(message: str) -> BigtentError:
    return BigtentError(message, title="Malformed JSON")


def _refuse_constant(name: str) -> object:
    raise _malformed(f"{name} is not a JSON number; send finite numbers only")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _malformed(f"the number {text[:40]} is too large; send finite numbers only")
    return value


def _depth(text: str) -> int:
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _has_lone_surrogate(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json(data: bytes | str, what: str = "the body", max_bytes: int | None = None) -> Any:
    """JSON from a request, bounded: at most ``max_bytes`` (default: the route's body
    cap), nested at most MAX_NESTING_DEPTH deep (checked before parsing), finite numbers
    only, no lone UTF-16 surrogates. Anything else is a 400 (413 when too large) naming
    ``what`` and the setting."""
    settings = get_settings()
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if max_bytes is None:
        cap = (g.get("body_limit") or route_limit()).bytes(settings)
        if len(raw) > cap:
            raise too_large(len(raw))
    elif len(raw) > max_bytes:
        raise BigtentError(
            f"{what} is {len(raw):,} bytes of JSON; at most {max_bytes:,}",
            title="Request too large",
            status=413,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed(f"{what} is not valid UTF-8 (JSON must be UTF-8)") from None
    deepest = int(settings.MAX_NESTING_DEPTH)
    if _depth(text) > deepest:
        raise _malformed(
            f"{what} nests arrays and objects deeper than MAX_NESTING_DEPTH ({deepest})"
        )
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        raise _malformed(f"{what} is not valid JSON: {str(exc)[:200]}") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise _malformed(
            f"{what} holds a lone UTF-16 surrogate (\\ud800-\\udfff without its pair), "
            "which is not text: send valid Unicode"
        )
    return value
