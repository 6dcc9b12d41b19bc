"""``/health``: plain text, the last revision id, never cached."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from loader.catalogue import Catalogue


def test_health_says_ok_with_the_last_revision(app: Flask, client: FlaskClient) -> None:
    catalogue: Catalogue = app.extensions["bigtent"]
    last = catalogue.revisions.last_id()
    assert last > 0
    response = client.get("/health")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"ok\nlast revision: {last}\n"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_health_follows_writes(app: Flask, client: FlaskClient) -> None:
    catalogue: Catalogue = app.extensions["bigtent"]
    before = client.get("/health").get_data(as_text=True)
    revision = catalogue.delete("Q1000", reason="health test")
    after = client.get("/health").get_data(as_text=True)
    assert after != before
    assert after == f"ok\nlast revision: {revision.id}\n"


def test_health_answers_head_without_a_body(client: FlaskClient) -> None:
    response = client.head("/health")
    assert response.status_code == 200
    assert response.get_data() == b""
