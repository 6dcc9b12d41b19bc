"""Checks of the demo catalogue in loader/data/demo/ (the records `bigtent demo` loads).

The files are parsed exactly as the loader parses them: Turtle with relative prefixes and
no @base, read with the catalogue base as base_iri.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "loader" / "data" / "demo"
ONTOLOGY = ROOT / "ontology"
SEED_FACTS = ROOT.parent / "shared" / "data" / "seed-facts.yaml"  # outside the repo: optional
BASE = "https://bigtent.example.org/"

WD = BASE + "entity/"
WDT = BASE + "prop/direct/"
P = BASE + "prop/"
PS = BASE + "prop/statement/"
PQ = BASE + "prop/qualifier/"
PR = BASE + "prop/reference/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SCHEMA = "http://schema.org/"
DESCRIPTION = SCHEMA + "description"
ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
WAS_DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"
ITEM = "http://wikiba.se/ontology#Item"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: The partnerships of seed-facts.yaml, by their source URL.
SEED_PARTNERSHIP_SOURCES = {
    "http://commons.wikimedia.org/wiki/Commons:Bundesarchiv",
    "http://commons.wikimedia.org/wiki/Commons:Deutsche_Fotothek",
    "http://schools-wikipedia.org/",
    "http://blog.wikimedia.org/2009/02/20/"
    "wiki-to-print-feature-activated-in-six-more-wikipedia-languages/",
    "http://meta.wikimedia.org/wiki/Press_releases/"
    "One_Laptop_Per_Child_Includes_Wikipedia_on_$100_Laptops",
    "http://blog.wikimedia.org/2009/01/26/mozilla-and-wikimedia-join-forces-to-support-open-video/",
    "http://www.nih.gov/news/health/jul2009/od-14.htm",
    "http://blog.wikimedia.org/2009/04/16/"
    "first-preliminary-results-from-unu-merit-survey-of-wikipedia-readers-and-contributors-available/",
}

#: The five networks of the seed facts and their node type (Q100 club, Q101 affiliate
#: network, Q102 core network).
SEED_NETWORKS = {
    "Hive Learning Networks": "Q101",
    "Maker Party": "Q101",
    "OpenNews": "Q102",
    "Mozilla Science Lab": "Q102",
    "Mozilla Clubs": "Q100",
}

#: Item-valued properties whose values come from one vocabulary: allowed Q-number ranges
#: (ontology/README.md, "Items in the ontology"; demo ranges for territories and documents).
VOCABULARY_RANGES: dict[str, range] = {
    "P6": range(110, 120),  # role
    "P7": range(130, 140),  # partnership activity type
    "P13": range(300, 400),  # capacity known
    "P14": range(300, 400),  # capacity offered
    "P15": range(300, 400),  # capacity needed
    "P23": range(100, 110),  # network node type
    "P24": range(120, 130),  # relationship kind
    "P25": range(140, 150),  # partnership tier
    "P26": range(150, 160),  # GLAM engagement level
    "P27": range(160, 170),  # partnership scope
    "P28": range(170, 180),  # alignment
    "P29": range(180, 190),  # partnership status
    "P30": range(1300, 1320),  # governing document
    "P31": range(190, 200),  # document type
    "P32": range(200, 210),  # assessment criterion
    "P33": range(210, 220),  # assessment rating
    "P35": range(220, 230),  # decision level
    "P37": range(240, 250),  # proficiency level
    "P38": range(230, 240),  # modality
    "P39": range(250, 300),  # language
    "P40": range(1400, 1500),  # applies to territory
    "P12": range(1400, 1500),  # located in
    "P45": range(300, 400),  # addresses capacity
}
TIME_PROPERTIES = {"P9", "P10", "P36", "P48"}
TIME_TYPES = {XSD + "gYear", XSD + "gYearMonth", XSD + "date"}
#: The only properties a (fictional) person record may use: no contact data but the consented
#: contact page (P55, invented pages under https://example.org/ only), no location.
PERSON_PROPERTIES = {"P1", "P4", "P13", "P14", "P15", "P55"}
WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
#: Demo coordinates are written "Point(longitude latitude)" to four decimals.
DEMO_POINT = re.compile(r"^Point\((-?\d{1,3}\.\d{4}) (-?\d{1,2}\.\d{4})\)$")
PERSON_QUALIFIERS = {"P6", "P9", "P10", "P37", "P38", "P39", "P40"}
CONTACT_PREDICATES = re.compile(
    r"(email|mbox|telephone|phone|address|birth|faxNumber|homepage|vcard|contactPoint)",
    re.IGNORECASE,
)
#: Statements that only the invented (fictional) partnerships may carry.
INVENTED_ONLY = {"P28", "P30", "P32", "P35"}

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]
TOP_LEVEL_SUBJECT = re.compile(r"^wd:(Q[1-9][0-9]*)\b", re.MULTILINE)


def _parse(path: Path) -> list[Triple]:
    return [
        (t.subject, t.predicate, t.object)  # type: ignore[misc]
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    ]


def _qid(term: object) -> str | None:
    if isinstance(term, ox.NamedNode) and term.value.startswith(WD):
        local = term.value[len(WD) :]
        if re.fullmatch(r"Q[1-9][0-9]*", local):
            return local
    return None


def _number(qid: str) -> int:
    return int(qid[1:])


def _prop(predicate: ox.NamedNode, namespace: str) -> str | None:
    value = predicate.value
    if value.startswith(namespace):
        local = value[len(namespace) :]
        if re.fullmatch(r"P[1-9][0-9]*", local):
            return local
    return None


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_files() -> dict[str, list[Triple]]:
    files = sorted(DEMO.glob("*.ttl"))
    assert files, f"no demo records in {DEMO}"
    return {path.name: _parse(path) for path in files}


@pytest.fixture(scope="module")
def triples(demo_files: dict[str, list[Triple]]) -> list[Triple]:
    return [t for ts in demo_files.values() for t in ts]


@pytest.fixture(scope="module")
def by_subject(triples: list[Triple]) -> dict[object, list[tuple[ox.NamedNode, object]]]:
    index: dict[object, list[tuple[ox.NamedNode, object]]] = defaultdict(list)
    for s, p, o in triples:
        index[s].append((p, o))
    return index


@pytest.fixture(scope="module")
def entities(triples: list[Triple]) -> set[str]:
    return {q for s, _, _ in triples if (q := _qid(s)) is not None}


def _values(by_subject: dict, node: object, predicate: str) -> list[object]:
    return [o for p, o in by_subject.get(node, ()) if p.value == predicate]


def _statement_values(by_subject: dict, entity: str, pid: str) -> list[object]:
    """Main values of a property on an entity, short form or full form."""
    node = ox.NamedNode(WD + entity)
    values = _values(by_subject, node, WDT + pid)
    for statement in _values(by_subject, node, P + pid):
        values += _values(by_subject, statement, PS + pid)
    return values


def _instances(by_subject: dict, entities: set[str], cls: str) -> set[str]:
    return {e for e in entities if ox.NamedNode(WD + cls) in _statement_values(by_subject, e, "P1")}


def _english(by_subject: dict, entity: str, predicate: str) -> str:
    for o in _values(by_subject, ox.NamedNode(WD + entity), predicate):
        if isinstance(o, ox.Literal) and o.language == "en":
            return o.value
    return ""


def _entity_by_label(by_subject: dict, entities: set[str], label: str) -> str:
    found = [e for e in entities if _english(by_subject, e, RDFS_LABEL) == label]
    assert len(found) == 1, f"expected one entity labelled {label!r}, found {found}"
    return found[0]


# --- structure --------------------------------------------------------------------------


def test_files_use_relative_prefixes_without_base() -> None:
    for path in DEMO.glob("*.ttl"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*@base\b|^\s*BASE\b", text, re.MULTILINE), path.name
        assert "@prefix wd:  <entity/> ." in text or "@prefix wd: <entity/> ." in text, path.name
        assert "bigtent.example.org" not in text, f"{path.name}: absolute catalogue IRI"


def test_each_entity_is_described_in_one_block_of_one_file(
    demo_files: dict[str, list[Triple]],
) -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for name in demo_files:
        text = (DEMO / name).read_text(encoding="utf-8")
        blocks = Counter(TOP_LEVEL_SUBJECT.findall(text))
        twice = sorted(q for q, n in blocks.items() if n > 1)
        assert not twice, f"{name}: described in more than one block: {twice}"
        parsed = {q for s, _, _ in demo_files[name] if (q := _qid(s)) is not None}
        assert parsed == set(blocks), (
            f"{name}: entity subjects outside a top-level block: {sorted(parsed ^ set(blocks))}"
        )
        for qid in parsed:
            where[qid].append(name)
    duplicates = {q: files for q, files in where.items() if len(files) > 1}
    assert not duplicates, f"entities described in several files: {duplicates}"


def test_entities_are_items_with_one_label_per_language(
    by_subject: dict, entities: set[str]
) -> None:
    for entity in sorted(entities):
        node = ox.NamedNode(WD + entity)
        assert ox.NamedNode(ITEM) in _values(by_subject, node, RDF_TYPE), entity
        assert 1000 <= _number(entity) < 1700, f"{entity} is outside the demo ranges"
        for predicate in (RDFS_LABEL, DESCRIPTION):
            langs = Counter(
                o.language
                for o in _values(by_subject, node, predicate)
                if isinstance(o, ox.Literal)
            )
            assert all(n == 1 for n in langs.values()), f"{entity}: two {predicate} in a language"
        assert _english(by_subject, entity, RDFS_LABEL), f"{entity} has no English label"
        assert _english(by_subject, entity, DESCRIPTION), f"{entity} has no English description"
        assert _statement_values(by_subject, entity, "P1"), f"{entity} has no instance of (P1)"


def test_no_property_in_both_short_and_full_form(triples: list[Triple]) -> None:
    short = {(s, pid) for s, p, _ in triples if (pid := _prop(p, WDT))}
    full = {(s, pid) for s, p, _ in triples if (pid := _prop(p, P))}
    assert not short & full, f"wdt: and p: for the same property: {sorted(map(str, short & full))}"


def test_properties_exist_and_statement_nodes_are_well_formed(triples: list[Triple]) -> None:
    for s, p, o in triples:
        for namespace in (WDT, P, PS, PQ, PR):
            pid = _prop(p, namespace)
            if pid is not None:
                assert 1 <= int(pid[1:]) <= 55, f"{s} uses unknown property {pid}"
        pid = _prop(p, P)
        if pid is not None:
            assert isinstance(o, ox.BlankNode), f"{s} p:{pid}: write statements as blank nodes"


def test_references_resolve(triples: list[Triple], entities: set[str]) -> None:
    ontology_files = sorted(ONTOLOGY.glob("*.ttl")) if ONTOLOGY.is_dir() else []
    known = set(entities)
    for path in ontology_files:
        known |= {q for t in _parse(path) if (q := _qid(t[0])) is not None}
    missing = set()
    for _, _, o in triples:
        qid = _qid(o)
        if qid is None or qid in known:
            continue
        if _number(qid) < 1000 and not ontology_files:
            continue  # ontology/ not written yet: only the demo ids can be checked
        missing.add(qid)
    assert not missing, f"referenced but defined nowhere: {sorted(missing, key=_number)}"


def test_controlled_values_come_from_their_vocabulary(triples: list[Triple]) -> None:
    for s, p, o in triples:
        for namespace in (WDT, PS, PQ):
            pid = _prop(p, namespace)
            if pid is None:
                continue
            if pid in VOCABULARY_RANGES:
                qid = _qid(o)
                assert qid is not None, f"{s} {pid}: {o} is not an item"
                assert _number(qid) in VOCABULARY_RANGES[pid], f"{s} {pid}: {qid} out of range"
            if pid in TIME_PROPERTIES:
                assert isinstance(o, ox.Literal), f"{s} {pid}: {o} is not a time"
                assert o.datatype.value in TIME_TYPES, f"{s} {pid}: {o} has the wrong datatype"
            if pid in {"P11", "P18", "P47", "P55"}:
                assert isinstance(o, ox.NamedNode), f"{s} {pid}: URLs are IRIs"
                assert o.value.startswith(("http://", "https://")), f"{s} {pid}: {o}"
            if pid == "P22":
                assert isinstance(o, ox.Literal), f"{s} P22 is a string"
                assert re.fullmatch(r"Q[1-9][0-9]*", o.value), f"{s} P22: {o}"
            if pid == "P49":
                assert isinstance(o, ox.Literal), f"{s} P49 is monolingual text"
                assert o.language, f"{s} P49 needs a language tag"


def test_territories(by_subject: dict, entities: set[str]) -> None:
    territories = _instances(by_subject, entities, "Q9")
    assert territories == {e for e in entities if 1400 <= _number(e) < 1500}
    assert "worldwide" in {_english(by_subject, t, RDFS_LABEL) for t in territories}
    for territory in territories:
        langs = {
            o.language
            for o in _values(by_subject, ox.NamedNode(WD + territory), RDFS_LABEL)
            if isinstance(o, ox.Literal)
        }
        assert {"en", "fr", "es", "pt"} <= langs, territory
    germany = _entity_by_label(by_subject, entities, "Germany")
    assert _statement_values(by_subject, germany, "P22") == [ox.Literal("Q183")]


# --- the seed facts ---------------------------------------------------------------------


def _partnership_sources(by_subject: dict, entity: str) -> set[str]:
    node = ox.NamedNode(WD + entity)
    sources = set()
    for p, statement in by_subject.get(node, ()):
        # A start time (P9) may cite where its date was made public when the seed facts
        # give none (e.g. the Bundesarchiv's announcement): not a source of the partnership.
        if _prop(p, P) in (None, "P9"):
            continue
        for reference in _values(by_subject, statement, WAS_DERIVED_FROM):
            for url in _values(by_subject, reference, PR + "P18"):
                sources.add(url.value)  # type: ignore[attr-defined]
    return sources


def test_seed_fact_sources_are_the_ones_checked_here() -> None:
    if not SEED_FACTS.is_file():
        pytest.skip(f"{SEED_FACTS} is not available")
    text = SEED_FACTS.read_text(encoding="utf-8")
    section = text.split("\npartnerships:", 1)[1].split("\nendorsements:", 1)[0]
    sources = set(re.findall(r"^\s+source:\s*(\S+)", section, re.MULTILINE))
    assert sources == SEED_PARTNERSHIP_SOURCES


def test_every_seed_partnership_is_an_item(by_subject: dict, entities: set[str]) -> None:
    partnerships = _instances(by_subject, entities, "Q4")
    found: dict[str, str] = {}
    for entity in partnerships:
        for url in _partnership_sources(by_subject, entity):
            assert url not in found, f"{url} is the source of {found.get(url)} and {entity}"
            found[url] = entity
    assert set(found) == SEED_PARTNERSHIP_SOURCES
    for url, entity in found.items():
        participants = _statement_values(by_subject, entity, "P5")
        assert len(participants) >= 2, f"{entity} ({url}) needs two or more participants"
        assert _statement_values(by_subject, entity, "P7"), f"{entity} has no activity type"
        assert _statement_values(by_subject, entity, "P24") == [ox.NamedNode(WD + "Q120")]
        assert "fictional" not in _english(by_subject, entity, RDFS_LABEL).lower()
    wiki_to_print = found[
        "http://blog.wikimedia.org/2009/02/20/"
        "wiki-to-print-feature-activated-in-six-more-wikipedia-languages/"
    ]
    osi = _entity_by_label(by_subject, entities, "Open Society Institute")
    assert _statement_values(by_subject, wiki_to_print, "P16") == [ox.NamedNode(WD + osi)]


def test_invented_partnership_data_only_on_fictional_partnerships(
    by_subject: dict, entities: set[str]
) -> None:
    fictional = 0
    for entity in _instances(by_subject, entities, "Q4"):
        label = _english(by_subject, entity, RDFS_LABEL)
        invented = [pid for pid in INVENTED_ONLY if _statement_values(by_subject, entity, pid)]
        if "(fictional example)" in label:
            fictional += 1
            assert "fictional" in _english(by_subject, entity, DESCRIPTION).lower(), entity
            assert not _partnership_sources(by_subject, entity), f"{entity} cites a real source"
        else:
            assert not invented, f"{entity} ({label}) carries invented data: {invented}"
    assert fictional >= 2
    assessed = [
        e
        for e in _instances(by_subject, entities, "Q4")
        if _statement_values(by_subject, e, "P32") and _statement_values(by_subject, e, "P35")
    ]
    assert len(assessed) >= 2


def test_five_networks_with_node_type(by_subject: dict, entities: set[str]) -> None:
    mozilla = _entity_by_label(by_subject, entities, "Mozilla Foundation")
    networks = _instances(by_subject, entities, "Q3")
    members: Counter[str] = Counter()
    for entity in entities:
        for statement in _values(by_subject, ox.NamedNode(WD + entity), P + "P4"):
            for network in _values(by_subject, statement, PS + "P4"):
                assert _values(by_subject, statement, PQ + "P6"), f"{entity}: member role"
                assert _values(by_subject, statement, PQ + "P9"), f"{entity}: member start"
                members[_qid(network) or ""] += 1
    for name, node_type in SEED_NETWORKS.items():
        network = _entity_by_label(by_subject, entities, name)
        assert network in networks, name
        assert _statement_values(by_subject, network, "P23") == [ox.NamedNode(WD + node_type)]
        assert _statement_values(by_subject, network, "P43") == [ox.NamedNode(WD + mozilla)]
        assert members[network] >= 2, f"{name} needs several members"


def test_endorsements(by_subject: dict, entities: set[str]) -> None:
    wmf = _entity_by_label(by_subject, entities, "Wikimedia Foundation")
    wmde = _entity_by_label(by_subject, entities, "Wikimedia Deutschland")
    for name in ("CK-12 Foundation", "Europeana", "OER Foundation", "Connexions"):
        org = _entity_by_label(by_subject, entities, name)
        statements = _values(by_subject, ox.NamedNode(WD + org), P + "P17")
        assert len(statements) == 1, name
        assert _values(by_subject, statements[0], PS + "P17") == [ox.NamedNode(WD + wmf)]
        activity = _values(by_subject, statements[0], PQ + "P49")
        assert len(activity) == 1 and activity[0].language == "en", name  # type: ignore[attr-defined]
        if name == "Europeana":
            assert _values(by_subject, statements[0], PQ + "P50") == [ox.NamedNode(WD + wmde)]


# --- people -----------------------------------------------------------------------------


def test_people_are_fictional(by_subject: dict, entities: set[str]) -> None:
    people = {e for e in entities if 1500 <= _number(e) < 1600}
    assert len(people) >= 24
    assert _instances(by_subject, entities, "Q11") == people
    assert not _instances(by_subject, entities, "Q2"), "no real (non-fictional) people"
    for person in people:
        description = _english(by_subject, person, DESCRIPTION)
        assert description.startswith("Fictional person (Bigtent demo data)"), person
        other = [
            o
            for o in _values(by_subject, ox.NamedNode(WD + person), DESCRIPTION)
            if isinstance(o, ox.Literal) and o.language != "en"
        ]
        assert other, f"{person} needs a description in a second language"
        assert _statement_values(by_subject, person, "P1") == [ox.NamedNode(WD + "Q11")]
        directions = [
            pid for pid in ("P13", "P14", "P15") if _statement_values(by_subject, person, pid)
        ]
        assert directions, f"{person} states no capacity"


def test_people_hold_no_contact_data(by_subject: dict, entities: set[str]) -> None:
    for person in _instances(by_subject, entities, "Q11"):
        node = ox.NamedNode(WD + person)
        for p, o in by_subject[node]:
            assert not CONTACT_PREDICATES.search(p.value), f"{person}: {p}"
            pid = _prop(p, WDT) or _prop(p, P)
            if pid is None:
                assert p.value in {RDF_TYPE, RDFS_LABEL, DESCRIPTION, ALT_LABEL}, f"{person}: {p}"
                continue
            assert pid in PERSON_PROPERTIES, f"{person} uses {pid}"
            for q, _ in by_subject.get(o, ()):
                qualifier = _prop(q, PQ)
                if qualifier is not None:
                    assert qualifier in PERSON_QUALIFIERS, f"{person}: qualifier {qualifier}"


def test_contact_pages_are_invented_example_pages(triples: list[Triple]) -> None:
    pages = [(s, o) for s, p, o in triples if _prop(p, WDT) == "P55"]
    assert 2 <= len(pages) <= 3, "two or three demo people show a contact page"
    for s, o in pages:
        assert o.value.startswith("https://example.org/"), f"{s}: {o} is not an example page"
    assert not [s for s, p, _ in triples if _prop(p, WDT) == "P54"], "no usernames, even fake"


def test_coordinates(by_subject: dict, entities: set[str], triples: list[Triple]) -> None:
    points = {}
    for s, p, o in triples:
        if _prop(p, WDT) == "P53":
            assert isinstance(o, ox.Literal) and o.datatype.value == WKT, f"{s}: {o}"
            m = DEMO_POINT.match(o.value)
            assert m, f"{s}: {o.value} is not Point(longitude latitude) to four decimals"
            longitude, latitude = float(m.group(1)), float(m.group(2))
            assert -180 <= longitude <= 180 and -90 <= latitude <= 90, f"{s}: {o.value}"
            points[_qid(s)] = (latitude, longitude)
    people = _instances(by_subject, entities, "Q11")
    assert not people & set(points), "people never carry coordinates"
    territories = _instances(by_subject, entities, "Q9")
    assert {t for t in territories if _english(by_subject, t, RDFS_LABEL) != "worldwide"} <= set(
        points
    )
    assert {f"Q{n}" for n in range(1000, 1016)} <= set(points), "every real organisation"
    # Spot checks against public facts: Berlin (Wikimedia Deutschland), Paris (France).
    assert points["Q1001"] == (52.52, 13.405)
    assert points["Q1404"] == (48.8566, 2.3522)


def test_no_contact_data_anywhere(triples: list[Triple]) -> None:
    for s, p, _ in triples:
        assert not CONTACT_PREDICATES.search(p.value), f"{s} {p}"


def test_people_cover_many_languages_and_territories(by_subject: dict, entities: set[str]) -> None:
    languages: set[object] = set()
    territories: set[object] = set()
    modalities: set[object] = set()
    for person in _instances(by_subject, entities, "Q11"):
        for pid in ("P14", "P15"):
            for statement in _values(by_subject, ox.NamedNode(WD + person), P + pid):
                languages.update(_values(by_subject, statement, PQ + "P39"))
                territories.update(_values(by_subject, statement, PQ + "P40"))
                modalities.update(_values(by_subject, statement, PQ + "P38"))
    assert len(languages) >= 6
    assert len(territories) >= 15
    assert len(modalities) == 6


def test_resources_services_events_address_capacities(by_subject: dict, entities: set[str]) -> None:
    for cls, who in (("Q6", "P46"), ("Q7", "P46"), ("Q8", "P44")):
        instances = _instances(by_subject, entities, cls)
        assert instances, f"no instance of {cls}"
        for entity in instances:
            assert _statement_values(by_subject, entity, "P45"), f"{entity}: no capacity"
            assert _statement_values(by_subject, entity, who), f"{entity}: no {who}"
            if cls == "Q8":
                assert _statement_values(by_subject, entity, "P9"), f"{entity}: no start time"
                assert _statement_values(by_subject, entity, "P12"), f"{entity}: no place"


# --- through the loader -----------------------------------------------------------------


def test_demo_loads_through_the_loader_without_rejections(tmp_path: Path) -> None:
    """The demo passes the normal loader path (normalisation and SHACL) with the ontology."""
    from loader.base.settings import load_settings
    from loader.catalogue import Catalogue

    settings = load_settings(
        env={},
        overrides={"DATA_DIR": str(tmp_path / "data"), "BASE_URL": BASE, "LOAD_WORKERS": 1},
    )
    with Catalogue.open(settings) as cat:
        ontology, demo = cat.build_demo()
        assert ontology.ok, [r.lines() for r in ontology.rejections] + ontology.file_errors
        assert demo.ok, [line for r in demo.rejections for line in r.lines()] + demo.file_errors
        entities = {q for path in DEMO.glob("*.ttl") for t in _parse(path) if (q := _qid(t[0]))}
        assert demo.loaded == len(entities)
