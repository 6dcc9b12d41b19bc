"""Bad input to entity IRIs and data documents: the right 4xx with a clear message,
never a 500 (and never a traceback)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loader.catalogue import Catalogue

LONG = "Q" + "1" * 5000


def _reject(
    client: FlaskClient, path: str, status: int, says: str, headers: dict[str, str] | None = None
) -> dict[str, object]:
    """Ask for JSON and for HTML; both get ``status`` and a message containing ``says``."""
    extra = headers or {}
    data = client.get(path, headers={**extra, "Accept": "application/json"})
    assert data.status_code == status, (path, data.get_data(as_text=True)[:300])
    body = data.get_json()
    assert body["ok"] is False and body["status"] == status
    assert says.lower() in str(body["error"]).lower(), body["error"]
    assert len(str(body["error"])) < 600  # user input is cut, never echoed in bulk
    page = client.get(path, headers={**extra, "Accept": "text/html"})
    assert page.status_code == status
    assert "Traceback" not in page.get_data(as_text=True)
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/entity/Q1x", "not an entity id"),
        ("/entity/P", "not an entity id"),
        ("/entity/L1", "no lexemes"),
        ("/entity/Q0", "no leading zeros"),
        ("/entity/Q01", "no leading zeros"),
        ("/entity/q1", "capital"),
        ("/entity/Q1%20", "not an entity id"),
        ("/entity/Q1%00", "not an entity id"),
        ("/entity/Q%E2%80%8B1", "not an entity id"),  # zero-width space
        ("/entity/Q%D9%A1", "not an entity id"),  # Arabic-Indic digit one
        ("/entity/%EF%BC%B11", "not an entity id"),  # fullwidth Q
        ("/entity/%FF%FE", "not an entity id"),  # not UTF-8
        ("/entity/Q1%2Fx", "not an entity id"),  # encoded slash
        ("/entity/Q1/x", "not an entity id"),
        ("/entity/" + LONG, "at most 18 digits"),
        ("/entity/Q99999999", "no entity Q99999999 "),
        ("/data/Q1x.ttl", "not an entity id"),
        ("/data/L1", "no lexemes"),
        ("/data/Q99999999.ttl", "no entity"),
        ("/data/Q1/x", "not an entity id"),
    ],
)
def test_malformed_and_unknown_ids_are_404(client: FlaskClient, path: str, says: str) -> None:
    body = _reject(client, path, 404, says)
    assert "search" in body  # the helpful 404 always offers the search


def test_leading_zeros_suggest_the_real_id(client: FlaskClient) -> None:
    body = _reject(client, "/entity/Q01", 404, "leading zeros")
    assert body["suggestions"][0]["id"] == "Q1"  # type: ignore[index]


def test_percent_encoded_letters_are_the_same_iri(client: FlaskClient) -> None:
    # %51%31 is "Q1": RFC 3986 says percent-encoded unreserved characters are equivalent.
    response = client.get("/entity/%51%31", headers={"Accept": "text/turtle"})
    assert response.status_code == 303 and response.headers["Location"] == "/data/Q1.ttl"


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/data/Q1.xyz", 404, "unknown format"),
        ("/data/Q1.ttl.gz", 404, "unknown format"),
        ("/data/Q1.", 404, "unknown format"),
        ("/data/Q1." + "x" * 3000, 404, "unknown format"),
        ("/data/Q1.ttl?flavor=truthy", 400, "flavor is one of: simple, full"),
        ("/data/Q1.ttl?flavor=" + "x" * 3000, 400, "unknown flavor"),
        ("/entity/Q1?flavor=dump", 400, "flavor is one of"),
        ("/data/Q1.ttl?revision=abc", 400, "revision must be a revision id"),
        ("/data/Q1.ttl?revision=-1", 400, "revision must be"),
        ("/data/Q1.ttl?revision=0", 400, "revision must be"),
        ("/data/Q1.ttl?revision=1e3", 400, "revision must be"),
        ("/data/Q1.ttl?revision=%EF%BC%95", 400, "revision must be"),  # fullwidth 5
        ("/data/Q1.ttl?revision=99999999999999999999999", 400, "revision must be"),
        ("/entity/Q1?revision=x", 400, "revision must be"),
        ("/data/Q1.ttl?revision=999999999999", 404, "has no revision 999999999999"),
        ("/prop/foo/P1", 404, "not a predicate namespace"),
        ("/prop/direct/Q1", 404, "is an item"),
        ("/prop/direct/P0", 404, "not an entity id"),
        ("/prop/direct/P99999", 404, "no entity"),
        ("/entity/statement/bad!id", 404, "not a statement id"),
        ("/entity/statement/Q1-00000000-0000-0000-0000-000000000000", 404, "no statement"),
        ("/reference/zz!!", 404, "not a reference id"),
        ("/reference/deadbeef", 404, "no entity in this catalogue uses the reference"),
        ("/value/deadbeef", 404, "uses the value"),
    ],
)
def test_bad_formats_flavors_revisions_and_iris(
    client: FlaskClient, path: str, status: int, says: str
) -> None:
    _reject(client, path, status, says)


def test_revision_of_another_entity_lists_the_real_ones(client: FlaskClient, app: Flask) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    other = cat.revisions.history("Q1000")[0].id
    mine = [r.id for r in cat.revisions.history("Q1200")]
    body = _reject(client, f"/data/Q1200.ttl?revision={other}", 404, f"no revision {other}")
    assert body["revisions"] == sorted(mine)
    assert str(mine[0]) in str(body["error"])


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("text/turtle;q=0.1, " + "x/y;q=0.5, " * 20000, 303),  # 220 kB, the match comes first
        ("x/y, " * 20000 + "text/turtle", 406),  # the match is beyond what is read
        ("garbage;;;q=x, ,,", 406),
        ("text/turtle;q=abc", 406),  # an invalid q-value drops the entry
        ("\x00\x01\x02", 406),
    ],
)
def test_huge_and_garbled_accept_headers(client: FlaskClient, accept: str, status: int) -> None:
    response = client.get("/entity/Q1200", headers={"Accept": accept})
    assert response.status_code == status
    if status == 406:
        assert "text/turtle" in response.get_data(as_text=True)


@pytest.mark.parametrize("garbage", ["\x00\x01", "W/", '"unterminated', "*/*;;", "x" * 10000])
def test_garbage_validators_give_the_full_document(client: FlaskClient, garbage: str) -> None:
    response = client.get(
        "/data/Q1200.ttl", headers={"If-None-Match": garbage, "If-Modified-Since": garbage}
    )
    assert response.status_code == 200 and response.get_data()
