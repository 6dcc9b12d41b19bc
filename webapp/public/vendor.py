"""Front-end files of npm packages, served by the app itself from node_modules.

Nothing is fetched from a CDN: ``scripts/bootstrap`` installs the packages with npm
(``package.json``), and this blueprint serves an allow-listed set of their built files at
``/vendor/<package version>/<name>``. The version in the path makes the URLs safe to cache
forever. Where the files are missing, :func:`missing_assets` says so and pages explain how
to install them (setting ``NODE_MODULES``).
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, request, url_for

from loader.base.errors import NotFound
from webapp.http.caching import conditional
from webapp.http.catalogue import get_settings

bp = Blueprint("vendor", __name__)

ROOT = Path(__file__).resolve().parents[2]  # the checkout, where scripts/bootstrap runs npm ci


@dataclass(frozen=True)
class Asset:
    """One served file of an npm package."""

    package: str
    path: str  # inside the package
    mimetype: str


#: Every file the app serves from node_modules, by the name used in URLs.
ASSETS: dict[str, Asset] = {
    "yasgui.min.js": Asset(
        "@zazuko/yasgui", "build/yasgui.min.js", "text/javascript; charset=utf-8"
    ),
    "yasgui.min.css": Asset("@zazuko/yasgui", "build/yasgui.min.css", "text/css; charset=utf-8"),
    "cytoscape.min.js": Asset(
        "cytoscape", "dist/cytoscape.min.js", "text/javascript; charset=utf-8"
    ),
    # the map (webapp.public.map): Leaflet with circle markers (no marker images)
    "leaflet.js": Asset("leaflet", "dist/leaflet.js", "text/javascript; charset=utf-8"),
    "leaflet.css": Asset("leaflet", "dist/leaflet.css", "text/css; charset=utf-8"),
    "leaflet.markercluster.js": Asset(
        "leaflet.markercluster", "dist/leaflet.markercluster.js", "text/javascript; charset=utf-8"
    ),
    "MarkerCluster.css": Asset(
        "leaflet.markercluster", "dist/MarkerCluster.css", "text/css; charset=utf-8"
    ),
    "MarkerCluster.Default.css": Asset(
        "leaflet.markercluster", "dist/MarkerCluster.Default.css", "text/css; charset=utf-8"
    ),
    # land outlines (Natural Earth via world-atlas), read by the server for its SVG maps
    "land-110m.json": Asset("world-atlas", "land-110m.json", "application/json"),
    # the query editor's result views (static/query-views.js): the map's basemap decoder
    # and the charts
    "topojson-client.min.js": Asset(
        "topojson-client", "dist/topojson-client.min.js", "text/javascript; charset=utf-8"
    ),
    "chart.umd.min.js": Asset(
        "chart.js", "dist/chart.umd.min.js", "text/javascript; charset=utf-8"
    ),
}

_compressed: dict[tuple[Path, int], bytes] = {}
_compressed_lock = threading.Lock()


def node_modules() -> Path:
    """The npm packages directory (setting NODE_MODULES)."""
    configured = get_settings().NODE_MODULES
    return Path(configured) if configured else ROOT / "node_modules"


def package_version(package: str) -> str | None:
    """The installed version of an npm package, or None when it is not installed."""
    manifest = node_modules() / package / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def asset_file(name: str) -> Path | None:
    """The file behind an asset name, or None when it is not installed."""
    asset = ASSETS[name]
    path = node_modules() / asset.package / asset.path
    return path if path.is_file() else None


def missing_assets(names: list[str]) -> list[str]:
    """Which of ``names`` are not installed, as ``package/path`` for messages."""
    return [f"{ASSETS[n].package}/{ASSETS[n].path}" for n in names if asset_file(n) is None]


def missing_message(missing: list[str]) -> str:
    """What to tell the operator when front-end files are missing."""
    return (
        f"The front-end files {', '.join(missing)} are not installed in {node_modules()}. "
        "Run scripts/bootstrap (it installs them with npm ci), or point the setting "
        "NODE_MODULES at a node_modules directory that has them."
    )


def vendor_url(name: str) -> str:
    """The versioned URL of an asset (for templates)."""
    version = package_version(ASSETS[name].package) or "missing"
    return url_for("vendor.asset", version=version, name=name)


def _gzipped(path: Path) -> bytes:
    key = (path, path.stat().st_mtime_ns)
    with _compressed_lock:
        found = _compressed.get(key)
    if found is None:
        found = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
        with _compressed_lock:
            _compressed[key] = found
    return found


@bp.get("/vendor/<version>/<name>")
def asset(version: str, name: str) -> Response:
    """One allow-listed file, compressed when the client accepts gzip."""
    if name not in ASSETS:
        raise NotFound(f"there is no front-end file {name!r} here", title="Not found")
    path = asset_file(name)
    if path is None:
        raise NotFound(missing_message(missing_assets([name])), title="Not installed")
    installed = package_version(ASSETS[name].package)
    if version != installed:
        raise NotFound(
            f"{name} is installed in version {installed}, not {version}", title="Not found"
        )
    if request.accept_encodings.quality("gzip") > 0:
        response = Response(_gzipped(path), mimetype=ASSETS[name].mimetype)
        response.content_encoding = "gzip"
    else:
        response = Response(path.read_bytes(), mimetype=ASSETS[name].mimetype)
    response.vary.add("Accept-Encoding")
    etag = f"{version}-{name}-{response.content_encoding or 'identity'}"
    return conditional(response, etag, immutable=True)


def init_app(app: Flask) -> None:
    """Register the blueprint and the ``vendor_url`` template function."""
    app.register_blueprint(bp)
    app.jinja_env.globals["vendor_url"] = vendor_url
