"""The partnership & capacity ontology (ontology/*.ttl): structure, labels, mappings, ids."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from shapes_support import BASE, ONTOLOGY_DIR

ONTOLOGY_FILES = sorted(ONTOLOGY_DIR.glob("*.ttl"))
LANGUAGES = ("en", "fr", "es", "pt")

WD = f"{BASE}entity/"
WIKIBASE = "http://wikiba.se/ontology#"
BT = "https://w3id.org/bigtent/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "http://schema.org/"

PREFIXES = f"""
PREFIX wd: <{WD}>
PREFIX wdt: <{BASE}prop/direct/>
PREFIX wikibase: <{WIKIBASE}>
PREFIX bt: <{BT}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <{RDFS}>
PREFIX owl: <{OWL}>
PREFIX skos: <{SKOS}>
PREFIX schema: <{SCHEMA}>
"""

# The property table of ontology/README.md: P-number -> (English label, property type).
PROPERTY_TABLE = {
    "P1": ("instance of", "WikibaseItem"),
    "P2": ("subclass of", "WikibaseItem"),
    "P3": ("equivalent class", "Url"),
    "P4": ("member of", "WikibaseItem"),
    "P5": ("participant", "WikibaseItem"),
    "P6": ("object has role", "WikibaseItem"),
    "P7": ("partnership activity type", "WikibaseItem"),
    "P8": ("partnership with", "WikibaseItem"),
    "P9": ("start time", "Time"),
    "P10": ("end time", "Time"),
    "P11": ("official website", "Url"),
    "P12": ("located in", "WikibaseItem"),
    "P13": ("capacity known", "WikibaseItem"),
    "P14": ("capacity offered", "WikibaseItem"),
    "P15": ("capacity needed", "WikibaseItem"),
    "P16": ("funded by", "WikibaseItem"),
    "P17": ("endorsed by", "WikibaseItem"),
    "P18": ("reference URL", "Url"),
    "P19": ("stated in", "WikibaseItem"),
    "P20": ("broader concept", "WikibaseItem"),
    "P21": ("exact match", "Url"),
    "P22": ("Wikidata item ID", "ExternalId"),
    "P23": ("network node type", "WikibaseItem"),
    "P24": ("relationship kind", "WikibaseItem"),
    "P25": ("partnership tier", "WikibaseItem"),
    "P26": ("GLAM engagement level", "WikibaseItem"),
    "P27": ("partnership scope", "WikibaseItem"),
    "P28": ("alignment", "WikibaseItem"),
    "P29": ("partnership status", "WikibaseItem"),
    "P30": ("governing document", "WikibaseItem"),
    "P31": ("document type", "WikibaseItem"),
    "P32": ("assessment criterion", "WikibaseItem"),
    "P33": ("assessment rating", "WikibaseItem"),
    "P34": ("quantity", "Quantity"),
    "P35": ("decision level", "WikibaseItem"),
    "P36": ("point in time", "Time"),
    "P37": ("proficiency level", "WikibaseItem"),
    "P38": ("modality", "WikibaseItem"),
    "P39": ("language", "WikibaseItem"),
    "P40": ("applies to territory", "WikibaseItem"),
    "P41": ("language code", "String"),
    "P42": ("part of", "WikibaseItem"),
    "P43": ("coordinated by", "WikibaseItem"),
    "P44": ("organizer", "WikibaseItem"),
    "P45": ("addresses capacity", "WikibaseItem"),
    "P46": ("provided by", "WikibaseItem"),
    "P47": ("described at URL", "Url"),
    "P48": ("inception", "Time"),
    "P49": ("endorsed activity", "Monolingualtext"),
    "P50": ("together with", "WikibaseItem"),
    "P51": ("equivalent property", "Url"),
    "P52": ("formatter URL", "String"),
    "P53": ("coordinate location", "GlobeCoordinate"),
    "P54": ("Wikimedia username", "ExternalId"),
    "P55": ("contact page", "Url"),
}
REQUIRED_LABELS = [
    "instance of", "subclass of", "member of", "participant", "object has role",
    "partnership activity type", "start time", "end time", "official website", "located in",
    "capacity known", "capacity offered", "capacity needed", "funded by", "endorsed by",
    "reference URL", "stated in",
]  # fmt: skip
# wikibase: link -> path of the predicate below the base (ontology/README.md IRI layout).
LINKS = {
    "directClaim": "prop/direct/",
    "claim": "prop/",
    "statementProperty": "prop/statement/",
    "statementValue": "prop/statement/value/",
    "qualifier": "prop/qualifier/",
    "qualifierValue": "prop/qualifier/value/",
    "reference": "prop/reference/",
    "referenceValue": "prop/reference/value/",
    "novalue": "prop/novalue/",
}
# Wikibase types these predicates owl:ObjectProperty for item and URL properties, else
# owl:DatatypeProperty; the value-node and claim predicates are always object properties.
TYPED_BY_VALUE = ("directClaim", "statementProperty", "qualifier", "reference")
ALWAYS_OBJECT = ("claim", "statementValue", "qualifierValue", "referenceValue")
VOCABULARY_ITEMS = {f"Q{n}" for n in range(21, 36)}
CLASS_ITEMS = {f"Q{n}" for n in range(1, 13)} | {"Q20"} | VOCABULARY_ITEMS


def parse(path: Path) -> list[ox.Quad]:
    return list(ox.parse(path=path, format=ox.RdfFormat.TURTLE, base_iri=BASE))


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    for path in ONTOLOGY_FILES:
        store.extend(parse(path))
    return store


def select(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    solutions = store.query(PREFIXES + query)
    assert isinstance(solutions, ox.QuerySolutions)
    return [tuple(term.value if term else "" for term in row) for row in solutions]


def local(iri: str) -> str:
    return iri.removeprefix(WD)


def labels_by_language(store: ox.Store, predicate: str, kind: str) -> dict[str, set[str]]:
    rows = select(
        store,
        f"SELECT ?e ?lang WHERE {{ ?e a {kind} ; {predicate} ?text . BIND(LANG(?text) AS ?lang) }}",
    )
    found: dict[str, set[str]] = {}
    for entity, language in rows:
        found.setdefault(local(entity), set()).add(language)
    return found


@pytest.mark.parametrize("path", ONTOLOGY_FILES, ids=lambda p: p.name)
def test_file_parses_with_relative_prefixes(path: Path) -> None:
    quads = parse(path)
    assert quads, f"{path.name} is empty"
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(@base|BASE)\b", text, re.MULTILINE | re.IGNORECASE)
    assert "bigtent.example.org" not in text, "instance IRIs must come from relative prefixes"
    assert re.search(r"^@prefix wd:\s+<entity/> \.$", text, re.MULTILINE)


def test_expected_files() -> None:
    names = {p.name for p in ONTOLOGY_FILES}
    assert {
        "bigtent-owl.ttl", "properties.ttl", "classes.ttl", "vocabularies.ttl",
        "languages.ttl", "capacities.ttl",
    } <= names  # fmt: skip


def test_no_entity_defined_twice() -> None:
    seen: Counter[str] = Counter()
    for path in ONTOLOGY_FILES:
        subjects = {
            q.subject.value
            for q in parse(path)
            if q.predicate.value == RDF_TYPE
            and q.object.value in (f"{WIKIBASE}Item", f"{WIKIBASE}Property")
        }
        seen.update(local(s) for s in subjects)
    duplicates = [entity for entity, count in seen.items() if count > 1]
    assert not duplicates, f"defined in more than one file: {duplicates}"


def test_property_table(store: ox.Store) -> None:
    rows = select(
        store,
        """SELECT ?p ?label ?type WHERE {
             ?p a wikibase:Property ; wikibase:propertyType ?type ; rdfs:label ?label .
             FILTER (LANG(?label) = "en") }""",
    )
    found = {local(p): (label, type_.removeprefix(WIKIBASE)) for p, label, type_ in rows}
    assert found == PROPERTY_TABLE


@pytest.mark.parametrize("label", REQUIRED_LABELS)
def test_required_label_on_exactly_one_property(store: ox.Store, label: str) -> None:
    rows = select(
        store,
        f'SELECT ?p WHERE {{ ?p a wikibase:Property ; rdfs:label "{label}"@en }}',
    )
    assert len(rows) == 1, f"{label!r} is the English label of {rows}"


def test_property_labels_unique_per_language(store: ox.Store) -> None:
    rows = select(
        store,
        "SELECT ?label (COUNT(?p) AS ?n) WHERE { ?p a wikibase:Property ; rdfs:label ?label } "
        "GROUP BY ?label HAVING (COUNT(?p) > 1)",
    )
    assert not rows, f"labels shared by properties (Wikibase forbids it): {rows}"


@pytest.mark.parametrize("pid", sorted(PROPERTY_TABLE, key=lambda p: int(p[1:])))
def test_property_entity_like_wikibase(store: ox.Store, pid: str) -> None:
    entity = ox.NamedNode(WD + pid)
    links = {
        q.predicate.value.removeprefix(WIKIBASE): q.object.value
        for q in store.quads_for_pattern(entity, None, None)
        if q.predicate.value.startswith(WIKIBASE)
    }
    assert links.pop("propertyType") == WIKIBASE + PROPERTY_TABLE[pid][1]
    assert links == {name: f"{BASE}{path}{pid}" for name, path in LINKS.items()}

    def types(iri: str) -> set[str]:
        return {
            q.object.value
            for q in store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(RDF_TYPE), None)
        }

    by_value = (
        OWL + "ObjectProperty"
        if PROPERTY_TABLE[pid][1] in ("WikibaseItem", "Url")
        else OWL + "DatatypeProperty"
    )
    for name in TYPED_BY_VALUE:
        assert types(links[name]) == {by_value}, name
    for name in ALWAYS_OBJECT:
        assert types(links[name]) == {OWL + "ObjectProperty"}, name
    assert types(links["novalue"]) == {OWL + "Class"}
    restriction = select(
        store,
        f"""SELECT ?r WHERE {{ <{links["novalue"]}> owl:complementOf ?r .
              ?r a owl:Restriction ; owl:onProperty <{links["directClaim"]}> ;
                 owl:someValuesFrom owl:Thing }}""",
    )
    assert len(restriction) == 1


def test_properties_labelled_and_described_in_four_languages(store: ox.Store) -> None:
    for predicate in ("rdfs:label", "schema:description"):
        found = labels_by_language(store, predicate, "wikibase:Property")
        assert set(found) == set(PROPERTY_TABLE)
        incomplete = {p: sorted(langs) for p, langs in found.items() if set(LANGUAGES) - langs}
        assert not incomplete, f"{predicate} missing languages: {incomplete}"


def test_property_mappings(store: ox.Store) -> None:
    # Equivalent property (P51) statements are IRIs on the property entities.
    rows = select(store, "SELECT ?p ?iri WHERE { ?p a wikibase:Property ; wdt:P51 ?iri }")
    assert len(rows) >= 30
    assert all(iri.startswith(("http://", "https://")) for _, iri in rows)
    mapped = {local(p) for p, _ in rows}
    assert {"P1", "P4", "P5", "P9", "P16", "P20", "P21", "P44", "P47"} <= mapped
    # OWL mappings are on the direct-claim predicates, never on OWL's or RDF's own vocabulary.
    axioms = select(
        store,
        """SELECT ?wdt ?rel ?other WHERE {
             ?p wikibase:directClaim ?wdt .
             ?wdt ?rel ?other . FILTER (?rel IN (owl:equivalentProperty, rdfs:subPropertyOf)) }""",
    )
    targets = {(local(w), o) for w, _, o in axioms}
    assert (f"{BASE}prop/direct/P4", "http://www.w3.org/ns/org#memberOf") in targets
    assert (f"{BASE}prop/direct/P20", SKOS + "broader") in targets
    assert not [o for _, o in targets if o.startswith((OWL, RDFS, RDF_TYPE))]


def test_owl_classes(store: ox.Store) -> None:
    expected = {
        "Organisation", "Person", "Network", "Partnership", "Capacity", "Resource", "Service",
        "Event", "Territory", "Document", "FictionalPerson", "Language",
        "NetworkNodeType", "Role", "RelationshipKind", "ActivityType", "PartnershipTier",
        "GLAMEngagementLevel", "PartnershipScope", "Alignment", "PartnershipStatus",
        "DocumentType", "AssessmentCriterion", "AssessmentRating", "DecisionLevel",
        "CapacityModality", "ProficiencyLevel",
    }  # fmt: skip
    classes = {c.removeprefix(BT) for (c,) in select(store, "SELECT ?c WHERE { ?c a owl:Class }")}
    assert expected <= classes
    for predicate in ("rdfs:label", "rdfs:comment"):
        found = labels_by_language(store, predicate, "owl:Class")
        incomplete = {c: langs for c, langs in found.items() if set(LANGUAGES) - langs}
        assert set(found) >= {BT + c for c in expected} and not incomplete
    concept_classes = {
        c.removeprefix(BT)
        for (c,) in select(
            store, "SELECT ?c WHERE { ?c a owl:Class ; rdfs:subClassOf skos:Concept }"
        )
    }
    vocabularies = expected - {
        "Organisation", "Person", "Network", "Partnership", "Resource", "Service", "Event",
        "Territory", "Document", "FictionalPerson",
    }  # fmt: skip
    assert concept_classes == vocabularies
    subclasses = set(select(store, "SELECT ?a ?b WHERE { ?a rdfs:subClassOf ?b }"))
    assert (BT + "Network", BT + "Organisation") in subclasses
    assert (BT + "FictionalPerson", BT + "Person") in subclasses
    assert (BT + "Partnership", "https://w3id.org/valueflows/ont/vf#Agreement") in subclasses
    header = select(
        store,
        """PREFIX dcterms: <http://purl.org/dc/terms/>
           SELECT ?o WHERE { ?o a owl:Ontology ; owl:versionInfo ?v ;
             dcterms:license <http://creativecommons.org/publicdomain/zero/1.0/> }""",
    )
    assert header == [("https://w3id.org/bigtent/ontology",)]


def test_class_items_map_to_declared_owl_classes(store: ox.Store) -> None:
    rows = select(store, "SELECT ?item ?class WHERE { ?item wdt:P3 ?class }")
    mapping = {local(item): cls for item, cls in rows}
    assert set(mapping) == CLASS_ITEMS
    declared = {c for (c,) in select(store, "SELECT ?c WHERE { ?c a owl:Class }")}
    for item, cls in mapping.items():
        if item == "Q20":
            assert cls == SKOS + "ConceptScheme"
        else:
            assert cls in declared and cls.startswith(BT), (item, cls)
    assert mapping["Q1"] == BT + "Organisation" and mapping["Q3"] == BT + "Network"
    subclass = set(select(store, "SELECT ?a ?b WHERE { ?a wdt:P2 ?b }"))
    assert subclass == {(WD + "Q3", WD + "Q1"), (WD + "Q11", WD + "Q2")}
    controlled = {local(i) for (i,) in select(store, "SELECT ?i WHERE { ?i wdt:P1 wd:Q20 }")}
    assert controlled == VOCABULARY_ITEMS | {"Q5", "Q12"}


def test_items_are_in_short_form(store: ox.Store) -> None:
    predicates = {p for (p,) in select(store, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }")}
    long_form = [p for p in predicates if p.startswith(BASE) and "/prop/direct/" not in p]
    assert not long_form, f"only wdt: statements in the ontology files: {long_form}"
    typed = select(
        store,
        f"""SELECT ?e ?t WHERE {{ ?e a ?t . FILTER (STRSTARTS(STR(?e), "{WD}"))
              FILTER (?t NOT IN (wikibase:Item, wikibase:Property)) }}""",
    )
    assert not typed, f"the loader materialises OWL types; do not write them: {typed}"


def test_concepts_and_capacities_in_four_languages(store: ox.Store) -> None:
    rows = select(
        store,
        """SELECT ?c ?lang WHERE {
             ?c wdt:P1 ?vocabulary . ?vocabulary wdt:P1 wd:Q20 .
             ?c rdfs:label ?label . BIND(LANG(?label) AS ?lang) }""",
    )
    languages: dict[str, set[str]] = {}
    for concept, language in rows:
        languages.setdefault(local(concept), set()).add(language)
    numbers = sorted(int(c[1:]) for c in languages)
    assert numbers[0] == 100 and len(languages) >= 100
    incomplete = {c: sorted(langs) for c, langs in languages.items() if set(LANGUAGES) - langs}
    assert not incomplete, f"concepts missing labels: {incomplete}"
    described = {
        local(c)
        for (c,) in select(
            store, "SELECT ?c WHERE { ?c wdt:P1 ?v . ?v wdt:P1 wd:Q20 . ?c schema:description ?d }"
        )
    }
    assert described == set(languages)


def test_vocabulary_numbering(store: ox.Store) -> None:
    rows = select(store, "SELECT ?c ?v WHERE { ?c wdt:P1 ?v . ?v wdt:P1 wd:Q20 }")
    ranges = {"Q5": range(300, 400), "Q12": range(250, 300)}
    for n in range(21, 36):
        start = 100 + (n - 21) * 10
        ranges[f"Q{n}"] = range(start, start + 10)
    for concept, vocabulary in rows:
        number = int(local(concept)[1:])
        assert number in ranges[local(vocabulary)], (concept, vocabulary)
    counts = Counter(local(v) for _, v in rows)
    assert all(counts[v] >= 2 for v in VOCABULARY_ITEMS), counts


def test_seed_vocabulary_terms(store: ox.Store) -> None:
    english = {
        label
        for (label,) in select(
            store,
            """SELECT ?l WHERE { ?c wdt:P1 ?v . ?v wdt:P1 wd:Q20 . ?c rdfs:label ?l .
                 FILTER (LANG(?l) = "en") }""",
        )
    }
    for term in (
        "club", "affiliate network", "core network", "member", "partner", "partnership",
        "alliance", "endorsement", "business relationship", "funding", "content sharing",
        "advocacy", "shared outreach", "technology development", "education", "research",
        "informal collaboration", "formal partnership", "contributory", "collaborative",
        "co-creative", "internal", "external",
        "shares the vision and values of the open knowledge movement", "less strongly aligned",
        "proposed", "assessed", "active", "ended", "declined", "contract",
        "memorandum of understanding", "training", "mentoring", "consulting", "online learning",
        "peer support", "events", "beginner", "intermediate", "advanced", "expert",
    ):  # fmt: skip
        assert term in english, term


def test_languages(store: ox.Store) -> None:
    rows = select(
        store,
        "SELECT ?l ?code ?wikidata WHERE { ?l wdt:P1 wd:Q12 ; wdt:P41 ?code ; wdt:P22 ?wikidata }",
    )
    by_code = {code: wikidata for _, code, wikidata in rows}
    assert {
        "en": "Q1860", "fr": "Q150", "es": "Q1321", "pt": "Q5146", "de": "Q188", "ar": "Q13955",
        "hi": "Q1568", "sw": "Q7838", "it": "Q652", "id": "Q9240",
    }.items() <= by_code.items()  # fmt: skip
    assert all(250 <= int(local(item)[1:]) < 300 for item, _, _ in rows)
    assert all(re.fullmatch(r"[a-z]{2,3}", code) for code in by_code)


def test_capacity_taxonomy(store: ox.Store) -> None:
    capacities = {local(c) for (c,) in select(store, "SELECT ?c WHERE { ?c wdt:P1 wd:Q5 }")}
    broader: dict[str, list[str]] = {}
    for child, parent in select(store, "SELECT ?c ?b WHERE { ?c wdt:P1 wd:Q5 ; wdt:P20 ?b }"):
        broader.setdefault(local(child), []).append(local(parent))
    roots = capacities - set(broader)
    assert roots == {f"Q{n}" for n in range(300, 307)}
    root_labels = {
        label
        for (label,) in select(
            store,
            "SELECT ?l WHERE { ?c wdt:P1 wd:Q5 ; rdfs:label ?l . "
            'FILTER NOT EXISTS { ?c wdt:P20 ?b } FILTER (LANG(?l) = "en") }',
        )
    }
    assert root_labels == {
        "organizational structure", "communication", "learning and evaluation",
        "community health", "social skill", "strategic management", "technology",
    }  # fmt: skip
    assert len(broader) >= 20
    for capacity, parents in broader.items():
        assert len(parents) == 1 and parents[0] in capacities, (capacity, parents)
        assert 310 <= int(capacity[1:]) < 400

    def depth(capacity: str) -> int:
        return 1 if capacity not in broader else 1 + depth(broader[capacity][0])

    depths = Counter(depth(c) for c in capacities)
    assert max(depths) == 3 and depths[3] >= 3, depths
    for needed in (
        "event organising", "public speaking", "translation", "social media",
        "writing grant proposals", "conflict resolution", "mentoring newcomers",
        "program evaluation", "survey design", "data analysis", "governance", "fundraising",
        "partnership building", "Wikidata editing", "software development", "bot development",
    ):  # fmt: skip
        assert select(store, f'SELECT ?c WHERE {{ ?c wdt:P1 wd:Q5 ; rdfs:label "{needed}"@en }}')


def test_external_identifiers(store: ox.Store) -> None:
    for _, value in select(store, "SELECT ?e ?v WHERE { ?e wdt:P22 ?v }"):
        assert re.fullmatch(r"Q[1-9][0-9]*", value)
    matches = select(store, "SELECT ?c ?m ?q WHERE { ?c wdt:P21 ?m . OPTIONAL { ?c wdt:P22 ?q } }")
    for _, match, qid in matches:
        # Wikidata exact matches agree with the Wikidata item ID given.
        if match.startswith("http://www.wikidata.org/entity/"):
            assert match.rsplit("/", 1)[1] == qid


def test_every_item_labelled_and_described_in_four_languages(store: ox.Store) -> None:
    for predicate in ("rdfs:label", "schema:description"):
        found = labels_by_language(store, predicate, "wikibase:Item")
        incomplete = {i: sorted(langs) for i, langs in found.items() if set(LANGUAGES) - langs}
        assert not incomplete, f"{predicate}: {incomplete}"
        items = {local(i) for (i,) in select(store, "SELECT ?i WHERE { ?i a wikibase:Item }")}
        assert set(found) == items
