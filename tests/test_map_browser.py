"""The map in headless Chromium: Leaflet (served by the app) draws clustered markers from
/map.geojson over the land outlines, a filter narrows them, a popup links to the page,
nothing is fetched from another host, and the page works at phone width and without
JavaScript. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from browser import WatchedPage, watched_page
from live_server import LiveServer
from playwright.sync_api import Browser, Page

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
DRAWN = '#map-box[data-state="drawn"]'


def shot(page: Page, name: str) -> None:
    """A screenshot of the map's section."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator('section[aria-labelledby="map-h"]').screenshot(
        path=str(SCREENSHOTS / f"{name}.png")
    )


def located(server: LiveServer, query: str = "") -> set[str]:
    """Organisations and networks /map.geojson places for ``query``."""
    url = server.url + "map.geojson" + (f"?{query}" if query else "")
    with urllib.request.urlopen(url, timeout=30) as response:
        data: dict[str, Any] = json.load(response)
    return {f["id"] for f in data["features"] if f["properties"]["type"] != "territory"}


def drawn_ids(page: Page) -> set[str]:
    ids = page.evaluate("window.bigtentMap.clusters.getLayers().map(m => m.feature.properties.id)")
    return set(ids)


def test_map_draws_clusters_and_a_filter_narrows_them(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    everything = located(live_server)
    assert len(everything) >= 5, "the demo catalogue places its organisations"
    page.goto(live_server.url + "map")
    page.wait_for_selector(DRAWN, timeout=30000)
    assert drawn_ids(page) == everything
    assert page.locator("#map-box .leaflet-container").count() == 1
    assert page.locator("#map-box path.leaflet-interactive").count() > 0  # circle markers
    assert page.locator("#map-box .marker-cluster").count() > 0  # close ones clustered
    assert page.locator("#map-box svg path").count() > 0  # land, drawn without tiles
    assert page.locator("#map-box .leaflet-tile").count() == 0
    shot(page, "map")

    # A popup links to the organisation's page.
    first = sorted(everything, key=lambda e: int(e[1:]))[0]
    page.evaluate(
        """id => {
          const all = window.bigtentMap.clusters.getLayers();
          const m = all.find(l => l.feature.properties.id === id);
          window.bigtentMap.clusters.zoomToShowLayer(m, () => m.openPopup());
        }""",
        first,
    )
    link = page.locator(".leaflet-popup-content a").first
    link.wait_for()
    assert (link.get_attribute("href") or "").endswith(f"/page/{first}")

    # The filter form narrows the markers to the partnerships' parties.
    page.check('input[name="activity"][value="Q134"]')  # technology development
    page.click('form.network-filters button[type="submit"]')
    page.wait_for_url("**/map?activity=Q134*")
    page.wait_for_selector(DRAWN, timeout=30000)
    narrowed = located(live_server, "activity=Q134")
    assert narrowed and narrowed < everything
    assert drawn_ids(page) == narrowed
    assert page.evaluate("window.bigtentMap.lines.getLayers().length") > 0
    browser_page.assert_stayed_local()
    assert any("/vendor/" in url and "leaflet.js" in url for url in browser_page.requests)


def test_map_at_phone_width(browser: Browser, live_server: LiveServer) -> None:
    with watched_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True) as watched:
        page = watched.page
        page.goto(live_server.url + "map")
        page.wait_for_selector(DRAWN, timeout=30000)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
        box = page.locator("#map-box .leaflet-container").bounding_box()
        assert box is not None and box["width"] <= 390 and box["height"] >= 300
        assert page.locator(".leaflet-control-zoom-in").is_visible()
        shot(page, "map-phone")
        watched.assert_stayed_local()


def test_map_without_javascript(browser: Browser, live_server: LiveServer) -> None:
    with watched_page(browser, java_script_enabled=False) as watched:
        page = watched.page
        page.goto(live_server.url + "map")
        svg = page.locator("#map-box svg.map-world")
        assert svg.is_visible()
        assert page.locator("#map-box svg circle.map-dot").count() == len(located(live_server))
        assert page.locator("table.map-places-table tbody tr").count() == len(located(live_server))
        shot(page, "map-no-javascript")
        page.goto(live_server.url + "page/Q1401")  # a territory: its small map
        small = page.locator("section.entity-map")
        assert small.locator("svg").is_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        small.screenshot(path=str(SCREENSHOTS / "map-territory.png"))
        watched.assert_stayed_local()
