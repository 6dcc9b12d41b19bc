"""Turns entity graphs (N-Triples, as the revision log stores them) into the four dump
streams: full and truthy, N-Triples and Turtle.

Working on the N-Triples lines themselves is what makes a dump of 100 000 entities
take seconds: no RDF term is decoded from the store and no term object is built.
Each line is split once into subject, predicate and object; those are exact N-Triples
terms, which are valid Turtle too, so Turtle only groups lines by subject and
abbreviates IRIs (never text inside literals) with the catalogue's prefixes.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from loader.base.namespaces import RDF, Namespaces

RDF_TYPE = f"<{RDF}type>".encode()
# An IRI as namespace (up to its last "/" or "#") and a local name that Turtle takes
# without escaping (PN_LOCAL, ASCII subset).
_SPLIT = re.compile(rb"<(.*[/#])([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)>")
# An N-Triples line: subject and predicate contain no spaces; the object is the rest.
_TRIPLE = re.compile(rb"^(\S+) (\S+) (.*) \.$", re.MULTILINE)
_MAX_CACHED_TERMS = 500_000


@dataclass
class Streams:
    """The dump text of one entity, per stream (each a list of byte strings)."""

    full_nt: list[bytes] = field(default_factory=list)
    truthy_nt: list[bytes] = field(default_factory=list)
    full_ttl: list[bytes] = field(default_factory=list)
    truthy_ttl: list[bytes] = field(default_factory=list)


class DumpFormatter:
    """Converts entity graphs one after the other. It remembers the shared reference and
    value nodes already written, so each triple is written once (a graph is a set), and
    counts triples and instances per class on the way."""

    def __init__(self, ns: Namespaces, prefixes: Mapping[str, str]) -> None:
        self.prefixes = dict(prefixes)
        self._namespaces = {iri.encode(): name.encode() for name, iri in self.prefixes.items()}
        if any(not iri.endswith(("/", "#")) for iri in self.prefixes.values()):
            raise ValueError("dump prefixes must end with '/' or '#'")
        self._statement = b"<" + ns["wds"].encode()
        self._shared = (b"<" + ns["wdref"].encode(), b"<" + ns["wdv"].encode())
        self._claims = ns["p"].encode()
        self._wd = ns["wd"].encode()
        self._seen_shared: set[bytes] = set()
        self._terms: dict[bytes, bytes] = {}
        self._predicates: dict[bytes, bytes] = {}
        self.classes: Counter[bytes] = Counter()  # class term -> instances
        self.triples = 0
        self.truthy_triples = 0

    def turtle_header(self) -> bytes:
        """The prefix declarations each Turtle dump starts with."""
        return "".join(f"@prefix {k}: <{v}> .\n" for k, v in self.prefixes.items()).encode()

    def entity(self, entity_id: str, graph: bytes) -> Streams:
        """The four streams' text for one entity graph (N-Triples, one triple per line)."""
        out = Streams()
        if not graph:
            return out
        if b"_:" in graph:
            graph = relabel_blank_nodes(entity_id, graph)
        lines = graph.split(b"\n")
        if not lines[-1]:
            lines.pop()
        lines.sort()  # snapshots are sorted already; then this is one linear pass
        # Sorted lines put each kind of subject in one run, found by bisection: the
        # entity's p:P… claims, its statements, then references, then values.
        subject = b"<" + self._wd + entity_id.encode() + b"> "
        claims_at, claims_end = _run(lines, subject + b"<" + self._claims + b"P")
        stmt_at, stmt_end = _run(lines, self._statement)
        ref_at, ref_end = _run(lines, self._shared[0])
        val_at, val_end = _run(lines, self._shared[1])
        seen = self._seen_shared
        refs = [x for x in lines[ref_at:ref_end] if x not in seen]
        values = [x for x in lines[val_at:val_end] if x not in seen]
        seen.update(refs)
        seen.update(values)
        head = lines[:claims_at]
        claims = lines[claims_at:claims_end]
        tail = lines[claims_end:stmt_at]  # rest of the entity, data document, …
        statements = lines[stmt_at:stmt_end]
        between = lines[stmt_end:ref_at] + lines[ref_end:val_at]
        after = lines[val_end:]
        full = [*head, *claims, *tail, *statements, *between, *refs, *values, *after]
        truthy = [*head, *tail, *between, *after]
        if len(full) == len(lines):
            out.full_nt = [graph if graph.endswith(b"\n") else graph + b"\n"]
        elif full:
            out.full_nt = [b"\n".join(full) + b"\n"]
        if truthy:
            out.truthy_nt = [b"\n".join(truthy) + b"\n"]
        # Turtle: each line is rendered once. The claims follow the entity's other triples
        # as a block of their own (a subject may head several blocks in Turtle), so the
        # truthy dump reuses the entity's text.
        render = self._render
        own = render(head + tail)
        others = render(between + after)
        out.full_ttl = own + others + render(claims + statements + refs + values)
        out.truthy_ttl = own + others
        self.triples += len(full)
        self.truthy_triples += len(truthy)
        return out

    def _render(self, lines: list[bytes]) -> list[bytes]:
        """Sorted N-Triples lines as Turtle, grouped by subject and predicate."""
        out: list[bytes] = []
        if not lines:
            return out
        append = out.append
        terms, predicates, term, classes = self._terms, self._predicates, self._term, self.classes
        last_s = last_p = b""
        # One regex pass splits every line into its three terms (in C).
        for s, p, o in _TRIPLE.findall(b"\n".join(lines)):
            ao = terms.get(o) or term(o)
            if s == last_s:
                if p == last_p:
                    append(b" , " + ao)
                else:
                    append(b" ;\n\t" + (predicates.get(p) or self._predicate(p)) + b" " + ao)
                    last_p = p
            else:
                if last_s:
                    append(b" .\n")
                ap = predicates.get(p) or self._predicate(p)
                append((terms.get(s) or term(s)) + b" " + ap + b" " + ao)
                last_s, last_p = s, p
            if p == RDF_TYPE:
                classes[o] += 1
        append(b" .\n")
        return out

    def _predicate(self, iri: bytes) -> bytes:
        short = b"a" if iri == RDF_TYPE else self._abbreviate(iri)
        self._predicates[iri] = short
        return short

    def _term(self, value: bytes) -> bytes:
        """A term in Turtle: IRIs (also datatype IRIs) abbreviated where a prefix fits."""
        if value.startswith(b'"'):
            cut = value.rfind(b'"^^<') if value.endswith(b">") else -1
            if cut > 0:  # literals themselves are not cached: most are unique
                datatype = value[cut + 3 :]
                return value[: cut + 3] + (self._terms.get(datatype) or self._term(datatype))
            return value
        if not value.startswith(b"<"):
            return value  # blank node
        short = self._abbreviate(value)
        if len(self._terms) >= _MAX_CACHED_TERMS:
            self._terms.clear()  # statement and value IRIs pile up; the rest comes back
        self._terms[value] = short
        return short

    def _abbreviate(self, iri: bytes) -> bytes:
        # Every prefix of the catalogue ends in "/" or "#"; the regex splits an IRI after
        # its last "/" or "#" and checks that the rest is a plain local name.
        found = _SPLIT.fullmatch(iri)
        if found is not None:
            name = self._namespaces.get(found.group(1))
            if name is not None:
                return name + b":" + found.group(2)
        return iri


def _run(lines: list[bytes], prefix: bytes) -> tuple[int, int]:
    """Where the lines starting with ``prefix`` are, in sorted ``lines``."""
    upper = prefix[:-1] + bytes([prefix[-1] + 1])
    return bisect_left(lines, prefix), bisect_left(lines, upper)


def relabel_blank_nodes(entity_id: str, graph: bytes) -> bytes:
    """Prefix the blank node labels of one entity with its id: records are independent,
    but labels such as ``_:b0`` taken from input files could repeat across them."""
    prefix = b"_:" + entity_id.encode() + b"x"
    out = []
    for line in graph.split(b"\n"):
        if not line:
            continue
        s, p, rest = line.split(b" ", 2)
        if s.startswith(b"_:"):
            s = prefix + s[2:]
        if rest.startswith(b"_:"):
            rest = prefix + rest[2:]
        out.append(b" ".join((s, p, rest)))
    return b"\n".join(out) + b"\n"
