"""`bigtent erase`: no trace of the person remains in DATA_DIR's files or any public output."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import zlib
from pathlib import Path

from privacy_sweep import MARKERS, PERSON, fetch, leaks, swept_urls
from staff_support import FAST, catalogue

from loader.base.settings import Settings, load_settings
from webapp import create_app
from webapp.cli import main

BASE = "https://bigtent.example.org/"


def _settings(data: Path) -> Settings:
    return load_settings(
        env={},
        overrides={
            "DATA_DIR": str(data),
            "BASE_URL": BASE,
            "LOAD_WORKERS": 1,
            "DUMP_INTERVAL": 0,
            **FAST,
        },
    )


def traces(data_dir: Path) -> list[str]:
    """Files under ``data_dir`` holding a marker of the person: raw bytes, gzip files
    opened, and every zlib-compressed snapshot of the revision log decompressed."""
    needles = [m.encode() for m in MARKERS]
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if any(n in data for n in needles):
            found.append(str(path.relative_to(data_dir)))
    log = sqlite3.connect(data_dir / "revisions.sqlite3")
    try:
        for entity, number, blob, summary in log.execute(
            "SELECT entity, number, snapshot, summary FROM revisions"
        ):
            text = (zlib.decompress(blob) if blob else b"") + summary.encode()
            if any(n in text for n in needles):
                found.append(f"revision {entity}#{number}")
    finally:
        log.close()
    return found


def _sweep(data: Path) -> list[str]:
    app = create_app(_settings(data))
    try:
        client = app.test_client()
        cat = catalogue(app)
        return [u for u, form in swept_urls(cat) if leaks(fetch(client, u, form).text)]
    finally:
        catalogue(app).close()


def test_erase_leaves_no_trace(demo_template: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_template, data)
    common = ["--data-dir", str(data), "--base-url", BASE]
    assert main([*common, "dump"]) == 0
    assert main([*common, "hide", PERSON, "--reason", "Amara Okonkwo asked to leave"]) == 0
    assert main([*common, "unhide", PERSON]) == 0  # more revisions holding the person
    # Serving fills caches and SPARQL snapshots; the trace scan sees the person.
    assert _sweep(data)
    before = traces(data)
    assert "pages.sqlite3" in before and any(t.startswith("revision Q1500") for t in before)
    assert any(t.startswith("dumps/") for t in before)

    assert main([*common, "erase", PERSON]) == 0

    assert traces(data) == []
    assert _sweep(data) == []
    log = sqlite3.connect(data / "revisions.sqlite3")
    try:
        rows = log.execute(
            "SELECT action, summary, snapshot, content_hash FROM revisions WHERE entity = ? "
            "ORDER BY id",
            (PERSON,),
        ).fetchall()
    finally:
        log.close()
    assert rows[-1][0] == "erase"  # the tombstone
    assert all(r[1] == "erased" and r[2] is None and r[3] is None for r in rows)
    # A reindex from the log cannot bring anything back.
    assert main([*common, "reindex"]) == 0
    assert traces(data) == []
    app = create_app(_settings(data))
    try:
        client = app.test_client()
        gone = client.get(f"/data/{PERSON}.ttl")
        assert gone.status_code == 410 and "erased" in gone.get_data(as_text=True)
        assert client.get(f"/page/{PERSON}").status_code == 410
        cat = catalogue(app)
        last = cat.feed.activity(cat.revisions.history(PERSON)[0].id)
        assert last.type == "Delete" and last.action == "erase" and last.summary == ""
    finally:
        catalogue(app).close()
