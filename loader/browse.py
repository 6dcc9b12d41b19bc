"""Class listings with facets on controlled values (the page index's ``fact`` table).

A class's members are the instances (instance of, P1) of the class or of its
subclasses (subclass of, P2). Facets are the item-valued properties whose values are
controlled: concepts of a controlled vocabulary (instances of a class that is an
instance of "controlled vocabulary", Q20 — this includes capacities and languages),
territories (Q9), and, when members belong to several classes, instance of itself.
Filters combine with AND; counts reflect the other filters. Every value is bound as
an SQL parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from loader.page_index import PageIndex, entity_id, num

INSTANCE_OF, SUBCLASS_OF = num("P1"), num("P2")
CONTROLLED_VOCABULARY = num("Q20")
TERRITORY = num("Q9")
#: Values listed per facet (the selected ones are always listed too).
FACET_VALUES = 15


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet and how many of the listed entities have it."""

    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    """A property to filter by and its most frequent values."""

    property: str
    values: list[FacetValue]
    more: int  # values not listed


@dataclass(frozen=True)
class Listing:
    """A page of a class's members."""

    total: int
    members: list[str]
    facets: list[Facet]


def subclasses(index: PageIndex, cls: str) -> list[str]:
    """``cls`` and every class below it (subclass of, transitively)."""
    rows = index.db.execute(
        """WITH RECURSIVE below(num) AS (
               SELECT ? UNION SELECT f.num FROM fact f JOIN below b ON f.value = b.num
               WHERE f.prop = ?)
           SELECT num FROM below ORDER BY num""",
        (num(cls), SUBCLASS_OF),
    )
    return [entity_id(n) for (n,) in rows]


def class_counts(index: PageIndex) -> list[tuple[str, int]]:
    """(class id, entities whose instance-of is that class), most used first."""
    rows = index.db.execute(
        "SELECT value, count(*) FROM fact WHERE prop = ? GROUP BY value "
        "ORDER BY count(*) DESC, value",
        (INSTANCE_OF,),
    )
    return [(entity_id(v), int(n)) for v, n in rows]


def member_count(index: PageIndex, classes: Sequence[str]) -> int:
    """Entities that are instances of any of ``classes``."""
    marks = ",".join("?" * len(classes))
    row = index.db.execute(
        f"SELECT count(DISTINCT num) FROM fact WHERE prop = ? AND value IN ({marks})",  # noqa: S608
        (INSTANCE_OF, *(num(c) for c in classes)),
    ).fetchone()
    return int(row[0])


def _members_sql(
    classes: Sequence[str], filters: Mapping[str, Sequence[str]]
) -> tuple[str, list[int]]:
    """SQL selecting the filtered members' nums, and its parameters."""
    marks = ",".join("?" * len(classes))
    sql = f"SELECT DISTINCT m.num FROM fact m WHERE m.prop = ? AND m.value IN ({marks})"  # noqa: S608
    params = [INSTANCE_OF, *(num(c) for c in classes)]
    for prop, values in sorted(filters.items()):
        for value in values:
            sql += (
                " AND EXISTS (SELECT 1 FROM fact f WHERE f.prop = ? AND f.value = ? "
                "AND f.num = m.num)"
            )
            params += [num(prop), num(value)]
    return sql, params


def facet_properties(index: PageIndex, classes: Sequence[str]) -> list[str]:
    """Properties with controlled values on the members of ``classes``."""
    members, params = _members_sql(classes, {})
    rows = index.db.execute(
        f"""WITH members AS ({members}),
            controlled AS ({_CONTROLLED})
            SELECT DISTINCT f.prop FROM members JOIN fact f ON f.num = members.num
            WHERE f.value IN controlled ORDER BY f.prop DESC""",  # noqa: S608
        [*params, *_CONTROLLED_PARAMS],
    )
    props = [entity_id(p) for (p,) in rows]
    if _several_classes(index, classes):
        props.insert(0, "P1")
    return props


# Concepts of controlled vocabularies, and territories.
_CONTROLLED = """
    SELECT c.num FROM fact c WHERE c.prop = ? AND c.value IN (
        SELECT v.num FROM fact v WHERE v.prop = ? AND v.value = ?
        UNION ALL SELECT ?)
"""
_CONTROLLED_PARAMS = [INSTANCE_OF, INSTANCE_OF, CONTROLLED_VOCABULARY, TERRITORY]


def _several_classes(index: PageIndex, classes: Sequence[str]) -> bool:
    if len(classes) < 2:
        return False
    marks = ",".join("?" * len(classes))
    row = index.db.execute(
        f"SELECT count(DISTINCT value) FROM fact WHERE prop = ? AND value IN ({marks})",  # noqa: S608
        (INSTANCE_OF, *(num(c) for c in classes)),
    ).fetchone()
    return int(row[0]) > 1


def listing(
    index: PageIndex,
    classes: Sequence[str],
    filters: Mapping[str, Sequence[str]],
    facets: Sequence[str],
    *,
    limit: int,
    offset: int,
) -> Listing:
    """Members of ``classes`` having every filter value, sorted by label, with the
    counts of each facet property's values among them."""
    members, params = _members_sql(classes, filters)
    rows = index.db.execute(
        f"""WITH members AS ({members})
            SELECT e.num, count(*) OVER () FROM members JOIN entity e ON e.num = members.num
            ORDER BY e.sort_key, e.num LIMIT ? OFFSET ?""",  # noqa: S608
        [*params, limit, offset],
    ).fetchall()
    if rows:
        total = int(rows[0][1])
    else:
        total = int(
            index.db.execute(f"SELECT count(*) FROM ({members})", params).fetchone()[0]  # noqa: S608
        )
    found: list[Facet] = []
    if facets:
        marks = ",".join("?" * len(facets))
        counts = index.db.execute(
            f"""WITH members AS ({members})
                SELECT f.prop, f.value, count(*) AS n
                FROM members JOIN fact f ON f.num = members.num
                WHERE f.prop IN ({marks}) GROUP BY f.prop, f.value
                ORDER BY f.prop, n DESC, f.value""",  # noqa: S608
            [*params, *(num(p) for p in facets)],
        ).fetchall()
        by_prop: dict[str, list[tuple[str, int]]] = {}
        for prop, value, n in counts:
            by_prop.setdefault(entity_id(prop), []).append((entity_id(value), int(n)))
        for prop in facets:
            values = by_prop.get(prop, [])
            chosen = set(filters.get(prop, ()))
            shown = [
                FacetValue(v, n, v in chosen)
                for i, (v, n) in enumerate(values)
                if i < FACET_VALUES or v in chosen
            ]
            shown += [FacetValue(v, 0, True) for v in sorted(chosen - {v for v, _ in values})]
            if shown:
                found.append(Facet(prop, shown, max(0, len(values) - FACET_VALUES)))
    return Listing(total, [entity_id(n) for n, _ in rows], found)
