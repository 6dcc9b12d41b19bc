"""Shared HTTP behaviour: CORS, Vary, negotiation, and the real production server."""

from __future__ import annotations

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from live_server import LiveServer

from webapp.http.negotiation import best_type

OFFERED = ["text/turtle", "application/n-triples", "application/ld+json"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("text/turtle;q=0.5, application/n-triples;q=0.9", "application/n-triples"),
        ("*/*;q=0.1, application/ld+json", "application/ld+json"),
        ("application/*", "application/n-triples"),
        ("text/html", None),
        ("text/turtle;q=0", None),
        ("garbage;;;q=x, ,,", None),
        ("application/ld+json;q=0.1, " + "x/y;q=0.5, " * 5000, "application/ld+json"),
    ],
)
def test_best_type_honours_q_values_and_wildcards(
    app: Flask, accept: str | None, expected: str | None
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    with app.test_request_context("/", headers=headers):
        assert best_type(OFFERED) == expected


def test_every_response_allows_cross_origin_reads_and_varies(client: FlaskClient) -> None:
    for path in ("/", "/page/Q2", "/no/such/page"):
        response = client.get(path)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Accept" in response.headers["Vary"]


def test_preflight_is_answered(client: FlaskClient) -> None:
    response = client.options(
        "/",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert response.status_code == 200
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_production_server_serves_the_demo_over_http(live_server: LiveServer) -> None:
    home = requests.get(live_server.url, timeout=10)
    assert home.status_code == 200
    assert "What the catalogue holds" in home.text
    assert home.headers["Access-Control-Allow-Origin"] == "*"
    missing = requests.get(live_server.url + "entity/Q99999999", timeout=10)
    assert missing.status_code == 404
