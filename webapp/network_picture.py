"""Writes the README's picture of the demo catalogue's partnership network.

``python -m webapp.network_picture [OUT]`` (default ``docs/network.svg``) builds the demo
catalogue in a temporary directory, then renders ``/network.svg`` exactly as the web app
serves it (English labels, links to ``https://bigtent.example.org/page/...``).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from loader.base.settings import load_settings
from loader.catalogue import Catalogue
from webapp import create_app

ROOT = Path(__file__).resolve().parents[1]  # the source checkout: docs/ is not package data
DEFAULT_OUT = ROOT / "docs" / "network.svg"
BASE = "https://bigtent.example.org/"


def demo_picture(data_dir: Path) -> bytes:
    """The network picture of a fresh demo catalogue built in ``data_dir``."""
    overrides = {"DATA_DIR": str(data_dir), "BASE_URL": BASE, "DUMP_INTERVAL": 0}
    with Catalogue.open(load_settings(env={}, overrides=overrides)) as cat:
        if not all(report.ok for report in cat.build_demo()):
            raise SystemExit("the demo catalogue did not load; run `bigtent demo` to see why")
    app = create_app(load_settings(env={}, overrides=overrides))
    try:
        response = app.test_client().get(
            "/network.svg", headers={"Accept-Language": "en"}, base_url=BASE.rstrip("/")
        )
        if response.status_code != 200:
            raise SystemExit(f"/network.svg answered {response.status_code}")
        picture: bytes = response.data
        return picture
    finally:
        app.extensions["bigtent"].close()


def main(argv: Sequence[str] | None = None) -> int:
    """Write the picture; prints where."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else DEFAULT_OUT
    with tempfile.TemporaryDirectory(prefix="bigtent-picture-") as tmp:
        picture = demo_picture(Path(tmp) / "data")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(picture)
    print(f"wrote {out} ({len(picture):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
