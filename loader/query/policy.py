"""Checks on the text of a public SPARQL query, before the engine sees it.

Two kinds: a *lexical scan* (nesting depth, whether the query names its own dataset with
FROM, the first keyword for a clearer message when someone sends an update) and an exact
*parse* with rdflib's SPARQL parser to find the endpoint of every SERVICE clause.

The scan skips strings, IRIs and comments the way the SPARQL grammar tokenises them. It
guards the parser against stack exhaustion and decides whether the default graph is the
union of all graphs; it is not what keeps SERVICE out. That job is done by the parse (and,
where the system allows it, by workers that have no network at all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from loader.base.errors import BigtentError

# One alternative per token class; order matters (prefixed names before bare words).
_TOKEN = re.compile(
    r"""
      (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
    | (?P<comment>\#[^\n\r]*)
    | (?P<var>[?$]\w+)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<pname>[\w.\-\u00b7]*:(?:[\w.\-:%\u00b7]|\\.)*)
    | (?P<word>[A-Za-z_]\w*)
    | (?P<open>[{(\[])
    | (?P<close>[})\]])
    """,
    re.VERBOSE | re.DOTALL,
)

UPDATE_KEYWORDS = frozenset(
    {"insert", "delete", "load", "clear", "drop", "create", "add", "move", "copy", "with"}
)
_PROLOGUE = frozenset({"prefix", "base"})


@dataclass(frozen=True)
class QueryScan:
    """What the lexical scan found."""

    depth: int
    has_from: bool
    first_keyword: str | None

    @property
    def looks_like_update(self) -> bool:
        """True when the first keyword after the prologue starts a SPARQL Update."""
        return self.first_keyword in UPDATE_KEYWORDS


def scan(text: str) -> QueryScan:
    """Nesting depth of ``{ ( [``, whether FROM (a dataset clause) occurs, and the first
    keyword after PREFIX/BASE declarations."""
    depth = deepest = 0
    has_from = False
    first: str | None = None
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "word":
            word = match.group().lower()
            if word == "from":
                has_from = True
            if first is None and word not in _PROLOGUE:
                first = word
    return QueryScan(deepest, has_from, first)


def check_nesting(found: QueryScan, limit: int) -> None:
    """Refuse queries nested deeper than ``limit`` (SPARQL_MAX_NESTING)."""
    if found.depth > limit:
        raise BigtentError(
            f"The query nests braces, parentheses or brackets {found.depth} deep; the limit "
            f"is {limit} (setting SPARQL_MAX_NESTING). Flatten it.",
            title="Query too deeply nested",
        )


def mentions_service(text: str) -> bool:
    """Whether the text could hold a SERVICE clause at all (the keyword is ASCII, any case)."""
    return "service" in text.lower()


def service_iris(text: str, prefixes: dict[str, str], base: str | None) -> list[str | None]:
    """The endpoint IRI of every SERVICE clause (None for ``SERVICE ?variable``).

    Raises :class:`ValueError` with the parser's message when the query cannot be parsed.
    """
    declarations, terms = _parse_services(text)
    declared = dict(prefixes)
    for kind, name, iri in declarations:
        if kind == "prefix":
            declared[name] = iri
        else:
            base = iri
    found: list[str | None] = []
    for kind, prefix, value in terms:
        if kind == "iri":
            found.append(_resolve(value, base))
        elif kind == "pname":
            if prefix not in declared:
                raise ValueError(f"undeclared prefix {prefix!r} in SERVICE")
            found.append(declared[prefix] + value)
        else:
            found.append(None)
    return found


_Parsed = tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str], ...]]


@lru_cache(maxsize=256)  # the same queries (examples, tools) come again and again
def _parse_services(text: str) -> _Parsed:
    """The prologue (("prefix"|"base", name, IRI)…) and the SERVICE endpoints as written
    (("iri", "", IRI) | ("pname", prefix, local) | ("var", "", ""))."""
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import URIRef

    try:
        tree = parseQuery(text)
    except RecursionError:
        raise ValueError("the query is nested too deeply for the SERVICE check") from None
    except Exception as exc:  # pyparsing raises several types; its message has the position
        raise ValueError(str(exc)) from None
    declarations = []
    for decl in tree[0]:
        if decl.name == "PrefixDecl":
            declarations.append(("prefix", str(decl.get("prefix") or ""), str(decl["iri"])))
        elif decl.name == "Base":
            declarations.append(("base", "", str(decl["iri"])))
    terms = []
    for node in _walk(tree[1:]):
        if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
            term = node["term"]
            if isinstance(term, URIRef):
                terms.append(("iri", "", str(term)))
            elif isinstance(term, CompValue) and term.name == "pname":
                terms.append(
                    ("pname", str(term.get("prefix") or ""), str(term.get("localname") or ""))
                )
            else:
                terms.append(("var", "", ""))
    return tuple(declarations), tuple(terms)


def _resolve(iri: str, base: str | None) -> str:
    from urllib.parse import urljoin

    return urljoin(base, iri) if base else iri


def _walk(node: Any) -> Iterator[Any]:
    """Every node of an rdflib parse tree (CompValues are dicts, ParseResults lists)."""
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)) or type(item).__name__ == "ParseResults":
            stack.extend(list(item))


def disallowed_services(found: Iterable[str | None], allowed: frozenset[str]) -> list[str]:
    """The SERVICE endpoints not in the allow-list, as text for the error message."""
    return [
        "a variable endpoint (SERVICE ?x)" if iri is None else f"<{iri}>"
        for iri in found
        if iri is None or iri not in allowed
    ]
