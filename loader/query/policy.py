"""Checks on the text of a public SPARQL query, before any engine sees it.

One lexical pass tokenises the query the way the SPARQL grammar does (strings, IRIs,
comments, prefixed names, variables, numbers, keywords, punctuation) and finds:

* how deeply it nests: brackets ``{ ( [`` plus runs of the prefix operators ``!`` and
  ``^`` (SPARQL_MAX_NESTING);
* the longest *chain* at one level: binary operators (``a || b || …``, ``p1/p2/…``,
  ``1 + 2 + …``) and groups or calls side by side (``{…} UNION {…}``, ``OPTIONAL {…}
  OPTIONAL {…}``, ``BIND(…) BIND(…)``), which engines turn into a tree one level deeper
  per element (SPARQL_MAX_CHAIN; ``VALUES`` data is a flat table and is not counted);
* every SERVICE endpoint (resolved against the query's own and the endpoint's
  prefixes and base), every SPARQL Update keyword, whether FROM occurs, and the first
  keyword after the prologue.

It fails closed: a character that starts no SPARQL token, or a SERVICE not followed by
an endpoint, makes the query unparsable, and an unparsable query is refused (400), never
passed on for the engine to judge. Engines recurse once per level of nesting, so the two
limits are what keeps a 10 kB query of ``!!!…`` or ``p/p/p/…`` from exhausting a worker's
stack. Keywords are recognised only as whole tokens, so ``SERVICE`` inside a string, an
IRI, a comment or a prefixed name is not one, and ``#`` inside an IRI or a string does not
start a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

from loader.base.errors import BigtentError

_NAME = r"\w\u00b7\u0300-\u036f\u203f\u2040"
# One alternative per token class; order matters (prefixed names before bare words).
_TOKEN = re.compile(
    rf"""
      (?P<space>\s+)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
    | (?P<comment>\#[^\n\r]*)
    | (?P<var>[?$][{_NAME}]+)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<pname>[{_NAME}.\-]*:(?:[{_NAME}.\-:%]|\\.)*)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<word>[A-Za-z_]\w*)
    | (?P<open>[{{(\[])
    | (?P<close>[}})\]])
    | (?P<op>\|\||&&|!=|<=|>=|\^\^|[=<>+\-*/|!^?.,;~])
    """,
    re.VERBOSE | re.DOTALL,
)
_CHAIN_OPS = frozenset({"||", "&&", "=", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "|"})
_PREFIX_OPS = frozenset({"!", "^", "^^"})  # "^^" also lexes a run of inverse paths
_QUIET = frozenset({"space", "comment"})

UPDATE_KEYWORDS = frozenset(
    {"insert", "delete", "load", "clear", "drop", "create", "add", "move", "copy", "with"}
)
_PROLOGUE = frozenset({"prefix", "base"})
#: WDQS's label service: never called, but evaluated by Bigtent itself
#: (:mod:`loader.query.label_service`); the only SERVICE allowed without the allow-list.
LABEL_SERVICE = "http://wikiba.se/ontology#label"


def tokens(text: str) -> list[tuple[str, str, int]]:
    """The SPARQL tokens of ``text`` as (kind, text, offset), spaces and comments left
    out; :class:`Unparsable` when a character starts no token."""
    found = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() != position:
            raise Unparsable(f"unexpected {text[position]!r} at {_where(text, position)}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind not in _QUIET:
            found.append((kind, match.group(), match.start()))
    if position != len(text):
        raise Unparsable(f"unexpected {text[position]!r} at {_where(text, position)}")
    return found


@dataclass(frozen=True)
class QueryScan:
    """What the lexical scan found."""

    depth: int
    chain: int
    has_from: bool
    first_keyword: str | None
    updates: tuple[str, ...] = ()  # SPARQL Update keywords, as written
    services: tuple[str | None, ...] = ()  # SERVICE endpoints; None for SERVICE ?var
    #: where each SERVICE clause is, in the order of ``services``
    service_spans: tuple[ServiceSpan, ...] = ()
    #: every prefix in force at the end of the prologue (the endpoint's and the query's)
    prefixes: tuple[tuple[str, str], ...] = ()
    #: every variable name the query mentions (without ``?``/``$``), in order of appearance
    variables: tuple[str, ...] = ()
    #: the first prefixed name whose prefix is declared nowhere: (prefix, offset)
    undeclared: tuple[str, int] | None = None

    @property
    def label_services(self) -> tuple[ServiceSpan, ...]:
        """The clauses calling WDQS's label service (``SERVICE wikibase:label``)."""
        return tuple(span for span in self.service_spans if span.iri == LABEL_SERVICE)

    @property
    def looks_like_update(self) -> bool:
        """True when the query holds a SPARQL Update keyword anywhere (none of them is a
        keyword of a query)."""
        return bool(self.updates) or self.first_keyword in UPDATE_KEYWORDS


@dataclass(frozen=True)
class ServiceSpan:
    """One ``SERVICE [SILENT] endpoint { … }`` clause: its endpoint (None for a variable),
    the offsets of the SERVICE keyword, of its ``{`` and of its matching ``}``, and the
    ``}`` that closes the group holding the clause (-1 when it is never closed)."""

    iri: str | None
    start: int
    open: int
    close: int
    group_close: int


@dataclass
class _Clause:
    """A SERVICE clause while it is read (-1: not seen yet)."""

    iri: str | None
    start: int
    depth: int = -1  # nesting depth of its "{"
    open: int = -1
    close: int = -1
    group_close: int = -1


class Unparsable(ValueError):
    """The text is not made of SPARQL tokens (or a SERVICE names no endpoint)."""


def scan(
    text: str, prefixes: Mapping[str, str] | None = None, base: str | None = None
) -> QueryScan:
    """Scan ``text`` (see the module docstring); ``prefixes`` and ``base`` are the
    endpoint's predefined ones, for resolving SERVICE endpoints. Raises
    :class:`BigtentError` (400) when the text cannot be tokenised."""
    try:
        return _scan(text, dict(prefixes or {}), base)
    except Unparsable as exc:
        raise BigtentError(
            f"SPARQL syntax error: {exc}. A query that cannot be checked is refused.",
            title="Query syntax error",
        ) from None


def _scan(text: str, declared: dict[str, str], base: str | None) -> QueryScan:
    depth = deepest = run = 0
    chains = [0]  # per open bracket: elements chained at that level
    longest = 0
    data_levels: list[bool] = [False]  # inside a VALUES data block (not counted)
    values_pending = False
    has_from = False
    first: str | None = None
    updates: list[str] = []
    services: list[str | None] = []
    expect: list[str] = []  # what the next tokens must be (PREFIX/BASE/SERVICE syntax)
    pending_prefix = ""
    variables: dict[str, None] = {}
    clauses: list[_Clause] = []  # SERVICE clauses, as they are read
    body_ends: dict[int, list[_Clause]] = {}  # by depth: clauses whose "}" is awaited
    group_ends: dict[int, list[_Clause]] = {}  # by depth: awaiting their group's "}"
    service_start = -1
    undeclared: tuple[str, int] | None = None
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() != position:
            raise Unparsable(f"unexpected {text[position]!r} at {_where(text, position)}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind in _QUIET:
            continue
        value = match.group()
        if expect:
            want = expect.pop(0)
            if want == "silent?":
                if kind == "word" and value.lower() == "silent":
                    expect.insert(0, "endpoint")
                    continue
                want = "endpoint"
            if want == "endpoint":
                services.append(_endpoint(kind, value, declared, base, text, match.start()))
                clauses.append(_Clause(services[-1], service_start))
            elif want == "prefix-name" and kind == "pname" and value.endswith(":"):
                pending_prefix = value[:-1]
            elif want in ("prefix-iri", "base-iri") and kind == "iri":
                iri = _resolve(_unescape_iri(value[1:-1]), base)
                if want == "base-iri":
                    base = iri
                else:
                    declared[pending_prefix] = iri
            else:
                raise Unparsable(f"a malformed PREFIX or BASE at {_where(text, match.start())}")
        if kind == "op" and value in _PREFIX_OPS:
            run += len(value)
            deepest = max(deepest, depth + run)
        else:
            run = 0
        counted = not data_levels[-1]
        if kind == "var":
            variables[value[1:]] = None
        elif kind == "pname" and undeclared is None and not expect:
            name = value.split(":", 1)[0]
            if name != "_" and name not in declared:
                undeclared = (name, match.start())
        if kind == "open":
            if counted:
                chains[-1] += 1
                longest = max(longest, chains[-1])
            if value == "{" and clauses and clauses[-1].depth == -1:
                clauses[-1].depth, clauses[-1].open = depth, match.start()
                body_ends.setdefault(depth, []).append(clauses[-1])
            depth += 1
            deepest = max(deepest, depth)
            chains.append(0)
            data_levels.append(data_levels[-1] or (values_pending and value == "{"))
            if value == "{":
                values_pending = False
        elif kind == "close":
            if depth > 0:
                depth -= 1
                chains.pop()
                data_levels.pop()
                for clause in group_ends.pop(depth, ()):
                    clause.group_close = match.start()
                for clause in body_ends.pop(depth, ()):
                    clause.close = match.start()
                    group_ends.setdefault(depth - 1, []).append(clause)
        elif kind == "op" and value in _CHAIN_OPS and counted:
            chains[-1] += 1
            longest = max(longest, chains[-1])
        elif kind == "word":
            word = value.lower()
            if word == "from":
                has_from = True
            elif word == "values":
                values_pending = True
            elif word in UPDATE_KEYWORDS:
                updates.append(value)
            elif word == "service":
                expect = ["silent?"]
                service_start = match.start()
            elif word == "prefix":
                expect = ["prefix-name", "prefix-iri"]
            elif word == "base":
                expect = ["base-iri"]
            if first is None and word not in _PROLOGUE:
                first = word
    if position != len(text):
        raise Unparsable(f"unexpected {text[position]!r} at {_where(text, position)}")
    if expect:
        raise Unparsable("the query ends inside a PREFIX, BASE or SERVICE clause")
    spans = []
    for clause in clauses:
        if clause.open == -1:
            raise Unparsable(f"a SERVICE clause without a group at {_where(text, clause.start)}")
        spans.append(
            ServiceSpan(clause.iri, clause.start, clause.open, clause.close, clause.group_close)
        )
    return QueryScan(
        deepest,
        longest,
        has_from,
        first,
        tuple(updates),
        tuple(services),
        tuple(spans),
        tuple(declared.items()),
        tuple(variables),
        undeclared if undeclared is None or undeclared[0] not in declared else None,
    )


def _endpoint(
    kind: str, value: str, declared: Mapping[str, str], base: str | None, text: str, at: int
) -> str | None:
    """The endpoint IRI a SERVICE names (None for a variable)."""
    if kind == "var":
        return None
    if kind == "iri":
        return _resolve(_unescape_iri(value[1:-1]), base)
    if kind == "pname":
        prefix, local = value.split(":", 1)
        if prefix not in declared:
            raise Unparsable(f"undeclared prefix {prefix!r} in SERVICE at {_where(text, at)}")
        return declared[prefix] + re.sub(r"\\(.)", r"\1", local)
    raise Unparsable(f"SERVICE without an endpoint IRI or variable at {_where(text, at)}")


def _unescape_iri(text: str) -> str:
    return re.sub(
        r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})",
        lambda m: chr(int(m.group(1) or m.group(2), 16)),
        text,
    )


def _resolve(iri: str, base: str | None) -> str:
    if not base or re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", iri):
        return iri  # absolute: urljoin would drop an empty fragment ("…ontology#")
    joined = urljoin(base, iri)
    return joined + "#" if iri.endswith("#") and not joined.endswith("#") else joined


def _where(text: str, offset: int) -> str:
    """``line:column`` of ``offset``, as the engine's syntax errors say it."""
    before = text[:offset]
    return f"{before.count(chr(10)) + 1}:{offset - before.rfind(chr(10))}"


def check_nesting(found: QueryScan, limit: int) -> None:
    """Refuse queries nested deeper than ``limit`` (SPARQL_MAX_NESTING)."""
    if found.depth > limit:
        raise BigtentError(
            f"The query nests braces, parentheses, brackets or the operators ! and ^ "
            f"{found.depth} deep; the limit is {limit} (setting SPARQL_MAX_NESTING). "
            "Flatten it.",
            title="Query too deeply nested",
        )


def check_chain(found: QueryScan, limit: int) -> None:
    """Refuse queries chaining more than ``limit`` elements at one level (SPARQL_MAX_CHAIN)."""
    if limit and found.chain > limit:
        raise BigtentError(
            f"The query chains {found.chain} operators or groups at one level (such as "
            "a || b || …, a property path p1/p2/…, or {…} UNION {…} …); the limit is "
            f"{limit} (setting SPARQL_MAX_CHAIN). Use VALUES or IN (…) for long lists of "
            "alternatives.",
            title="Query too deeply nested",
        )


def read_only() -> BigtentError:
    """The refusal of SPARQL Update."""
    return BigtentError(
        "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, "
        "CREATE, ADD, MOVE, COPY, WITH) is not accepted. Send SELECT, ASK, CONSTRUCT or "
        "DESCRIBE.",
        title="Read-only endpoint",
        status=403,
    )


def check_query(
    text: str,
    *,
    max_nesting: int,
    max_chain: int,
    prefixes: Mapping[str, str],
    base: str | None,
    service_allow: Iterable[str],
) -> QueryScan:
    """Every check of the query text, failing closed: unparsable (400), too deep or too
    long a chain (400), an update (403), a SERVICE outside the allow-list (403).

    WDQS's label service (:data:`LABEL_SERVICE`) passes here; it is never sent to an
    engine: :func:`loader.query.label_service.rewrite` replaces it (refusing any clause
    it cannot read) before the query runs."""
    found = scan(text, prefixes, base)
    if found.undeclared is not None:
        name, offset = found.undeclared
        line, column = (int(n) for n in _where(text, offset).split(":"))
        raise BigtentError(
            f"SPARQL syntax error at line {line}, column {column}: the prefix {name!r} is "
            "not declared. Declare it with PREFIX, or use one of the endpoint's predefined "
            "prefixes (listed at /sparql/prefixes).",
            title="Query syntax error",
            details={"line": line, "column": column},
        )
    check_nesting(found, max_nesting)
    check_chain(found, max_chain)
    if found.looks_like_update:
        raise read_only()
    allowed = frozenset(service_allow)
    refused = disallowed_services(found.services, allowed | {LABEL_SERVICE})
    if refused:
        names = ", ".join(f"<{iri}>" for iri in sorted(allowed)) or "none"
        raise BigtentError(
            f"SERVICE to {', '.join(refused)} is not allowed on this endpoint; allowed "
            f"endpoints: {names} (setting SPARQL_SERVICE_ALLOW), and WDQS's label service "
            f"<{LABEL_SERVICE}>, which the endpoint evaluates itself.",
            title="SERVICE not allowed",
            status=403,
        )
    return found


def service_iris(text: str, prefixes: Mapping[str, str], base: str | None) -> list[str | None]:
    """The endpoint IRI of every SERVICE clause (None for ``SERVICE ?variable``).

    Raises :class:`ValueError` when the query cannot be tokenised.
    """
    return list(_scan(text, dict(prefixes), base).services)


def disallowed_services(found: Iterable[str | None], allowed: frozenset[str]) -> list[str]:
    """The SERVICE endpoints not in the allow-list, as text for the error message."""
    return [
        "a variable endpoint (SERVICE ?x)" if iri is None else f"<{iri}>"
        for iri in found
        if iri is None or iri not in allowed
    ]
