"""The endpoint's policy pieces: the query scan, SERVICE checks and federation, workers
without network, the memory limit and the client budget."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from loader.base.errors import BigtentError
from loader.base.settings import SETTINGS, load_settings
from loader.base.spreadsheets import neutralise, restore
from loader.query.budgets import ClientBudget, client_key
from loader.query.fair_queue import FairQueue
from loader.query.policy import check_query, disallowed_services, scan, service_iris


@pytest.mark.parametrize(
    ("query", "has_from"),
    [
        ("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }", True),
        ("select * from named <urn:g> { graph ?g { ?s ?p ?o } }", True),
        ("SELECT * WHERE { ?s prov:wasDerivedFrom ?r }", False),
        ('SELECT * WHERE { ?s rdfs:label "data from elsewhere" }', False),
        ("SELECT * WHERE { ?s ?p ?o } # taken from the examples", False),
        ("PREFIX from: <urn:x#> SELECT * WHERE { ?s from:p ?from }", False),
        ('SELECT * WHERE { ?s ?p "x"@from }', False),
        ("SELECT * WHERE { ?s <http://example.org/from> ?o }", False),
        ("SELECT * WHERE { ?s <http://x.org/\\u0041#a> ?o } # from here", False),
        ("SELECT * FROM <http://x.org/\\u0041#g> WHERE { ?s ?p ?o }", True),
    ],
)
def test_scan_finds_dataset_clauses_only(query: str, has_from: bool) -> None:
    assert scan(query).has_from is has_from


def test_scan_measures_nesting_outside_strings_and_iris() -> None:
    assert scan("SELECT * { { ?s ?p ?o FILTER((1 + 2) > 0) } }").depth == 4
    assert scan('SELECT * { ?s ?p "{{{{((((" }  # }}}}\n').depth == 1
    assert scan("SELECT * { ?s <http://x.org/\\u0041#a> ?o . { ?a ?b ?c } }").depth == 2


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("PREFIX a: <urn:a#>\nINSERT DATA { a:x a:y a:z }", "insert"),
        ("BASE <urn:b/> DROP ALL", "drop"),
        ("# a comment\nLOAD <http://example.org/x>", "load"),
        ("SELECT * {}", "select"),
    ],
)
def test_scan_tells_updates_from_queries(query: str, first: str) -> None:
    assert scan(query).first_keyword == first


def test_service_endpoints_are_found_however_they_are_written() -> None:
    query = """PREFIX ex: <http://example.org/>
    BASE <http://base.example/dir/>
    SELECT * WHERE {
      SERVICE ex:sparql { ?a ?b ?c }
      SERVICE SILENT <relative> { ?a ?b ?c }
      OPTIONAL { { SELECT * WHERE { SERVICE <http://169.254.169.254/latest> { ?d ?e ?f } } } }
      FILTER EXISTS { SERVICE wikibase:label { ?a ?b ?c } }
      SERVICE ?endpoint { ?a ?b ?c }
    }"""
    found = service_iris(query, {"wikibase": "http://wikiba.se/ontology#"}, None)
    assert sorted(found, key=str) == sorted(
        [
            "http://example.org/sparql",
            "http://base.example/dir/relative",
            "http://169.254.169.254/latest",
            "http://wikiba.se/ontology#label",
            None,
        ],
        key=str,
    )
    allowed = frozenset({"http://example.org/sparql"})
    refused = disallowed_services(found, allowed)
    assert len(refused) == 4 and "<http://example.org/sparql>" not in refused


# --- fail closed: the checks never pass what they cannot read (finding 4) -------------------
def check(query: str, allow: frozenset[str] = frozenset()) -> Any:
    return check_query(
        query,
        max_nesting=100,
        max_chain=500,
        prefixes={"wdt": "http://x.example/prop/direct/"},
        base=None,
        service_allow=allow,
    )


@pytest.mark.parametrize(
    "query",
    [
        # a '#' in an IRI or a string once hid the rest of the line from the SERVICE check
        "PREFIX ex: <http://example.org/ns#> SELECT * WHERE { SERVICE <http://evil.example/> "
        "{ ?s ?p ?o } }",
        'SELECT * WHERE { ?s ?p "#" . SERVICE <http://evil.example/> { ?s ?p ?o } }',
        "SELECT * WHERE { ?s <http://example.org/#a> ?o . SERVICE <http://evil.example/> {} }",
        "PREFIX e: <http://evil.example/> SELECT * { SERVICE SILENT e: { ?s ?p ?o } }",
        "SELECT * { SERVICE <http://evil.example/\\u0041> {} }",
    ],
)
def test_service_is_found_on_one_line_whatever_precedes_it(query: str) -> None:
    with pytest.raises(BigtentError, match="SPARQL_SERVICE_ALLOW") as refused:
        check(query)
    assert refused.value.status == 403
    assert check(query, frozenset(service_iris(query, {}, None)))  # allowed: passes


@pytest.mark.parametrize(
    "query",
    [
        # an escape spelling a keyword is not one: refused, not guessed at
        "SELECT * { SERV\\u0049CE <http://evil.example/> { ?s ?p ?o } }",
        "SELECT * { SERVICE { ?s ?p ?o } }",  # no endpoint
        "SELECT * { SERVICE undeclared:x { ?s ?p ?o } }",
        "SELECT * { ?s ?p ?o } \x00 SERVICE <http://evil.example/> {}",
        "SELECT * { ?s ?p 'unterminated } SERVICE <http://evil.example/> {}",
        "SELECT * { SERVICE",
    ],
)
def test_queries_the_checks_cannot_read_are_refused(query: str) -> None:
    with pytest.raises(BigtentError) as refused:
        check(query)
    assert refused.value.status == 400


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o } ; DROP ALL",
        "SELECT * WHERE { ?s ?p ?o } INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "# a comment\nload <http://example.org/x>",
        "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    ],
)
def test_an_update_keyword_anywhere_is_refused(query: str) -> None:
    with pytest.raises(BigtentError, match="read-only") as refused:
        check(query)
    assert refused.value.status == 403


def test_keywords_in_strings_iris_comments_and_names_are_not_keywords() -> None:
    query = (
        "PREFIX service: <http://example.org/service#>\n"
        'SELECT ?drop WHERE { ?s service:insert "SERVICE <http://evil.example/> {}" ; '
        "<http://example.org/delete#SERVICE> ?drop } # SERVICE <http://evil.example/> DROP"
    )
    found = check(query)
    assert found.services == () and found.updates == ()


@pytest.mark.parametrize(
    ("query", "setting"),
    [
        ("ASK { FILTER(" + "!" * 10_000 + "true) }", "SPARQL_MAX_NESTING"),
        ("ASK { ?s " + "^" * 200 + "wdt:P1 ?o }", "SPARQL_MAX_NESTING"),
        ("ASK { FILTER(" + "(" * 200 + "1" + ")" * 200 + ") }", "SPARQL_MAX_NESTING"),
        ("ASK { ?s " + "/".join(["wdt:P1"] * 1_500) + " ?o }", "SPARQL_MAX_CHAIN"),
        ("ASK { ?s " + "|".join(["wdt:P1"] * 600) + " ?o }", "SPARQL_MAX_CHAIN"),
        ("ASK { FILTER(" + "&&".join(["true"] * 10_000) + ") }", "SPARQL_MAX_CHAIN"),
        ("ASK { FILTER(" + "+".join(["1"] * 600) + " > 0) }", "SPARQL_MAX_CHAIN"),
        ("ASK { " + " UNION ".join(["{}"] * 600) + " }", "SPARQL_MAX_CHAIN"),
        ("ASK { " + "OPTIONAL { ?s ?p ?o } " * 600 + "}", "SPARQL_MAX_CHAIN"),
        ("ASK { " + "BIND(1 AS ?x) " * 600 + "}", "SPARQL_MAX_CHAIN"),
    ],
)
def test_pathological_nesting_is_refused_before_the_engine(query: str, setting: str) -> None:
    with pytest.raises(BigtentError, match=setting) as refused:
        check(query)
    assert refused.value.status == 400


def test_long_but_flat_queries_pass() -> None:
    values = " ".join(f"wd:Q{i}" for i in range(20_000))
    assert check(f"PREFIX wd: <urn:wd:> SELECT * {{ VALUES ?x {{ {values} }} }}").chain <= 2
    numbers = " ".join(f"(-{i} +{i})" for i in range(5_000))
    assert check(f"SELECT * {{ VALUES (?a ?b) {{ {numbers} }} }}").chain <= 2
    triples = " . ".join(f"?s{i} wdt:P1 ?o{i}" for i in range(3_000))
    assert check(f"SELECT * {{ {triples} }}").chain <= 2
    assert check("ASK { " + " UNION ".join(["{}"] * 400) + " }").chain == 400


# --- fair queueing ------------------------------------------------------------------------
def test_a_freed_worker_goes_to_the_waiting_client_holding_fewest() -> None:
    queue: FairQueue[str] = FairQueue(share=1, capacity=8)
    for n in range(1, 5):
        assert queue.push("runaway", f"r{n}") is None
    assert queue.pop() == ("runaway", "r1")
    assert queue.pop() is None  # the runaway client holds its share: no second worker
    assert queue.push("other", "o1") is None
    assert queue.pop() == ("other", "o1")  # the second worker: to the other client
    assert queue.push("third", "t1") is None
    queue.done("runaway")
    queue.done("other")
    # both hold none now; "third" was never served, "runaway" was: "third" first
    assert queue.pop() == ("third", "t1")
    assert queue.pop() == ("runaway", "r2")


def test_a_full_waiting_room_turns_away_the_crowd_not_a_newcomer() -> None:
    queue: FairQueue[str] = FairQueue(share=1, capacity=3)
    assert [queue.push("crowd", f"c{n}") for n in range(3)] == [None, None, None]
    assert queue.push("crowd", "c3") == "c3"  # full: the crowd's own newcomer waits not
    assert queue.push("newcomer", "n0") == "c2"  # room made from the crowd's newest
    assert queue.waiting == 3
    assert queue.pop() == ("crowd", "c0")
    assert queue.pop() == ("newcomer", "n0")
    assert queue.remove("crowd", "c1") and not queue.remove("crowd", "c1")
    assert queue.waiting == 0


# --- budgets ------------------------------------------------------------------------------
def test_a_client_is_its_address_ipv6_by_its_64() -> None:
    assert client_key("127.0.0.2") == "127.0.0.2"
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::5") != client_key("2001:db8:1:3::5")


def test_the_default_budget_runs_out_for_back_to_back_runaways() -> None:
    """Finding 4: at the defaults (SPARQL_CLIENT_PARALLEL=1, SPARQL_TIMEOUT=30) a client
    could never use more than the budget refilled, so it never got a 429."""
    defaults = {s.name: s.default for s in SETTINGS}
    now = [0.0]
    budget = ClientBudget(
        float(defaults["SPARQL_CLIENT_BUDGET"]),
        int(defaults["SPARQL_CLIENT_PARALLEL"]),
        clock=lambda: now[0],
    )
    timeout = float(defaults["SPARQL_TIMEOUT"])
    refused = None
    while now[0] < 600 and refused is None:  # ten minutes of runaways, one at a time
        try:
            budget.admit("client")
        except BigtentError as exc:
            refused = exc
            break
        started = budget.start("client")
        now[0] += timeout
        budget.finish("client", timeout, started)
    assert refused is not None and refused.status == 429
    assert refused.retry_after is not None and refused.retry_after >= 1
    assert "SPARQL_CLIENT_BUDGET" in refused.message


def test_running_queries_count_against_the_budget_while_they_run() -> None:
    now = [0.0]
    budget = ClientBudget(seconds_per_minute=6, parallel=0, clock=lambda: now[0])
    budget.admit("a")
    budget.start("a")
    now[0] = 7.0  # still running, 7 s charged so far (0.7 s refilled)
    with pytest.raises(BigtentError, match="SPARQL_CLIENT_BUDGET"):
        budget.admit("a")
    budget.admit("b")  # other clients are not affected


def test_client_budget_refills_over_a_minute() -> None:
    budget = ClientBudget(seconds_per_minute=6, parallel=2)
    budget.admit("a")
    budget.admit("a")
    with pytest.raises(BigtentError, match="SPARQL_CLIENT_PARALLEL") as busy:
        budget.admit("a")
    assert busy.value.status == 429
    budget.finish("a", 5)
    budget.finish("a", 3)  # 8 s used of 6: over budget
    with pytest.raises(BigtentError, match="SPARQL_CLIENT_BUDGET") as over:
        budget.admit("a")
    assert over.value.retry_after in (20, 21)  # 2 s missing, refilled at 0.1 s per second
    budget.admit("b")  # other clients are not affected


def test_workers_without_network_cannot_connect(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = (
            "import socket, sys\n"
            "from loader.query.worker import isolate_network\n"
            "isolated = isolate_network() if sys.argv[1] == 'isolate' else False\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
            "    reached = True\n"
            "except OSError:\n"
            "    reached = False\n"
            "print(isolated, reached)\n"
        )
        results = {}
        for mode in ("isolate", "plain"):
            done = subprocess.run(
                [sys.executable, "-c", probe, mode],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
            results[mode] = done.stdout.split()
    assert results["plain"] == ["False", "True"]
    if results["isolate"][0] == "False":
        pytest.skip("this system allows no network namespaces; the SERVICE check still applies")
    assert results["isolate"] == ["True", "False"]


# --- federation and the memory limit (in-process apps with their own settings) -------------
class _StubEndpoint(BaseHTTPRequestHandler):
    """A remote SPARQL endpoint answering every query with one fixed row."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        # negotiates, as real endpoints do (Virtuoso's SERVICE reads only XML results)
        if "json" in self.headers.get("Accept", "json"):
            media_type = "application/sparql-results+json"
            body = json.dumps(
                {
                    "head": {"vars": ["x"]},
                    "results": {"bindings": [{"x": {"type": "literal", "value": "from afar"}}]},
                }
            ).encode()
        else:
            media_type = "application/sparql-results+xml"
            body = (
                b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                b'<head><variable name="x"/></head><results><result><binding name="x">'
                b"<literal>from afar</literal></binding></result></results></sparql>"
            )
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stub_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_with(make_app: Callable[..., Flask], tmp_path: Path) -> Callable[..., Flask]:
    """Factory: an app with some settings changed, on each store backend."""
    count = 0

    def make(**settings: Any) -> Flask:
        nonlocal count
        count += 1
        return make_app(DATA_DIR=str(tmp_path / f"data{count}"), **settings)

    return make


def test_allowed_service_endpoints_are_called(
    app_with: Any, stub_endpoint: str, store_backend: dict[str, Any]
) -> None:
    if store_backend:
        pytest.skip(
            "engine difference: Virtuoso 7.2 calls the SERVICE (XML results asked) but binds "
            "nothing from this stub's answer (docs/deployment.md, Deployment at scale)"
        )
    web = app_with(SPARQL_SERVICE_ALLOW=stub_endpoint).test_client()
    query = f"SELECT ?x WHERE {{ SERVICE <{stub_endpoint}> {{ ?x ?p ?o }} }}"
    response = web.get("/sparql", query_string={"query": query})
    assert response.status_code == 200, response.text
    assert response.json["results"]["bindings"] == [  # type: ignore[index]
        {"x": {"type": "literal", "value": "from afar"}}
    ]
    other = web.get(
        "/sparql",
        query_string={"query": "SELECT * WHERE { SERVICE <http://169.254.169.254/> {} }"},
    )
    assert other.status_code == 403 and stub_endpoint in other.text


@pytest.mark.embedded_store  # SPARQL_WORKER_MEMORY limits the embedded store's workers
def test_a_query_over_the_memory_limit_is_stopped(app_with: Any) -> None:
    web = app_with(SPARQL_WORKER_MEMORY=300).test_client()
    query = "SELECT ?a ?d WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a ?d LIMIT 1"
    response = web.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 503
    assert "SPARQL_WORKER_MEMORY" in response.json["error"]  # type: ignore[index]
    after = web.get("/sparql", query_string={"query": "ASK { wd:Q3 wdt:P2 wd:Q1 }"})
    assert after.json["boolean"] is True  # type: ignore[index]


def test_sparql_settings_take_fractions_and_refuse_nonsense() -> None:
    from loader.base.errors import ConfigError

    settings = load_settings(
        env={"BIGTENT_SPARQL_TIMEOUT": "2.5", "BIGTENT_SPARQL_SERVICE_ALLOW": "urn:a, urn:b"}
    )
    assert settings.SPARQL_TIMEOUT == 2.5
    assert settings.service_allow == frozenset({"urn:a", "urn:b"})
    for bad in ("soon", "-1", "inf", "nan"):
        with pytest.raises(ConfigError, match="SPARQL_TIMEOUT"):
            load_settings(env={"BIGTENT_SPARQL_TIMEOUT": bad})


# --- spreadsheets -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-3", "-3"),
        ("+1.5e3", "+1.5e3"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_spreadsheet_formulas_are_neutralised(text: str, safe: str) -> None:
    assert neutralise(text) == safe
    assert restore(neutralise(text)) == text


def test_a_prefix_ending_in_hash_keeps_it_under_a_base() -> None:
    """Regression: with a base, ``PREFIX wikibase: <http://wikiba.se/ontology#>`` lost its
    ``#`` (urljoin drops an empty fragment), so ``wikibase:label`` named another IRI."""
    query = (
        "PREFIX wikibase: <http://wikiba.se/ontology#>\n"
        "PREFIX rel: <#>\nSELECT * WHERE { SERVICE wikibase:label { } SERVICE rel:x { } }"
    )
    found = service_iris(query, {}, "http://base.example/dir/")
    assert found == ["http://wikiba.se/ontology#label", "http://base.example/dir/#x"]


def test_only_the_label_service_passes_without_the_allow_list() -> None:
    """WDQS's label service is evaluated by Bigtent (loader/query/label_service.py);
    every other SERVICE, even one spelt like it, still needs SPARQL_SERVICE_ALLOW."""
    limits = {"max_nesting": 100, "max_chain": 500, "base": None, "service_allow": ()}
    prefixes = {"wikibase": "http://wikiba.se/ontology#", "bd": "http://www.bigdata.com/rdf#"}
    label = 'SELECT * WHERE { SERVICE wikibase:label { bd:serviceParam wikibase:language "en" } }'
    assert check_query(label, prefixes=prefixes, **limits).label_services  # type: ignore[arg-type]
    for other in ("wikibase:labels", "<http://wikiba.se/ontology#label/x>", "?service"):
        with pytest.raises(BigtentError) as refused:
            check_query(label.replace("wikibase:label", other), prefixes=prefixes, **limits)  # type: ignore[arg-type]
        assert refused.value.status == 403
