"""Dumps of the whole catalogue, as Wikibase publishes them: full and truthy.

Written to temporary files and renamed into place, so a harvester never sees a
half-written dump.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import pyoxigraph as ox

if TYPE_CHECKING:
    from loader.catalogue import Catalogue

DUMP_NAMES = ("full.nt.gz", "full.ttl.gz", "truthy.nt.gz", "truthy.ttl.gz")


def catalogue_triples(cat: Catalogue, truthy: bool) -> Iterator[ox.Triple]:
    """Every entity triple once (shared reference and value nodes are not repeated)."""
    ns = cat.ns
    shared = (ns["wdref"], ns["wdv"])
    statement_level = (ns["wds"], ns["wdref"], ns["wdv"])
    claim_ns = ns["p"]
    emitted_shared: set[str] = set()
    ontology = cat.ontology_graph
    graphs = sorted((g for g in cat.store.graph_names() if g != ontology), key=lambda g: g.value)
    for graph in graphs:
        seen_here: set[str] = set()
        for s, p, o in cat.store.graph_triples(graph):
            if isinstance(s, ox.NamedNode):
                if s.value.startswith(shared):
                    if s.value in emitted_shared and s.value not in seen_here:
                        continue
                    seen_here.add(s.value)
                if truthy and s.value.startswith(statement_level):
                    continue
            if (
                truthy
                and p.value.startswith(claim_ns)
                and ns.split_predicate(p.value) == ("p", p.value[len(claim_ns) :])
            ):
                continue
            yield ox.Triple(s, p, o)
        emitted_shared |= seen_here


def write_dumps(cat: Catalogue, out_dir: Path) -> list[Path]:
    """Write the four dump files into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    prefixes = {k: v for k, v in cat.ns.prefixes.items() if k not in ("sh",)}
    for name in DUMP_NAMES:
        flavour, fmt_name, _ = name.split(".")
        fmt = ox.RdfFormat.N_TRIPLES if fmt_name == "nt" else ox.RdfFormat.TURTLE
        target = out_dir / f"bigtent-{name}"
        tmp = target.with_suffix(target.suffix + ".part")
        with gzip.open(tmp, "wb", compresslevel=6) as fh:
            ox.serialize(
                catalogue_triples(cat, flavour == "truthy"),
                cast("IO[bytes]", fh),
                fmt,
                prefixes=prefixes if fmt == ox.RdfFormat.TURTLE else None,
            )
        tmp.replace(target)
        written.append(target)
    return written
