"""Bigtent is a real package: the wheel carries the ontology, shapes, queries, demo data,
templates, static files and translations, and an install outside the checkout builds the
demo and serves it.

The fresh virtual environment gets the wheel itself; its dependencies are borrowed from
the test environment through a ``.pth`` path (so the test needs no network), which never
exposes the checkout: the checkout's editable-install hook lives in a ``.pth`` *file*
there, and Python does not read ``.pth`` files in directories added that way.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import requests
from live_server import free_port

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DATA = (
    "loader/data/ontology/properties.ttl",
    "loader/data/ontology/bigtent-owl.ttl",
    "loader/data/shapes/organisation.ttl",
    "loader/data/sparql/counts_by_class.rq",
    "loader/data/sparql/examples/find-peers-by-capacity.rq",
    "loader/data/demo/people.ttl",
    "webapp/templates/entity.html",
    "webapp/static/bigtent.css",
    "webapp/translations/fr/LC_MESSAGES/messages.po",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("bigtent-*.whl")
    return built


def test_the_wheel_carries_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in PACKAGE_DATA if name not in names]
    assert missing == []
    assert not [n for n in names if n.startswith(("tests/", "bench/"))]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the checkout with the wheel installed."""
    env_dir = tmp_path_factory.mktemp("installed") / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "borrowed-dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return env_dir


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BIGTENT_", "PYTHON"))}
    env.update(
        BIGTENT_DATA_DIR=str(data_dir),
        BIGTENT_BASE_URL=f"http://127.0.0.1:{port}/",
        BIGTENT_PORT=str(port),
        BIGTENT_LOAD_WORKERS="1",
        BIGTENT_DUMP_INTERVAL="0",
    )
    return env


def test_installed_bigtent_builds_the_demo_and_serves_it(installed: Path, tmp_path: Path) -> None:
    bigtent = installed / "bin" / "bigtent"
    found = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import loader, webapp; print(loader.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=_env(tmp_path, 1),
    ).stdout
    assert found.startswith(str(installed)), found  # not the checkout
    port = free_port()
    env = _env(tmp_path / "data", port)
    demo = subprocess.run(
        [str(bigtent), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(bigtent), "serve"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _attempt in range(300):
            try:
                if requests.get(url + "health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            subprocess.run(["sleep", "0.2"], check=True)
        page = requests.get(url + "page/Q1", timeout=30, headers={"Accept-Language": "fr"})
        assert page.status_code == 200
        assert "organisation" in page.text.lower()
        data = requests.get(url + "data/Q1.ttl", timeout=30)
        assert data.status_code == 200 and "rdfs:label" in data.text
        asked = requests.get(url + "sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=60)
        assert asked.status_code == 200 and asked.json()["boolean"] is True
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
