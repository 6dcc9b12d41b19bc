"""Reconciliation (the W3C community group's Reconciliation Service API, 0.2, as OpenRefine
uses it): match names, with optional types and property values, to catalogue entities;
and the data extension service (``extend``, property proposals) that pulls columns.

**Names.** Names are compared as token sets after folding (case, accents), dropping
punctuation (``e.V.`` = ``eV``) and parenthesised remarks, in every language, labels and
aliases alike (an alias counts 2 % less). Legal forms (``e.V.``, ``Inc.``, ``Ltd``,
``gGmbH``, …) weigh nothing; generic words (Foundation/Fundación/Fondation/Fundação,
Association/Asociación/Associação, Verein, Stiftung, articles, ``of``, ``and``) weigh a
quarter; every other word weighs less the more names share it. A word matches the same
word, or one of four letters or more within one typo (two from eight letters on),
counted as 0.85. The name score is 100 × the mean of the weighted share of the query's
words found in the name and of the name's words found in the query, so an extra or a
missing word lowers it without losing the candidate. Candidates come from an in-memory
word index of the page index's names (:class:`NameIndex`), rebuilt when the index
changes.

**Properties.** Values given with a query are compared by the property's type: items by
id or name, URLs normalised (scheme, ``www.``, trailing slash, case of the host), external
identifiers without their formatter URL and case, strings folded. Of the properties the
candidate has a value for, the share that matches counts 40 %: score = 60 % name + 40 %
× matched / known (the name alone when the candidate has none of them).

**match.** True only when the evidence is strong and unambiguous: the candidate's name
equals the query once normalised, or an identifier (external id, URL) matches and the
name scores at least 50 (and no other candidate has the very name); no given property
contradicts it; and no other candidate is as strong or scores within ``MARGIN`` points.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from loader.base.errors import BigtentError
from loader.base.ids import INSTANCE_OF
from loader.base.namespaces import ENTITY_ID, XSD, Namespaces
from loader.discovery.browse import subclasses
from loader.storage.page_index import (
    ALIAS,
    DESCRIPTION,
    LABEL,
    PageIndex,
    PropertyInfo,
    entity_id,
    fold,
    num,
)
from loader.storage.revision_log import RevisionLog

#: Queries one batch may hold (OpenRefine sends 10 at a time).
MAX_QUERIES = 50
MAX_LIMIT = 25
DEFAULT_LIMIT = 5
MAX_PROPERTIES = 10
MAX_VALUES = 10
MAX_TEXT = 200
#: Candidates examined per query before property values re-rank them.
CANDIDATES = 50


@dataclass(frozen=True)
class Query:
    """One reconciliation query."""

    text: str
    types: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    properties: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _bad(key: str, message: str) -> BigtentError:
    return BigtentError(f"query {key[:40]!r}: {message}", title="Malformed reconciliation query")


def parse_query(key: str, raw: object) -> Query:
    """A query object of a batch (or a bare string); 400 naming the query and the field
    when it is malformed."""
    if isinstance(raw, str):
        raw = {"query": raw}
    if not isinstance(raw, Mapping):
        raise _bad(key, "each query is a JSON object with a query string")
    text = raw.get("query", "")
    if not isinstance(text, str):
        raise _bad(key, "query must be a string")
    if len(text) > MAX_TEXT:
        raise _bad(key, f"query is longer than {MAX_TEXT} characters")
    types = raw.get("type", [])
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise _bad(key, "type must be a type id or a list of them")
    if len(types) > MAX_VALUES or not all(ENTITY_ID.match(t) for t in types):
        raise _bad(key, "type must name item ids such as Q1 (see the manifest's defaultTypes)")
    limit = raw.get("limit", DEFAULT_LIMIT)
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int | float)
        or not math.isfinite(limit)  # 1e400 decodes as infinity, NaN compares as nothing
        or limit < 1
    ):
        raise _bad(key, "limit must be a positive number")
    properties = raw.get("properties", [])
    if not isinstance(properties, list) or len(properties) > MAX_PROPERTIES:
        raise _bad(key, f"properties must be a list of at most {MAX_PROPERTIES} {{pid, v}}")
    parsed = []
    for prop in properties:
        if not isinstance(prop, Mapping) or not isinstance(prop.get("pid"), str):
            raise _bad(key, "each property is an object with pid and v")
        pid = prop["pid"]
        if not ENTITY_ID.match(pid) or not pid.startswith("P"):
            raise _bad(key, f"pid {pid[:40]!r} is not a property id such as P12")
        values = prop.get("v")
        values = values if isinstance(values, list) else [values]
        if not values or len(values) > MAX_VALUES:
            raise _bad(key, f"v of {pid} must hold 1 to {MAX_VALUES} values")
        parsed.append((pid, tuple(_value(key, v) for v in values)))
    if not text.strip() and not parsed:
        raise _bad(key, "give a query string (or property values)")
    return Query(text.strip(), tuple(types), min(int(limit), MAX_LIMIT), tuple(parsed))


def _value(key: str, value: object) -> str:
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad(key, "property values are strings, numbers or {id, name} objects")
    return str(value)[:MAX_TEXT]


def parse_batch(raw: object) -> dict[str, Query]:
    """``queries=`` as decoded JSON: an object of query objects."""
    if not isinstance(raw, Mapping) or not raw:
        raise BigtentError(
            'queries must be a JSON object such as {"q0": {"query": "Open Knowledge"}}',
            title="Malformed reconciliation batch",
        )
    if len(raw) > MAX_QUERIES:
        raise BigtentError(
            f"{len(raw)} queries in one batch; at most {MAX_QUERIES}",
            title="Malformed reconciliation batch",
        )
    return {str(key): parse_query(str(key), value) for key, value in raw.items()}


@dataclass(frozen=True)
class Candidate:
    """One candidate entity for a query."""

    id: str
    name: str
    description: str | None
    score: float
    match: bool
    types: list[tuple[str, str]]


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Legal-form words: they say nothing about which organisation is meant.
LEGAL_FORMS = _word_set(
    """ev eg ggmbh gmbh mbh ag kg ohg ug inc incorporated ltd limited llc llp lp plc cic
    pty bv nv vzw asbl sa sas sarl sl sal srl spa ab as oy aps ong ngo gug"""
)
#: Small words: left out when names are compared for equality.
SMALL_WORDS = _word_set(
    """the of for and a an de del della di la le les l d du des da do dos das e et y und
    fur zur zum der die van von en el los las o"""
)
#: Generic words of organisation names and small words, in the catalogue's languages.
GENERIC_WORDS = (
    _word_set(
        """foundation fundacion fondation fundacao fondazione stiftung stichting fundacja
    association asociacion associacao associazione verein vereniging society sociedad
    societe sociedade corporation corp company co"""
    )
    | SMALL_WORDS
)
GENERIC_WEIGHT = 0.25
ALIAS_FACTOR = 0.98
FUZZY_SIMILARITY = 0.85
#: A match needs a lead of this many points over the next candidate.
MARGIN = 10.0
_PARENTHESES = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_JOINERS = re.compile(r"[.'’`´]")
_WORDS = re.compile(r"\w+")
#: Entities scored per query at most (the rarest words' postings first).
MAX_SCORED = 2000


def tokens(text: str) -> tuple[str, ...]:
    """The words of a name as reconciliation compares them.

    >>> tokens("Wikimedia Deutschland e. V.")
    ('wikimedia', 'deutschland', 'e', 'v')
    >>> tokens("Fundação  Wikimédia (Brasil)")
    ('fundacao', 'wikimedia', 'brasil')
    """
    folded = _JOINERS.sub("", fold(text).replace("&", " and "))
    return tuple(_WORDS.findall(folded))


def _legal_runs(words: tuple[str, ...]) -> tuple[str, ...]:
    """Words with legal forms spelt with spaces between their letters (``e. V.``,
    ``S. A.``) joined first, so that they are recognised."""
    out: list[str] = []
    for word in words:
        if out and len(word) == 1 and len(out[-1]) <= 2 and out[-1] + word in LEGAL_FORMS:
            out[-1] += word
        else:
            out.append(word)
    return tuple(out)


def name_variants(text: str, query: bool = False) -> set[tuple[str, ...]]:
    """The token sequences a name is known by: as written, without its remarks in
    parentheses (``Dakar Makers Collective (fictional example)``) and with hyphenated
    words joined (``CK-12`` = ``CK12``); a ``query`` of two or three words also as one
    word (``Pedia Press`` = ``PediaPress``)."""
    texts = {text, _PARENTHESES.sub(" ", text)}
    texts |= {t.replace("-", "") for t in texts if "-" in t}
    found = {_legal_runs(tokens(t)) for t in texts}
    if query:
        found |= {("".join(words),) for words in list(found) if 2 <= len(words) <= 3}
    return {v for v in found if v}


def _same_words(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Equal names: the same words, small words aside."""
    big_a = sorted(w for w in a if w not in SMALL_WORDS)
    big_b = sorted(w for w in b if w not in SMALL_WORDS)
    return big_a == big_b if big_a or big_b else sorted(a) == sorted(b)


def _core(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words that identify: without legal forms (all of them if nothing is left)."""
    kept = tuple(w for w in words if w not in LEGAL_FORMS)
    return kept or words


@dataclass(frozen=True)
class _Name:
    entity: int
    alias: bool
    words: tuple[str, ...]


class NameIndex:
    """Every label and alias of the page index as token sequences, with a word index
    (word → names) and a trigram index of the words (for typos)."""

    def __init__(self, rows: Sequence[tuple[int, int, str]]) -> None:
        self.names: list[_Name] = []
        self.postings: dict[str, list[int]] = {}
        seen: set[tuple[int, tuple[str, ...]]] = set()
        for number, kind, text in rows:
            for words in name_variants(text):
                key = (number, _core(words))
                if key in seen:
                    continue
                seen.add(key)
                position = len(self.names)
                self.names.append(_Name(number, kind == ALIAS, _core(words)))
                for word in set(_core(words)):
                    self.postings.setdefault(word, []).append(position)
        self.entities = len({n.entity for n in self.names}) or 1
        self.grams: dict[str, set[str]] = {}
        for word in self.postings:
            for gram in _trigrams(word):
                self.grams.setdefault(gram, set()).add(word)

    def weight(self, word: str) -> float:
        """How much a word says: 0 for legal forms, a quarter for generic words, less
        the more entities' names use it."""
        if word in LEGAL_FORMS:
            return 0.0
        if word in GENERIC_WORDS:
            return GENERIC_WEIGHT
        share = len(self.postings.get(word, ())) / self.entities
        return max(0.3, 1.0 - 2.0 * share)

    def similar(self, word: str) -> dict[str, float]:
        """Words of the index that ``word`` may stand for, with their similarity."""
        found = {word: 1.0} if word in self.postings else {}
        if len(word) < 4:
            return found
        near: set[str] = set()
        for gram in _trigrams(word):
            near |= self.grams.get(gram, set())
        for other in near:
            if other not in found and _typo(word, other):
                found[other] = FUZZY_SIMILARITY
        return found


def _trigrams(word: str) -> set[str]:
    padded = f" {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _typo(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one edit (two for words of 8 letters or
    more), both being at least 4 letters long."""
    if len(b) < 4 or abs(len(a) - len(b)) > 2:
        return False
    allowed = 2 if min(len(a), len(b)) >= 8 else 1
    return _edits(a, b, allowed) <= allowed


def _edits(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count once), stopping past ``limit``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def name_index(index: PageIndex) -> NameIndex:
    """The name index of ``index`` as it is now (rebuilt when it changes)."""

    def build() -> NameIndex:
        rows = index.db.execute(
            "SELECT num, kind, text FROM name WHERE kind IN (?, ?)", (LABEL, ALIAS)
        )
        return NameIndex(rows.fetchall())

    return index.memo(("reconciliation", "names"), build)


@dataclass(frozen=True)
class NameScore:
    """How well an entity's best name matches a query."""

    score: float  # 0–100
    exact: bool  # equal once normalised


def score_names(names: NameIndex, query: str) -> dict[int, NameScore]:
    """Entity number → its best name score for ``query`` (entities sharing no word with
    it are left out)."""
    variants = [_core(v) for v in name_variants(query, query=True)]
    best: dict[int, NameScore] = {}
    for words in variants:
        weights = {w: names.weight(w) for w in words}
        if not any(weights.values()):
            weights = dict.fromkeys(words, 1.0)
        similar = {w: names.similar(w) for w in set(words)}
        positions: set[int] = set()
        # Rare words first: common ones add candidates only while there is room.
        for word in sorted(similar, key=lambda w: sum(len(names.postings[o]) for o in similar[w])):
            for other in similar[word]:
                if weights[word] > 0 or len(words) == 1:
                    positions.update(names.postings[other])
            if len(positions) > MAX_SCORED:
                break
        total_query = sum(weights[w] for w in words)
        for position in positions:
            name = names.names[position]
            query_found = 0.0
            name_found = 0.0
            name_total = 0.0
            for word in words:
                query_found += weights[word] * max(
                    (similar[word].get(other, 0.0) for other in name.words), default=0.0
                )
            for other in name.words:
                weight = names.weight(other)
                name_total += weight
                name_found += weight * max((similar[w].get(other, 0.0) for w in words), default=0.0)
            if not name_total:
                continue
            value = 100.0 * (query_found / total_query + name_found / name_total) / 2
            exact = _same_words(name.words, words)
            if exact:
                value = 100.0
            if name.alias:
                value *= ALIAS_FACTOR
            value = round(value, 1)
            current = best.get(name.entity)
            if current is None or (value, exact) > (current.score, current.exact):
                best[name.entity] = NameScore(value, exact)
    return best


def normalise_url(text: str) -> str:
    """A URL as compared: no scheme, no ``www.``, lower-case host, no trailing slash.

    >>> normalise_url("HTTP://www.Wikimedia.de/")
    'wikimedia.de'
    """
    value = text.strip()
    value = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", value)
    host, slash, rest = value.partition("/")
    host = host.lower().removeprefix("www.")
    host = host.removesuffix(":443").removesuffix(":80")
    return (host + slash + rest).rstrip("/")


def normalise_identifier(text: str, formatter: str | None) -> str:
    """An external identifier as compared: without its formatter URL (or any URL path
    before it) and case."""
    value = text.strip()
    if formatter and "$1" in formatter:
        before, _, after = formatter.partition("$1")
        for prefix in {before, before.replace("https://", "http://")}:
            if prefix and value.startswith(prefix) and value.endswith(after):
                value = value[len(prefix) : len(value) - len(after) or None]
    if "://" in value:
        value = value.rstrip("/").rsplit("/", 1)[-1]
    return value.casefold()


IDENTIFYING = frozenset({"ExternalId", "Url"})


def truthy_values(
    revisions: RevisionLog, ns: Namespaces, entities: Sequence[str], pids: Sequence[str]
) -> dict[str, dict[str, list[ox.NamedNode | ox.Literal]]]:
    """The truthy (``wdt:``) values of ``pids`` of each entity, from its newest revision
    (the caller passes live entities only)."""
    wanted = {ns["wdt"] + pid: pid for pid in pids}
    found: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]] = {}
    for entity in entities:
        rev = revisions.get(entity)
        per: dict[str, list[ox.NamedNode | ox.Literal]] = {}
        found[entity] = per
        if rev is None or not rev.snapshot:
            continue
        subject = ns.entity(entity)
        for triple in ox.parse(rev.snapshot, ox.RdfFormat.N_TRIPLES):
            pid = wanted.get(triple.predicate.value)
            value = triple.object
            if pid is None or triple.subject != subject:
                continue
            if isinstance(value, ox.NamedNode | ox.Literal):
                per.setdefault(pid, []).append(value)
    return found


def literal_values(
    revisions: RevisionLog, ns: Namespaces, entities: Sequence[str], pids: Sequence[str]
) -> dict[str, dict[str, list[str]]]:
    """:func:`truthy_values` as text: IRIs and lexical forms (items as ids)."""
    prefix = ns["wd"]
    return {
        entity: {pid: [v.value.removeprefix(prefix) for v in vs] for pid, vs in per.items()}
        for entity, per in truthy_values(revisions, ns, entities, pids).items()
    }


def reconcile(
    index: PageIndex,
    query: Query,
    languages: Sequence[str],
    revisions: RevisionLog | None = None,
    ns: Namespaces | None = None,
) -> list[Candidate]:
    """The best candidates for ``query``, best first (at most ``query.limit``).
    ``revisions`` and ``ns`` give string, URL and identifier values (without them only
    item-valued properties are compared)."""
    if not query.text:
        return []
    names = name_index(index)
    scores = score_names(names, query.text)
    if not scores:
        return []
    ranked = sorted(scores.items(), key=lambda item: (-item[1].score, item[0]))
    ids = [entity_id(number) for number, _ in ranked]
    live = index.live(ids)
    if query.types:
        classes = {c for t in query.types for c in subclasses(index, t)}
        kinds = index.values(ids[:MAX_SCORED], INSTANCE_OF)
        ids = [e for e in ids if e in live and classes & set(kinds.get(e, ()))]
    else:
        ids = [e for e in ids if e in live]
    ids = ids[:CANDIDATES]
    by_id = {entity_id(number): score for number, score in scores.items()}
    evidence = _evidence(index, query, ids, languages, revisions, ns)
    scored = []
    for entity in ids:
        name = by_id[entity]
        matched, mismatched, identified = evidence.get(entity, (0, 0, False))
        known = matched + mismatched
        score = name.score if not known else round(0.6 * name.score + 40 * matched / known, 1)
        strong = not mismatched and (name.exact or (identified and name.score >= 50))
        scored.append((score, entity, strong, name.exact))
    scored.sort(key=lambda s: (-s[0], int(s[1][1:]), s[1]))
    chosen = scored[: query.limit]
    certain = bool(scored) and scored[0][2]
    if certain and len(scored) > 1:
        runner_up = scored[1]
        certain = not runner_up[2] and scored[0][0] - runner_up[0] >= MARGIN
        # An identifier does not outvote another candidate that has the very name.
        certain = certain and (scored[0][3] or not any(s[3] for s in scored[1:]))
    found = [c[1] for c in chosen]
    kinds = index.values(found, INSTANCE_OF)
    labels = index.names(found + [k for ks in kinds.values() for k in ks], languages)
    descriptions = index.names(found, languages, kind=DESCRIPTION)
    return [
        Candidate(
            entity,
            labels.get(entity, ("", entity))[1],
            descriptions[entity][1] if entity in descriptions else None,
            score,
            certain and position == 0,
            [(k, labels.get(k, ("", k))[1]) for k in kinds.get(entity, [])],
        )
        for position, (score, entity, _, _) in enumerate(chosen)
    ]


def _evidence(
    index: PageIndex,
    query: Query,
    ids: Sequence[str],
    languages: Sequence[str],
    revisions: RevisionLog | None,
    ns: Namespaces | None,
) -> dict[str, tuple[int, int, bool]]:
    """Per candidate: (properties matched, properties contradicted, an identifying
    property matched)."""
    if not query.properties or not ids:
        return {}
    types = index.properties()
    items = [pid for pid, _ in query.properties if _type(types, pid) == "WikibaseItem"]
    literals = [pid for pid, _ in query.properties if pid not in items]
    item_values = {pid: index.values(ids, pid) for pid in items}
    value_names = _value_names(index, item_values, languages)
    literal = (
        literal_values(revisions, ns, ids, literals)
        if literals and revisions is not None and ns is not None
        else {}
    )
    names = name_index(index)
    cache: dict[str, set[str]] = {}

    def named(text: str) -> set[str]:
        """The entities one of whose names (any language) is ``text``."""
        if text not in cache:
            scores = score_names(names, text) if not ENTITY_ID.match(text) else {}
            cache[text] = {entity_id(n) for n, score in scores.items() if score.exact}
        return cache[text]

    found: dict[str, tuple[int, int, bool]] = {}
    for entity in ids:
        matched = mismatched = 0
        identified = False
        for pid, wanted in query.properties:
            kind = _type(types, pid)
            if pid in item_values:
                have = item_values[pid].get(entity, [])
                folded = {fold(value_names.get(v, "")) for v in have}
                hit = any(
                    w.upper() in have or fold(w) in folded or named(w) & set(have) for w in wanted
                )
            else:
                have = literal.get(entity, {}).get(pid, [])
                same = _comparer(kind, types.get(pid))
                hit = any(same(w) == same(v) for w in wanted for v in have)
            if not have:
                continue
            if hit:
                matched += 1
                identified = identified or kind in IDENTIFYING
            else:
                mismatched += 1
        found[entity] = (matched, mismatched, identified)
    return found


def _type(types: Mapping[str, PropertyInfo], pid: str) -> str:
    info = types.get(pid)
    return info.type if info is not None else ""


def _comparer(kind: str, info: PropertyInfo | None) -> Callable[[str], str]:
    if kind == "Url":
        return normalise_url
    if kind == "ExternalId":
        formatter = info.formatter if info is not None else None
        return lambda value: normalise_identifier(value, formatter)
    return fold


def _value_names(
    index: PageIndex, values: Mapping[str, Mapping[str, list[str]]], languages: Sequence[str]
) -> dict[str, str]:
    ids = {v for per in values.values() for vs in per.values() for v in vs}
    return {k: text for k, (_, text) in index.names(ids, languages).items()}


def as_json(candidates: Sequence[Candidate]) -> dict[str, Any]:
    """The spec's result object for one query."""
    results = []
    for c in candidates:
        item: dict[str, Any] = {
            "id": c.id,
            "name": c.name,
            "score": c.score,
            "match": c.match,
            "type": [{"id": t, "name": n} for t, n in c.types],
        }
        if c.description:
            item["description"] = c.description
        results.append(item)
    return {"result": results}


# --- data extension --------------------------------------------------------------------------
#: Properties proposed at most (``limit`` of propose_properties).
MAX_PROPOSALS = 50
_DATE = re.compile(
    r"^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12][0-9])"
    r"T(2[0-3]|[01][0-9]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):[0-5][0-9])?$"
)
_INTEGERS = frozenset(
    XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")
)
_NUMBERS = frozenset(XSD + t for t in ("decimal", "double", "float"))


@dataclass(frozen=True)
class ExtendRequest:
    """A data extension query: entities and the properties to fetch for them."""

    ids: tuple[str, ...]
    properties: tuple[str, ...]


def parse_extend(raw: object) -> ExtendRequest:
    """``extend=`` as decoded JSON (``{"ids": [...], "properties": [{"id": "P11"}]}``);
    400 saying what is wrong."""

    def bad(message: str) -> BigtentError:
        return BigtentError(f"extend: {message}", title="Malformed data extension query")

    if not isinstance(raw, Mapping):
        raise bad('a JSON object such as {"ids": ["Q1"], "properties": [{"id": "P11"}]}')
    entities = raw.get("ids")
    if not isinstance(entities, list) or not all(isinstance(e, str) for e in entities):
        raise bad("ids must be a list of entity ids")
    if len(entities) > MAX_QUERIES:
        raise bad(f"{len(entities)} ids; at most {MAX_QUERIES} at a time")
    properties = raw.get("properties")
    if not isinstance(properties, list) or len(properties) > MAX_PROPERTIES:
        raise bad(f"properties must be a list of at most {MAX_PROPERTIES} {{id}} objects")
    pids = []
    for prop in properties:
        pid = prop.get("id") if isinstance(prop, Mapping) else None
        if not isinstance(pid, str) or not ENTITY_ID.match(pid) or not pid.startswith("P"):
            raise bad("each property is an object whose id is a property id such as P11")
        pids.append(pid)
    return ExtendRequest(tuple(dict.fromkeys(entities)), tuple(dict.fromkeys(pids)))


def extend(
    index: PageIndex,
    revisions: RevisionLog,
    ns: Namespaces,
    request: ExtendRequest,
    languages: Sequence[str],
) -> dict[str, Any]:
    """The data extension response: ``meta`` (each property's name) and ``rows`` (each
    id's values per property; ids that are not live entities get no values)."""
    live = sorted(index.live(e for e in request.ids if ENTITY_ID.match(e)))
    values = truthy_values(revisions, ns, live, request.properties)
    entity_prefix = ns["wd"]
    linked = {
        v.value.removeprefix(entity_prefix)
        for per in values.values()
        for vs in per.values()
        for v in vs
        if isinstance(v, ox.NamedNode) and v.value.startswith(entity_prefix)
    }
    shown = index.live(linked)  # hidden people are neither named nor pointed at
    labels = index.names([*request.properties, *shown], languages)
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for entity in request.ids:
        per = values.get(entity, {})
        rows[entity] = {
            pid: [
                cell
                for v in per.get(pid, [])
                if (cell := _cell(v, entity_prefix, shown, labels)) is not None
            ]
            for pid in request.properties
        }
    meta = [{"id": pid, "name": labels.get(pid, ("", pid))[1]} for pid in request.properties]
    return {"meta": meta, "rows": rows}


def _cell(
    value: ox.NamedNode | ox.Literal,
    entity_prefix: str,
    shown: set[str],
    labels: Mapping[str, tuple[str, str]],
) -> dict[str, Any] | None:
    """One value as the data extension response writes it (None: not shown)."""
    if isinstance(value, ox.NamedNode):
        if value.value.startswith(entity_prefix):
            entity = value.value.removeprefix(entity_prefix)
            if entity not in shown:
                return None
            return {"id": entity, "name": labels.get(entity, ("", entity))[1]}
        return {"str": value.value}
    datatype = value.datatype.value
    if datatype in _INTEGERS:
        with suppress(ValueError):
            return {"int": int(value.value)}
    if datatype in _NUMBERS:
        with suppress(ValueError):
            number = float(value.value)
            if math.isfinite(number):
                return {"float": number}
    if datatype == XSD + "dateTime" and _DATE.match(value.value):
        return {"date": value.value}
    return {"str": value.value}


def propose_properties(
    index: PageIndex, type_id: str, limit: int, languages: Sequence[str]
) -> dict[str, Any]:
    """The properties that instances of ``type_id`` (and its subclasses) use most, for
    OpenRefine's "add columns from reconciled values"."""
    if not ENTITY_ID.match(type_id) or not type_id.startswith("Q"):
        raise BigtentError(
            f"type {type_id[:40]!r} is not a class: give an item id such as Q1",
            title="Malformed type",
        )
    limit = max(1, min(limit, MAX_PROPOSALS))
    classes = [num(c) for c in subclasses(index, type_id)]
    marks = ",".join("?" * len(classes))
    rows = index.db.execute(
        "SELECT u.prop, COUNT(DISTINCT u.source) AS n FROM use u "  # noqa: S608
        "WHERE u.kind = 0 AND EXISTS (SELECT 1 FROM fact f WHERE f.num = u.source "
        f"AND f.prop = ? AND f.value IN ({marks})) "
        "GROUP BY u.prop ORDER BY n DESC, u.prop DESC LIMIT ?",
        (num(INSTANCE_OF), *classes, limit),
    ).fetchall()
    pids = [entity_id(prop) for prop, _ in rows]
    labels = index.names(pids, languages)
    descriptions = index.names(pids, languages, kind=DESCRIPTION)
    proposed = []
    for pid in pids:
        item = {"id": pid, "name": labels.get(pid, ("", pid))[1]}
        if pid in descriptions:
            item["description"] = descriptions[pid][1]
        proposed.append(item)
    return {"type": type_id, "limit": limit, "properties": proposed}
