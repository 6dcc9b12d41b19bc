"""The edit form's map picker in headless Chromium, against a real server with a staff
account: an organisation's coordinate shows as a marker on a small Leaflet map; a click on
the map fills the latitude and longitude fields (rounded to the chosen precision), typing
moves the marker, the map takes no keyboard focus, saving stores the picked coordinate,
and nothing is requested from another host. Without JavaScript the two number fields
alone edit the coordinate (tests/test_coordinates.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests
from browser import WatchedPage, watched_page
from live_server import LiveServer
from playwright.sync_api import Browser, Locator, Page, expect

from loader.base.settings import load_settings
from loader.staff.accounts import open_accounts

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
ORGANISATION = "Q1000"  # Wikimedia Foundation, placed in San Francisco (37.7749, -122.4194)
FIELDSET = "fieldset[data-coordinate-field]"


@pytest.fixture(scope="module")
def picker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server over the demo catalogue, with one staff account (ann)."""
    with LiveServer.start(tmp_path_factory.mktemp("live-picker")) as server:
        settings = load_settings(
            env={}, overrides={"DATA_DIR": str(server.data_dir), "BASE_URL": server.url}
        )
        with closing(open_accounts(settings)) as accounts:
            accounts.add_user("ann", "editor", PASSWORD)
        yield server


def log_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "login")
    page.fill("#name", "ann")
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    expect(page.locator("nav.staff")).to_contain_text("ann")


def marker_path(fieldset: Locator) -> str:
    """The circle marker's SVG path (the land outlines are in a pane of their own)."""
    marker = fieldset.locator(".leaflet-overlay-pane path")
    expect(marker).to_have_count(1)
    return marker.get_attribute("d") or ""


def click_map(page: Page, fieldset: Locator, dx: float, dy: float) -> None:
    """Click the map ``dx``, ``dy`` pixels from its centre."""
    box = fieldset.locator(".coordinate-map").bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)


def coordinate(server: LiveServer, entity: str) -> dict[str, object]:
    """The entity's coordinate as its Wikibase JSON publishes it."""
    data = requests.get(f"{server.url}data/{entity}.json", timeout=30).json()
    claim = data["entities"][entity]["claims"]["P53"][0]
    value: dict[str, object] = claim["mainsnak"]["datavalue"]["value"]
    return value


def test_picking_a_point_on_the_map_fills_the_fields_and_saves(
    browser_page: WatchedPage, picker_server: LiveServer
) -> None:
    server = picker_server
    page = browser_page.page
    log_in(page, server)
    page.goto(f"{server.url}edit/{ORGANISATION}")
    fieldset = page.locator(FIELDSET)
    expect(fieldset).to_have_count(1)
    expect(fieldset).to_have_attribute("data-map", "drawn")  # land outlines in
    lat = fieldset.locator('[data-coordinate="latitude"]')
    lon = fieldset.locator('[data-coordinate="longitude"]')
    precision = fieldset.locator('[data-coordinate="precision"]')
    expect(lat).to_have_value("37.7749")
    expect(fieldset).to_have_attribute("data-map-point", "37.7749,-122.4194")
    assert fieldset.locator(".coordinate-map svg path").count() > 1  # land and the marker
    assert fieldset.locator(".leaflet-tile").count() == 0
    picker = fieldset.locator(".coordinate-picker")
    expect(picker).to_have_attribute("aria-hidden", "true")
    expect(picker.locator(".hint")).to_have_text(
        "Click or tap the map to set the latitude and longitude."
    )
    before = marker_path(fieldset)

    # Keyboard users stay in the number fields: nothing in the map takes focus.
    focusable = picker.evaluate(
        "el => Array.from(el.querySelectorAll('a, button, input, [tabindex]'))"
        ".filter(e => e.tabIndex >= 0).length"
    )
    assert focusable == 0
    precision.focus()
    page.keyboard.press("Tab")
    assert not page.evaluate("document.activeElement.closest('.coordinate-picker')")

    # A click east and south of the marker: four decimals, as the precision says.
    click_map(page, fieldset, 60, 40)
    expect(lat).not_to_have_value("37.7749")
    picked_lat, picked_lon = float(lat.input_value()), float(lon.input_value())
    assert re.fullmatch(r"-?\d+\.\d{4}", lat.input_value()), lat.input_value()
    assert re.fullmatch(r"-?\d+\.\d{4}", lon.input_value()), lon.input_value()
    assert picked_lat < 37.7749 - 2 and picked_lon > -122.4194 + 2
    assert marker_path(fieldset) != before, "the marker moved to the click"
    page.locator(FIELDSET).screenshot(path=str(shot_path("picker")))

    # Typing moves the marker.
    lat.fill("48.8566")
    lon.fill("2.3522")
    expect(fieldset).to_have_attribute("data-map-point", "48.8566,2.3522")
    typed = marker_path(fieldset)
    lat.fill("")
    expect(fieldset.locator(".leaflet-overlay-pane path")).to_have_count(0)
    lat.fill("48.8566")
    assert marker_path(fieldset) == typed

    # A coarser precision rounds the picked point to two decimals; saving stores it.
    precision.select_option("0.01")
    click_map(page, fieldset, -50, 30)
    expect(lat).not_to_have_value("48.8566")
    assert re.fullmatch(r"-?\d+\.\d{2}", lat.input_value()), lat.input_value()
    assert re.fullmatch(r"-?\d+\.\d{2}", lon.input_value()), lon.input_value()
    picked_lat, picked_lon = float(lat.input_value()), float(lon.input_value())
    assert picked_lat < 48.8566 and picked_lon < 2.3522
    page.fill("#summary", "Moved on the map")
    page.click('.save button[value="save"]')
    expect(page).to_have_url(re.compile(rf"/page/{ORGANISATION}$"))
    stored = coordinate(server, ORGANISATION)
    assert (stored["latitude"], stored["longitude"], stored["precision"]) == (
        picked_lat, picked_lon, 0.01,
    )  # fmt: skip

    # Everything came from this server: Leaflet, the picker, the land outlines.
    requested = browser_page.requests
    assert any(u.startswith(server.url + "vendor/") and "/leaflet.js" in u for u in requested)
    assert any(u.endswith("/static/map-picker.js") for u in requested)
    assert any(u.endswith("/map/land.geojson") for u in requested)
    browser_page.assert_stayed_local()


def test_the_picker_fits_a_phone_takes_a_tap_and_other_forms_stay_without_it(
    browser: Browser, picker_server: LiveServer
) -> None:
    phone = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
    with watched_page(browser, **phone) as watched:
        page = watched.page
        log_in(page, picker_server)
        page.goto(f"{picker_server.url}edit/{ORGANISATION}")
        fieldset = page.locator(FIELDSET)
        expect(fieldset).to_have_attribute("data-map", "drawn")
        box = fieldset.locator(".coordinate-map").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 390, "the map widens the page"
        # A tap on the map sets the point, as a click does.
        lon = fieldset.locator('[data-coordinate="longitude"]')
        before = lon.input_value()
        fieldset.locator(".coordinate-map").scroll_into_view_if_needed()
        box = fieldset.locator(".coordinate-map").bounding_box()
        assert box
        page.touchscreen.tap(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2)
        expect(lon).not_to_have_value(before)
        assert float(lon.input_value()) > float(before), "east of the point"
        page.locator(FIELDSET).screenshot(path=str(shot_path("picker-phone")))
        # A partnership's form has no coordinate: no Leaflet is fetched for it.
        watched.requests.clear()
        page.goto(f"{picker_server.url}edit/new/Q4")
        expect(page.locator("#edit-form")).to_be_visible()
        assert not [u for u in watched.requests if "leaflet" in u or "map-picker" in u]
        watched.assert_stayed_local()


def shot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"edit-{name}.png"
