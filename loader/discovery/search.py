"""Full-text search over labels and aliases in every language (the page index).

Case- and accent-insensitive (names and queries are folded the same way), every word
matched as a prefix. Ranked by tier — exact label, exact alias, label starting with the
query, alias starting with it, label or alias containing every word — then shorter names
first, then entity number.

Bounded work, whatever the query: exact and whole-name-prefix matches come from the
B-tree on the folded names (so they are always found and always first); word matches
come from FTS5 in index order and stop after ``MAX_CANDIDATES`` names. When that limit
is reached the total is a lower bound (``Results.more``) and the word matches ranked are
the first ``MAX_CANDIDATES`` found, not all of them: a query that common needs more words.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from loader.base import ids
from loader.storage.page_index import ALIAS, LABEL, PageIndex, entity_id, fold, num

#: Words of a query used for matching; more are ignored (and said so).
MAX_QUERY_WORDS = 8
#: Names examined per source (whole-name prefixes, word matches) per query.
MAX_CANDIDATES = 500
WORD = re.compile(r"\w+")
TIER_NAMES = ("exact label", "exact alias", "label prefix", "alias prefix", "label", "alias")


@dataclass(frozen=True)
class Hit:
    """One matching entity and the name that matched best."""

    id: str
    tier: int  # index into TIER_NAMES
    matched: str
    matched_lang: str
    matched_kind: int  # LABEL or ALIAS


@dataclass(frozen=True)
class Results:
    """A page of hits and the number of matching entities (a lower bound when ``more``)."""

    total: int
    hits: list[Hit]
    more: bool = False


def match_expression(query: str) -> str | None:
    """The FTS5 query for ``query``: each word quoted (so no FTS5 syntax gets through)
    and matched as a prefix; None when the query has no words."""
    words = WORD.findall(fold(query))[:MAX_QUERY_WORDS]
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def search(
    index: PageIndex,
    query: str,
    *,
    classes: Sequence[str] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Results:
    """Entities whose labels or aliases match ``query``, best first.

    ``classes`` restricts to instances of those classes (ids; pass the subclasses too)."""
    expression = match_expression(query)
    if expression is None:
        return Results(0, [])
    folded = fold(query)
    restrict, restrict_params = "", []
    if classes is not None:
        marks = ",".join("?" * len(classes))
        restrict = (
            " AND EXISTS (SELECT 1 FROM fact x WHERE x.num = n.num AND x.prop = ? "  # noqa: S608
            f"AND x.value IN ({marks}))"
        )
        restrict_params = [num(ids.INSTANCE_OF), *(num(c) for c in classes)]
    db = index.db
    prefixed = db.execute(
        "SELECT n.id, n.num, n.kind, n.norm FROM name n WHERE n.norm >= ? AND n.norm < ? "  # noqa: S608
        f"AND n.kind IN (0, 1){restrict} ORDER BY n.norm LIMIT ?",
        (folded, folded + "\U0010ffff", *restrict_params, MAX_CANDIDATES),
    ).fetchall()
    words = db.execute(
        "SELECT n.id, n.num, n.kind, n.norm FROM name_fts f JOIN name n ON n.id = f.rowid "  # noqa: S608
        f"WHERE name_fts MATCH ?{restrict} LIMIT ?",
        (expression, *restrict_params, MAX_CANDIDATES),
    ).fetchall()
    best: dict[int, tuple[int, int, int, int]] = {}  # num -> (tier, length, num, name id)
    for name_id, number, kind, norm in prefixed + words:
        if norm == folded:
            tier = kind
        elif norm.startswith(folded):
            tier = 2 + kind
        else:
            tier = 4 + kind
        key = (tier, len(norm), number, name_id)
        if number not in best or key < best[number]:
            best[number] = key
    ranked = sorted(best.values())
    page = ranked[offset : offset + limit]
    names = _names(db, [key[3] for key in page])
    hits = []
    for tier, _, number, name_id in page:
        kind, lang, text = names[name_id]
        hits.append(Hit(entity_id(number), tier, text, lang, kind))
    return Results(len(ranked), hits, MAX_CANDIDATES in (len(prefixed), len(words)))


def _names(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[int, str, str]]:
    """(kind, language, text) of names by id."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT id, kind, lang, text FROM name WHERE id IN ({marks})", ids)  # noqa: S608
    return {name_id: (kind, lang, text) for name_id, kind, lang, text in rows}


__all__ = ["ALIAS", "LABEL", "MAX_CANDIDATES", "Hit", "Results", "match_expression", "search"]
