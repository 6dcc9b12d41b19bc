"""The public SPARQL endpoint over a remote engine (``STORE=sparql``).

The same policy as on the embedded store (:mod:`loader.query.service`): read-only (only
SELECT, ASK, CONSTRUCT and DESCRIBE are forwarded), SERVICE only to SPARQL_SERVICE_ALLOW,
the endpoint's prefixes and base, the ``?xLabel`` convenience, SPARQL_MAX_ROWS with
truncation flagged, the client budget, and SPARQL_TIMEOUT as the HTTP time limit of the
request to the engine. The engine's own limits (Virtuoso's MaxQueryExecutionTime and
ResultSetMaxRows) are the second line: a result the engine cut or stopped early is
flagged or refused, never passed on as complete.

The engine answers in SPARQL JSON results or N-Triples; Bigtent parses them and
serialises the response itself, so every format of the embedded endpoint is offered,
cut at SPARQL_MAX_RESULT_BYTES like the embedded endpoint's. The engine's answer is read
as a stream and refused once it passes twice that (its JSON is wordier than ours), so
an oversized result is never held whole in the web process.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
import requests

from loader.base.errors import BigtentError
from loader.query.execute import (
    QueryOutcome,
    QueryRequest,
    _entity_id,
    _format,
    check,
)
from loader.query.labels import fill_labels, label_columns
from loader.query.results import (
    GRAPH,
    SOLUTIONS,
    serialise_boolean,
    serialise_solutions,
    serialise_triples_capped,
)
from loader.query.service import INTERNAL, DatasetStats, QueryService
from loader.storage.remote_store import JSON_RESULTS, NTRIPLES, RemoteStore, term_of, with_prefixes

if TYPE_CHECKING:
    from loader.storage.repository import Repository

QUERY_FORMS = frozenset({"select", "ask", "construct", "describe"})


class RemoteQueryService(QueryService):
    """Runs public SPARQL queries on the remote engine under the endpoint's limits."""

    def __init__(self, repository: Repository) -> None:
        store = repository.store
        if not isinstance(store, RemoteStore):
            raise TypeError("RemoteQueryService needs the remote store")
        self.remote = store
        self._configure(repository)
        self._started = False

    def run(
        self, request: QueryRequest, *, client: str = INTERNAL, timeout: float | None = None
    ) -> QueryOutcome:
        """Forward ``request`` to the engine within the time limit; raises
        :class:`BigtentError` for every failure."""
        self.check(request)
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        lowered = timeout is not None and timeout < self.timeout
        if client != INTERNAL:
            self.budget.admit(client)
            started = self.budget.start(client)
        began = time.monotonic()
        try:
            outcome = self._forward(request, limit, lowered)
        finally:
            if client != INTERNAL:
                self.budget.finish(client, time.monotonic() - began, started)
        outcome.seconds = time.monotonic() - began
        return outcome

    def run_local(self, request: QueryRequest | str) -> QueryOutcome:
        """Run a query with the endpoint's prefixes, dataset, labels and row cap (on the
        remote engine there is no in-process evaluation: the same as :meth:`run`)."""
        if isinstance(request, str):
            request = self.request(request)
        return self.run(request)

    def dataset_stats(self) -> DatasetStats:
        """Triples and entities, counted at most once a minute and once per change."""
        return self._counted_stats(self.repository.revisions.last_id())

    def worker_pids(self) -> list[int]:
        """No worker processes: queries run in the engine."""
        return []

    def refresh(self) -> None:
        """Nothing to publish: the engine always answers from the live store."""
        return None

    def close(self) -> None:
        """Nothing to stop (the catalogue closes the store)."""

    # --- forwarding ---------------------------------------------------------------------
    def _forward(self, request: QueryRequest, limit: float, lowered: bool) -> QueryOutcome:
        scan = check(request)
        if scan.first_keyword not in QUERY_FORMS:
            raise BigtentError(
                f"SPARQL syntax error at {_where(request.query, scan.first_keyword)}: a query "
                "starts with SELECT, ASK, CONSTRUCT or DESCRIBE (after PREFIX and BASE "
                "declarations).",
                title="Query syntax error",
            )
        form = "SELECT" if scan.first_keyword in ("select", "ask") else "CONSTRUCT"
        kind = SOLUTIONS if form == "SELECT" else GRAPH
        fmt = _format(request, kind, "SELECT or ASK" if kind == SOLUTIONS else form)
        text = with_prefixes(request.query, request.prefixes)
        if request.base_iri:
            text = f"BASE {ox.NamedNode(request.base_iri)} {text}"  # same line: see with_prefixes
        dataset = [("default-graph-uri", g) for g in request.default_graphs or ()]
        dataset += [("named-graph-uri", g) for g in request.named_graphs or ()]
        accept = JSON_RESULTS if kind == SOLUTIONS else NTRIPLES
        try:
            response = self.remote.public_query(text, accept, dataset, limit)
            with response:
                body = _read_capped(response, 2 * request.max_bytes, time.monotonic() + limit)
        except requests.Timeout:
            raise self._timed_out(limit, lowered) from None
        except requests.ConnectionError:
            raise BigtentError(
                f"The SPARQL store at {self.remote.query_url} (setting STORE_QUERY_URL) "
                "could not be reached. Try again shortly.",
                title="Store unavailable",
                status=503,
                retry_after=5,
            ) from None
        if body is None:
            raise BigtentError(
                f"The store's answer is larger than {2 * request.max_bytes} bytes, twice "
                "the largest result this endpoint sends (setting SPARQL_MAX_RESULT_BYTES). "
                "Select fewer rows or shorter values.",
                title="Result too large",
                status=503,
            )
        _check_answer(response, body, self.timeout)
        if kind == SOLUTIONS:
            return self._solutions(request, fmt, response, body)
        return self._triples(request, fmt, response, body)

    def _solutions(
        self, request: QueryRequest, fmt: Any, response: Any, body: bytes
    ) -> QueryOutcome:
        data = json.loads(body)
        if "boolean" in data:
            return QueryOutcome(
                media_type=fmt.media_type,
                content_type=fmt.content_type,
                form="ASK",
                rows=1,
                body=serialise_boolean(fmt, bool(data["boolean"])),
            )
        variables = list(data["head"].get("vars", []))
        cap = request.max_rows
        bindings = data["results"]["bindings"]
        rows: list[list[Any]] = [
            [term_of(b[v]) if v in b else None for v in variables] for b in bindings[: cap + 1]
        ]
        truncated = len(rows) > cap or "X-SPARQL-MaxRows" in response.headers
        del rows[cap:]
        fill_labels(
            _Prefetched(self.remote, variables, rows),  # type: ignore[arg-type]
            variables,
            rows,
            request.languages,
            _entity_id(request),
        )
        note = {"truncated": True, "maxRows": min(cap, len(rows))} if truncated else None
        done = serialise_solutions(fmt, variables, rows, note, request.max_bytes)
        return QueryOutcome(
            media_type=fmt.media_type,
            content_type=fmt.content_type,
            form="SELECT",
            rows=done.rows,
            truncated=truncated or done.cut,
            body=done.body,
        )

    def _triples(self, request: QueryRequest, fmt: Any, response: Any, body: bytes) -> QueryOutcome:
        cap = request.max_rows
        triples = [q.triple for q in ox.parse(body, ox.RdfFormat.N_TRIPLES)]
        truncated = len(triples) > cap or "X-SPARQL-MaxRows" in response.headers
        del triples[cap:]
        done = serialise_triples_capped(fmt, triples, request.prefixes, request.max_bytes)
        return QueryOutcome(
            media_type=fmt.media_type,
            content_type=fmt.content_type,
            form="CONSTRUCT",
            rows=done.rows,
            truncated=truncated or done.cut,
            body=done.body,
        )


class _Prefetched:
    """The labels, descriptions and aliases ``fill_labels`` will ask for, fetched from the
    engine a few hundred subjects per query instead of one round trip per subject; it
    answers ``quads_for_pattern(subject, predicate, None, None)`` like a pyoxigraph store."""

    def __init__(self, store: RemoteStore, variables: list[str], rows: list[list[Any]]) -> None:
        self._found: dict[tuple[str, str], list[ox.Literal]] = {}
        for column in label_columns(variables):
            subjects = sorted(
                {
                    row[column.source].value
                    for row in rows
                    if row[column.target] is None and isinstance(row[column.source], ox.NamedNode)
                }
            )
            for start in range(0, len(subjects), LABEL_BATCH):
                chunk = subjects[start : start + LABEL_BATCH]
                values = " ".join(str(ox.NamedNode(s)) for s in chunk)
                for found in store.select(
                    f"SELECT ?s ?o WHERE {{ VALUES ?s {{ {values} }} "
                    f"GRAPH ?g {{ ?s {column.predicate} ?o }} }}"
                ):
                    subject, literal = found["s"], found["o"]
                    if isinstance(literal, ox.Literal):
                        key = (subject.value, column.predicate.value)
                        self._found.setdefault(key, []).append(literal)

    def quads_for_pattern(
        self, subject: ox.NamedNode, predicate: ox.NamedNode, obj: None, graph: None
    ) -> list[ox.Quad]:
        """The prefetched objects of ``subject`` and ``predicate``."""
        return [
            ox.Quad(subject, predicate, literal, ox.DefaultGraph())
            for literal in self._found.get((subject.value, predicate.value), [])
        ]


LABEL_BATCH = 200


def _where(query: str, keyword: str | None) -> str:
    """``line:column`` of ``keyword`` in ``query`` (1:1 when not found), as the embedded
    endpoint's syntax errors say where."""
    found = re.search(rf"(?<![\w:]){re.escape(keyword)}(?![\w:])", query, re.I) if keyword else None
    if found is None:
        return "1:1"
    before = query[: found.start()]
    return f"{before.count(chr(10)) + 1}:{found.start() - before.rfind(chr(10))}"


def _read_capped(response: requests.Response, limit: int, deadline: float) -> bytes | None:
    """The body of a streamed response, or None once it passes ``limit`` bytes (0: no
    limit); raises :class:`requests.Timeout` past ``deadline``."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(1 << 16):
        size += len(chunk)
        if limit and size > limit:
            return None
        if time.monotonic() > deadline:
            raise requests.Timeout("the store's answer took longer than the time limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_answer(response: requests.Response, body: bytes, timeout: float) -> None:
    """Errors of the engine as Bigtent errors; a result the engine stopped early (its
    own time limit, Virtuoso's "anytime" partial answers) is refused, not passed on."""
    if response.status_code >= 400:
        text = " ".join(body.decode("utf-8", "replace").split())[:600]
        if response.status_code == 400 or "37000" in text:
            raise BigtentError(
                f"SPARQL syntax error (reported by the store): {text}",
                title="Query syntax error",
            )
        if "estimated execution time" in text.lower():
            raise BigtentError(
                "The store estimates this query would run past its own limit (Virtuoso's "
                "MaxQueryCostEstimationTime, the second line behind SPARQL_TIMEOUT="
                f"{timeout:g} s) and refused to start it. Make it more selective.",
                title="Query too expensive",
                status=503,
            )
        if response.status_code in (401, 403):
            raise BigtentError(
                "The SPARQL store refused the query's credentials (settings STORE_USER, "
                "STORE_PASSWORD).",
                title="Store refused credentials",
                status=503,
            )
        raise BigtentError(
            f"The SPARQL store could not evaluate the query (HTTP {response.status_code}): {text}",
            title="Query failed",
            status=502,
        )
    if response.headers.get("X-SQL-State") == "S1TAT":
        raise BigtentError(
            "The store stopped the query at its own time limit (Virtuoso's "
            f"MaxQueryExecutionTime, the second line behind SPARQL_TIMEOUT={timeout:g} s). "
            "Make it more selective.",
            title="Query timeout",
            status=503,
        )
