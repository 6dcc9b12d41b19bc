"""SPARQL queries run in-process with pyoxigraph: the reference for the endpoint's overhead.

``python -m bench.sparql_direct STORE_DIR BASE`` opens the store read-only (next to the
running server, which only reads) and answers one JSON request per line on standard input,
``{"query": "..."}``, with one JSON line on standard output:
``{"ms": 1.23, "form": "select", "bytes": 456}`` or ``{"error": "..."}``.

The timed section is what an endpoint cannot avoid: ``Store.query`` with the catalogue's
predefined prefixes, relative IRIs resolved against the base, and the union of the named
graphs as default graph (Bigtent keeps one named graph per entity), as the endpoint does;
then the complete answer serialised by pyoxigraph itself (SPARQL JSON for SELECT/ASK,
N-Triples for CONSTRUCT/DESCRIBE). Interpreter start-up, imports and opening the store are
not timed. ``bench.http`` alternates these runs with the same query
through ``/sparql``, so both see the same machine at the same moment.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import pyoxigraph as ox

from loader.base.namespaces import Namespaces


def run_query(store: ox.Store, query: str, base: str, prefixes: dict[str, str]) -> dict[str, Any]:
    """Run one query to completion; its time in ms, its form and the answer's size."""
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


def main(argv: Sequence[str] | None = None) -> int:
    """Serve query requests from standard input until it closes."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m bench.sparql_direct STORE_DIR BASE", file=sys.stderr)
        return 2
    store = ox.Store.read_only(args[0])
    prefixes = Namespaces(args[1]).sparql_prefixes()
    print(json.dumps({"ready": True, "pyoxigraph": ox.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            answer = run_query(store, request["query"], args[1], prefixes)
        except (SyntaxError, OSError, ValueError) as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
