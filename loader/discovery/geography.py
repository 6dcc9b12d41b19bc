"""Geography: organisations, networks and territories on a map, people as counts.

Where things are comes from the store: the truthy coordinate location (P53, a GeoSPARQL
``Point(lon lat)`` WKT literal) of every entity that has one (``sparql/coordinates.rq``).
Everything else comes from the page index: which entities are organisations, networks
and territories, their classes, territories (located in, P12) and networks (member of,
P4), and the partnerships of :class:`~loader.discovery.network.PartnershipNetwork`, whose
filters the map takes as they are. Both are remembered until the catalogue next changes.

People never carry coordinates and are never placed: a coordinate on anything but an
organisation, network or territory is ignored. They appear only as a count per
territory — the live people (hidden and erased people are not in the page index) with a
capacity statement that applies to the territory (qualifier P40) or located in it (P12).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loader.base.ids import (
    APPLIES_TO_TERRITORY,
    INSTANCE_OF,
    LOCATED_IN,
    MEMBER_OF,
    PERSON,
    TERRITORY,
)
from loader.base.latest import Finished
from loader.base.namespaces import EARTH
from loader.discovery.browse import subclasses
from loader.discovery.network import Model, NetworkFilter, PartnershipNetwork
from loader.discovery.views import IndexViews
from loader.discovery.world_outline import Point, View, fit
from loader.records import coordinates
from loader.storage.page_index import PageIndex, entity_id, num

if TYPE_CHECKING:
    from loader.storage.repository import Repository

KINDS = ("organisation", "network", "territory")


@dataclass
class Place:
    """An organisation, network or territory as placed on a map."""

    id: str
    kind: str  # organisation | network | territory
    lon: float
    lat: float
    label: str = ""
    lang: str = ""
    classes: list[str] = field(default_factory=list)
    territories: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    partnerships: int = 0  # partnerships shown on the map that it takes part in
    people: int = 0  # territories only: people counted there
    organisations: int = 0  # territories only: organisations shown located there


@dataclass(frozen=True)
class Line:
    """A partnership drawn between two of its located parties."""

    partnership: str
    label: str
    lang: str
    a: str
    b: str


@dataclass
class WorldMap:
    """What the map shows for one filter."""

    places: list[Place]  # organisations and networks, by id
    lines: list[Line]
    territories: list[Place]  # located territories, by id
    names: dict[str, tuple[str, str]]  # class, territory and network id -> (lang, label)
    truncated: bool
    unlocated: int  # organisations and networks the filter keeps that have no coordinates

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of what is shown, or None when nothing is."""
        points = [(p.lon, p.lat) for p in (*self.places, *self.territories)]
        if not points:
            return None
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        return (min(lons), min(lats), max(lons), max(lats))


@dataclass
class EntityMap:
    """The small map of an entity page: the entity, its neighbours, the view."""

    entity: Place
    view: View
    nearby: list[Place]  # other located organisations, networks and territories in view
    people: int | None  # for a territory: people counted there


@dataclass(frozen=True)
class Places:
    """What every map is drawn from, computed together at one revision."""

    model: Model  # the network model it was computed from
    kinds: dict[str, str]  # organisation, network or territory, by id
    coordinates: dict[str, Point]  # (longitude, latitude) of the located ones
    people: dict[str, int]  # live people related to each territory


class Geography:
    """The map's data, owned by the catalogue (``Catalogue.geography``)."""

    def __init__(
        self,
        repository: Repository,
        page_index: PageIndex,
        network: PartnershipNetwork,
        views: IndexViews,
    ) -> None:
        self.repository = repository
        self.page_index = page_index
        self.network = network
        self.views = views

    @property
    def index(self) -> PageIndex:
        """The page index, caught up with the log."""
        return self.page_index.current()

    # --- what is where -----------------------------------------------------------------
    def places(self) -> Finished[Places]:
        """The newest finished :class:`Places`: recomputed in the background after a
        write (with the network model, seconds at 100k records), so no page waits."""
        return self.views.get(("geography-places",), self._places)

    def kinds(self) -> dict[str, str]:
        """Every organisation, network and territory: id -> kind."""
        return self.places().value.kinds

    def coordinates(self) -> dict[str, Point]:
        """(longitude, latitude) of every located organisation, network and territory."""
        return self.places().value.coordinates

    def people_by_territory(self) -> dict[str, int]:
        """How many live people relate to each territory (capacity statements applying
        to it, or located in it)."""
        return self.places().value.people

    def _places(self, index: PageIndex) -> Places:
        model = self.network.model().value  # current: this runs as a view
        kinds = dict(model.kinds)
        territories = [num(c) for c in subclasses(index, TERRITORY)]
        marks = ",".join("?" * len(territories))
        rows = index.db.execute(
            f"SELECT num FROM fact WHERE prop = ? AND value IN ({marks})",  # noqa: S608
            (num(INSTANCE_OF), *territories),
        )
        for (number,) in rows:
            kinds.setdefault(entity_id(number), "territory")
        return Places(model, kinds, self._coordinates(kinds), self._people(index))

    def _coordinates(self, kinds: Mapping[str, str]) -> dict[str, Point]:
        found: dict[str, Point] = {}
        for row in self.repository.named_query("coordinates"):
            eid = self.repository.ns.entity_id(row["entity"].value)
            point = parse_point(row["wkt"].value)
            if eid is None or point is None or eid not in kinds:
                continue  # people and anything else are never placed
            if eid not in found or point < found[eid]:  # several: a stable choice
                found[eid] = point
        return found

    @staticmethod
    def _people(index: PageIndex) -> dict[str, int]:
        people = [num(c) for c in subclasses(index, PERSON)]
        marks = ",".join("?" * len(people))
        rows = index.db.execute(
            "SELECT l.target, l.source FROM link l JOIN fact c ON c.num = l.source "  # noqa: S608
            f"AND c.prop = ? AND c.value IN ({marks}) WHERE l.prop = ? "
            "UNION SELECT f.value, f.num FROM fact f JOIN fact c ON c.num = f.num "
            f"AND c.prop = ? AND c.value IN ({marks}) WHERE f.prop = ?",
            (
                num(INSTANCE_OF),
                *people,
                num(APPLIES_TO_TERRITORY),
                num(INSTANCE_OF),
                *people,
                num(LOCATED_IN),
            ),
        )
        seen: dict[str, set[int]] = {}
        for target, source in rows:
            seen.setdefault(entity_id(target), set()).add(source)
        return {territory: len(found) for territory, found in seen.items()}

    # --- the map -----------------------------------------------------------------------
    def world(self, wanted: NetworkFilter, languages: Sequence[str]) -> WorldMap:
        """The map for ``wanted`` (the network's filters), labelled in ``languages``."""
        index = self.index
        found = self.places()
        key = ("geography-world", found.revision, wanted.key(), tuple(languages))
        return index.memo(key, lambda: self._world(index, found.value, wanted, languages))

    def _world(
        self, index: PageIndex, at: Places, wanted: NetworkFilter, languages: Sequence[str]
    ) -> WorldMap:
        model, where, kinds, people = at.model, at.coordinates, at.kinds, at.people
        ranking = model.ranked(wanted)
        candidates, degree = ranking.candidates, ranking.degree
        located = [e for e in candidates if e in where]
        shown = sorted(located[: wanted.limit], key=num)
        shown_set = set(shown)
        lines_of = [
            (p, sorted({party for party in p.parties if party in shown_set}, key=num))
            for p in ranking.involving(shown)
        ]
        classes = index.values(shown, INSTANCE_OF)
        territories_of = index.values(shown, LOCATED_IN)
        networks_of = {
            e: [n for n in found if model.kinds.get(n) == "network"]
            for e, found in index.values(shown, MEMBER_OF).items()
        }
        located_territories = sorted(
            (t for t, kind in kinds.items() if kind == "territory" and t in where), key=num
        )
        wanted_names = {
            *shown,
            *located_territories,
            *(c for found in classes.values() for c in found),
            *(t for found in territories_of.values() for t in found),
            *(n for found in networks_of.values() for n in found),
            *(p.id for p, parties in lines_of if len(parties) > 1),
        }
        names = index.names(wanted_names, languages)
        places = [
            Place(
                e,
                model.kinds[e],
                *where[e],
                *_name(names, e),
                classes=classes.get(e, []),
                territories=territories_of.get(e, []),
                networks=networks_of.get(e, []),
                partnerships=degree.get(e, 0),
            )
            for e in shown
        ]
        lines = [
            Line(p.id, *_name(names, p.id), a, b)
            for p, parties in lines_of
            for i, a in enumerate(parties)
            for b in parties[i + 1 :]
        ]
        here: dict[str, int] = {}
        for place in places:
            for territory in place.territories:
                here[territory] = here.get(territory, 0) + 1
        territories = [
            Place(
                t,
                "territory",
                *where[t],
                *_name(names, t),
                people=people.get(t, 0),
                organisations=here.get(t, 0),
            )
            for t in located_territories
        ]
        return WorldMap(
            places,
            lines,
            territories,
            {k: v for k, v in names.items() if k not in shown_set},
            truncated=len(located) > wanted.limit,
            unlocated=len(candidates) - len(located),
        )

    def around(self, entity: str, languages: Sequence[str]) -> EntityMap | None:
        """The small map of an organisation, network or territory page: None for any
        other entity, or one with no coordinates and (a territory) nothing located in it."""
        index = self.index
        found = self.places()
        key = ("geography-around", found.revision, entity, tuple(languages))
        return index.memo(key, lambda: self._around(index, found.value, entity, languages))

    def _around(
        self, index: PageIndex, at: Places, entity: str, languages: Sequence[str]
    ) -> EntityMap | None:
        kinds, where = at.kinds, at.coordinates
        kind = kinds.get(entity)
        if kind is None:
            return None
        inside: list[str] = []
        if kind == "territory":
            inside = [
                entity_id(n)
                for (n,) in index.db.execute(
                    "SELECT num FROM fact WHERE prop = ? AND value = ? ORDER BY num",
                    (num(LOCATED_IN), num(entity)),
                )
                if entity_id(n) in where and kinds.get(entity_id(n)) in KINDS
            ]
        if entity not in where and not inside:
            return None
        points = [where[e] for e in ([entity] if entity in where else []) + inside]
        view = fit(points)
        nearby_ids = [
            e for e, (lon, lat) in where.items() if e != entity and view.contains(lon, lat)
        ]
        names = index.names([entity, *nearby_ids], languages)
        own = where.get(entity) or _middle(points)
        place = Place(entity, kind, *own, *_name(names, entity))
        people = at.people.get(entity, 0) if kind == "territory" else None
        if people is not None:
            place.people = people
            place.organisations = len(inside)
        nearby = [
            Place(e, kinds[e], *where[e], *_name(names, e)) for e in sorted(nearby_ids, key=num)
        ]
        return EntityMap(place, view, nearby, people)


def parse_point(text: str) -> Point | None:
    """(longitude, latitude) of a WKT point on the Earth, or None when it is not one."""
    point = coordinates.parse_point(text)
    if point is None or point.globe != EARTH:
        return None
    lon, lat = float(point.longitude), float(point.latitude)
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        return None
    return (lon, lat)


def _middle(points: Sequence[Point]) -> Point:
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def _name(names: Mapping[str, tuple[str, str]], eid: str) -> tuple[str, str]:
    found = names.get(eid)
    return (found[1], found[0]) if found else (eid, "")
