"""A triple store reached over the standard protocols (``STORE=sparql``).

SPARQL 1.1 Query for reading, SPARQL 1.1 Update and (when STORE_GRAPH_STORE_URL is set)
the Graph Store HTTP Protocol for writing, so operators choose the engine (Virtuoso,
QLever, GraphDB, Fuseki, Neptune). Every request has a timeout (STORE_TIMEOUT) and is
retried with exponential backoff on transient failures (connection errors, timeouts,
502/503/504); every write is idempotent (a graph replacement or INSERT DATA of a set), so a
retry after a lost answer is safe. Anything else becomes a :class:`BigtentError` that names
the setting to check.

The catalogue owns only the graphs whose IRIs start with its BASE_URL (entity data
documents and the ontology graph): listing, clearing and verifying never look at or touch
other graphs, so a store may hold foreign data next to it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from loader.base.errors import BigtentError, ConfigError, Unavailable
from loader.base.settings import Settings
from loader.records.coordinates import WKT_LITERAL, decimal_text
from loader.storage.bulk_loader import BulkLoader
from loader.storage.oxigraph_store import Term, Triple3

log = logging.getLogger(__name__)

JSON_RESULTS = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
TRANSIENT_STATUS = frozenset({502, 503, 504})
GRAPHS_PER_QUERY = 200  # graph IRIs per VALUES block when reading many graphs
GRAPHS_PER_UPDATE = 20  # graphs dropped and refilled per update request
TRIPLES_PER_UPDATE = 50  # per update request (Virtuoso compiles each to SQL: keep them small)


class StoreUnavailable(Unavailable):
    """The remote store could not be reached, kept failing within the retries, or
    refused the credentials."""

    public = (
        "The triple store behind this catalogue is not answering just now. "
        "Please try again in a few seconds."
    )


def sparql_term(term: Term) -> str:
    """A term in SPARQL syntax (pyoxigraph's N-Triples form is valid SPARQL)."""
    return str(term)


def with_bindings(query: str, bindings: Mapping[str, Term] | None) -> str:
    """``query`` with a VALUES block binding ``bindings`` first in its WHERE clause (terms
    serialised by pyoxigraph, never user text formatted into the query), which has the
    effect of pyoxigraph's substitutions; Virtuoso handles a trailing VALUES badly."""
    if not bindings:
        return query
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(sparql_term(term) for term in bindings.values())
    block = f" VALUES ({names}) {{ ({values}) }} "
    where = _WHERE.search(query)
    if where is None:
        return f"{query}\nVALUES ({names}) {{ ({values}) }}"
    return query[: where.end()] + block + query[where.end() :]


_WHERE = re.compile(r"\bWHERE\s*\{|\{", re.IGNORECASE)


def with_prefixes(query: str, prefixes: Mapping[str, str] | None) -> str:
    """``query`` preceded by PREFIX declarations, on its first line, so the engine's
    syntax errors give the line numbers of the query as written."""
    if not prefixes:
        return query
    head = "".join(f"PREFIX {name}: {ox.NamedNode(iri)} " for name, iri in prefixes.items())
    return head + query


class RemoteStore:
    """The :class:`loader.storage.oxigraph_store.TripleStore` protocol over SPARQL 1.1 protocols."""

    def __init__(
        self, settings: Settings, *, check: bool = True, retry_seconds: float | None = None
    ) -> None:
        """``retry_seconds``: the most time one operation spends retrying (the web app
        passes STORE_RETRY_SECONDS, so a visitor is answered quickly during an outage);
        None retries STORE_RETRIES times however long that takes (the command line)."""
        self.query_url = str(settings.STORE_QUERY_URL)
        if not self.query_url:
            raise ConfigError(
                "STORE is 'sparql' but STORE_QUERY_URL is empty: set BIGTENT_STORE_QUERY_URL "
                "to the engine's SPARQL query endpoint"
            )
        self.update_url = str(settings.STORE_UPDATE_URL) or self.query_url
        self.graph_store_url = str(settings.STORE_GRAPH_STORE_URL)
        self.owned_prefix = str(settings.BASE_URL)
        self.timeout = float(settings.STORE_TIMEOUT)
        if self.timeout <= 0:
            raise ConfigError("STORE_TIMEOUT must be more than 0 seconds")
        self.retries = int(settings.STORE_RETRIES)
        self.retry_delay = float(settings.STORE_RETRY_DELAY)
        self.retry_seconds = retry_seconds
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "Bigtent remote store"
        self.auth = _auth(settings)
        self.bulk = BulkLoader.from_settings(settings)
        if check:
            self.ping()

    # --- HTTP with retries ------------------------------------------------------------------
    def _send(
        self, method: str, url: str, setting: str, what: str, **kwargs: Any
    ) -> requests.Response:
        """One request, retried on transient failures; raises BigtentError otherwise."""
        attempt = 0
        give_up = None if self.retry_seconds is None else time.monotonic() + self.retry_seconds
        while True:
            try:
                response = self.session.request(
                    method, url, auth=self.auth, timeout=self.timeout, **kwargs
                )
            except requests.Timeout:
                failure = f"did not answer {what} within {self.timeout:g} s (setting STORE_TIMEOUT)"
            except requests.ConnectionError as exc:
                failure = f"could not be reached for {what} ({_reason(exc)})"
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in TRANSIENT_STATUS and not _deadlock(response):
                    raise self._rejected(response, url, setting, what)
                failure = f"answered {what} with HTTP {response.status_code}"
            delay = self.retry_delay * (2**attempt)
            out_of_time = give_up is not None and time.monotonic() + delay > give_up
            if attempt >= self.retries or out_of_time:
                limit = "STORE_RETRY_SECONDS" if out_of_time else "STORE_RETRIES"
                raise StoreUnavailable(
                    f"The SPARQL store at {url} (setting {setting}) {failure}, "
                    f"{attempt + 1} time(s) (setting {limit}). Is it running?",
                    title="Store unavailable",
                )
            log.warning("SPARQL store %s %s; retrying in %.1f s", url, failure, delay)
            time.sleep(delay)
            attempt += 1

    def _rejected(
        self, response: requests.Response, url: str, setting: str, what: str
    ) -> BigtentError:
        text = " ".join(response.text.split())[:500]
        if response.status_code in (401, 403):
            return StoreUnavailable(
                f"The SPARQL store at {url} (setting {setting}) refused the credentials for "
                f"{what} (HTTP {response.status_code}): check STORE_USER, STORE_PASSWORD and "
                "STORE_AUTH, and that the account may run SPARQL Update.",
                title="Store refused credentials",
            )
        return StoreUnavailable(
            f"The SPARQL store at {url} (setting {setting}) rejected {what} with HTTP "
            f"{response.status_code}: {text}",
            title="Store rejected request",
            status=502,
            retry_after=None,
        )

    def ping(self) -> None:
        """Ask the engine ``ASK {}``: a clear error now rather than at the first read."""
        self._query("ASK {}", "application/sparql-results+json", "a check (ASK {})")

    def check_writable(self) -> None:
        """Write and remove a probe graph under BASE_URL, as every save does (Graph Store
        PUT or SPARQL Update): a wrong STORE_PASSWORD or an account without the update
        grant is one clear error at start, not saves that reach only the log."""
        probe = ox.NamedNode(self.owned_prefix + "bigtent-start-check")
        label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
        self.replace_graph(probe, f'{probe} {label} "start check" .\n'.encode())
        self.replace_graph(probe, b"")

    def _query(self, query: str, accept: str, what: str = "a query") -> requests.Response:
        return self._send(
            "POST",
            self.query_url,
            "STORE_QUERY_URL",
            what,
            # a form, not an application/sparql-query body: Virtuoso 7 hangs on those
            data={"query": query},
            headers={"Accept": accept},
        )

    def public_query(
        self, query: str, accept: str, dataset: Sequence[tuple[str, str]], timeout: float
    ) -> requests.Response:
        """One query of the public SPARQL endpoint: sent once (a query past its time limit
        is not worth repeating) with ``timeout``; raises ``requests`` exceptions. The
        answer is streamed: the caller reads (and caps) the body, and closes it."""
        return self.session.post(
            self.query_url,
            data=[("query", query), *dataset],
            headers={"Accept": accept},
            auth=self.auth,
            timeout=timeout,
            stream=True,
        )

    def update(self, update: str, what: str = "an update") -> None:
        """Run a SPARQL Update (retried: callers send only idempotent updates)."""
        self._send(
            "POST",
            self.update_url,
            "STORE_UPDATE_URL",
            what,
            data=update.encode("utf-8"),
            headers={"Accept": "*/*", "Content-Type": "application/sparql-update; charset=utf-8"},
        )

    # --- TripleStore: writing ---------------------------------------------------------------
    def replace_graph(self, graph: ox.NamedNode, ntriples: bytes) -> None:
        """Replace one graph in one request (GSP PUT / DELETE, or one SPARQL Update
        ``DROP SILENT GRAPH; INSERT DATA``): the engine applies it as a whole."""
        self._check_owned(graph)
        if self.graph_store_url:
            if ntriples:
                self._send(
                    "PUT",
                    self.graph_store_url,
                    "STORE_GRAPH_STORE_URL",
                    f"the replacement of graph {graph.value}",
                    params={"graph-uri": graph.value},
                    data=ntriples,
                    headers={"Content-Type": NTRIPLES},
                )
            else:
                self.update(f"DROP SILENT GRAPH {graph}", f"the removal of graph {graph.value}")
            return
        self.update(_replacement({graph: ntriples}), f"the replacement of graph {graph.value}")

    def replace_graphs_bulk(self, graphs: Mapping[ox.NamedNode, bytes]) -> None:
        """Replace many graphs. A batch big enough for the engine's own bulk loader
        (STORE_BULK_DIR and STORE_BULK_COMMAND set: :mod:`loader.storage.bulk_loader`, which
        checks the engine's quad count and resends a short graph over HTTP) goes that way;
        otherwise one Graph Store PUT per graph when STORE_GRAPH_STORE_URL is set, else
        SPARQL Updates of a few dozen triples (Virtuoso compiles each update to SQL, and big
        ones cost more than their size). Each way drops and refills whole graphs, so it is
        idempotent; the revision log (written first) lets ``bigtent verify`` repair a load
        that stopped half-way."""
        if self.bulk is not None and self.bulk.wanted(graphs):
            for graph in graphs:
                self._check_owned(graph)
            self.bulk.replace(graphs, self._graph_sizes, self.replace_graph)
            return
        if self.graph_store_url:
            for graph, data in graphs.items():
                self.replace_graph(graph, data)
            return
        batch: dict[ox.NamedNode, bytes] = {}
        size = 0
        for graph, data in graphs.items():
            self._check_owned(graph)
            batch[graph] = data
            size += data.count(b"\n")
            if size >= TRIPLES_PER_UPDATE or len(batch) >= GRAPHS_PER_UPDATE:
                self.update(_replacement(batch), f"the replacement of {len(batch)} graphs")
                batch, size = {}, 0
        if batch:
            self.update(_replacement(batch), f"the replacement of {len(batch)} graphs")

    def clear(self) -> None:
        """Drop every graph the catalogue owns (others stay untouched)."""
        self._drop_graphs(list(self.graph_names()))

    def _drop_graphs(self, names: list[ox.NamedNode]) -> None:
        for start in range(0, len(names), GRAPHS_PER_QUERY):
            chunk = names[start : start + GRAPHS_PER_QUERY]
            self.update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in chunk), "clearing graphs")

    def _graph_sizes(self, names: list[ox.NamedNode]) -> dict[ox.NamedNode, int]:
        """How many triples each of ``names`` holds (graphs without any are left out)."""
        sizes: dict[ox.NamedNode, int] = {}
        for start in range(0, len(names), GRAPHS_PER_QUERY):
            values = " ".join(sparql_term(g) for g in names[start : start + GRAPHS_PER_QUERY])
            for row in self.select(
                f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
            ):
                graph, count = row.get("g"), row.get("n")
                if isinstance(graph, ox.NamedNode) and isinstance(count, ox.Literal):
                    sizes[graph] = int(count.value)
        return sizes

    def _check_owned(self, graph: ox.NamedNode) -> None:
        if not graph.value.startswith(self.owned_prefix):
            raise BigtentError(
                f"refusing to write graph {graph.value}: the catalogue owns only graphs "
                f"under BASE_URL {self.owned_prefix}",
                status=500,
            )

    # --- TripleStore: reading ---------------------------------------------------------------
    def select(
        self,
        query: str,
        bindings: Mapping[str, Term] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> list[dict[str, Term]]:
        """Run a SELECT; bindings become a trailing VALUES clause of serialised terms."""
        text = with_prefixes(with_bindings(query, bindings), prefixes)
        response = self._query(text, JSON_RESULTS)
        self._check_complete(response)
        return [
            {name: term_of(cell) for name, cell in binding.items()}
            for binding in response.json()["results"]["bindings"]
        ]

    def ask(self, query: str) -> bool:
        """Run an ASK."""
        response = self._query(query, JSON_RESULTS)
        result = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
        return bool(result)

    def construct(self, query: str) -> list[ox.Triple]:
        """Run a CONSTRUCT."""
        response = self._query(query, NTRIPLES)
        self._check_complete(response)
        return [as_written(q.triple) for q in ox.parse(response.content, ox.RdfFormat.N_TRIPLES)]

    def _check_complete(self, response: requests.Response) -> None:
        # Virtuoso cuts results at its ResultSetMaxRows and says so in this header.
        if "X-SPARQL-MaxRows" in response.headers:
            raise BigtentError(
                f"The SPARQL store cut a result at {response.headers['X-SPARQL-MaxRows']} "
                "rows (its own limit, Virtuoso's ResultSetMaxRows in virtuoso.ini); raise "
                "it for the account set by STORE_USER.",
                title="Store result cut",
                status=502,
            )

    def graph_names(self) -> Iterator[ox.NamedNode]:
        """The graphs the catalogue owns (under BASE_URL)."""
        prefix = sparql_term(ox.Literal(self.owned_prefix))
        rows = self.select(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(STRSTARTS(STR(?g), {prefix})) }}"
        )
        for row in rows:
            graph = row.get("g")
            if isinstance(graph, ox.NamedNode):
                yield graph

    def graph_triples(self, graph: ox.NamedNode) -> list[Triple3]:
        """Every triple of one graph."""
        return self.graphs_triples([graph])[graph]

    def graphs_triples(self, graphs: Iterable[ox.NamedNode]) -> dict[ox.NamedNode, list[Triple3]]:
        """Triples of many graphs, a few hundred graphs per query. Floating-point objects
        are read through ``STR()`` too: Virtuoso writes an ``xsd:double`` in results with
        six significant digits (``48.856614`` reads back as ``48.8566``) but its ``STR()``
        in full."""
        found: dict[ox.NamedNode, list[Triple3]] = {}
        names = list(graphs)
        for start in range(0, len(names), GRAPHS_PER_QUERY):
            chunk = names[start : start + GRAPHS_PER_QUERY]
            for g in chunk:
                found[g] = []
            values = " ".join(sparql_term(g) for g in chunk)
            for r in self.select(
                f"SELECT ?g ?s ?p ?o ?lexical WHERE {{ VALUES ?g {{ {values} }} "
                f"GRAPH ?g {{ ?s ?p ?o }} {_FLOAT_LEXICAL} }}"
            ):
                found[r["g"]].append(  # type: ignore[index]
                    (r["s"], r["p"], _full_float(r["o"], r.get("lexical")))  # type: ignore[arg-type]
                )
        return found

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad of the graphs the catalogue owns."""
        for graph, triples in self.graphs_triples(self.graph_names()).items():
            for s, p, o in triples:
                yield ox.Quad(s, p, o, graph)

    def objects(self, subject: ox.NamedNode, predicate: ox.NamedNode) -> list[Term]:
        """Objects of one subject and predicate, in any graph."""
        rows = self.select(
            "SELECT ?o ?s ?p WHERE { GRAPH ?g { ?s ?p ?o } }", {"s": subject, "p": predicate}
        )
        return [r["o"] for r in rows]

    def quads_for_pattern(
        self, subject: ox.NamedNode, predicate: ox.NamedNode, obj: None, graph: None
    ) -> Iterator[ox.Quad]:
        """The one pyoxigraph pattern the SPARQL label filling uses (subject, predicate)."""
        for term in self.objects(subject, predicate):
            yield ox.Quad(subject, predicate, term, ox.DefaultGraph())

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()


def term_of(cell: Mapping[str, str]) -> Term:
    """A term of SPARQL JSON results (Virtuoso's blank node ids, such as
    ``nodeID://b1``, are not valid pyoxigraph ids: they are mapped to valid ones; its
    geometries are read back as the ``geo:wktLiteral`` that was written, see
    :func:`as_written`)."""
    kind = cell["type"]
    value = cell["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(_BNODE.sub("_", value.removeprefix("nodeID://")))
    language = cell.get("xml:lang")
    if language:
        return ox.Literal(value, language=language)
    datatype = cell.get("datatype")
    if datatype == VIRTUOSO_GEOMETRY:
        return _wkt_point(value) or ox.Literal(value, datatype=ox.NamedNode(datatype))
    return ox.Literal(value, datatype=ox.NamedNode(datatype) if datatype else None)


_BNODE = re.compile(r"[^A-Za-z0-9_]")

#: Virtuoso turns every ``geo:wktLiteral`` it stores into its own geometry type and
#: answers ``"POINT(2.3522 48.8566)"^^virtrdf:Geometry``.
VIRTUOSO_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"
_VIRTUOSO_POINT = re.compile(r"^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.IGNORECASE)


def _wkt_point(text: str) -> ox.Literal | None:
    """Virtuoso's ``POINT(x y)`` as the ``"Point(x y)"^^geo:wktLiteral`` Bigtent writes
    (numbers in the canonical form of :func:`decimal_text`: Virtuoso writes ``1e-09``)."""
    found = _VIRTUOSO_POINT.match(text)
    if found is None:
        return None
    try:
        x, y = decimal_text(found.group(1)), decimal_text(found.group(2))
    except ValueError:
        return None
    return ox.Literal(f"Point({x} {y})", datatype=WKT_LITERAL)


def as_written(triple: ox.Triple) -> ox.Triple:
    """``triple`` with an engine's rewritten object (Virtuoso's geometries) read back as
    the catalogue wrote it, so internal reads, the public endpoint and ``bigtent verify``
    see ``geo:wktLiteral`` points on every backend."""
    obj = triple.object
    if isinstance(obj, ox.Literal) and obj.datatype.value == VIRTUOSO_GEOMETRY:
        point = _wkt_point(obj.value)
        if point is not None:
            return ox.Triple(triple.subject, triple.predicate, point)
    return triple


_FLOATS = ("http://www.w3.org/2001/XMLSchema#double", "http://www.w3.org/2001/XMLSchema#float")
_FLOAT_LEXICAL = (
    "BIND(IF(isLiteral(?o) && DATATYPE(?o) IN ("
    + ", ".join(f"<{iri}>" for iri in _FLOATS)
    + '), STR(?o), "") AS ?lexical)'
)


def _full_float(term: Term, lexical: Term | None) -> Term:
    """A floating-point literal with the full lexical form ``STR()`` gave."""
    if (
        isinstance(term, ox.Literal)
        and term.datatype.value in _FLOATS
        and isinstance(lexical, ox.Literal)
        and lexical.value
    ):
        return ox.Literal(lexical.value, datatype=term.datatype)
    return term


def _replacement(graphs: Mapping[ox.NamedNode, bytes]) -> str:
    """One SPARQL Update that drops ``graphs`` and inserts their N-Triples.

    The N-Triples were serialised by Bigtent from parsed terms, which is valid SPARQL
    syntax (serialisation, not user text formatted into a query). ``INSERT {…} WHERE {}``
    rather than INSERT DATA: Virtuoso refuses blank nodes in INSERT DATA.
    """
    parts = [f"DROP SILENT GRAPH {g}" for g in graphs]
    blocks = [f"GRAPH {g} {{\n{data.decode()}}}" for g, data in graphs.items() if data]
    if blocks:
        parts.append("INSERT {\n" + "\n".join(blocks) + "\n} WHERE {}")
    return " ;\n".join(parts)


def _auth(settings: Settings) -> AuthBase | None:
    user = str(settings.STORE_USER)
    if not user:
        return None
    password = str(settings.STORE_PASSWORD)
    kind = str(settings.STORE_AUTH).lower()
    if kind == "digest":
        return HTTPDigestAuth(user, password)
    if kind == "basic":
        return HTTPBasicAuth(user, password)
    raise ConfigError(f"STORE_AUTH must be 'digest' or 'basic', got {kind!r}")


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Remote end closed", "timed out"):
        if marker in text:
            return marker.lower()
    return text[:200]


def _deadlock(response: requests.Response) -> bool:
    """Virtuoso answers a transaction deadlock (SQL state 40001) with 500; retry it."""
    return response.status_code == 500 and "40001" in response.text[:2000]
