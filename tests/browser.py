"""Browser tests: Debian's headless Chromium driven by Playwright for Python.

Playwright never downloads a browser here: it starts the system Chromium
(``/usr/bin/chromium``, installed by ``scripts/bootstrap test``) with the flags this
machine needs (no sandbox, no GPU, no QUIC, none of Chromium's own background traffic).
Playwright gives each launch a fresh, empty user-data directory of its own and each test
a fresh browser context (no cookies, no storage).

Every page is watched: a request to any host but the loopback test server is blocked and
recorded, so :meth:`WatchedPage.assert_stayed_local` (also run when the fixture ends)
fails a test whose page tried to reach the outside world, and so do JavaScript errors.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Request, Route

#: Where Debian puts Chromium; BROWSER_TEST_CHROMIUM overrides it.
DEFAULT_CHROMIUM = "/usr/bin/chromium"

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: Schemes that never leave the browser.
IN_BROWSER = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}


def chromium_path() -> Path:
    """The Chromium to drive; fails the test run (never skips) when it is missing."""
    configured = os.environ.get("BROWSER_TEST_CHROMIUM", DEFAULT_CHROMIUM)
    found = shutil.which(configured)
    if found is None:
        pytest.fail(
            f"browser tests need Chromium at {configured}, and it is not there. Install it "
            "with `scripts/bootstrap test` (Debian packages chromium and chromium-driver), "
            "or set BROWSER_TEST_CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    return Path(found)


def start_playwright() -> Playwright:
    """Playwright's driver; fails with the fix when the package is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "browser tests need the Python package playwright: run `scripts/bootstrap test` "
            "(it installs the [test] extra). Never run `playwright install`: the tests use "
            "the system Chromium.",
            pytrace=False,
        )
    return sync_playwright().start()


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Headless system Chromium for a test session."""
    executable = chromium_path()
    playwright = start_playwright()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=list(FLAGS)
        )
    except Exception as exc:
        playwright.stop()
        pytest.fail(f"Chromium at {executable} did not start: {exc}", pytrace=False)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine."""
    parts = urlsplit(url)
    return parts.scheme in IN_BROWSER or (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class WatchedPage:
    """A page in a fresh browser context, with everything it requested."""

    page: Page
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_stayed_local(self) -> None:
        """No request left the machine, and no script failed."""
        assert self.blocked == [], f"the page tried to reach other hosts: {self.blocked}"
        assert all(is_local(url) for url in self.requests), self.requests
        assert self.errors == [], f"JavaScript errors: {self.errors}"


@contextmanager
def watched_page(browser: Browser, **context_options: Any) -> Iterator[WatchedPage]:
    """A page in a new context that may only talk to loopback hosts; ``context_options``
    go to Playwright's ``new_context`` (e.g. ``java_script_enabled=False``)."""
    options: dict[str, Any] = {"accept_downloads": True, "viewport": {"width": 1280, "height": 900}}
    options.update(context_options)
    context = browser.new_context(**options)
    page = context.new_page()
    watched = WatchedPage(page)

    def guard(route: Route, request: Request) -> None:
        if is_local(request.url):
            route.continue_()
        else:
            watched.blocked.append(request.url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    context.on("request", lambda request: watched.requests.append(request.url))
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    # A Content-Security-Policy refusal is no exception, only a console message.
    page.on(
        "console",
        lambda message: (
            watched.errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.set_default_timeout(20_000)
    try:
        yield watched
    finally:
        context.close()
