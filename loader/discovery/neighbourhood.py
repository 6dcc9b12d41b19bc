"""What an entity page shows of the network around an entity, section by section.

An organisation's partnerships (partners with their roles, activity types, period,
status), the networks it belongs to and its members, who endorses it and what it
endorses, who funds it and what it funds; a capacity's broader and narrower capacities
and how many offer or need it; a territory's organisations, the territories within it
and how many people are there; a partnership's parties (for its picture).

Read from the page index (truthy facts, link and use tables, labels) plus, for the rows
shown, the newest snapshots of the related entities in the revision log (one read per
page) described with :func:`loader.publish.describe.describe`, so qualifiers (roles,
periods) and values read as they do on the entities' own pages. Hidden and erased people
never reach the page index: they are in no list and no count; values that still point at
them (a partnership naming a hidden participant) are dropped by :meth:`PageIndex.live`.

Every list is sorted by label in the reader's locale (:func:`collation_key`) and paged
(:data:`PAGE_SIZE` rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from loader.base import ids
from loader.base.collation import SortKey, sort_key
from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import Namespaces
from loader.base.rdf import parse_ntriples
from loader.discovery import peers as matching
from loader.discovery.browse import subclasses
from loader.publish.describe import Description, PropertyGroup, Value, describe, referenced_ids
from loader.storage.page_index import QUALIFIER, PageIndex, entity_id, num
from loader.storage.revision_log import RevisionLog

#: Rows per page of a section (a page of partnerships stays readable on a phone).
PAGE_SIZE = 20
#: The query parameter that pages section ``key`` of an entity page.
PAGE_PARAMETER = "{}_page"

#: Sections, in the order the page shows them.
SECTIONS = (
    "partnerships",
    "memberships",
    "members",
    "endorsed_by",
    "endorses",
    "funded_by",
    "funds",
    "broader",
    "narrower",
    "organisations",
    "territories",
)


def collation_key(text: str, locale: str) -> SortKey:
    """How a label sorts for a reader of ``locale``: the one place lists of this module
    are ordered (:mod:`loader.base.collation`)."""
    return sort_key(locale)(text)


@dataclass
class Party:
    """A partner of a partnership (or a member) with the roles its statement gives."""

    id: str
    roles: list[Value] = field(default_factory=list)


@dataclass
class Row:
    """One related entity as a section lists it."""

    id: str
    parties: list[Party] = field(default_factory=list)  # a partnership's other parties
    roles: list[Value] = field(default_factory=list)
    activity: list[Value] = field(default_factory=list)
    status: list[Value] = field(default_factory=list)
    start: Value | None = None
    end: Value | None = None
    notes: list[Value] = field(default_factory=list)  # e.g. what an endorsement is about


@dataclass
class Section:
    """A paged list of related entities."""

    key: str
    rows: list[Row]
    total: int
    page: int
    pages: int
    first: int  # position of the first row shown (1-based)

    @property
    def parameter(self) -> str:
        """The query parameter that pages this section."""
        return PAGE_PARAMETER.format(self.key)


@dataclass
class Neighbours:
    """Every section of one entity page, with the labels its rows need."""

    sections: dict[str, Section] = field(default_factory=dict)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # entity -> organisation | network
    offers: int | None = None  # capacities: who offers it (or a narrower one)
    needs: int | None = None
    people: int | None = None  # territories: people located or active there
    parties: list[Party] | None = None  # partnerships: the parties, for the picture
    usage: tuple[int, int, int] | None = None  # properties: statements, qualifiers, refs

    def __getitem__(self, key: str) -> Section | None:
        return self.sections.get(key)


class Neighbourhood:
    """Builds :class:`Neighbours` (``Catalogue.neighbourhood``)."""

    def __init__(self, ns: Namespaces, revisions: RevisionLog, page_index: PageIndex) -> None:
        self.ns = ns
        self.revisions = revisions
        self.page_index = page_index

    @property
    def index(self) -> PageIndex:
        """The page index, caught up with the log."""
        return self.page_index.current()

    def classes(self, entity: str) -> dict[str, bool]:
        """Which kinds of record ``entity`` is (organisation, network, partnership,
        capacity, territory, person)."""
        index = self.index
        mine = set(index.values([entity], ids.INSTANCE_OF).get(entity, []))
        kinds = {
            "organisation": ids.ORGANISATION,
            "network": ids.NETWORK,
            "partnership": ids.PARTNERSHIP,
            "capacity": ids.CAPACITY,
            "territory": ids.TERRITORY,
            "person": ids.PERSON,
        }
        return {name: bool(mine & set(subclasses(index, cls))) for name, cls in kinds.items()}

    def neighbours(
        self,
        description: Description,
        languages: Sequence[str],
        locale: str,
        pages: Mapping[str, int],
    ) -> Neighbours:
        """The sections of ``description``'s page, each at the page ``pages`` asks
        (default 1); 404 naming the parameter for a page past the end."""
        index = self.index
        entity = description.id
        kind = self.classes(entity)
        out = Neighbours()
        own: dict[str, list[Row]] = {}
        others: dict[str, list[str]] = {}
        if entity.startswith("P"):
            out.usage = index.usage(entity)
        if kind["organisation"]:
            others["partnerships"] = self._sources(entity, ids.PARTICIPANT, ids.PARTNERSHIP)
            own["memberships"] = _own_rows(description, ids.MEMBER_OF)
            own["endorsed_by"] = _own_rows(description, ids.ENDORSED_BY)
        if kind["organisation"] or kind["partnership"]:
            own["funded_by"] = _own_rows(description, ids.FUNDED_BY)
        if kind["organisation"] or kind["person"]:
            others["funds"] = self._sources(entity, ids.FUNDED_BY)
            others["endorses"] = self._sources(entity, ids.ENDORSED_BY)
        if not kind["person"]:
            others["members"] = self._sources(entity, ids.MEMBER_OF)
        if kind["capacity"]:
            own["broader"] = _own_rows(description, ids.BROADER)
            others["narrower"] = self._sources(entity, ids.BROADER, ids.CAPACITY)
            out.offers, out.needs = (
                self._holders(entity, direction) for direction in (matching.OFFER, matching.NEED)
            )
        if kind["territory"]:
            others["organisations"] = self._sources(entity, ids.LOCATED_IN, ids.ORGANISATION)
            others["territories"] = self._sources(entity, ids.LOCATED_IN, ids.TERRITORY)
            out.people = self._people(entity)
        if kind["partnership"]:
            out.parties = [
                Party(row.id, row.roles) for row in _own_rows(description, ids.PARTICIPANT)
            ]
        live = index.live(
            [r.id for rows in own.values() for r in rows] + [p.id for p in out.parties or []]
        )
        own = {key: [r for r in rows if r.id in live] for key, rows in own.items()}
        if out.parties is not None:
            out.parties = [p for p in out.parties if p.id in live]
        listed = {e for found in others.values() for e in found}
        names = index.names(listed | {r.id for rows in own.values() for r in rows}, languages)

        def by_label(e: str) -> tuple[SortKey, int]:
            return (collation_key(names.get(e, ("", e))[1], locale), num(e))

        def order(found: Iterable[str]) -> list[str]:
            return sorted(found, key=by_label)

        shown: dict[str, list[str]] = {}
        for key in SECTIONS:
            if key in own:
                rows = sorted(
                    own[key],
                    key=lambda r: (
                        collation_key(names.get(r.id, ("", r.id))[1], locale),
                        num(r.id),
                    ),
                )
                section = _page(key, rows, pages.get(key, 1))
            elif key in others:
                section = _page(key, [Row(e) for e in order(others[key])], pages.get(key, 1))
                shown[key] = [r.id for r in section.rows]
            else:
                continue
            if section.total:
                out.sections[key] = section
        self._details(entity, out, shown, languages)
        wanted = (
            {r.id for s in out.sections.values() for r in s.rows}
            | {p.id for s in out.sections.values() for r in s.rows for p in r.parties}
            | {p.id for p in out.parties or []}
        )
        out.names = names | index.names(wanted - set(names), languages)
        out.kinds = dict.fromkeys(self._networks(wanted), "network")
        return out

    # --- reading the index ------------------------------------------------------------------
    def _sources(self, target: str, prop: str, cls: str | None = None) -> list[str]:
        """Live entities whose truthy ``prop`` value is ``target`` (instances of ``cls``
        or a class below it, when given)."""
        index = self.index
        if cls is None:
            rows = index.db.execute(
                "SELECT num FROM fact WHERE prop = ? AND value = ? ORDER BY num",
                (num(prop), num(target)),
            )
            return [entity_id(n) for (n,) in rows]
        classes = [num(c) for c in subclasses(index, cls)]
        marks = ",".join("?" * len(classes))
        rows = index.db.execute(
            "SELECT DISTINCT f.num FROM fact f JOIN fact c ON c.num = f.num "  # noqa: S608
            f"WHERE f.prop = ? AND f.value = ? AND c.prop = ? AND c.value IN ({marks}) "
            "ORDER BY f.num",
            (num(prop), num(target), num(ids.INSTANCE_OF), *classes),
        )
        return [entity_id(n) for (n,) in rows]

    def _networks(self, entities: Iterable[str]) -> list[str]:
        index = self.index
        networks = set(subclasses(index, ids.NETWORK))
        found = index.values(entities, ids.INSTANCE_OF)
        return [e for e, classes in found.items() if networks & set(classes)]

    def _holders(self, capacity: str, direction: str) -> int:
        """How many people and organisations offer (or need) the capacity or one below
        it: the number of results of the /peers search it links to."""
        index = self.index
        criteria = matching.Criteria((capacity,), direction=direction)
        try:
            matching.check_criteria(index, criteria)
        except BigtentError:  # not a capacity peers know of: nobody to count
            return 0
        return matching.ranking(index, criteria, top=1).total  # the count, not the order

    def _people(self, territory: str) -> int:
        """People located in the territory or offering or needing a capacity there."""
        index = self.index
        classes = [num(c) for c in subclasses(index, ids.PERSON)]
        marks = ",".join("?" * len(classes))
        row = index.db.execute(
            "SELECT count(*) FROM ("  # noqa: S608
            "SELECT num AS who FROM fact WHERE prop = ? AND value = ? "
            "UNION SELECT source FROM link WHERE target = ? AND prop = ? AND kind = ?) "
            f"WHERE EXISTS (SELECT 1 FROM fact c WHERE c.num = who AND c.prop = ? "
            f"AND c.value IN ({marks}))",
            (
                num(ids.LOCATED_IN),
                num(territory),
                num(territory),
                num(ids.APPLIES_TO_TERRITORY),
                QUALIFIER,
                num(ids.INSTANCE_OF),
                *classes,
            ),
        ).fetchone()
        return int(row[0])

    # --- the rows shown -----------------------------------------------------------------------
    def _details(
        self, entity: str, out: Neighbours, shown: Mapping[str, list[str]], languages: Sequence[str]
    ) -> None:
        """Fill the rows shown of the sections that say more than a name, from the related
        entities' snapshots (one log read, one label lookup)."""
        detailed = ("partnerships", "members", "endorses", "funds")
        wanted = sorted({e for key in detailed for e in shown.get(key, [])}, key=num)
        if not wanted:
            return
        triples = {
            rev.entity: parse_ntriples(rev.snapshot)
            for rev in self.revisions.latest_revisions(wanted)
            if rev.snapshot is not None
        }
        index = self.index
        referenced = {e for found in triples.values() for e in referenced_ids(self.ns, found)}
        names = index.names(referenced, languages)
        properties = index.properties()
        described = {
            e: describe(self.ns, e, found, languages, names, properties)
            for e, found in triples.items()
        }
        live = index.live(
            [
                s.value.entity
                for d in described.values()
                for g in d.statements
                if g.property == ids.PARTICIPANT
                for s in g.statements
                if s.value.entity
            ]
        )
        props = {
            "partnerships": ids.PARTICIPANT,
            "members": ids.MEMBER_OF,
            "endorses": ids.ENDORSED_BY,
            "funds": ids.FUNDED_BY,
        }
        for key, prop in props.items():
            section = out.sections.get(key)
            if section is None:
                continue
            for row in section.rows:
                found = described.get(row.id)
                if found is None:
                    continue
                mine = [r for r in _own_rows(found, prop) if r.id == entity]
                if mine:
                    row.roles, row.start, row.end, row.notes = (
                        mine[0].roles,
                        mine[0].start,
                        mine[0].end,
                        mine[0].notes,
                    )
                if key == "partnerships":
                    row.parties = [
                        Party(r.id, r.roles)
                        for r in _own_rows(found, ids.PARTICIPANT)
                        if r.id != entity and r.id in live
                    ]
                    row.activity = _values(found, ids.ACTIVITY_TYPE)
                    row.status = _values(found, ids.STATUS)
                    row.start = next(iter(_values(found, ids.START_TIME)), None)
                    row.end = next(iter(_values(found, ids.END_TIME)), None)


def _group(description: Description, prop: str) -> PropertyGroup | None:
    for group in description.statements:
        if group.property == prop:
            return group
    return None


def _values(description: Description, prop: str) -> list[Value]:
    """The values of ``prop``'s statements, best rank first, deprecated left out."""
    group = _group(description, prop)
    if group is None:
        return []
    return [s.value for s in group.statements if s.rank != "deprecated"]


def _own_rows(description: Description, prop: str) -> list[Row]:
    """One row per (non-deprecated) statement of ``prop`` whose value is an entity, with
    its roles, start and end time and endorsed activity qualifiers."""
    group = _group(description, prop)
    if group is None:
        return []
    rows: dict[str, Row] = {}
    for statement in group.statements:
        target = statement.value.entity
        if statement.rank == "deprecated" or target is None:
            continue
        row = rows.setdefault(target, Row(target))
        for snak in statement.qualifiers:
            if snak.property == ids.OBJECT_HAS_ROLE:
                row.roles += snak.values
            elif snak.property == ids.START_TIME and snak.values and row.start is None:
                row.start = snak.values[0]
            elif snak.property == ids.END_TIME and snak.values and row.end is None:
                row.end = snak.values[0]
            elif snak.property == ids.ENDORSED_ACTIVITY:
                row.notes += snak.values
    return list(rows.values())


def _page(key: str, rows: list[Row], page: int) -> Section:
    """Page ``page`` of ``rows``; 404 naming the parameter when it is past the end."""
    total = len(rows)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise NotFound(
            f"{PAGE_PARAMETER.format(key)}={page} is past the last page ({pages}) of this list",
            title="Not found",
        )
    start = (page - 1) * PAGE_SIZE
    return Section(key, rows[start : start + PAGE_SIZE], total, page, pages, start + 1)
