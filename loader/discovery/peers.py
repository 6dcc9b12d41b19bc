"""Capacity matching ("find help / offer help") over the page index.

People and organisations state capacities offered (P14) and needed (P15), each statement
qualified with modality (P38), language (P39) and territory (P40). A search names one or
more capacities and, optionally, languages, territories and modalities, and a direction:
``offer`` finds those who offer the capacities, ``need`` those who need them.

Rules, all stated on the page and in the API's answer (no hidden scoring):

* a capacity includes its narrower capacities (broader concept, P20), up to
  :data:`MAX_DEPTH` levels below it; a territory includes the territories (instances of Q9)
  located in it (located in, P12), up to :data:`MAX_DEPTH` levels;
* a statement matches when its capacity is one of the asked capacities or below one;
  only best-rank statements count (deprecated ones are no longer meant);
* each result is a person or organisation with at least one matching statement; its
  matched criteria are the asked capacities, languages, territories and modalities
  named by its matching statements (each asked value counts once);
* results are ordered as :data:`PEER_ORDER` says (the SQL below does exactly that); with
  ``all`` only results matching every criterion are kept.

Reads only the page index's ``link`` and ``fact`` tables (every statement and qualifier
value pointing at an entity, and the truthy values), so hidden or erased entities, which
never reach the index, never match. Every value is bound as an SQL parameter.
"""

from __future__ import annotations

import json
import weakref
from array import array
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from loader.base import ids
from loader.base.errors import BigtentError
from loader.base.ids import BROADER, INSTANCE_OF, LOCATED_IN
from loader.base.lru import ByteLRU
from loader.storage.page_index import QUALIFIER, VALUE, PageIndex, entity_id, num

OFFER, NEED = "offer", "need"
DIRECTIONS = {OFFER: ids.CAPACITY_OFFERED, NEED: ids.CAPACITY_NEEDED}
#: The opposite direction: who can help with a need are those offering it.
OPPOSITE = {OFFER: NEED, NEED: OFFER}
MODALITY, LANGUAGE, TERRITORY = ids.MODALITY, ids.LANGUAGE, ids.APPLIES_TO_TERRITORY
PROFICIENCY = ids.PROFICIENCY_LEVEL
#: Class of the values each criterion accepts (ontology/README.md).
CAPACITY_CLASS, LANGUAGE_CLASS, TERRITORY_CLASS, MODALITY_CLASS = (
    ids.CAPACITY,
    ids.LANGUAGE_ITEM,
    ids.TERRITORY,
    ids.MODALITIES,
)
#: Levels below an asked capacity or territory that still match (the taxonomy has three).
MAX_DEPTH = 3
#: How results are ordered, as every reader is told: the page, the API's ``rules``, the
#: README and the example query's header say this sentence (``tests/test_peers.py``).
PEER_ORDER = (
    "Results are ordered by the number of matched criteria, most first, then by name, then by id."
)
#: Values one search may name, per criterion and in all.
MAX_VALUES = {"capacity": 20, "language": 10, "territory": 10, "modality": 6}
MAX_CRITERIA = 40
#: Statements examined per search; beyond, the result says it is truncated.
MAX_STATEMENTS = 200_000
#: Statements examined per capacity statement for the sections of an entity page.
SECTION_BUDGET = 200
#: Memory for remembered searches per page index (rankings, pages, answers).
CACHE_BYTES = 64 * 1024 * 1024
#: Results of a search kept ranked (its first pages); a page beyond them ranks the search
#: again in full. Kept whole, a broad search at 1M records took 1.1 MB (70,000 results),
#: so the cache held some fifty searches and a round of more pushed each one out.
RANKED_KEPT = 1000
T = TypeVar("T")
_CACHES: weakref.WeakKeyDictionary[PageIndex, ByteLRU[object]] = weakref.WeakKeyDictionary()


def remember(
    index: PageIndex, key: Hashable, compute: Callable[[], T], size: Callable[[T], int]
) -> T:
    """``compute()``, remembered (LRU, CACHE_BYTES per index) until the index changes.

    Searches have their own cache: the index's small memo would be flushed by a few
    hundred different searches."""
    cache = _CACHES.get(index)
    if cache is None:
        cache = _CACHES.setdefault(index, ByteLRU(CACHE_BYTES))
    stamped = (index.indexed_id, key)
    found = cache.get(stamped)
    if found is None:
        found = compute()
        cache.put(stamped, found, size(found))
    return found  # type: ignore[return-value]


@dataclass(frozen=True)
class Criteria:
    """What a search asks for (ids, in the order given)."""

    capacities: tuple[str, ...]
    languages: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    direction: str = OFFER
    require_all: bool = False

    @property
    def count(self) -> int:
        """How many criteria were asked."""
        return _criteria_count(self)


def _criteria_count(found: Criteria | Match) -> int:
    """Capacities, languages, territories and modalities, counted together."""
    return sum(
        len(values)
        for values in (found.capacities, found.languages, found.territories, found.modalities)
    )


@dataclass(frozen=True)
class Reason:
    """One statement of a result that matched, and what of the search it matched."""

    statement: str
    capacity: str  # the capacity the statement names
    asked: tuple[str, ...]  # the asked capacities it is (or is below)
    languages: tuple[str, ...]  # asked languages the statement names
    territories: tuple[tuple[str, str], ...]  # (the statement's territory, asked one)
    modalities: tuple[str, ...]


@dataclass
class Match:
    """A person or organisation and why it matched."""

    id: str
    capacities: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    territories: list[str] = field(default_factory=list)
    modalities: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    @property
    def matched(self) -> int:
        """Number of asked criteria this result matches."""
        return _criteria_count(self)


@dataclass(frozen=True)
class Matches:
    """A page of a search's results, in order, and how many there are in all."""

    criteria: Criteria
    total: int
    results: list[Match]
    truncated: bool = False


@dataclass(frozen=True)
class Ranking:
    """Every result of a search in order: entity numbers and matched criteria counts
    (compact, so many searches can be remembered)."""

    holders: array[int]  # the first ``top`` of them when the ranking was asked for those
    counts: array[int]
    truncated: bool
    total: int


def check_criteria(index: PageIndex, criteria: Criteria) -> None:
    """400 naming the parameter when a value is not an entity of the right class, or when
    too many are asked (the verdict is remembered until the index next changes)."""

    def verdict() -> tuple[BigtentError | None]:
        try:
            _check_criteria(index, criteria)
        except BigtentError as error:
            return (error,)
        return (None,)

    (error,) = remember(index, ("check", criteria), verdict, lambda _: 200)
    if error is not None:
        raise BigtentError(error.message, title=error.title, status=error.status)


def _check_criteria(index: PageIndex, criteria: Criteria) -> None:
    if not criteria.capacities:
        raise BigtentError(
            "choose at least one capacity (parameter capacity, e.g. capacity=Q334)",
            title="No capacity chosen",
        )
    if criteria.direction not in DIRECTIONS:
        raise BigtentError(
            f"direction={criteria.direction[:20]!r} is not offered: use offer (who offers "
            "the capacities) or need (who needs them)",
            title="Unknown direction",
        )
    given = {
        "capacity": (criteria.capacities, CAPACITY_CLASS),
        "language": (criteria.languages, LANGUAGE_CLASS),
        "territory": (criteria.territories, TERRITORY_CLASS),
        "modality": (criteria.modalities, MODALITY_CLASS),
    }
    if criteria.count > MAX_CRITERIA:
        raise BigtentError(
            f"{criteria.count} criteria were given; at most {MAX_CRITERIA} can be combined",
            title="Too many criteria",
        )
    for name, (values, cls) in given.items():
        if len(values) > MAX_VALUES[name]:
            raise BigtentError(
                f"{len(values)} values of {name} were given; at most {MAX_VALUES[name]}",
                title="Too many criteria",
            )
        allowed = set(_instances(index, cls, values))
        for value in values:
            if value not in allowed:
                raise BigtentError(
                    f"{name}={value[:40]!r} is not a {name} of this catalogue: give the id "
                    f"of an instance of {cls} (see /browse/{cls})",
                    title=f"Unknown {name}",
                )


def _instances(index: PageIndex, cls: str, values: Sequence[str]) -> list[str]:
    """Those of ``values`` that are instances of ``cls`` or of a class below it."""
    from loader.base.namespaces import ENTITY_ID
    from loader.discovery.browse import subclasses

    wanted = [num(v) for v in values if ENTITY_ID.match(v) and v.startswith("Q")]
    if not wanted:
        return []
    classes = [num(c) for c in subclasses(index, cls)]
    rows = index.db.execute(
        "SELECT num FROM fact WHERE prop = ? AND num IN (SELECT value FROM json_each(?)) "
        "AND value IN (SELECT value FROM json_each(?))",
        (num(INSTANCE_OF), json.dumps(wanted), json.dumps(classes)),
    )
    return [entity_id(n) for (n,) in rows]


#: Values below asked ones (capacities by broader concept; territories, instances of Q9,
#: by located in), each with the asked value it is under, up to MAX_DEPTH levels.
_BELOW_SQL = """
WITH RECURSIVE below(num, asked, depth) AS (
    SELECT value, value, 0 FROM json_each(:values)
    UNION SELECT f.num, b.asked, b.depth + 1 FROM fact f JOIN below b ON f.value = b.num
    WHERE f.prop = :prop AND b.depth < :depth
    AND (:class = 0 OR EXISTS (SELECT 1 FROM fact c WHERE c.prop = :instance_of
                               AND c.value = :class AND c.num = f.num)))
SELECT DISTINCT num, asked FROM below ORDER BY num, asked
"""
#: The expansions above, passed to the queries below as JSON [[num, asked], ...].
_CAPACITIES_BELOW = """
    cap(num, asked) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')
        FROM json_each(:capacity_pairs))"""
_TERRITORIES_BELOW = """
    terr(num, asked) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')
        FROM json_each(:territory_pairs))"""
#: Best-rank statements naming an asked capacity or one below it.
_STATEMENTS = """
    st(source, statement, target, asked) AS (
        SELECT v.source, v.statement, v.target, cap.asked
        FROM cap JOIN link v ON v.target = cap.num AND v.prop = :prop AND v.kind = :value
        WHERE EXISTS (SELECT 1 FROM fact t WHERE t.prop = v.prop AND t.value = v.target
                      AND t.num = v.source)
        LIMIT :max_statements)"""

#: Every result with its number of matched criteria (each asked value once), in order:
#: each criterion hit is one row of ``hit`` (a UNION, so counted once per holder).
_RANKING_SQL = (
    "WITH RECURSIVE"  # noqa: S608 - fixed fragments; every value is a bound parameter
    + _CAPACITIES_BELOW
    + ","
    + _TERRITORIES_BELOW
    + ","
    + _STATEMENTS
    + """,
    hit(source, what) AS (
        SELECT source, asked FROM st
        UNION SELECT st.source, -1000000000 - q.target FROM st JOIN link q
            ON q.target IN (SELECT value FROM json_each(:languages)) AND q.source = st.source
            AND q.prop = :language AND q.kind = :qualifier AND q.statement = st.statement
        UNION SELECT st.source, -2000000000 - terr.asked
            FROM st CROSS JOIN terr CROSS JOIN link q ON q.target = terr.num
            AND q.source = st.source AND q.prop = :territory AND q.kind = :qualifier
            AND q.statement = st.statement
        UNION SELECT st.source, -3000000000 - q.target FROM st JOIN link q
            ON q.target IN (SELECT value FROM json_each(:modalities)) AND q.source = st.source
            AND q.prop = :modality AND q.kind = :qualifier AND q.statement = st.statement)
SELECT h.source, count(*) AS n, (SELECT count(*) FROM st), count(*) OVER () FROM hit h
JOIN entity e ON e.num = h.source
WHERE h.source != :exclude
GROUP BY h.source HAVING n >= :at_least
ORDER BY n DESC, e.sort_key, h.source
LIMIT :top
"""
)

#: The statements of some results, with the asked values each names.
_DETAILS_SQL = (
    "WITH RECURSIVE"  # noqa: S608 - fixed fragments; every value is a bound parameter
    + _CAPACITIES_BELOW
    + ","
    + _TERRITORIES_BELOW
    + """
SELECT v.source, v.statement, v.target, group_concat(DISTINCT cap.asked),
    (SELECT group_concat(q.target) FROM link q
        WHERE q.target IN (SELECT value FROM json_each(:languages)) AND q.source = v.source
        AND q.prop = :language AND q.kind = :qualifier AND q.statement = v.statement),
    (SELECT group_concat(q.target || ':' || t.asked) FROM terr t JOIN link q
        ON q.target = t.num AND q.source = v.source AND q.prop = :territory
        AND q.kind = :qualifier AND q.statement = v.statement),
    (SELECT group_concat(q.target) FROM link q
        WHERE q.target IN (SELECT value FROM json_each(:modalities)) AND q.source = v.source
        AND q.prop = :modality AND q.kind = :qualifier AND q.statement = v.statement)
FROM cap JOIN link v ON v.target = cap.num AND v.prop = :prop AND v.kind = :value
WHERE v.source IN (SELECT value FROM json_each(:holders))
AND EXISTS (SELECT 1 FROM fact t WHERE t.prop = v.prop AND t.value = v.target
            AND t.num = v.source)
GROUP BY v.source, v.statement, v.target
"""
)


def _nums(values: Sequence[str]) -> str:
    return json.dumps([num(v) for v in values])


def _ids(concatenated: str | None) -> list[int]:
    return [int(v) for v in concatenated.split(",")] if concatenated else []


def _below(index: PageIndex, values: Sequence[str], prop: str, cls: str | None) -> str:
    """JSON [[num, asked num], ...] of ``values`` and everything below them by ``prop``
    (only instances of ``cls`` when given); remembered until the index changes."""
    if not values:
        return "[]"

    def compute() -> str:
        rows = index.db.execute(
            _BELOW_SQL,
            {
                "values": _nums(values),
                "prop": num(prop),
                "depth": MAX_DEPTH,
                "instance_of": num(INSTANCE_OF),
                "class": 0 if cls is None else num(cls),
            },
        ).fetchall()
        return json.dumps(rows)

    return remember(index, ("below", tuple(values), prop, cls), compute, len)


def _parameters(index: PageIndex, criteria: Criteria) -> dict[str, object]:
    return {
        "capacity_pairs": _below(index, criteria.capacities, BROADER, None),
        "territory_pairs": _below(index, criteria.territories, LOCATED_IN, TERRITORY_CLASS),
        "languages": _nums(criteria.languages),
        "modalities": _nums(criteria.modalities),
        "prop": num(DIRECTIONS[criteria.direction]),
        "language": num(LANGUAGE),
        "territory": num(TERRITORY),
        "modality": num(MODALITY),
        "value": VALUE,
        "qualifier": QUALIFIER,
    }


def ranking(
    index: PageIndex,
    criteria: Criteria,
    exclude: str | None = None,
    budget: int = MAX_STATEMENTS,
    top: int | None = None,
) -> Ranking:
    """Every result of ``criteria`` (checked first with :func:`check_criteria`) in the
    documented order (only the first ``top`` when given), ``exclude`` left out; remembered
    until the index next changes. At most ``budget`` statements are examined: beyond,
    the ranking is ``truncated``."""

    def compute() -> Ranking:
        parameters = _parameters(index, criteria) | {
            "top": -1 if top is None else top,
            "max_statements": budget + 1,
            "exclude": 0 if exclude is None else num(exclude),
            "at_least": criteria.count if criteria.require_all else 1,
        }
        rows = index.db.execute(_RANKING_SQL, parameters).fetchall()
        return Ranking(
            array("q", (row[0] for row in rows)),
            array("q", (row[1] for row in rows)),
            bool(rows) and rows[0][2] > budget,
            rows[0][3] if rows else 0,
        )

    return remember(
        index,
        ("ranking", criteria, exclude, budget, top),
        compute,
        lambda r: 16 * len(r.holders) + 200,
    )


def match(
    index: PageIndex,
    criteria: Criteria,
    *,
    limit: int,
    offset: int = 0,
    exclude: str | None = None,
    budget: int = MAX_STATEMENTS,
    top_only: bool = False,
) -> Matches:
    """A page of the results of ``criteria``, each with the reasons it matched (see
    :func:`ranking` for ``budget``; ``top_only`` ranks only as far as the page)."""

    def compute() -> Matches:
        end = offset + limit
        top = end if top_only else (RANKED_KEPT if end <= RANKED_KEPT else None)
        ranked = ranking(index, criteria, exclude, budget, top)
        holders = list(ranked.holders[offset : offset + limit])
        return Matches(criteria, ranked.total, _details(index, criteria, holders), ranked.truncated)

    return remember(
        index,
        ("page", criteria, exclude, limit, offset, budget, top_only),
        compute,
        lambda m: 300 + 600 * sum(1 + len(r.reasons) for r in m.results),
    )


def _details(index: PageIndex, criteria: Criteria, holders: list[int]) -> list[Match]:
    """The matches of ``holders`` (in that order) with their reasons."""
    if not holders:
        return []
    parameters = _parameters(index, criteria) | {"holders": json.dumps(holders)}
    found = {n: Match(entity_id(n)) for n in holders}
    for source, statement, target, asked, languages, territories, modalities in index.db.execute(
        _DETAILS_SQL, parameters
    ):
        places = sorted(
            {tuple(int(n) for n in pair.split(":")) for pair in territories.split(",")}
            if territories
            else set()
        )
        reason = Reason(
            statement,
            entity_id(target),
            tuple(entity_id(n) for n in sorted(set(_ids(asked)))),
            tuple(entity_id(n) for n in sorted(set(_ids(languages)))),
            tuple((entity_id(a), entity_id(b)) for a, b in places),
            tuple(entity_id(n) for n in sorted(set(_ids(modalities)))),
        )
        result = found[source]
        result.reasons.append(reason)
        _add(result.capacities, reason.asked)
        _add(result.languages, reason.languages)
        _add(result.territories, [asked for _, asked in reason.territories])
        _add(result.modalities, reason.modalities)
    for result in found.values():
        _order_like(result, criteria)
    return [found[n] for n in holders]


def _add(target: list[str], values: Sequence[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


def _order_like(result: Match, criteria: Criteria) -> None:
    """Matched values in the order the search gave them; fullest reasons first."""
    result.capacities.sort(key=criteria.capacities.index)
    result.languages.sort(key=criteria.languages.index)
    result.territories.sort(key=criteria.territories.index)
    result.modalities.sort(key=criteria.modalities.index)
    result.reasons.sort(key=lambda r: (-_reason_size(r), r.capacity, r.statement))


def _reason_size(reason: Reason) -> int:
    return (
        len(reason.asked) + len(reason.languages) + len(reason.territories) + len(reason.modalities)
    )


@dataclass(frozen=True)
class Statement:
    """One capacity statement of an entity, with its qualifier values."""

    statement: str
    capacity: str
    languages: tuple[str, ...]
    territories: tuple[str, ...]
    modalities: tuple[str, ...]
    #: proficiency levels (P37): the statement's own, else those of the entity's
    #: "capacity known" (P13) statements of the same capacity
    levels: tuple[str, ...] = ()

    def criteria(self, direction: str) -> Criteria:
        """The search that finds its counterparts (those with ``direction``)."""
        return Criteria(
            (self.capacity,),
            self.languages,
            self.territories,
            self.modalities,
            direction,
        )


def statements(index: PageIndex, entity: str, direction: str) -> list[Statement]:
    """The entity's best-rank capacity statements in ``direction`` (offer or need)."""
    prop = num(DIRECTIONS[direction])
    me = num(entity)
    rows = index.db.execute(
        """SELECT v.statement, v.target FROM link v
           WHERE v.source = ? AND v.prop = ? AND v.kind = ?
           AND EXISTS (SELECT 1 FROM fact t WHERE t.prop = v.prop AND t.value = v.target
                       AND t.num = v.source)
           ORDER BY v.target, v.statement""",
        (me, prop, VALUE),
    ).fetchall()
    if not rows:
        return []
    qualifiers: dict[str, dict[int, list[str]]] = {}
    for statement, qprop, target in index.db.execute(
        "SELECT statement, prop, target FROM link WHERE source = ? AND kind = ? "
        "ORDER BY statement, prop, target",
        (me, QUALIFIER),
    ):
        qualifiers.setdefault(statement, {}).setdefault(qprop, []).append(entity_id(target))
    known = _known_levels(index, me, qualifiers)
    found = []
    for statement, target in rows:
        values = qualifiers.get(statement, {})
        capacity = entity_id(target)
        found.append(
            Statement(
                statement,
                capacity,
                tuple(values.get(num(LANGUAGE), [])),
                tuple(values.get(num(TERRITORY), [])),
                tuple(values.get(num(MODALITY), [])),
                tuple(values.get(num(PROFICIENCY), [])) or known.get(capacity, ()),
            )
        )
    return found


def _known_levels(
    index: PageIndex, me: int, qualifiers: dict[str, dict[int, list[str]]]
) -> dict[str, tuple[str, ...]]:
    """Capacity -> proficiency levels of the entity's best-rank "capacity known" (P13)
    statements."""
    levels: dict[str, list[str]] = {}
    for statement, target in index.db.execute(
        """SELECT v.statement, v.target FROM link v
           WHERE v.source = ? AND v.prop = ? AND v.kind = ?
           AND EXISTS (SELECT 1 FROM fact t WHERE t.prop = v.prop AND t.value = v.target
                       AND t.num = v.source)""",
        (me, num(ids.CAPACITY_KNOWN), VALUE),
    ):
        found = levels.setdefault(entity_id(target), [])
        _add(found, qualifiers.get(statement, {}).get(num(PROFICIENCY), []))
    return {capacity: tuple(values) for capacity, values in levels.items() if values}


def offered(
    index: PageIndex, entities: Sequence[str], direction: str
) -> dict[str, dict[str, Statement]]:
    """Each entity's capacity statements in ``direction`` by statement id: what a
    result offers (or needs) in full, level, modalities, languages and territories,
    not only the values a search matched."""

    def compute() -> dict[str, dict[str, Statement]]:
        return {
            entity: {st.statement: st for st in statements(index, entity, direction)}
            for entity in entities
        }

    return remember(
        index,
        ("offered", tuple(entities), direction),
        compute,
        lambda found: 200 + sum(600 * len(v) for v in found.values()),
    )


@dataclass(frozen=True)
class Unmatched:
    """The asked criteria a result does not match."""

    capacities: tuple[str, ...]
    languages: tuple[str, ...]
    territories: tuple[str, ...]
    modalities: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.capacities or self.languages or self.territories or self.modalities)


def unmatched(criteria: Criteria, result: Match) -> Unmatched:
    """What of ``criteria`` ``result`` does not match, in the order the search gave."""
    return Unmatched(
        tuple(c for c in criteria.capacities if c not in result.capacities),
        tuple(c for c in criteria.languages if c not in result.languages),
        tuple(c for c in criteria.territories if c not in result.territories),
        tuple(c for c in criteria.modalities if c not in result.modalities),
    )


@dataclass(frozen=True)
class Counterparts:
    """For one capacity statement of an entity: who matches it the other way."""

    statement: Statement
    total: int
    results: list[Match]
    many: bool = False  # more statements to examine than an entity page may spend


def counterparts(index: PageIndex, entity: str, direction: str, limit: int) -> list[Counterparts]:
    """For each of the entity's statements in ``direction``, the best ``limit`` matches
    in the opposite direction (who can help with a need; who needs an offer).

    Entity pages show these, so the work per statement is bounded by SECTION_BUDGET
    statements examined; a broader statement gets ``many`` and no results (the page
    links to the full search instead)."""

    def compute() -> list[Counterparts]:
        found = []
        for st in statements(index, entity, direction):
            criteria = st.criteria(OPPOSITE[direction])
            matches = match(
                index, criteria, limit=limit, exclude=entity, budget=SECTION_BUDGET, top_only=True
            )
            if matches.truncated:
                found.append(Counterparts(st, 0, [], many=True))
            else:
                found.append(Counterparts(st, matches.total, matches.results))
        return found

    return remember(
        index,
        ("counterparts", entity, direction, limit),
        compute,
        lambda found: 200 + sum(400 + 800 * len(c.results) for c in found),
    )


def choices(index: PageIndex, cls: str, limit: int) -> list[str]:
    """Up to ``limit`` instances of ``cls`` (or of a class below it), by name: the
    values a form offers for a criterion."""
    from loader.discovery.browse import subclasses

    def compute() -> list[str]:
        classes = [num(c) for c in subclasses(index, cls)]
        rows = index.db.execute(
            "SELECT e.num FROM fact f JOIN entity e ON e.num = f.num WHERE f.prop = ? "
            "AND f.value IN (SELECT value FROM json_each(?)) ORDER BY e.sort_key, e.num LIMIT ?",
            (num(INSTANCE_OF), json.dumps(classes), limit),
        )
        return [entity_id(n) for (n,) in rows]

    return index.memo(("choices", cls, limit), compute)


def capacity_tree(index: PageIndex, limit: int) -> list[tuple[str, list[str]]]:
    """The capacity taxonomy as (root, every capacity below it in name order), roots by
    name; at most ``limit`` capacities in all (the rest are found by name)."""

    def compute() -> list[tuple[str, list[str]]]:
        capacities = choices(index, CAPACITY_CLASS, limit)
        parents = index.values(capacities, BROADER)
        position = {c: i for i, c in enumerate(capacities)}

        def root(capacity: str) -> str:
            seen = [capacity]
            while len(seen) <= MAX_DEPTH and parents.get(seen[-1]):
                seen.append(parents[seen[-1]][0])
            return seen[-1]

        tree: dict[str, list[str]] = {}
        for capacity in capacities:
            top = root(capacity)
            tree.setdefault(top, [])
            if capacity != top:
                tree[top].append(capacity)
        return sorted(tree.items(), key=lambda item: position.get(item[0], len(position)))

    return index.memo(("capacity_tree", limit), compute)
