"""The site navigation every page shows: where each entry goes and which one is current.

Labels are in the template (``base.html``, so they are translated with the page); this
module gives the entries in order, each with its URL and whether the page being rendered
belongs to it (``aria-current="page"``). An entry whose area is not registered (the map,
while it is being built) is left out rather than breaking every page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request

from webapp.http.rendering import path_for


@dataclass(frozen=True)
class NavEntry:
    """One entry of the navigation: a key (for the label), an endpoint, and the
    endpoints (or blueprint prefixes ending in ``.``) that count as being in it."""

    key: str
    endpoint: str
    within: tuple[str, ...] = ()


#: The navigation, in the order it is shown.
ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("home", "pages.home"),
    NavEntry("browse", "browse.classes", ("browse.",)),
    NavEntry("map", "map.map_page", ("map.",)),
    NavEntry("network", "network.network_page", ("network.",)),
    NavEntry("partnerships", "partnerships.register", ("partnerships.",)),
    NavEntry("peers", "peers.find", ("peers.",)),
    NavEntry("query", "query_editor.editor", ("query_editor.",)),
    NavEntry("statistics", "statistics.statistics_page", ("statistics.",)),
    NavEntry("changes", "recent_changes.recent", ("recent_changes.",)),
    NavEntry("dataset", "dataset.dataset", ("dataset.",)),
)


@dataclass(frozen=True)
class NavLink:
    """An entry as a page shows it."""

    key: str
    url: str
    current: bool


def init_app(app: Flask) -> None:
    """Make ``site_nav()`` available to every template."""
    app.jinja_env.globals["site_nav"] = site_nav


def _is_current(entry: NavEntry, endpoint: str) -> bool:
    if endpoint == entry.endpoint:
        return True
    return any(endpoint.startswith(w) if w.endswith(".") else endpoint == w for w in entry.within)


def site_nav() -> list[NavLink]:
    """The navigation entries whose page exists, with the current one marked."""
    endpoints = current_app.view_functions
    endpoint = request.endpoint or ""
    return [
        NavLink(entry.key, path_for(entry.endpoint), _is_current(entry, endpoint))
        for entry in ENTRIES
        if entry.endpoint in endpoints
    ]
