"""Dumps over HTTP (listing, conditional and range requests, files replaced while being
served, bad names and path traversal), the sitemap and robots.txt."""

from __future__ import annotations

import gzip
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from live_server import LiveServer

from loader.catalogue import Catalogue
from loader.publish.dumps import DUMPS, dumps_dir, read_manifest
from webapp.linked_data import harvest

BASE = "https://bigtent.example.org/"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def dumped(app: Flask) -> Flask:
    """The demo app with its dumps written."""
    app.extensions["bigtent"].dump()
    return app


def catalogue(app: Flask) -> Catalogue:
    cat: Catalogue = app.extensions["bigtent"]
    return cat


def test_listing_as_json_and_html(dumped: Flask) -> None:
    client = dumped.test_client()
    manifest = read_manifest(dumps_dir(catalogue(dumped).settings))
    assert manifest is not None
    listing = client.get("/dumps/", headers={"Accept": "application/json"})
    assert listing.status_code == 200
    body = listing.get_json()
    assert body["revision"] == catalogue(dumped).revisions.last_id()
    assert [f["name"] for f in body["files"]] == [d.name for d in DUMPS]
    for entry, expected in zip(body["files"], manifest.files, strict=True):
        assert entry["url"] == BASE + "dumps/" + entry["name"]
        assert entry["bytes"] == expected.bytes and entry["sha256"] == expected.sha256
        assert entry["triples"] == expected.triples > 0 and entry["modified"]
    page = client.get("/dumps/", headers={"Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert (
        page.status_code == 200
        and "bigtent-truthy.ttl.gz" in text
        and manifest.files[0].sha256 in text
    )
    again = client.get(
        "/dumps/", headers={"Accept": "text/html", "If-None-Match": page.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get("/dumps").status_code in (301, 308)


def test_listing_before_any_dump(client: FlaskClient) -> None:
    body = client.get("/dumps/", headers={"Accept": "application/json"}).get_json()
    assert body["files"] == [] and body["revision"] is None
    assert "No dumps have been written yet" in client.get("/dumps/").get_data(as_text=True)
    missing = get(client, "/dumps/bigtent-full.nt.gz", Accept="application/json")
    assert missing.status == 503 and b"DUMP_INTERVAL" in missing.data


@dataclass
class Got:
    status: int
    headers: dict[str, str]
    data: bytes


def get(client: FlaskClient, path: str, **headers: str) -> Got:
    """GET and close the response (dump responses hold a file open until closed)."""
    with client.get(path, headers={k.replace("_", "-"): v for k, v in headers.items()}) as r:
        return Got(r.status_code, dict(r.headers), r.get_data())


def test_download_with_etag_304_and_ranges(dumped: Flask) -> None:
    client = dumped.test_client()
    path = dumps_dir(catalogue(dumped).settings) / "bigtent-full.nt.gz"
    data = path.read_bytes()
    full = get(client, "/dumps/bigtent-full.nt.gz")
    assert full.status == 200 and full.data == data
    assert full.headers["Content-Type"] == "application/gzip"
    assert "attachment" in full.headers["Content-Disposition"]
    assert full.headers["Accept-Ranges"] == "bytes"
    assert int(full.headers["Content-Length"]) == len(data)
    etag, modified = full.headers["ETag"], full.headers["Last-Modified"]
    assert get(client, "/dumps/bigtent-full.nt.gz", If_None_Match=etag).status == 304
    assert get(client, "/dumps/bigtent-full.nt.gz", If_Modified_Since=modified).status == 304
    part = get(client, "/dumps/bigtent-full.nt.gz", Range="bytes=10-19")
    assert part.status == 206 and part.data == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    resumed = get(client, "/dumps/bigtent-full.nt.gz", Range="bytes=100-", If_Range=etag)
    assert resumed.status == 206 and resumed.data == data[100:]
    for bad in (f"bytes={len(data) + 10}-", "bytes=banana"):
        refused = get(client, "/dumps/bigtent-full.nt.gz", Range=bad, Accept="application/json")
        assert refused.status == 416 and b"Range" in refused.data
    with client.head("/dumps/bigtent-full.nt.gz") as head:
        assert head.status_code == 200 and head.headers["ETag"] == etag
    assert gzip.decompress(full.data).count(b"\n") == read_manifest(path.parent).triples  # type: ignore[union-attr]


def test_a_dump_replaced_while_it_is_served_stays_whole(dumped: Flask) -> None:
    cat = catalogue(dumped)
    client = dumped.test_client()
    path = dumps_dir(cat.settings) / "bigtent-full.nt.gz"
    before = path.read_bytes()
    with client.get("/dumps/bigtent-full.nt.gz", buffered=False) as streaming:
        etag = streaming.headers["ETag"]
        cat.delete("Q1001", reason="test", author="tester")
        cat.dump()  # renamed into place while the first response is still open
        assert path.read_bytes() != before
        assert b"".join(streaming.response) == before  # the old file, whole
    fresh = get(client, "/dumps/bigtent-full.nt.gz", If_None_Match=etag)
    assert fresh.status == 200 and fresh.headers["ETag"] != etag
    resumed = get(client, "/dumps/bigtent-full.nt.gz", Range="bytes=100-", If_Range=etag)
    assert resumed.status == 200 and resumed.data == path.read_bytes()  # not a mixture


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/nope.nt.gz",
        "/dumps/dumps.json",
        "/dumps/bigtent-full.nt",
        "/dumps/BIGTENT-FULL.NT.GZ",
        "/dumps/../revisions.sqlite3",
        "/dumps/..%2Frevisions.sqlite3",
        "/dumps/%2e%2e/revisions.sqlite3",
        "/dumps/%2E%2E%2Frevisions.sqlite3",
        "/dumps/bigtent-full.nt.gz/../../revisions.sqlite3",
        "/dumps/..%5Crevisions.sqlite3",
        "/dumps/%00",
        "/dumps/" + "a" * 5000,
    ],
)
def test_unknown_names_and_traversal_are_404(dumped: Flask, path: str) -> None:
    response = dumped.test_client().get(path, headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert b"SQLite format" not in response.data
    assert response.get_json()["ok"] is False


def test_traversal_through_a_real_server(live_server: LiveServer) -> None:
    # Sent exactly as written (no client-side normalisation of "..").
    for raw in (
        "/dumps/../revisions.sqlite3",
        "/dumps/..%2frevisions.sqlite3",
        "/dumps/%2e%2e/store",
    ):
        prepared = requests.Request("GET", live_server.url.rstrip("/") + raw).prepare()
        prepared.url = live_server.url.rstrip("/") + raw
        with requests.Session() as session:
            response = session.send(prepared, timeout=10)
        assert response.status_code in (400, 404), raw
        assert b"SQLite format" not in response.content


def sitemap_urls(client: FlaskClient, path: str) -> list[tuple[str, str]]:
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    return [
        (url.findtext(f"{SITEMAP}loc") or "", url.findtext(f"{SITEMAP}lastmod") or "")
        for url in root
    ]


def test_sitemap_lists_every_live_entity_page(client: FlaskClient, app: Flask) -> None:
    cat = catalogue(app)
    cat.delete("Q1001", reason="test", author="tester")
    index = sitemap_urls(client, "/sitemap.xml")
    assert [loc for loc, _ in index] == [BASE + "sitemap-1.xml"]
    urls = sitemap_urls(client, "/sitemap-1.xml")
    assert len(urls) == cat.revisions.entity_count()
    assert (BASE + "page/Q1001") not in {loc for loc, _ in urls}
    entity, when = urls[0]
    assert entity.startswith(BASE + "page/") and when.endswith("Z")
    state = cat.revisions.state(entity.rsplit("/", 1)[1])
    assert state is not None and cat.revisions.revision_time(state.latest) == when
    first = client.get("/sitemap-1.xml")
    assert (
        client.get("/sitemap-1.xml", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )


def test_sitemap_pages_hold_at_most_the_limit(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harvest, "SITEMAP_URLS", 100)
    live = catalogue(app).revisions.entity_count()
    pages = -(-live // 100)
    index = sitemap_urls(client, "/sitemap.xml")
    assert [loc for loc, _ in index] == [f"{BASE}sitemap-{n}.xml" for n in range(1, pages + 1)]
    seen = [
        loc for n in range(1, pages + 1) for loc, _ in sitemap_urls(client, f"/sitemap-{n}.xml")
    ]
    assert len(seen) == len(set(seen)) == live
    assert all(len(sitemap_urls(client, f"/sitemap-{n}.xml")) <= 100 for n in range(1, pages + 1))
    for bad in (
        f"/sitemap-{pages + 1}.xml",
        "/sitemap-0.xml",
        "/sitemap-x.xml",
        "/sitemap-01.xml",
        "/sitemap-.xml",
    ):
        response = client.get(bad, headers={"Accept": "application/json"})
        assert response.status_code == 404, bad
        assert bad == "/sitemap-.xml" or "sitemap" in response.get_json()["error"]


def test_robots_txt(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /sparql?" in lines and "Disallow: /edit/" in lines
    assert f"Sitemap: {BASE}sitemap.xml" in lines
    assert "Disallow: /" not in lines  # pages, data, dumps and the feed stay crawlable
    assert (
        client.get("/robots.txt", headers={"If-None-Match": response.headers["ETag"]}).status_code
        == 304
    )


def test_live_server_writes_and_serves_dumps(live_server: LiveServer, tmp_path: Path) -> None:
    """The server writes the dumps itself (DUMP_INTERVAL), shortly after starting."""
    import time

    deadline = time.monotonic() + 120
    listing: dict[str, object] = {}
    while time.monotonic() < deadline:
        listing = requests.get(
            live_server.url + "dumps/", headers={"Accept": "application/json"}, timeout=10
        ).json()
        if listing["files"]:
            break
        time.sleep(0.5)
    files = listing["files"]
    assert isinstance(files, list) and len(files) == len(DUMPS)
    response = requests.get(live_server.url + "dumps/bigtent-truthy.nt.gz", timeout=30)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == files[2]["sha256"]
    assert b"/prop/direct/" in gzip.decompress(response.content)
