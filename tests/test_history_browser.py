"""History in headless Chromium: a staff member edits a record, compares two revisions,
reads the diff, restores the old revision and sees the restored value on the page.

The server is this module's own (the session's shared one is left unchanged); the staff
account is made with ``bigtent user add``, as an administrator would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import WatchedPage
from live_server import LiveServer
from playwright.sync_api import Page, expect

ENTITY = "Q1200"
NAME, PASSWORD = "hilda", "history is kept forever"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def history_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer.start(tmp_path_factory.mktemp("history-live")) as server:
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


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"history-{name}.png"), full_page=True)


def test_edit_compare_and_restore(browser_page: WatchedPage, history_server: LiveServer) -> None:
    page = browser_page.page
    base = history_server.url
    page.goto(base + "login")
    page.fill("#name", NAME)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page.locator("nav.staff")).to_contain_text(NAME)

    # an edit through the JSON API, in the same browser session
    token = page.request.get(base + "api/session").json()["csrf_token"]
    record = page.request.get(base + f"api/entity/{ENTITY}").json()
    original = record["labels"]["en"]
    revision = record.pop("revision")
    record.pop("modified")
    record["labels"]["en"] = "Renamed in the browser test"
    saved = page.request.put(
        base + f"api/entity/{ENTITY}",
        data={**record, "base_revision": revision, "summary": "rename"},
        headers={"X-CSRF-Token": token},
    )
    assert saved.ok, saved.text()
    page.goto(base + f"page/{ENTITY}")
    expect(page.locator("h1")).to_contain_text("Renamed in the browser test")

    # history: pick the two newest revisions (the defaults) and compare them
    page.goto(base + f"page/{ENTITY}/history")
    expect(page.locator("table.history tbody tr")).to_have_count(2)
    shot(page, "page")
    page.click("form#compare button")
    page.wait_for_url(f"{base}page/{ENTITY}/diff?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"from": [str(revision)], "to": [str(saved.json()["revision"])]}
    label_row = page.locator("table.diff tbody tr").filter(has_text="Label").first
    expect(label_row.locator("del")).to_have_text(original)
    expect(label_row.locator("ins")).to_have_text("Renamed in the browser test")
    shot(page, "diff")

    # restore the first revision, with a summary, from its row
    page.goto(base + f"page/{ENTITY}/history")
    row = page.locator("table.history tbody tr").last
    row.locator("details summary").click()
    row.locator("input[name=summary]").fill("back to the original name")
    shot(page, "restore-form")
    row.locator("form.revert-form button").click()
    expect(page.locator("[role=status]").first).to_contain_text("restored")
    expect(page.locator("table.diff ins").first).to_have_text(original)
    shot(page, "restored-diff")

    page.goto(base + f"page/{ENTITY}")
    expect(page.locator("h1")).to_contain_text(original)
    page.goto(base + f"page/{ENTITY}/history")
    expect(page.locator("table.history tbody tr").first).to_contain_text(
        f"Reverted to revision {revision}: back to the original name"
    )
    page.goto(base + "admin/changes?kind=revert")
    expect(page.locator("table.changes tbody tr")).to_have_count(1)
    shot(page, "recent-changes")
