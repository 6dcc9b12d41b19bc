"""A real Bigtent server in a subprocess, for protocol and client tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import requests


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bigtent(*args: str, env: Mapping[str, str], timeout: float = 300) -> None:
    """Run the ``bigtent`` command line; raise with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "webapp.cli", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bigtent {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@dataclass
class LiveServer:
    """``bigtent serve`` over a demo catalogue in ``data_dir``, at ``url``."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(
        cls, workdir: Path, settings: Mapping[str, str] | None = None, demo: bool = True
    ) -> LiveServer:
        """Build the demo catalogue (unless ``demo`` is false) and start serving it;
        ``settings`` are extra ``BIGTENT_*`` values. Waits until the server answers."""
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        data_dir = workdir / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BIGTENT_")}
        env.update(
            BIGTENT_DATA_DIR=str(data_dir),
            BIGTENT_BASE_URL=url,
            BIGTENT_PORT=str(port),
            BIGTENT_LOAD_WORKERS="1",
            PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        )
        env.update(settings or {})
        if demo:
            bigtent("demo", env=env)
        log = workdir / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "webapp.cli", "serve"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = cls(url, data_dir, process, log)
        server._wait_until_ready()
        return server

    def _wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.url, timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # slow under load: ask again
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"bigtent serve did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
