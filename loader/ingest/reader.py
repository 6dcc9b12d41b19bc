"""Reading inputs into records: one record per entity with everything hanging off it.

Two passes over each source. :func:`scan` checks the syntax of the whole input,
counts entities and collects what validation needs to know about entities the
input defines (their "instance of" values), so records may reference entities
defined later in the same file. :class:`Grouper` then streams the triples and
attributes each to its entity, handing out complete records in bounded memory.

Both passes read through :meth:`Source.read <loader.ingest.inputs.Source.read>` and
enforce :class:`~loader.ingest.inputs.InputLimits` as they go: literals and lines within
MAX_LITERAL_BYTES, and a record's triples within MAX_RECORD_TRIPLES while it is grouped
(a record over it is kept as a count only, and rejected).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

import pyoxigraph as ox

from loader.base.errors import SourceError
from loader.base.namespaces import SCHEMA, WIKIBASE, Namespaces
from loader.base.rdf import Node, Term, Triple
from loader.ingest.blocks import BlockCheck, BlockSource, record_blocks
from loader.ingest.inputs import InputLimits, Source
from loader.records.context import INDEXED_PROPERTIES
from loader.records.source import SourceRecord

# Entity numbers have at most 16 digits, as everywhere (loader.base.namespaces.ENTITY_ID).
_STATEMENT_OWNER = re.compile(r"^([QPqp][1-9][0-9]{0,15})-")
_FOREIGN_PROP = re.compile(
    r"^(.*/)prop/(?:direct/|statement/|qualifier/|reference/|novalue/)?P[1-9][0-9]{0,15}$"
)
_ID = re.compile(r"^[QP][1-9][0-9]{0,15}$")
_FOREIGN_ENTITY = re.compile(r"^(.*/)[QP][1-9][0-9]{0,15}$")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_LINE_CHUNK = 20000
SCHEMA_ABOUT = SCHEMA + "about"
DUMP_NODE = WIKIBASE + "Dump"
WIKI_GROUP = WIKIBASE + "wikiGroup"


# --- parsing with positions ----------------------------------------------------------


def _syntax_error(name: str, exc: SyntaxError, line_offset: int = 0) -> SourceError:
    text = str(exc)
    reason = text.split(": ", 1)[1] if ": " in text else text
    line = column = None
    if len(exc.args) > 1 and isinstance(exc.args[1], tuple) and len(exc.args[1]) >= 3:
        line, column = exc.args[1][1], exc.args[1][2]
        if isinstance(line, int):
            line += line_offset
    return SourceError(name, f"syntax error: {reason}", line, column)


def parse(
    source: Source, base_iri: str, limits: InputLimits
) -> Iterator[tuple[ox.Quad, int | None]]:
    """Every quad of a source with its line number where the format makes it exact;
    :class:`SourceError` when the source breaks one of ``limits``."""
    if source.line_based:
        return _parse_lines(source, limits)
    return _checked(_parse(source, base_iri, limits), source.name, limits)


def _checked(
    quads: Iterator[tuple[ox.Quad, int | None]], name: str, limits: InputLimits
) -> Iterator[tuple[ox.Quad, int | None]]:
    """The quads, refusing a literal over MAX_LITERAL_BYTES."""
    cap = limits.max_literal_bytes
    for quad, line in quads:
        obj = quad.object
        if isinstance(obj, ox.Literal):
            size = len(obj.value)
            if size > cap or (size * 4 > cap and len(obj.value.encode()) > cap):
                raise limits.literal_too_long(name, line)
        yield quad, line


def _parse(
    source: Source, base_iri: str, limits: InputLimits
) -> Iterator[tuple[ox.Quad, int | None]]:
    with source.read(limits) as fh:
        try:
            for quad in ox.parse(fh, source.format, base_iri=base_iri):
                yield quad, None
        except SyntaxError as exc:
            raise _syntax_error(source.name, exc) from None
        except MemoryError:  # the parser's own 16 MiB limit on one token
            raise limits.literal_too_long(source.name) from None
        except ValueError as exc:
            raise SourceError(source.name, f"cannot be read: {exc}") from None


def parse_block(
    data: bytes, first_line: int, name: str, rdf_format: ox.RdfFormat, limits: InputLimits
) -> Iterator[tuple[ox.Quad, int | None]]:
    """The quads of whole lines of N-Triples or N-Quads that start at line ``first_line``
    of the input ``name``, each with its line number."""
    lines = data.split(b"\n")
    if not lines[-1]:
        lines.pop()
    numbers = [
        first_line + i
        for i, raw in enumerate(lines)
        if raw.strip() and not raw.lstrip().startswith(b"#")
    ]

    def quads() -> Iterator[tuple[ox.Quad, int | None]]:
        try:
            for index, quad in enumerate(ox.parse(data, rdf_format)):
                yield quad, numbers[index] if index < len(numbers) else None
        except SyntaxError as exc:
            raise _syntax_error(name, exc, first_line - 1) from None
        except MemoryError:
            raise limits.literal_too_long(name, first_line) from None

    return _checked(quads(), name, limits)


def _parse_lines(source: Source, limits: InputLimits) -> Iterator[tuple[ox.Quad, int | None]]:
    """N-Triples and N-Quads in blocks of whole lines; a line (one triple) longer than
    MAX_LITERAL_BYTES and some room for its IRIs is refused before it is parsed."""
    longest = limits.max_literal_bytes + (1 << 16)
    with source.read(limits) as fh:
        start = 0  # lines before this block
        carry = b""  # the unfinished last line of the previous read
        while True:
            data = fh.read(1 << 22)
            if data:
                data = carry + data
                cut = data.rfind(b"\n") + 1
                data, carry = data[:cut], data[cut:]
                if len(carry) > longest:
                    raise limits.literal_too_long(source.name, start + data.count(b"\n") + 1)
                if not data:
                    continue
            elif carry:
                data, carry = carry, b""
            else:
                return
            yield from parse_block(data, start + 1, source.name, source.format, limits)
            start += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _quads_in_blocks(
    source: Source, ns: Namespaces, limits: InputLimits, check: BlockCheck
) -> Iterator[tuple[ox.Quad, int | None]]:
    """The quads of a line-based source, block by block, each shown to ``check``."""
    with source.read(limits) as fh:
        for block in record_blocks(fh, ns, limits, source.name):
            check.start(block)
            for quad, line in parse_block(
                block.data, block.first_line, source.name, source.format, limits
            ):
                check.see(quad)
                yield quad, line
    check.finish()


# --- foreign Wikibase IRIs ----------------------------------------------------------


@dataclass(frozen=True)
class Rebase:
    """Maps another Wikibase's IRIs onto this catalogue's (imports of Wikibase dumps)."""

    pairs: tuple[tuple[str, str], ...]  # (foreign prefix, ours), longest first
    entity_prefix: str  # foreign concept base, mapped only for Q/P ids
    ours_entity: str

    @classmethod
    def between(cls, foreign_top: str, ns: Namespaces, concept: str | None) -> Rebase:
        concept = concept or foreign_top
        pairs = [
            (foreign_top + "prop/", ns.base + "prop/"),
            (concept + "statement/", ns["wds"]),
            (foreign_top + "reference/", ns["wdref"]),
            (foreign_top + "value/", ns["wdv"]),
        ]
        pairs.sort(key=lambda pair: -len(pair[0]))
        return cls(tuple(pairs), concept, ns["wd"])

    def term(self, term: ox.NamedNode) -> ox.NamedNode:
        value = term.value
        for foreign, ours in self.pairs:
            if value.startswith(foreign):
                return ox.NamedNode(ours + value[len(foreign) :])
        if value.startswith(self.entity_prefix):
            local = value[len(self.entity_prefix) :]
            if _ID.match(local):
                return ox.NamedNode(self.ours_entity + local)
        return term

    def quad(self, quad: ox.Quad) -> ox.Quad:
        s, p, o, g = quad.subject, quad.predicate, quad.object, quad.graph_name
        if isinstance(s, ox.NamedNode):
            s = self.term(s)
        p = self.term(p)
        if isinstance(o, ox.NamedNode):
            o = self.term(o)
        return ox.Quad(s, p, o, g)


# --- pass 1 ---------------------------------------------------------------------------


@dataclass
class ScanResult:
    """What pass 1 learnt about a source."""

    entities: int = 0
    triples: int = 0
    claims: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    property_types: dict[str, str] = field(default_factory=dict)
    property_labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    rebase: Rebase | None = None
    foreign_base: str | None = None
    #: Why the load workers cannot take the source block by block (None: they can).
    why_serial: str | None = "not N-Triples or N-Quads"


def scan(source: Source, ns: Namespaces, limits: InputLimits) -> ScanResult:
    """Check syntax and ``limits``, recognise another Wikibase's IRIs, collect what
    validation needs."""
    result = _collect(source, ns, None, limits)
    if result.foreign_base is not None:  # rare: read again with the IRIs mapped onto ours
        rebase = result.rebase
        result = _collect(source, ns, rebase, limits)
        result.rebase = rebase
    return result


def _foreign_layout(top: str | None, concept: str | None, ns: Namespaces) -> Rebase | None:
    if top is None:
        if concept is None:
            return None
        top = concept[: -len("entity/")] if concept.endswith("/entity/") else concept
    return Rebase.between(top, ns, concept or top)


def _collect(
    source: Source, ns: Namespaces, rebase: Rebase | None, limits: InputLimits
) -> ScanResult:
    result = ScanResult()
    wanted = {ns.predicate("wdt", pid).value: pid for pid in INDEXED_PROPERTIES}
    claim_preds = {ns.predicate("p", pid).value: pid for pid in INDEXED_PROPERTIES}
    value_preds = {ns.predicate("ps", pid).value: pid for pid in INDEXED_PROPERTIES}
    ptype = WIKIBASE + "propertyType"
    rdf_type = RDF_TYPE
    entity_classes = {WIKIBASE + "Item", WIKIBASE + "Property"}
    claim_owner: dict[Node, tuple[str, str]] = {}
    claim_value: dict[Node, str] = {}
    entities: set[str] = set()
    checked_predicates: set[str] = set()
    foreign_top: str | None = None
    foreign_concept: str | None = None
    check = None
    quads = parse(source, ns.base, limits)
    if source.line_based and rebase is None:
        check = BlockCheck(ns, partial(named_owner, ns))
        quads = _quads_in_blocks(source, ns, limits, check)
    for quad, _line in quads:
        result.triples += 1
        if rebase is not None:
            quad = rebase.quad(quad)
        s, p, o = quad.subject, quad.predicate.value, quad.object
        if p not in checked_predicates:
            checked_predicates.add(p)
            if not p.startswith(ns.base) and (m := _FOREIGN_PROP.match(p)):
                foreign_top = foreign_top or m.group(1)
        if isinstance(s, ox.NamedNode):
            eid = ns.entity_id(s.value)
            if eid is not None:
                entities.add(eid)
                if p in wanted and isinstance(o, ox.NamedNode):
                    result.claims[wanted[p]][eid].add(o.value)
                elif p in claim_preds and isinstance(o, ox.NamedNode | ox.BlankNode):
                    claim_owner[o] = (claim_preds[p], eid)
                elif p == ptype and isinstance(o, ox.NamedNode):
                    result.property_types[eid] = o.value.removeprefix(WIKIBASE)
                elif p == RDFS_LABEL and eid[0] == "P" and isinstance(o, ox.Literal):
                    result.property_labels[str(o)].add(s.value)
            elif rebase is None and not s.value.startswith(ns.base):
                if p == rdf_type and isinstance(o, ox.NamedNode) and o.value in entity_classes:
                    m = _FOREIGN_ENTITY.match(s.value)
                    if m:
                        foreign_concept = foreign_concept or m.group(1)
                elif "/prop/" in s.value and (m := _FOREIGN_PROP.match(s.value)):
                    foreign_top = foreign_top or m.group(1)
        if p in value_preds and isinstance(o, ox.NamedNode) and not isinstance(s, ox.Triple):
            claim_value[s] = o.value
    for node, value in claim_value.items():
        owner = claim_owner.get(node)
        if owner is not None:
            result.claims[owner[0]][owner[1]].add(value)
    if rebase is None and (foreign_top or foreign_concept):
        result.rebase = _foreign_layout(foreign_top, foreign_concept, ns)
        result.foreign_base = foreign_top or foreign_concept
    if check is not None:
        result.why_serial = "another Wikibase's IRIs" if result.rebase else check.why_not
    result.entities = len(entities)
    return result


# --- pass 2 ---------------------------------------------------------------------------


@dataclass
class OversizedRecord(SourceRecord):
    """A record with more triples than MAX_RECORD_TRIPLES: only their number was kept
    (``triples`` is empty), so it is rejected without being normalised."""

    count: int = 0

    def problem_message(self, limit: int) -> str:
        """Why it is rejected, naming the setting."""
        return (
            f"the record has {self.count:,} triples as read, more than MAX_RECORD_TRIPLES "
            f"({limit:,}); split it or raise BIGTENT_MAX_RECORD_TRIPLES"
        )


def named_owner(ns: Namespaces, iri: str) -> str | None:
    """The entity an IRI belongs to by its form alone: the entity itself, its data
    document, a statement whose id starts with it, a predicate of the property; None
    for anything else (nodes owned through links, value and reference nodes)."""
    eid = ns.entity_id(iri) or ns.data_document_entity(iri)
    if eid is not None:
        return eid
    wds = ns["wds"]
    if iri.startswith(wds):
        m = _STATEMENT_OWNER.match(iri[len(wds) :])
        return m.group(1).upper() if m else None
    if iri.startswith(ns.base + "prop/"):
        split = ns.split_predicate(iri)
        if split is not None:
            return split[1]
    return None


class Grouper:
    """Attributes streamed triples to entities and yields complete records. A record
    growing past ``max_record_triples`` stops being kept (its triples are counted, not
    stored) and comes out as an :class:`OversizedRecord`."""

    def __init__(
        self,
        source: Source | BlockSource,
        ns: Namespaces,
        rebase: Rebase | None,
        max_buffered: int,
        max_record_triples: int | None = None,
    ) -> None:
        self.source = source
        self.ns = ns
        self.rebase = rebase
        self.max_buffered = max_buffered
        self.max_record_triples = max_record_triples
        self.counts: dict[str, int] = {}
        self.oversized: set[str] = set()
        self._wds = ns["wds"]
        self._shared = (ns["wdref"], ns["wdv"])
        self.records: dict[str, list[Triple]] = {}
        self.first_line: dict[str, int | None] = {}
        self.owner: dict[Node, str] = {}
        self.pending: dict[Node, list[tuple[Triple, int | None]]] = defaultdict(list)
        self.shared_triples: dict[Node, list[Triple]] = defaultdict(list)
        self.shared_owners: dict[Node, set[str]] = defaultdict(set)
        self.emitted: set[str] = set()
        self.buffered = 0
        self.weights: dict[str, int] = {}
        self._last_entity: str | None = None
        self._blocks: dict[str, int] = {}  # entity -> block counter, for block-based formats
        self._block = 0

    # classification of subjects -------------------------------------------------------
    def _entity_of(self, node: Node) -> str | None:
        if isinstance(node, ox.BlankNode):
            return self.owner.get(node)
        return named_owner(self.ns, node.value) or self.owner.get(node)

    def _is_shared(self, node: Node) -> bool:
        return isinstance(node, ox.NamedNode) and node.value.startswith(self._shared)

    # feeding ------------------------------------------------------------------------------
    def feed(self, quad: ox.Quad, line: int | None) -> None:
        """Attribute one quad."""
        if self.rebase is not None:
            quad = self.rebase.quad(quad)
        s = quad.subject
        if not isinstance(s, ox.NamedNode | ox.BlankNode):
            raise SourceError(self.source.name, "RDF-star triples are not supported", line)
        triple: Triple = (s, quad.predicate, quad.object)  # type: ignore[assignment]
        if (
            isinstance(s, ox.NamedNode) and s.value == DUMP_NODE
        ) or quad.predicate.value == WIKI_GROUP:
            return  # Wikibase dump header and site metadata: about the dump, not an entity
        graph_entity = self._graph_entity(quad.graph_name, line)
        if self._is_shared(s):
            self.shared_triples[s].append(triple)
            for owner in list(self.shared_owners.get(s, ())):
                self._append(owner, triple, line, graph_entity)
            return
        target = self._entity_of(s)
        if (
            target is None
            and isinstance(s, ox.NamedNode)
            and quad.predicate.value == SCHEMA_ABOUT
            and isinstance(quad.object, ox.NamedNode)
        ):
            target = self.ns.entity_id(quad.object.value)  # sitelink or foreign data document
            if target is not None:
                self.owner[s] = target
                for t, tline in self.pending.pop(s, ()):
                    self._append(target, t, tline, graph_entity)
        if target is None and graph_entity is not None:
            target = graph_entity
        if target is None:
            self.pending[s].append((triple, line))
            return
        if graph_entity is not None and target != graph_entity:
            raise SourceError(
                self.source.name,
                f"the record of {graph_entity} (graph <{quad.graph_name.value}>) writes "  # type: ignore[union-attr]
                f"triples about {target}; a record may only describe its own entity",
                line,
            )
        if isinstance(s, ox.NamedNode) and self.ns.entity_id(s.value) == target:
            self._check_block(target, line)
        self._append(target, triple, line, graph_entity)

    def _graph_entity(self, graph: object, line: int | None) -> str | None:
        if not isinstance(graph, ox.NamedNode):
            return None
        eid = self.ns.data_document_entity(graph.value) or self.ns.entity_id(graph.value)
        if eid is None:
            raise SourceError(
                self.source.name,
                f"graph <{graph.value}> is not an entity's data document; put each record in "
                f"the graph <{self.ns['wdata']}Q…> of its entity, or in the default graph",
                line,
            )
        return eid

    def _check_block(self, entity: str, line: int | None) -> None:
        """Block-based formats: an entity is described in one block, not two."""
        if entity != self._last_entity:
            self._block += 1
            self._last_entity = entity
            if entity in self._blocks and not self.source.line_based:
                raise SourceError(
                    self.source.name,
                    f"{entity} is described twice in this file (two separate blocks); "
                    "a file holds at most one record per entity: merge the blocks into one",
                    line,
                )
            self._blocks[entity] = self._block

    def _append(
        self, entity: str, triple: Triple, line: int | None, graph_entity: str | None
    ) -> None:
        if entity in self.emitted:
            raise SourceError(
                self.source.name,
                f"more triples about {entity} after its record was already processed: this "
                f"input is larger than MAX_BUFFERED_TRIPLES ({self.max_buffered}) and its "
                "triples are not grouped by entity. Sort it so each entity's triples are "
                "together, or raise BIGTENT_MAX_BUFFERED_TRIPLES.",
                line,
            )
        record = self.records.get(entity)
        if record is None:
            record = self.records[entity] = []
            self.first_line[entity] = line
        count = self.counts[entity] = self.counts.get(entity, 0) + 1
        if self.max_record_triples is not None and count > self.max_record_triples:
            if entity not in self.oversized:  # from now on only counted
                self.oversized.add(entity)
                record.clear()
                self.buffered -= self.weights.pop(entity, 0)
            self._link(entity, triple[0], triple[2], line, graph_entity)
            return
        record.append(triple)
        obj = triple[2]
        # Long texts weigh more: every 256 characters count as one more triple, so the
        # buffer stays bounded in bytes as well as in triples.
        weight = 1 + (len(obj.value) >> 8 if isinstance(obj, ox.Literal) else 0)
        self.weights[entity] = self.weights.get(entity, 0) + weight
        self.buffered += weight
        self._link(entity, triple[0], triple[2], line, graph_entity)

    def _link(
        self, entity: str, subject: Node, obj: Term, line: int | None, graph_entity: str | None
    ) -> None:
        if isinstance(obj, ox.Literal):
            return
        if self._is_shared(obj):
            if entity not in self.shared_owners[obj]:
                self.shared_owners[obj].add(entity)
                for t in list(self.shared_triples.get(obj, ())):
                    self._append(entity, t, line, graph_entity)
            return
        if isinstance(obj, ox.NamedNode):
            value = obj.value
            if not value.startswith(self._wds):
                return
            m = _STATEMENT_OWNER.match(value[len(self._wds) :])
            if m and m.group(1).upper() != entity:
                raise SourceError(
                    self.source.name,
                    f"statement {value[len(self._wds) :]} belongs to {m.group(1).upper()} but "
                    f"is attached to {entity}; a record may only hold its own statements",
                    line,
                )
            if m:
                return  # its IRI names its owner: nothing to remember (or to hold in memory)
        known = self.owner.get(obj)
        if known is not None and known != entity:
            raise SourceError(
                self.source.name,
                f"{_show(obj)} is used by both {known} and {entity}; statements and blank "
                "nodes belong to exactly one entity",
                line,
            )
        if known is None:
            self.owner[obj] = entity
            for t, tline in self.pending.pop(obj, ()):
                self._append(entity, t, tline, graph_entity)

    # emitting ---------------------------------------------------------------------------
    def ready(self) -> Iterator[SourceRecord]:
        """Records that can be handed out now, keeping memory bounded."""
        if self.buffered < self.max_buffered:
            return
        keep = self._last_entity
        for entity in [e for e in self.records if e != keep]:
            yield self._emit(entity)

    def finish(self) -> Iterator[SourceRecord]:
        """All remaining records, after checking nothing is left unattributed."""
        if self.pending:
            node, items = next(iter(self.pending.items()))
            line = items[0][1]
            raise SourceError(
                self.source.name,
                f"{len(self.pending)} node(s), e.g. {_show(node)}, are not connected to any "
                "entity (no statement, reference or entity links to them). Attach them to "
                f"their entity (e.g. <{self.ns['wd']}Q1> p:P… <statement>) or remove them.",
                line,
            )
        for entity in list(self.records):
            yield self._emit(entity)

    def _emit(self, entity: str) -> SourceRecord:
        triples = self.records.pop(entity)
        self.buffered -= self.weights.pop(entity, 0)
        self.emitted.add(entity)
        count = self.counts.pop(entity, 0)
        line = self.first_line.pop(entity)
        if entity in self.oversized:
            self.oversized.discard(entity)
            return OversizedRecord(entity, [], self.source.name, line, count)
        return SourceRecord(entity, triples, self.source.name, line)


def _show(node: Term) -> str:
    return f"_:{node.value}" if isinstance(node, ox.BlankNode) else f"<{node.value}>"


def read_records(
    source: Source, ns: Namespaces, rebase: Rebase | None, limits: InputLimits
) -> Iterator[SourceRecord]:
    """Stream the records of one source (pass 2); records over MAX_RECORD_TRIPLES come
    out as :class:`OversizedRecord`."""
    max_buffered = limits.max_buffered_triples
    grouper = Grouper(source, ns, rebase, max_buffered, limits.max_record_triples)
    for quad, line in parse(source, ns.base, limits):
        grouper.feed(quad, line)
        if grouper.buffered >= max_buffered:
            yield from grouper.ready()
    yield from grouper.finish()


def locate(source: Source, entity_iri: str, prefixed: str) -> int | None:
    """Best-effort line of an entity's block in a text format (for error reports)."""
    try:
        with source.open() as fh:
            for number, raw in enumerate(fh, 1):
                text = raw.decode("utf-8", "replace").lstrip()
                if text.startswith((f"<{entity_iri}>", prefixed + " ", prefixed + "\t")):
                    return number
    except OSError:
        return None
    return None
