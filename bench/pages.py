"""Page benchmarks: search, browse and backlink latency on a catalogue, and HTML page
throughput of ``bigtent serve`` against a trivial route of the same server.

``python -m bench.pages index  --data-dir DIR``   build/catch up the page index (timed)
``python -m bench.pages search --data-dir DIR [--queries 500]``
    search latency in process (the index queries the /search view runs) for queries
    drawn from the catalogue's own labels: whole words, 3-letter prefixes, two-word
    prefixes, exact labels, and one-letter worst cases; plus "what links here" (first
    and last page of the most linked entity) and browse (the biggest class, with facets)
``python -m bench.pages http --data-dir DIR [--ceiling /health] [--path /page/Q1208 ...]``
    starts ``bigtent serve`` on a free port over DIR (its BASE_URL unchanged) and runs
    ``wrk -t2 -c8 -d5s`` on the ceiling route and on each path, printing req/s, p50,
    p99 and the ratio to the ceiling.

Not part of the test run; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.generate import DEFAULT_BASE
from loader.base.settings import load_settings
from loader.catalogue import Catalogue

REPO = Path(__file__).resolve().parent.parent


def _open(args: argparse.Namespace) -> Catalogue:
    return Catalogue.open(
        load_settings(overrides={"DATA_DIR": args.data_dir, "BASE_URL": args.base_url})
    )


def _percentiles(samples: Sequence[float]) -> str:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return (
        f"n={len(ordered)} p50={pick(0.5):.2f} ms p95={pick(0.95):.2f} ms "
        f"p99={pick(0.99):.2f} ms max={pick(1.0):.2f} ms "
        f"mean={statistics.fmean(ordered) * 1000:.2f} ms"
    )


def _time(calls: Sequence[Callable[[], object]]) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def index_command(args: argparse.Namespace) -> None:
    """Build or catch up the page index, timed."""
    with _open(args) as cat:
        started = time.perf_counter()
        count = cat.page_index.catch_up()
        print(f"page index: {count:,} entities indexed in {time.perf_counter() - started:.1f} s")


def search_command(args: argparse.Namespace) -> None:
    """Search, backlink and browse latency in process."""
    from loader.discovery import browse
    from loader.discovery.search import search

    with _open(args) as cat:
        index = cat.page_index
        started = time.perf_counter()
        index.catch_up()
        print(f"catch-up before measuring: {time.perf_counter() - started:.1f} s")
        rng = random.Random(1)
        labels = [
            row[0]
            for row in index.db.execute(
                "SELECT text FROM name WHERE kind = 0 ORDER BY random() LIMIT ?", (args.queries,)
            )
        ]
        words = [w for text in labels for w in re.findall(r"\w{4,}", text)]
        kinds: dict[str, list[str]] = {
            "whole word": [rng.choice(words) for _ in range(args.queries)],
            "3-letter prefix": [rng.choice(words)[:3] for _ in range(args.queries)],
            "two-word prefix": [
                " ".join(
                    w[:4]
                    for w in rng.choice(
                        [t for t in labels if len(t.split()) > 1] or labels
                    ).split()[:2]
                )
                for _ in range(args.queries)
            ],
            "exact label": [rng.choice(labels) for _ in range(args.queries)],
            "one letter (worst case)": [rng.choice("aeiost") for _ in range(50)],
        }
        for _ in range(20):  # warm-up
            search(index, rng.choice(words))
        for kind, queries in kinds.items():
            samples = _time([lambda q=q: search(index, q, limit=20) for q in queries])
            print(f"search, {kind}: {_percentiles(samples)}")
        samples = _time(
            [
                lambda q=q: search(index, q, classes=["Q2", "Q11"], limit=20)
                for q in kinds["whole word"][:200]
            ]
        )
        print(f"search with type filter (people): {_percentiles(samples)}")
        deep = [
            lambda q=q: search(index, q, limit=20, offset=200)
            for q in kinds["3-letter prefix"][:200]
        ]
        print(f"search, page 11 of a prefix: {_percentiles(_time(deep))}")

        row = index.db.execute(
            "SELECT target, count(*) AS n FROM link GROUP BY target ORDER BY n DESC LIMIT 1"
        ).fetchone()
        from loader.storage.page_index import entity_id

        target, total = entity_id(row[0]), int(row[1])
        last = (total - 1) // 50 * 50
        for name, offset in (("first", 0), ("last", last)):
            samples = _time(
                [
                    lambda o=offset: (index.backlink_count(target), index.backlinks(target, 50, o))
                    for _ in range(50)
                ]
            )
            print(
                f"what links here, {target} ({total:,} links), {name} page: {_percentiles(samples)}"
            )

        biggest = browse.class_counts(index)[0][0]
        classes = browse.subclasses(index, biggest)
        facets = browse.facet_properties(index, classes)
        samples = _time(
            [
                lambda p=p: browse.listing(index, classes, {}, facets, limit=50, offset=p * 50)
                for p in range(10)
            ]
        )
        print(
            f"browse {biggest} with {len(facets)} facets, pages 1-10 (the first computes the "
            f"facet counts, the rest reuse them): {_percentiles(samples)}"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wrk(url: str, duration: int) -> tuple[float, str, str]:
    done = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+(\S+)", done.stdout)
    p99 = re.search(r"99%\s+(\S+)", done.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if non2xx:
        print(f"  warning: {non2xx.group(1)} non-2xx responses from {url}", file=sys.stderr)
    return rate, p50.group(1) if p50 else "?", p99.group(1) if p99 else "?"


def http_command(args: argparse.Namespace) -> None:
    """wrk against ``bigtent serve``: the ceiling route, then each page."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        BIGTENT_DATA_DIR=args.data_dir,
        BIGTENT_BASE_URL=args.base_url,
        BIGTENT_PORT=str(port),
        PYTHONPATH=str(REPO),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        subprocess.run(["curl", "-s", "-o", "/dev/null", base + args.ceiling], check=False)
        for path in args.path:  # warm the page cache and the index
            subprocess.run(["curl", "-s", "-o", "/dev/null", base + path], check=False)
        for _ in range(args.repeat):
            ceiling = _wrk(base + args.ceiling, args.duration)
            print(f"{args.ceiling}: {ceiling[0]:.0f} req/s, p50 {ceiling[1]}, p99 {ceiling[2]}")
            for path in args.path:
                rate, p50, p99 = _wrk(base + path, args.duration)
                print(
                    f"{path}: {rate:.0f} req/s, p50 {p50}, p99 {p99}, ratio {rate / ceiling[0]:.2f}"
                )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one page benchmark."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.pages", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("index", "search", "http"):
        command = sub.add_parser(name)
        command.add_argument("--data-dir", required=True)
        command.add_argument("--base-url", default=DEFAULT_BASE, help="the catalogue's BASE_URL")
    sub.choices["search"].add_argument("--queries", type=int, default=500)
    http = sub.choices["http"]
    http.add_argument("--ceiling", default="/health", help="trivial route to compare with")
    http.add_argument("--path", action="append", default=None, help="page to measure (repeatable)")
    http.add_argument("--duration", type=int, default=5)
    http.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "http" and not args.path:
        args.path = ["/page/Q1208"]
    {"index": index_command, "search": search_command, "http": http_command}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
