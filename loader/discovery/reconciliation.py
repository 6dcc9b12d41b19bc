"""Reconciliation (the W3C community group's Reconciliation Service API, 0.2, as OpenRefine
uses it): match names, with optional types and property values, to catalogue entities.

Candidates come from the page index's name search (labels and aliases in every language,
case- and accent-insensitive), restricted to the asked types and their subclasses.
Scores are transparent: the name's rank (exact label 100, exact alias 95, label prefix
80, alias prefix 75, every word of the label 60, of an alias 55), and when property
values are given, 60 % of that plus 40 × the share of properties whose value the
candidate has. ``match`` is true when the candidate is the only one with an exact label
or alias and has every given property value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loader.base.errors import BigtentError
from loader.base.ids import INSTANCE_OF
from loader.base.namespaces import ENTITY_ID
from loader.discovery.browse import subclasses
from loader.discovery.search import search
from loader.storage.page_index import DESCRIPTION, PageIndex, fold

NAME_SCORES = (100, 95, 80, 75, 60, 55)
#: Queries one batch may hold (OpenRefine sends 10 at a time).
MAX_QUERIES = 50
MAX_LIMIT = 25
DEFAULT_LIMIT = 5
MAX_PROPERTIES = 10
MAX_VALUES = 10
MAX_TEXT = 200
#: Candidates examined per query before property values re-rank them.
CANDIDATES = 50


@dataclass(frozen=True)
class Query:
    """One reconciliation query."""

    text: str
    types: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    properties: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _bad(key: str, message: str) -> BigtentError:
    return BigtentError(f"query {key[:40]!r}: {message}", title="Malformed reconciliation query")


def parse_query(key: str, raw: object) -> Query:
    """A query object of a batch (or a bare string); 400 naming the query and the field
    when it is malformed."""
    if isinstance(raw, str):
        raw = {"query": raw}
    if not isinstance(raw, Mapping):
        raise _bad(key, "each query is a JSON object with a query string")
    text = raw.get("query", "")
    if not isinstance(text, str):
        raise _bad(key, "query must be a string")
    if len(text) > MAX_TEXT:
        raise _bad(key, f"query is longer than {MAX_TEXT} characters")
    types = raw.get("type", [])
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise _bad(key, "type must be a type id or a list of them")
    if len(types) > MAX_VALUES or not all(ENTITY_ID.match(t) for t in types):
        raise _bad(key, "type must name item ids such as Q1 (see the manifest's defaultTypes)")
    limit = raw.get("limit", DEFAULT_LIMIT)
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int | float)
        or not math.isfinite(limit)  # 1e400 decodes as infinity, NaN compares as nothing
        or limit < 1
    ):
        raise _bad(key, "limit must be a positive number")
    properties = raw.get("properties", [])
    if not isinstance(properties, list) or len(properties) > MAX_PROPERTIES:
        raise _bad(key, f"properties must be a list of at most {MAX_PROPERTIES} {{pid, v}}")
    parsed = []
    for prop in properties:
        if not isinstance(prop, Mapping) or not isinstance(prop.get("pid"), str):
            raise _bad(key, "each property is an object with pid and v")
        pid = prop["pid"]
        if not ENTITY_ID.match(pid) or not pid.startswith("P"):
            raise _bad(key, f"pid {pid[:40]!r} is not a property id such as P12")
        values = prop.get("v")
        values = values if isinstance(values, list) else [values]
        if not values or len(values) > MAX_VALUES:
            raise _bad(key, f"v of {pid} must hold 1 to {MAX_VALUES} values")
        parsed.append((pid, tuple(_value(key, v) for v in values)))
    if not text.strip() and not parsed:
        raise _bad(key, "give a query string (or property values)")
    return Query(text.strip(), tuple(types), min(int(limit), MAX_LIMIT), tuple(parsed))


def _value(key: str, value: object) -> str:
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad(key, "property values are strings, numbers or {id, name} objects")
    return str(value)[:MAX_TEXT]


def parse_batch(raw: object) -> dict[str, Query]:
    """``queries=`` as decoded JSON: an object of query objects."""
    if not isinstance(raw, Mapping) or not raw:
        raise BigtentError(
            'queries must be a JSON object such as {"q0": {"query": "Open Knowledge"}}',
            title="Malformed reconciliation batch",
        )
    if len(raw) > MAX_QUERIES:
        raise BigtentError(
            f"{len(raw)} queries in one batch; at most {MAX_QUERIES}",
            title="Malformed reconciliation batch",
        )
    return {str(key): parse_query(str(key), value) for key, value in raw.items()}


@dataclass(frozen=True)
class Candidate:
    """One candidate entity for a query."""

    id: str
    name: str
    description: str | None
    score: float
    match: bool
    types: list[tuple[str, str]]


def reconcile(index: PageIndex, query: Query, languages: Sequence[str]) -> list[Candidate]:
    """The best candidates for ``query``, best first (at most ``query.limit``)."""
    classes: list[str] | None = None
    if query.types:
        classes = sorted({c for t in query.types for c in subclasses(index, t)})
    if not query.text:
        return []
    hits = search(index, query.text, classes=classes, limit=CANDIDATES).hits
    ids = [h.id for h in hits]
    values = {pid: index.values(ids, pid) for pid, _ in query.properties}
    value_names = _value_names(index, values, languages)
    exact = sum(1 for h in hits if h.tier <= 1)
    scored = []
    for hit in hits:
        score = float(NAME_SCORES[hit.tier] if hit.tier < len(NAME_SCORES) else 50)
        matched = 0
        for pid, wanted in query.properties:
            have = values[pid].get(hit.id, [])
            folded = {fold(value_names.get(v, "")) for v in have}
            if any(w.upper() in have or fold(w) in folded for w in wanted):
                matched += 1
        if query.properties:
            score = round(0.6 * score + 40 * matched / len(query.properties), 1)
        certain = hit.tier <= 1 and exact == 1 and matched == len(query.properties)
        scored.append((score, hit.id, certain))
    scored.sort(key=lambda s: (-s[0], int(s[1][1:])))
    chosen = scored[: query.limit]
    ids = [c[1] for c in chosen]
    kinds = index.values(ids, INSTANCE_OF)
    names = index.names(ids + [k for ks in kinds.values() for k in ks], languages)
    descriptions = index.names(ids, languages, kind=DESCRIPTION)
    return [
        Candidate(
            entity,
            names.get(entity, ("", entity))[1],
            descriptions[entity][1] if entity in descriptions else None,
            score,
            certain,
            [(k, names.get(k, ("", k))[1]) for k in kinds.get(entity, [])],
        )
        for score, entity, certain in chosen
    ]


def _value_names(
    index: PageIndex, values: Mapping[str, Mapping[str, list[str]]], languages: Sequence[str]
) -> dict[str, str]:
    ids = {v for per in values.values() for vs in per.values() for v in vs}
    return {k: text for k, (_, text) in index.names(ids, languages).items()}


def as_json(candidates: Sequence[Candidate]) -> dict[str, Any]:
    """The spec's result object for one query."""
    results = []
    for c in candidates:
        item: dict[str, Any] = {
            "id": c.id,
            "name": c.name,
            "score": c.score,
            "match": c.match,
            "type": [{"id": t, "name": n} for t, n in c.types],
        }
        if c.description:
            item["description"] = c.description
        results.append(item)
    return {"result": results}
