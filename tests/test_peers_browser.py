"""Finding and reaching peers in headless Chromium, against a real server: the criteria
type-ahead (a combobox with chips), the capacity → peers → contact flow, and recent
changes → diff.

The recent-changes test edits a record, so it runs on this module's own server (the
session's shared one is left unchanged); the staff account is made with ``bigtent user
add``, as an administrator would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import WatchedPage
from live_server import LiveServer
from playwright.sync_api import expect

NAME, PASSWORD = "rita", "recent changes are public"
ENTITY = "Q1200"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"


def test_type_a_capacity_in_french_pick_it_and_search(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    page.goto(live_server.url + "peers")
    expect(page.locator("#peers-capacity details.choices")).to_be_hidden()  # JS took over
    field = page.locator("#peers-capacity-input")
    expect(field).to_have_attribute("role", "combobox")
    field.fill("gouvern")  # the French label of governance (Q310)
    option = page.locator("#peers-capacity-list [role=option]", has_text="governance").first
    expect(option).to_be_visible()
    field.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", "peers-capacity-list-option-0")
    field.press("Enter")
    chip = page.locator("#peers-capacity ul.chips button.chip")
    expect(chip).to_have_count(1)
    expect(chip).to_have_attribute("data-value", "Q310")
    assert page.eval_on_selector_all(
        "#peers-capacity input[type=checkbox]:checked", "bs => bs.map(b => b.value)"
    ) == ["Q310"]
    assert field.input_value() == ""
    # a territory from the full list, typed (no Ctrl-click, no cut-off)
    territory = page.locator("#peers-territory-input")
    territory.fill("germ")
    page.locator("#peers-territory-list [role=option]", has_text="Germany").first.click()
    expect(page.locator("#peers-territory ul.chips button.chip")).to_have_count(1)
    # a chip removes its value
    page.locator("#peers-territory ul.chips button.chip").click()
    expect(page.locator("#peers-territory ul.chips button.chip")).to_have_count(0)
    page.click(".peers-form button[type=submit]")
    page.wait_for_selector("ol.results.peers li")
    assert "capacity=Q310" in page.url and "territory" not in page.url
    assert page.locator("ol.results.peers .reasons li").count() >= 1


def test_from_a_capacity_to_who_offers_it_to_a_contact(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    page.goto(live_server.url + "page/Q334")  # training design: Amara Okonkwo offers it
    who = page.locator("main a[href*='/peers?'][href*='capacity=Q334']").first
    if who.count():
        who.click()
    else:  # the capacity page's "who offers it" link is another feature's
        page.goto(live_server.url + "peers?capacity=Q334")
    page.wait_for_selector("ol.results.peers li")
    assert "capacity=Q334" in page.url
    reachable = page.locator("ol.results.peers > li", has=page.locator("a.contact-link"))
    expect(reachable.first).to_be_visible()
    contact = reachable.first.locator("a.contact-link").first
    expect(contact).to_contain_text("Contact")
    href = contact.get_attribute("href") or ""
    assert href.startswith(("https://", "http://"))
    assert contact.get_attribute("rel") == "nofollow noopener"
    expect(reachable.first.locator(".criteria-matched")).to_contain_text("training design")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "peers-contact.png"), full_page=True)


@pytest.fixture(scope="module")
def changes_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer.start(tmp_path_factory.mktemp("recent-changes-live")) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BIGTENT_")}
        env.update(
            BIGTENT_DATA_DIR=str(server.data_dir),
            BIGTENT_BASE_URL=server.url,
            PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        )
        subprocess.run(
            [sys.executable, "-m", "webapp.cli", "user", "add", NAME, "--role", "editor"],
            input=PASSWORD + "\n",
            env=env,
            text=True,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield server


def test_from_recent_changes_to_the_diff(
    browser_page: WatchedPage, changes_server: LiveServer
) -> None:
    page = browser_page.page
    base = changes_server.url
    page.goto(base + "login")
    page.fill("#name", NAME)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    token = page.request.get(base + "api/session").json()["csrf_token"]
    record = page.request.get(base + f"api/entity/{ENTITY}").json()
    revision = record.pop("revision")
    record.pop("modified")
    record["labels"]["en"] = "Renamed for recent changes"
    saved = page.request.put(
        base + f"api/entity/{ENTITY}",
        data={**record, "base_revision": revision, "summary": "a clearer name"},
        headers={"X-CSRF-Token": token},
    )
    assert saved.ok, saved.text()
    page.click("nav.staff form button[type=submit]")  # log out: the public's view

    page.goto(base)
    page.click("nav.site-nav a[href$='/recent-changes']")
    expect(page.locator("nav.site-nav a[aria-current=page]")).to_have_attribute(
        "href", "/recent-changes"
    )
    first = page.locator("table.recent-changes tbody tr").first
    expect(first).to_contain_text("Renamed for recent changes")
    expect(first).to_contain_text(NAME)
    expect(first).to_contain_text("a clearer name")
    first.locator("a.diff-link").click()
    page.wait_for_url(f"**/page/{ENTITY}/diff?to=*")
    expect(page.locator("main")).to_contain_text("Renamed for recent changes")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "recent-changes-diff.png"), full_page=True)
