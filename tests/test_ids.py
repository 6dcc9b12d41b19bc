"""One source for every P/Q id the code names: ``loader/base/ids.py``.

Each id there must exist in the ontology with the English label written beside it, and
no other module of ``loader/`` or ``webapp/`` may spell a P or Q id in its code (its
docstrings may, as examples).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from loader.base import ids
from loader.base.resources import ONTOLOGY_DIR

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://bigtent.example.org/"
ID = re.compile(r"^[PQ][1-9][0-9]*$")
PREFIXED = re.compile(r"\b(?:wdt|wd|p|ps|psv|pq|pqv|pr|prv|wdno):[PQ][1-9][0-9]*\b")
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
NAMED = {
    name: value for name, value in vars(ids).items() if name.isupper() and isinstance(value, str)
}


def ontology_labels() -> dict[str, str]:
    """Entity id -> English label, from every record file of the ontology."""
    labels = {}
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=BASE):
            literal = quad.object
            if (
                quad.predicate.value == RDFS_LABEL
                and isinstance(literal, ox.Literal)
                and literal.language == "en"
                and quad.subject.value.startswith(BASE + "entity/")
            ):
                labels[quad.subject.value.removeprefix(BASE + "entity/")] = literal.value
    return labels


def test_every_named_id_is_in_the_ontology_with_its_label() -> None:
    labels = ontology_labels()
    assert NAMED, "ids.py names no id"
    assert set(ids.LABELS) == set(NAMED.values()), "every constant needs its label in LABELS"
    wrong = {
        name: (value, ids.LABELS[value], labels.get(value))
        for name, value in NAMED.items()
        if labels.get(value) != ids.LABELS[value]
    }
    assert wrong == {}


def test_no_id_is_named_twice() -> None:
    values = list(NAMED.values())
    assert len(values) == len(set(values))


def test_record_types_are_class_items_of_the_ontology() -> None:
    labels = ontology_labels()
    for slug, class_id in ids.RECORD_TYPES.items():
        assert class_id in labels, slug
        assert re.fullmatch(r"[a-z]+", slug)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def spelled_ids(path: Path) -> list[str]:
    """ "line: text" for every string in ``path``'s code that is, or prefixes, a P/Q id."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    return [
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{node.lineno}: "
        f"{node.value[:60]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docs
        and (ID.match(node.value) or PREFIXED.search(node.value))
    ]


SOURCES = sorted(
    p
    for package in ("loader", "webapp")
    for p in (ROOT / package).rglob("*.py")
    if p != ROOT / "loader" / "base" / "ids.py"
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_ids_are_named_only_in_ids_py(path: Path) -> None:
    assert spelled_ids(path) == []


def test_the_check_finds_a_spelled_id(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""Docstrings may say Q42."""\n'
        'INSTANCE = "P1"\n'
        'QUERY = "SELECT ?x WHERE { ?x wdt:P12 ?y }"\n'
        'MESSAGE = "ids look like Q42"\n',
        encoding="utf-8",
    )
    assert [line.split(":")[1] for line in spelled_ids(probe)] == ["2", "3"]
