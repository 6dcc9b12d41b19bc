"""Opening inputs: files, directories, stdin and gzip; choosing the RDF format."""

from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from loader.base.errors import BigtentError, SourceError
from loader.base.rdf import BY_NAME, SYNTAXES

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
class Source:
    """One input file, ready to be read (any number of times)."""

    name: str  # as shown to the user
    path: Path  # a real file (stdin is spooled to a temporary file)
    format: ox.RdfFormat
    gzipped: bool

    def open(self) -> BinaryIO:
        """A fresh binary stream over the (decompressed) content."""
        if self.gzipped:
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return self.path.open("rb")

    @property
    def line_based(self) -> bool:
        """True for N-Triples and N-Quads."""
        return self.format in LINE_FORMATS


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
