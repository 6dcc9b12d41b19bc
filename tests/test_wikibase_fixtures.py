"""Real Wikibase RDF (Wikibase's own test fixtures) loads with statements, qualifiers,
references and ranks intact, and is re-exported isomorphically."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from loader.base.namespaces import Namespaces
from loader.catalogue import Catalogue
from tests.conftest import BASE
from tests.graphs import assert_isomorphic

DATA = Path(__file__).parent / "data" / "wikibase"
ACME = "http://acme.test/"
NS = Namespaces(BASE)
MAPPING = [  # ours -> theirs, longest first
    (NS["wds"], ACME + "statement/"),
    (NS.base + "prop/", ACME + "prop/"),
    (NS["wdref"], ACME + "reference/"),
    (NS["wdv"], ACME + "value/"),
    (NS["wd"], ACME),
]
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
WIKIBASE = "http://wikiba.se/ontology#"


def _back(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    if isinstance(term, ox.NamedNode):
        for ours, theirs in MAPPING:
            if term.value.startswith(ours):
                return f"<{theirs}{term.value[len(ours) :]}>"
    return str(term)


def _exported(cat: Catalogue, entity: str) -> Graph:
    """The entity's triples mapped back to the acme namespaces, without our data document."""
    doc = NS.data_document(entity)
    lines = [
        f"{_back(s)} {_back(p)} {_back(o)} .\n"
        for s, p, o in cat.entity_triples(entity)
        if s != doc
    ]
    return Graph().parse(data="".join(lines), format="nt")


def _parsed(*texts: str) -> Graph:
    graph = Graph()
    for text in texts:
        graph.parse(data=text, format="nt")
    return graph


@pytest.fixture
def wikibase_catalogue(make_settings: object) -> Catalogue:
    cat = Catalogue.open(make_settings(PROFILE="wikibase"))  # type: ignore[operator]
    yield cat  # type: ignore[misc]
    cat.close()


def test_full_dump_entities_round_trip(wikibase_catalogue: Catalogue) -> None:
    source = DATA / "full-dump-entities.nt"
    report = wikibase_catalogue.load_paths([source])
    assert report.ok, [r.lines() for r in report.rejections] + report.file_errors
    assert report.created == 3  # P10, Q30, Q40
    original = source.read_text(encoding="utf-8").splitlines(keepends=True)
    for entity in ("P10", "Q30", "Q40"):
        mine = [line for line in original if _about(line, entity)]
        assert_isomorphic(_parsed("".join(mine)), _exported(wikibase_catalogue, entity))


def _about(line: str, entity: str) -> bool:
    """Lines of the fixture that belong to an entity's record (not the dump header or
    the foreign data document, which Bigtent replaces with its own)."""
    if "wikiba.se/ontology#Dump" in line or "data.acme.test" in line:
        return False
    subject = line.split(" ", 1)[0]
    if subject in (f"<{ACME}{entity}>",) or (entity.startswith("P") and f"/{entity}>" in subject):
        return True
    if subject.startswith("_:"):
        return entity == "P10"  # the novalue restriction of P10
    return subject == f"<http://test.acme.test/Foo{entity}>"  # sitelinks


def test_statements_ranks_and_values_survive(wikibase_catalogue: Catalogue, tmp_path: Path) -> None:
    statements = (DATA / "Q4_statements.nt").read_text(encoding="utf-8")
    values = (DATA / "Q4_values.nt").read_text(encoding="utf-8")
    path = tmp_path / "q4.nt"
    path.write_text(statements + values, encoding="utf-8")
    report = wikibase_catalogue.load_paths([path])
    assert report.ok, [r.lines() for r in report.rejections] + report.file_errors
    exported = _exported(wikibase_catalogue, "Q4")
    original = _parsed(statements, values)
    # Nothing is lost or changed ...
    assert_isomorphic(original, _without_derived(exported, "Q4"))
    # ... and what Bigtent adds is exactly the derived triples: truthy values of the
    # best-ranked statements and the entity's type.
    added = {(str(s), str(p)) for s, p, _ in exported - original}
    assert (f"{ACME}Q4", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") in added
    direct = {p for s, p in added if "/prop/direct/" in p}
    assert direct == {f"{ACME}prop/direct/P{n}" for n in (2, 4, 5, 6, 7, 8, 9, 10, 11)} | {
        f"{ACME}prop/direct/P3"
    }
    deprecated = [s for s, p, o in exported if str(o).endswith("#DeprecatedRank")]
    assert len(deprecated) == 1


def _without_derived(exported: Graph, entity: str) -> Graph:
    """The exported triples minus what Bigtent derives: truthy values and the entity's
    types (wikibase:Item, and "no value" classes of best-ranked novalue statements)."""
    kept = Graph()
    subject = f"{ACME}{entity}"
    for s, p, o in exported:
        if "/prop/direct/" in str(p):
            continue
        if str(s) == subject and str(p).endswith("#type"):
            continue
        kept.add((s, p, o))
    return kept


def test_qualifiers_and_references_survive(wikibase_catalogue: Catalogue, tmp_path: Path) -> None:
    qualifiers = (DATA / "Q6_qualifiers.nt").read_text(encoding="utf-8")
    references = (DATA / "Q7_references.nt").read_text(encoding="utf-8")
    wrapper = (
        f'<{ACME}Q6> <http://www.w3.org/2000/01/rdf-schema#label> "wrapper"@en .\n'
        f"<{ACME}Q6> <{ACME}prop/P7> <{ACME}statement/TEST-Qualifiers> .\n"
        f'<{ACME}statement/TEST-Qualifiers> <{ACME}prop/statement/P7> "main value" .\n'
        f"<{ACME}statement/TEST-Qualifiers> <{RDF_TYPE}> <{WIKIBASE}Statement> .\n"
        f"<{ACME}statement/TEST-Qualifiers> <{RDF_TYPE}> <{WIKIBASE}BestRank> .\n"
        f"<{ACME}statement/TEST-Qualifiers> <{WIKIBASE}rank> <{WIKIBASE}NormalRank> .\n"
        f"<{ACME}statement/TEST-Qualifiers> <http://www.w3.org/ns/prov#wasDerivedFrom> "
        f"<{ACME}reference/d2412760c57cacd8c8f24d9afde3b20c87161cca> .\n"
    )
    path = tmp_path / "q6.nt"
    path.write_text(wrapper + qualifiers + references, encoding="utf-8")
    report = wikibase_catalogue.load_paths([path])
    assert report.ok, [r.lines() for r in report.rejections] + report.file_errors
    exported = _exported(wikibase_catalogue, "Q6")
    original = _parsed(wrapper, qualifiers, references)
    assert_isomorphic(original, _without_derived(exported, "Q6"))
    assert len(list(exported.triples((None, None, None)))) > len(original)
