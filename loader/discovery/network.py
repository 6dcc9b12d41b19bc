"""The partnership network: organisations, networks and partnerships as nodes and edges.

Built from the page index (class, participant, activity type, tier, status and
membership facts, labels) plus the start and end years of partnerships from the store
(``sparql/partnership_years.rq``); both are remembered until the catalogue next changes.
Only organisations, networks and partnerships become nodes: people never appear, so a
person's privacy settings cannot be bypassed through this view.

Filters (:class:`NetworkFilter`) keep the partnerships with any of the chosen activity
types, tiers and statuses that were active in the year range, and the organisations and
networks taking part in them. At most ``limit`` organisations and networks are shown, the
rule stated to readers: most partnerships shown first, then lowest id.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from loader.base import ids
from loader.base.errors import BigtentError
from loader.base.ids import (
    ASSESSMENT_CRITERION,
    GOVERNING_DOCUMENT,
    INSTANCE_OF,
    MEMBER_OF,
    NETWORK,
    ORGANISATION,
    PARTICIPANT,
    PARTNERSHIP,
)
from loader.base.latest import Finished
from loader.discovery.browse import subclasses
from loader.discovery.views import IndexViews
from loader.storage.page_index import PageIndex, entity_id, num

if TYPE_CHECKING:
    from loader.storage.repository import Repository

#: Filter parameter -> (property on partnerships, vocabulary class of its values).
VOCABULARIES: dict[str, tuple[str, str]] = {
    "activity": (ids.ACTIVITY_TYPE, ids.ACTIVITY_TYPES),
    "tier": (ids.TIER, ids.TIERS),
    "status": (ids.STATUS, ids.STATUSES),
}
YEAR_PARAMETERS = ("from", "to")
PARAMETERS = (*VOCABULARIES, *YEAR_PARAMETERS, "limit")
#: Years a filter may name (anything else is a typing mistake, not a question).
MIN_YEAR, MAX_YEAR = 1000, 2999
#: Values one request may give for one filter.
MAX_VALUES = 50
ITEM_ID = re.compile(r"^Q[1-9][0-9]{0,15}$")
_YEAR = re.compile(r"^([+-]?[0-9]{1,16})-")


@dataclass(frozen=True)
class NetworkFilter:
    """What a reader asked to see."""

    activity: frozenset[str] = frozenset()
    tier: frozenset[str] = frozenset()
    status: frozenset[str] = frozenset()
    year_from: int | None = None
    year_to: int | None = None
    limit: int = 1000

    @property
    def active(self) -> bool:
        """True when any partnership filter is set."""
        return bool(
            self.activity
            or self.tier
            or self.status
            or self.year_from is not None
            or self.year_to is not None
        )

    def key(self) -> tuple[object, ...]:
        """A hashable, order-independent key (for caches)."""
        return (*self.partnership_key(), self.limit)

    def partnership_key(self) -> tuple[object, ...]:
        """:meth:`key` without the limit: what decides which partnerships match."""
        return (
            tuple(sorted(self.activity)),
            tuple(sorted(self.tier)),
            tuple(sorted(self.status)),
            self.year_from,
            self.year_to,
        )


@dataclass(frozen=True)
class Partnership:
    """What the network needs to know about one partnership."""

    id: str
    parties: tuple[str, ...]
    activity: frozenset[str]
    tier: frozenset[str]
    status: frozenset[str]
    start: int | None
    end: int | None

    def matches(self, wanted: NetworkFilter) -> bool:
        """True when the partnership passes every filter of ``wanted``."""
        for name in VOCABULARIES:
            chosen: frozenset[str] = getattr(wanted, name)
            if chosen and not chosen & getattr(self, name):
                return False
        if wanted.year_from is None and wanted.year_to is None:
            return True
        if self.start is None:  # an undated partnership is in no year range
            return False
        if wanted.year_to is not None and self.start > wanted.year_to:
            return False
        return not (
            wanted.year_from is not None and self.end is not None and self.end < wanted.year_from
        )


#: Rankings a model keeps, most recently used first (one per filter asked for).
RANKINGS_KEPT = 16


@dataclass(frozen=True)
class Model:
    """Every node candidate and edge of the network, unfiltered."""

    kinds: dict[str, str]  # organisation or network id -> "organisation" | "network"
    partnerships: list[Partnership]
    memberships: list[tuple[str, str]]  # (member, network)
    _rankings: OrderedDict[tuple[object, ...], Ranking] = field(
        default_factory=OrderedDict, init=False, compare=False, repr=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, compare=False, repr=False
    )

    def ranked(self, wanted: NetworkFilter) -> Ranking:
        """The partnerships ``wanted`` matches, and the organisations and networks in the
        order the network and the map show them: in the most of those partnerships first,
        then lowest id (with a filter, only those in at least one).

        Kept per filter (the limit aside) as long as the model: at 1M records one ranking
        sorts 350,000 candidates, about a second. The unfiltered one is made with the
        model, in the background (:meth:`PartnershipNetwork.model`)."""
        key = wanted.partnership_key()
        with self._lock:
            found = self._rankings.get(key)
            if found is not None:
                self._rankings.move_to_end(key)
                return found
        ranking = self._rank(wanted)
        with self._lock:
            self._rankings[key] = ranking
            while len(self._rankings) > RANKINGS_KEPT:
                self._rankings.popitem(last=False)
        return ranking

    def _rank(self, wanted: NetworkFilter) -> Ranking:
        matched = [p for p in self.partnerships if p.matches(wanted)]
        degree: dict[str, int] = {}
        of_party: dict[str, list[int]] = {}
        partyless: list[int] = []
        for position, partnership in enumerate(matched):
            if not partnership.parties:
                partyless.append(position)
            for party in partnership.parties:
                degree[party] = degree.get(party, 0) + 1
                of_party.setdefault(party, []).append(position)
        candidates = list(degree) if wanted.active else list(self.kinds)
        candidates.sort(key=lambda e: (-degree.get(e, 0), num(e)))
        return Ranking(matched, degree, candidates, of_party, partyless)


class Ranking(NamedTuple):
    """What :meth:`Model.ranked` finds for one filter."""

    matched: list[Partnership]
    degree: dict[str, int]  # id -> matched partnerships it is a party to
    candidates: list[str]  # in the order shown
    of_party: dict[str, list[int]]  # id -> positions in matched of its partnerships
    partyless: list[int]  # positions in matched of partnerships without a party

    def involving(self, shown: Iterable[str], partyless: bool = False) -> list[Partnership]:
        """The matched partnerships with a party among ``shown`` (and, with ``partyless``,
        those without any party), in ``matched`` order; found through the parties, so it
        costs what ``shown`` takes part in, not every partnership."""
        positions = {i for e in shown for i in self.of_party.get(e, ())}
        if partyless:
            positions.update(self.partyless)
        return [self.matched[i] for i in sorted(positions)]


@dataclass
class Node:
    """One node as shown."""

    id: str
    kind: str  # organisation | network | partnership
    label: str
    lang: str
    partnerships: int = 0
    facts: dict[str, list[str]] = field(default_factory=dict)
    start: int | None = None
    end: int | None = None


@dataclass
class Graph:
    """The filtered network."""

    nodes: list[Node]
    edges: list[tuple[str, str, str]]  # (source, target, kind: participant | member)
    truncated: bool
    concepts: dict[str, tuple[str, str]]  # concept id -> (lang, label)

    def node(self, node_id: str) -> Node | None:
        """The node with that id, if shown."""
        for found in self.nodes:
            if found.id == node_id:
                return found
        return None


class PartnershipNetwork:
    """The network view's data, owned by the catalogue (``Catalogue.network``)."""

    def __init__(self, repository: Repository, page_index: PageIndex, views: IndexViews) -> None:
        self.repository = repository
        self.page_index = page_index
        self.views = views

    @property
    def index(self) -> PageIndex:
        """The page index, caught up with the log."""
        return self.page_index.current()

    # --- filters --------------------------------------------------------------------------
    def vocabulary(self, name: str) -> list[str]:
        """The concept ids a filter accepts (``activity``, ``tier``, ``status``)."""
        return self.instances(VOCABULARIES[name][1])

    def instances(self, cls: str) -> list[str]:
        """Direct instances of a class (e.g. the concepts of a vocabulary), by id."""
        index = self.index

        def compute() -> list[str]:
            rows = index.db.execute(
                "SELECT num FROM fact WHERE prop = ? AND value = ? ORDER BY num",
                (num(INSTANCE_OF), num(cls)),
            )
            return [entity_id(n) for (n,) in rows]

        return index.memo(("network-instances", cls), compute)

    def parse_filter(
        self,
        args: Mapping[str, Sequence[str]],
        max_limit: int,
        *,
        view: str = "the network view",
        extra: Sequence[str] = (),
    ) -> NetworkFilter:
        """Check request parameters (each name with all its values); 400 naming the
        parameter for anything unknown, malformed or out of range. Views that take the
        network's filters (the network, the map) name themselves in ``view`` and the
        parameters of their own they check themselves in ``extra``."""
        known = (*PARAMETERS, *extra)
        unknown = sorted(set(args) - set(known) - {"uselang"})
        if unknown:
            raise BigtentError(
                f"{_show(unknown[0])} is not a filter of {view}; use {', '.join(known)}",
                title="Unknown filter",
            )
        chosen: dict[str, frozenset[str]] = {}
        for name in VOCABULARIES:
            values = [v for raw in args.get(name, ()) for v in raw.split(",") if v]
            if len(values) > MAX_VALUES:
                raise BigtentError(
                    f"{name} has {len(values)} values; at most {MAX_VALUES} are allowed",
                    title="Too many values",
                )
            allowed = self.vocabulary(name)
            for value in values:
                if not ITEM_ID.match(value) or value not in allowed:
                    raise BigtentError(
                        f"{name}={_show(value)} is not one of the values this filter "
                        f"knows: {', '.join(allowed) or 'none yet'}",
                        title="Unknown filter value",
                    )
            chosen[name] = frozenset(values)
        years = {name: _year(name, args.get(name, ())) for name in YEAR_PARAMETERS}
        if years["from"] is not None and years["to"] is not None and years["from"] > years["to"]:
            raise BigtentError(
                f"from={years['from']} is after to={years['to']}: the year range is empty",
                title="Bad year range",
            )
        limit = max_limit
        raw_limit = _single("limit", args.get("limit", ()))
        if raw_limit is not None:
            if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= max_limit:
                raise BigtentError(
                    f"limit={_show(raw_limit)} is not a number from 1 to {max_limit} "
                    "(setting NETWORK_MAX_ORGANISATIONS)",
                    title="Bad limit",
                )
            limit = int(raw_limit)
        return NetworkFilter(
            activity=chosen["activity"],
            tier=chosen["tier"],
            status=chosen["status"],
            year_from=years["from"],
            year_to=years["to"],
            limit=limit,
        )

    # --- the model ------------------------------------------------------------------------
    def model(self) -> Finished[Model]:
        """Every organisation, network, partnership and membership: the newest finished
        model (rebuilt in the background after a write, which takes seconds at 100k
        records; entity pages and the home page read it)."""
        return self.views.get(("network-model",), self._build)

    def register(self) -> Finished[list[RegisterEntry]]:
        """:func:`partnership_register`, the newest finished (/partnerships)."""
        return self.views.get(("partnerships",), partnership_register)

    def _build(self, index: PageIndex) -> Model:
        db = index.db
        kinds: dict[str, str] = {}
        networks = {num(c) for c in subclasses(index, NETWORK)}
        organisations = [num(c) for c in subclasses(index, ORGANISATION)]
        marks = ",".join("?" * len(organisations))
        rows = db.execute(
            f"SELECT num, value FROM fact WHERE prop = ? AND value IN ({marks})",  # noqa: S608
            (num(INSTANCE_OF), *organisations),
        )
        for number, cls in rows:
            eid = entity_id(number)
            if cls in networks:
                kinds[eid] = "network"
            else:
                kinds.setdefault(eid, "organisation")
        props = {num(p): name for name, (p, _) in VOCABULARIES.items()}
        props[num(PARTICIPANT)] = "parties"
        found: dict[str, dict[str, list[str]]] = {}
        rows = db.execute(
            f"SELECT c.num, f.prop, f.value FROM fact c JOIN fact f ON f.num = c.num "  # noqa: S608
            f"WHERE c.prop = ? AND c.value = ? AND f.prop IN ({','.join('?' * len(props))}) "
            "ORDER BY c.num, f.prop, f.value",
            (num(INSTANCE_OF), num(PARTNERSHIP), *props),
        )
        for number, prop, value in rows:
            facts = found.setdefault(entity_id(number), {})
            facts.setdefault(props[prop], []).append(entity_id(value))
        for (number,) in db.execute(
            "SELECT num FROM fact WHERE prop = ? AND value = ?",
            (num(INSTANCE_OF), num(PARTNERSHIP)),
        ):
            found.setdefault(entity_id(number), {})
        years = self.years()
        partnerships = [
            Partnership(
                id=pid,
                parties=tuple(p for p in facts.get("parties", []) if p in kinds),
                activity=frozenset(facts.get("activity", [])),
                tier=frozenset(facts.get("tier", [])),
                status=frozenset(facts.get("status", [])),
                start=years.get(pid, (None, None))[0],
                end=years.get(pid, (None, None))[1],
            )
            for pid, facts in sorted(found.items(), key=lambda item: num(item[0]))
        ]
        memberships = [
            (entity_id(member), entity_id(target))
            for member, target in db.execute(
                "SELECT num, value FROM fact WHERE prop = ? ORDER BY num, value",
                (num(MEMBER_OF),),
            )
            if entity_id(member) in kinds and kinds.get(entity_id(target)) == "network"
        ]
        model = Model(kinds, partnerships, memberships)
        model.ranked(NetworkFilter())  # the unfiltered order, which most pages show
        return model

    def years(self) -> dict[str, tuple[int | None, int | None]]:
        """(start year, end year) of each partnership that has either (from the store)."""
        found: dict[str, tuple[int | None, int | None]] = {}
        for row in self.repository.named_query("partnership_years"):
            pid = self.repository.ns.entity_id(row["partnership"].value)
            if pid is None:
                continue
            start, end = (_year_of(row.get(name)) for name in ("start", "end"))
            old = found.get(pid, (None, None))
            found[pid] = (_pick(min, old[0], start), _pick(max, old[1], end))
        return found

    # --- the view -------------------------------------------------------------------------
    def graph(self, wanted: NetworkFilter, languages: Sequence[str]) -> Graph:
        """The network as shown for ``wanted``, labelled in ``languages``."""
        index = self.index
        model = self.model()
        key = ("network-graph", model.revision, wanted.key(), tuple(languages))
        return index.memo(key, lambda: self._graph(index, model.value, wanted, languages))

    def _graph(
        self, index: PageIndex, model: Model, wanted: NetworkFilter, languages: Sequence[str]
    ) -> Graph:
        ranking = model.ranked(wanted)
        candidates, degree = ranking.candidates, ranking.degree
        shown = set(candidates[: wanted.limit])
        truncated = len(candidates) > wanted.limit
        # unfiltered, partnerships without organisations show too
        partnerships = ranking.involving(shown, partyless=not wanted.active)
        edges = [
            (party, p.id, "participant")
            for p in partnerships
            for party in p.parties
            if party in shown
        ]
        edges += [
            (member, target, "member")
            for member, target in model.memberships
            if member in shown and target in shown
        ]
        concepts = sorted(
            {c for p in partnerships for name in VOCABULARIES for c in getattr(p, name)},
            key=num,
        )
        names = index.names([*shown, *(p.id for p in partnerships), *concepts], languages)
        nodes = [
            Node(e, model.kinds[e], *_name(names, e), partnerships=degree.get(e, 0))
            for e in sorted(shown, key=num)
        ]
        nodes += [
            Node(
                p.id,
                "partnership",
                *_name(names, p.id),
                partnerships=1,
                facts={name: sorted(getattr(p, name), key=num) for name in VOCABULARIES},
                start=p.start,
                end=p.end,
            )
            for p in partnerships
        ]
        return Graph(nodes, edges, truncated, {c: names[c] for c in concepts if c in names})


def _name(names: Mapping[str, tuple[str, str]], eid: str) -> tuple[str, str]:
    found = names.get(eid)
    return (found[1], found[0]) if found else (eid, "")


def _show(value: str) -> str:
    """A reader's value, shortened and quoted for an error message."""
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


def _single(name: str, values: Sequence[str]) -> str | None:
    if len(values) > 1:
        raise BigtentError(f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def _year(name: str, values: Sequence[str]) -> int | None:
    raw = _single(name, values)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not MIN_YEAR <= int(raw) <= MAX_YEAR:
        raise BigtentError(
            f"{name}={_show(raw)} is not a year from {MIN_YEAR} to {MAX_YEAR}",
            title="Bad year",
        )
    return int(raw)


def _year_of(term: object) -> int | None:
    value = getattr(term, "value", None)
    if not isinstance(value, str):
        return None
    match = _YEAR.match(value)
    return int(match.group(1)) if match else None


def _pick(choose: object, old: int | None, new: int | None) -> int | None:
    if old is None:
        return new
    if new is None:
        return old
    return int(choose(old, new))  # type: ignore[operator]


STATUS = VOCABULARIES["status"][0]


@dataclass(frozen=True)
class RegisterEntry:
    """A partnership in the list by status, with what it lacks."""

    id: str
    status: tuple[str, ...]
    assessed: bool  # has at least one assessment criterion statement (P32)
    documented: bool  # has a governing document (P30)


def partnership_register(index: PageIndex) -> list[RegisterEntry]:
    """Every partnership with its status and whether it has an assessment and a
    governing document (remembered until the index next changes)."""

    def compute() -> list[RegisterEntry]:
        wanted = (num(STATUS), num(ASSESSMENT_CRITERION), num(GOVERNING_DOCUMENT))
        facts: dict[int, dict[int, list[int]]] = {}
        for (number,) in index.db.execute(
            "SELECT num FROM fact WHERE prop = ? AND value = ? ORDER BY num",
            (num(INSTANCE_OF), num(PARTNERSHIP)),
        ):
            facts[number] = {}
        rows = index.db.execute(
            "SELECT c.num, f.prop, f.value FROM fact c JOIN fact f ON f.num = c.num "
            "WHERE c.prop = ? AND c.value = ? AND f.prop IN (?, ?, ?) ORDER BY f.value",
            (num(INSTANCE_OF), num(PARTNERSHIP), *wanted),
        )
        for number, prop, value in rows:
            facts[number].setdefault(prop, []).append(value)
        return [
            RegisterEntry(
                entity_id(number),
                tuple(entity_id(v) for v in found.get(num(STATUS), [])),
                num(ASSESSMENT_CRITERION) in found,
                num(GOVERNING_DOCUMENT) in found,
            )
            for number, found in facts.items()
        ]

    return index.memo(("partnership-register",), compute)
