"""The browser-test harness itself: it blocks and reports requests to other hosts."""

from __future__ import annotations

import pytest
from browser import is_local, watched_page
from playwright.sync_api import Browser


def test_local_and_foreign_urls() -> None:
    assert is_local("http://127.0.0.1:5000/query")
    assert is_local("http://localhost/x") and is_local("http://[::1]:80/")
    assert is_local("data:text/plain,hi") and is_local("blob:http://127.0.0.1/abc")
    assert not is_local("https://cdn.jsdelivr.net/npm/@zazuko/yasgui")
    assert not is_local("http://127.0.0.1.example.org/")


def test_requests_to_other_hosts_are_blocked_and_fail_the_test(browser: Browser) -> None:
    with watched_page(browser) as watched:
        watched.page.set_content(
            '<img src="http://cdn.example.invalid/pixel.png">'
            '<script>fetch("https://prefix.cc/popular/all.file.json").catch(() => {})</script>'
        )
        watched.page.wait_for_timeout(300)
        assert "http://cdn.example.invalid/pixel.png" in watched.blocked
        assert "https://prefix.cc/popular/all.file.json" in watched.blocked
        with pytest.raises(AssertionError, match="tried to reach other hosts"):
            watched.assert_stayed_local()


def test_script_errors_fail_the_test(browser: Browser) -> None:
    with watched_page(browser) as watched:
        watched.page.set_content("<script>undefinedFunction()</script>")
        watched.page.wait_for_timeout(100)
        with pytest.raises(AssertionError, match="JavaScript errors"):
            watched.assert_stayed_local()
