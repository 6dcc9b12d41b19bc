"""Answers to recent GET queries, kept so a popular query costs one execution per change.

An answer is keyed by the catalogue revision it was computed at (the snapshot's
generation on the embedded store, the revision the remote store had applied before the
query ran) and by a hash of everything that decides its bytes: the query's tokens (so
spacing and comments do not matter), the negotiated formats, the dataset, the label
languages and the row and byte caps. A change to the catalogue — hiding a person
included, which is a revision like any other — moves the revision, so an answer computed
before it is never served after the queries see it. Errors are not kept. Bounded in bytes
(SPARQL_CACHE_MB), least recently used first (:class:`loader.base.lru.ByteLRU`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import TYPE_CHECKING

from loader.base.lru import ByteLRU
from loader.query import policy

if TYPE_CHECKING:
    from loader.query.execute import QueryOutcome, QueryRequest


@functools.lru_cache(maxsize=1024)
def _token_text(query: str) -> str:
    """``query``'s tokens, space-separated (remembered: a request needs it up to three
    times, for the cache and its ETags)."""
    try:
        return " ".join(value for _, value, _ in policy.tokens(query))
    except policy.Unparsable:
        return query


def request_digest(request: QueryRequest) -> str:
    """A hash of everything about ``request`` that decides the answer's bytes."""
    key = {
        "query": _token_text(request.query),
        "solutions": request.solutions_type,
        "graph": request.graph_type,
        "default": request.default_graphs,
        "named": request.named_graphs,
        "languages": request.languages,
        "rows": request.max_rows,
        "bytes": request.max_bytes,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


class ResultCache:
    """Finished answers by (revision, request digest)."""

    def __init__(self, max_bytes: int) -> None:
        self._answers: ByteLRU[QueryOutcome] = ByteLRU(max_bytes)

    def get(self, revision: int, digest: str) -> QueryOutcome | None:
        """The answer computed at ``revision`` for the request with ``digest``, if kept."""
        return self._answers.get((revision, digest))

    def put(self, revision: int, digest: str, outcome: QueryOutcome) -> None:
        """Keep a successful answer computed at ``revision``."""
        if outcome.status == 200:
            self._answers.put((revision, digest), outcome, len(outcome.body) + 512)

    def __len__(self) -> int:
        return len(self._answers)
