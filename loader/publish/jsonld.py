"""Compact JSON-LD for the small graphs of entity documents.

pyoxigraph writes expanded JSON-LD (full IRIs everywhere, no ``@context``); readers
prefer ``wd:Q1`` and ``rdfs:label``. The graph is flat, so compaction needs no
general algorithm: one ``@context`` of prefixes, one node object per subject, every
IRI written as a compact IRI when a prefix covers it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import pyoxigraph as ox

from loader.base.namespaces import RDF, XSD
from loader.base.rdf import Term, Triple

RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"
_MAX_REMEMBERED = 100_000  # compacted IRIs kept between documents


class Compactor:
    """Turns IRIs into compact IRIs with a fixed set of prefixes (reusable, thread-safe:
    its memory of compacted IRIs only ever gains correct entries)."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        # Longest namespace first, so wdt: wins over p: for .../prop/direct/P1.
        self.namespaces = sorted(
            ((ns, name) for name, ns in prefixes.items()), key=lambda pair: -len(pair[0])
        )
        self._known: dict[str, tuple[str, str | None]] = {}

    def compact(self, iri: str) -> tuple[str, str | None]:
        """(compact IRI or the IRI itself, the prefix used or None)."""
        known = self._known.get(iri)
        if known is not None:
            return known
        found: tuple[str, str | None] = (iri, None)
        for namespace, name in self.namespaces:
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if local and not local.startswith("//"):
                    found = (f"{name}:{local}", name)
                    break
        if len(self._known) >= _MAX_REMEMBERED:
            self._known.clear()
        self._known[iri] = found
        return found

    def context(self, used: Iterable[str]) -> dict[str, str]:
        """The ``@context`` declaring the prefixes in ``used``."""
        names = set(used)
        return {
            name: ns for ns, name in sorted(self.namespaces, key=lambda p: p[1]) if name in names
        }


def compact_jsonld(triples: Iterable[Triple], compactor: Compactor) -> bytes:
    """The triples as a JSON-LD document with an ``@context`` of the prefixes it uses."""
    used: set[str] = set()

    def iri(value: str) -> str:
        text, prefix = compactor.compact(value)
        if prefix is not None:
            used.add(prefix)
        return text

    def node_id(term: Term) -> str:
        return f"_:{term.value}" if isinstance(term, ox.BlankNode) else iri(term.value)

    def value(term: Term) -> object:
        if isinstance(term, ox.NamedNode | ox.BlankNode):
            return {"@id": node_id(term)}
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == XSD_STRING:
            return term.value
        return {"@value": term.value, "@type": iri(term.datatype.value)}

    nodes: dict[Term, dict[str, list[object] | str]] = {}
    for s, p, o in triples:
        node = nodes.get(s)
        if node is None:
            node = nodes[s] = {"@id": node_id(s)}
        item: object
        if p.value == RDF_TYPE and isinstance(o, ox.NamedNode):
            key, item = "@type", iri(o.value)
        else:
            key, item = iri(p.value), value(o)
        values = node.setdefault(key, [])
        assert isinstance(values, list)
        values.append(item)
    document = {"@context": compactor.context(used), "@graph": list(nodes.values())}
    # Compact, as Wikidata's Special:EntityData: with ``indent`` Python's json falls back
    # to its pure-Python encoder, which took three quarters of a document's time.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
