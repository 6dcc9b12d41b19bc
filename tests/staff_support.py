"""Helpers for tests of staff accounts and editing: an app with accounts, logging in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from loader.catalogue import Catalogue

PASSWORD = "correct horse battery staple"
#: Cheap password hashing for tests (production default is 32768).
FAST = {"PASSWORD_SCRYPT_N": 1024}


def staff_app(
    make_app: Callable[..., Flask],
    users: dict[str, str] | None = None,
    **overrides: Any,
) -> Flask:
    """The web app over a private copy of the demo catalogue, with staff accounts
    (name -> role; every password is PASSWORD). ``make_app`` is conftest's factory (on
    each store backend, closed after the test) or one like it."""
    app = make_app(**{**FAST, **overrides})
    accounts = catalogue(app).accounts
    for name, role in (users or {}).items():
        accounts.add_user(name, role, PASSWORD)
    return app


def catalogue(app: Flask) -> Catalogue:
    """The app's catalogue."""
    cat: Catalogue = app.extensions["bigtent"]
    return cat


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the JSON login; returns the session's CSRF token."""
    anonymous = client.get("/api/session").get_json()
    response = client.post(
        "/login",
        json={"name": name, "password": password},
        headers={"X-CSRF-Token": anonymous["csrf_token"]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    token: str = response.get_json()["csrf_token"]
    return token


def staff_client(app: Flask, name: str) -> tuple[FlaskClient, dict[str, str]]:
    """A client logged in as ``name``, and the headers its JSON writes need (CSRF)."""
    client = app.test_client()
    return client, {"X-CSRF-Token": login(client, name)}


def state(cat: Catalogue) -> tuple[int, int, int]:
    """(revisions, live entities, named graphs): to check that nothing was written."""
    return (
        cat.revisions.count(),
        cat.revisions.entity_count(),
        len(list(cat.store.graph_names())),
    )


class Clock:
    """A clock the test moves by hand (the app's accounts read it)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now
