"""Running one public SPARQL query to completion: checks, evaluation, row cap, labels,
serialisation. Used by the worker processes and, for tests and tools, in-process.

Everything a response needs is produced here, so the web process only ever sends a
finished body: a query that is stopped leaves nothing half-written.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

import pyoxigraph as ox

from loader.base.errors import BigtentError
from loader.base.namespaces import ENTITY_ID
from loader.query import policy as query_checks
from loader.query.labels import fill_labels
from loader.query.results import (
    BY_MEDIA_TYPE,
    GRAPH,
    SOLUTIONS,
    format_names,
    serialise_boolean,
    serialise_solutions,
    serialise_triples,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryRequest:
    """One query and everything that governs how it runs.

    ``solutions_type``/``graph_type`` are the media types negotiated for SELECT/ASK and
    CONSTRUCT/DESCRIBE results (None: the client accepts none of them); the query form,
    known only once the query is parsed, picks one of the two.
    """

    query: str
    solutions_type: str | None = "application/sparql-results+json"
    graph_type: str | None = "text/turtle"
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    languages: tuple[str, ...] = ()
    max_rows: int = 100000
    max_nesting: int = 100
    service_allow: tuple[str, ...] = ()
    prefixes: dict[str, str] = field(default_factory=dict)
    base_iri: str | None = None
    entity_namespace: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (for the worker pipe)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueryRequest:
        """Inverse of :meth:`to_json`."""
        for key in ("default_graphs", "named_graphs", "languages", "service_allow"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)


@dataclass
class QueryOutcome:
    """A finished response: a serialised body, or an error (status, title, message)."""

    status: int = 200
    title: str = ""
    message: str = ""
    media_type: str = ""
    content_type: str = ""
    form: str = ""
    rows: int = 0
    truncated: bool = False
    seconds: float = 0.0
    body: bytes = b""

    def header(self) -> dict[str, Any]:
        """Everything but the body (for the worker pipe)."""
        data = asdict(self)
        del data["body"]
        return data

    def raise_for_error(self) -> None:
        """Raise the error this outcome carries, if any."""
        if self.status >= 400:
            raise BigtentError(self.message, title=self.title, status=self.status)

    def json(self) -> Any:
        """The body parsed as JSON (SPARQL JSON results)."""
        self.raise_for_error()
        return json.loads(self.body)

    def bindings(self) -> list[dict[str, str]]:
        """SELECT results as ``{variable: value}`` rows (for tests and tools)."""
        return [
            {name: cell["value"] for name, cell in binding.items()}
            for binding in self.json()["results"]["bindings"]
        ]


def _error(status: int, title: str, message: str) -> QueryOutcome:
    return QueryOutcome(status=status, title=title, message=message)


def execute(store: ox.Store, request: QueryRequest, *, network_isolated: bool) -> QueryOutcome:
    """Run ``request`` against ``store`` and serialise the result; errors become outcomes."""
    started = time.perf_counter()
    try:
        outcome = _execute(store, request, network_isolated)
    except BigtentError as exc:
        outcome = _error(exc.status, exc.title, exc.message)
    except RecursionError:
        outcome = _error(
            400,
            "Query too deeply nested",
            "The query is nested too deeply to check (setting SPARQL_MAX_NESTING).",
        )
    except MemoryError:
        outcome = _error(
            503,
            "Query too expensive",
            "The query needed more memory than a query may use (setting "
            "SPARQL_WORKER_MEMORY). Make it more selective.",
        )
    except Exception:  # a bug of ours: answer 500 rather than lose the worker
        log.exception("query failed unexpectedly")
        outcome = _error(500, "Internal error", "The query failed unexpectedly; it is logged.")
    outcome.seconds = time.perf_counter() - started
    return outcome


def _execute(store: ox.Store, request: QueryRequest, network_isolated: bool) -> QueryOutcome:
    text = request.query
    scan = query_checks.scan(text)
    query_checks.check_nesting(scan, request.max_nesting)
    uses_service = _check_services(request, network_isolated)
    options: dict[str, Any] = {}
    if request.default_graphs is not None or request.named_graphs is not None:
        options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs or ()]
        options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs or ()]
    elif not scan.has_from:
        options["use_default_graph_as_union"] = True
    try:
        result = store.query(
            text, base_iri=request.base_iri, prefixes=request.prefixes or None, **options
        )
    except SyntaxError as exc:
        if scan.looks_like_update:
            raise _read_only() from None
        raise BigtentError(
            f"SPARQL syntax error: {exc}", title="Query syntax error", status=400
        ) from None
    except OSError as exc:
        raise _engine_error(exc, uses_service or network_isolated) from None
    try:
        return _serialise(store, request, result)
    except OSError as exc:
        raise _engine_error(exc, uses_service or network_isolated) from None


def _check_services(request: QueryRequest, network_isolated: bool) -> bool:
    """Refuse SERVICE clauses outside the allow-list; True when the query has any."""
    if not query_checks.mentions_service(request.query):
        return False
    try:
        found = query_checks.service_iris(request.query, request.prefixes, request.base_iri or None)
    except ValueError as exc:
        if network_isolated:
            return True  # the engine reports the syntax; it cannot reach any network
        raise BigtentError(
            "The query mentions SERVICE, and the checker that verifies SERVICE endpoints "
            f"could not parse it: {exc}",
            title="Query syntax error",
        ) from None
    refused = query_checks.disallowed_services(found, frozenset(request.service_allow))
    if refused:
        allowed = ", ".join(f"<{iri}>" for iri in request.service_allow) or "none"
        hint = ""
        if any("wikiba.se/ontology#label" in iri for iri in refused):
            hint = (
                " Labels need no SERVICE here: select ?xLabel next to ?x and the endpoint "
                "fills it in."
            )
        raise BigtentError(
            f"SERVICE to {', '.join(refused)} is not allowed on this endpoint; allowed "
            f"endpoints: {allowed} (setting SPARQL_SERVICE_ALLOW).{hint}",
            title="SERVICE not allowed",
            status=403,
        )
    return bool(found)


def _read_only() -> BigtentError:
    return BigtentError(
        "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, "
        "CREATE, ADD, MOVE, COPY) is not accepted. Send SELECT, ASK, CONSTRUCT or DESCRIBE.",
        title="Read-only endpoint",
        status=403,
    )


def _engine_error(exc: OSError, network: bool) -> BigtentError:
    if network:
        return BigtentError(
            f"A SERVICE call failed: {exc}", title="SERVICE call failed", status=502
        )
    return BigtentError(f"The query could not be evaluated: {exc}", title="Query failed")


def _serialise(store: ox.Store, request: QueryRequest, result: Any) -> QueryOutcome:
    if isinstance(result, ox.QueryBoolean):
        fmt = _format(request, SOLUTIONS, "ASK")
        return QueryOutcome(
            media_type=fmt.media_type,
            content_type=fmt.content_type,
            form="ASK",
            rows=1,
            body=serialise_boolean(fmt, bool(result)),
        )
    cap = request.max_rows
    if isinstance(result, ox.QuerySolutions):
        fmt = _format(request, SOLUTIONS, "SELECT")
        variables = [v.value for v in result.variables]
        rows = [list(solution) for solution in islice(result, cap + 1)]
        truncated = len(rows) > cap
        del rows[cap:]
        fill_labels(store, variables, rows, request.languages, _entity_id(request))
        note = {"truncated": True, "maxRows": cap} if truncated else None
        body = serialise_solutions(fmt, variables, rows, note)
        form = "SELECT"
    else:
        fmt = _format(request, GRAPH, "CONSTRUCT or DESCRIBE")
        triples = list(islice(result, cap + 1))
        truncated = len(triples) > cap
        del triples[cap:]
        rows = triples
        body = serialise_triples(fmt, triples, request.prefixes)
        form = "CONSTRUCT"
    return QueryOutcome(
        media_type=fmt.media_type,
        content_type=fmt.content_type,
        form=form,
        rows=len(rows),
        truncated=truncated,
        body=body,
    )


def _format(request: QueryRequest, kind: str, form: str) -> Any:
    chosen = request.solutions_type if kind == SOLUTIONS else request.graph_type
    if chosen is None:
        what = "SELECT and ASK" if kind == SOLUTIONS else "CONSTRUCT and DESCRIBE"
        raise BigtentError(
            f"This is a {form} query. None of the media types in your Accept header (or "
            f"?format=) fits its results; {what} results come as "
            + ", ".join(f.media_type for f in BY_MEDIA_TYPE.values() if f.kind == kind)
            + f" (?format= {format_names(kind)}).",
            title="Not acceptable",
            status=406,
        )
    return BY_MEDIA_TYPE[chosen]


def _entity_id(request: QueryRequest) -> Callable[[str], str | None]:
    namespace = request.entity_namespace

    def entity_id(iri: str) -> str | None:
        if namespace and iri.startswith(namespace):
            local = iri[len(namespace) :]
            if ENTITY_ID.match(local):
                return local
        return None

    return entity_id
