"""Running one public SPARQL query to completion: checks, evaluation, row cap, labels,
serialisation. Used by the worker processes and, for tests and tools, in-process.

Everything a response needs is produced here, so the web process only ever sends a
finished body: a query that is stopped leaves nothing half-written. The result is capped
here too, in the worker (SPARQL_MAX_RESULT_BYTES): rows are collected only while they can
still fit and the serialisers cut at the last whole row that does, so neither the worker
nor the web process ever holds an oversized result, and the response is flagged as cut.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from itertools import islice
from typing import Any

import pyoxigraph as ox

from loader.base.errors import BigtentError
from loader.base.namespaces import ENTITY_ID
from loader.query import label_service
from loader.query import policy as query_checks
from loader.query.labels import fill_labels
from loader.query.results import (
    BY_MEDIA_TYPE,
    GRAPH,
    SOLUTIONS,
    format_names,
    serialise_boolean,
    serialise_solutions,
    serialise_triples_capped,
    term_size,
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
    max_chain: int = 500
    max_bytes: int = 0  # 0: no cap
    service_allow: tuple[str, ...] = ()
    prefixes: dict[str, str] = field(default_factory=dict)
    base_iri: str | None = None
    entity_namespace: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (for the worker pipe). Shallow: :func:`asdict` would
        deep-copy the prefix table on every query, in the web process."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

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
    details: dict[str, Any] = field(default_factory=dict)  # of an error: line, column
    revision: int = -1  # the catalogue revision the answer was computed at (-1: unknown)

    def header(self) -> dict[str, Any]:
        """Everything but the body (for the worker pipe)."""
        data = asdict(self)
        del data["body"]
        return data

    def raise_for_error(self) -> None:
        """Raise the error this outcome carries, if any."""
        if self.status >= 400:
            raise BigtentError(
                self.message, title=self.title, status=self.status, details=self.details
            )

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


def _error(
    status: int, title: str, message: str, details: dict[str, Any] | None = None
) -> QueryOutcome:
    return QueryOutcome(status=status, title=title, message=message, details=details or {})


def execute(store: ox.Store, request: QueryRequest, *, network_isolated: bool) -> QueryOutcome:
    """Run ``request`` against ``store`` and serialise the result; errors become outcomes."""
    started = time.perf_counter()
    try:
        outcome = _execute(store, request, network_isolated)
    except BigtentError as exc:
        outcome = _error(exc.status, exc.title, exc.message, dict(exc.details))
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


def check(request: QueryRequest) -> query_checks.QueryScan:
    """Every check of the query text (:func:`loader.query.policy.check_query`) with the
    request's limits, prefixes, base and SERVICE allow-list."""
    return query_checks.check_query(
        request.query,
        max_nesting=request.max_nesting,
        max_chain=request.max_chain,
        prefixes=request.prefixes,
        base=request.base_iri or None,
        service_allow=request.service_allow,
    )


def prepare(request: QueryRequest) -> tuple[query_checks.QueryScan, label_service.Rewritten]:
    """:func:`check`, then the query with WDQS's label service replaced
    (:func:`loader.query.label_service.rewrite`): the text an engine is given."""
    scan = check(request)
    rewritten = label_service.rewrite(
        request.query, scan, request.languages, request.entity_namespace
    )
    return scan, rewritten


_ENGINE_POSITION = re.compile(r"^error at (\d+):(\d+): ?(.*)", re.DOTALL)


def syntax_error(
    message: str, request: QueryRequest, rewritten: label_service.Rewritten
) -> BigtentError:
    """A concise 400 for the engine's syntax error ``message`` (Oxigraph's ``error at
    L:C: …``), its position mapped back to the query as the user wrote it."""
    found = _ENGINE_POSITION.match(message)
    if found is None:
        return BigtentError(
            f"SPARQL syntax error: {_short(message)}", title="Query syntax error", status=400
        )
    line, column = int(found.group(1)), int(found.group(2))
    offset = rewritten.original_offset(label_service.offset_of(rewritten.text, line, column))
    line, column = label_service.position(request.query, offset)
    return located_error(request.query, offset, line, column, found.group(3), request.prefixes)


def located_error(
    query: str, offset: int, line: int, column: int, detail: str, prefixes: dict[str, str]
) -> BigtentError:
    """The syntax error at ``offset`` (``line``, ``column``) of ``query``, said briefly:
    what was found there (or that the query ended), and the engine's expectation when it
    is short (its long lists of expected tokens are left out)."""
    here = re.match(r"\s*([^\s{}()\[\].,;]{1,40}|[{}()\[\].,;])", query[offset:])
    if here is None:
        said = "the query is incomplete, or something just before its end is wrong"
    else:
        said = f"unexpected {here.group(1)!r}"
    short = _short(detail)
    if short and not short.startswith("expected"):  # the parser's guesses mislead
        said += f" ({short})"
    return BigtentError(
        f"SPARQL syntax error at line {line}, column {column}: {said}.",
        title="Query syntax error",
        status=400,
        details={"line": line, "column": column},
    )


def _short(detail: str) -> str:
    """The first line of an engine's message, without character-class dumps."""
    first = " ".join(detail.strip().splitlines()[:1])
    return "" if "[" in first and len(first) > 120 else first[:200]


def _execute(store: ox.Store, request: QueryRequest, network_isolated: bool) -> QueryOutcome:
    scan, rewritten = prepare(request)
    text = rewritten.text
    uses_service = bool(scan.services) and bool(set(scan.services) - {query_checks.LABEL_SERVICE})
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
        raise syntax_error(str(exc), request, rewritten) from None
    except OSError as exc:
        raise _engine_error(exc, uses_service or network_isolated) from None
    try:
        return _serialise(store, request, result, rewritten)
    except OSError as exc:
        raise _engine_error(exc, uses_service or network_isolated) from None


def _engine_error(exc: OSError, network: bool) -> BigtentError:
    if network:
        return BigtentError(
            f"A SERVICE call failed: {exc}", title="SERVICE call failed", status=502
        )
    return BigtentError(f"The query could not be evaluated: {exc}", title="Query failed")


def _serialise(
    store: ox.Store, request: QueryRequest, result: Any, rewritten: label_service.Rewritten
) -> QueryOutcome:
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
        rows, stopped = collect(result, cap, request.max_bytes, list, _same)
        truncated = len(rows) > cap
        del rows[cap:]
        variables, rows = drop_hidden(variables, rows, rewritten.hidden)
        fill_labels(
            store,
            variables,
            rows,
            label_languages(request, rewritten),
            _entity_id(request),
            [(b.source, b.target) for b in rewritten.aliases],
        )
        note: dict[str, Any] | None = {"truncated": True, "maxRows": cap} if truncated else None
        if stopped:
            note = {**(note or {}), "truncated": True, "maxBytes": request.max_bytes}
        done = serialise_solutions(fmt, variables, rows, note, request.max_bytes)
        form = "SELECT"
    else:
        fmt = _format(request, GRAPH, "CONSTRUCT or DESCRIBE")
        triples, stopped = collect(result, cap, request.max_bytes, _same, _triple_terms)
        truncated = len(triples) > cap
        del triples[cap:]
        done = serialise_triples_capped(fmt, triples, request.prefixes, request.max_bytes)
        form = "CONSTRUCT"
    return QueryOutcome(
        media_type=fmt.media_type,
        content_type=fmt.content_type,
        form=form,
        rows=done.rows,
        truncated=truncated or stopped or done.cut,
        body=done.body,
    )


def drop_hidden(
    variables: list[str], rows: list[list[Any]], hidden: str
) -> tuple[list[str], list[list[Any]]]:
    """The columns of a result without the label service's helper variables."""
    if not hidden or not any(v.startswith(hidden) for v in variables):
        return variables, rows
    keep = [i for i, v in enumerate(variables) if not v.startswith(hidden)]
    return [variables[i] for i in keep], [[row[i] for i in keep] for row in rows]


def label_languages(request: QueryRequest, rewritten: label_service.Rewritten) -> tuple[str, ...]:
    """The languages labels are filled in: the label service's, else the reader's."""
    return rewritten.languages if rewritten.languages is not None else request.languages


def collect(
    items: Any,
    max_rows: int,
    max_bytes: int,
    convert: Callable[[Any], Any],
    terms: Callable[[Any], Any],
) -> tuple[list[Any], bool]:
    """Up to ``max_rows + 1`` items of a result, converted (one more than the cap, to tell
    that it was cut), and none past the point where their terms alone exceed
    ``max_bytes`` (0: no byte cap): such a result is cut anyway, so the rest is never
    read. True with them when that byte cap stopped the reading."""
    kept: list[Any] = []
    size = 0
    for item in islice(items, max_rows + 1):
        kept.append(convert(item))
        if max_bytes:
            size += sum(term_size(term) for term in terms(kept[-1]))
            if size > max_bytes:
                return kept, True
    return kept, False


def _same(item: Any) -> Any:
    return item


def _triple_terms(triple: ox.Triple) -> tuple[Any, Any, Any]:
    return triple.subject, triple.predicate, triple.object


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
