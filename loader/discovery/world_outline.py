"""The world's land outlines for maps drawn without tiles, and the map projection.

The outlines are world-atlas's ``land-110m.json`` (Natural Earth, public domain), a
TopoJSON file (https://github.com/topojson/topojson-specification) read once per file
version: arcs are delta-decoded and quantised back to degrees, rings are stitched from
their arcs, and polygons crossing the antimeridian are cut there (unwrapped, closed
around the pole when they encircle it, clipped to [-180, 180] and the part beyond moved
back), so both a planar SVG and Leaflet draw them without streaks across the map.

The projection is equirectangular (plate carrée): ``x = (lon + 180) * SCALE``,
``y = (TOP - lat) * SCALE``; maps crop the poles to ``TOP``…``BOTTOM``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: SVG user units per degree.
SCALE = 10
#: Latitudes the world map shows (Antarctica and the high Arctic are cropped).
TOP, BOTTOM = 84.0, -60.0
Point = tuple[float, float]  # (longitude, latitude)
Ring = tuple[Point, ...]


@dataclass(frozen=True)
class Polygon:
    """One land polygon: its outer ring, then its holes, and its bounding box."""

    rings: tuple[Ring, ...]
    box: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


@dataclass(frozen=True)
class View:
    """The part of the world a map shows, in degrees."""

    west: float
    south: float
    east: float
    north: float

    @property
    def width(self) -> float:
        """Degrees of longitude shown."""
        return self.east - self.west

    def view_box(self) -> str:
        """The SVG ``viewBox`` of this view."""
        x, y = project(self.west, self.north)
        return f"{x:g} {y:g} {self.width * SCALE:g} {(self.north - self.south) * SCALE:g}"

    def shows(self, box: tuple[float, float, float, float]) -> bool:
        """True when a bounding box overlaps the view."""
        return not (
            box[2] < self.west or box[0] > self.east or box[3] < self.south or box[1] > self.north
        )

    def contains(self, lon: float, lat: float) -> bool:
        """True when a point is inside the view."""
        return self.west <= lon <= self.east and self.south <= lat <= self.north


WORLD = View(-180.0, BOTTOM, 180.0, TOP)

_cache: dict[tuple[str, int], tuple[Polygon, ...]] = {}
_lock = threading.Lock()


def project(lon: float, lat: float) -> tuple[float, float]:
    """SVG coordinates of a point (equirectangular)."""
    return (round((lon + 180.0) * SCALE, 2), round((TOP - lat) * SCALE, 2))


def land(path: Path | None) -> tuple[Polygon, ...]:
    """The land polygons of a world-atlas TopoJSON file (none when there is no file),
    read once per file version."""
    if path is None:
        return ()
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        return ()
    with _lock:
        found = _cache.get(key)
    if found is None:
        found = tuple(read_topojson(json.loads(path.read_text(encoding="utf-8"))))
        with _lock:
            _cache.clear()
            _cache[key] = found
    return found


def read_topojson(topology: dict[str, object]) -> list[Polygon]:
    """Every polygon of every object of a TopoJSON topology, cut at the antimeridian."""
    arcs = _arcs(topology)
    polygons: list[Polygon] = []
    objects = topology.get("objects")
    for obj in objects.values() if isinstance(objects, dict) else ():
        for geometry in _geometries(obj):
            kind, parts = geometry.get("type"), geometry.get("arcs")
            if not isinstance(parts, list) or kind not in ("Polygon", "MultiPolygon"):
                continue
            shapes: list[list[list[int]]] = [parts] if kind == "Polygon" else parts
            for shape in shapes:
                rings = [_stitch(arcs, ring) for ring in shape]
                polygons += cut_at_antimeridian([r for r in rings if len(r) >= 4])
    return polygons


def _arcs(topology: dict[str, object]) -> list[list[Point]]:
    transform = topology.get("transform")
    scale, translate = (1.0, 1.0), (0.0, 0.0)
    if isinstance(transform, dict):
        scale, translate = tuple(transform["scale"]), tuple(transform["translate"])
    found: list[list[Point]] = []
    for arc in topology.get("arcs", []):  # type: ignore[attr-defined]
        x = y = 0.0
        points: list[Point] = []
        for position in arc:
            if isinstance(transform, dict):
                x, y = x + position[0], y + position[1]
            else:
                x, y = position[0], position[1]
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        found.append(points)
    return found


def _geometries(obj: object) -> Iterable[dict[str, object]]:
    if not isinstance(obj, dict):
        return
    if obj.get("type") == "GeometryCollection":
        for child in obj.get("geometries", []):
            yield from _geometries(child)
    else:
        yield obj


def _stitch(arcs: Sequence[list[Point]], indexes: Sequence[int]) -> list[Point]:
    ring: list[Point] = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring += points if not ring else points[1:]
    return ring


def cut_at_antimeridian(rings: Sequence[Sequence[Point]]) -> list[Polygon]:
    """A polygon (outer ring, holes) as polygons within [-180, 180] degrees."""
    if not rings:
        return []
    unwrapped = [_unwrap(ring) for ring in rings]
    west = min(lon for ring in unwrapped for lon, _ in ring)
    east = max(lon for ring in unwrapped for lon, _ in ring)
    if west >= -180.0 and east <= 180.0:  # most polygons: nothing to cut
        return [_polygon(unwrapped)]
    found: list[Polygon] = []
    for turn in range(int((west + 180) // 360), int((east + 180) // 360) + 1):
        shift = 360.0 * turn
        outer, *holes = (_clip(ring, shift - 180.0, shift + 180.0) for ring in unwrapped)
        if len(outer) < 3:
            continue
        parts = [outer, *(hole for hole in holes if len(hole) >= 3)]
        found.append(_polygon([[(lon - shift, lat) for lon, lat in ring] for ring in parts]))
    return found


def _unwrap(ring: Sequence[Point]) -> list[Point]:
    """Longitudes made continuous (no jump of more than 180 degrees between points);
    a ring that goes round the pole is closed along it."""
    out: list[Point] = [ring[0]]
    offset = 0.0
    for (lon0, _), (lon, lat) in itertools.pairwise(ring):
        if lon - lon0 > 180:
            offset -= 360.0
        elif lon0 - lon > 180:
            offset += 360.0
        out.append((lon + offset, lat))
    if abs(out[-1][0] - out[0][0]) > 180:  # encircles a pole: close along it
        pole = -90.0 if sum(lat for _, lat in out) < 0 else 90.0
        out += [(out[-1][0], pole), (out[0][0], pole), out[0]]
    return out


def _clip(ring: Sequence[Point], west: float, east: float) -> list[Point]:
    """Sutherland–Hodgman clipping of a ring to the band west <= lon <= east."""
    points = list(ring)
    for edge, side in ((west, 1.0), (east, -1.0)):
        if not points:
            break
        out: list[Point] = []
        for i, current in enumerate(points):
            previous = points[i - 1]
            if (current[0] - edge) * side >= 0:
                if (previous[0] - edge) * side < 0:
                    out.append(_crossing(previous, current, edge))
                out.append(current)
            elif (previous[0] - edge) * side >= 0:
                out.append(_crossing(previous, current, edge))
        points = out
    return points


def _clip_to(ring: Sequence[Point], view: View, margin: float) -> list[Point]:
    """A ring clipped to a view (with a margin, so no edge of the cut shows)."""
    band = _clip(ring, view.west - margin, view.east + margin)
    swapped = _clip([(lat, lon) for lon, lat in band], view.south - margin, view.north + margin)
    return [(lon, lat) for lat, lon in swapped]


def _crossing(a: Point, b: Point, lon: float) -> Point:
    t = (lon - a[0]) / (b[0] - a[0])
    return (lon, a[1] + t * (b[1] - a[1]))


def _polygon(rings: Sequence[Sequence[Point]]) -> Polygon:
    outer = rings[0]
    box = (
        min(p[0] for p in outer),
        min(p[1] for p in outer),
        max(p[0] for p in outer),
        max(p[1] for p in outer),
    )
    return Polygon(tuple(tuple(r) for r in rings), box)


_paths: dict[tuple[str, int, View, int], str] = {}
#: Paths remembered (one per small map view: a few KB each).
PATHS_KEPT = 512


def land_path(path: Path | None, view: View, detail: int = 700) -> str:
    """:func:`svg_path` of the land in a world-atlas file, remembered per view."""
    if path is None:
        return ""
    try:
        key = (str(path), path.stat().st_mtime_ns, view, detail)
    except OSError:
        return ""
    with _lock:
        found = _paths.get(key)
    if found is None:
        found = svg_path(land(path), view, detail)
        with _lock:
            if len(_paths) >= PATHS_KEPT:
                _paths.clear()
            _paths[key] = found
    return found


def svg_path(polygons: Iterable[Polygon], view: View, detail: int = 700) -> str:
    """The SVG path data of the polygons a view shows, simplified to about ``detail``
    steps across its width (points closer than that are dropped)."""
    step = view.width / detail  # degrees
    decimals = 0 if view.width * SCALE / detail >= 1 else 1
    commands: list[str] = []
    for polygon in polygons:
        if not view.shows(polygon.box):
            continue
        whole = view == WORLD
        for ring in polygon.rings:
            kept = _thin(ring if whole else _clip_to(ring, view, step * 4), step)
            if len(kept) < 3:
                continue
            commands.append(_ring_path(kept, decimals))
    return "".join(commands)


def _thin(ring: Sequence[Point], step: float) -> list[Point]:
    if not ring:  # clipping can leave nothing of a ring that only grazes the view
        return []
    kept = [ring[0]]
    for point in ring[1:]:
        last = kept[-1]
        if abs(point[0] - last[0]) >= step or abs(point[1] - last[1]) >= step:
            kept.append(point)
    return kept


def _ring_path(ring: Sequence[Point], decimals: int) -> str:
    parts: list[str] = []
    previous: tuple[float, float] | None = None
    for lon, lat in ring:
        x, y = project(lon, lat)
        x, y = round(x, decimals), round(y, decimals)
        if previous is None:
            parts.append(f"M{_num(x)} {_num(y)}")
        else:
            dx, dy = round(x - previous[0], decimals), round(y - previous[1], decimals)
            if dx or dy:
                parts.append(f"l{_num(dx)} {_num(dy)}")
        previous = (x, y)
    return "".join(parts) + "z"


def _num(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def geojson(polygons: Iterable[Polygon]) -> dict[str, object]:
    """The outlines as one RFC 7946 MultiPolygon feature (for Leaflet): rings closed,
    exteriors counterclockwise and holes clockwise (§3.1.6), degenerate ones left out."""
    shapes: list[list[list[list[float]]]] = []
    for polygon in polygons:
        rings: list[list[list[float]]] = []
        for i, ring in enumerate(polygon.rings):
            points = [[round(lon, 4), round(lat, 4)] for lon, lat in ring]
            if points[0] != points[-1]:
                points.append(points[0])
            area = _area(points)
            if len(points) < 4 or abs(area) < 1e-6:
                if i == 0:
                    break  # no exterior, no polygon
                continue
            if (area > 0) != (i == 0):
                points.reverse()
            rings.append(points)
        if rings:
            shapes.append(rings)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "land"},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": shapes,
                },
            }
        ],
    }


def _area(ring: Sequence[Sequence[float]]) -> float:
    """Signed area (shoelace): positive for counterclockwise rings."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring)) / 2


def fit(points: Sequence[Point], margin: float = 4.0, min_width: float = 36.0) -> View:
    """A view showing every point with a margin, at least ``min_width`` degrees wide and
    twice as wide as high, kept inside the world."""
    west = min(p[0] for p in points) - margin
    east = max(p[0] for p in points) + margin
    south = min(p[1] for p in points) - margin
    north = max(p[1] for p in points) + margin
    width = max(east - west, 2 * (north - south), min_width)
    height = width / 2
    middle_lon, middle_lat = (west + east) / 2, (south + north) / 2
    width, height = min(width, 360.0), min(height, TOP - BOTTOM)
    west = min(max(middle_lon - width / 2, -180.0), 180.0 - width)
    south = min(max(middle_lat - height / 2, BOTTOM), TOP - height)
    return View(round(west, 3), round(south, 3), round(west + width, 3), round(south + height, 3))
