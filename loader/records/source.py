"""A record as read: the raw triples of one entity from one source, before
normalisation (:mod:`loader.records.normalise`) turns it into the Wikibase model."""

from __future__ import annotations

from dataclasses import dataclass

from loader.base.rdf import Triple


@dataclass
class SourceRecord:
    """The raw triples of one entity, as read from one source."""

    entity: str
    triples: list[Triple]
    source: str
    line: int | None = None
