"""Deterministic synthetic Bigtent records for benchmarks.

``python -m bench.generate --records 10000 --out bench/out/records-10k.nt`` writes a
realistic mix of Wikibase-style records (people, organisations, partnerships, networks,
capacities, preceded by territories) in the forms the loader accepts:

* ``nt``  N-Triples with absolute IRIs under ``--base``; statements without qualifiers or
  references in SHORT form (``wdt:``), the others in FULL form with blank statement and
  reference nodes. Each record's triples are contiguous.
* ``ttl`` the same records as Turtle with the relative prefixes of ontology/README.md
  (no ``@base``): parse it with ``base_iri`` set to the catalogue base.
* ``nq``  a stand-in for the loader's *normalised* output (statement ids, ranks, truthy
  ``wdt:``, ``wikibase:BestRank``, time value nodes, reference nodes, materialised types,
  data document; one named graph per entity). It approximates what ``bigtent load``
  writes, so the raw ``bulk_load`` reference can be measured before the loader exists.

Every referenced generated entity (member of, participant, funded by, located in, capacity)
is defined in the same file, sometimes before and sometimes after the reference. Output is
streamed record by record; only the ids of each kind are kept in memory.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from loader.base.namespaces import relative_turtle_prefixes

GENERATOR_VERSION = 1
DEFAULT_BASE = "https://bigtent.example.org/"
FIRST_ID = 100_000
MIN_RECORDS = 20
MAX_TERRITORIES = 200

# --- ontology items the generated records point at (ontology/README.md, "Items") ---------
CLASS_ORGANISATION = 1
CLASS_NETWORK = 3
CLASS_PARTNERSHIP = 4
CLASS_CAPACITY = 5
CLASS_TERRITORY = 9
CLASS_FICTIONAL_PERSON = 11
NODE_TYPES = (100, 101, 102)  # club, affiliate network, core network
ROLE_MEMBER, ROLE_PARTNER, ROLE_COORDINATOR, ROLE_LEAD = 110, 111, 112, 113
ROLE_FUNDER, ROLE_CONTENT, ROLE_TECHNOLOGY = 114, 115, 116
REL_PARTNERSHIP = 120
ACTIVITY_TYPES = (130, 131, 132, 133, 134, 135, 136)
TIERS = (140, 141)
STATUSES = (180, 181, 182, 183, 184)  # proposed, assessed, active, ended, declined
STATUS_ENDED = 183
CRITERIA = (200, 201, 202, 203)
RATINGS = (210, 211, 212, 213, 214, 215)
MODALITIES = (230, 231, 232, 233, 234, 235)
PROFICIENCY = (240, 241, 242, 243)
LANGUAGES = (250, 251, 252, 253, 254, 255, 256, 257)
CAPACITY_ROOTS = (300, 301, 302, 303, 304, 305, 306)

#: Every ontology item (Q < 1000) a generated record may reference.
ONTOLOGY_ITEMS: frozenset[int] = frozenset(
    (
        CLASS_ORGANISATION,
        CLASS_NETWORK,
        CLASS_PARTNERSHIP,
        CLASS_CAPACITY,
        CLASS_TERRITORY,
        CLASS_FICTIONAL_PERSON,
        *NODE_TYPES,
        *range(ROLE_MEMBER, ROLE_TECHNOLOGY + 1),
        REL_PARTNERSHIP,
        *ACTIVITY_TYPES,
        *TIERS,
        *STATUSES,
        *CRITERIA,
        *RATINGS,
        *MODALITIES,
        *PROFICIENCY,
        *LANGUAGES,
        *CAPACITY_ROOTS,
    )
)

# --- properties -------------------------------------------------------------------------
P_INSTANCE_OF, P_MEMBER_OF, P_PARTICIPANT, P_ROLE, P_ACTIVITY = 1, 4, 5, 6, 7
P_START, P_END, P_WEBSITE, P_LOCATED_IN = 9, 10, 11, 12
P_KNOWN, P_OFFERED, P_NEEDED, P_FUNDED_BY, P_REF_URL = 13, 14, 15, 16, 18
P_BROADER, P_WIKIDATA_ID, P_NODE_TYPE, P_REL_KIND, P_TIER = 20, 22, 23, 24, 25
P_STATUS, P_CRITERION, P_RATING = 29, 32, 33
P_PROFICIENCY, P_MODALITY, P_LANGUAGE, P_TERRITORY, P_INCEPTION = 37, 38, 39, 40, 48
EXTERNAL_ID_PROPERTIES = frozenset({P_WIKIDATA_ID})

# --- record kinds -----------------------------------------------------------------------
TERRITORY, PERSON, ORGANISATION, PARTNERSHIP, NETWORK, CAPACITY = range(6)
KIND_NAMES = ("territory", "person", "organisation", "partnership", "network", "capacity")
#: Share of the records after the territories, and the minimum count of each kind.
MIX: tuple[tuple[int, float, int], ...] = (
    (PERSON, 0.45, 1),
    (ORGANISATION, 0.30, 3),
    (PARTNERSHIP, 0.15, 1),
    (NETWORK, 0.05, 1),
    (CAPACITY, 0.05, 1),
)
INSTANCE_OF = {
    TERRITORY: CLASS_TERRITORY,
    PERSON: CLASS_FICTIONAL_PERSON,
    ORGANISATION: CLASS_ORGANISATION,
    PARTNERSHIP: CLASS_PARTNERSHIP,
    NETWORK: CLASS_NETWORK,
    CAPACITY: CLASS_CAPACITY,
}

# --- values -----------------------------------------------------------------------------
# ("i", "123") item Q123 | ("u", iri) URL | ("s", text) string | ("t", lexical, datatype)
Value = tuple[str, ...]
Snak = tuple[int, Value]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: property, main value, qualifiers, references (each a list of snaks)."""

    prop: int
    value: Value
    qualifiers: tuple[Snak, ...] = ()
    references: tuple[tuple[Snak, ...], ...] = ()


@dataclass(slots=True)
class Record:
    """One entity with everything hanging off it."""

    qid: int
    kind: int
    labels: list[tuple[str, str]]
    descriptions: list[tuple[str, str]]
    statements: list[Statement] = field(default_factory=list)


def item(q: int) -> Value:
    """An item value."""
    return ("i", str(q))


# --- names --------------------------------------------------------------------------------
FIRST_NAMES = (
    "Ana", "João", "Maria", "Luís", "Inês", "Pedro", "Sofia", "Tiago", "Marie", "Jean",
    "Camille", "Louis", "Chloé", "Hugo", "Lucía", "Carlos", "Elena", "Javier", "Paula",
    "Diego", "Anna", "Jonas", "Lena", "Felix", "Amina", "Juma", "Neema", "Baraka", "Priya",
    "Arjun", "Ananya", "Rahul", "Layla", "Omar", "Yasmin", "Karim", "Emma", "Oliver",
    "Grace", "Samuel", "Chen", "Mei", "Hiroshi", "Yuki", "Olga", "Ivan", "Aisha", "Kwame",
    "Zanele", "Thabo", "Fatima", "Tomás", "Noor", "Sven", "Ingrid", "Mateo", "Valentina",
    "Kofi", "Ama", "Rosa",
)  # fmt: skip
LAST_NAMES = (
    "Ribeiro", "Silva", "Costa", "Ferreira", "Dubois", "Martin", "Lefèvre", "Moreau",
    "García", "López", "Martínez", "Sánchez", "Müller", "Schmidt", "Becker", "Wagner",
    "Mwangi", "Otieno", "Wanjiru", "Sharma", "Patel", "Iyer", "Haddad", "Khalil", "Nasser",
    "Smith", "Brown", "Taylor", "Walker", "Wang", "Li", "Tanaka", "Sato", "Petrova",
    "Ivanova", "Mensah", "Okafor", "Dlamini", "Nkosi", "Hassan", "Lindqvist", "Berg",
    "Rossi", "Bianchi", "Novak", "Kowalski", "Nguyen", "Tran", "Santos", "Oliveira",
)  # fmt: skip
SYLLABLES_A = (
    "Val", "Kor", "Mar", "Ess", "Tal", "Bren", "Or", "Sel", "Ard", "Lum", "Nor", "Quen",
    "Ros", "Tir", "Vel", "Zan", "Cal", "Dun", "Fen", "Gal",
)  # fmt: skip
SYLLABLES_B = (
    "doria", "land", "mark", "ora", "via", "stan", "heim", "ia", "mere", "gard", "ovia",
    "esse", "aro", "ith", "onde",
)  # fmt: skip
OTHER_LANGS = ("fr", "es", "pt", "de")
# (en, fr, es, pt)
TOPICS = (
    ("Heritage", "Patrimoine", "Patrimonio", "Património"),
    ("Knowledge", "Savoir", "Conocimiento", "Conhecimento"),
    ("Open Data", "Données ouvertes", "Datos abiertos", "Dados abertos"),
    ("Education", "Éducation", "Educación", "Educação"),
    ("Library", "Bibliothèque", "Biblioteca", "Biblioteca"),
    ("Archives", "Archives", "Archivos", "Arquivos"),
    ("Museum", "Musée", "Museo", "Museu"),
    ("Science", "Science", "Ciencia", "Ciência"),
    ("Culture", "Culture", "Cultura", "Cultura"),
    ("Language", "Langue", "Lengua", "Língua"),
    ("Media", "Médias", "Medios", "Média"),
    ("History", "Histoire", "Historia", "História"),
    ("Technology", "Technologie", "Tecnología", "Tecnologia"),
    ("Learning", "Apprentissage", "Aprendizaje", "Aprendizagem"),
    ("Commons", "Communs", "Procomún", "Comuns"),
    ("Arts", "Arts", "Artes", "Artes"),
    ("Photography", "Photographie", "Fotografía", "Fotografia"),
    ("Mapping", "Cartographie", "Cartografía", "Cartografia"),
)
ORG_KINDS = (
    ("Foundation", "Fondation", "Fundación", "Fundação"),
    ("Society", "Société", "Sociedad", "Sociedade"),
    ("Institute", "Institut", "Instituto", "Instituto"),
    ("Collective", "Collectif", "Colectivo", "Coletivo"),
    ("Association", "Association", "Asociación", "Associação"),
    ("Centre", "Centre", "Centro", "Centro"),
    ("Lab", "Laboratoire", "Laboratorio", "Laboratório"),
    ("Cooperative", "Coopérative", "Cooperativa", "Cooperativa"),
    ("Council", "Conseil", "Consejo", "Conselho"),
)
NETWORK_KINDS = (
    ("Club", "Club", "Club", "Clube"),
    ("Affiliate Network", "Réseau affilié", "Red afiliada", "Rede afiliada"),
    ("Network", "Réseau", "Red", "Rede"),
)
SKILLS = (
    (
        "Event organising",
        "Organisation d'événements",
        "Organización de eventos",
        "Organização de eventos",
    ),
    (
        "Grant writing",
        "Rédaction de demandes de subvention",
        "Redacción de solicitudes",
        "Redação de candidaturas",
    ),
    (
        "Community building",
        "Animation de communauté",
        "Construcción de comunidad",
        "Construção de comunidade",
    ),
    ("Data modelling", "Modélisation de données", "Modelado de datos", "Modelação de dados"),
    ("Querying", "Interrogation", "Consultas", "Consultas"),
    ("Digitisation", "Numérisation", "Digitalización", "Digitalização"),
    ("Licensing", "Licences", "Licencias", "Licenciamento"),
    ("Outreach", "Sensibilisation", "Divulgación", "Divulgação"),
    (
        "Training of trainers",
        "Formation de formateurs",
        "Formación de formadores",
        "Formação de formadores",
    ),
    (
        "Partnership management",
        "Gestion de partenariats",
        "Gestión de alianzas",
        "Gestão de parcerias",
    ),
    (
        "Metadata curation",
        "Curation de métadonnées",
        "Curación de metadatos",
        "Curadoria de metadados",
    ),
    (
        "Software development",
        "Développement logiciel",
        "Desarrollo de software",
        "Desenvolvimento de software",
    ),
    ("Evaluation", "Évaluation", "Evaluación", "Avaliação"),
    ("Advocacy", "Plaidoyer", "Incidencia", "Advocacia"),
    ("Fundraising", "Collecte de fonds", "Recaudación de fondos", "Angariação de fundos"),
    ("Translation", "Traduction", "Traducción", "Tradução"),
    ("Facilitation", "Facilitation", "Facilitación", "Facilitação"),
    ("Mentoring", "Mentorat", "Mentoría", "Mentoria"),
    ("Storytelling", "Narration", "Narración", "Narrativa"),
    (
        "Volunteer coordination",
        "Coordination de bénévoles",
        "Coordinación de voluntarios",
        "Coordenação de voluntários",
    ),
)
AUDIENCES = (
    ("volunteers", "bénévoles", "voluntarios", "voluntários"),
    ("staff", "personnel", "personal", "pessoal"),
    ("young people", "jeunes", "jóvenes", "jovens"),
    ("researchers", "chercheurs", "investigadores", "investigadores"),
    ("librarians", "bibliothécaires", "bibliotecarios", "bibliotecários"),
    ("teachers", "enseignants", "docentes", "professores"),
    ("newcomers", "nouveaux venus", "recién llegados", "recém-chegados"),
    ("partners", "partenaires", "socios", "parceiros"),
)
FOR_WORD = ("for", "pour", "para", "para")
ACTIVITY_LABELS = (
    ("Funding", "Financement"),
    ("Content sharing", "Partage de contenus"),
    ("Advocacy", "Plaidoyer"),
    ("Shared outreach", "Sensibilisation commune"),
    ("Technology development", "Développement technologique"),
    ("Education", "Éducation"),
    ("Research", "Recherche"),
)
LANG_INDEX = {"en": 0, "fr": 1, "es": 2, "pt": 3}


def _weighted(rng: random.Random, values: Sequence[int], cum_weights: Sequence[float]) -> int:
    return rng.choices(values, cum_weights=cum_weights)[0]


def _cum(weights: Sequence[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


EXTRA_LANGS_CUM = _cum((0.5, 0.3, 0.2))  # 0, 1 or 2 languages besides English
CAPACITY_COUNT_CUM = _cum((0.35, 0.30, 0.18, 0.10, 0.07))  # 2..6 statements
CAPACITY_PROP_CUM = _cum((0.45, 0.35, 0.20))  # known, offered, needed
PARTICIPANTS_CUM = _cum((0.6, 0.3, 0.1))  # 2..4 participants


# --- the generator --------------------------------------------------------------------------
def plan_counts(records: int) -> dict[int, int]:
    """How many records of each kind ``records`` holds."""
    if records < MIN_RECORDS:
        raise ValueError(f"--records must be at least {MIN_RECORDS}, got {records}")
    territories = min(MAX_TERRITORIES, max(4, records // 50))
    rest = records - territories
    counts = {TERRITORY: territories}
    for kind, share, minimum in MIX:
        counts[kind] = max(minimum, round(rest * share))
    counts[PERSON] += records - sum(counts.values())
    return counts


class Generator:
    """Yields records; deterministic for a given record count and seed."""

    def __init__(self, records: int, seed: int = 1) -> None:
        self.records = records
        self.seed = seed
        self.counts = plan_counts(records)
        self.rng = random.Random(seed)
        rng = self.rng
        sequence = bytearray()
        for kind, _share, _minimum in MIX:
            sequence.extend(bytes([kind]) * self.counts[kind])
        rng.shuffle(sequence)
        self.kinds = bytes([TERRITORY]) * self.counts[TERRITORY] + bytes(sequence)
        self.pools: dict[int, array[int]] = {k: array("l") for k in range(len(KIND_NAMES))}
        for offset, kind in enumerate(self.kinds):
            self.pools[kind].append(FIRST_ID + offset)
        self.parties = array("l", sorted(self.pools[ORGANISATION] + self.pools[NETWORK]))
        self.territory_names = self._territory_names(self.counts[TERRITORY])
        n_countries = max(1, self.counts[TERRITORY] // 10)
        self.countries = self.pools[TERRITORY][:n_countries]

    def _territory_names(self, n: int) -> list[str]:
        names = [a + b for a in SYLLABLES_A for b in SYLLABLES_B]
        random.Random(self.seed * 7919 + 17).shuffle(names)
        return names[:n]

    # --- helpers ------------------------------------------------------------------------
    def _pick(self, pool: Sequence[int]) -> int:
        return pool[int(self.rng.random() * len(pool))]

    def _extra_langs(self, choices: Sequence[str] = OTHER_LANGS) -> list[str]:
        k = _weighted(self.rng, (0, 1, 2), EXTRA_LANGS_CUM)
        return self.rng.sample(choices, k) if k else []

    def _time(self, year: int) -> Value:
        r = self.rng.random()
        if r < 0.5:
            return (
                "t",
                f"{year:04d}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}",
                "date",
            )
        if r < 0.85:
            return ("t", f"{year:04d}-{self.rng.randint(1, 12):02d}", "gYearMonth")
        return ("t", f"{year:04d}", "gYear")

    def _territory_value(self) -> Value:
        return item(self._pick(self.pools[TERRITORY]))

    def _place(self) -> str:
        return self.territory_names[int(self.rng.random() * len(self.territory_names))]

    # --- records ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        makers = (
            self._territory,
            self._person,
            self._organisation,
            self._partnership,
            self._network,
            self._capacity,
        )
        for offset, kind in enumerate(self.kinds):
            qid = FIRST_ID + offset
            record = makers[kind](qid, offset)
            record.statements.insert(0, Statement(P_INSTANCE_OF, item(INSTANCE_OF[kind])))
            yield record

    def _territory(self, qid: int, offset: int) -> Record:
        name = self.territory_names[offset]
        langs = ["en", *self.rng.sample(("fr", "es", "pt"), self.rng.randint(1, 3))]
        labels = [(lang, name) for lang in langs]
        record = Record(qid, TERRITORY, labels, [])
        if offset < len(self.countries):
            record.descriptions.append(("en", "Fictional country (Bigtent benchmark data)"))
        else:
            parent = self.countries[int(self.rng.random() * len(self.countries))]
            parent_name = self.territory_names[parent - FIRST_ID]
            record.descriptions.append(
                ("en", f"Fictional region of {parent_name} (Bigtent benchmark data)")
            )
            record.statements.append(Statement(P_LOCATED_IN, item(parent)))
        return record

    def _person(self, qid: int, offset: int) -> Record:
        rng = self.rng
        first = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(rng.random() * len(LAST_NAMES))]
        if rng.random() < 0.3:
            name = f"{first} {chr(65 + int(rng.random() * 26))}. {last}"
        else:
            name = f"{first} {last}"
        langs = [*self._extra_langs(), "en"] if rng.random() < 0.5 else ["en", *self._extra_langs()]
        record = Record(
            qid,
            PERSON,
            [(lang, name) for lang in langs],
            [("en", f"Fictional person (Bigtent benchmark data, record {offset})")],
        )
        capacities = self.pools[CAPACITY]
        n = _weighted(rng, (2, 3, 4, 5, 6), CAPACITY_COUNT_CUM)
        chosen: set[int] = set()
        for _ in range(n):
            value = self._pick(capacities) if rng.random() < 0.8 else self._pick(CAPACITY_ROOTS)
            if value in chosen:
                continue
            chosen.add(value)
            prop = _weighted(rng, (P_KNOWN, P_OFFERED, P_NEEDED), CAPACITY_PROP_CUM)
            quals: list[Snak] = []
            if prop != P_NEEDED or rng.random() < 0.5:
                quals.append((P_PROFICIENCY, item(self._pick(PROFICIENCY))))
            if prop != P_KNOWN and rng.random() < 0.6:
                quals.append((P_MODALITY, item(self._pick(MODALITIES))))
            if rng.random() < 0.5:
                quals.append((P_LANGUAGE, item(self._pick(LANGUAGES))))
            if rng.random() < 0.3:
                quals.append((P_TERRITORY, self._territory_value()))
            record.statements.append(Statement(prop, item(value), tuple(quals)))
        return record

    def _org_labels(self, kinds: Sequence[tuple[str, ...]]) -> tuple[list[tuple[str, str]], str]:
        rng = self.rng
        place = self._place()
        topic = TOPICS[int(rng.random() * len(TOPICS))]
        kind = kinds[int(rng.random() * len(kinds))]
        en = f"{place} {topic[0]} {kind[0]}"
        labels = [("en", en)]
        for lang in self._extra_langs(("fr", "es", "pt")):
            i = LANG_INDEX[lang]
            labels.append((lang, f"{kind[i]} {topic[i]} {place}"))
        return labels, en

    def _membership(self, qid: int, role: int) -> Statement | None:
        networks = self.pools[NETWORK]
        network = self._pick(networks)
        if network == qid:
            return None
        quals: list[Snak] = [(P_ROLE, item(role))]
        if self.rng.random() < 0.7:
            quals.append((P_START, self._time(self.rng.randint(2005, 2023))))
        return Statement(P_MEMBER_OF, item(network), tuple(quals))

    def _organisation(self, qid: int, offset: int) -> Record:
        rng = self.rng
        labels, en = self._org_labels(ORG_KINDS)
        descriptions = [("en", f"Fictional organisation (Bigtent benchmark data, record {offset})")]
        if rng.random() < 0.3:
            descriptions.append(
                ("fr", f"Organisation fictive (données de test Bigtent, fiche {offset})")
            )
        record = Record(qid, ORGANISATION, labels, descriptions)
        st = record.statements
        if rng.random() < 0.85:
            slug = en.lower().replace(" ", "-")
            st.append(Statement(P_WEBSITE, ("u", f"https://{slug}-{offset}.example.net/")))
        if rng.random() < 0.9:
            st.append(Statement(P_LOCATED_IN, self._territory_value()))
        if rng.random() < 0.6:
            st.append(Statement(P_WIKIDATA_ID, ("s", f"Q{rng.randint(1000, 130_000_000)}")))
        if rng.random() < 0.3:
            st.append(Statement(P_INCEPTION, ("t", f"{rng.randint(1950, 2022)}", "gYear")))
        if rng.random() < 0.4:
            seen: set[str] = set()
            for _ in range(rng.randint(1, 2)):
                membership = self._membership(qid, rng.choice((ROLE_MEMBER, ROLE_PARTNER)))
                if membership is not None and membership.value[1] not in seen:
                    seen.add(membership.value[1])
                    st.append(membership)
        return record

    def _network(self, qid: int, offset: int) -> Record:
        rng = self.rng
        node_type = self._pick(NODE_TYPES)
        labels, _en = self._org_labels((NETWORK_KINDS[node_type - NODE_TYPES[0]],))
        record = Record(
            qid,
            NETWORK,
            labels,
            [("en", f"Fictional network (Bigtent benchmark data, record {offset})")],
        )
        st = record.statements
        st.append(Statement(P_NODE_TYPE, item(node_type)))
        if rng.random() < 0.7:
            st.append(Statement(P_WEBSITE, ("u", f"https://network-{offset}.example.net/")))
        if rng.random() < 0.6:
            st.append(Statement(P_LOCATED_IN, self._territory_value()))
        if rng.random() < 0.25:
            membership = self._membership(qid, ROLE_MEMBER)
            if membership is not None:
                st.append(membership)
        return record

    def _partnership(self, qid: int, offset: int) -> Record:
        rng = self.rng
        activities = rng.sample(ACTIVITY_TYPES, rng.randint(1, 3))
        status = self._pick(STATUSES)
        start_year = rng.randint(2005, 2022)
        place = self._place()
        activity = ACTIVITY_LABELS[activities[0] - ACTIVITY_TYPES[0]]
        labels = [("en", f"{activity[0]} partnership, {place} ({start_year}, no. {offset})")]
        if rng.random() < 0.3:
            labels.append(
                ("fr", f"Partenariat : {activity[1]}, {place} ({start_year}, n° {offset})")
            )
        record = Record(
            qid,
            PARTNERSHIP,
            labels,
            [("en", "Fictional partnership (Bigtent benchmark data)")],
        )
        st = record.statements
        n_parties = _weighted(rng, (2, 3, 4), PARTICIPANTS_CUM)
        parties: list[int] = []
        while len(parties) < n_parties:
            pool = self.parties if rng.random() < 0.85 else self.pools[PERSON]
            party = self._pick(pool)
            if party not in parties:
                parties.append(party)
        for i, party in enumerate(parties):
            if i == 0:
                role = rng.choice((ROLE_COORDINATOR, ROLE_LEAD))
            else:
                role = rng.choice((ROLE_PARTNER, ROLE_PARTNER, ROLE_CONTENT, ROLE_TECHNOLOGY))
            refs: tuple[tuple[Snak, ...], ...] = ()
            if rng.random() < 0.7:
                url = f"https://news.example.net/{start_year}/partnership-{offset}-{i}"
                refs = (((P_REF_URL, ("u", url)),),)
            st.append(Statement(P_PARTICIPANT, item(party), ((P_ROLE, item(role)),), refs))
        st.extend(Statement(P_ACTIVITY, item(a)) for a in activities)
        st.append(Statement(P_REL_KIND, item(REL_PARTNERSHIP)))
        st.append(Statement(P_TIER, item(self._pick(TIERS))))
        st.append(Statement(P_STATUS, item(status)))
        if rng.random() < 0.9:
            st.append(Statement(P_START, self._time(start_year)))
        if status == STATUS_ENDED or rng.random() < 0.1:
            # a later year, so end >= start whatever the precision of either
            st.append(Statement(P_END, self._time(start_year + rng.randint(1, 8))))
        if rng.random() < 0.4:
            for criterion in rng.sample(CRITERIA, rng.randint(1, 4)):
                rating = ((P_RATING, item(self._pick(RATINGS))),)
                st.append(Statement(P_CRITERION, item(criterion), rating))
        if rng.random() < 0.2:
            st.append(Statement(P_FUNDED_BY, item(self._pick(self.pools[ORGANISATION]))))
        return record

    def _capacity(self, qid: int, offset: int) -> Record:
        rng = self.rng
        skill = SKILLS[int(rng.random() * len(SKILLS))]
        topic = TOPICS[int(rng.random() * len(TOPICS))]
        audience = AUDIENCES[int(rng.random() * len(AUDIENCES))]
        labels = []
        for lang, i in LANG_INDEX.items():
            labels.append((lang, f"{skill[i]}: {topic[i].lower()}, {FOR_WORD[i]} {audience[i]}"))
        record = Record(
            qid,
            CAPACITY,
            labels,
            [("en", f"Benchmark capacity (Bigtent benchmark data, record {offset})")],
        )
        record.statements.append(Statement(P_BROADER, item(self._pick(CAPACITY_ROOTS))))
        return record


# --- serialisers ---------------------------------------------------------------------------
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
WIKIBASE = "http://wikiba.se/ontology#"
SCHEMA = "http://schema.org/"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
SKOS = "http://www.w3.org/2004/02/skos/core#"
BT = "https://w3id.org/bigtent/ontology#"
GREGORIAN = "http://www.wikidata.org/entity/Q1985727"
PRECISION = {"date": 11, "gYearMonth": 10, "gYear": 9}

TURTLE_PREFIXES = relative_turtle_prefixes() + "\n"


def _literal(text: str) -> str:
    if '"' in text or "\\" in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def normalise_time(lexical: str, datatype: str) -> tuple[str, int]:
    """Wikibase form of a short-form time: (xsd:dateTime lexical, precision)."""
    if datatype == "gYear":
        full = f"{lexical}-01-01"
    elif datatype == "gYearMonth":
        full = f"{lexical}-01"
    else:
        full = lexical
    return f"{full}T00:00:00Z", PRECISION[datatype]


class NTriplesWriter:
    """Raw records (short and full form) as N-Triples with absolute IRIs."""

    def __init__(self, base: str) -> None:
        self.wd = base + "entity/"
        self.wdt = [f"<{base}prop/direct/P{i}>" for i in range(100)]
        self.p = [f"<{base}prop/P{i}>" for i in range(100)]
        self.ps = [f"<{base}prop/statement/P{i}>" for i in range(100)]
        self.pq = [f"<{base}prop/qualifier/P{i}>" for i in range(100)]
        self.pr = [f"<{base}prop/reference/P{i}>" for i in range(100)]
        self.type_item = f"<{RDF_TYPE}> <{WIKIBASE}Item>"
        self.label = f"<{RDFS_LABEL}>"
        self.description = f"<{SCHEMA}description>"
        self.derived = f"<{PROV_DERIVED}>"

    def header(self) -> str:
        """Text before the first record."""
        return ""

    def term(self, value: Value) -> str:
        """One value as an N-Triples term."""
        kind = value[0]
        if kind == "i":
            return f"<{self.wd}Q{value[1]}>"
        if kind == "u":
            return f"<{value[1]}>"
        if kind == "s":
            return _literal(value[1])
        return f'"{value[1]}"^^<{XSD}{value[2]}>'

    def write(self, record: Record) -> tuple[str, int]:
        """(text, number of triples) of one record."""
        s = f"<{self.wd}Q{record.qid}>"
        lines = [f"{s} {self.type_item} .\n"]
        lines.extend(f"{s} {self.label} {_literal(t)}@{lang} .\n" for lang, t in record.labels)
        lines.extend(
            f"{s} {self.description} {_literal(t)}@{lang} .\n" for lang, t in record.descriptions
        )
        later: list[str] = []
        for k, st in enumerate(record.statements):
            if not st.qualifiers and not st.references:
                lines.append(f"{s} {self.wdt[st.prop]} {self.term(st.value)} .\n")
                continue
            node = f"_:s{record.qid}x{k}"
            lines.append(f"{s} {self.p[st.prop]} {node} .\n")
            later.append(f"{node} {self.ps[st.prop]} {self.term(st.value)} .\n")
            later.extend(f"{node} {self.pq[q]} {self.term(v)} .\n" for q, v in st.qualifiers)
            for j, ref in enumerate(st.references):
                ref_node = f"_:r{record.qid}x{k}x{j}"
                later.append(f"{node} {self.derived} {ref_node} .\n")
                later.extend(f"{ref_node} {self.pr[q]} {self.term(v)} .\n" for q, v in ref)
        lines.extend(later)
        return "".join(lines), len(lines)


class TurtleWriter:
    """Raw records as Turtle with ontology/README.md's relative prefixes (parse with the base)."""

    def header(self) -> str:
        """The prefix block."""
        return TURTLE_PREFIXES

    @staticmethod
    def term(value: Value) -> str:
        """One value as a Turtle term."""
        kind = value[0]
        if kind == "i":
            return f"wd:Q{value[1]}"
        if kind == "u":
            return f"<{value[1]}>"
        if kind == "s":
            return _literal(value[1])
        return f'"{value[1]}"^^xsd:{value[2]}'

    def write(self, record: Record) -> tuple[str, int]:
        """(text, number of triples) of one record."""
        term = self.term
        parts = [f"wd:Q{record.qid} a wikibase:Item"]
        count = 1
        parts.append(
            "rdfs:label " + ", ".join(f"{_literal(t)}@{lang}" for lang, t in record.labels)
        )
        count += len(record.labels)
        if record.descriptions:
            parts.append(
                "schema:description "
                + ", ".join(f"{_literal(t)}@{lang}" for lang, t in record.descriptions)
            )
            count += len(record.descriptions)
        for st in record.statements:
            if not st.qualifiers and not st.references:
                parts.append(f"wdt:P{st.prop} {term(st.value)}")
                count += 1
                continue
            inner = [f"ps:P{st.prop} {term(st.value)}"]
            inner.extend(f"pq:P{q} {term(v)}" for q, v in st.qualifiers)
            for ref in st.references:
                snaks = " ; ".join(f"pr:P{q} {term(v)}" for q, v in ref)
                inner.append(f"prov:wasDerivedFrom [ {snaks} ]")
                count += 1 + len(ref)
            parts.append(f"p:P{st.prop} [ " + " ; ".join(inner) + " ]")
            count += 2 + len(st.qualifiers)
        return " ;\n  ".join(parts) + " .\n", count


# Materialised rdf:type of each kind (instance of -> P3 equivalent class, following P2).
MATERIALISED_TYPES: dict[int, tuple[str, ...]] = {
    TERRITORY: (f"{BT}Territory",),
    PERSON: (f"{BT}FictionalPerson", f"{BT}Person"),
    ORGANISATION: (f"{BT}Organisation",),
    PARTNERSHIP: (f"{BT}Partnership",),
    NETWORK: (f"{BT}Network", f"{BT}Organisation"),
    CAPACITY: (f"{BT}Capacity", f"{SKOS}Concept"),
}


class NormalisedNQuadsWriter(NTriplesWriter):
    """A stand-in for the loader's normalised output, one named graph per entity.

    Follows ontology/README.md and the Wikibase dump format: statement nodes ``wds:Q…-uuid``
    with type,
    normal rank and ``wikibase:BestRank``; truthy ``wdt:``; ``psv:``/``pqv:`` time value
    nodes ``wdv:<hash>``; references ``wdref:<sha1>``; materialised ``rdf:type``; the data
    document ``wdata:Q…`` with version and modification date. Statement ids come from their
    own random stream so the records are the same as in the raw formats.
    """

    def __init__(self, base: str, seed: int) -> None:
        super().__init__(base)
        self.base = base
        self.ids = random.Random(seed * 1_000_003 + 11)
        self.psv = [f"<{base}prop/statement/value/P{i}>" for i in range(100)]
        self.pqv = [f"<{base}prop/qualifier/value/P{i}>" for i in range(100)]
        self.a = f"<{RDF_TYPE}>"
        self.statement_type = f"<{RDF_TYPE}> <{WIKIBASE}Statement>"
        self.best_rank = f"<{RDF_TYPE}> <{WIKIBASE}BestRank>"
        self.normal_rank = f"<{WIKIBASE}rank> <{WIKIBASE}NormalRank>"
        self.reference_type = f"<{RDF_TYPE}> <{WIKIBASE}Reference>"
        self.time_cache: dict[tuple[str, str], tuple[str, str, list[str]]] = {}
        self.types = {
            kind: [f"<{RDF_TYPE}> <{t}>" for t in types]
            for kind, types in MATERIALISED_TYPES.items()
        }
        self.in_scheme = f"<{SKOS}inScheme> <{self.wd}Q{CLASS_CAPACITY}>"

    def _time(self, value: Value) -> tuple[str, str, list[str]]:
        """(dateTime literal, value node, value node's predicate-object pairs)."""
        key = (value[1], value[2])
        cached = self.time_cache.get(key)
        if cached is None:
            lexical, precision = normalise_time(value[1], value[2])
            digest = hashlib.md5(f"{lexical}|{precision}".encode(), usedforsecurity=False)
            node = f"<{self.base}value/{digest.hexdigest()}>"
            literal = f'"{lexical}"^^<{XSD}dateTime>'
            pairs = [
                f"<{RDF_TYPE}> <{WIKIBASE}TimeValue>",
                f"<{WIKIBASE}timeValue> {literal}",
                f'<{WIKIBASE}timePrecision> "{precision}"^^<{XSD}integer>',
                f'<{WIKIBASE}timeTimezone> "0"^^<{XSD}integer>',
                f"<{WIKIBASE}timeCalendarModel> <{GREGORIAN}>",
            ]
            cached = (literal, node, pairs)
            self.time_cache[key] = cached
        return cached

    def write(self, record: Record) -> tuple[str, int]:
        """(text, number of quads) of one record."""
        qid = f"Q{record.qid}"
        s = f"<{self.wd}{qid}>"
        g = f"<{self.base}data/{qid}>"
        out = [f"{s} {self.type_item}"]
        out.extend(f"{s} {t}" for t in self.types[record.kind])
        if record.kind == CAPACITY:
            out.append(f"{s} {self.in_scheme}")
        out.extend(f"{s} {self.label} {_literal(t)}@{lang}" for lang, t in record.labels)
        out.extend(
            f"{s} {self.description} {_literal(t)}@{lang}" for lang, t in record.descriptions
        )
        nodes: dict[str, list[str]] = {}  # value and reference nodes, once per record
        identifiers = 0
        getrandbits = self.ids.getrandbits
        for st in record.statements:
            prop = st.prop
            if prop in EXTERNAL_ID_PROPERTIES:
                identifiers += 1
            uuid = f"{getrandbits(128):032x}"
            node = f"<{self.base}entity/statement/{qid}-{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}>"  # noqa: E501
            out.append(f"{s} {self.p[prop]} {node}")
            out.append(f"{node} {self.statement_type}")
            out.append(f"{node} {self.best_rank}")
            out.append(f"{node} {self.normal_rank}")
            value = st.value
            if value[0] == "t":
                literal, value_node, pairs = self._time(value)
                out.append(f"{node} {self.ps[prop]} {literal}")
                out.append(f"{node} {self.psv[prop]} {value_node}")
                out.append(f"{s} {self.wdt[prop]} {literal}")
                nodes[value_node] = pairs
            else:
                term = self.term(value)
                out.append(f"{node} {self.ps[prop]} {term}")
                out.append(f"{s} {self.wdt[prop]} {term}")
            for q, v in st.qualifiers:
                if v[0] == "t":
                    literal, value_node, pairs = self._time(v)
                    out.append(f"{node} {self.pq[q]} {literal}")
                    out.append(f"{node} {self.pqv[q]} {value_node}")
                    nodes[value_node] = pairs
                else:
                    out.append(f"{node} {self.pq[q]} {self.term(v)}")
            for ref in st.references:
                snaks = [f"{self.pr[q]} {self.term(v)}" for q, v in ref]
                digest = hashlib.sha1("\n".join(snaks).encode(), usedforsecurity=False)
                ref_node = f"<{self.base}reference/{digest.hexdigest()}>"
                out.append(f"{node} {self.derived} {ref_node}")
                nodes[ref_node] = [self.reference_type, *snaks]
        for node, pairs in nodes.items():
            out.extend(f"{node} {pair}" for pair in pairs)
        out.append(f"{g} <{RDF_TYPE}> <{SCHEMA}Dataset>")
        out.append(f"{g} <{SCHEMA}about> {s}")
        out.append(f'{g} <{SCHEMA}version> "1"^^<{XSD}integer>')
        out.append(f'{g} <{SCHEMA}dateModified> "2025-01-01T00:00:00Z"^^<{XSD}dateTime>')
        out.append(f'{g} <{WIKIBASE}statements> "{len(record.statements)}"^^<{XSD}integer>')
        out.append(f'{g} <{WIKIBASE}sitelinks> "0"^^<{XSD}integer>')
        out.append(f'{g} <{WIKIBASE}identifiers> "{identifiers}"^^<{XSD}integer>')
        tail = f" {g} .\n"
        return tail.join(out) + tail, len(out)


# --- driver ------------------------------------------------------------------------------
FORMATS = ("nt", "ttl", "nq")


@dataclass(frozen=True)
class GenerationStats:
    """What one run wrote."""

    records: int
    triples: int
    seconds: float
    by_kind: dict[str, int]
    path: str
    format: str
    seed: int
    base: str
    version: int = GENERATOR_VERSION


def write_records(
    out: TextIO, records: int, *, fmt: str = "nt", seed: int = 1, base: str = DEFAULT_BASE
) -> tuple[int, dict[str, int]]:
    """Stream ``records`` records to ``out``; return (triples written, records per kind)."""
    writer: NTriplesWriter | TurtleWriter
    if fmt == "nt":
        writer = NTriplesWriter(base)
    elif fmt == "ttl":
        writer = TurtleWriter()
    elif fmt == "nq":
        writer = NormalisedNQuadsWriter(base, seed)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    generator = Generator(records, seed)
    triples = 0
    out.write(writer.header())
    chunk: list[str] = []
    write = writer.write
    for record in generator:
        text, n = write(record)
        chunk.append(text)
        triples += n
        if len(chunk) >= 512:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk))
    by_kind = {KIND_NAMES[k]: n for k, n in sorted(generator.counts.items())}
    return triples, by_kind


def generate(
    records: int,
    out: str | Path,
    *,
    fmt: str | None = None,
    seed: int = 1,
    base: str = DEFAULT_BASE,
) -> GenerationStats:
    """Write ``records`` records to the file ``out``; the format defaults to its suffix."""
    path = Path(out)
    if fmt is None:
        fmt = path.suffix.lstrip(".") or "nt"
    if not base.endswith("/"):
        raise ValueError(f"--base must end with '/': {base!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", buffering=1 << 20) as fh:
        triples, by_kind = write_records(fh, records, fmt=fmt, seed=seed, base=base)
    tmp.replace(path)
    return GenerationStats(
        records=records,
        triples=triples,
        seconds=time.perf_counter() - started,
        by_kind=by_kind,
        path=str(path),
        format=fmt,
        seed=seed,
        base=base,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m bench.generate --records N --out FILE``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description="Write deterministic synthetic Bigtent records for benchmarks.",
    )
    parser.add_argument("--records", type=int, default=10_000, help="number of records")
    parser.add_argument("--out", required=True, help="output file ('-' for standard output)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="nt (default), ttl (relative prefixes: parse with the base IRI), or nq "
        "(stand-in for the loader's normalised output); defaults to the --out suffix",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--base", default=DEFAULT_BASE, help=f"base IRI for nt/nq (default {DEFAULT_BASE})"
    )
    args = parser.parse_args(argv)
    try:
        if args.out == "-":
            fmt = args.format or "nt"
            started = time.perf_counter()
            triples, _ = write_records(
                sys.stdout, args.records, fmt=fmt, seed=args.seed, base=args.base
            )
            seconds = time.perf_counter() - started
            path = "<stdout>"
        else:
            stats = generate(
                args.records, args.out, fmt=args.format, seed=args.seed, base=args.base
            )
            triples, seconds, path = stats.triples, stats.seconds, stats.path
    except ValueError as exc:
        parser.error(str(exc))
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly, like other filters
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print(
        f"wrote {args.records} records, {triples} triples to {path} in {seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
