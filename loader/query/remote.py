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
    drop_hidden,
    label_languages,
    located_error,
    prepare,
)
from loader.query.label_service import Rewritten, offset_of
from loader.query.labels import fill_labels, label_columns
from loader.query.results import (
    GRAPH,
    SOLUTIONS,
    serialise_boolean,
    serialise_solutions,
    serialise_triples_capped,
)
from loader.query.service import INTERNAL, QueryService
from loader.storage.remote_store import (
    JSON_RESULTS,
    NTRIPLES,
    RemoteStore,
    StoreUnavailable,
    as_written,
    term_of,
    with_prefixes,
)

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

    def _run(self, request: QueryRequest, client: str, timeout: float | None) -> QueryOutcome:
        """Forward ``request`` (checked) to the engine within the time limit; raises
        :class:`BigtentError` for every failure."""
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        lowered = timeout is not None and timeout < self.timeout
        if client != INTERNAL:
            self.budget.admit(client)
            started = self.budget.start(client)
        began = time.monotonic()
        revision = self.current_revision()  # before: a change meanwhile makes it older
        self._count_execution()
        try:
            outcome = self._forward(request, limit, lowered)
        finally:
            if client != INTERNAL:
                self.budget.finish(client, time.monotonic() - began, started)
        outcome.seconds = time.monotonic() - began
        outcome.revision = revision
        return outcome

    def current_revision(self) -> int:
        """The newest revision the engine holds every change up to."""
        return self.repository.revisions.applied_through()

    def run_local(self, request: QueryRequest | str) -> QueryOutcome:
        """Run a query with the endpoint's prefixes, dataset, labels and row cap (on the
        remote engine there is no in-process evaluation: the same as :meth:`run`)."""
        if isinstance(request, str):
            request = self.request(request)
        return self.run(request)

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
        scan, rewritten = prepare(request)
        if scan.first_keyword not in QUERY_FORMS:
            line, column = (int(n) for n in _where(request.query, scan.first_keyword).split(":"))
            raise BigtentError(
                f"SPARQL syntax error at line {line}, column {column}: a query starts with "
                "SELECT, ASK, CONSTRUCT or DESCRIBE (after PREFIX and BASE declarations).",
                title="Query syntax error",
                details={"line": line, "column": column},
            )
        form = "SELECT" if scan.first_keyword in ("select", "ask") else "CONSTRUCT"
        kind = SOLUTIONS if form == "SELECT" else GRAPH
        fmt = _format(request, kind, "SELECT or ASK" if kind == SOLUTIONS else form)
        text = with_prefixes(rewritten.text, request.prefixes)
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
            raise StoreUnavailable(
                f"The SPARQL store at {self.remote.query_url} (setting STORE_QUERY_URL) "
                "could not be reached for a public query.",
                title="Store unavailable",
            ) from None
        if body is None:
            raise BigtentError(
                f"The store's answer is larger than {2 * request.max_bytes} bytes, twice "
                "the largest result this endpoint sends (setting SPARQL_MAX_RESULT_BYTES). "
                "Select fewer rows or shorter values.",
                title="Result too large",
                status=503,
            )
        _check_answer(response, body, self.timeout, request, rewritten)
        if kind == SOLUTIONS:
            return self._solutions(request, fmt, response, body, rewritten)
        return self._triples(request, fmt, response, body)

    def _solutions(
        self, request: QueryRequest, fmt: Any, response: Any, body: bytes, rewritten: Rewritten
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
        variables, rows = drop_hidden(variables, rows, rewritten.hidden)
        aliases = [(b.source, b.target) for b in rewritten.aliases]
        fill_labels(
            _Prefetched(self.remote, variables, rows, aliases),  # type: ignore[arg-type]
            variables,
            rows,
            label_languages(request, rewritten),
            _entity_id(request),
            aliases,
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
        triples = [as_written(q.triple) for q in ox.parse(body, ox.RdfFormat.N_TRIPLES)]
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

    def __init__(
        self,
        store: RemoteStore,
        variables: list[str],
        rows: list[list[Any]],
        aliases: list[tuple[str, str]],
    ) -> None:
        self._found: dict[tuple[str, str], list[ox.Literal]] = {}
        for column in label_columns(variables, aliases):
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


def _check_answer(
    response: requests.Response,
    body: bytes,
    timeout: float,
    request: QueryRequest,
    rewritten: Rewritten,
) -> None:
    """Errors of the engine as Bigtent errors; a result the engine stopped early (its
    own time limit, Virtuoso's "anytime" partial answers) is refused, not passed on."""
    if response.status_code >= 400:
        text = _without_query_dump(body.decode("utf-8", "replace"))
        if response.status_code == 400 or "37000" in text:
            raise _syntax_error(text, request, rewritten)
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
            f"The SPARQL store could not evaluate the query (HTTP {response.status_code}): "
            f"{text[:300]}",
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


def _without_query_dump(text: str) -> str:
    """An engine's error message on one line, without the copy of the (rewritten) query
    Virtuoso appends after "SPARQL query:"."""
    text = re.split(r"\n\s*SPARQL query:", text, maxsplit=1)[0]
    return " ".join(text.split())[:600]


_VIRTUOSO_LINE = re.compile(r"line (\d+): (.*)", re.DOTALL)


def _syntax_error(text: str, request: QueryRequest, rewritten: Rewritten) -> BigtentError:
    """Virtuoso's syntax error (``… SPARQL compiler, line 3: syntax error at 'x' before
    '}'``) as a concise 400 at the user's line; the column of the token it names when that
    token is found on the line."""
    found = _VIRTUOSO_LINE.search(text)
    if found is None:
        return BigtentError(
            "SPARQL syntax error (reported by the store).", title="Query syntax error"
        )
    line = int(found.group(1))
    detail = found.group(2)
    near = re.search(r"at '([^']{1,60})'", detail)
    start = offset_of(rewritten.text, line, 1)
    end = rewritten.text.find("\n", start)
    in_line = rewritten.text[start : end if end >= 0 else len(rewritten.text)]
    column = in_line.find(near.group(1)) + 1 if near and near.group(1) in in_line else 1
    offset = rewritten.original_offset(start + column - 1)
    query = request.query
    line, column = query.count("\n", 0, offset) + 1, offset - query.rfind("\n", 0, offset)
    return located_error(query, offset, line, column, "", request.prefixes)
