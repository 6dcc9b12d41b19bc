"""Bad input on the page routes: a clear 4xx, never a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

NOT_IDS = [
    "Q0",
    "q1",
    "Q1x",
    "Q01",
    "P",
    "Q",
    "L1",
    "Q-1",
    "%E2%9C%93",
    "Q1.ttl",
    "Ｑ1",
    "Q" + "9" * 40,
]


@pytest.mark.parametrize("entity", NOT_IDS)
@pytest.mark.parametrize("suffix", ["", "/links", "/history"])
def test_malformed_ids_are_not_found(client: FlaskClient, entity: str, suffix: str) -> None:
    response = client.get(f"/page/{entity}{suffix}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "Not found" in response.get_json()["title"]


def test_percent_encoded_unreserved_characters_are_the_same_id(client: FlaskClient) -> None:
    assert client.get("/page/Q%31").get_data() == client.get("/page/Q1").get_data()  # RFC 3986


@pytest.mark.parametrize("suffix", ["/links", "/history"])
def test_unknown_entities_are_not_found(client: FlaskClient, suffix: str) -> None:
    response = client.get(f"/page/Q999999{suffix}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "Q999999" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/page/Q1?uselang=", "language code"),
        ("/page/Q1?uselang=fr;DROP", "language code"),
        ("/page/Q1?uselang=" + "a" * 300, "language code"),
        ("/page/Q1208/history?page=0", "page"),
        ("/page/Q1208/history?page=-1", "page"),
        ("/page/Q1208/history?page=abc", "page"),
        ("/page/Q1/links?page=%00", "page"),
        ("/page/Q1/links?page=1e3", "page"),
    ],
)
def test_bad_parameters_are_refused(client: FlaskClient, path: str, says: str) -> None:
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert says in response.get_json()["error"]


def test_pages_past_the_end_are_not_found(client: FlaskClient) -> None:
    assert client.get("/page/Q1208/history?page=2").status_code == 404
    assert client.get("/page/Q1/links?page=9999").status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        "*",
        "garbage;;;q=x, ,,",
        "pt-BR;q=0.9, " + "x-invalid-tag-that-is-long;q=0.1, " * 2000,
        "zz-ZZ, ar",
        "en;q=0",
    ],
)
def test_odd_accept_language_headers_still_render(client: FlaskClient, header: str) -> None:
    response = client.get("/page/Q1001", headers={"Accept-Language": header})
    assert response.status_code == 200
    assert "Wikimedia Deutschland" in response.get_data(as_text=True)


def test_garbage_conditional_headers_give_the_page(client: FlaskClient) -> None:
    response = client.get(
        "/page/Q1001",
        headers={"If-None-Match": "\x00garbage,,W/", "If-Modified-Since": "yesterday"},
    )
    assert response.status_code == 200
