"""The triple store interface and its embedded (pyoxigraph) implementation.

One named graph per entity (graph IRI = the entity's data document), so replacing an
entity is one graph swap. Callers only use :class:`TripleStore`; a remote SPARQL 1.1
backend implements the same protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from loader.base.errors import StoreBusyError
from loader.base.rdf import graphs_as_nquads

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple3 = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]


class TripleStore(Protocol):
    """What the catalogue needs from a triple store."""

    def replace_graph(self, graph: ox.NamedNode, ntriples: bytes) -> None:
        """Atomically replace the content of ``graph`` with N-Triples (empty deletes it)."""

    def replace_graphs_bulk(self, graphs: Mapping[ox.NamedNode, bytes]) -> None:
        """Replace many graphs (N-Triples each) fast; atomic per call only where the
        backend allows it.

        The revision log, written first, makes a crash mid-way recoverable.
        """

    def graph_triples(self, graph: ox.NamedNode) -> list[Triple3]:
        """Every triple of one graph."""

    def graph_names(self) -> Iterator[ox.NamedNode]:
        """Names of all graphs in the store."""

    def select(
        self,
        query: str,
        bindings: Mapping[str, Term] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> list[dict[str, Term]]:
        """Run a SELECT with bound variables; rows as dicts."""

    def construct(self, query: str) -> Iterable[ox.Triple]:
        """Run a CONSTRUCT."""

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad (for dumps)."""

    def objects(self, subject: ox.NamedNode, predicate: ox.NamedNode) -> list[Term]:
        """Objects of one subject and predicate, in any graph."""

    def clear(self) -> None:
        """Remove everything (before a rebuild from the revision log)."""

    def close(self) -> None:
        """Release the store."""


def _lock_message(path: Path) -> str:
    return (
        f"the triple store at {path} is in use by another process (is `bigtent serve` or "
        "another `bigtent load` running?). Stop it, or point this command at another "
        "DATA_DIR (setting BIGTENT_DATA_DIR)."
    )


class OxigraphStore:
    """Embedded pyoxigraph store on disk (RocksDB); one process holds it at a time."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is None:
            self._store = ox.Store()
            return
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._store = ox.Store(str(path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreBusyError(_lock_message(path), title="Store busy") from None
            raise

    def replace_graph(self, graph: ox.NamedNode, ntriples: bytes) -> None:
        """Drop and refill one graph inside a single update transaction."""
        # The body is N-Triples that Bigtent serialised from parsed terms, which is valid
        # SPARQL INSERT DATA syntax: serialisation, not formatting user text into a query.
        update = f"DROP SILENT GRAPH {graph} ;\n"
        if ntriples:
            update += f"INSERT DATA {{ GRAPH {graph} {{\n{ntriples.decode()}}} }}"
        self._store.update(update)

    def replace_graphs_bulk(self, graphs: Mapping[ox.NamedNode, bytes]) -> None:
        """Remove the graphs that exist, then bulk-load the new content as N-Quads."""
        for graph in graphs:
            if self._store.contains_named_graph(graph):
                self._store.remove_graph(graph)
        nquads = graphs_as_nquads(graphs)
        if nquads:
            self._store.bulk_load(nquads, ox.RdfFormat.N_QUADS)

    def checkpoint(self, target: Path) -> None:
        """A consistent, independent copy of the store in ``target`` (which must not
        exist); on the same file system it is made of hard links, so it is cheap."""
        if self.path is None:
            raise ValueError("an in-memory store has no checkpoints")
        self._store.backup(str(target))

    def engine(self) -> ox.Store:
        """The pyoxigraph store itself, for loader modules that run SPARQL on it."""
        return self._store

    def graph_triples(self, graph: ox.NamedNode) -> list[Triple3]:
        """Every triple of one graph, in store order."""
        return [
            (q.subject, q.predicate, q.object)  # type: ignore[misc]
            for q in self._store.quads_for_pattern(None, None, None, graph)
        ]

    def graph_names(self) -> Iterator[ox.NamedNode]:
        """Names of all graphs."""
        for g in self._store.named_graphs():
            if isinstance(g, ox.NamedNode):
                yield g

    def select(
        self,
        query: str,
        bindings: Mapping[str, Term] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> list[dict[str, Term]]:
        """Run a SELECT; ``bindings`` are substituted as terms, never as text.

        pyoxigraph substitutes only variables the query projects: select them too.
        """
        subs: dict[ox.Variable, Term | ox.Triple] = {
            ox.Variable(k): v for k, v in (bindings or {}).items()
        }
        result = self._store.query(query, substitutions=subs or None, prefixes=dict(prefixes or {}))
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError("select() runs SELECT queries only")
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return rows

    def construct(self, query: str) -> ox.QueryTriples:
        """Run a CONSTRUCT (a set of triples: duplicates across graphs appear once)."""
        result = self._store.query(query)
        if not isinstance(result, ox.QueryTriples):
            raise TypeError("construct() runs CONSTRUCT queries only")
        return result

    def objects(self, subject: ox.NamedNode, predicate: ox.NamedNode) -> list[Term]:
        """Objects of one subject and predicate, in any graph."""
        return [q.object for q in self._store.quads_for_pattern(subject, predicate, None, None)]  # type: ignore[misc]

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad in the store."""
        return iter(self._store.quads_for_pattern(None, None, None, None))

    def dump_nquads(self, output: str | Path) -> None:
        """Write the whole store as N-Quads (fast, in Rust)."""
        self._store.dump(output=str(output), format=ox.RdfFormat.N_QUADS)

    def optimize(self) -> None:
        """Compact the on-disk store after large imports."""
        if self.path is not None:
            self._store.optimize()

    def flush(self) -> None:
        """Make bulk writes durable."""
        if self.path is not None:
            self._store.flush()

    def clear(self) -> None:
        """Remove every graph."""
        self._store.clear()

    def close(self) -> None:
        """Release the RocksDB lock (closing twice is harmless)."""
        store = self.__dict__.pop("_store", None)
        if store is not None and self.path is not None:
            store.flush()
        del store
