"""Which lane a SPARQL query waits in: the fast lane for queries predicted cheap, the
normal lane for the rest.

The prediction is honest rather than clever: a query is cheap when the last run of a query
of the same *shape* (its text with IRIs, prefixed names, literals and numbers replaced by
placeholders, so every "the triples of entity X" lookup has one shape) finished within the
fast lane's time slice (SPARQL_FAST_SLICE), or when no query of its shape has run yet. The
slice keeps the prediction safe: a fast-lane query still running when its slice ends is
stopped, its shape is remembered as slow and it is run again in the normal lane (see
:class:`loader.query.service.QueryService`), so no query holds a fast-lane worker longer
than the slice, whatever its text says.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

FAST = "fast"
NORMAL = "normal"

_PLACEHOLDERS = re.compile(
    r"""
      "{3}(?:[^"\\]|\\.|"(?!""))*"{3}        # long strings
    | '{3}(?:[^'\\]|\\.|'(?!''))*'{3}
    | "(?:[^"\\\n]|\\.)*"                    # strings
    | '(?:[^'\\\n]|\\.)*'
    | <[^<>"{}|^`\\\s]*>                     # IRIs
    | \b[A-Za-z][\w.-]*:[\w.%-]*              # prefixed names (the prefix is kept)
    | (?<![\w?$])[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?  # numbers (not inside ?var1)
    """,
    re.VERBOSE,
)
_SPACE = re.compile(r"\s+")


def query_shape(query: str) -> str:
    """``query`` with its constants replaced by placeholders and spaces collapsed: the
    same for every query that differs only in the entity, label or number it names."""

    def placeholder(match: re.Match[str]) -> str:
        text = match.group(0)
        if text[0] in "\"'":
            return '""'
        if text[0] == "<":
            return "<>"
        if ":" in text:
            return text.split(":", 1)[0] + ":_"
        return "0"

    return _SPACE.sub(" ", _PLACEHOLDERS.sub(placeholder, query)).strip()


class ShapeHistory:
    """Whether the last run of each query shape was slow; the ``size`` shapes used most
    recently are remembered (unknown shapes count as fast). Thread-safe."""

    def __init__(self, size: int = 4096) -> None:
        self.size = max(1, size)
        self._slow: OrderedDict[str, bool] = OrderedDict()
        self._lock = threading.Lock()

    def lane(self, shape: str) -> str:
        """:data:`FAST` or :data:`NORMAL` for a query of ``shape``."""
        with self._lock:
            slow = self._slow.get(shape, False)
            if shape in self._slow:
                self._slow.move_to_end(shape)
        return NORMAL if slow else FAST

    def record(self, shape: str, slow: bool) -> None:
        """A query of ``shape`` ran: slower than the slice (``slow``) or not."""
        with self._lock:
            self._slow[shape] = slow
            self._slow.move_to_end(shape)
            while len(self._slow) > self.size:
                self._slow.popitem(last=False)
