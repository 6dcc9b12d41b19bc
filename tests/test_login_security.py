"""Issue 12, findings 5 and 6: redirects only to this site; failed logins slow the guesser
down without locking the owner out; a disabled account looks like a wrong password;
passwords follow NIST SP 800-63B wherever they are set."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_support import PASSWORD, Clock, catalogue, login, staff_app

import loader.staff.accounts as accounts_module

USERS = {"alice": "admin", "bob": "editor"}
ATTACKER, OWNER = "198.51.100.66", "203.0.113.5"

#: Targets a browser would follow to another site, or that break the Location header.
HOSTILE_NEXT = [
    "/\t/evil.example",  # the reported one: browsers drop the tab, leaving //evil.example
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\r\nSet-Cookie: stolen=1",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "/x\\..\\\\evil.example",
    "\\\\evil.example",
    " //evil.example",
    "\t//evil.example",
    "https://evil.example/",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "/%09/evil.example",
    "/\u3000/evil.example",
    "/\u200b/evil.example",
    "/\x00/evil.example",
    "/" + "a" * 5000,
    "",
]


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _client(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """Staff accounts with the default login settings."""
    return staff_app(make_app, USERS)


# --- finding 5: open redirects ---------------------------------------------------------


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_language_switch_goes_back_only_to_this_site(app: Flask, target: str) -> None:
    response = app.test_client().get("/language", query_string={"to": "fr", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "stolen" not in response.headers.get("Set-Cookie", "")


def test_language_switch_keeps_a_path_of_this_site(app: Flask) -> None:
    target = "/page/Q1200?uselang=pt&q=a%20b#statements"
    response = app.test_client().get("/language", query_string={"to": "fr", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == target


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_goes_on_only_to_this_site(app: Flask, target: str) -> None:
    client = app.test_client()
    token = _form_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"name": "bob", "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"


def test_login_goes_on_to_a_path_of_this_site(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/login", query_string={"next": "/page/Q1200/edit?x=1"})
    html = page.get_data(as_text=True)
    assert 'name="next" value="/page/Q1200/edit?x=1"' in html
    response = client.post(
        "/login?next=/page/Q1200/edit%3Fx%3D1",
        data={"name": "bob", "password": PASSWORD, "csrf_token": _form_token(html)},
    )
    assert response.headers["Location"] == "/page/Q1200/edit?x=1"


def test_the_login_form_never_carries_a_hostile_next(app: Flask) -> None:
    page = app.test_client().get("/login", query_string={"next": "/\t/evil.example"})
    assert page.status_code == 200
    assert 'name="next" value=""' in page.get_data(as_text=True)


def test_safe_next_falls_back_for_anything_but_a_string() -> None:
    from webapp.http.redirects import safe_next

    for value in (None, 42, ["/"], b"/"):
        assert safe_next(value, "/home") == "/home"
    assert safe_next("/entity/Q1", "/home") == "/entity/Q1"


# --- finding 6: throttling without lockout -------------------------------------------------


def test_guessing_never_locks_the_owner_out(app: Flask) -> None:
    """Five wrong passwords for the admin from one address used to lock the account for
    15 minutes, for everyone; now only the guessing address waits."""
    attacker = _client(app, ATTACKER)
    token = attacker.get("/api/session").get_json()["csrf_token"]
    statuses = []
    for n in range(6):
        response = attacker.post(
            "/login",
            json={"name": "alice", "password": f"guess {n}"},
            headers={"X-CSRF-Token": token},
        )
        statuses.append(response.status_code)
    assert statuses[:3] == [401, 401, 401] and 429 in statuses
    throttled = attacker.post(
        "/login", json={"name": "alice", "password": PASSWORD}, headers={"X-CSRF-Token": token}
    )
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert throttled.get_json()["title"] == "Login failed"
    login(_client(app, OWNER), "alice")  # the right password from elsewhere: at once


def test_an_address_that_keeps_failing_waits_longer_but_is_never_locked(app: Flask) -> None:
    """Fifty failures from one address used to refuse every login from it for 15
    minutes; now its attempts are spaced by growing waits, at most LOGIN_MAX_DELAY."""
    clock = Clock()
    catalogue(app).accounts.clock = clock
    shared = _client(app, ATTACKER)  # e.g. everyone behind one proxy
    token = shared.get("/api/session").get_json()["csrf_token"]
    failures, waits = 0, []
    while failures < 50:
        response = shared.post(
            "/login",
            json={"name": f"user{failures}", "password": "guess"},
            headers={"X-CSRF-Token": token},
        )
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
            clock.now += waits[-1]
        else:
            assert response.status_code == 401
            failures += 1
    assert waits[0] == 1 and waits == sorted(waits) and max(waits) == 300
    login(_client(app, OWNER), "alice")  # other addresses: untouched
    refused = shared.post(
        "/login", json={"name": "alice", "password": PASSWORD}, headers={"X-CSRF-Token": token}
    )
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 300
    clock.now += int(refused.headers["Retry-After"])
    login(shared, "alice")


def test_a_disabled_account_answers_like_a_wrong_password(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue(app).accounts.set_disabled("bob", True)
    hashed = []
    real_scrypt = accounts_module._scrypt

    def counting_scrypt(*args: object) -> bytes:
        hashed.append(1)
        return real_scrypt(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(accounts_module, "_scrypt", counting_scrypt)
    answers = []
    for n, password in enumerate((PASSWORD, "not the password")):
        client = _client(app, f"192.0.2.{n + 1}")
        token = client.get("/api/session").get_json()["csrf_token"]
        hashed.clear()
        response = client.post(
            "/login", json={"name": "bob", "password": password}, headers={"X-CSRF-Token": token}
        )
        json_answer = (response.status_code, response.get_json(), len(hashed))
        form_token = _form_token(client.get("/login").get_data(as_text=True))
        page = client.post(
            "/login", data={"name": "bob", "password": password, "csrf_token": form_token}
        )
        html = re.sub(r'name="csrf_token" value="[^"]+"', "", page.get_data(as_text=True))
        answers.append((json_answer, page.status_code, html))
    assert answers[0] == answers[1]
    (status, body, hashes), _, html = answers[0]
    assert status == 401 and body["error"] == "wrong account name or password"
    assert hashes == 1  # the password is checked either way: the same work, the same time
    assert "disabled" not in html


def test_a_name_or_password_that_is_not_text_fails_like_a_wrong_one(app: Flask) -> None:
    """A name with a NUL is a wrong name; a body with lone surrogates is no text at all,
    refused as malformed JSON before any account is looked at (never a 500)."""
    client = app.test_client()
    token = client.get("/api/session").get_json()["csrf_token"]
    wrong = client.post(
        "/login", json={"name": "b\x00b", "password": PASSWORD}, headers={"X-CSRF-Token": token}
    )
    assert wrong.status_code == 401, wrong.get_data(as_text=True)
    assert wrong.get_json()["error"] == "wrong account name or password"
    for name, password in (("\ud800", "x"), ("bob", "\udfff" * 12)):
        response = client.post(
            "/login", json={"name": name, "password": password}, headers={"X-CSRF-Token": token}
        )
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["title"] == "Malformed JSON"


# --- finding 6: password rules where passwords are set -----------------------------------


@pytest.mark.parametrize("weak", [" " * 12, "\x00" * 12, "password1234"])
def test_the_web_refuses_weak_passwords(app: Flask, weak: str) -> None:
    admin, editor = app.test_client(), app.test_client()
    admin_token, editor_token = login(admin, "alice"), login(editor, "bob")
    added = admin.post(
        "/admin/users",
        json={"name": "carol", "role": "editor", "password": weak, "confirm": weak},
        headers={"X-CSRF-Token": admin_token},
    )
    assert added.status_code == 400 and "password" in added.get_json()["error"]
    assert catalogue(app).accounts.get_user("carol") is None
    form = admin.post(
        "/admin/users",
        data={
            "name": "carol",
            "role": "editor",
            "password": weak,
            "confirm": weak,
            "csrf_token": admin_token,
        },
    )
    assert form.status_code == 303 and catalogue(app).accounts.get_user("carol") is None
    changed = editor.post(
        "/account/password",
        json={"current": PASSWORD, "new": weak, "confirm": weak},
        headers={"X-CSRF-Token": editor_token},
    )
    assert changed.status_code == 400 and "password" in changed.get_json()["error"]
    login(app.test_client(), "bob")  # the old password still works
