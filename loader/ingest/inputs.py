"""Opening inputs: files, directories, stdin and gzip; choosing the RDF format; and the
caps every reading of an untrusted input enforces (:class:`InputLimits`).

:meth:`Source.read` hands the parser a stream that checks the bytes before the parser
sees them: the decompressed size of gzipped files (MAX_DECOMPRESSED_BYTES); for RDF/XML,
no DTD or entity declarations (entity expansion turns a 1 KB file into gigabytes), the
element depth (MAX_NESTING_DEPTH) and the length of texts and attribute values
(MAX_LITERAL_BYTES); for JSON-LD, the depth of arrays and objects and the length of
strings. Deep nesting costs the RDF/XML and JSON-LD parsers time and memory that grow
faster than the input (a few thousand levels of JSON-LD objects take gigabytes, then
overflow the stack), so it is refused before them.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

import pyoxigraph as ox

from loader.base.errors import BigtentError, SourceError
from loader.base.rdf import BY_NAME, SYNTAXES
from loader.base.settings import Settings

#: File extensions and ``--format`` values, from the one table of syntaxes.
FORMATS: dict[str, ox.RdfFormat] = {name: s.rdf_format for name, s in BY_NAME.items()}
#: Formats with one triple or quad per line, where line numbers are exact.
LINE_FORMATS = tuple(s.rdf_format for s in SYNTAXES if s.line_based)

SUPPORTED = (
    ", ".join(f"{s.label} (.{s.extension})" for s in SYNTAXES) + ", each optionally gzipped (.gz)"
)


class InputError(BigtentError):
    """An input cannot be read: missing, unsupported, or not valid RDF."""


@dataclass(frozen=True)
class InputLimits:
    """The caps on reading one input (the settings of the same names)."""

    max_literal_bytes: int
    max_decompressed_bytes: int
    max_nesting_depth: int
    max_record_triples: int
    max_buffered_triples: int

    @classmethod
    def from_settings(cls, settings: Settings) -> InputLimits:
        """The caps as configured."""
        return cls(
            max_literal_bytes=int(settings.MAX_LITERAL_BYTES),
            max_decompressed_bytes=int(settings.MAX_DECOMPRESSED_BYTES),
            max_nesting_depth=int(settings.MAX_NESTING_DEPTH),
            max_record_triples=int(settings.MAX_RECORD_TRIPLES),
            max_buffered_triples=max(int(settings.MAX_BUFFERED_TRIPLES), 1),
        )

    def literal_too_long(self, source: str, line: int | None = None) -> SourceError:
        """The error for a literal (or line, text, string) over MAX_LITERAL_BYTES."""
        return SourceError(
            source,
            f"a literal is longer than MAX_LITERAL_BYTES ({self.max_literal_bytes:,} bytes); "
            "shorten it or raise BIGTENT_MAX_LITERAL_BYTES (at most 16 MiB)",
            line,
        )


@dataclass(frozen=True)
class Source:
    """One input file, ready to be read (any number of times)."""

    name: str  # as shown to the user
    path: Path  # a real file (stdin is spooled to a temporary file)
    format: ox.RdfFormat
    gzipped: bool

    def open(self) -> BinaryIO:
        """A fresh binary stream over the (decompressed) content, unchecked: for
        trusted reads only (sniffing, finding a line for a report); parsers get
        :meth:`read`."""
        if self.gzipped:
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return self.path.open("rb")

    def read(self, limits: InputLimits) -> BinaryIO:
        """A fresh stream over the (decompressed) content that enforces ``limits`` on
        every byte before the reader gets it (see the module docstring); it raises
        :class:`SourceError` on the first breach."""
        guard: _Guard | None = None
        if self.format == ox.RdfFormat.RDF_XML:
            guard = _XmlGuard(self.name, limits)
        elif self.format == ox.RdfFormat.JSON_LD:
            guard = _JsonGuard(self.name, limits)
        cap = limits.max_decompressed_bytes if self.gzipped else None
        raw = _GuardedStream(self.open(), self.name, cap, guard)
        return io.BufferedReader(raw, 1 << 16)

    @property
    def line_based(self) -> bool:
        """True for N-Triples and N-Quads."""
        return self.format in LINE_FORMATS


class _Guard:
    """Checks a format's structure as its bytes stream past."""

    def feed(self, chunk: bytes) -> None:
        """Check the next bytes; raise SourceError on a breach."""

    def close(self) -> None:
        """The input ended."""


class _GuardedStream(io.RawIOBase):
    """A raw stream that counts what it reads (against ``cap``) and shows every chunk to
    ``guard`` before handing it on."""

    def __init__(self, inner: BinaryIO, name: str, cap: int | None, guard: _Guard | None):
        super().__init__()
        self._inner, self._name, self._cap, self._guard = inner, name, cap, guard
        self._total = 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            chunk = self._inner.read(len(buffer))
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise SourceError(self._name, f"cannot be read: {exc}") from None
        self._total += len(chunk)
        if self._cap is not None and self._total > self._cap:
            raise SourceError(
                self._name,
                f"decompresses to more than MAX_DECOMPRESSED_BYTES ({self._cap:,} bytes); "
                "split it or raise BIGTENT_MAX_DECOMPRESSED_BYTES",
            )
        if self._guard is not None:
            if chunk:
                self._guard.feed(chunk)
            elif not self._ended:
                self._ended = True
                self._guard.close()
        memoryview(buffer)[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


#: What only a DTD holds; XML names are case-sensitive, but the RDF/XML parser accepts
#: a lower-case ``<!doctype``, so these are looked for in any case.
_DTD_MARKERS = (b"<!doctype", b"<!entity")


class _XmlGuard(_Guard):
    """RDF/XML: no DTD (so no entities to expand), bounded depth and text lengths. The
    bytes are read as UTF-8 whatever the XML declaration says, as the RDF/XML parser
    reads them."""

    def __init__(self, name: str, limits: InputLimits) -> None:
        self.name, self.limits = name, limits
        self.depth = 0
        self.text = 0  # characters of text since the last tag
        self.tail = b""
        self.fed = 0  # bytes given to the parser
        self.lines = 0  # newlines given to it
        self.mark = 0  # where its latest event began
        self.parser = expat.ParserCreate(encoding="UTF-8")
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._entity
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._characters
        self.parser.CommentHandler = self._other
        self.parser.ProcessingInstructionHandler = self._other

    def _refuse_dtd(self, line: int | None = None) -> SourceError:
        return SourceError(
            self.name,
            "RDF/XML with a DTD (<!DOCTYPE …>) or entity declarations (<!ENTITY …>) is not "
            "accepted: entities can expand a small file into gigabytes. Write the entities "
            "out (full IRIs and texts) and remove the DOCTYPE.",
            line or self.parser.CurrentLineNumber,
        )

    def _doctype(self, *_: object) -> None:
        raise self._refuse_dtd()

    def _entity(self, *_: object) -> None:
        raise self._refuse_dtd()

    def _other(self, *_: object) -> None:
        self.mark = self.parser.CurrentByteIndex

    def _start(self, _name: str, attributes: dict[str, str]) -> None:
        self.mark = self.parser.CurrentByteIndex
        self.depth += 1
        self.text = 0
        if self.depth > self.limits.max_nesting_depth:
            raise SourceError(
                self.name,
                f"elements are nested deeper than MAX_NESTING_DEPTH "
                f"({self.limits.max_nesting_depth}); flatten the document (describe nodes "
                "at the top level and refer to them with rdf:resource or rdf:nodeID) or "
                "raise BIGTENT_MAX_NESTING_DEPTH",
                self.parser.CurrentLineNumber,
            )
        cap = self.limits.max_literal_bytes
        if any(len(value) > cap for value in attributes.values()):
            raise self.limits.literal_too_long(self.name, self.parser.CurrentLineNumber)

    def _end(self, _name: str) -> None:
        self.mark = self.parser.CurrentByteIndex
        self.depth -= 1
        self.text = 0

    def _characters(self, data: str) -> None:
        self.mark = self.parser.CurrentByteIndex
        self.text += len(data)
        if self.text > self.limits.max_literal_bytes:
            raise self.limits.literal_too_long(self.name, self.parser.CurrentLineNumber)

    def feed(self, chunk: bytes) -> None:
        lowered = (self.tail + chunk).lower()
        found = [at for at in (lowered.find(m) for m in _DTD_MARKERS) if at >= 0]
        if found:
            before = lowered[: min(found)].count(b"\n") - self.tail.count(b"\n")
            raise self._refuse_dtd(self.lines + before + 1)
        self.tail = chunk[-16:]
        self.lines += chunk.count(b"\n")
        self.fed += len(chunk)
        self._parse(chunk, final=False)
        # A tag, comment or text the parser is still waiting to see the end of: bounded too.
        if self.fed - self.mark > self.limits.max_literal_bytes + (1 << 16):
            raise self.limits.literal_too_long(self.name, self.parser.CurrentLineNumber)

    def close(self) -> None:
        self._parse(b"", final=True)

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise SourceError(
                self.name,
                f"not well-formed XML: {expat.ErrorString(exc.code)}",
                exc.lineno,
                exc.offset,
            ) from None


_JSON_STRUCTURE = re.compile(rb'["\[\]{}]')
#: The rest of a JSON string up to its closing quote (or the end of the chunk).
_JSON_STRING_BODY = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)


class _JsonGuard(_Guard):
    """JSON-LD: bounded depth of arrays and objects, bounded string lengths."""

    def __init__(self, name: str, limits: InputLimits) -> None:
        self.name, self.limits = name, limits
        self.depth = 0
        self.in_string = False
        self.escape = False  # the chunk ended on a backslash inside a string
        self.length = 0  # bytes of the current string so far

    def feed(self, chunk: bytes) -> None:
        pos, end = 0, len(chunk)
        cap = self.limits.max_literal_bytes
        while pos < end:
            if self.in_string:
                if self.escape:
                    self.escape = False
                    pos += 1
                body = _JSON_STRING_BODY.match(chunk, pos)
                stop = body.end() if body else pos
                self.length += stop - pos
                if self.length > cap:
                    raise self.limits.literal_too_long(self.name)
                if stop >= end:
                    return
                if chunk[stop] == 0x22:  # the closing quote
                    self.in_string = False
                else:  # a backslash ending the chunk: its escaped byte comes next
                    self.escape = True
                pos = stop + 1
                continue
            found = _JSON_STRUCTURE.search(chunk, pos)
            if found is None:
                return
            pos = found.end()
            byte = chunk[found.start()]
            if byte == 0x22:
                self.in_string, self.length = True, 0
            elif byte in (0x5B, 0x7B):  # [ {
                self.depth += 1
                if self.depth > self.limits.max_nesting_depth:
                    raise SourceError(
                        self.name,
                        "arrays and objects are nested deeper than MAX_NESTING_DEPTH "
                        f"({self.limits.max_nesting_depth}); flatten the document (nodes at "
                        "the top level of @graph, referred to by @id) or raise "
                        "BIGTENT_MAX_NESTING_DEPTH",
                    )
            else:
                self.depth -= 1


def format_from_name(name: str) -> tuple[ox.RdfFormat | None, bool]:
    """(format, gzipped) from a file name; format None when unknown."""
    lower = name.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    suffix = lower.rsplit(".", 1)[-1] if "." in lower else ""
    return FORMATS.get(suffix), gz


def parse_format_option(value: str | None) -> ox.RdfFormat | None:
    """The ``--format`` option's value as an RdfFormat."""
    if value is None:
        return None
    try:
        return FORMATS[value.lower()]
    except KeyError:
        raise InputError(
            f"unsupported --format {value!r}; use one of: {', '.join(sorted(FORMATS))}",
            title="Unsupported format",
        ) from None


def _sniff(head: bytes) -> ox.RdfFormat | None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"{", b"[")):
        return ox.RdfFormat.JSON_LD
    if text.startswith(b"<?xml") or b"<rdf:RDF" in text[:2000]:
        return ox.RdfFormat.RDF_XML
    if text.startswith((b"@prefix", b"@base", b"PREFIX", b"prefix", b"BASE")):
        return ox.RdfFormat.TURTLE
    first = text.split(b"\n", 1)[0].strip()
    if first.startswith((b"<", b"_:")) and first.endswith(b"."):
        parts = first.split()
        return ox.RdfFormat.N_QUADS if len(parts) >= 5 else ox.RdfFormat.N_TRIPLES
    return None


def expand(
    paths: list[str], forced: ox.RdfFormat | None, spool_dir: Path
) -> Iterator[Source | SourceError]:
    """Sources for command-line arguments (files, directories recursively, '-'), or the
    error that makes one unreadable."""
    for arg in paths:
        try:
            yield from _expand_one(arg, forced, spool_dir)
        except SourceError as exc:
            yield exc


def _expand_one(arg: str, forced: ox.RdfFormat | None, spool_dir: Path) -> Iterator[Source]:
    if arg == "-":
        yield _stdin_source(forced, spool_dir)
        return
    path = Path(arg)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        readable = [p for p in files if format_from_name(p.name)[0] is not None]
        if not readable:
            raise SourceError(arg, f"the directory holds no RDF files; Bigtent reads {SUPPORTED}")
        for p in readable:
            yield _file_source(p, forced)
        return
    if not path.exists():
        raise SourceError(arg, "no such file or directory")
    yield _file_source(path, forced)


def _file_source(path: Path, forced: ox.RdfFormat | None) -> Source:
    fmt, gz = format_from_name(path.name)
    if forced is not None:
        fmt = forced
    if fmt is None:
        with gzip.open(path, "rb") if gz else path.open("rb") as fh:
            fmt = _sniff(fh.read(4096))
    if fmt is None:
        raise SourceError(
            str(path),
            f"unsupported format (unknown extension '{path.suffix}'). Bigtent reads "
            f"{SUPPORTED}; rename the file or pass --format.",
        )
    return Source(str(path), path, fmt, gz)


def _stdin_source(forced: ox.RdfFormat | None, spool_dir: Path) -> Source:
    spool = Path(tempfile.mkstemp(prefix="stdin-", dir=spool_dir)[1])
    with spool.open("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    with spool.open("rb") as fh:
        head = fh.read(4096)
    gz = head.startswith(b"\x1f\x8b")
    if gz:
        with gzip.open(spool, "rb") as fh:
            head = fh.read(4096)
    fmt = forced or _sniff(head)
    if fmt is None:
        raise SourceError(
            "<stdin>",
            "cannot tell the RDF format; pass --format (ttl, nt, nq, trig, jsonld, rdf)",
        )
    return Source("<stdin>", spool, fmt, gz)
