"""The /peers type-ahead in headless Chromium, against a real server."""

from __future__ import annotations

from browser import WatchedPage
from live_server import LiveServer
from playwright.sync_api import expect


def test_type_a_capacity_in_french_pick_it_and_search(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    page.goto(live_server.url + "peers")
    field = page.locator("#peers-capacity-name")
    field.fill("gouvern")  # the French label of governance (Q310)
    option = page.locator("#peers-capacity-list [role=option]").first
    expect(option).to_contain_text("governance")
    field.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", "peers-capacity-option-0")
    field.press("Enter")
    assert page.eval_on_selector(
        "#peers-capacity", "s => Array.from(s.selectedOptions).map(o => o.value)"
    ) == ["Q310"]
    assert field.input_value() == ""
    page.click(".peers-form button[type=submit]")
    page.wait_for_selector("ol.results.peers li")
    assert "capacity=Q310" in page.url
    assert page.locator("ol.results.peers .reasons li").count() >= 1
