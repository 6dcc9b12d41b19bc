"""Request bodies are capped before they are read, on every route (login included), and
JSON in requests is parsed within depth and size caps; the inputs that gave 500s in
issue 12 (finding 8) get a 4xx naming what is wrong (and the setting, for a cap)."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_support import FAST, PASSWORD, catalogue, staff_client, state

from loader.base.settings import Settings
from webapp import create_app

HUGE = "9" * 23  # beyond the 64-bit integers of SQLite and PostgreSQL
DEEP = "[" * 10_000 + "]" * 10_000  # 20 kB: under every size cap, far over the depth cap


class Body(io.RawIOBase):
    """A request body of ``size`` bytes made up as it is read, counting what was read."""

    def __init__(self, size: int, fill: bytes = b" ") -> None:
        super().__init__()
        self.size, self.fill, self.position, self.read_bytes = size, fill, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = base + offset
        return self.position

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = self.fill * n
        self.position += n
        self.read_bytes += n
        return n


@pytest.fixture
def app(
    demo_template: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> Iterator[Flask]:
    """The app over a copy of the demo catalogue with an editor, bob (embedded store:
    nothing here depends on the backend)."""
    shutil.copytree(demo_template, tmp_path / "data")
    app = create_app(make_settings(**FAST))
    catalogue(app).accounts.add_user("bob", "editor", PASSWORD)
    yield app
    catalogue(app).close()


def _csrf(client: FlaskClient) -> str:
    token: str = client.get("/api/session").get_json()["csrf_token"]
    return token


# --- bodies ---------------------------------------------------------------------------------


def test_login_refuses_a_100_mb_body_without_reading_it(app: Flask) -> None:
    client = app.test_client()
    body = Body(100 << 20)
    response = client.post(
        "/login",
        input_stream=body,
        content_length=body.size,
        content_type="application/json",
        headers={"X-CSRF-Token": _csrf(client)},
    )
    assert response.status_code == 413
    assert "FORM_MAX_BYTES" in response.get_json()["error"]
    assert body.read_bytes == 0


def test_a_body_without_a_length_is_cut_at_the_cap(app: Flask) -> None:
    client = app.test_client()
    body = Body(5 << 20)
    response = client.post(
        "/login",
        input_stream=body,
        content_type="application/json",
        # a chunked body: no length, and the server marks the input as terminated
        headers={"X-CSRF-Token": _csrf(client), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert "FORM_MAX_BYTES" in response.get_json()["error"]
    assert body.read_bytes < 1 << 20


def _fill(rule: Any) -> str:
    """A path of the rule: ids for id arguments, something for the rest."""

    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "", match.group(2)
        if converter.startswith("int"):
            return "1"
        return "Q1000" if "id" in name else "x" * 24

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", value, str(rule.rule))


def test_every_route_refuses_a_body_over_its_cap_unread(app: Flask) -> None:
    """From the app's URL map: a body one byte over the route's cap is refused (413,
    naming the setting) before anything, the login or CSRF checks included, reads it."""
    settings = catalogue(app).settings
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = _fill(rule)
            body = Body(int(settings.REQUEST_MAX_BYTES) + 1)
            response = client.open(
                path,
                method=method,
                input_stream=body,
                content_length=body.size,
                content_type="application/x-www-form-urlencoded",
                headers={"Accept": "application/json"},
            )
            assert response.status_code == 413, (method, path, response.status_code)
            assert re.search(r"\(setting [A-Z_]+_BYTES\)", response.get_data(as_text=True))
            assert body.read_bytes == 0, (method, path)
            checked += 1
    assert checked > 60


@pytest.mark.parametrize(
    ("method", "path", "size", "setting"),
    [
        ("POST", "/login", 70_000, "FORM_MAX_BYTES"),
        ("POST", "/reconcile", 70_000, "FORM_MAX_BYTES"),
        ("POST", "/privacy/Q1000/hide", 70_000, "FORM_MAX_BYTES"),
        ("PUT", "/api/entity/Q1000", 1_100_000, "EDIT_MAX_BYTES"),
        ("POST", "/edit/Q1000", 1_100_000, "EDIT_MAX_BYTES"),
        ("POST", "/import", 10_600_000, "IMPORT_MAX_BYTES"),
    ],
)
def test_each_route_has_its_own_cap(
    app: Flask, method: str, path: str, size: int, setting: str
) -> None:
    client = app.test_client()
    body = Body(size)
    response = client.open(
        path,
        method=method,
        input_stream=body,
        content_length=size,
        content_type="application/x-www-form-urlencoded",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 413
    assert setting in response.get_json()["error"]
    assert body.read_bytes == 0


def test_a_record_larger_than_a_form_still_reaches_the_edit_api(app: Flask) -> None:
    client, headers = staff_client(app, "bob")
    record = {"labels": {"en": "Lab"}, "descriptions": {"en": "d" * 200}}
    record["aliases"] = {"en": [f"alias {i} " + "a" * 150 for i in range(500)]}  # 80 kB
    response = client.post("/api/entity", json=record, headers=headers)
    assert response.status_code in (201, 422), response.get_data(as_text=True)[:300]


# --- JSON: depth, numbers, surrogates ------------------------------------------------------


def test_deeply_nested_json_is_refused_anonymously_on_login(client: FlaskClient) -> None:
    response = client.post(
        "/login",
        data=DEEP,
        content_type="application/json",
        headers={"X-CSRF-Token": _csrf(client)},
    )
    assert response.status_code == 400
    assert "MAX_NESTING_DEPTH" in response.get_json()["error"]


@pytest.mark.parametrize("field", ["queries", "query"])
def test_deeply_nested_json_is_refused_on_reconcile(client: FlaskClient, field: str) -> None:
    value = '{"q0": ' + DEEP + "}" if field == "queries" else '{"query": ' + DEEP + "}"
    response = client.post("/reconcile", data={field: value})
    assert response.status_code == 400
    assert "MAX_NESTING_DEPTH" in response.get_json()["error"]


@pytest.mark.parametrize("limit", ["1e400", "-1e400", "NaN", "Infinity"])
def test_reconcile_limit_must_be_a_finite_number(client: FlaskClient, limit: str) -> None:
    queries = '{"q0": {"query": "Wikimedia", "limit": ' + limit + "}}"
    for response in (
        client.get("/reconcile", query_string={"queries": queries}),
        client.post("/reconcile", data={"queries": queries}),
    ):
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["ok"] is False


def test_reconcile_limit_checks_decoded_numbers_too() -> None:
    from loader.base.errors import BigtentError
    from loader.discovery.reconciliation import parse_query

    for limit in (float("inf"), float("nan")):
        with pytest.raises(BigtentError, match="limit must be a positive number"):
            parse_query("q0", {"query": "x", "limit": limit})


@pytest.mark.parametrize("type_id", ["foo", "Q1'; --", "Q" + HUGE, "P", "organisation "])
def test_suggest_entity_refuses_a_type_that_is_not_an_id(client: FlaskClient, type_id: str) -> None:
    response = client.get(
        "/reconcile/suggest/entity", query_string={"prefix": "a", "type": type_id}
    )
    assert response.status_code == 400
    assert "is not a class" in response.get_json()["error"]
    assert client.get("/reconcile/suggest/entity?prefix=W&type=Q1").status_code == 200


def test_a_lone_surrogate_in_a_label_is_refused(app: Flask) -> None:
    client, headers = staff_client(app, "bob")
    cat = catalogue(app)
    before = state(cat)
    current = client.get("/api/entity/Q1000").get_json()
    record = {k: v for k, v in current.items() if k not in ("modified", "revision", "id")}
    record["base_revision"] = current["revision"]
    for label in ("\ud800", "a\udfffb", "\udc00\ud800"):
        record["labels"] = {"en": label}
        body = json.dumps(record)  # ensure_ascii: the surrogate travels as \\udXXX
        response = client.put(
            "/api/entity/Q1000", data=body, content_type="application/json", headers=headers
        )
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        assert "surrogate" in response.get_json()["error"]
    created = client.post(
        "/api/entity",
        data=json.dumps({"labels": {"en": "x"}, "descriptions": {"en": "\ud800"}}),
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 400
    assert state(cat) == before
    # a proper pair is one character, and fine
    record["labels"] = {"en": "Wikimedia \U0001f600"}
    body = json.dumps(record)
    assert "\\ud83d\\ude00" in body
    ok = client.put(
        "/api/entity/Q1000", data=body, content_type="application/json", headers=headers
    )
    assert ok.status_code == 200, ok.get_data(as_text=True)[:300]


def test_a_lone_surrogate_in_a_reconciliation_query_is_refused(client: FlaskClient) -> None:
    response = client.get("/reconcile", query_string={"queries": '{"q0": {"query": "a\\udc00"}}'})
    assert response.status_code == 400
    assert "surrogate" in response.get_json()["error"]


# --- integers beyond 64 bits ------------------------------------------------------------------


def test_huge_ids_and_revisions_are_not_found(client: FlaskClient) -> None:
    for path in (
        f"/api/entity/Q1000/revisions/{HUGE}",
        f"/api/entity/Q{HUGE}",
        f"/api/entity/Q{HUGE}/history",
        f"/page/Q{HUGE}",
        f"/entity/Q{HUGE}",
        f"/data/Q{HUGE}.ttl",
    ):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 404, (path, response.status_code)
    assert client.get(f"/api/entity/Q1000/diff?from=1&to={HUGE}").status_code in (400, 404)


def test_a_huge_base_revision_is_a_conflict(app: Flask) -> None:
    client, headers = staff_client(app, "bob")
    cat = catalogue(app)
    before = state(cat)
    current = client.get("/api/entity/Q1000").get_json()
    record = {k: v for k, v in current.items() if k not in ("modified", "revision", "id")}
    attempts = [
        client.put(
            "/api/entity/Q1000", json={**record, "base_revision": int(HUGE)}, headers=headers
        ),
        client.put(f"/api/entity/Q1000?base_revision={HUGE}", json=record, headers=headers),
        client.put("/api/entity/Q1000", json=record, headers={**headers, "If-Match": f'"{HUGE}"'}),
    ]
    for response in attempts:
        assert response.status_code == 409, response.get_data(as_text=True)[:300]
    reverted = client.post(
        "/api/entity/Q1000/revert", json={"revision": int(HUGE)}, headers=headers
    )
    assert reverted.status_code == 404
    form = client.post(
        "/edit/Q1000",
        data={"csrf_token": headers["X-CSRF-Token"], "base_revision": HUGE, "label_en": "x"},
    )
    assert form.status_code == 409
    value = {**record, "base_revision": current["revision"]}
    value["statements"] = [*record["statements"], {"property": "P2", "value": "Q" + HUGE}]
    refused = client.put("/api/entity/Q1000", json=value, headers=headers)
    assert refused.status_code == 422
    assert state(cat) == before


def test_the_revision_log_answers_huge_numbers_as_absent(app: Flask) -> None:
    log = catalogue(app).revisions
    assert log.get("Q1000", 10**30) is None
    assert log.get("Q1000", -(10**30)) is None
    assert log.revision_time(10**30) is None
    assert log.changed_since(10**30) == []
    assert log.changes(10**30, 10**31) == []
    assert len(log.recent_matching(before=10**30, limit=10**30)) == log.count()
