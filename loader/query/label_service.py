"""WDQS's label service, evaluated by Bigtent: ``SERVICE wikibase:label { … }``.

Queries pasted from the Wikidata Query Service end in

    SERVICE wikibase:label { bd:serviceParam wikibase:language "[AUTO_LANGUAGE],en". }

which binds ``?xLabel``, ``?xDescription`` and ``?xAltLabel`` for every ``?x`` of the
query, in the first of the given languages that has one (``[AUTO_LANGUAGE]`` is the
reader's language: ``?uselang=``, then ``Accept-Language``, then the catalogue's first
language). The explicit form names the variables itself:
``SERVICE wikibase:label { bd:serviceParam wikibase:language "fr,en". ?x rdfs:label ?name.
?x schema:description ?about. ?x skos:altLabel ?aliases. }``.

No service is ever called. :func:`rewrite` removes the clause from the query text (blanked
with spaces, so positions in the query stay those the user wrote) and adds plain SPARQL at
the end of the group that held it: for each labelled variable, one ``OPTIONAL`` per
language and a ``BIND(COALESCE(…))`` that takes the first found, falling back to the
entity id (``"Q42"``) for labels, as WDQS does. Because it is SPARQL, it runs the same on
every store backend, in subqueries, and the label variables can be used anywhere after
it: ``ORDER BY ?xLabel``, ``GROUP BY ?xLabel``, ``FILTER``, aggregates. Helper variables
start with :attr:`Rewritten.hidden` and are dropped from results.

Differences from WDQS, by design: aliases (``?xAltLabel``, WDQS's comma-separated list)
are filled after the query runs (:mod:`loader.query.labels`), so they need ``?x`` to be
selected and cannot be sorted or grouped by; ``SELECT *`` gets no label variables unless
the query names them elsewhere (as on WDQS, which adds them only for named variables).
Anything else in the clause (other triples, ``bd:serviceParam`` options other than
``wikibase:language``) is refused with a 400 that says where, never passed on.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from loader.base.errors import BigtentError
from loader.base.namespaces import BIGDATA, RDFS, SCHEMA, SKOS, WIKIBASE
from loader.query import policy
from loader.query.labels import SUFFIXES

SERVICE_PARAM = BIGDATA + "serviceParam"
LANGUAGE = WIKIBASE + "language"
AUTO_LANGUAGE = "[AUTO_LANGUAGE]"
#: Most languages one label service clause may list.
MAX_LANGUAGES = 20
#: Most label service clauses in one query.
MAX_CLAUSES = 20
_TAG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8}){0,3}$")
_PREDICATES = {RDFS + "label": "Label", SCHEMA + "description": "Description"}
ALT_LABEL = SKOS + "altLabel"
_NONE = "<urn:x-bigtent:no-entity>"  # stands for an unbound subject: it has no labels


@dataclass(frozen=True)
class Binding:
    """``?source <predicate> ?target`` inside the label service."""

    source: str
    predicate: str
    target: str


@dataclass(frozen=True)
class Rewritten:
    """A query with its label service replaced by SPARQL (see the module docstring)."""

    text: str
    #: the service's languages, in order (None: the query has no label service)
    languages: tuple[str, ...] | None = None
    #: alias bindings, filled after the query runs
    aliases: tuple[Binding, ...] = ()
    #: helper variables start with this ("" when there are none)
    hidden: str = ""
    #: (offset in the original text, characters inserted there), in order
    insertions: tuple[tuple[int, int], ...] = field(default=())

    def original_offset(self, offset: int) -> int:
        """The offset in the query as written of ``offset`` in :attr:`text` (the start
        of an insertion for offsets inside one)."""
        shift = 0
        for at, length in self.insertions:
            if offset < at + shift:
                break
            if offset < at + shift + length:
                return at
            shift += length
        return offset - shift


def rewrite(
    text: str, scan: policy.QueryScan, reader_languages: Sequence[str], entity_namespace: str
) -> Rewritten:
    """``text`` with every ``SERVICE wikibase:label`` clause replaced (``scan`` is the
    policy's scan of it); the text unchanged when it has none. 400 for a clause holding
    anything but language parameters and label, description and alias bindings."""
    spans = scan.label_services
    if not spans:
        return Rewritten(text)
    if len(spans) > MAX_CLAUSES or any(span.close < 0 for span in spans):
        raise BigtentError(
            "SPARQL syntax error: a label service clause (SERVICE wikibase:label { … }) is "
            f"not closed, or there are more than {MAX_CLAUSES} of them.",
            title="Query syntax error",
        )
    prefixes = dict(scan.prefixes)
    auto = reader_languages[0] if reader_languages else "en"
    clauses = [_read_clause(text, span, prefixes, auto) for span in spans]
    languages = next((langs for langs, _ in clauses if langs), (auto,))
    explicit = {b.target for _, bindings in clauses for b in bindings}
    hidden = _helper_prefix(scan.variables)
    chars = list(text)
    for span in spans:  # blank the clause, keeping line breaks: positions stay put
        for i in range(span.start, span.close + 1):
            if chars[i] not in "\r\n":
                chars[i] = " "
    additions: dict[int, list[str]] = {}
    aliases: list[Binding] = []
    counter = [0]
    bound = _bound_by_query(text, spans)
    last = len(spans) - 1  # the outermost, usually: after any subquery holding another
    for number, (span, (langs, bindings)) in enumerate(zip(spans, clauses, strict=True)):
        wanted = list(bindings)
        if number == last:
            wanted += [
                b
                for b in _implicit(scan.variables)
                if b.target not in explicit and b.target not in bound
            ]
        aliases += [b for b in wanted if b.predicate == ALT_LABEL]
        labelled = [b for b in wanted if b.predicate != ALT_LABEL]
        if not labelled or span.group_close < 0:
            continue
        sparql = _sparql(labelled, langs or languages, hidden, entity_namespace, counter)
        additions.setdefault(span.group_close, []).append(sparql)
    insertions = []
    for at in sorted(additions, reverse=True):
        added = "".join(additions[at])
        chars.insert(at, added)
        insertions.append((at, len(added)))
    new_text = "".join(chars)
    if policy.scan(new_text, prefixes).label_services:  # fail closed: never sent on
        raise BigtentError(
            "The label service clause could not be replaced.", title="Query syntax error"
        )
    return Rewritten(new_text, languages, tuple(aliases), hidden, tuple(sorted(insertions)))


def _read_clause(
    text: str, span: policy.ServiceSpan, prefixes: Mapping[str, str], auto: str
) -> tuple[tuple[str, ...], list[Binding]]:
    """The languages and bindings of one clause."""
    body = text[span.open + 1 : span.close]
    found = policy.tokens(body)
    languages: list[str] = []
    bindings: list[Binding] = []
    i = 0

    def refuse(at: int, what: str) -> BigtentError:
        offset = span.open + 1 + at
        line, column = position(text, offset)
        return BigtentError(
            f"The label service (SERVICE wikibase:label) at line {line}, column {column} "
            f'accepts only bd:serviceParam wikibase:language "…" and ?x rdfs:label, '
            f"schema:description or skos:altLabel ?y triples; {what}.",
            title="Query syntax error",
            details={"line": line, "column": column},
        )

    def term(index: int) -> tuple[str, str, int]:
        if index >= len(found):
            raise refuse(len(body), "the clause ends in the middle of a triple")
        return found[index]

    while i < len(found):
        kind, value, at = term(i)
        if kind == "var":
            subject = value[1:]
        elif _iri(kind, value, prefixes) == SERVICE_PARAM:
            subject = ""
        else:
            raise refuse(at, f"found {value[:40]!r}")
        i += 1
        while True:
            kind, value, at = term(i)
            predicate = _iri(kind, value, prefixes)
            o_kind, o_value, o_at = term(i + 1)
            i += 2
            if not subject and predicate == LANGUAGE and o_kind == "string":
                languages += _languages(o_value, auto, functools.partial(refuse, o_at))
            elif subject and predicate in (*_PREDICATES, ALT_LABEL) and o_kind == "var":
                bindings.append(Binding(subject, predicate, o_value[1:]))
            else:
                raise refuse(at, f"found {value[:40]!r} {o_value[:40]!r}")
            if i < len(found) and found[i][1] == ";":
                i += 1
                if i < len(found) and found[i][1] not in (".", ";"):
                    continue
            break
        if i < len(found) and found[i][1] == ".":
            i += 1
    if len(languages) > MAX_LANGUAGES:
        raise refuse(0, f"it lists {len(languages)} languages, more than {MAX_LANGUAGES}")
    return tuple(dict.fromkeys(languages)), bindings


def _iri(kind: str, value: str, prefixes: Mapping[str, str]) -> str | None:
    if kind == "iri":
        return value[1:-1]
    if kind == "pname":
        prefix, local = value.split(":", 1)
        if prefix in prefixes:
            return prefixes[prefix] + local
    return None


def _languages(literal: str, auto: str, refuse: Callable[[str], BigtentError]) -> list[str]:
    quote = 3 if literal[:3] in ('"""', "'''") else 1
    found = []
    for part in literal[quote:-quote].split(","):
        code = part.strip()
        if code == AUTO_LANGUAGE:
            code = auto
        if not _TAG.match(code):
            raise refuse(f"{code[:20]!r} is not a language code (use one like en or pt-br)")
        found.append(code.lower())
    return found


def _implicit(variables: Sequence[str]) -> list[Binding]:
    """``?xLabel``, ``?xDescription``, ``?xAltLabel`` for every ``?x`` the query names."""
    named = set(variables)
    found = []
    for name in variables:
        for suffix, predicate in SUFFIXES:
            source = name.removesuffix(suffix)
            if source != name and source in named:
                found.append(Binding(source, predicate, name))
                break
    return found


def _bound_by_query(text: str, spans: Sequence[policy.ServiceSpan]) -> set[str]:
    """Variables the query binds itself, outside the label service: in the object of a
    triple pattern (after a predicate IRI or ``a``) or after ``AS``. The service leaves
    them alone, as WDQS's does."""
    inside = [(span.start, span.close) for span in spans]
    found = set()
    previous: tuple[str, str, int] | None = None
    for token in policy.tokens(text):
        kind, value, at = token
        if any(start <= at <= end for start, end in inside):
            continue
        if kind == "var" and previous is not None:
            before_kind, before, _ = previous
            if before_kind in ("pname", "iri") or before.lower() in ("a", "as"):
                found.add(value[1:])
        previous = token
    return found


def _helper_prefix(variables: Sequence[str]) -> str:
    prefix = "bigtent_label_"
    while any(name.startswith(prefix) for name in variables):
        prefix += "x"
    return prefix


def _sparql(
    bindings: Sequence[Binding],
    languages: Sequence[str],
    hidden: str,
    entity_namespace: str,
    counter: list[int],
) -> str:
    """The SPARQL standing for one clause's label and description bindings."""
    if '"' in entity_namespace or "\\" in entity_namespace:
        raise ValueError(entity_namespace)
    parts = []
    subjects: dict[str, str] = {}
    for binding in bindings:
        if binding.source not in subjects:
            counter[0] += 1
            helper = subjects[binding.source] = f"?{hidden}s{counter[0]}"
            parts.append(f"BIND(COALESCE(?{binding.source}, {_NONE}) AS {helper})")
        subject = subjects[binding.source]
        counter[0] += 1
        found = []
        for index, lang in enumerate(languages):
            var = f"?{hidden}v{counter[0]}_{index}"
            found.append(var)
            parts.append(
                f"OPTIONAL {{ {subject} <{binding.predicate}> {var} "
                f'FILTER(LCASE(LANG({var})) = "{lang}") }}'
            )
        if _PREDICATES[binding.predicate] == "Label" and entity_namespace:
            local = f'STRAFTER(STR({subject}), "{entity_namespace}")'
            found.append(f'IF(REGEX({local}, "^[QP][1-9][0-9]*$"), {local}, ?{hidden}unbound)')
        parts.append(f"BIND(COALESCE({', '.join(found)}) AS ?{binding.target})")
    return " " + " ".join(parts) + " "


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of ``offset`` in ``text``."""
    before = text[:offset]
    return before.count("\n") + 1, offset - before.rfind("\n")


def offset_of(text: str, line: int, column: int) -> int:
    """The offset of 1-based (``line``, ``column``) in ``text`` (clamped to the text)."""
    start = 0
    for _ in range(line - 1):
        found = text.find("\n", start)
        if found < 0:
            return len(text)
        start = found + 1
    return min(len(text), start + max(0, column - 1))
