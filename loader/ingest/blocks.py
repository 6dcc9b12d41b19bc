"""Blocks of whole records in a line-based input (N-Triples, N-Quads), so load workers
can parse, group, normalise and validate them side by side.

:func:`record_blocks` cuts the byte stream into blocks of about ``target`` bytes, each
ending just before a line whose subject is an entity IRI (``<…/entity/Q…>``) other than
the previous line's subject: a guess at a record boundary, made on bytes without
parsing. The cut depends on the bytes only, so the scan (pass 1) and the load (pass 2)
see the same blocks.

The scan checks the guess with :class:`BlockCheck`, on every quad it reads: the blocks
are *independent* when no record has triples in two blocks, no blank node or other
node owned through links (a statement without its entity in its IRI, a sitelink) is
mentioned in two blocks, and every value or reference node a block links to is
described in that block (value and reference nodes are named by the hash of their
content, as Wikibase names them, so copies in several blocks are one node). Only then
does the load hand blocks to the workers; otherwise the main process groups the input
as before. Either way the records are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyoxigraph as ox

from loader.base.namespaces import Namespaces
from loader.ingest.inputs import InputLimits

#: Size a block is cut at (the next record boundary after it ends the block).
TARGET_BLOCK_BYTES = 2 << 20
#: A block that finds no record boundary within this many bytes is not cut further, and
#: makes the input's blocks dependent (the main process groups it).
MAX_BLOCK_BYTES = 64 << 20
_READ = 1 << 20


@dataclass(frozen=True)
class BlockSource:
    """What the grouping of a block knows of its input (a picklable stand-in for the
    input itself: formats are not picklable)."""

    name: str
    line_based: bool = True


@dataclass(frozen=True)
class Block:
    """Whole lines of an input: ``first_line`` is the number of the first (1-based)."""

    index: int
    data: bytes
    first_line: int
    #: False when no record boundary was found within MAX_BLOCK_BYTES.
    cut_at_boundary: bool = True


def record_blocks(
    stream: BinaryIO,
    ns: Namespaces,
    limits: InputLimits,
    source_name: str,
    target: int | None = None,
) -> Iterator[Block]:
    """The blocks of ``stream`` (about ``target`` bytes each, TARGET_BLOCK_BYTES unless
    given); a line longer than MAX_LITERAL_BYTES and some room for its IRIs is refused
    (SourceError) as when the input is parsed whole."""
    target = target or TARGET_BLOCK_BYTES
    longest = limits.max_literal_bytes + (1 << 16)
    marker = b"\n<" + ns["wd"].encode()
    buffer = b""
    first_line = 1
    index = 0
    while True:
        data = stream.read(_READ)
        if not data:
            if buffer:
                yield Block(index, buffer if buffer.endswith(b"\n") else buffer + b"\n", first_line)
            return
        buffer += data
        whole = buffer.rfind(b"\n") + 1
        if len(buffer) - whole > longest:
            raise limits.literal_too_long(source_name, first_line + buffer.count(b"\n"))
        while len(buffer) >= target:
            cut = _boundary(buffer, marker, target, whole)
            at_boundary = cut > 0
            if not at_boundary:
                if len(buffer) < MAX_BLOCK_BYTES or whole == 0:
                    break  # read on: the boundary (or the line's end) comes later
                cut = whole
            yield Block(index, buffer[:cut], first_line, at_boundary)
            first_line += buffer.count(b"\n", 0, cut)
            index += 1
            buffer, whole = buffer[cut:], whole - cut


def _boundary(data: bytes, marker: bytes, target: int, whole: int) -> int:
    """Start of the first line after ``target`` that starts a new entity, else of the
    last one before it; 0 when there is none. Complete lines end before ``whole``."""
    position = data.find(marker, max(target - 1, 0), whole)
    while position >= 0:
        if _starts_record(data, position, marker):
            return position + 1
        position = data.find(marker, position + 1, whole)
    position = data.rfind(marker, 0, min(target, whole))
    while position > 0:
        if _starts_record(data, position, marker):
            return position + 1
        position = data.rfind(marker, 0, position)
    return 0


def _starts_record(data: bytes, newline: int, marker: bytes) -> bool:
    """The line after ``newline`` starts with an entity IRI that is not the previous
    line's subject."""
    after = newline + len(marker)
    if data[after : after + 1] not in (b"Q", b"P"):
        return False
    previous = data.rfind(b"\n", 0, newline) + 1
    return _first_token(data, newline + 1) != _first_token(data, previous)


def _first_token(data: bytes, start: int) -> bytes:
    """The subject of the line at ``start`` (an IRI, a blank node, or a comment's start)."""
    if data[start : start + 1] == b"<":
        return data[start : data.find(b">", start) + 1]
    end = start
    while end < len(data) and data[end] not in b" \t\n":
        end += 1
    return data[start:end]


class BlockCheck:
    """Whether the blocks of an input hold whole records (see the module docstring);
    fed every quad of the scan with its block's index."""

    def __init__(self, ns: Namespaces, owner_of: Callable[[str], str | None]) -> None:
        """``owner_of``: the entity an IRI belongs to by its form alone, or None."""
        self.ns = ns
        self._owner_of = owner_of
        self._wds = ns["wds"]
        self.why_not: str | None = None
        self._records: dict[str, int] = {}
        self._floating: dict[str, int] = {}
        self._shared = (ns["wdref"], ns["wdv"])
        self._block = -1
        self._described: set[str] = set()
        self._linked: set[str] = set()

    @property
    def independent(self) -> bool:
        """True when the workers may take the blocks one by one."""
        return self.why_not is None

    def start(self, block: Block) -> None:
        """The quads that follow are of ``block``."""
        self._end_block()
        self._block = block.index
        if not block.cut_at_boundary:
            self.why_not = f"no record boundary within {MAX_BLOCK_BYTES:,} bytes"

    def finish(self) -> None:
        """After the last quad."""
        self._end_block()

    def see(self, quad: ox.Quad) -> None:
        """One quad of the current block."""
        if self.why_not is not None:
            return
        subject, obj, graph = quad.subject, quad.object, quad.graph_name
        owner = self._owner_of(subject.value) if isinstance(subject, ox.NamedNode) else None
        if isinstance(graph, ox.NamedNode):
            graph_owner = self.ns.data_document_entity(graph.value)
            if graph_owner is not None:
                self._record(graph_owner)
        if isinstance(subject, ox.NamedNode) and subject.value.startswith(self._shared):
            self._described.add(subject.value)
        elif owner is not None:
            self._record(owner)
        elif isinstance(subject, ox.NamedNode | ox.BlankNode):
            self._float(_key(subject))
        else:
            self.why_not = "RDF-star triples"
        if isinstance(obj, ox.BlankNode) or (
            isinstance(obj, ox.NamedNode)
            and obj.value.startswith(self._wds)
            and self._owner_of(obj.value) is None
        ):
            self._float(_key(obj))
        elif isinstance(obj, ox.NamedNode) and obj.value.startswith(self._shared):
            self._linked.add(obj.value)

    def _record(self, entity: str) -> None:
        block = self._records.setdefault(entity, self._block)
        if block != self._block:
            self.why_not = f"the triples of {entity} are in more than one block"

    def _float(self, key: str) -> None:
        block = self._floating.setdefault(key, self._block)
        if block != self._block:
            self.why_not = f"{key} is mentioned in more than one block"

    def _end_block(self) -> None:
        missing = self._linked - self._described
        if missing and self.why_not is None:
            self.why_not = f"<{min(missing)}> is linked to in a block that does not describe it"
        self._described, self._linked = set(), set()


def _key(node: ox.NamedNode | ox.BlankNode) -> str:
    return f"_:{node.value}" if isinstance(node, ox.BlankNode) else f"<{node.value}>"
