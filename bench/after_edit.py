"""The first request after an edit: does any whole-catalogue view make a reader wait?

Part of ``bench.http`` (after the throughput rounds, on the same server). A staff account
made for the run (``bigtent user add``) logs in through the JSON login and saves an
organisation with a changed English label through the edit API, exactly as a client of
``PUT /api/entity/<id>`` does. Right after each save, one anonymous request per view of
:data:`VIEWS` is timed, and the revision its answer reflects is read from its ``ETag``
(``…-r<revision>-…``); then the view is polled until it shows the new revision, which
says how long the background recomputation took. Target: every first answer under
:data:`TARGET_MS`, whichever revision it reflects.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import subprocess
import time
from collections.abc import Sequence
from http.cookies import SimpleCookie
from typing import Any

#: The revision in most views' ETags (``statistics-r123-…``).
REVISION = r"-r(\d+)-"
#: (view, path, Accept, the revisions its ETag carries: the answer reflects the oldest).
VIEWS: tuple[tuple[str, str, str, str], ...] = (
    ("statistics", "/statistics", "text/html", REVISION),
    ("network data", "/network.json", "application/json", REVISION),
    ("map data", "/map.geojson", "application/geo+json", REVISION),
    ("partnerships overview", "/partnerships", "text/html", REVISION),
    ("classes and counts", "/browse/", "text/html", r"^\W*classes-r(\d+)-(\d+)-"),
    ("organisations with facets", "/browse/Q1", "text/html", REVISION),
    ("home page", "/", "text/html", r"-c(\d+)-"),  # r is the log's head, c the counts'
)
TARGET_MS = 200.0
#: How long a view may take to show the new revision before the run gives up on it.
FRESH_TIMEOUT_S = 120.0
EDITOR = "bench-editor"

Result = dict[str, Any]


def add_editor(command: Sequence[str], env: dict[str, str]) -> str:
    """Create (or re-create) the run's editor account; returns its password."""
    password = secrets.token_urlsafe(24)
    subprocess.run([*command, "user", "remove", EDITOR], env=env, capture_output=True, check=False)
    subprocess.run(
        [*command, "user", "add", EDITOR, "--role", "editor"],
        env=env,
        input=password + "\n",
        text=True,
        capture_output=True,
        check=True,
    )
    return password


class Client:
    """One keep-alive connection with a cookie jar (enough for the JSON login and edits)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.used = False  # the connection has carried an exchange (the server may drop it)

    def request(
        self, method: str, path: str, body: object = None, accept: str = "application/json"
    ) -> tuple[int, dict[str, str], bytes]:
        """One exchange; the answer's cookies are kept for the next."""
        headers = {"Accept": accept}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.update({"Content-Type": "application/json", "X-CSRF-Token": self.csrf})
        try:
            response = self._exchange(method, path, data, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not self.used:
                raise
            # The server closes a keep-alive connection idle for SERVER_IDLE_TIMEOUT (the
            # staff connection waits while the views are computed at 1M): a new one, once.
            self.conn.close()
            response = self._exchange(method, path, data, headers)
        self.used = True
        payload = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload

    def _exchange(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        self.conn.request(method, path, body=data, headers=headers)
        return self.conn.getresponse()

    def login(self, password: str) -> None:
        """Log in as the run's editor (CSRF token from ``/api/session`` first)."""
        status, _, body = self.request("GET", "/api/session")
        self.csrf = json.loads(body)["csrf_token"]
        status, _, body = self.request("POST", "/login", {"name": EDITOR, "password": password})
        if status != 200:
            raise RuntimeError(f"bench login failed: HTTP {status}: {body[:200]!r}")
        self.csrf = json.loads(body)["csrf_token"]

    def relabel(self, entity: str, suffix: str) -> int:
        """Save ``entity`` with ``suffix`` added to its English label; the new revision."""
        status, _, body = self.request("GET", f"/api/entity/{entity}")
        if status != 200:
            raise RuntimeError(f"GET /api/entity/{entity}: HTTP {status}")
        model = json.loads(body)
        edit = {
            key: model[key]
            for key in ("labels", "descriptions", "aliases", "statements")
            if key in model
        }
        edit["labels"] = {**edit.get("labels", {}), "en": model["labels"]["en"] + suffix}
        edit.update(base_revision=model["revision"], summary="bench.http: first request after")
        status, _, body = self.request("PUT", f"/api/entity/{entity}", edit)
        if status != 200:
            raise RuntimeError(f"PUT /api/entity/{entity}: HTTP {status}: {body[:300]!r}")
        return int(json.loads(body)["revision"])


def view_revision(etag: str, pattern: str) -> int | None:
    """The revision a view's answer reflects: the oldest its ETag names."""
    found = re.search(pattern, etag)
    return min(int(g) for g in found.groups()) if found else None


def timed_get(
    client: Client, path: str, accept: str, pattern: str
) -> tuple[float, int, int | None]:
    """(milliseconds, status, revision reflected) of one anonymous GET."""
    started = time.perf_counter()
    status, headers, _ = client.request("GET", path, accept=accept)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, status, view_revision(headers.get("etag", ""), pattern)


def measure(port: int, password: str, organisation: str, edits: int = 3) -> list[Result]:
    """Per view: the first request after each of ``edits`` saves, and the time until the
    view showed the save. The organisation is reverted afterwards (the catalogue is the
    harness's cached one: only revisions are added)."""
    staff, reader = Client(port), Client(port)
    staff.login(password)
    status, _, body = staff.request("GET", f"/api/entity/{organisation}")
    if status != 200:
        raise RuntimeError(f"GET /api/entity/{organisation}: HTTP {status}")
    original = json.loads(body)["revision"]
    try:
        return _measure(staff, reader, organisation, edits)
    finally:
        staff.request("POST", f"/api/entity/{organisation}/revert", {"revision": original})


def _measure(staff: Client, reader: Client, organisation: str, edits: int) -> list[Result]:
    for _, path, accept, pattern in VIEWS:  # every view computed once before the first edit
        timed_get(reader, path, accept, pattern)
    rows: dict[str, Result] = {
        name: {"view": name, "path": path, "first_ms": [], "stale": 0, "fresh_ms": []}
        for name, path, *_ in VIEWS
    }
    for number in range(edits):
        for name, path, accept, pattern in VIEWS:
            row = rows[name]
            revision = staff.relabel(organisation, f" (edit {number + 1})")
            saved = time.perf_counter()
            ms, status, shown = timed_get(reader, path, accept, pattern)
            if status != 200:
                raise RuntimeError(f"{path} after an edit: HTTP {status}")
            row["first_ms"].append(ms)
            row["stale"] += shown is not None and shown < revision
            while shown is not None and shown < revision:
                if time.perf_counter() - saved > FRESH_TIMEOUT_S:
                    break
                time.sleep(0.02)
                _, _, shown = timed_get(reader, path, accept, pattern)
            row["fresh_ms"].append((time.perf_counter() - saved) * 1000)
    return list(rows.values())


def find_organisation(port: int, candidates: Sequence[str]) -> str:
    """The first candidate whose record is an organisation (P1 = Q1)."""
    client = Client(port)
    for entity in candidates:
        status, _, body = client.request("GET", f"/api/entity/{entity}")
        if status != 200:
            continue
        model = json.loads(body)
        if any(
            s.get("property") == "P1" and s.get("value") == "Q1"
            for s in model.get("statements", [])
        ):
            return entity
    raise RuntimeError("no organisation among the generated entities")


def run(
    command: Sequence[str], env: dict[str, str], port: int, candidates: Sequence[str]
) -> list[Result]:
    """The whole measurement on a running server (see the module docstring)."""
    password = add_editor(command, env)
    return measure(port, password, find_organisation(port, candidates))


def cells(row: Result) -> list[str]:
    """One table row: view, first request (median / max of the edits), how many first
    answers showed the previous revision, time until the new one, verdict."""
    first = sorted(row["first_ms"])
    fresh = sorted(row["fresh_ms"])
    worst = first[-1]
    return [
        row["view"],
        f"`{row['path']}`",
        f"{first[len(first) // 2]:.0f} / {worst:.0f}",
        f"{row['stale']} of {len(first)}",
        f"{fresh[len(fresh) // 2]:.0f} / {fresh[-1]:.0f}",
        f"< {TARGET_MS:.0f} ms",
        "PASS" if worst < TARGET_MS else "FAIL",
    ]


COLUMNS = (
    "view",
    "path",
    "first request after a save, ms (median / max)",
    "answers showing the previous revision",
    "until it shows the save, ms (median / max)",
    "target",
    "result",
)
