"""HTTP benchmark: the production server under concurrent load, against its own ceiling.

``python -m bench.http [--records 100k] [--duration 10] [--connections 16] [--rounds 3]``

For each size:

1. a catalogue of generated records (``bench.generate`` + ``bigtent ontology`` +
   ``bigtent load``), cached in ``bench/out/`` and keyed by size, seed, base and the
   generator's version;
2. ``bigtent dump`` of it, timed (target: under 30 s);
3. ``bigtent serve`` (waitress, ``webapp/server.py``) on a free port, its memory sampled
   throughout;
4. ``wrk`` against every scenario of :data:`SCENARIOS` (``/health``, the ceiling; entity pages;
   data documents; a SPARQL lookup mix; the network view's data), each entity scenario over
   the whole entity set and over a hot set of 1,000 entities, in rounds that visit the
   scenarios in a rotating order, so each ratio to ``/health`` compares runs made minutes
   apart at most;
5. per-query latency of the SPARQL lookups and of ``sparql/examples/*.rq`` through
   ``/sparql``, alternating each request with the same query run in-process on the same
   store (``bench.sparql_direct``): with the endpoint's own query code (the endpoint's
   overhead) and with pyoxigraph alone (the cost of Bigtent's query layer).

A route that the running code does not have is reported as ``n/a (route missing: 404)``.
Prints Markdown tables and writes ``bench/out/http-<size>.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from bench import after_edit, run
from bench import generate as gen
from bench.tables import fmt, markdown_table, ratio_check, verdict
from tests.live_server import free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUT = HERE / "out"
LUA_SCRIPT = HERE / "wrk" / "paths.lua"
EXAMPLES_DIR = REPO / "sparql" / "examples"
#: Bump when the way this harness builds its catalogue changes (the cache key has it).
CATALOGUE_VERSION = 1

TARGET_DUMP_S = 30.0
TARGET_OVERHEAD = 0.20  # endpoint vs in-process, for queries slower than:
OVERHEAD_FROM_MS = 10.0
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
JSON_RESULTS = "application/sparql-results+json"
SPARQL_ACCEPT = f"{JSON_RESULTS}, application/n-triples;q=0.9, text/turtle;q=0.8"
#: Server settings for a load test, applied where this code has them: every wrk connection
#: comes from one client (same address and User-Agent), which the SPARQL endpoint's
#: per-client limits would otherwise answer with 429; and no dumps are written in the
#: background (a fresh catalogue's first dumps take a core for ≈20 s at 100k, which would
#: land on whichever scenarios run first; step 2 times them on their own).
LOAD_TEST_SETTINGS = {
    "SPARQL_CLIENT_PARALLEL": "0",
    "SPARQL_CLIENT_BUDGET": "0",
    "DUMP_INTERVAL": "0",
}
PROBE_TIMEOUT_S = 900
#: Peak RSS of the serving process at 100k records, query workers apart (issue 15).
TARGET_SERVER_MB = 1000
#: The server counts as idle below this share of one core (see Server.wait_until_idle).
IDLE_CORES = 0.15
#: Faceted browse requests in turn: 7 activity types x 2 pages, 4 territories.
BROWSE_VARIANTS = 18

Result = dict[str, Any]


# --- what is measured -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Scenario:
    """One kind of request. ``paths`` are candidates: the first that answers 200 is measured.

    In a path, ``{id}`` becomes an entity id and ``{lookup}`` a URL-encoded query of
    :data:`LOOKUPS`. ``target`` is the minimum ratio of requests/s to ``/health``.
    """

    name: str
    paths: tuple[str, ...]
    target: float | None = None
    accept: str = ""
    per_entity: bool = True  # measured over the whole set and over the hot set
    variants: int = 1  # distinct paths when not per entity


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("/health (ceiling)", ("/health",), per_entity=False),
    Scenario("HTML entity page", ("/page/{id}", "/entity/{id}"), 0.50, "text/html"),
    Scenario("data document .ttl", ("/data/{id}.ttl",), 0.70),
    Scenario("data document .nt", ("/data/{id}.nt",), 0.70),
    Scenario("data document .jsonld", ("/data/{id}.jsonld",), 0.70),
    Scenario("search (one label word)", ("/search?q={word}",), 0.40, "text/html"),
    Scenario(
        "browse with facets",
        ("/browse/{browse}",),
        0.40,
        "text/html",
        per_entity=False,
        variants=BROWSE_VARIANTS,
    ),
    Scenario("SPARQL lookup mix", ("/sparql?query={lookup}",), 0.50, JSON_RESULTS),
    Scenario(
        "capacity matching (3 criteria)",
        ("/api/peers?{peers}",),
        0.30,
        "application/json",
        per_entity=False,
        variants=168,
    ),
    # The network view's data: at 100k records, the 1,000 organisations in the most
    # partnerships (NETWORK_MAX_ORGANISATIONS) with their partnerships and networks.
    Scenario("network view data", ("/network.json",), 0.30, "application/json", per_entity=False),
)
#: Why a fallback path stands in for the scenario's real route.
STAND_INS = {
    "/entity/{id}": (
        "`/entity/<id>` (the entity page from before issue 3) stands in for `/page/<id>`, "
        "which this code does not have"
    ),
}

#: The SPARQL lookup mix, one query per entity in turn. ``$entity`` is the entity's IRI and
#: ``$label`` its English label, both written as SPARQL terms by pyoxigraph.
LOOKUPS: dict[str, str] = {
    "lookup: entity by IRI": "SELECT ?p ?o WHERE { $entity ?p ?o }",
    "lookup: entity by label": f"SELECT ?item WHERE {{ ?item <{RDFS_LABEL}> $label }}",
    "lookup: one-hop join": (
        f"SELECT ?p ?o ?label WHERE {{ $entity ?p ?o . ?o <{RDFS_LABEL}> ?label "
        'FILTER(LANG(?label) = "en") }'
    ),
}


@dataclasses.dataclass(frozen=True)
class Entity:
    """A generated entity: its id and English label."""

    qid: str
    label: str


def lookup_query(kind: str, entity: Entity, base: str) -> str:
    """The ``kind`` lookup of :data:`LOOKUPS` for ``entity``."""
    return string.Template(LOOKUPS[kind]).substitute(
        entity=str(ox.NamedNode(f"{base}entity/{entity.qid}")),
        label=str(ox.Literal(entity.label, language="en")),
    )


def peers_query(index: int) -> str:
    """The ``index``-th capacity matching request: three criteria, a root capacity (so
    every capacity below it too), a language and a modality of the generator's
    vocabularies; 7 x 4 x 6 = 168 combinations in turn."""
    roots, languages, modalities = gen.CAPACITY_ROOTS, gen.LANGUAGES[:4], gen.MODALITIES
    root = roots[index % len(roots)]
    language = languages[index // len(roots) % len(languages)]
    modality = modalities[index // (len(roots) * len(languages)) % len(modalities)]
    return urlencode(
        {"capacity": f"Q{root}", "language": f"Q{language}", "modality": f"Q{modality}"}
    )


def browse_query(index: int) -> str:
    """The ``index``-th of :data:`BROWSE_VARIANTS` faceted browse requests: partnerships
    of one activity type (pages 1 and 2), then organisations located in one of the first
    four territories (every generated catalogue has at least four)."""
    index %= BROWSE_VARIANTS
    activities = gen.ACTIVITY_TYPES
    if index < 2 * len(activities):
        args = {
            "P7": f"Q{activities[index % len(activities)]}",
            "page": index // len(activities) + 1,
        }
        return f"Q{gen.CLASS_PARTNERSHIP}?{urlencode(args)}"
    territory = gen.FIRST_ID + index % 4
    return f"Q{gen.CLASS_ORGANISATION}?{urlencode({'P12': f'Q{territory}'})}"


def request_path(template: str, index: int, entity: Entity, base: str) -> str:
    """A scenario's path for one entity; the ``index``-th entity of a set gets the
    ``index``-th lookup kind (or capacity matching request), so the mix is even. A
    search looks for the first word of the entity's English label."""
    if "{peers}" in template:
        return template.replace("{peers}", peers_query(index))
    if "{browse}" in template:
        return template.replace("{browse}", browse_query(index))
    if "{word}" in template:
        return template.replace("{word}", quote(entity.label.split()[0] if entity.label else ""))
    if "{lookup}" in template:
        kinds = list(LOOKUPS)
        query = lookup_query(kinds[index % len(kinds)], entity, base)
        return template.replace("{lookup}", quote(query, safe=""))
    return template.replace("{id}", entity.qid)


def example_queries(directory: Path = EXAMPLES_DIR) -> dict[str, str]:
    """``sparql/examples/*.rq`` by file name (none yet is fine)."""
    return {
        f"example: {p.stem}": p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.rq"))
    }


# --- wrk --------------------------------------------------------------------------------------
WRK_MISSING = (
    "bench.http needs wrk (the HTTP load generator, Debian package 'wrk'), which is not on "
    "PATH. Install it with `scripts/bootstrap bench` (runs apt-get as root or through sudo) "
    "or `sudo apt-get install wrk`."
)


@dataclasses.dataclass(frozen=True)
class WrkStats:
    """One wrk run, from the ``@@wrk-json`` line that bench/wrk/paths.lua prints."""

    requests: int
    duration_s: float
    bytes: int
    errors: dict[str, int]
    latency_ms: dict[str, float]
    non_2xx_3xx: int  # from wrk's text summary
    text_requests_per_s: float | None  # wrk's own "Requests/sec", as a cross-check
    statuses: dict[str, int]  # responses per HTTP status (census runs only)

    @property
    def requests_per_s(self) -> float:
        """Completed requests per second of the run, whatever their status."""
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def ok_requests_per_s(self) -> float:
        """Requests answered with a status below 400, per second."""
        ok = self.requests - self.errors.get("status", 0)
        return ok / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        """Socket errors, timeouts and HTTP 4xx/5xx answers."""
        return sum(self.errors.values())


def parse_wrk(text: str) -> WrkStats:
    """Parse the output of ``wrk --latency -s bench/wrk/paths.lua``."""
    found = re.search(r"^@@wrk-json (\{.*\})\s*$", text, re.MULTILINE)
    if found is None:
        raise ValueError("no '@@wrk-json' line in wrk's output: was it run with paths.lua?")
    data = json.loads(found.group(1))
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return WrkStats(
        requests=int(data["requests"]),
        duration_s=data["duration_us"] / 1e6,
        bytes=int(data["bytes"]),
        errors={k: int(v) for k, v in data["errors"].items()},
        latency_ms={k: v / 1000 for k, v in data["latency_us"].items()},
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        text_requests_per_s=float(rps.group(1)) if rps else None,
        statuses={str(k): int(v) for k, v in data.get("statuses", {}).items()},
    )


def wrk_command(
    url: str, paths_file: Path, accept: str, args: argparse.Namespace, seconds: float, seed: int
) -> list[str]:
    """The wrk command line for one run."""
    threads = max(1, min(args.threads, args.connections))
    return [
        "wrk",
        f"-t{threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        str(paths_file),
        accept,
        str(seed),
    ]


def run_wrk(cmd: Sequence[str], seconds: float, census: bool = False) -> tuple[WrkStats, str]:
    """Run wrk; its parsed figures and its raw output. ``census``: count the responses
    per HTTP status too (slower for wrk, so never in a measured run)."""
    env = {**os.environ, "WRK_COUNT_STATUSES": "1" if census else "0"}
    done = subprocess.run(
        list(cmd), capture_output=True, text=True, timeout=seconds + 120, check=False, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk(done.stdout), done.stdout


# --- the catalogue ------------------------------------------------------------------------
def command_env(data_dir: Path, base: str, **settings: str) -> dict[str, str]:
    """Environment for a ``bigtent`` command on ``data_dir`` (other BIGTENT_* apply)."""
    env = dict(os.environ)
    env.update(BIGTENT_DATA_DIR=str(data_dir), BIGTENT_BASE_URL=base, PYTHONPATH=str(REPO))
    env.update({f"BIGTENT_{k}": v for k, v in settings.items()})
    return env


def bigtent_command(*args: str) -> list[str]:
    """``bigtent ARGS`` with the running interpreter."""
    return [sys.executable, "-m", "webapp.cli", *args]


def timed_command(cmd: Sequence[str], env: dict[str, str], log: Path) -> Result:
    """Run a command (output to ``log``); wall seconds, exit code and its own peak RSS."""
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": seconds,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "exit": proc.returncode,
        "maxrss_kb": int(usage.ru_maxrss),
    }


def entity_labels(nt_path: Path, base: str) -> dict[str, str]:
    """English label of every generated entity (every record has exactly one)."""
    prefix = f"{base}entity/"
    labels: dict[str, str] = {}
    for triple in ox.parse(path=str(nt_path), format=ox.RdfFormat.N_TRIPLES):
        if (
            triple.predicate.value == RDFS_LABEL
            and isinstance(triple.object, ox.Literal)
            and triple.object.language == "en"
            and triple.subject.value.startswith(prefix)
        ):
            labels[triple.subject.value.removeprefix(prefix)] = triple.object.value
    return labels


def catalogue(records: int, args: argparse.Namespace, out_dir: Path) -> Result:
    """The catalogue for ``records`` records: built once, then reused from the cache."""
    inp = run.cached_input(records, "nt", args.seed, args.base, out_dir)
    suffix = "" if args.seed == 1 else f"-s{args.seed}"
    root = out_dir / (
        f"http-catalogue-{run.size_label(records)}{suffix}"
        f"-g{gen.GENERATOR_VERSION}-c{CATALOGUE_VERSION}"
    )
    meta_path = root / "catalogue.json"
    want = {
        "records": records,
        "seed": args.seed,
        "base": args.base,
        "generator_version": gen.GENERATOR_VERSION,
        "catalogue_version": CATALOGUE_VERSION,
        "input_bytes": inp["bytes"],
        "ontology": ontology_digest(),
    }
    if meta_path.exists() and not args.rebuild:
        meta: Result = json.loads(meta_path.read_text(encoding="utf-8"))
        if all(meta.get(k) == v for k, v in want.items()) and (root / "data" / "store").exists():
            print(f"reusing the catalogue in {root} (built at {meta['commit']})", file=sys.stderr)
            return {**meta, "root": str(root), "cached": True}
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    env = command_env(root / "data", args.base)
    print(f"building a {records}-record catalogue in {root}", file=sys.stderr)
    ontology = timed_command(bigtent_command("ontology"), env, root / "ontology.log")
    load = timed_command(
        bigtent_command("load", "--json", "--no-progress", inp["path"]), env, root / "load.log"
    )
    if ontology["exit"] or load["exit"]:
        raise RuntimeError(f"building the catalogue failed; see {root}/ontology.log, load.log")
    labels = entity_labels(Path(inp["path"]), args.base)
    (root / "entities.json").write_text(json.dumps(labels), encoding="utf-8")
    meta = {
        **want,
        "input": inp["path"],
        "entities": len(labels),
        "ontology_s": ontology["seconds"],
        "load_s": load["seconds"],
        "load_peak_rss_mb": load["maxrss_kb"] / 1024,
        "commit": git_commit(),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return {**meta, "root": str(root), "cached": False}


def ontology_digest() -> str:
    """A digest of ontology/ (its items and properties are loaded into every catalogue)."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "ontology").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(REPO).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def git_commit() -> str:
    """The checked-out commit (and ``+dirty`` when the tree has changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + ("+dirty" if dirty else "")


def measure_dump(data_dir: Path, base: str, work: Path) -> Result:
    """``bigtent dump`` of the whole catalogue, timed as an operator sees it."""
    out = work / "dump"
    shutil.rmtree(out, ignore_errors=True)
    print("timing bigtent dump", file=sys.stderr)
    done = timed_command(
        bigtent_command("dump", "--out", str(out)), command_env(data_dir, base), work / "dump.log"
    )
    files = {p.name: p.stat().st_size for p in sorted(out.glob("*"))} if out.exists() else {}
    shutil.rmtree(out, ignore_errors=True)
    if done["exit"]:
        log = (work / "dump.log").read_text(encoding="utf-8", errors="replace")
        return {**done, "files": files, "error": log[-2000:]}
    return {**done, "files": files, "peak_rss_mb": done["maxrss_kb"] / 1024}


# --- the server -----------------------------------------------------------------------------
def vm_hwm_kb(pid: int) -> int:
    """Peak resident set size of a live process (``VmHWM``), in KiB; 0 when gone."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Server:
    """``bigtent serve`` on a free loopback port, its memory sampled until it stops."""

    def __init__(self, data_dir: Path, base: str, work: Path, threads: int | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        from loader.base.settings import SETTINGS

        known = {s.name for s in SETTINGS}
        settings = {k: v for k, v in LOAD_TEST_SETTINGS.items() if k in known}
        settings.update(HOST="127.0.0.1", PORT=str(self.port))
        self.settings = dict(settings)
        if threads:
            settings["SERVER_THREADS"] = str(threads)
        self.log = work / "server.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                bigtent_command("serve"),
                cwd=REPO,
                env=command_env(data_dir, base, **settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.sampler = run.TreeSampler(self.process.pid)
        self.sampler.start()
        self.hwm_kb: dict[int, int] = {}

    def wait_until_ready(self, timeout: float = 120) -> None:
        """Poll ``/health`` until it answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_get(self.port, "/health", "text/plain")[0] == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"bigtent serve did not start:\n{self.log.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its live children."""
        total = 0.0
        for pid in run.descendants(self.process.pid):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def wait_until_idle(
        self, below: float = IDLE_CORES, quiet_s: int = 3, timeout: float = 900
    ) -> float:
        """Wait until the server uses less than ``below`` of a core for ``quiet_s`` seconds
        in a row (the catalogue-wide views it computes after starting: about two minutes
        at 1M records, which would otherwise land on the first scenarios, the ceiling
        among them); the seconds waited."""
        started = time.monotonic()
        quiet, used = 0, self.cpu_seconds()
        while quiet < quiet_s and time.monotonic() - started < timeout:
            time.sleep(1)
            now = self.cpu_seconds()
            quiet = quiet + 1 if now - used < below else 0
            used = now
        return time.monotonic() - started

    def stop(self) -> None:
        """Record each process's peak memory, then SIGTERM (SIGKILL if it lingers)."""
        for pid in run.descendants(self.process.pid):
            self.hwm_kb[pid] = vm_hwm_kb(pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.sampler.stop.set()
        self.sampler.join()

    def exit_reason(self) -> str | None:
        """None while the server runs; else how it ended (a signal hints at an outside kill)."""
        code = self.process.poll()
        if code is None:
            return None
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def memory(self) -> Result:
        """Peak memory: sampled sum over the process tree, each process's VmHWM, and the
        serving process's own (its query workers are counted apart)."""
        return {
            "tree_peak_mb": self.sampler.peak_kb / 1024,
            "vm_hwm_mb": {str(pid): kb / 1024 for pid, kb in self.hwm_kb.items()},
            "server_mb": self.hwm_kb.get(self.process.pid, 0) / 1024,
            "peak_mb": max([self.sampler.peak_kb, *self.hwm_kb.values()]) / 1024,
        }


def http_get(port: int, path: str, accept: str, timeout: float = 60) -> tuple[int, bytes]:
    """One GET on a fresh connection, redirects not followed: status and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": accept or "*/*"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclasses.dataclass(frozen=True)
class Answer:
    """One timed HTTP exchange."""

    status: int
    size: int
    ms: float
    headers: dict[str, str]
    error: str = ""  # the error's title and message (JSON error bodies), for failures

    @property
    def reason(self) -> str:
        """``route missing: 404`` or ``HTTP 503: Query timeout ...``."""
        if self.status == 404 and not self.error:
            return "route missing: 404"
        return f"HTTP {self.status}" + (f": {self.error}" if self.error else "")


def error_text(body: bytes) -> str:
    """Title and message of a Bigtent JSON error body (else nothing)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return f"{data.get('title', '')}: {data.get('error', '')}"[:160]


class KeepAliveClient:
    """Sequential requests over one kept-alive connection (reopened when the server
    closes it); times each request from sending it to the last byte of the body."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, headers: dict[str, str], body: str | None = None
    ) -> Answer:
        """Send one request and read the whole answer."""
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            try:
                started = time.perf_counter()
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                elapsed = (time.perf_counter() - started) * 1000
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            error = error_text(data) if response.status >= 400 else ""
            return Answer(response.status, len(data), elapsed, dict(response.getheaders()), error)
        raise AssertionError("unreachable")

    def sparql(self, query: str) -> Answer:
        """The query through ``/sparql`` as a POST form (the endpoint keeps GET answers
        until the catalogue changes, and this measures running the query); SELECT and ASK
        results as SPARQL JSON, graphs as N-Triples (the endpoint picks by the form)."""
        headers = {"Accept": SPARQL_ACCEPT, "Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", "/sparql", headers, urlencode({"query": query}))

    def close(self) -> None:
        """Drop the connection."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class DirectRunner:
    """``bench.sparql_direct`` in a child process: the in-process references (the
    endpoint's query code, and pyoxigraph alone), with the server's settings in ``env``."""

    def __init__(self, store_dir: Path, base: str, env: dict[str, str], nice: int = 0) -> None:
        command = ["nice", "-n", str(nice), sys.executable, "-m", "bench.sparql_direct"]
        self.process = subprocess.Popen(
            [*command, str(store_dir), base],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()  # the "ready" line

    def _read(self) -> Result:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("bench.sparql_direct stopped; see its traceback above")
        answer: Result = json.loads(line)
        return answer

    def run(self, query: str) -> Result:
        """Run one query in the child: ``{"form", "ms", "bytes", "engine_ms",
        "engine_bytes"}`` or ``{"error"}``."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"query": query}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        """End the child."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- measuring ----------------------------------------------------------------------------
def percentiles(samples: Sequence[float]) -> Result:
    """n, p50, p99 and mean of millisecond samples (nearest rank)."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "mean_ms": statistics.fmean(ordered),
    }


@dataclasses.dataclass
class Plan:
    """A scenario on one entity set, after probing: what to run, or why not."""

    scenario: Scenario
    entity_set: str  # "all", "hot" or "–"
    path: str | None = None
    paths_file: Path | None = None
    unavailable: str | None = None
    runs: list[Result] = dataclasses.field(default_factory=list)
    census: dict[str, int] = dataclasses.field(default_factory=dict)
    idle_wait_s: list[float] = dataclasses.field(default_factory=list)  # before each run
    primed_s: list[float] = dataclasses.field(default_factory=list)  # hot set: see prime()

    @property
    def key(self) -> str:
        """Unique name of this row."""
        return f"{self.scenario.name} [{self.entity_set}]"


def plan_scenarios(
    port: int,
    base: str,
    sets: dict[str, list[Entity]],
    selected: Sequence[Scenario],
    work: Path,
) -> list[Plan]:
    """Probe each scenario's candidate paths; write the request files of those that answer."""
    plans: list[Plan] = []
    for number, scenario in enumerate(selected):
        chosen, statuses = None, []
        probe_entity = sets["all"][0]
        for template in scenario.paths:
            # Generous: a first request may build a derived index or fill a cache.
            path = request_path(template, 0, probe_entity, base)
            status, _ = http_get(port, path, scenario.accept, timeout=PROBE_TIMEOUT_S)
            statuses.append(status)
            if status == 200:
                chosen = template
                break
        names = list(sets) if scenario.per_entity else ["–"]
        for name in names:
            plan = Plan(scenario, name, chosen)
            if chosen is None:
                reason = "route missing: 404" if 404 in statuses else f"HTTP {statuses[-1]}"
                plan.unavailable = f"n/a ({reason})"
            else:
                entities = sets[name] if scenario.per_entity else sets["all"][: scenario.variants]
                plan.paths_file = work / f"paths-{number}-{name if name != '–' else 'none'}.txt"
                with plan.paths_file.open("w", encoding="utf-8") as fh:
                    for i, entity in enumerate(entities):
                        fh.write(request_path(chosen, i, entity, base) + "\n")
            plans.append(plan)
    return plans


def rotated(items: Sequence[Plan], shift: int) -> list[Plan]:
    """``items`` starting at position ``shift`` (so no scenario always follows the same)."""
    if not items:
        return []
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def prime(port: int, plan: Plan) -> float:
    """Request every path of a hot-set plan once, in order, on one connection; the
    seconds it took. Run just before the plan's measured run: the runs over all
    entities in between push the hot set out of the server's caches (2,000 pages), and
    its first visits then made most of a "hot" run's time."""
    assert plan.paths_file is not None
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT_S)
    try:
        for path in plan.paths_file.read_text(encoding="utf-8").splitlines():
            conn.request("GET", path, headers={"Accept": plan.scenario.accept or "*/*"})
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT_S)
    finally:
        conn.close()
    return time.perf_counter() - started


def measure_throughput(plans: Sequence[Plan], server: Server, args: argparse.Namespace) -> None:
    """Warm every runnable plan up, then run them in rotating rounds; fills ``plan.runs``.

    Each measured run starts once the server is idle: requests still in flight when wrk
    stops go on in the server (at 1M records, 16 cold ``/network.json`` answers took a
    minute of CPU), and would otherwise be measured with the next scenario."""
    url = server.url + "/"
    runnable = [p for p in plans if p.paths_file is not None]
    if args.warmup > 0:
        for plan in runnable:
            assert plan.paths_file is not None
            print(f"warm-up {plan.key}", file=sys.stderr)
            cmd = wrk_command(url, plan.paths_file, plan.scenario.accept, args, args.warmup, 0)
            run_wrk(cmd, args.warmup)
    for round_number in range(args.rounds):
        for plan in rotated(runnable, round_number):
            assert plan.paths_file is not None
            print(f"round {round_number + 1}/{args.rounds}: {plan.key}", file=sys.stderr)
            if plan.entity_set == "hot":
                plan.primed_s.append(prime(server.port, plan))
            plan.idle_wait_s.append(server.wait_until_idle(quiet_s=1))
            seed = args.seed * 100 + round_number + 1
            cmd = wrk_command(url, plan.paths_file, plan.scenario.accept, args, args.duration, seed)
            stats, output = run_wrk(cmd, args.duration)
            plan.runs.append(
                {
                    "round": round_number,
                    "requests_per_s": stats.requests_per_s,
                    "ok_requests_per_s": stats.ok_requests_per_s,
                    **dataclasses.asdict(stats),
                    "wrk_output": output,
                }
            )
    # Which statuses the failures were: a short extra run that counts them.
    for plan in runnable:
        if plan.paths_file is not None and any(r["errors"]["status"] for r in plan.runs):
            print(f"status census {plan.key}", file=sys.stderr)
            seconds = min(args.duration, 3)
            cmd = wrk_command(url, plan.paths_file, plan.scenario.accept, args, seconds, 0)
            plan.census = run_wrk(cmd, seconds, census=True)[0].statuses


def summarise_throughput(plans: Sequence[Plan]) -> list[Result]:
    """One row per plan: medians over rounds; ratio = median of per-round ratios."""
    ceiling = next((p for p in plans if p.scenario.target is None and p.runs), None)
    ceiling_by_round = {r["round"]: r["ok_requests_per_s"] for r in ceiling.runs} if ceiling else {}
    rows = []
    for plan in plans:
        row: Result = {
            "scenario": plan.scenario.name,
            "entity_set": plan.entity_set,
            "path": plan.path,
            "note": STAND_INS.get(plan.path or "", ""),
            "target_ratio": plan.scenario.target,
        }
        if plan.unavailable or not plan.runs:
            rows.append({**row, "unavailable": plan.unavailable or "not run"})
            continue
        ratios = [
            r["ok_requests_per_s"] / ceiling_by_round[r["round"]]
            for r in plan.runs
            if ceiling_by_round.get(r["round"])
        ]
        errors = sum(r["errors"]["status"] + r["errors"]["timeout"] for r in plan.runs)
        errors += sum(r["errors"][k] for r in plan.runs for k in ("connect", "read", "write"))
        requests = sum(r["requests"] for r in plan.runs)
        row.update(
            requests_per_s=statistics.median(r["ok_requests_per_s"] for r in plan.runs),
            all_requests_per_s=statistics.median(r["requests_per_s"] for r in plan.runs),
            requests=requests,
            census=plan.census,
            idle_wait_s=plan.idle_wait_s,
            primed_s=plan.primed_s,
            p50_ms=statistics.median(r["latency_ms"]["p50"] for r in plan.runs),
            p99_ms=statistics.median(r["latency_ms"]["p99"] for r in plan.runs),
            bytes_per_response=sum(r["bytes"] for r in plan.runs) / max(1, requests),
            ratio=statistics.median(ratios) if ratios else None,
            round_ratios=ratios,
            errors=errors,
            runs=plan.runs,
        )
        rows.append(row)
    return rows


QueryMaker = Callable[[int], str]


def query_set(
    base: str, entities: Sequence[Entity], rng: random.Random
) -> Iterator[tuple[str, QueryMaker]]:
    """(name, sample number → query): the lookups (a random entity per sample), then the
    example queries (the same text every time)."""

    def cycle(queries: list[str]) -> QueryMaker:
        return lambda i: queries[i % len(queries)]

    for kind in LOOKUPS:
        yield kind, cycle([lookup_query(kind, rng.choice(entities), base) for _ in range(1000)])
    for name, text in example_queries().items():
        yield name, cycle([text])


def measure_queries(
    server: Server, data_dir: Path, base: str, entities: Sequence[Entity], args: argparse.Namespace
) -> list[Result]:
    """Per-query latency through /sparql and in-process, alternating request by request.

    The endpoint goes first: a query it refuses or stops (time limit) is not run in-process,
    where nothing could stop it."""
    client = KeepAliveClient(server.port)
    env = command_env(data_dir, base, **server.settings)
    direct = DirectRunner(data_dir / "store", base, env, args.direct_nice)
    rows: list[Result] = []
    endpoint_missing: str | None = None
    try:
        for name, make in query_set(base, entities, random.Random(args.seed)):
            row: Result = {"query": name}
            rows.append(row)
            if endpoint_missing:
                row["unavailable"] = endpoint_missing
                continue
            print(f"query latency: {name}", file=sys.stderr)
            try:
                endpoint_missing = measure_query(row, make, client, direct, args)
            except (OSError, http.client.HTTPException) as exc:
                gone = server.exit_reason() or f"{type(exc).__name__}: {exc}"
                endpoint_missing = row["unavailable"] = f"n/a (server gone: {gone})"
    finally:
        client.close()
        direct.close()
    return rows


def measure_query(
    row: Result,
    make: QueryMaker,
    client: KeepAliveClient,
    direct: DirectRunner,
    args: argparse.Namespace,
) -> str | None:
    """Fill ``row`` for one query; returns why no later query can run (endpoint missing)."""
    probe = client.sparql(make(0))
    if probe.status != 200:
        row["unavailable"] = f"n/a ({probe.reason})"
        return row["unavailable"] if probe.status == 404 else None
    first = direct.run(make(0))
    if "error" in first:
        row["unavailable"] = f"in-process error: {first['error'][:200]}"
        return None
    # As many samples as fit the time budget, within [min_samples, samples].
    estimate = max(first["ms"] + probe.ms, 0.1)
    n = int(min(args.samples, max(args.min_samples, args.query_budget * 1000 / estimate)))
    endpoint_ms: list[float] = []
    direct_ms: list[float] = []
    engine_ms: list[float] = []
    failures: list[str] = []
    for i in range(n):
        query = make(i + 1)
        order = ("endpoint", "direct") if i % 2 == 0 else ("direct", "endpoint")
        for side in order:
            if side == "direct":
                result = direct.run(query)
                if "error" in result:
                    raise RuntimeError(f"{row['query']}: {result['error']}")
                direct_ms.append(result["ms"])
                engine_ms.append(result["engine_ms"])
                continue
            answer = client.sparql(query)
            if answer.status == 200:
                endpoint_ms.append(answer.ms)
            else:
                failures.append(answer.reason)
    e, d, g = percentiles(endpoint_ms), percentiles(direct_ms), percentiles(engine_ms)
    row.update(
        form=first["form"],
        endpoint=e,
        direct=d,
        engine=g,
        direct_bytes=first["bytes"],
        engine_bytes=first["engine_bytes"],
        endpoint_bytes=probe.size,  # the same query as direct_bytes
        endpoint_truncated=probe.headers.get("Bigtent-Truncated"),
        failures=failures,
        overhead=(e["p50_ms"] / d["p50_ms"] - 1) if e["n"] and d["n"] else None,
        layer=(d["p50_ms"] / g["p50_ms"] - 1) if d["n"] and g["n"] else None,
    )
    return None


def measure_size(records: int, args: argparse.Namespace, out_dir: Path) -> Result:
    """Everything for one size; returns its results."""
    label = run.size_label(records)
    work = out_dir / "work" / f"http-{label}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cat = catalogue(records, args, out_dir)
    root = Path(cat["root"])
    data_dir = root / "data"
    labels: dict[str, str] = json.loads((root / "entities.json").read_text(encoding="utf-8"))
    everyone = [Entity(q, labels[q]) for q in sorted(labels, key=lambda q: int(q[1:]))]
    hot = random.Random(args.seed).sample(everyone, min(args.hot, len(everyone)))
    sets = {"all": everyone, "hot": hot}
    entry: Result = {
        "records": records,
        "label": label,
        "catalogue": cat,
        "entities": len(everyone),
        "hot_entities": len(hot),
    }
    load_before = os.getloadavg()[0]
    entry["dump"] = None if args.no_dump else measure_dump(data_dir, args.base, work)

    selected = [s for s in SCENARIOS if not args.scenarios or s.name in args.scenarios]
    server = Server(data_dir, args.base, work, args.server_threads)
    try:
        server.wait_until_ready()
        plans = plan_scenarios(server.port, args.base, sets, selected, work)
        entry["idle_wait_s"] = server.wait_until_idle()
        measure_throughput(plans, server, args)
        entry["throughput"] = summarise_throughput(plans)
        entry["queries"] = (
            [] if args.no_queries else measure_queries(server, data_dir, args.base, everyone, args)
        )
        entry["after_edit"] = []
        if not args.no_after_edit:
            try:
                entry["after_edit"] = after_edit.run(
                    bigtent_command(),
                    command_env(data_dir, args.base),
                    server.port,
                    [e.qid for e in everyone],
                )
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                # reported with the rest, never losing the measurements already made
                entry["after_edit_error"] = f"{type(exc).__name__}: {exc}"
                print(f"the first request after a save: {exc}", file=sys.stderr)
        entry["server_exit"] = server.exit_reason()  # None: it ran to the end
    finally:
        server.stop()
    entry["server_memory"] = server.memory()
    entry["server_settings"] = server.settings
    entry["load_average"] = [load_before, os.getloadavg()[0]]
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return entry


# --- output -------------------------------------------------------------------------------
THROUGHPUT_COLUMNS = (
    "scenario",
    "entities",
    "path",
    "requests/s",
    "p50 ms",
    "p99 ms",
    "ratio to /health",
    "target",
    "result",
)
QUERY_COLUMNS = (
    "query",
    "n",
    "endpoint p50 ms",
    "endpoint p99 ms",
    "in-process p50 ms",
    "in-process p99 ms",
    "overhead",
    "target",
    "result",
    "engine alone p50 ms",
    "query layer",
)


def throughput_cells(row: Result) -> list[str]:
    """One row of the throughput table."""
    target = row["target_ratio"]
    target_text = "ceiling" if target is None else f"≥ {target:.0%} of /health"
    name = row["scenario"] + (" *" if row.get("note") else "")
    path = f"`{row['path']}`" if row.get("path") else "–"
    if "unavailable" in row:
        return [
            name,
            row["entity_set"],
            path,
            row["unavailable"],
            "–",
            "–",
            "–",
            target_text,
            "n/a",
        ]
    result = "–" if target is None else ratio_check(row["ratio"], target).split()[0]
    if row["errors"]:
        result = f"FAIL ({row['errors'] / max(1, row['requests']):.0%} errors"
        census: dict[str, int] = row.get("census") or {}
        total = sum(census.values())
        failed = [f"HTTP {k} {n / total:.0%}" for k, n in sorted(census.items()) if int(k) >= 400]
        result += f"; census: {', '.join(failed)})" if failed else ")"
    return [
        name,
        row["entity_set"],
        path,
        fmt(row["requests_per_s"], ",.0f"),
        fmt(row["p50_ms"], ".2f"),
        fmt(row["p99_ms"], ".2f"),
        fmt(row["ratio"], ".2f"),
        target_text,
        result,
    ]


def query_cells(row: Result) -> list[str]:
    """One row of the per-query table."""
    if "unavailable" in row:
        return [row["query"], "–", row["unavailable"], *["–"] * 5, "n/a", "–", "–"]
    e, d, g = row["endpoint"], row["direct"], row.get("engine", {})
    overhead = row["overhead"]
    applies = d.get("p50_ms", 0.0) > OVERHEAD_FROM_MS
    target = f"< {TARGET_OVERHEAD:.0%}" if applies else f"none (≤ {OVERHEAD_FROM_MS:.0f} ms)"
    result = verdict(overhead is not None and overhead < TARGET_OVERHEAD) if applies else "–"
    if row["failures"]:
        result = f"FAIL ({len(row['failures'])} × {row['failures'][0]})"
    elif row.get("endpoint_bytes") != row.get("direct_bytes"):
        result += f" (answers differ: {row['endpoint_bytes']} vs {row['direct_bytes']} bytes)"
    layer = row.get("layer")
    return [
        row["query"],
        str(e["n"]),
        fmt(e.get("p50_ms"), ".2f"),
        fmt(e.get("p99_ms"), ".2f"),
        fmt(d.get("p50_ms"), ".2f"),
        fmt(d.get("p99_ms"), ".2f"),
        "–" if overhead is None else f"{e['p50_ms'] - d['p50_ms']:+.2f} ms ({overhead:+.0%})",
        target,
        result,
        fmt(g.get("p50_ms"), ".2f"),
        "–" if layer is None else f"{d['p50_ms'] - g['p50_ms']:+.2f} ms ({layer:+.0%})",
    ]


def other_cells(entry: Result) -> list[list[str]]:
    """Rows of the resources table: server memory and the dump."""
    memory = entry.get("server_memory", {})
    serving = memory.get("server_mb")
    judged = entry.get("label") == "100k" and serving
    rows = [
        [
            "serving process peak RSS (VmHWM; query workers apart)",
            fmt(serving, ",.0f") + " MB",
            f"< {TARGET_SERVER_MB:,} MB at 100k",
            ("PASS" if serving < TARGET_SERVER_MB else "FAIL") if judged else "–",
        ],
        [
            "peak RSS of the server with its query workers",
            fmt(memory.get("peak_mb"), ",.0f") + " MB",
            "–",
            "–",
        ],
    ]
    dump = entry.get("dump")
    if dump is None:
        rows.append(["full dump (`bigtent dump`)", "not measured (--no-dump)", "< 30 s", "n/a"])
    elif "error" in dump:
        rows.append(
            ["full dump (`bigtent dump`)", f"failed (exit {dump['exit']})", "< 30 s", "FAIL"]
        )
    else:
        size_mb = sum(dump["files"].values()) / 1e6
        rows.append(
            [
                f"full dump (`bigtent dump`: {len(dump['files'])} files, {size_mb:,.0f} MB; "
                f"CPU {dump['cpu_s']:.1f} s; peak RSS {dump['peak_rss_mb']:,.0f} MB)",
                f"{dump['seconds']:.1f} s",
                f"< {TARGET_DUMP_S:.0f} s",
                verdict(dump["seconds"] < TARGET_DUMP_S),
            ]
        )
    return rows


def markdown(results: Result) -> str:
    """The results of every size as Markdown."""
    a = results["args"]
    lines: list[str] = []
    for entry in results["sizes"]:
        cat = entry["catalogue"]
        lines += [
            f"### {entry['label']} records: {entry['entities']:,} entities "
            f"(hot set {entry['hot_entities']:,}); wrk -t{a['threads']} -c{a['connections']} "
            f"-d{float(a['duration']):g}s × {a['rounds']} rounds; server threads "
            f"{results['server_threads']}; catalogue built at {cat['commit']}; load average "
            f"{entry['load_average'][0]:.1f} before, {entry['load_average'][1]:.1f} after",
            "",
            *markdown_table(THROUGHPUT_COLUMNS, map(throughput_cells, entry["throughput"])),
            "",
        ]
        notes = dict.fromkeys(r["note"] for r in entry["throughput"] if r.get("note"))
        lines += [*(f"\\* {note}" for note in notes), ""] if notes else []
        extra = {k: v for k, v in entry["server_settings"].items() if k not in ("HOST", "PORT")}
        if extra:
            lines += [
                "Server settings for the load test: "
                + ", ".join(f"`{k}={v}`" for k, v in extra.items()),
                "",
            ]
        if entry.get("server_exit"):
            lines += [f"**The server stopped during the run ({entry['server_exit']}).**", ""]
        if entry.get("queries"):
            lines += [*markdown_table(QUERY_COLUMNS, map(query_cells, entry["queries"])), ""]
        if entry.get("after_edit"):
            lines += [
                "The first request after a save (`bench/after_edit.py`: one anonymous request "
                "per view right after each of 3 saves through the edit API):",
                "",
                *markdown_table(after_edit.COLUMNS, map(after_edit.cells, entry["after_edit"])),
                "",
            ]
        if entry.get("after_edit_error"):
            failed = entry["after_edit_error"]
            lines += [f"**The first request after a save: FAIL ({failed}).**", ""]
        lines += [*markdown_table(("measurement", "value", "target", "result"), other_cells(entry))]
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.http",
        description="Drive `bigtent serve` with wrk; report each route against /health.",
    )
    parser.add_argument("--records", default="100k", help="catalogue sizes (10k, 100000, ...)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every scenario")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per scenario")
    parser.add_argument("--hot", type=int, default=1000, help="entities in the hot set")
    parser.add_argument(
        "--server-threads", type=int, default=None, help="SERVER_THREADS (default: the setting)"
    )
    parser.add_argument(
        "--scenarios",
        type=lambda text: [s.strip() for s in text.split(",") if s.strip()],
        default=None,
        help="only these scenarios (comma-separated names; /health is always included)",
    )
    parser.add_argument(
        "--samples", type=int, default=100, help="most samples per query (per side)"
    )
    parser.add_argument(
        "--min-samples", type=int, default=5, help="fewest samples per query (per side)"
    )
    parser.add_argument(
        "--query-budget", type=float, default=10, help="seconds to spend per query, roughly"
    )
    parser.add_argument(
        "--direct-nice",
        type=int,
        default=0,
        help="niceness of the in-process reference (the endpoint's workers may run niced)",
    )
    parser.add_argument("--no-queries", action="store_true", help="skip per-query latency")
    parser.add_argument("--no-dump", action="store_true", help="skip timing bigtent dump")
    parser.add_argument(
        "--no-after-edit",
        action="store_true",
        help="skip timing the first request to each whole-catalogue view after a save",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached catalogue")
    parser.add_argument("--keep", action="store_true", help="keep work files (out/work/)")
    parser.add_argument("--seed", type=int, default=1, help="generator and sampling seed")
    parser.add_argument("--base", default=gen.DEFAULT_BASE, help="catalogue base IRI")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    sizes = run.parse_sizes(args.records)
    if not sizes:
        parser.error("--records needs at least one size")
    if args.scenarios:
        known = {s.name for s in SCENARIOS}
        unknown = [s for s in args.scenarios if s not in known]
        if unknown:
            parser.error(f"unknown scenarios {unknown}; known: {sorted(known)}")
        args.scenarios = [SCENARIOS[0].name, *args.scenarios]
    if shutil.which("wrk") is None:
        print(f"bench.http: {WRK_MISSING}", file=sys.stderr)
        return 2

    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    from loader.base.settings import load_settings

    threads = args.server_threads or load_settings().SERVER_THREADS
    results: Result = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": git_commit(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": run.machine(),
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0],
        "server_threads": threads,
        "targets": {
            "page_ratio_min": 0.50,
            "document_ratio_min": 0.70,
            "sparql_mix_ratio_min": 0.50,
            "endpoint_overhead_max": TARGET_OVERHEAD,
            "overhead_applies_above_ms": OVERHEAD_FROM_MS,
            "dump_s_max": TARGET_DUMP_S,
        },
        "sizes": [],
    }
    for records in sizes:
        entry = measure_size(records, args, out_dir)
        results["sizes"] = [entry]
        results["markdown"] = markdown(results)
        path = out_dir / f"http-{entry['label']}.json"
        path.write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(results["markdown"])
        print(f"(written to {path})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
