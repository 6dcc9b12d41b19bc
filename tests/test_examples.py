"""The named example queries: headers, prefixes, and results on the demo catalogue."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from loader.base.errors import ConfigError, NotFound
from loader.base.namespaces import STANDARD_PREFIXES, Namespaces
from loader.query.examples import (
    AUDIENCES,
    EXAMPLES_DIR,
    Example,
    Examples,
    absolute_prefixes,
    declared_prefixes,
    load_example,
)

BASE = "https://bigtent.example.org/"
NS = Namespaces(BASE)
EXAMPLES = Examples(NS).all()


def test_there_are_at_least_twenty_examples_for_every_audience() -> None:
    assert len(EXAMPLES) >= 20
    assert len(list(EXAMPLES_DIR.glob("*.rq"))) == len(EXAMPLES)
    for audience in AUDIENCES:
        assert sum(audience in e.audience for e in EXAMPLES) >= 5, audience


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_every_example_has_title_description_and_audience(example: Example) -> None:
    assert 10 <= len(example.title) <= 80, example.title
    assert not example.title.endswith("."), "titles are headings, not sentences"
    assert len(example.description) >= 40
    assert example.description.endswith("."), "descriptions are sentences"
    assert example.audience and set(example.audience) <= set(AUDIENCES)
    assert example.text.startswith("# title: ")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_prefixes_are_the_standard_ones(example: Example) -> None:
    """Catalogue prefixes are relative (``wd: <entity/>``), like every Bigtent file, and
    every well-known prefix means what it means everywhere else."""
    declared = declared_prefixes(example.text)
    assert declared, "examples declare their prefixes, so they run on any engine"
    for name, iri in declared.items():
        assert name in NS.prefixes, f"unknown prefix {name}: declare only the standard ones"
        if name in STANDARD_PREFIXES:
            assert iri == STANDARD_PREFIXES[name], name
        else:
            assert BASE + iri == NS[name], f"{name}: <{iri}> should be relative to the base"
    assert "BASE" not in {
        line.split(None, 1)[0].upper() for line in example.text.splitlines() if line.strip()
    }


@pytest.fixture(scope="module")
def demo_store(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ox.Store]:
    """A read-only view of a copy of the demo catalogue's store."""
    copy = tmp_path_factory.mktemp("examples") / "store"
    shutil.copytree(demo_template / "store", copy)
    store = ox.Store.read_only(str(copy))
    yield store
    del store


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_every_example_returns_results_on_the_demo_catalogue(
    example: Example, demo_store: ox.Store
) -> None:
    """Run as served: absolute prefixes, no base IRI, no predefined prefixes, over the
    union of the entity graphs (as the endpoint does)."""
    query = Examples(NS).query(example)
    result = demo_store.query(query, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryBoolean):
        assert bool(result)
    else:
        assert next(iter(result), None) is not None, f"{example.id} found nothing"


def test_served_query_has_absolute_prefixes_for_the_instance() -> None:
    other = Examples(Namespaces("http://127.0.0.1:5000/"))
    example = other.get("partners-by-activity-type")
    served = other.query(example)
    assert "PREFIX wd: <http://127.0.0.1:5000/entity/>" in served
    assert "PREFIX wdt: <http://127.0.0.1:5000/prop/direct/>" in served
    assert "<entity/>" not in served
    assert other.as_dict(example) == {
        "id": "partners-by-activity-type",
        "title": example.title,
        "description": example.description,
        "audience": ["data consumers"],
        "query": served,
    }


def test_absolute_prefixes_leaves_other_text_alone() -> None:
    query = (
        "# PREFIX wd: <entity/> in a comment stays\n"
        "PREFIX wd: <entity/>\n"
        "  prefix : <prop/direct/>\n"
        "PREFIX schema: <http://schema.org/>\n"
        'SELECT * WHERE { ?s ?p "PREFIX x: <y/>" }\n'
    )
    assert absolute_prefixes(query, BASE) == (
        "# PREFIX wd: <entity/> in a comment stays\n"
        f"PREFIX wd: <{BASE}entity/>\n"
        f"  prefix : <{BASE}prop/direct/>\n"
        "PREFIX schema: <http://schema.org/>\n"
        'SELECT * WHERE { ?s ?p "PREFIX x: <y/>" }\n'
    )


def test_unknown_example_is_not_found() -> None:
    with pytest.raises(NotFound, match="no example query 'nope'"):
        Examples(NS).get("nope")
    with pytest.raises(NotFound):
        Examples(NS).get("../../etc/passwd")


# --- bad example files ------------------------------------------------------------------
GOOD_HEADER = "# title: A title\n# description: What it does.\n# audience: staff\n"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("no-title.rq", "# description: d.\n# audience: staff\nASK {}", "lacks title"),
        ("no-header.rq", "ASK {}", "lacks title, description, audience"),
        ("bad-field.rq", GOOD_HEADER + "# author: me\nASK {}", "unknown header field 'author'"),
        ("twice.rq", GOOD_HEADER + "# title: again\nASK {}", "'title' is given twice"),
        ("who.rq", GOOD_HEADER.replace("staff", "everyone") + "ASK {}", "unknown audience"),
        ("Bad_Name.rq", GOOD_HEADER + "ASK {}", "lower-case words joined by hyphens"),
    ],
)
def test_bad_example_files_are_refused_with_file_and_reason(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_example(path)
    assert str(path) in str(caught.value)


def test_header_fields_continue_on_indented_lines(tmp_path: Path) -> None:
    path = tmp_path / "continued.rq"
    path.write_text(
        "# title: Long\n# description: first part\n#   and second part.\n"
        "# audience: staff, aggregators\n# a plain comment\n\nASK {}\n",
        encoding="utf-8",
    )
    example = load_example(path)
    assert example.description == "first part and second part."
    assert example.audience == ("staff", "aggregators")


def test_examples_are_reread_when_files_change(tmp_path: Path) -> None:
    examples = Examples(NS, tmp_path)
    assert examples.all() == []
    (tmp_path / "one.rq").write_text(GOOD_HEADER + "ASK {}", encoding="utf-8")
    assert [e.id for e in examples.all()] == ["one"]
