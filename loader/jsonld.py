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

from loader.namespaces import RDF, XSD
from loader.reader import Term, Triple

RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"


class _Compactor:
    def __init__(self, prefixes: Mapping[str, str]) -> None:
        # Longest namespace first, so wdt: wins over p: for .../prop/direct/P1.
        self.namespaces = sorted(
            ((ns, name) for name, ns in prefixes.items()), key=lambda pair: -len(pair[0])
        )
        self.used: dict[str, str] = {}

    def iri(self, iri: str) -> str:
        for namespace, name in self.namespaces:
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if local and not local.startswith("//"):
                    self.used[name] = namespace
                    return f"{name}:{local}"
        return iri

    def node_id(self, term: Term) -> str:
        if isinstance(term, ox.BlankNode):
            return f"_:{term.value}"
        return self.iri(term.value)

    def value(self, term: Term) -> object:
        if isinstance(term, ox.NamedNode | ox.BlankNode):
            return {"@id": self.node_id(term)}
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == XSD_STRING:
            return term.value
        return {"@value": term.value, "@type": self.iri(term.datatype.value)}


def compact_jsonld(triples: Iterable[Triple], prefixes: Mapping[str, str]) -> bytes:
    """The triples as a JSON-LD document with an ``@context`` of the prefixes it uses."""
    compactor = _Compactor(prefixes)
    nodes: dict[Term, dict[str, object]] = {}
    for s, p, o in triples:
        node = nodes.get(s)
        if node is None:
            node = nodes[s] = {"@id": compactor.node_id(s)}
        if p.value == RDF_TYPE and isinstance(o, ox.NamedNode):
            types = node.setdefault("@type", [])
            assert isinstance(types, list)
            types.append(compactor.iri(o.value))
            continue
        values = node.setdefault(compactor.iri(p.value), [])
        assert isinstance(values, list)
        values.append(compactor.value(o))
    context = dict(sorted(compactor.used.items()))
    document = {"@context": context, "@graph": list(nodes.values())}
    return json.dumps(document, ensure_ascii=False, indent=1).encode()
