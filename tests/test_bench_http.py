"""The HTTP benchmark's parts that need no server: wrk output, request paths, tables."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import http as bench_http  # noqa: E402
from bench.tables import markdown_table  # noqa: E402

SAMPLES = Path(__file__).parent / "data" / "bench"
BASE = "https://bigtent.example.org/"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def test_wrk_output_is_parsed_from_the_lua_summary_line() -> None:
    stats = bench_http.parse_wrk(sample("wrk-entity-page.txt"))
    assert stats.requests == 705
    assert stats.duration_s == pytest.approx(2.009548)
    assert stats.requests_per_s == pytest.approx(350.83, abs=0.01)
    assert stats.text_requests_per_s == pytest.approx(350.83)
    assert stats.latency_ms["p50"] == pytest.approx(43.89)
    assert stats.latency_ms["p99"] == pytest.approx(100.179)
    assert stats.error_count == 0
    assert stats.non_2xx_3xx == 0


def test_wrk_errors_are_counted() -> None:
    stats = bench_http.parse_wrk(sample("wrk-missing-route.txt"))
    assert stats.errors["status"] == 1180
    assert stats.error_count == 1180
    assert stats.non_2xx_3xx == 1180
    assert stats.ok_requests_per_s == 0
    assert stats.statuses == {}  # a measured run: no census


def test_a_census_run_counts_responses_per_status() -> None:
    stats = bench_http.parse_wrk(sample("wrk-census.txt"))
    assert stats.statuses == {"200": 303, "404": 279}
    assert stats.requests_per_s == pytest.approx(582 / 1.002292)
    assert stats.ok_requests_per_s == pytest.approx(303 / 1.002292)


def test_plain_wrk_output_is_refused() -> None:
    plain = "\n".join(
        line for line in sample("wrk-entity-page.txt").splitlines() if "@@wrk-json" not in line
    )
    with pytest.raises(ValueError, match="@@wrk-json"):
        bench_http.parse_wrk(plain)


def test_lookup_paths_are_valid_sparql_with_escaped_labels() -> None:
    entity = bench_http.Entity("Q100007", 'The "Quoted" Lab \\ Co')
    store = ox.Store()
    seen = []
    for i in range(len(bench_http.LOOKUPS)):
        path = bench_http.request_path("/sparql?query={lookup}", i, entity, BASE)
        query = unquote(path.removeprefix("/sparql?query="))
        assert "&" not in path.removeprefix("/sparql?") and " " not in path
        store.query(query)  # parses: the label is a proper SPARQL literal
        seen.append(query)
    assert f"<{BASE}entity/Q100007>" in seen[0]
    assert '"The \\"Quoted\\" Lab \\\\ Co"@en' in seen[1]
    assert bench_http.request_path("/data/{id}.ttl", 0, entity, BASE) == "/data/Q100007.ttl"


def _run(round_number: int, rps: float, status_errors: int = 0) -> dict[str, object]:
    return {
        "round": round_number,
        "requests_per_s": rps,
        "ok_requests_per_s": rps - status_errors / 10,
        "requests": int(rps * 10),
        "bytes": int(rps * 10) * 100,
        "errors": {"connect": 0, "read": 0, "write": 0, "status": status_errors, "timeout": 0},
        "latency_ms": {"p50": 1000 / rps, "p99": 3000 / rps},
    }


def test_ratios_pair_each_round_with_that_rounds_ceiling() -> None:
    health, page, docs, mix = bench_http.SCENARIOS[:4]
    plans = [
        bench_http.Plan(health, "–", "/health", runs=[_run(0, 1000), _run(1, 2000)]),
        bench_http.Plan(page, "all", "/entity/{id}", runs=[_run(0, 600), _run(1, 800)]),
        bench_http.Plan(docs, "hot", "/data/{id}.ttl", runs=[_run(0, 500), _run(1, 900, 3)]),
        bench_http.Plan(mix, "all", unavailable="n/a (route missing: 404)"),
    ]
    plans[2].census = {"200": 60, "503": 40}
    rows = bench_http.summarise_throughput(plans)
    assert rows[0]["ratio"] == pytest.approx(1.0)
    assert rows[1]["round_ratios"] == pytest.approx([0.6, 0.4])
    assert rows[1]["ratio"] == pytest.approx(0.5)
    assert rows[1]["requests_per_s"] == pytest.approx(700)
    assert rows[2]["errors"] == 3

    cells = [bench_http.throughput_cells(r) for r in rows]
    assert cells[0][-2:] == ["ceiling", "–"]
    assert cells[1][0] == "HTML entity page *"  # the stand-in is flagged
    assert cells[1][6:] == ["0.50", "≥ 50% of /health", "PASS"]
    assert rows[2]["requests_per_s"] == pytest.approx((500 + 899.7) / 2)  # answered < 400
    assert cells[2][-1] == "FAIL (0% errors; census: HTTP 503 40%)"
    assert cells[3][3] == "n/a (route missing: 404)"
    assert cells[3][-1] == "n/a"
    table = markdown_table(bench_http.THROUGHPUT_COLUMNS, cells)
    assert len(table) == 2 + len(rows)
    body = [table[0], *table[2:]]
    assert all(line.count(" | ") == len(bench_http.THROUGHPUT_COLUMNS) - 1 for line in body)


def test_query_overhead_target_applies_only_to_slow_queries() -> None:
    fast = {
        "query": "lookup: entity by IRI",
        "endpoint": {"n": 50, "p50_ms": 2.0, "p99_ms": 4.0},
        "direct": {"n": 50, "p50_ms": 0.5, "p99_ms": 1.0},
        "overhead": 3.0,
        "failures": [],
    }
    slow = {
        **fast,
        "query": "example: counts",
        "endpoint": {"n": 20, "p50_ms": 130.0, "p99_ms": 150.0},
        "direct": {"n": 20, "p50_ms": 100.0, "p99_ms": 120.0},
        "overhead": 0.30,
    }
    verdict = slice(6, 9)  # overhead, target, result
    assert bench_http.query_cells(fast)[verdict][1:] == ["none (≤ 10 ms)", "–"]
    assert bench_http.query_cells(slow)[verdict] == ["+30.00 ms (+30%)", "< 20%", "FAIL"]
    assert bench_http.query_cells({**slow, "overhead": 0.1})[8] == "PASS"
    timeout = bench_http.Answer(503, 10, 30000.0, {}, "Query timeout: ran for 30 s")
    failed = bench_http.query_cells({**slow, "failures": [timeout.reason] * 2})
    assert failed[8] == "FAIL (2 × HTTP 503: Query timeout: ran for 30 s)"
    differ = {**slow, "overhead": 0.1, "endpoint_bytes": 10, "direct_bytes": 12}
    assert bench_http.query_cells(differ)[8] == "PASS (answers differ: 10 vs 12 bytes)"
    layered = {**slow, "engine": {"n": 20, "p50_ms": 80.0}, "layer": 0.25}
    assert bench_http.query_cells(layered)[9:] == ["80.00", "+20.00 ms (+25%)"]
    assert len(bench_http.query_cells(layered)) == len(bench_http.QUERY_COLUMNS)
    assert len(bench_http.query_cells({"query": "x", "unavailable": "n/a (gone)"})) == len(
        bench_http.QUERY_COLUMNS
    )
    assert bench_http.Answer(404, 0, 1.0, {}).reason == "route missing: 404"
    assert bench_http.error_text(b'{"title": "Query timeout", "error": "stopped"}') == (
        "Query timeout: stopped"
    )


def test_scenarios_rotate_so_none_always_follows_the_same() -> None:
    plans = [bench_http.Plan(s, "all") for s in bench_http.SCENARIOS]
    orders = [[p.scenario.name for p in bench_http.rotated(plans, r)] for r in range(3)]
    assert orders[0][0] != orders[1][0] != orders[2][0]
    assert all(sorted(o) == sorted(orders[0]) for o in orders)


def test_capacity_matching_paths_have_three_criteria_and_vary() -> None:
    entity = bench_http.Entity("Q100007", "x")
    paths = {bench_http.request_path("/api/peers?{peers}", i, entity, BASE) for i in range(168)}
    assert len(paths) == 168
    for path in paths:
        args = parse_qs(urlsplit(path).query)
        assert set(args) == {"capacity", "language", "modality"}
        assert args["capacity"][0] in {f"Q{n}" for n in range(300, 307)}


def test_browse_paths_filter_by_one_facet_and_vary() -> None:
    entity = bench_http.Entity("Q100007", "x")
    variants = bench_http.BROWSE_VARIANTS
    paths = [bench_http.request_path("/browse/{browse}", i, entity, BASE) for i in range(variants)]
    assert len(set(paths)) == variants
    for path in paths:
        parts = urlsplit(path)
        args = parse_qs(parts.query)
        if parts.path == "/browse/Q4":
            assert args["P7"][0] in {f"Q{n}" for n in range(130, 137)}
            assert args["page"][0] in {"1", "2"}
        else:
            assert parts.path == "/browse/Q1"
            assert args == {"P12": [args["P12"][0]]}
            assert args["P12"][0] in {"Q100000", "Q100001", "Q100002", "Q100003"}


def test_search_paths_look_for_the_first_word_of_the_label() -> None:
    entity = bench_http.Entity("Q100007", "Zoë Brenovia")
    path = bench_http.request_path("/search?q={word}", 0, entity, BASE)
    assert parse_qs(urlsplit(path).query) == {"q": ["Zoë"]}


def test_the_serving_process_is_judged_against_one_gigabyte_at_100k() -> None:
    def cells(label: str, server_mb: float) -> list[list[str]]:
        memory = {"server_mb": server_mb, "peak_mb": server_mb + 400}
        return bench_http.other_cells({"label": label, "server_memory": memory})

    serving, tree = cells("100k", 782)[:2]
    assert serving[0].startswith("serving process") and serving[1:] == [
        "782 MB",
        "< 1,000 MB at 100k",
        "PASS",
    ]
    assert tree[1] == "1,182 MB" and tree[3] == "–"
    assert cells("100k", 1146)[0][3] == "FAIL"
    assert cells("1m", 3692)[0][3] == "–"


def test_priming_requests_each_hot_path_once_in_order(tmp_path: Path) -> None:
    """Over a real HTTP server: the hot set's paths, each once, with the plan's Accept."""
    import http.server
    import threading

    seen: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Accept")))
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            if len(seen) == 2:  # a server may close a keep-alive connection
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        paths = tmp_path / "paths.txt"
        paths.write_text("/page/Q1\n/page/Q2\n/page/Q3\n", encoding="utf-8")
        scenario = bench_http.SCENARIOS[1]
        plan = bench_http.Plan(scenario, "hot", scenario.paths[0], paths)
        seconds = bench_http.prime(server.server_address[1], plan)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [(f"/page/Q{n}", "text/html") for n in (1, 2, 3)]
    assert seconds >= 0
