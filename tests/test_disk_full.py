"""A full disk (issue 12, finding 7 and "Disk full"), proved on small file systems the
tests mount: `bigtent load` fails fast with exit 2 and a message naming DATA_DIR, nothing
is half-written (`bigtent verify` is clean afterwards, on the still-full disk), the web
answers 507; and a load whose worker process dies ends with an error instead of waiting
forever (why the load on a full disk hung)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from staff_support import FAST, PASSWORD, catalogue, login, state

from loader.base.settings import load_settings
from loader.catalogue import Catalogue
from tests.conftest import BASE
from webapp import create_app

WD = BASE + "entity/"
BIGTENT = [sys.executable, "-m", "webapp.cli"]
FILLER = "Bigtent keeps the store and the revision log in step. " * 4


def _records(path: Path, count: int, first: int = 100_000) -> Path:
    """``count`` valid records of about 14 kB of N-Triples each."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(first, first + count):
            out.write(
                f'<{WD}Q{n}> <http://www.w3.org/2000/01/rdf-schema#label> "Org {n}"@en .\n'
                f"<{WD}Q{n}> <{BASE}prop/direct/P1> <{WD}Q1> .\n"
            )
            out.writelines(
                f"<{WD}Q{n}> <http://www.w3.org/2004/02/skos/core#altLabel> "
                f'"{i} {n} {FILLER}"@en .\n'
                for i in range(60)
            )
    return path


@pytest.fixture
def mount() -> Iterator[Callable[[Path, int], Path]]:
    """Factory: a tmpfs of ``megabytes`` mounted on a directory (unmounted after)."""
    mounted: list[Path] = []

    def make(path: Path, megabytes: int) -> Path:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            pytest.skip("mounting a small file system (mount -t tmpfs) needs root")
        path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(path)
        return path

    yield make
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def _cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BIGTENT, "--data-dir", str(data_dir), "--base-url", BASE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,  # a hang fails the test
        env={"PATH": "/usr/bin:/bin", "BIGTENT_LOAD_WORKERS": "2", **(env or {})},
    )


def _revisions(data_dir: Path) -> int:
    settings = load_settings(env={}, overrides={"DATA_DIR": str(data_dir), "BASE_URL": BASE})
    with Catalogue.open(settings) as cat:
        return cat.revisions.count()


def _assert_clean(data_dir: Path) -> None:
    verified = _cli(data_dir, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "0 missing, 0 extra, 0 different" in verified.stdout


def test_load_on_a_full_disk_fails_fast_naming_data_dir(
    ontology_template: Path, tmp_path: Path, mount: Callable[[Path, int], Path]
) -> None:
    disk = mount(tmp_path / "disk", 24)
    data_dir = disk / "data"
    shutil.copytree(ontology_template, data_dir)
    before = _revisions(data_dir)
    source = _records(tmp_path / "records.nt", 300)  # 4 MB; the disk has about 20 MB free
    result = _cli(data_dir, "load", str(source), timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"DATA_DIR ({data_dir})" in result.stderr and "is full" in result.stderr
    assert "DISK_RESERVE_MB" in result.stderr
    assert "Traceback" not in result.stderr
    assert _revisions(data_dir) == before
    _assert_clean(data_dir)


def test_a_store_that_runs_out_of_space_midway_leaves_nothing_half_written(
    ontology_template: Path, tmp_path: Path, mount: Callable[[Path, int], Path]
) -> None:
    # The store alone on a small disk, and no reserve: the store itself hits ENOSPC in
    # the middle of a write, after the revision log accepted the batch.
    data_dir = tmp_path / "data"
    shutil.copytree(ontology_template, data_dir, ignore=shutil.ignore_patterns("store"))
    store_size = sum(f.stat().st_size for f in (ontology_template / "store").iterdir())
    store = mount(data_dir / "store", (store_size >> 20) + 3)
    shutil.copytree(ontology_template / "store", store, dirs_exist_ok=True)
    before = _revisions(data_dir)
    source = _records(tmp_path / "records.nt", 400)  # 5.6 MB: more than the store can take
    result = _cli(data_dir, "load", str(source), env={"BIGTENT_DISK_RESERVE_MB": "0"})
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"DATA_DIR ({data_dir})" in result.stderr and "is full" in result.stderr
    assert "Traceback" not in result.stderr
    assert _revisions(data_dir) == before  # the accepted batch was taken back out
    _assert_clean(data_dir)  # on the still-full disk: log and store agree


def test_the_web_answers_507_on_a_full_disk(
    demo_template: Path, tmp_path: Path, mount: Callable[[Path, int], Path]
) -> None:
    disk = mount(tmp_path / "disk", 40)
    data_dir = disk / "data"
    shutil.copytree(demo_template, data_dir)
    settings = load_settings(
        env={}, overrides={"DATA_DIR": str(data_dir), "BASE_URL": BASE, "DUMP_INTERVAL": 0, **FAST}
    )
    app = create_app(settings)
    try:
        cat = catalogue(app)
        cat.accounts.add_user("bob", "editor", PASSWORD)
        client = app.test_client()
        headers = {"X-CSRF-Token": login(client, "bob")}
        current = client.get("/api/entity/Q1000").get_json()
        record = {k: v for k, v in current.items() if k not in ("modified", "revision", "id")}
        record["base_revision"] = current["revision"]
        record["labels"] = {**record["labels"], "en": "Renamed on a full disk"}
        # Fill the disk but 200 kB: below DISK_RESERVE_MB (64), and too little for the
        # 300 kB upload below.
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * (free - 200_000))
        before = state(cat)
        saved = client.put("/api/entity/Q1000", json=record, headers=headers)
        assert saved.status_code == 507, saved.get_data(as_text=True)[:500]
        assert f"DATA_DIR ({data_dir})" in saved.get_json()["error"]
        uploaded = client.post(
            "/import",
            data={"file": (io.BytesIO(b"#" * 300_000 + b"\n"), "records.nt")},
            headers={**headers, "Accept": "application/json"},
        )
        assert uploaded.status_code == 507, uploaded.get_data(as_text=True)[:500]
        assert "is full" in uploaded.get_json()["error"]
        imports = data_dir / "imports"
        assert not imports.exists() or list(imports.iterdir()) == []
        assert state(cat) == before
        assert client.get("/page/Q1000").status_code == 200  # reading goes on
    finally:
        catalogue(app).close()


def _workers(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    found = []
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def test_a_load_whose_worker_dies_ends_with_an_error(
    ontology_template: Path, tmp_path: Path
) -> None:
    """The old pool waited forever for the answer of a worker that died (and started
    workers without end when they could not start): the load hung with no output."""
    if not Path("/proc/self/task").is_dir():
        pytest.skip("finding the worker processes needs /proc")
    data_dir = tmp_path / "data"
    shutil.copytree(ontology_template, data_dir)
    source = _records(tmp_path / "records.nt", 1500)
    process = subprocess.Popen(
        [*BIGTENT, "--data-dir", str(data_dir), "--base-url", BASE, "load", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "BIGTENT_LOAD_WORKERS": "2",
            "BIGTENT_LOAD_CHUNK_RECORDS": "20",
        },
        start_new_session=True,  # its own process group: the cleanup reaches every child
    )
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = _workers(process.pid)
        assert len(workers) == 2, "the load never started its two workers"
        time.sleep(0.5)  # let them take chunks
        os.kill(workers[0], signal.SIGKILL)
        _out, err = process.communicate(timeout=60)
    finally:
        # Whatever happened, no process of the load outlives the test, and nothing here
        # waits on a pipe a stray child still holds.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=10)
    assert process.returncode == 2, err[-2000:]
    assert "worker process stopped unexpectedly" in err
    _assert_clean(data_dir)
