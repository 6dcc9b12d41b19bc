"""Loading: normalisation to the Wikibase model, revisions, atomic writes, recovery."""

from __future__ import annotations

import gzip
import io
import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from loader.base.namespaces import Namespaces
from loader.catalogue import Catalogue
from loader.storage.revision_log import NewRevision
from tests.conftest import BASE
from tests.graphs import assert_isomorphic, to_rdflib
from webapp.cli import main

NS = Namespaces(BASE)

SHORT = """
wd:Q5000 a wikibase:Item ;
  rdfs:label "Open Knowledge Lab"@en, "Laboratoire du savoir libre"@fr ;
  schema:description "a fictional test organisation"@en ;
  wdt:P1 wd:Q1 ;
  wdt:P11 <https://lab.example.org/> ;
  wdt:P48 "2012-05"^^xsd:gYearMonth .
"""

FULL = """
wd:Q5000 a wikibase:Item ;
  rdfs:label "Open Knowledge Lab"@en, "Laboratoire du savoir libre"@fr ;
  schema:description "a fictional test organisation"@en ;
  p:P1 [ ps:P1 wd:Q1 ] ;
  p:P11 [ ps:P11 <https://lab.example.org/> ] ;
  p:P48 [ ps:P48 "2012-05"^^xsd:gYearMonth ] .
"""


def _truthy(cat: Catalogue, pid: str) -> set[str]:
    """Truthy values of a property on Q5000."""
    rows = cat.select(
        "SELECT ?v ?p WHERE { GRAPH ?g { wd:Q5000 ?p ?v } }", {"p": NS.predicate("wdt", pid)}
    )
    return {r["v"].value for r in rows}


def _content(cat: Catalogue, entity: str) -> list[tuple[object, object, object]]:
    doc = NS.data_document(entity)
    return [t for t in cat.entity_triples(entity) if t[0] != doc]


def test_short_form_becomes_full_statements(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    report = catalogue.load_paths([write_ttl("short.ttl", SHORT)])
    assert report.ok and report.created == 1
    rows = catalogue.select(
        "SELECT ?st ?rank ?best ?precision WHERE { GRAPH ?g { wd:Q5000 p:P48 ?st . "
        "?st ps:P48 ?v ; wikibase:rank ?rank ; psv:P48 ?node . ?node wikibase:timePrecision "
        "?precision . OPTIONAL { ?st a ?best FILTER(?best = wikibase:BestRank) } } }"
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["st"].value.startswith(NS["wds"] + "Q5000-")
    assert row["rank"].value.endswith("NormalRank")
    assert row["best"].value.endswith("BestRank")
    assert row["precision"].value == "10"  # month precision kept
    types = {
        r["t"].value for r in catalogue.select("SELECT ?t WHERE { GRAPH ?g { wd:Q5000 a ?t } }")
    }
    assert "https://w3id.org/bigtent/ontology#Organisation" in types
    assert "http://wikiba.se/ontology#Item" in types


def test_short_and_full_forms_give_isomorphic_records(
    tmp_path: Path,
    ontology_template: Path,
    make_settings: Callable[..., object],
    write_ttl: Callable[[str, str], Path],
) -> None:
    import shutil

    graphs = []
    for name, body in (("short", SHORT), ("full", FULL)):
        data = tmp_path / name
        shutil.copytree(ontology_template, data)
        with Catalogue.open(make_settings(DATA_DIR=str(data))) as cat:  # type: ignore[attr-defined]
            assert cat.load_paths([write_ttl(f"{name}.ttl", body)]).ok
            graphs.append(to_rdflib(_content(cat, "Q5000")))
    assert_isomorphic(graphs[0], graphs[1])


def test_reloading_an_unchanged_record_creates_no_revision(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    path = write_ttl("org.ttl", SHORT)
    catalogue.load_paths([path])
    revisions = catalogue.revisions.count()
    again = catalogue.load_paths([path])
    assert again.unchanged == 1 and again.loaded == 0
    assert catalogue.revisions.count() == revisions
    changed = catalogue.load_paths([write_ttl("org2.ttl", SHORT.replace("2012-05", "2013-05"))])
    assert changed.updated == 1
    history = catalogue.revisions.history("Q5000")
    assert [r.number for r in history] == [2, 1]
    version = catalogue.select("SELECT ?v WHERE { GRAPH ?g { wdata:Q5000 schema:version ?v } }")
    assert int(version[0]["v"].value) == history[0].id


def test_truthy_triples_follow_ranks(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    body = """
wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
  p:P11 [ ps:P11 <https://old.example.org/> ; wikibase:rank wikibase:DeprecatedRank ] ,
        [ ps:P11 <https://a.example.org/> ] ,
        [ ps:P11 <https://b.example.org/> ; wikibase:rank wikibase:PreferredRank ] .
"""
    assert catalogue.load_paths([write_ttl("ranks.ttl", body)]).ok
    assert _truthy(catalogue, "P11") == {"https://b.example.org/"}
    best = catalogue.select("SELECT ?st WHERE { GRAPH ?g { ?st a wikibase:BestRank ; ps:P11 ?v } }")
    assert len(best) == 1


def test_truthy_and_full_form_mix(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    """A truthy value with no statement of its own is short form, even next to full ones."""
    body = """
wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
  wdt:P11 <https://second.example.org/> ;
  p:P11 [ ps:P11 <https://lab.example.org/> ] .
"""
    assert catalogue.load_paths([write_ttl("mix.ttl", body)]).ok
    assert _truthy(catalogue, "P11") == {"https://second.example.org/", "https://lab.example.org/"}


def test_wrong_hand_written_truthy_triple_is_rejected(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    body = """
wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
  wdt:P11 <https://elsewhere.example.org/> ;
  p:P11 [ ps:P11 <https://lab.example.org/> ; wikibase:rank wikibase:PreferredRank ] .
"""
    report = catalogue.load_paths([write_ttl("truthy.ttl", body)])
    assert report.rejected == 1
    messages = " ".join(p.message for r in report.rejections for p in r.problems)
    assert "elsewhere.example.org" in messages or "truthy" in messages.lower()


def test_property_entities_get_every_predicate_link(catalogue: Catalogue) -> None:
    links = {
        r["link"].value.removeprefix("http://wikiba.se/ontology#"): r["pred"].value
        for r in catalogue.select(
            "SELECT ?link ?pred WHERE { GRAPH ?g { wd:P4 ?link ?pred } "
            "FILTER(STRSTARTS(STR(?link), 'http://wikiba.se/ontology#')) "
            "FILTER(?link != wikibase:propertyType) }"
        )
    }
    assert links == {
        "directClaim": NS["wdt"] + "P4",
        "claim": NS["p"] + "P4",
        "statementProperty": NS["ps"] + "P4",
        "statementValue": NS["psv"] + "P4",
        "qualifier": NS["pq"] + "P4",
        "qualifierValue": NS["pqv"] + "P4",
        "reference": NS["pr"] + "P4",
        "referenceValue": NS["prv"] + "P4",
        "novalue": NS["wdno"] + "P4",
    }


def test_dry_run_writes_nothing(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    before = catalogue.revisions.count()
    report = catalogue.load_paths([write_ttl("org.ttl", SHORT)], dry_run=True)
    assert report.ok and report.created == 1 and report.dry_run
    assert catalogue.revisions.count() == before
    assert catalogue.revisions.state("Q5000") is None


def test_reads_gzip_directories_and_stdin(
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = write_ttl("org.ttl", SHORT)
    folder = tmp_path / "dir"
    folder.mkdir()
    with gzip.open(folder / "org.ttl.gz", "wb") as fh:
        fh.write(src.read_bytes().replace(b"Q5000", b"Q5001"))
    nt = ox.serialize(ox.parse(path=str(src), base_iri=BASE), format=ox.RdfFormat.N_TRIPLES)
    assert nt is not None
    data_dir, base = str(catalogue.settings.data_dir), catalogue.settings.BASE_URL
    catalogue.close()
    assert main(["--data-dir", data_dir, "--base-url", base, "load", str(folder)]) == 0
    stdin = io.TextIOWrapper(io.BytesIO(nt.replace(b"Q5000", b"Q5002")), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["--data-dir", data_dir, "--base-url", base, "load", "-"]) == 0
    out = capsys.readouterr().out
    assert "1 new" in out
    with Catalogue.open(catalogue.settings) as cat:
        assert cat.revisions.state("Q5001") is not None
        assert cat.revisions.state("Q5002") is not None


def test_interrupted_write_is_recovered_on_open(catalogue: Catalogue) -> None:
    """Simulate a crash after the revision was logged but before the store was written."""
    content = (
        f'<{NS["wd"]}Q5000> <http://www.w3.org/2000/01/rdf-schema#label> "Recovered"@en .\n'
    ).encode()
    catalogue.revisions.append([NewRevision("Q5000", "create", "test", "crash", "h", content)])
    assert not catalogue.entity_triples("Q5000")  # not applied: the "crash"
    settings = catalogue.settings
    catalogue.close()
    with Catalogue.open(settings) as cat:
        assert cat.recovered == 1
        labels = [o for s, p, o in cat.entity_triples("Q5000") if p.value.endswith("#label")]
        assert labels == [ox.Literal("Recovered", language="en")]
        assert not cat.revisions.unapplied()


def test_reindex_rebuilds_the_same_store(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    assert catalogue.load_paths([write_ttl("org.ttl", SHORT)]).ok
    before = to_rdflib((q.subject, q.predicate, q.object) for q in catalogue.store.quads())
    catalogue.reindex()
    after = to_rdflib((q.subject, q.predicate, q.object) for q in catalogue.store.quads())
    assert_isomorphic(before, after)


def test_delete_leaves_a_tombstone_and_merge_a_redirect(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    two = SHORT + SHORT.replace("Q5000", "Q5001").replace("Open Knowledge Lab", "OK Lab")
    assert catalogue.load_paths([write_ttl("two.ttl", two)]).ok
    catalogue.merge("Q5001", "Q5000", author="tester")
    assert catalogue.revisions.state("Q5001").state == "redirect"  # type: ignore[union-attr]
    same = catalogue.select("SELECT ?t WHERE { GRAPH ?g { wd:Q5001 owl:sameAs ?t } }")
    assert [r["t"].value for r in same] == [NS["wd"] + "Q5000"]
    aliases = catalogue.select("SELECT ?a WHERE { GRAPH ?g { wd:Q5000 skos:altLabel ?a } }")
    assert [r["a"].value for r in aliases] == ["OK Lab"]
    catalogue.delete("Q5000", reason="duplicate test record", author="tester")
    assert catalogue.revisions.state("Q5000").state == "deleted"  # type: ignore[union-attr]
    assert not catalogue.entity_triples("Q5000")
    assert catalogue.revisions.history("Q5000")[0].summary == "duplicate test record"


def test_dump_loaded_into_an_empty_store_is_isomorphic(
    catalogue: Catalogue, write_ttl: Callable[[str, str], Path], tmp_path: Path
) -> None:
    assert catalogue.load_paths([write_ttl("org.ttl", SHORT)]).ok
    files = {p.name: p for p in catalogue.dump(tmp_path / "dumps")}
    assert set(files) == {
        "bigtent-full.nt.gz",
        "bigtent-full.ttl.gz",
        "bigtent-truthy.nt.gz",
        "bigtent-truthy.ttl.gz",
    }
    ontology = catalogue.ontology_graph
    expected = to_rdflib(
        (q.subject, q.predicate, q.object)
        for q in catalogue.store.quads()
        if q.graph_name != ontology
    )
    for name in ("bigtent-full.nt.gz", "bigtent-full.ttl.gz"):
        store = ox.Store()
        fmt = ox.RdfFormat.N_TRIPLES if ".nt" in name else ox.RdfFormat.TURTLE
        with gzip.open(files[name], "rb") as fh:
            store.load(fh, fmt)
        assert_isomorphic(expected, to_rdflib((q.subject, q.predicate, q.object) for q in store))
    with gzip.open(files["bigtent-truthy.nt.gz"], "rb") as fh:
        truthy = fh.read().decode()
    assert "/prop/direct/P11>" in truthy and "/entity/statement/" not in truthy


@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [
        (".nt", ox.RdfFormat.N_TRIPLES),
        (".nq", ox.RdfFormat.N_QUADS),
        (".trig", ox.RdfFormat.TRIG),
        (".jsonld", ox.RdfFormat.JSON_LD),
        (".rdf", ox.RdfFormat.RDF_XML),
    ],
)
def test_every_input_format_gives_the_same_record(
    suffix: str,
    fmt: ox.RdfFormat,
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    tmp_path: Path,
) -> None:
    """The record read from any format normalises to exactly what Turtle gives: loading
    it after the Turtle version changes nothing."""
    source = write_ttl("org.ttl", SHORT)
    assert catalogue.load_paths([source]).created == 1
    triples = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(path=str(source), base_iri=BASE)
    ]
    converted = tmp_path / f"org{suffix}"
    converted.write_bytes(ox.serialize(triples, format=fmt) or b"")
    report = catalogue.load_paths([converted])
    assert report.ok and report.unchanged == 1 and report.loaded == 0, report.as_dict()
