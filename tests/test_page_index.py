"""The page index follows the revision log incrementally and rebuilds when it must."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.discovery.search import search
from loader.storage.page_index import (
    LABEL,
    MEMO_SIZE,
    PageIndex,
    entity_id,
    extract,
    fold,
    num,
)

RECORD = """
wd:Q5000 a wikibase:Item ;
  rdfs:label "Open Knowledge Lab"@en, "Laboratoire"@fr ;
  skos:altLabel "OKL"@en ;
  schema:description "a test organisation"@en ;
  wdt:P1 wd:Q1 ;
  p:P14 [ ps:P14 wd:Q300 ; pq:P39 wd:Q250 ; prov:wasDerivedFrom [ pr:P19 wd:Q1 ] ] .
"""


def test_ids_and_folding() -> None:
    assert (num("Q12"), num("P12")) == (12, -12)
    assert (entity_id(12), entity_id(-12)) == ("Q12", "P12")
    assert fold("  Ça   CRÉE\tŒuvre ") == "ca cree œuvre"
    assert fold("Straße") == "strasse"
    assert fold("हिन्दी") == "हिन्दी"  # marks of other scripts stay


def test_extract_names_facts_and_links(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    assert catalogue.load_paths([write_ttl("lab.ttl", RECORD)]).ok
    rev = catalogue.revisions.get("Q5000")
    assert rev is not None and rev.snapshot is not None
    data = extract(catalogue.ns, "Q5000", rev.snapshot)
    assert sorted(data.names) == [
        (0, "en", "Open Knowledge Lab"), (0, "fr", "Laboratoire"), (1, "en", "OKL"),
        (2, "en", "a test organisation"),
    ]  # fmt: skip
    assert data.facts == {(num("P1"), 1), (num("P14"), 300)}
    kinds = sorted((entity_id(t), entity_id(p), k) for t, p, k, _ in data.links)
    assert kinds == [("Q1", "P1", 0), ("Q1", "P19", 2), ("Q250", "P39", 1), ("Q300", "P14", 0)]
    statements = {s for *_, s in data.links}
    assert all(s.startswith("Q5000-") for s in statements)


def test_catch_up_is_incremental(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    index = catalogue.page_index
    first = index.catch_up()
    assert first == catalogue.revisions.entity_count() and index.catch_up() == 0
    before = index.backlink_count("Q300")
    assert catalogue.load_paths([write_ttl("lab.ttl", RECORD)]).ok
    assert index.catch_up() == 1
    assert index.names(["Q5000"], ["fr"]) == {"Q5000": ("fr", "Laboratoire")}
    assert index.backlink_count("Q300") - before == 1
    catalogue.delete("Q5000", reason="test")
    assert index.catch_up() == 1
    assert index.names(["Q5000"], ["en"]) == {} and index.backlink_count("Q300") == before
    assert search(index, "okl").total == 0


def test_merge_moves_names_and_links(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    other = RECORD.replace("Q5000", "Q5001").replace("Open Knowledge Lab", "Other Lab")
    assert catalogue.load_paths([write_ttl("labs.ttl", RECORD + other)]).ok
    index = catalogue.page_index
    index.catch_up()
    catalogue.merge("Q5001", "Q5000")
    index.catch_up()
    assert not index.exists("Q5001")
    assert [h.id for h in search(index, "other lab").hits] == ["Q5000"]  # now an alias


def test_a_different_log_rebuilds_the_index(
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    make_settings: Callable[..., Settings],
    tmp_path: Path,
) -> None:
    catalogue.page_index.catch_up()
    assert catalogue.load_paths([write_ttl("lab.ttl", RECORD)]).ok
    catalogue.page_index.catch_up()
    catalogue.close()
    stale = tmp_path / "stale-pages.sqlite3"
    shutil.copy(tmp_path / "data" / "pages.sqlite3", stale)
    # an older log (the ontology only) with the newer index next to it
    shutil.rmtree(tmp_path / "data")
    with Catalogue.open(make_settings()) as fresh:
        fresh.install_ontology()
    shutil.copy(stale, tmp_path / "data" / "pages.sqlite3")
    with Catalogue.open(make_settings()) as reopened:
        index = reopened.page_index
        assert index.indexed_id > reopened.revisions.last_id()
        index.catch_up()
        assert index.indexed_id == reopened.revisions.last_id()
        assert not index.exists("Q5000") and index.exists("Q1")


def test_changed_languages_rebuild_the_sort_keys(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    assert catalogue.load_paths([write_ttl("lab.ttl", RECORD)]).ok
    catalogue.page_index.catch_up()
    french = PageIndex(catalogue.page_index.path, catalogue.revisions, catalogue.ns, ["fr", "en"])
    try:
        assert french.catch_up() == catalogue.revisions.entity_count()  # rebuilt
        row = french.db.execute("SELECT sort_key FROM entity WHERE num = 5000").fetchone()
        assert row == ("laboratoire",)
    finally:
        french.close()


def test_properties_know_their_type_and_formatter(catalogue: Catalogue) -> None:
    index = catalogue.page_index
    index.catch_up()
    properties = index.properties()
    assert properties["P22"].type == "ExternalId"
    assert properties["P22"].formatter == "https://www.wikidata.org/wiki/$1"
    assert properties["P1"].type == "WikibaseItem" and properties["P1"].formatter is None
    assert LABEL == 0


def _class_facts_agree(index: PageIndex) -> None:
    kept = set(index.db.execute("SELECT class, prop, value, n FROM class_fact"))
    recount = set(
        index.db.execute(
            "SELECT c.value, f.prop, f.value, count(*) FROM fact c JOIN fact f ON f.num = c.num "
            "WHERE c.prop = -1 GROUP BY c.value, f.prop, f.value"
        )
    )
    assert kept == recount
    members = set(index.db.execute("SELECT class, sort_key, num FROM member"))
    assert members == set(
        index.db.execute(
            "SELECT c.value, e.sort_key, e.num FROM fact c JOIN entity e ON e.num = c.num "
            "WHERE c.prop = -1"
        )
    )


def _languages_agree(index: PageIndex) -> None:
    kept = set(index.db.execute("SELECT lang, names FROM name_language"))
    assert kept == set(index.db.execute("SELECT lang, count(*) FROM name GROUP BY lang"))
    assert index.written_languages() == {lang for lang, _ in kept}


def _derived_tables_agree(index: PageIndex) -> None:
    """Every table the index keeps up incrementally equals a recount of its source."""
    index.catch_up()
    _class_facts_agree(index)
    _languages_agree(index)


def _load(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path], name: str, body: str
) -> PageIndex:
    """Load ``body`` as a file of its own; the index, caught up and checked."""
    report = catalogue.load_paths([write_ttl(name, body)])
    assert report.ok, report.rejections
    _derived_tables_agree(catalogue.page_index)
    return catalogue.page_index


def test_per_class_fact_counts_follow_every_change(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    _derived_tables_agree(catalogue.page_index)
    other = RECORD.replace("Q5000", "Q5001").replace("wd:Q300", "wd:Q301")
    index = _load(catalogue, write_ttl, "labs.ttl", RECORD + other)
    assert (1, num("P14"), 300, 1) in set(index.db.execute("SELECT * FROM class_fact"))
    changed = RECORD.replace("wd:Q300", "wd:Q302")
    _load(catalogue, write_ttl, "changed.ttl", changed)
    renamed = changed.replace("Open Knowledge Lab", "Zeta Lab")
    _load(catalogue, write_ttl, "renamed.ttl", renamed)
    assert set(index.db.execute("SELECT * FROM member WHERE num = 5000")) == {(1, "zeta lab", 5000)}
    catalogue.merge("Q5001", "Q5000")
    catalogue.delete("Q5000", reason="test")
    _derived_tables_agree(index)
    assert not index.db.execute("SELECT * FROM class_fact WHERE prop = ?", (num("P14"),)).fetchall()


def test_the_languages_names_are_written_in_follow_every_change(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    index = catalogue.page_index
    _derived_tables_agree(index)
    assert "eo" not in index.written_languages()
    esperanto = RECORD.replace('"Laboratoire"@fr', '"Laboratorio"@eo')
    _load(catalogue, write_ttl, "eo.ttl", esperanto)
    assert "eo" in index.written_languages()
    _load(catalogue, write_ttl, "fr.ttl", RECORD)  # the Esperanto label goes
    assert "eo" not in index.written_languages()
    index._reset()
    assert index.written_languages() == frozenset()
    _derived_tables_agree(index)


def _edit_index_file(catalogue: Catalogue, tmp_path: Path, *statements: str) -> None:
    """Build the index, close the catalogue, then change its file as an older (or
    another) version of Bigtent would have left it."""
    catalogue.page_index.catch_up()
    catalogue.close()
    db = sqlite3.connect(tmp_path / "data" / "pages.sqlite3")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def test_tables_added_since_schema_4_are_filled_once_without_a_rebuild(
    catalogue: Catalogue, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    _edit_index_file(
        catalogue,
        tmp_path,
        "DROP TRIGGER name_added",
        "DROP TRIGGER name_removed",
        "DROP TABLE name_language",
        "DROP TABLE member",
    )
    with Catalogue.open(make_settings()) as reopened:
        index = reopened.page_index
        assert index.indexed_id == reopened.revisions.last_id()  # not rebuilt
        _derived_tables_agree(index)
        assert {"en", "fr"} <= index.written_languages()
        assert index.db.execute("SELECT count(*) FROM member").fetchone()[0] > 100


def test_an_index_of_another_schema_is_rebuilt(
    catalogue: Catalogue, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    _edit_index_file(
        catalogue,
        tmp_path,
        "UPDATE meta SET value = 'old' WHERE key = 'schema'",
        "DROP TABLE entity",
        "CREATE TABLE entity (num INTEGER PRIMARY KEY, sort_key TEXT)",
    )
    with Catalogue.open(make_settings()) as reopened:
        index = reopened.page_index
        assert index.indexed_id == 0
        assert index.catch_up() == reopened.revisions.entity_count()
        assert index.exists("Q1") and search(index, "organisation").hits[0].id == "Q1"


def test_the_memo_drops_the_least_recently_used(catalogue: Catalogue) -> None:
    """Regression: a crawl of entity pages (one memo entry each) emptied the whole memo
    every 512 pages, so every page after it recomputed the catalogue-wide figures."""
    index = catalogue.page_index.current()
    computed: list[str] = []

    def figure(name: str) -> str:
        computed.append(name)
        return name

    index.memo(("catalogue-wide",), lambda: figure("catalogue-wide"))
    for page in range(3 * MEMO_SIZE):
        index.memo(("catalogue-wide",), lambda: figure("catalogue-wide"))  # every page reads it
        index.memo(("page", page), lambda: figure("page"))
    assert computed.count("catalogue-wide") == 1
    index.memo(("page", 0), lambda: figure("page"))  # long since dropped
    assert computed.count("page") == 3 * MEMO_SIZE + 1


def test_the_memo_drops_what_an_older_index_computed(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    """Regression: entries of an older index were kept until MEMO_SIZE newer ones pushed
    them out; never asked for again, large ones (network graphs) held gigabytes at 1M."""
    index = catalogue.page_index.current()
    big = index.memo(("network graph",), lambda: ["graph"] * 1000)
    assert index.memo(("network graph",), list) is big  # kept while the index stands
    assert catalogue.load_paths([write_ttl("lab.ttl", RECORD)]).ok
    index = catalogue.page_index.current()  # caught up with the load
    index.memo(("link_counts", "Q1"), lambda: 1)
    assert all(value is not big for value in index._memo.values())
    assert len(index._memo) == 1
    assert index.memo(("network graph",), list) == []  # computed again, for the new index


def test_connections_do_not_map_the_file(catalogue: Catalogue) -> None:
    """Regression: each thread's connection mapped up to 256 MB of the index, so the same
    cached pages counted once per serving thread in the server's RSS (1.5 GB at 100k)."""
    index = catalogue.page_index
    assert index.db.execute("PRAGMA mmap_size").fetchone()[0] == 0
