"""Result formats of the SPARQL endpoint, and their serialisers.

SELECT and ASK results are serialised here (SPARQL 1.1 JSON, XML, CSV, TSV) rather than
by pyoxigraph, because the endpoint cuts results at a row cap and fills label variables
first; CONSTRUCT and DESCRIBE triples go through pyoxigraph's RDF serialisers.

Every serialiser of a whole result takes a byte cap (SPARQL_MAX_RESULT_BYTES): a result
that would be bigger is cut at the last whole row (or triple) that fits, and says so, as
results cut at the row cap do. CSV and TSV cells are made safe for spreadsheets
(:func:`loader.base.spreadsheets.neutralise`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from loader.base.rdf import syntaxes
from loader.base.spreadsheets import neutralise

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
SOLUTIONS, GRAPH = "solutions", "graph"


@dataclass(frozen=True)
class ResultFormat:
    """One result format: its ``?format=`` name, media type and the query forms it serves."""

    name: str
    media_type: str
    kind: str  # SOLUTIONS (SELECT, ASK) or GRAPH (CONSTRUCT, DESCRIBE)
    label: str
    aliases: tuple[str, ...] = ()  # other media types meaning this format
    names: tuple[str, ...] = ()  # other ?format= values meaning this format

    @property
    def content_type(self) -> str:
        """The Content-Type header (text types say their charset)."""
        if self.media_type.startswith("text/"):
            return self.media_type + "; charset=utf-8"
        return self.media_type


#: The RDF syntaxes CONSTRUCT and DESCRIBE answer in, preferred first.
GRAPH_SYNTAXES = ("ttl", "nt", "jsonld", "rdf")
FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat(
        "json",
        "application/sparql-results+json",
        SOLUTIONS,
        "SPARQL JSON",
        ("application/json",),
        ("srj",),
    ),
    ResultFormat(
        "xml",
        "application/sparql-results+xml",
        SOLUTIONS,
        "SPARQL XML",
        ("application/xml", "text/xml"),
        ("srx",),
    ),
    ResultFormat("csv", "text/csv", SOLUTIONS, "CSV"),
    # text/plain: TSV, SPARQL's plain-text results (as N-Triples, once text/plain, is
    # the plain-text answer to CONSTRUCT and DESCRIBE).
    ResultFormat("tsv", "text/tab-separated-values", SOLUTIONS, "TSV", ("text/plain",)),
    # CONSTRUCT and DESCRIBE results, from the one table of RDF syntaxes. As ?format=
    # values, "json" and "xml" name the JSON and XML format of either form.
    *(
        ResultFormat(
            s.extension,
            s.media_type,
            GRAPH,
            s.label,
            s.media_aliases + (("application/json",) if s.extension == "jsonld" else ()),
            s.names + (("json",) if s.extension == "jsonld" else ()),
        )
        for s in syntaxes(*GRAPH_SYNTAXES)
    ),
)
BY_NAME = {f.name: f for f in FORMATS}
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
_RDF_FORMATS = {s.extension: s.rdf_format for s in syntaxes(*GRAPH_SYNTAXES)}


def formats_named(name: str) -> dict[str, ResultFormat]:
    """The formats a ``?format=`` value (a name, another usual name, or a media type)
    stands for, by kind; empty when it names none."""
    key = name.strip().lower()
    found: dict[str, ResultFormat] = {}
    for f in FORMATS:
        if key in (f.name, f.media_type, *f.names, *f.aliases) and f.kind not in found:
            found[f.kind] = f
    return found


def offered(kind: str) -> list[str]:
    """Media types offered for one kind of result, preferred first, then aliases."""
    mine = [f for f in FORMATS if f.kind == kind]
    return [f.media_type for f in mine] + [a for f in mine for a in f.aliases]


def for_media_type(kind: str, media_type: str) -> ResultFormat:
    """The format of ``kind`` that a negotiated media type (or alias) stands for."""
    for f in FORMATS:
        if f.kind == kind and (media_type == f.media_type or media_type in f.aliases):
            return f
    raise KeyError(media_type)


def format_names(kind: str | None = None) -> str:
    """``json, xml, …`` for error messages."""
    return ", ".join(f.name for f in FORMATS if kind is None or f.kind == kind)


# --- SELECT and ASK -----------------------------------------------------------------------
Row = Sequence[Any]  # terms (or None) in variable order


@dataclass(frozen=True)
class Serialised:
    """A serialised result: its bytes, how many rows (or triples) it holds, and whether
    the byte cap cut it short."""

    body: bytes
    rows: int
    cut: bool


def serialise_solutions(
    fmt: ResultFormat,
    variables: Sequence[str],
    rows: Sequence[Row],
    note: dict[str, Any] | None,
    max_bytes: int = 0,
) -> Serialised:
    """SELECT results in ``fmt``, at most ``max_bytes`` long (0: no cap); ``note`` is added
    to JSON results as a top-level ``bigtent`` member (only when results were cut; a cut
    at the byte cap adds ``maxBytes`` to it)."""
    if fmt.name == "json":
        return _json(variables, rows, note, max_bytes)
    if fmt.name == "xml":
        return _xml(variables, rows, max_bytes)
    if fmt.name == "csv":
        return _csv(variables, rows, max_bytes)
    if fmt.name == "tsv":
        return _tsv(variables, rows, max_bytes)
    raise ValueError(fmt.name)


def _assemble(
    head: Callable[[bool], str],
    fragments: Iterable[str],
    separator: str,
    tail: str,
    max_bytes: int,
) -> Serialised:
    """``head(cut)``, the fragments joined by ``separator``, then ``tail``: as many
    fragments as fit in ``max_bytes`` (0: all). The fragments are made one at a time, so
    a cut result is never built whole."""
    sep = separator.encode()
    end = tail.encode()
    room = max_bytes - len(head(True).encode()) - len(end) if max_bytes else None
    parts: list[bytes] = []
    used = 0
    cut = False
    for fragment in fragments:
        data = fragment.encode()
        cost = len(data) + (len(sep) if parts else 0)
        if room is not None and used + cost > room:
            cut = True
            break
        parts.append(data)
        used += cost
    return Serialised(head(cut).encode() + sep.join(parts) + end, len(parts), cut)


def serialise_boolean(fmt: ResultFormat, value: bool) -> bytes:
    """ASK results in ``fmt``. SPARQL 1.1 defines no CSV or TSV form of a boolean; these
    follow Apache Jena (``RowSetWriterCSV``: ``_askResult`` then the word, CRLF;
    ``RowSetWriterTSV``: ``?_askResult`` then the word, LF), which WDQS-style clients
    and Jena's own readers parse."""
    word = "true" if value else "false"
    if fmt.name == "json":
        return b'{"head":{},"boolean":' + word.encode() + b"}"
    if fmt.name == "xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{word}</boolean></sparql>\n"
        ).encode()
    if fmt.name == "csv":
        return f"_askResult\r\n{word}\r\n".encode()
    return f"?_askResult\n{word}\n".encode()


def serialise_triples(
    fmt: ResultFormat, triples: Sequence[ox.Triple], prefixes: dict[str, str]
) -> bytes:
    """CONSTRUCT/DESCRIBE results in ``fmt``."""
    rdf_format = _RDF_FORMATS[fmt.name]
    if rdf_format == ox.RdfFormat.N_TRIPLES:
        return ox.serialize(triples, format=rdf_format) or b""
    return ox.serialize(triples, format=rdf_format, prefixes=prefixes) or b""


def serialise_triples_capped(
    fmt: ResultFormat, triples: Sequence[ox.Triple], prefixes: dict[str, str], max_bytes: int
) -> Serialised:
    """:func:`serialise_triples`, cut to the triples that fit in ``max_bytes`` (0: all).
    The caller collected at most about ``max_bytes`` of terms, so each retry serialises
    less than that again."""
    count = len(triples)
    body = serialise_triples(fmt, triples, prefixes)
    while max_bytes and len(body) > max_bytes and count:
        count = min(count - 1, int(count * max_bytes / len(body) * 0.95))
        body = serialise_triples(fmt, triples[:count], prefixes)
    return Serialised(body, count, count < len(triples))


def term_size(term: Any) -> int:
    """Characters of a term's text: a lower bound of what it takes in any result format
    (used to stop collecting a result that cannot fit the byte cap anyway)."""
    if term is None:
        return 0
    if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        return len(term.value)
    return len(str(term))


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(type(term))


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(
    variables: Sequence[str], rows: Sequence[Row], note: dict[str, Any] | None, max_bytes: int
) -> Serialised:
    # Built as text, one cached '"name":{...}' fragment per distinct term and column:
    # several times faster than json.dumps over nested dicts.
    names = [_ENCODE(v) + ":" for v in variables]
    caches: list[dict[Any, str]] = [{} for _ in variables]

    def fragments() -> Iterable[str]:
        for row in rows:
            cells = []
            for name, cache, term in zip(names, caches, row, strict=True):
                if term is None:
                    continue
                text = cache.get(term)
                if text is None:
                    text = cache[term] = name + _ENCODE(_json_term(term))
                cells.append(text)
            yield "{" + ",".join(cells) + "}"

    def head(cut: bool) -> str:
        text = '{"head":{"vars":[' + ",".join(_ENCODE(v) for v in variables) + "]}"
        said = {**(note or {}), "truncated": True, "maxBytes": max_bytes} if cut else note
        # The note goes before "results": streaming parsers (pyoxigraph's) stop reading there.
        if said:
            text += ',"bigtent":' + _ENCODE(said)
        return text + ',"results":{"bindings":['

    return _assemble(head, fragments(), ",", "]}}", max_bytes)


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            attr = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attr = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attr = ""
        return f"<literal{attr}>{escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject>"
            f"<predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(type(term))


def _xml(variables: Sequence[str], rows: Sequence[Row], max_bytes: int) -> Serialised:
    names = [quoteattr(v) for v in variables]
    head = (
        '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
        + "".join(f"<variable name={n}/>" for n in names)
        + "</head><results>"
    )
    cache: dict[Any, str] = {}

    def fragments() -> Iterable[str]:
        for row in rows:
            parts = ["<result>"]
            for name, term in zip(names, row, strict=True):
                if term is None:
                    continue
                text = cache.get(term)
                if text is None:
                    text = cache[term] = _xml_term(term)
                parts.append(f"<binding name={name}>{text}</binding>")
            parts.append("</result>")
            yield "".join(parts)

    return _assemble(lambda cut: head, fragments(), "", "</results></sparql>\n", max_bytes)


_CSV_QUOTED = frozenset(',;"\t\r\n')  # ';' and tab: spreadsheets split on them in some locales


def _csv_field(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = "_:" + term.value
    elif isinstance(term, ox.NamedNode | ox.Literal):
        text = term.value
    else:
        text = str(term)
    text = neutralise(text)
    if not _CSV_QUOTED.isdisjoint(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv(variables: Sequence[str], rows: Sequence[Row], max_bytes: int) -> Serialised:
    head = ",".join(variables) + "\r\n"
    lines = (",".join(_csv_field(term) for term in row) + "\r\n" for row in rows)
    return _assemble(lambda cut: head, lines, "", "", max_bytes)


def _tsv_field(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        if (
            term.datatype.value == XSD_INTEGER
            and term.value.lstrip("+-").isdigit()
            and term.value.isascii()
        ):
            return term.value
        safe = neutralise(term.value)
        if safe != term.value:  # the cell opens with a quote mark, but spreadsheets drop it
            term = (
                ox.Literal(safe, language=term.language)
                if term.language
                else ox.Literal(safe, datatype=term.datatype)
            )
    return str(term)  # N-Triples syntax; tabs and newlines inside literals come escaped


def _tsv(variables: Sequence[str], rows: Sequence[Row], max_bytes: int) -> Serialised:
    head = "\t".join("?" + v for v in variables) + "\n"
    lines = ("\t".join(_tsv_field(term) for term in row) + "\n" for row in rows)
    return _assemble(lambda cut: head, lines, "", "", max_bytes)
