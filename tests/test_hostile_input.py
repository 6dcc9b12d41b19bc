"""Hostile input is normal input: every route of the app, from its URL map, answers a
2xx, 3xx or 4xx to hostile values (never a 500, never a traceback).

The routes come from ``app.url_map``, so a new route is fuzzed without anyone listing it.
Each route is first called once with plain values while the request records which query
arguments, form fields and JSON keys the view reads; Hypothesis then fills exactly those
(plus the path variables and the arguments every page reads) with what attackers and
broken clients send: huge and negative numbers, ``1e400``, lone surrogates, control
characters, CR/LF, deeply nested JSON, long strings, markup, path tricks. Anonymous
requests and a logged-in editor's (with its CSRF token, so the checks behind the login
are reached) both run.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from conftest import close_app, open_app
from flask import Flask, Request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from staff_support import PASSWORD, staff_client
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule

from loader.base.settings import load_settings

#: Arguments tried on every route: those every page may read (languages, paging, format)
#: and those of views that parse the query string themselves (the SPARQL protocol).
COMMON = ("uselang", "page", "format", "query", "default-graph-uri", "timeout", "next")
PLAIN = {"Q1000", "1", "en", "ttl"}
HOSTILE = [
    "",
    "0",
    "-1",
    "9" * 40,
    "-" + "9" * 30,
    "1e400",
    "NaN",
    "Q" + "9" * 30,
    "P0",
    "Q1000",
    "Q1500",
    "\ud800",
    "a\udfffb",
    "\x00" * 12,
    "\r\nSet-Cookie: x=1",
    "/%09/evil.example",
    "//evil.example",
    "https://evil.example/",
    "../../../../etc/passwd",
    "<script>alert(1)</script>",
    "}}} SELECT * WHERE { ?s ?p ?o } #",
    "x" * 20_000,
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    "=cmd|' /C calc'!A0",
    "%ZZ",
    "Q1,Q2,Q3",
]
HOSTILE_TEXT = st.sampled_from(HOSTILE) | st.text(max_size=30)
NESTED_JSON = "[" * 100_000 + "]" * 100_000
#: Values every argument a route reads gets once, before the random examples.
EDGES = ("0", "9" * 40, "1e400", "\ud800", "\r\nX-Injected: 1")
_seen: set[str] = set()
# Hypothesis warns when it prints a long falsifying example; the failure says enough.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")


class _RecordingArgs(ImmutableMultiDict[str, str]):
    """Query arguments or form fields that note every name a view asks for."""

    def get(self, key: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _seen.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        _seen.add(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key: str) -> str:
        _seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        _seen.add(str(key))
        return super().__contains__(key)


class _RecordingJson(dict[str, Any]):
    """A JSON object body that notes every key a view asks for."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        _seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        _seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        _seen.add(str(key))
        return super().__contains__(key)


class RecordingRequest(Request):
    """The app's request class while routes are explored."""

    parameter_storage_class = _RecordingArgs

    def get_json(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        found = super().get_json(*args, **kwargs)
        return _RecordingJson(found) if isinstance(found, dict) else found


def _variables(rule: Rule) -> list[str]:
    """The variables of the rule's path (not the defaults the route passes itself)."""
    return sorted(set(rule.arguments) - set(rule.defaults or {}))


def _spec(rule: Rule, name: str) -> str:
    """The ``<converter(args):name>`` text of a variable in the rule string."""
    for part in rule.rule.split("<")[1:]:
        inside = part.split(">", 1)[0]
        if inside == name or inside.endswith(":" + name):
            return inside
    raise AssertionError(f"{name} not in {rule.rule}")


def _quote(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _path(rule: Rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name in _variables(rule):
        path = path.replace(f"<{_spec(rule, name)}>", _quote(values[name]))
    return path


def _methods(rule: Rule) -> list[str]:
    return sorted(m for m in (rule.methods or ()) if m not in ("HEAD", "OPTIONS"))


def _encoded(values: dict[str, str]) -> dict[str, bytes]:
    return {k: v.encode("utf-8", "surrogatepass") for k, v in values.items()}


def discover(client: FlaskClient, headers: dict[str, str], rule: Rule) -> list[str]:
    """The argument, field and key names the route reads, from one plain call per method
    and body kind."""
    _seen.clear()
    path = _path(rule, dict.fromkeys(_variables(rule), "Q1000"))
    for method in _methods(rule):
        client.open(path, method=method, headers=headers)
        if method != "GET":
            client.open(path, method=method, headers=headers, data={"x": "1"})
            client.open(path, method=method, headers=headers, json={"x": "1"})
    return sorted(_seen - {"x"})


@st.composite
def requests_for(draw: st.DrawFn, rule: Rule, names: list[str]) -> tuple[str, str, dict[str, Any]]:
    """(method, URL, keyword arguments for the test client) for one request to ``rule``."""
    method = draw(st.sampled_from(_methods(rule)))
    variables = {
        name: draw(HOSTILE_TEXT | st.sampled_from(["Q1000", "P1", "1", "a.ttl"]))
        for name in _variables(rule)
    }
    keys = st.sampled_from([*names, *COMMON])
    args = draw(st.dictionaries(keys, HOSTILE_TEXT, max_size=4))
    query = urlencode(_encoded(args))
    url = _path(rule, variables) + ("?" + query if query else "")
    options: dict[str, Any] = {
        "headers": {
            "Accept": draw(st.sampled_from(["text/html", "application/json", "*/*", "x;q=2"])),
            "Accept-Language": draw(st.sampled_from(["fr", "pt-BR,en;q=0.5", "*", "q=;,"])),
        }
    }
    if method != "GET":
        body = draw(st.sampled_from(["form", "json", "nested", "raw"]))
        if body == "form":
            options["data"] = _encoded(draw(st.dictionaries(keys, HOSTILE_TEXT, max_size=5)))
        elif body == "json":
            values = st.one_of(
                HOSTILE_TEXT,
                st.integers(min_value=-(10**40), max_value=10**40),
                st.floats(allow_nan=False),
                st.lists(HOSTILE_TEXT, max_size=3),
                st.dictionaries(keys, HOSTILE_TEXT, max_size=3),
                st.none(),
            )
            document = draw(st.dictionaries(keys, values, max_size=5))
            options["data"] = json.dumps(document).replace('"1e400"', "1e400")
            options["content_type"] = "application/json"
        elif body == "nested":
            options["data"] = NESTED_JSON
            options["content_type"] = "application/json"
        else:
            options["data"] = draw(st.sampled_from([b"\xff\xfe\x00", b"{" * 100_000]))
            options["content_type"] = draw(
                st.sampled_from(["text/turtle", "application/json", "multipart/form-data"])
            )
    return method, url, options


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Flask]:
    """A demo app with one editor account, private to this module, whose requests note
    what they are asked for."""
    work = tmp_path_factory.mktemp("hostile")
    shutil.copytree(demo_template, work / "data")
    overrides = {
        "DATA_DIR": str(work / "data"),
        "BASE_URL": "https://bigtent.example.org/",
        "DUMP_INTERVAL": 0,
        "PASSWORD_SCRYPT_N": 1024,
        "SPARQL_TIMEOUT": 5,
        # The fuzz fails many logins from one address; it tests input, not throttling.
        "LOGIN_FREE_FAILURES": 1_000_000,
        "LOGIN_FREE_FAILURES_PER_IP": 1_000_000,
    }
    app = open_app(load_settings(env={}, overrides=overrides), "demo")
    app.request_class = RecordingRequest
    app.extensions["bigtent"].accounts.add_user("eve", "editor", PASSWORD)
    yield app
    close_app(app, "demo")


def _rules(app: Flask) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule
    )


def test_every_route_is_fuzzed_on_what_it_reads(fuzzed_app: Flask) -> None:
    """The URL map is the list, and discovery finds the arguments routes read."""
    client, headers = staff_client(fuzzed_app, "eve")
    rules = {rule.rule: rule for rule in _rules(fuzzed_app)}
    assert len(rules) > 40
    assert "type" in discover(client, headers, rules["/reconcile/suggest/entity"])
    assert {"next", "to"} <= set(discover(client, headers, rules["/language"]))
    assert {"from", "to"} <= set(discover(client, headers, rules["/api/entity/<entity_id>/diff"]))


@pytest.mark.parametrize("who", ["anonymous", "editor"])
def test_no_route_answers_hostile_input_with_a_500(fuzzed_app: Flask, who: str) -> None:
    if who == "anonymous":
        client, headers = fuzzed_app.test_client(), {}
    else:
        client, headers = staff_client(fuzzed_app, "eve")
    failures: list[str] = []
    for rule in _rules(fuzzed_app):
        if who == "editor" and rule.endpoint.endswith("logout"):
            continue  # it would end the session the rest of the run needs
        names = discover(client, headers, rule)

        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(request=requests_for(rule, names))
        def fuzz(request: tuple[str, str, dict[str, Any]]) -> None:
            method, url, options = request
            options["headers"] = {**options["headers"], **headers}
            response = client.open(url, method=method, **options)
            body = response.get_data()
            assert response.status_code < 500 and b"Traceback" not in body, (
                f"{method} {url[:200]} -> {response.status_code}: {body[:300]!r}"
            )

        try:
            for method, url, options in edge_requests(rule, names):
                options["headers"] = headers
                response = client.open(url, method=method, **options)
                assert response.status_code < 500, (
                    f"{method} {url[:200]} -> {response.status_code}: {response.get_data()[:300]!r}"
                )
            fuzz()
        except AssertionError as failure:
            failures.append(str(failure).splitlines()[0][:400])
    assert failures == []


def edge_requests(rule: Rule, names: list[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The known-nasty cases, each once: every argument the route reads set to each of
    EDGES, and a deeply nested JSON body for every method that takes a body."""
    path = _path(rule, dict.fromkeys(_variables(rule), "Q1000"))
    for method in _methods(rule):
        for name in names:
            for value in EDGES:
                if method == "GET":
                    yield method, path + "?" + urlencode(_encoded({name: value})), {}
                else:
                    yield method, path, {"data": _encoded({name: value})}
        if method != "GET":
            yield method, path, {"data": NESTED_JSON, "content_type": "application/json"}
