"""Every page kind checked with axe-core in headless Chromium, as a person meets it: at
desktop (1280 px) and phone width (390 px), in English and French, anonymous for the
public pages and logged in for the staff pages. No violation of impact *serious* or
*critical* of the WCAG 2.1 A/AA rules is allowed; a failure names each rule, its impact,
the elements (CSS selectors) and axe's help text.

axe-core comes from npm (``node_modules/axe-core``, installed by ``scripts/bootstrap``) and
is injected into each page as a script, after the page (and its scripts) loaded. The
contexts bypass the Content-Security-Policy only so that this injected script may run;
every other request is still held to the loopback host (tests/browser.py).

Each page kind is also photographed at each width into ``test-output/screenshots/
<kind>-<width>.png`` (English). The README's three pictures (``docs/images/``) are taken
by :func:`test_readme_pictures` at 1280×800; ``scripts/screenshots`` refreshes them.

The module runs its own server (it edits one record, for a diff, and deletes another, for
the 410 page; the session's shared server stays as the demo built it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from browser import WatchedPage, watched_page
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from live_server import LiveServer
from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
PICTURES = ROOT / "docs" / "images"
#: Set to 1 (scripts/screenshots does) to write the README's pictures into docs/images/; not
#: a BIGTENT_ name, since tests never see those.
REFRESH_PICTURES = "REFRESH_README_PICTURES"
#: The most a README picture may weigh.
PICTURE_BYTES = 150 * 1024

NAME, PASSWORD = "ada", "accessible to everyone"
EDITED, DELETED = "Q1200", "Q1210"
WIDTHS = {"desktop": 1280, "phone": 390}
LANGUAGES = ("en", "fr")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

#: page kind -> path (public pages, read anonymously).
PUBLIC = {
    "home": "",
    "browse-index": "browse/",
    "browse-class": "browse/Q1",
    "search": "search?q=wiki",
    "organisation": "page/Q1000",
    "person": "page/Q1500",
    "network": "page/Q1100",
    "partnership": "page/Q1200",
    "capacity": "page/Q334",
    "territory": "page/Q1401",
    "property": "page/P5",
    "history": "page/Q1200/history",
    "diff": f"page/{EDITED}/diff",
    "links": "page/Q1000/links",
    "network-picture": "network",
    "map": "map",
    "partnerships": "partnerships",
    "partnerships-list": "partnerships?status=none&page=1",
    "peers": "peers?capacity=Q334",
    "statistics": "statistics",
    "query": "query",
    "dataset": "dataset",
    "dumps": "dumps/",
    "recent-changes": "recent-changes",
    "login": "login",
    "not-found": "page/Q999999",
    "gone": f"page/{DELETED}",
}
#: page kind -> path (staff pages, read logged in).
STAFF = {
    "edit-form": "edit/Q1000",
    "new-entity": "edit/new/Q1",
    "import": "import",
    "admin-changes": "admin/changes",
    "admin-users": "admin/users",
    "account": "account",
}
STATUS = {"not-found": 404, "gone": 410}
#: Pages that draw with scripts after loading (maps fetch their GeoJSON, the query editor
#: builds its widget): axe runs once this selector is there.
READY = {
    "map": ".leaflet-container",
    "territory": ".leaflet-container, .entity-map",
    "organisation": ".leaflet-container, .entity-map",
    "query": ".yasgui, .yasqe, #query-editor",
}
#: Third-party markup axe may not judge, each with the upstream issue. Empty: nothing of
#: Leaflet's or YASGUI's markup is excluded.
EXCLUDE: list[str] = []


@dataclass(frozen=True)
class Violation:
    """One axe rule broken on a page."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        where = "\n      ".join(self.targets[:8])
        more = f" (+{len(self.targets) - 8} more)" if len(self.targets) > 8 else ""
        return f"{self.rule} [{self.impact}] {self.help}\n    {self.help_url}\n      {where}{more}"


def run_axe(page: Any) -> list[Violation]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async ([tags, exclude]) => {
            const context = exclude.length ? {exclude: exclude.map(s => [s])} : document;
            const result = await axe.run(context, {
                runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(' ')),
            }));
        }""",
        [WCAG, EXCLUDE],
    )
    return [
        Violation(v["id"], v["impact"] or "", v["help"], v["helpUrl"], tuple(v["targets"]))
        for v in found
    ]


# --- the server, its staff account, one edit and one deletion ---------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer.start(tmp_path_factory.mktemp("accessibility-live")) as live:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BIGTENT_")}
        env.update(
            BIGTENT_DATA_DIR=str(live.data_dir),
            BIGTENT_BASE_URL=live.url,
            PYTHONPATH=str(ROOT),
        )
        subprocess.run(
            [sys.executable, "-m", "webapp.cli", "user", "add", NAME, "--role", "admin"],
            input=PASSWORD + "\n",
            env=env,
            text=True,
            check=True,
            capture_output=True,
            timeout=120,
        )
        _edit_and_delete(live.url)
        yield live


def _edit_and_delete(base: str) -> None:
    """One edit (so a diff page exists) and one deletion (so a 410 page exists)."""
    with requests.Session() as session:
        token = session.get(base + "api/session", timeout=30).json()["csrf_token"]
        login = session.post(
            base + "login",
            json={"name": NAME, "password": PASSWORD},
            headers={"X-CSRF-Token": token},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        headers = {"X-CSRF-Token": login.json()["csrf_token"]}
        record = session.get(base + f"api/entity/{EDITED}", timeout=30).json()
        revision = record.pop("revision")
        record.pop("modified")
        record["labels"]["en"] += " (renamed)"
        saved = session.put(
            base + f"api/entity/{EDITED}",
            data=json.dumps({**record, "base_revision": revision, "summary": "a clearer name"}),
            headers={**headers, "Content-Type": "application/json"},
            timeout=30,
        )
        assert saved.ok, saved.text
        deleted = session.delete(
            base + f"api/entity/{DELETED}",
            json={"reason": "fictional example no longer needed"},
            headers=headers,
            timeout=30,
        )
        assert deleted.ok, deleted.text


# --- one browser context per (language, width, anonymous or staff), reused --------------
@pytest.fixture(scope="module")
def pages(browser: Browser, server: LiveServer) -> Iterator[Any]:
    """``pages(language, width, staff)``: that context's one page (opened on first use;
    a staff context logs in through the login form)."""
    opened: dict[tuple[str, str, bool], WatchedPage] = {}
    with ExitStack() as stack:

        def get(language: str, width: str, staff: bool) -> WatchedPage:
            key = (language, width, staff)
            if key not in opened:
                watched = stack.enter_context(
                    watched_page(
                        browser,
                        viewport={"width": WIDTHS[width], "height": 800},
                        locale={"en": "en-GB", "fr": "fr-FR"}[language],
                        bypass_csp=True,
                    )
                )
                if staff:
                    page = watched.page
                    page.goto(server.url + "login")
                    page.fill("#name", NAME)
                    page.fill("#password", PASSWORD)
                    page.click("main form button[type=submit]")
                    page.wait_for_load_state("load")
                    assert "login" not in page.url, page.content()[:2000]
                opened[key] = watched
            return opened[key]

        yield get
        for watched in opened.values():
            watched.assert_stayed_local()


def visit(watched: WatchedPage, server: LiveServer, kind: str, path: str) -> None:
    """Open the page and wait until its scripts have drawn it."""
    page = watched.page
    response = page.goto(server.url + path, wait_until="load")
    assert response is not None
    assert response.status == STATUS.get(kind, 200), f"{path}: {response.status}"
    if kind in READY:
        page.wait_for_selector(READY[kind], state="attached")
        page.wait_for_load_state("networkidle")


def check(
    pages: Any, server: LiveServer, kind: str, path: str, language: str, width: str, staff: bool
) -> None:
    watched = pages(language, width, staff)
    visit(watched, server, kind, path)
    if language == "en":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(
            path=str(SCREENSHOTS / f"{kind}-{WIDTHS[width]}.png"), full_page=True
        )
    blocking = [v for v in run_axe(watched.page) if v.impact in BLOCKING]
    assert blocking == [], (
        f"{kind} ({language}, {WIDTHS[width]} px): {len(blocking)} serious or critical "
        "accessibility violations:\n  " + "\n  ".join(str(v) for v in blocking)
    )


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(PUBLIC))
def test_public_page_has_no_serious_accessibility_violations(
    pages: Any, server: LiveServer, kind: str, language: str, width: str
) -> None:
    check(pages, server, kind, PUBLIC[kind], language, width, staff=False)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(STAFF))
def test_staff_page_has_no_serious_accessibility_violations(
    pages: Any, server: LiveServer, kind: str, language: str, width: str
) -> None:
    check(pages, server, kind, STAFF[kind], language, width, staff=True)


# --- the same rules, read from the HTML (fast, no browser) --------------------------------
#: Pages with scrolling tables, server-drawn maps and pictures, and diff links.
STRUCTURE_PAGES = [
    "/",
    "/page/Q1000",
    "/page/Q1200",
    "/page/Q1401",
    "/page/Q334",
    "/page/P5",
    "/page/Q1000/links",
    "/page/Q1208/history",
    "/browse/",
    "/recent-changes",
]


@pytest.mark.parametrize("path", STRUCTURE_PAGES)
def test_scroll_boxes_images_and_links_follow_the_rules(client: FlaskClient, path: str) -> None:
    """Regressions of what axe found: a table that scrolls sideways on a phone must be
    reachable by keyboard (a focusable, named region: scrollable-region-focusable); an
    image (``role=img``) or a link holds no link (nested-interactive); a link's visible text
    is part of its name (label-content-name-mismatch)."""
    response = client.get(path)
    assert response.status_code == 200
    html = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    ids = {tag["id"] for tag in html.find_all(id=True)}
    for box in html.select(".table-scroll"):
        assert box.get("tabindex") == "0" and box.get("role") == "region", str(box)[:200]
        named_by = str(box.get("aria-labelledby", "")).split()
        assert box.get("aria-label") or (named_by and set(named_by) <= ids), str(box)[:200]
    for holder in html.select('[role="img"], a[href]'):
        assert holder.select("a[href]") == [], f"{str(holder)[:200]} holds a link"
    for link in html.select("a[aria-label]"):
        shown = " ".join(link.get_text(" ").split()).lower()
        if not any(c.isalnum() for c in shown):
            continue  # a symbol such as "#" (axe ignores those too)
        assert shown in str(link["aria-label"]).lower(), str(link)[:200]


# --- the README's pictures -------------------------------------------------------------
#: picture name (docs/images/<name>.png) -> path, as a visitor first meets Bigtent.
README_PICTURES = {"home": "", "organisation": "page/Q1000", "map": "map"}


def test_readme_pictures(browser: Browser, server: LiveServer) -> None:
    """The tour's pictures, 1280×800 in English, each small enough for a README; written
    into docs/images/ only when REFRESH_PICTURES is set (scripts/screenshots)."""
    refresh = os.environ.get(REFRESH_PICTURES) == "1"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with watched_page(browser, viewport={"width": 1280, "height": 800}, locale="en-GB") as watched:
        for name, path in README_PICTURES.items():
            visit(watched, server, name, path)
            picture = watched.page.screenshot(animations="disabled", caret="hide")
            (SCREENSHOTS / f"readme-{name}.png").write_bytes(picture)
            assert len(picture) <= PICTURE_BYTES, f"{name}: {len(picture)} bytes"
            if refresh:
                PICTURES.mkdir(parents=True, exist_ok=True)
                (PICTURES / f"{name}.png").write_bytes(picture)
        watched.assert_stayed_local()
    for name in README_PICTURES:
        assert (PICTURES / f"{name}.png").is_file(), (
            f"docs/images/{name}.png: run scripts/screenshots"
        )
