"""A linked-data client no one here wrote: Comunica dereferences entity and statement
IRIs of the real server (following the 303 with its own Accept header, which prefers
JSON-LD, so our @context is read by a third-party parser too) and queries what it
finds."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from live_server import LiveServer

ROOT = Path(__file__).resolve().parent.parent
COMUNICA = ROOT / "node_modules" / ".bin" / "comunica-sparql"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def _comunica(*args: str) -> list[dict[str, str]]:
    if not COMUNICA.exists():
        pytest.fail(f"{COMUNICA} is missing: run scripts/bootstrap test")
    done = subprocess.run(
        [str(COMUNICA), *args], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, str]] = json.loads(done.stdout)
    return rows


def _document(server: LiveServer, entity: str) -> list[ox.Quad]:
    """The entity's N-Triples document, fetched directly (what Comunica should see)."""
    response = requests.get(f"{server.url}data/{entity}.nt", timeout=30)
    response.raise_for_status()
    return list(ox.parse(response.content, ox.RdfFormat.N_TRIPLES))


def test_comunica_joins_across_dereferenced_entity_iris(live_server: LiveServer) -> None:
    base = live_server.url
    q1200 = _document(live_server, "Q1200")
    partners = {q.object.value for q in q1200 if q.predicate.value == f"{base}prop/direct/P5"}
    assert len(partners) == 2
    expected = set()
    for partner in partners:
        entity = partner.removeprefix(f"{base}entity/")
        for q in _document(live_server, entity):
            literal = q.object
            is_label = q.predicate.value == LABEL and q.subject.value == partner
            if is_label and isinstance(literal, ox.Literal) and literal.language == "en":
                expected.add((partner, f'"{literal.value}"@en'))
    query = (
        f"SELECT ?partner ?label WHERE {{ <{base}entity/Q1200> <{base}prop/direct/P5> ?partner ."
        f' ?partner <{LABEL}> ?label FILTER(lang(?label) = "en") }}'
    )
    sources = [f"{base}entity/{p.removeprefix(base + 'entity/')}" for p in sorted(partners)]
    rows = _comunica(f"{base}entity/Q1200", *sources, query)
    assert {(row["partner"], row["label"]) for row in rows} == expected


def test_comunica_dereferences_a_statement_iri(live_server: LiveServer) -> None:
    base = live_server.url
    claim, qualifier = f"{base}prop/P5", f"{base}prop/qualifier/P6"
    q1200 = _document(live_server, "Q1200")
    statements = {q.object.value for q in q1200 if q.predicate.value == claim}
    qualified = {
        (q.subject.value, q.object.value)
        for q in q1200
        if q.predicate.value == qualifier and q.subject.value in statements
    }
    statement, role = sorted(qualified)[0]
    query = f"SELECT ?role WHERE {{ <{statement}> <{qualifier}> ?role }}"
    rows = _comunica(statement, query)
    assert rows == [{"role": role}]
