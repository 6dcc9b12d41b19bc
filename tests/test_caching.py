"""Conditional responses."""

from __future__ import annotations

from flask import Flask, Response

from webapp.http.caching import conditional


def _answer(app: Flask, headers: dict[str, str]) -> Response:
    with app.test_request_context("/", headers=headers):
        return conditional(Response("body"), "r42-ttl", "2026-01-02T03:04:05Z", max_age=30)


def test_conditional_tags_and_answers_304(app: Flask) -> None:
    fresh = _answer(app, {})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == '"r42-ttl"'
    assert fresh.headers["Last-Modified"] == "Fri, 02 Jan 2026 03:04:05 GMT"
    assert "max-age=30" in fresh.headers["Cache-Control"]
    assert _answer(app, {"If-None-Match": '"r42-ttl"'}).status_code == 304
    assert _answer(app, {"If-None-Match": '"other"'}).status_code == 200
    assert _answer(app, {"If-Modified-Since": "Fri, 02 Jan 2026 03:04:05 GMT"}).status_code == 304


def test_garbage_validators_give_the_full_response(app: Flask) -> None:
    for garbage in ("\x00\x01", "W/", '"unterminated', "*/*;;", "Not a date"):
        response = _answer(app, {"If-None-Match": garbage, "If-Modified-Since": garbage})
        assert response.status_code == 200
