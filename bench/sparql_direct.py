"""SPARQL queries run in-process: the references for the endpoint's overhead.

``python -m bench.sparql_direct STORE_DIR BASE`` opens the store read-only (next to the
running server, which only reads) and answers one JSON request per line on standard input,
``{"query": "..."}``, with one JSON line on standard output, or ``{"error": "..."}``.

Each request runs the query twice, in turn, and times each run to its complete answer:

- ``bigtent``: the endpoint's own query code (:func:`loader.query.execute.execute`) with
  the endpoint's template (:func:`loader.query.service.request_template`, so the same
  limits, prefixes, base and label languages; the settings come from the ``BIGTENT_*``
  variables the server got). It does what a worker does for the query — the policy
  checks, the ``?xLabel`` convention, the row and byte caps, serialising — and returns
  the same bytes: what the endpoint adds on top of it is HTTP, the fair queue and the
  worker pipe, its **overhead**.
- ``engine``: pyoxigraph alone — ``Store.query`` with the same prefixes, base and union
  default graph, then pyoxigraph's own serialiser (SPARQL JSON for SELECT/ASK, N-Triples
  for CONSTRUCT/DESCRIBE). No labels are filled, so a query using ``?xLabel`` answers with
  fewer bytes: this is the cost of the engine, against which the cost of Bigtent's
  query layer is shown.

The answer line is ``{"form", "ms", "bytes", "engine_ms", "engine_bytes"}``. Interpreter
start-up, imports and opening the store are not timed. ``bench.http`` alternates these runs
with the same query through ``/sparql``, so all see the same machine at the same moment.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pyoxigraph as ox

from loader.base.namespaces import Namespaces
from loader.base.settings import load_settings
from loader.query.execute import QueryRequest, execute
from loader.query.service import request_template

#: What the endpoint negotiates for ``bench.http``'s Accept header.
SOLUTIONS_TYPE = "application/sparql-results+json"
GRAPH_TYPE = "application/n-triples"


def run_engine(store: ox.Store, query: str, base: str, prefixes: dict[str, str]) -> dict[str, Any]:
    """Run one query with pyoxigraph alone; its time in ms, its form and the answer's size."""
    started = time.perf_counter()
    result = store.query(query, base_iri=base, prefixes=prefixes, use_default_graph_as_union=True)
    if isinstance(result, ox.QuerySolutions):
        form, body = "select", result.serialize(format=ox.QueryResultsFormat.JSON)
    elif isinstance(result, ox.QueryBoolean):
        form, body = "ask", result.serialize(format=ox.QueryResultsFormat.JSON)
    else:
        form, body = "construct", result.serialize(format=ox.RdfFormat.N_TRIPLES)
    elapsed = (time.perf_counter() - started) * 1000
    return {"ms": elapsed, "form": form, "bytes": len(body or b"")}


def run_bigtent(store: ox.Store, template: QueryRequest, query: str) -> dict[str, Any]:
    """Run one query with the endpoint's query code; its time in ms and the answer's size."""
    started = time.perf_counter()
    outcome = execute(store, replace(template, query=query), network_isolated=False)
    elapsed = (time.perf_counter() - started) * 1000
    if outcome.status != 200:
        return {"error": f"HTTP {outcome.status} {outcome.title}: {outcome.message[:300]}"}
    return {"ms": elapsed, "bytes": len(outcome.body), "truncated": outcome.truncated}


def run_query(
    store: ox.Store, template: QueryRequest, query: str, base: str, prefixes: dict[str, str]
) -> dict[str, Any]:
    """Both references for one query (see the module docstring); the endpoint's code goes
    first, so a query it refuses never reaches the engine alone."""
    bigtent = run_bigtent(store, template, query)
    if "error" in bigtent:
        return bigtent
    engine = run_engine(store, query, base, prefixes)
    return {
        "form": engine["form"],
        "ms": bigtent["ms"],
        "bytes": bigtent["bytes"],
        "truncated": bigtent["truncated"],
        "engine_ms": engine["ms"],
        "engine_bytes": engine["bytes"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Serve query requests from standard input until it closes."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m bench.sparql_direct STORE_DIR BASE", file=sys.stderr)
        return 2
    store = ox.Store.read_only(args[0])
    ns = Namespaces(args[1])
    prefixes = ns.sparql_prefixes()
    template = replace(
        request_template(load_settings(), ns),
        solutions_type=SOLUTIONS_TYPE,
        graph_type=GRAPH_TYPE,
    )
    print(json.dumps({"ready": True, "pyoxigraph": ox.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            answer = run_query(store, template, request["query"], args[1], prefixes)
        except (SyntaxError, OSError, ValueError) as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
