"""Regression: cached pages are per viewer. A page rendered for a logged-in editor carried
their name and CSRF token, and the page cache served it to anonymous readers."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from staff_support import login, staff_app


def test_a_staff_page_never_reaches_anonymous_readers(make_app: Callable[..., Flask]) -> None:
    app = staff_app(make_app, users={"alice": "editor"})
    staff = app.test_client()
    token = login(staff, "alice")
    for path in ("/page/Q1", "/page/Q1/links", "/browse/"):
        seen_by_staff = staff.get(path).get_data(as_text=True)
        assert "alice" in seen_by_staff and token in seen_by_staff, path
        seen_by_anyone = app.test_client().get(path).get_data(as_text=True)
        assert "alice" not in seen_by_anyone and token not in seen_by_anyone, path
        assert "Staff login" in seen_by_anyone, path
        assert "alice" in staff.get(path).get_data(as_text=True), "nor the other way round"


def test_cached_pages_follow_the_interface_language(make_app: Callable[..., Flask]) -> None:
    app = staff_app(make_app)
    client = app.test_client()
    english = client.get("/page/Q1", headers={"Accept-Language": "en"})
    french = client.get("/page/Q1", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert '<html lang="fr">' in french.get_data(as_text=True)
    assert english.headers["ETag"] != french.headers["ETag"]
