"""Staff edit forms in headless Chromium, against a real server with staff accounts:
create an organisation and a partnership, see them on their pages and in /sparql, edit,
fix a validation error, and resolve a conflict with a second browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests
from browser import WatchedPage, watched_page
from live_server import LiveServer
from playwright.sync_api import Browser, Page, expect

from loader.base.settings import load_settings
from loader.staff.accounts import open_accounts

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def editing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server over the demo catalogue, with two staff accounts (ann, ben)."""
    with LiveServer.start(tmp_path_factory.mktemp("live-edit")) as server:
        settings = load_settings(
            env={}, overrides={"DATA_DIR": str(server.data_dir), "BASE_URL": server.url}
        )
        with closing(open_accounts(settings)) as accounts:
            accounts.add_user("ann", "editor", PASSWORD)
            accounts.add_user("ben", "editor", PASSWORD)
        yield server


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"edit-{name}.png"), full_page=True)


def log_in(page: Page, server: LiveServer, name: str) -> None:
    page.goto(server.url + "login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    expect(page.locator("nav.staff")).to_contain_text(name)


def rows_of(page: Page, pid: str) -> list[str]:
    """Row prefixes (st-N) of a property's statements, in form order."""
    names: list[str] = page.eval_on_selector_all(
        f'input[name$="-property"][value="{pid}"]', "els => els.map(e => e.name)"
    )
    return [n[: -len("-property")] for n in names if re.fullmatch(r"st-\d+-property", n)]


def term_row(page: Page, lang: str) -> str:
    names: list[str] = page.eval_on_selector_all(
        'input[name$="-lang"]', f"els => els.filter(e => e.value === {lang!r}).map(e => e.name)"
    )
    assert names, lang
    return names[0][: -len("-lang")]


def pick(page: Page, control: str, typed: str, expected_id: str) -> None:
    """Type into an entity field and choose a suggestion with the keyboard."""
    field = page.locator(f"#{control}")
    field.fill("")
    field.press_sequentially(typed, delay=30)
    option = page.locator(f"#{control} ~ .typeahead-list [role=option]", has_text=expected_id)
    expect(option.first).to_be_visible()
    for _attempt in range(10):
        field.press("ArrowDown")
        active = page.get_attribute(f"#{control}", "aria-activedescendant")
        if active and expected_id in page.inner_text(f"#{active}"):
            break
    field.press("Enter")
    expect(field).to_have_value(expected_id)


def save(page: Page) -> None:
    page.click('.save button[value="save"]')
    page.wait_for_load_state()


def test_create_edit_validate_and_reconcile(
    browser: Browser, browser_page: WatchedPage, editing_server: LiveServer
) -> None:
    server = editing_server
    page = browser_page.page
    log_in(page, server, "ann")

    # --- an organisation with labels in two languages
    page.goto(server.url + "edit/new")
    page.click("a[href='/edit/new/Q1']")
    shot(page, "new-organisation")
    en = term_row(page, "en")
    page.fill(f"#{en}-label", "Browser Test Foundation")
    page.click('button[value="add-language"]')
    expect(page.locator("input[name$='-lang']")).to_have_count(2)
    second = page.eval_on_selector_all("input[name$='-lang']", "els => els.map(e => e.name)")[1][
        : -len("-lang")
    ]
    expect(page.locator(f"#{second}-lang")).to_be_focused()
    page.fill(f"#{second}-lang", "fr")
    page.fill(f"#{second}-label", "Fondation Test Navigateur")
    save(page)
    expect(page.locator("h1")).to_contain_text("Browser Test Foundation")
    org = re.search(r"/page/(Q\d+)", page.url)
    assert org
    org_id = org.group(1)

    # --- a partnership with two parties (type-ahead), an activity type, a date, a source
    page.goto(server.url + "edit/new/Q4")
    page.fill(f"#{term_row(page, 'en')}-label", "Browser test partnership")
    page.click('button[value="add-value:P5"]')
    first, second_party = rows_of(page, "P5")[:2]
    pick(page, f"{first}-value", "Wikimedia Found", "Q1000")
    pick(page, f"{second_party}-value", "Browser Test", org_id)
    [activity] = rows_of(page, "P7")
    page.select_option(f"#{activity}-value", "Q131")
    [start] = rows_of(page, "P9")
    page.fill(f"#{start}-value", "2024-03")
    page.select_option(f"#{start}-precision", "10")
    page.locator(f"#{first} summary").click()
    page.select_option(f"#{first}-new-reference", "P18")
    page.click(f'button[value="add-reference:{first.split("-")[1]}"]')
    page.fill(f"#{first}-r-0-0-value", "https://example.org/agreement")
    shot(page, "new-partnership")
    save(page)
    expect(page.locator("h1")).to_contain_text("Browser test partnership")
    found = re.search(r"/page/(Q\d+)", page.url)
    assert found
    partnership = found.group(1)
    body = page.inner_text("main")
    assert "Wikimedia Foundation" in body and "Browser Test Foundation" in body
    assert "content sharing" in body
    shot(page, "partnership-page")

    # --- in a /sparql result
    query = f"SELECT ?party WHERE {{ wd:{partnership} wdt:P5 ?party ; wdt:P7 wd:Q131 }}"
    answer = requests.get(
        server.url + "sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    ).json()
    parties = {b["party"]["value"].rsplit("/", 1)[-1] for b in answer["results"]["bindings"]}
    assert parties == {"Q1000", org_id}

    # --- edit it
    page.goto(server.url + f"edit/{partnership}")
    label = f"#{term_row(page, 'en')}-label"
    page.fill(label, "Browser test partnership, renamed")
    page.fill("#summary", "renamed in the browser")
    save(page)
    expect(page.locator("h1")).to_contain_text("renamed")
    expect(page.locator("main")).to_contain_text("Saved as revision")

    # --- a validation error next to its field, with the input kept
    page.goto(server.url + f"edit/{partnership}")
    [start] = rows_of(page, "P9")
    page.fill(f"#{start}-value", "2024-02-30")
    page.fill(label, "Typed and kept")
    save(page)
    expect(page.locator("#form-problems")).to_be_focused()
    expect(page.locator(f"#{start}-value")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{start}-value-error")).to_contain_text("no day 30")
    expect(page.locator(label)).to_have_value("Typed and kept")
    shot(page, "validation-error")
    page.click(f"#form-problems a[href='#{start}-value']")
    page.fill(f"#{start}-value", "2024-02-28")
    page.select_option(f"#{start}-precision", "11")
    save(page)
    expect(page.locator("h1")).to_contain_text("Typed and kept")

    # --- a conflict with a second browser, resolved
    page.goto(server.url + f"edit/{partnership}")
    with watched_page(browser) as other_watched:
        other = other_watched.page
        log_in(other, server, "ben")
        other.goto(server.url + f"edit/{partnership}")
        other.fill(f"#{term_row(other, 'en')}-label", "Ben's name")
        other.fill(f"#{term_row(other, 'en')}-description", "described by Ben")
        save(other)
        expect(other.locator("h1")).to_contain_text("Ben's name")
        other_watched.assert_stayed_local()
    page.fill(label, "Ann's name")
    save(page)
    expect(page.locator("#conflicts")).to_contain_text("Ben's name")
    expect(page.locator("#conflicts")).to_contain_text("Ann's name")
    expect(page.locator(label)).to_have_value("Ann's name")
    description = f"#{term_row(page, 'en')}-description"
    expect(page.locator(description)).to_have_value("described by Ben")
    shot(page, "conflict")
    page.click('button[value="theirs:0"]')
    expect(page.locator(label)).to_have_value("Ben's name")
    save(page)
    expect(page.locator("h1")).to_contain_text("Ben's name")
    expect(page.locator("main")).to_contain_text("described by Ben")


def test_the_form_works_on_a_phone_without_scripts(
    browser: Browser, editing_server: LiveServer
) -> None:
    with watched_page(
        browser, java_script_enabled=False, viewport={"width": 375, "height": 740}
    ) as watched:
        page = watched.page
        log_in(page, editing_server, "ann")
        page.goto(editing_server.url + "edit/Q1200")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the form is wider than the phone: {width}px"
        [first] = rows_of(page, "P5")[:1]
        page.fill(f"#{first}-value", "Q1003")
        shot(page, "phone")
        save(page)
        expect(page.locator("main")).to_contain_text("Saved as revision")
        watched.assert_stayed_local()
