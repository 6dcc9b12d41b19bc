"""The map: ``/map`` (organisations on a world map, partnerships drawn between them, people
as counts per territory), ``/map.geojson`` (the same as RFC 7946 GeoJSON) and
``/map/land.geojson`` (the land outlines the interactive map draws instead of tiles).

The page works without JavaScript: the server draws the map as inline SVG (land from
world-atlas in node_modules, projected by :mod:`loader.discovery.world_outline`) above a
table of everything shown; ``static/map.js`` replaces the picture with a Leaflet map
with clustering (served from node_modules by :mod:`webapp.public.vendor`). Nothing is
fetched from another host: no tiles, no CDN.

The filters are the network's (``activity``, ``tier``, ``status``, ``from``, ``to``,
``limit``), checked by :meth:`loader.discovery.network.PartnershipNetwork.parse_filter`;
``/map.geojson`` also takes ``include`` (``partnerships``, ``territories``).

Entity pages and the home page reuse the small SVG maps through two template functions:
``entity_map(entity_id)`` (``_entity_map.html``) and ``map_teaser()`` (``_map_teaser.html``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, render_template, request, url_for

from loader.base.errors import BigtentError
from loader.discovery.geography import EntityMap, Geography, Place, WorldMap
from loader.discovery.network import VOCABULARIES, NetworkFilter
from loader.discovery.world_outline import SCALE, WORLD, View, geojson, land, land_path, project
from loader.storage.page_index import PageIndex
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.errors import json_only
from webapp.http.negotiation import best_type, not_acceptable
from webapp.http.rendering import cached_html, index
from webapp.http.request_args import label_languages
from webapp.public.network import current_filter, filter_args, filter_titles
from webapp.public.vendor import asset_file, package_version

bp = Blueprint("map", __name__)

GEOJSON = "application/geo+json"
HTML = "text/html"
JSON = "application/json"
INCLUDES = ("partnerships", "territories")
MAP_ASSETS = ["leaflet.js", "leaflet.markercluster.js"]
VIEW = "the map"
#: Steps across the width of a small map's outlines (the world map uses more).
SMALL_DETAIL = 240
#: Organisations an entity page's small map shows around it, at most.
NEARBY_SHOWN = 200


def _geography() -> Geography:
    return get_catalogue().geography


def _land_file() -> Path | None:
    return asset_file("land-110m.json")


def _includes() -> frozenset[str]:
    values = [v for raw in request.args.getlist("include") for v in raw.split(",") if v]
    for value in values:
        if value not in INCLUDES:
            raise BigtentError(
                f"include={value[:40]!r} is not something the map can add; use "
                f"{', '.join(INCLUDES)}",
                title="Unknown filter value",
            )
    return frozenset(values)


def _state(
    wanted: NetworkFilter, languages: Sequence[str], *extra: object
) -> tuple[tuple[object, ...], str]:
    """Cache key and ETag of one view of the map."""
    found = index()
    key = (found.indexed_id, wanted.key(), tuple(languages), request.script_root, *extra)
    digest = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:16]
    return key, f"map-{found.indexed_id}-{digest}"


# --- GeoJSON ------------------------------------------------------------------------------
def feature_collection(world: WorldMap, includes: frozenset[str], base: str) -> dict[str, object]:
    """The map as an RFC 7946 FeatureCollection (positions are longitude, latitude)."""
    features: list[dict[str, object]] = [
        _point(
            place,
            base,
            classes=place.classes,
            territories=place.territories,
            networks=place.networks,
            partnerships=place.partnerships,
        )
        for place in world.places
    ]
    if "territories" in includes:
        features += [
            _point(t, base, people=t.people, organisations=t.organisations)
            for t in world.territories
        ]
    if "partnerships" in includes:
        where = {p.id: p for p in world.places}
        for line in world.lines:
            a, b = where[line.a], where[line.b]
            features.append(
                {
                    "type": "Feature",
                    "id": f"{line.partnership}-{line.a}-{line.b}",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[a.lon, a.lat], [b.lon, b.lat]],
                    },
                    "properties": {
                        "id": line.partnership,
                        "label": line.label,
                        "lang": line.lang,
                        "type": "partnership",
                        "page": f"{base}page/{line.partnership}",
                        "parties": [line.a, line.b],
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "truncated": world.truncated,
        "unlocated": world.unlocated,
        "names": {k: {"label": text, "lang": lang} for k, (lang, text) in world.names.items()},
        "features": features,
    }


def _point(place: Place, base: str, **extra: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "id": place.id,
        "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
        "properties": {
            "id": place.id,
            "label": place.label,
            "lang": place.lang,
            "type": place.kind,
            "page": f"{base}page/{place.id}",
            **extra,
        },
    }


def _geojson_response(wanted: NetworkFilter, includes: frozenset[str]) -> Response:
    """The map document as of the newest finished computation (its ``revision``)."""
    languages = label_languages()
    key = (wanted.key(), tuple(languages), tuple(sorted(includes)))
    base = get_catalogue().ns.base
    geography = _geography()

    def body(_index: PageIndex) -> bytes:
        data = feature_collection(geography.world(wanted, languages), includes, base)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    found = get_catalogue().views.get(("map.geojson", key), body)
    payload = found.value[:-1] + b',"revision":' + str(found.revision).encode() + b"}"
    response = Response(payload, mimetype=GEOJSON)
    digest = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:16]
    return conditional(response, f"map-r{found.revision}-{digest}", max_age=60)


@bp.get("/map.geojson")
@json_only
def map_geojson() -> Response:
    """Organisations and networks (and on request partnerships and territories) as
    GeoJSON, for the chosen filters."""
    wanted = current_filter(view=VIEW, extra=("include",))
    return _geojson_response(wanted, _includes())


@bp.get("/map/land.geojson")
@json_only
def land_geojson() -> Response:
    """The land outlines the interactive map draws (world-atlas, cut at the antimeridian)."""
    path = _land_file()
    version = package_version("world-atlas") or "missing"
    payload = json.dumps(geojson(land(path)), separators=(",", ":")).encode()
    response = Response(payload, mimetype=GEOJSON)
    return conditional(response, f"land-{version}-{len(payload)}", max_age=86400)


# --- the page -------------------------------------------------------------------------------
@bp.get("/map")
def map_page() -> Response:
    """The world map of organisations, its filters, and the same data as tables."""
    wanted = current_filter(view=VIEW, extra=("include", "format"))
    includes = _includes()
    fmt = request.args.get("format")
    if fmt is not None and fmt not in ("html", "geojson"):
        raise BigtentError(f"format={fmt[:20]!r} is not offered here: use html or geojson")
    offered = [HTML, GEOJSON, JSON]  # GeoJSON is JSON: a JSON client gets it too
    chosen = {"html": HTML, "geojson": GEOJSON}[fmt] if fmt else best_type(offered)
    if chosen is None:
        raise not_acceptable(offered)
    if chosen != HTML:
        return _geojson_response(wanted, includes)
    languages = label_languages()
    key, etag = _state(wanted, languages, "html")
    network = get_catalogue().network
    default_limit = int(get_settings().NETWORK_MAX_ORGANISATIONS)

    def render() -> tuple[str, None]:
        world = _geography().world(wanted, languages)
        vocabularies = {name: network.vocabulary(name) for name in VOCABULARIES}
        names = index().names([c for values in vocabularies.values() for c in values], languages)
        query = urlencode(filter_args(wanted, default_limit), doseq=True)
        data_query = urlencode(
            {**filter_args(wanted, default_limit), "include": ",".join(INCLUDES)}, doseq=True
        )
        html = render_template(
            "map.html",
            world=world,
            svg=svg_map(world, WORLD),
            wanted=wanted,
            vocabularies=vocabularies,
            names=names,
            filter_titles=filter_titles(),
            geojson_url=url_for("map.map_geojson") + ("?" + query if query else ""),
            data_url=url_for("map.map_geojson") + "?" + data_query,
            land_url=url_for("map.land_geojson"),
            places_by_id={p.id: p for p in world.places},
            people_total=sum(t.people for t in world.territories),
        )
        return html, None

    return cached_html(("map", *key), etag, render)


# --- the SVG maps ---------------------------------------------------------------------------
def svg_map(
    world: WorldMap | None,
    view: View,
    *,
    places: Sequence[Place] = (),
    territories: Sequence[Place] = (),
    marked: Place | None = None,
    detail: int = 700,
    dots: int = 300,
) -> dict[str, object]:
    """What ``_map_svg.html`` draws: outlines, dots, lines and labels in SVG units."""
    shown = list(world.places if world else places)
    where = {p.id: project(p.lon, p.lat) for p in shown}
    lines = []
    if world is not None:
        lines = [(line, where[line.a], where[line.b]) for line in world.lines]
    unit = view.width * SCALE / dots  # one dot radius: a view's width holds ``dots``
    x, y = project(view.west, view.north)
    return {
        "view_box": view.view_box(),
        "sea": (x, y, round(view.width * SCALE, 2), round((view.north - view.south) * SCALE, 2)),
        "land": land_path(_land_file(), view, detail),
        "places": [(p, where[p.id]) for p in shown if view.contains(p.lon, p.lat)],
        "territories": [
            (t, project(t.lon, t.lat))
            for t in (world.territories if world else territories)
            if view.contains(t.lon, t.lat)
        ],
        "lines": lines,
        "marked": (marked, project(marked.lon, marked.lat)) if marked else None,
        "r": round(unit, 2),
        "stroke": round(unit / 4, 2),
        "font": round(unit * 3.2, 2),
    }


def entity_map(entity_id: str) -> dict[str, object] | None:
    """The small map of an entity page (organisations, networks, territories), or None."""
    found: EntityMap | None = _geography().around(entity_id, label_languages())
    if found is None:
        return None
    nearby = found.nearby[:NEARBY_SHOWN]
    return {
        "entity": found.entity,
        "people": found.people,
        "svg": svg_map(
            None,
            found.view,
            places=[p for p in nearby if p.kind != "territory"],
            territories=[p for p in nearby if p.kind == "territory"],
            marked=found.entity,
            detail=SMALL_DETAIL,
            dots=110,
        ),
        "map_url": url_for("map.map_page"),
    }


def map_teaser() -> dict[str, object]:
    """The home page's map: every located organisation and network, unfiltered."""
    limit = int(get_settings().NETWORK_MAX_ORGANISATIONS)
    world = _geography().world(NetworkFilter(limit=limit), label_languages())
    return {
        "world": world,
        "svg": svg_map(world, WORLD, detail=360),
        "map_url": url_for("map.map_page"),
    }


def init_app(app: Flask) -> None:
    """Register the map's routes and the ``entity_map``/``map_teaser`` template functions."""
    app.register_blueprint(bp)
    app.jinja_env.globals["entity_map"] = entity_map
    app.jinja_env.globals["map_teaser"] = map_teaser
