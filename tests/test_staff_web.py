"""Staff in the browser: login, cookies, CSRF, throttling, logout everywhere, admin pages."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from staff_support import PASSWORD, catalogue, login, staff_app

USERS = {"alice": "admin", "bob": "editor"}


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS, LOGIN_FREE_FAILURES=3)


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _set_cookies(response: object) -> list[str]:
    return response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined, no-any-return]


def test_login_form_logs_in_with_a_secure_cookie(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert '<label for="password">' in html and 'autocomplete="current-password"' in html
    response = client.post(
        "/login",
        data={"name": "bob", "password": PASSWORD, "csrf_token": _form_token(html), "next": "/"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"
    [cookie] = [c for c in _set_cookies(response) if "bigtent_session" in c]
    # BASE_URL is https: the __Host- prefix and Secure, always HttpOnly and SameSite=Lax.
    assert cookie.startswith("__Host-bigtent_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie
    account = client.get("/account")
    assert account.status_code == 200 and "bob" in account.get_data(as_text=True)


def test_plain_http_instances_use_a_plain_cookie(make_app: Callable[..., Flask]) -> None:
    app = staff_app(make_app, USERS, BASE_URL="http://127.0.0.1:5000/")
    client = app.test_client()
    login(client, "bob")
    response = client.post(
        "/login",
        json={"name": "bob", "password": PASSWORD},
        headers={"X-CSRF-Token": client.get("/api/session").get_json()["csrf_token"]},
    )
    [cookie] = [c for c in _set_cookies(response) if "bigtent_session" in c]
    assert cookie.startswith("bigtent_session=") and "Secure" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_needs_the_forms_token(app: Flask) -> None:
    client = app.test_client()
    client.get("/login")
    refused = client.post("/login", data={"name": "bob", "password": PASSWORD})
    assert refused.status_code == 403 and "CSRF" in refused.get_data(as_text=True)
    forged = client.post(
        "/login", data={"name": "bob", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert client.get("/api/session").get_json()["authenticated"] is False


def test_an_offsite_login_link_is_never_followed(app: Flask) -> None:
    client = app.test_client()
    token = _form_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"name": "bob", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
    )
    assert response.headers["Location"] == "/account"


def test_wrong_password_then_throttled(app: Flask) -> None:
    client = app.test_client()
    token = _form_token(client.get("/login").get_data(as_text=True))
    for _ in range(3):
        wrong = client.post("/login", data={"name": "bob", "password": "nope", "csrf_token": token})
        assert wrong.status_code == 401
        html = wrong.get_data(as_text=True)
        assert "wrong account name or password" in html and 'value="bob"' in html
    throttled = client.post(
        "/login", data={"name": "bob", "password": PASSWORD, "csrf_token": token}
    )
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "LOGIN_FREE_FAILURES" in throttled.get_data(as_text=True)
    elsewhere = app.test_client()  # the owner, from another address: never locked out
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.5"
    login(elsewhere, "bob")


def test_logout_ends_the_session_and_its_token(app: Flask) -> None:
    client = app.test_client()
    old_token = login(client, "bob")
    assert client.post("/logout", headers={"X-CSRF-Token": old_token}).status_code == 303
    assert client.get("/api/session").get_json()["authenticated"] is False
    assert client.get("/account").status_code == 303  # to the login page
    login(client, "bob")
    replayed = client.post(
        "/api/entity/Q1200/revert", json={"revision": 1}, headers={"X-CSRF-Token": old_token}
    )
    assert replayed.status_code == 403
    assert "does not belong to your current session" in replayed.get_json()["error"]


def test_logout_everywhere(app: Flask) -> None:
    laptop, phone = app.test_client(), app.test_client()
    token = login(laptop, "bob")
    login(phone, "bob")
    assert phone.get("/api/session").get_json()["authenticated"] is True
    assert (
        laptop.post("/account/logout-everywhere", headers={"X-CSRF-Token": token}).status_code
        == 303
    )
    assert phone.get("/api/session").get_json()["authenticated"] is False
    assert laptop.get("/api/session").get_json()["authenticated"] is False


def test_admin_pages_list_and_manage_accounts(app: Flask) -> None:
    admin, editor = app.test_client(), app.test_client()
    token = login(admin, "alice")
    login(editor, "bob")
    assert app.test_client().get("/admin/users").status_code == 303  # anonymous: log in
    assert editor.get("/admin/users").status_code == 403
    page = admin.get("/admin/users")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "bob" in html and "<caption>" in html
    assert 'for="role-2"' in html  # every control has a label
    changed = admin.post("/admin/users/bob/role", data={"role": "admin", "csrf_token": token})
    assert changed.status_code == 303
    assert "bob is now admin" in admin.get("/admin/users").get_data(as_text=True)
    assert catalogue(app).accounts.get_user("bob").role == "admin"  # type: ignore[union-attr]
    admin.post("/admin/users/bob/disable", data={"csrf_token": token})
    assert editor.get("/api/session").get_json()["authenticated"] is False  # at once
    added = admin.post(
        "/admin/users",
        data={
            "name": "carol",
            "role": "editor",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": token,
        },
    )
    assert added.status_code == 303 and catalogue(app).accounts.get_user("carol") is not None
    short = admin.post(
        "/admin/users",
        data={
            "name": "dave",
            "role": "editor",
            "password": "x",
            "confirm": "x",
            "csrf_token": token,
        },
    )
    assert "PASSWORD_MIN_LENGTH" in admin.get(short.headers["Location"]).get_data(as_text=True)
    admin.post("/admin/users/carol/remove", data={"confirm": "yes", "csrf_token": token})
    assert catalogue(app).accounts.get_user("carol") is None


def test_every_staff_write_route_checks_login_role_and_csrf(app: Flask) -> None:
    """Anonymous: 401 (403 for logging in and out); logged in without a token: 403."""
    routes = [
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("accounts", "edit_api")
        for method in sorted(rule.methods or ())
        if method in ("POST", "PUT", "DELETE", "PATCH")
    ]
    assert len(routes) >= 14
    anonymous, staff = app.test_client(), app.test_client()
    login(staff, "alice")

    def url(rule: str) -> str:
        return rule.replace("<entity_id>", "Q1200").replace("<name>", "bob")

    for rule, method in routes:
        response = anonymous.open(url(rule), method=method, json={})
        expected = {403} if rule in ("/login", "/logout") else {401}
        assert response.status_code in expected, (rule, method, response.status_code)
        response = staff.open(url(rule), method=method, json={})
        assert response.status_code == 403, (rule, method, response.status_code)
        assert "CSRF" in response.get_json()["title"]


def test_requests_from_another_site_are_refused(app: Flask) -> None:
    client = app.test_client()
    token = login(client, "bob")
    response = client.post(
        "/api/entity/Q1200/revert",
        json={"revision": 1},
        headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and "another site" in response.get_json()["error"]


def test_session_of_a_removed_account_is_refused(app: Flask) -> None:
    client = app.test_client()
    token = login(client, "bob")
    catalogue(app).accounts.remove_user("bob")
    response = client.post(
        "/api/entity/Q1200/revert", json={"revision": 1}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 401


def test_nav_shows_login_or_the_account(app: Flask) -> None:
    client = app.test_client()
    assert "Staff login" in client.get("/").get_data(as_text=True)
    login(client, "alice")
    html = client.get("/").get_data(as_text=True)
    assert "alice" in html and "Log out" in html and "Accounts" in html


def test_staff_pages_are_never_cached_or_framed(app: Flask) -> None:
    client = app.test_client()
    login_page = client.get("/login")
    assert login_page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in login_page.headers["Content-Security-Policy"]
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login(client, "bob")
    home = client.get("/")  # a public page, but it now shows bob's name
    assert home.headers["Cache-Control"] == "private, no-store"
    assert "Cookie" in home.headers["Vary"]


def test_logging_in_prepares_validation_in_the_background(app: Flask) -> None:
    editor = catalogue(app).editor
    assert editor._ctx is None
    login(app.test_client(), "bob")
    assert editor._warming is not None
    editor.close()  # waits for the warm-up
    assert editor._ctx is not None and editor._languages is not None
