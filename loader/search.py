"""Full-text search over labels and aliases in every language (the page index's FTS5).

Case- and accent-insensitive, every word matched as a prefix, ranked: exact label,
exact alias, names starting with the query, then the rest by BM25 and length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from loader.page_index import ALIAS, LABEL, PageIndex, entity_id, fold, num

#: Words of a query used for matching; more are ignored (and said so).
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"\w+")
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
    """A page of hits and the total number of matching entities."""

    total: int
    hits: list[Hit]


def match_expression(query: str) -> str | None:
    """The FTS5 query for ``query``: each word quoted (so no FTS5 syntax gets through)
    and matched as a prefix; None when the query has no words."""
    words = _WORD.findall(fold(query))[:MAX_QUERY_WORDS]
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
    params: list[object] = [expression, folded, len(folded), folded]
    restrict = ""
    if classes is not None:
        marks = ",".join("?" * len(classes))
        restrict = f"WHERE n.num IN (SELECT num FROM fact WHERE prop = ? AND value IN ({marks}))"  # noqa: S608
        params += [num("P1"), *(num(c) for c in classes)]
    sql = f"""
        WITH hits AS (
            SELECT rowid AS id, rank AS score FROM name_fts WHERE name_fts MATCH ?1
        ),
        ranked AS (
            SELECT n.num AS num,
                   min(CASE WHEN n.norm = ?2 THEN n.kind
                            WHEN substr(n.norm, 1, ?3) = ?4 THEN 2 + n.kind
                            ELSE 4 + n.kind END) AS tier,
                   min(h.score) AS score,
                   min(length(n.norm)) AS len
            FROM hits h JOIN name n ON n.id = h.id
            {restrict}
            GROUP BY n.num
        )
        SELECT num, tier, count(*) OVER () FROM ranked
        ORDER BY tier, score, len, num LIMIT ? OFFSET ?
        """  # noqa: S608 - only placeholders are added
    rows = index.db.execute(sql, [*params, limit, offset]).fetchall()
    if not rows:
        if offset == 0:
            return Results(0, [])
        first = index.db.execute(sql, [*params, 1, 0]).fetchall()
        return Results(int(first[0][2]) if first else 0, [])
    matched = _best_names(index, [r[0] for r in rows], folded)
    hits = []
    for number, tier, _ in rows:
        kind, lang, text = matched.get(number, (LABEL, "", ""))
        hits.append(Hit(entity_id(number), tier, text, lang, kind))
    return Results(int(rows[0][2]), hits)


def _best_names(
    index: PageIndex, numbers: Sequence[int], folded: str
) -> dict[int, tuple[int, str, str]]:
    """For each entity, the label or alias that best explains the match."""
    marks = ",".join("?" * len(numbers))
    rows = index.db.execute(
        f"SELECT num, kind, lang, text, norm FROM name WHERE num IN ({marks}) "  # noqa: S608
        "AND kind IN (?, ?)",
        (*numbers, LABEL, ALIAS),
    )
    words = _WORD.findall(folded)
    best: dict[int, tuple[tuple[int, int, int], tuple[int, str, str]]] = {}
    for number, kind, lang, text, norm in rows:
        if norm == folded:
            tier = kind
        elif norm.startswith(folded):
            tier = 2 + kind
        else:
            name_words = _WORD.findall(norm)
            found = all(any(w.startswith(q) for w in name_words) for q in words)
            tier = 4 + kind if found else 9
        key = (tier, len(norm), 0)
        if number not in best or key < best[number][0]:
            best[number] = (key, (kind, lang, text))
    return {n: value for n, (_, value) in best.items()}
