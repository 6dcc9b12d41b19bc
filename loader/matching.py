"""Capacity matching ("find help / offer help") over the page index.

People and organisations state capacities offered (P14) and needed (P15), each statement
qualified with modality (P38), language (P39) and territory (P40). A search names one or
more capacities and, optionally, languages, territories and modalities, and a direction:
``offer`` finds those who offer the capacities, ``need`` those who need them.

Rules, all stated on the page and in the API's answer (no hidden scoring):

* a capacity includes its narrower capacities (broader concept, P20), up to
  :data:`MAX_DEPTH` levels below it; a territory includes the territories located in it
  (located in, P12), up to :data:`MAX_DEPTH` levels;
* a statement matches when its capacity is one of the asked capacities or below one;
  only best-rank statements count (deprecated ones are no longer meant);
* each result is a person or organisation with at least one matching statement; its
  matched criteria are the asked capacities, languages, territories and modalities
  named by its matching statements (each asked value counts once);
* results are ordered by the number of matched criteria (most first), then by name,
  then by id; with ``all`` only results matching every criterion are kept.

Reads only the page index's ``link`` and ``fact`` tables (every statement and qualifier
value pointing at an entity, and the truthy values), so hidden or erased entities, which
never reach the index, never match. Every value is bound as an SQL parameter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from loader.errors import BigtentError
from loader.page_index import QUALIFIER, VALUE, PageIndex, entity_id, num

OFFER, NEED = "offer", "need"
DIRECTIONS = {OFFER: "P14", NEED: "P15"}
#: The opposite direction: who can help with a need are those offering it.
OPPOSITE = {OFFER: NEED, NEED: OFFER}
BROADER, LOCATED_IN, INSTANCE_OF = "P20", "P12", "P1"
MODALITY, LANGUAGE, TERRITORY = "P38", "P39", "P40"
#: Class of the values each criterion accepts (ontology/README.md).
CAPACITY_CLASS, LANGUAGE_CLASS, TERRITORY_CLASS, MODALITY_CLASS = "Q5", "Q12", "Q9", "Q34"
#: Levels below an asked capacity or territory that still match (the taxonomy has three).
MAX_DEPTH = 3
#: Values one search may name, per criterion and in all.
MAX_VALUES = {"capacity": 20, "language": 10, "territory": 10, "modality": 6}
MAX_CRITERIA = 40
#: Statements examined per search; beyond, the result says it is truncated.
MAX_STATEMENTS = 200_000


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
        return (
            len(self.capacities)
            + len(self.languages)
            + len(self.territories)
            + len(self.modalities)
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
        return (
            len(self.capacities)
            + len(self.languages)
            + len(self.territories)
            + len(self.modalities)
        )


@dataclass(frozen=True)
class Matches:
    """Every result of a search, in order."""

    criteria: Criteria
    results: list[Match]
    truncated: bool = False


def check_criteria(index: PageIndex, criteria: Criteria) -> None:
    """400 naming the parameter when a value is not an entity of the right class, or when
    too many are asked."""
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
    from loader.browse import subclasses
    from loader.namespaces import ENTITY_ID

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


#: Capacities (and territories) below the asked ones, each with the asked one it is
#: under; then every best-rank statement naming one, with the asked languages, territories
#: and modalities its qualifiers name (each a primary-key lookup in ``link``).
_MATCH_SQL = """
WITH RECURSIVE
    cap(num, asked, depth) AS (
        SELECT value, value, 0 FROM json_each(?)
        UNION SELECT f.num, b.asked, b.depth + 1 FROM fact f JOIN cap b ON f.value = b.num
        WHERE f.prop = ? AND b.depth < ?),
    terr(num, asked, depth) AS (
        SELECT value, value, 0 FROM json_each(?)
        UNION SELECT f.num, b.asked, b.depth + 1 FROM fact f JOIN terr b ON f.value = b.num
        WHERE f.prop = ? AND b.depth < ?)
SELECT v.source, v.statement, v.target, group_concat(DISTINCT cap.asked),
    (SELECT group_concat(q.target) FROM link q WHERE q.target IN (SELECT value FROM json_each(?))
        AND q.source = v.source AND q.prop = ? AND q.kind = ? AND q.statement = v.statement),
    (SELECT group_concat(q.target || ':' || t.asked) FROM terr t JOIN link q
        ON q.target = t.num AND q.source = v.source AND q.prop = ? AND q.kind = ?
        AND q.statement = v.statement),
    (SELECT group_concat(q.target) FROM link q WHERE q.target IN (SELECT value FROM json_each(?))
        AND q.source = v.source AND q.prop = ? AND q.kind = ? AND q.statement = v.statement)
FROM cap JOIN link v ON v.target = cap.num AND v.prop = ? AND v.kind = ?
WHERE EXISTS (SELECT 1 FROM fact t WHERE t.prop = v.prop AND t.value = v.target
              AND t.num = v.source)
GROUP BY v.source, v.statement, v.target
LIMIT ?
"""


def _nums(values: Sequence[str]) -> str:
    return json.dumps([num(v) for v in values])


def _ids(concatenated: str | None) -> list[int]:
    return [int(v) for v in concatenated.split(",")] if concatenated else []


def match(index: PageIndex, criteria: Criteria, exclude: str | None = None) -> Matches:
    """Every person or organisation matching ``criteria`` (checked first with
    :func:`check_criteria`), in the documented order; ``exclude`` is left out.

    Remembered until the index next changes."""
    return index.memo(("peers", criteria, exclude), lambda: _match(index, criteria, exclude))


def _match(index: PageIndex, criteria: Criteria, exclude: str | None) -> Matches:
    prop = num(DIRECTIONS[criteria.direction])
    rows = index.db.execute(
        _MATCH_SQL,
        (
            _nums(criteria.capacities),
            num(BROADER),
            MAX_DEPTH,
            _nums(criteria.territories),
            num(LOCATED_IN),
            MAX_DEPTH,
            _nums(criteria.languages),
            num(LANGUAGE),
            QUALIFIER,
            num(TERRITORY),
            QUALIFIER,
            _nums(criteria.modalities),
            num(MODALITY),
            QUALIFIER,
            prop,
            VALUE,
            MAX_STATEMENTS + 1,
        ),
    ).fetchall()
    truncated = len(rows) > MAX_STATEMENTS
    skip = None if exclude is None else num(exclude)
    found: dict[int, Match] = {}
    for source, statement, target, asked, languages, territories, modalities in rows[
        :MAX_STATEMENTS
    ]:
        if source == skip:
            continue
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
        result = found.setdefault(source, Match(entity_id(source)))
        result.reasons.append(reason)
        _add(result.capacities, reason.asked)
        _add(result.languages, reason.languages)
        _add(result.territories, [asked for _, asked in reason.territories])
        _add(result.modalities, reason.modalities)
    results = list(found.values())
    if criteria.require_all:
        results = [r for r in results if r.matched == criteria.count]
    order = _sort_keys(index, list(found))
    results.sort(key=lambda r: (-r.matched, order.get(num(r.id), "\uffff"), num(r.id)))
    for result in results:
        _order_like(result, criteria)
    return Matches(criteria, results, truncated)


def _add(target: list[str], values: Sequence[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


def _order_like(result: Match, criteria: Criteria) -> None:
    """Matched values in the order the search gave them; reasons by statement order."""
    result.capacities.sort(key=criteria.capacities.index)
    result.languages.sort(key=criteria.languages.index)
    result.territories.sort(key=criteria.territories.index)
    result.modalities.sort(key=criteria.modalities.index)
    result.reasons.sort(key=lambda r: (-_reason_size(r), r.capacity, r.statement))


def _reason_size(reason: Reason) -> int:
    return (
        len(reason.asked) + len(reason.languages) + len(reason.territories) + len(reason.modalities)
    )


def _sort_keys(index: PageIndex, numbers: Sequence[int]) -> dict[int, str]:
    if not numbers:
        return {}
    rows = index.db.execute(
        "SELECT num, sort_key FROM entity WHERE num IN (SELECT value FROM json_each(?))",
        (json.dumps(list(numbers)),),
    )
    return {int(n): str(key) for n, key in rows}


@dataclass(frozen=True)
class Statement:
    """One capacity statement of an entity, with its qualifier values."""

    statement: str
    capacity: str
    languages: tuple[str, ...]
    territories: tuple[str, ...]
    modalities: tuple[str, ...]

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
    found = []
    for statement, target in rows:
        values = qualifiers.get(statement, {})
        found.append(
            Statement(
                statement,
                entity_id(target),
                tuple(values.get(num(LANGUAGE), [])),
                tuple(values.get(num(TERRITORY), [])),
                tuple(values.get(num(MODALITY), [])),
            )
        )
    return found


@dataclass(frozen=True)
class Counterparts:
    """For one capacity statement of an entity: who matches it the other way."""

    statement: Statement
    total: int
    results: list[Match]


def counterparts(index: PageIndex, entity: str, direction: str, limit: int) -> list[Counterparts]:
    """For each of the entity's statements in ``direction``, the best ``limit`` matches
    in the opposite direction (who can help with a need; who needs an offer)."""

    def compute() -> list[Counterparts]:
        found = []
        for st in statements(index, entity, direction):
            matches = match(index, st.criteria(OPPOSITE[direction]), exclude=entity)
            found.append(Counterparts(st, len(matches.results), matches.results[:limit]))
        return found

    return index.memo(("counterparts", entity, direction, limit), compute)


def choices(index: PageIndex, cls: str, limit: int) -> list[str]:
    """Up to ``limit`` instances of ``cls`` (or of a class below it), by name: the
    values a form offers for a criterion."""
    from loader.browse import subclasses

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
