"""Find user-visible text in Jinja templates that is not wrapped in ``_()``.

A template's visible text is what remains once Jinja comments and tags are removed:
text between HTML tags (outside ``<script>``, ``<style>`` and ``<code>``, which hold
code, not prose) and the attributes people see or hear (``title``, ``alt``,
``placeholder``, ``aria-label``, ``label``, the ``value`` of buttons). A ``{{ … }}``
expression counts as visible text when it prints a string literal itself
(``{{ 's' if n != 1 }}``), and any literal of several words inside Jinja code
(``label='Search the catalogue'``) must be a ``_()`` argument too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from jinja2 import Environment
from jinja2.exceptions import TemplateSyntaxError

#: The only words allowed to stay untranslated: names and formats, the same in every language.
UNTRANSLATABLE = (
    "Bigtent",
    "SPARQL",
    "RDF/XML",
    "RDF",
    "N-Triples",
    "Turtle",
    "JSON-LD",
    "GeoJSON",
    "JSON",
    "CSV",
    "TSV",
    "DCAT",
    "VoID",
    "SELECT",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
    "SHA-256",
    "IRI",
    "CC0",
    "Wikibase",
    "https://",  # a URL field's placeholder
)
#: Calls whose string arguments are interface strings (extracted for translation).
GETTEXT_CALLS = frozenset({"_", "gettext", "ngettext", "pgettext", "npgettext"})
VISIBLE_ATTRIBUTES = frozenset({"title", "alt", "placeholder", "aria-label", "label"})
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
CODE_ELEMENTS = frozenset({"script", "style", "code"})

#: ``{% trans %}…{% endtrans %}`` blocks are translated whole; then comments, tags, outputs.
_JINJA = re.compile(
    r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL
)
_ALLOWED = re.compile(
    "|".join(re.escape(t) for t in sorted(UNTRANSLATABLE, key=len, reverse=True))
    + r"|&[a-zA-Z]+;|&#[0-9]+;"
)
_LETTER = re.compile(r"[^\W\d_]")
_ENV = Environment(extensions=["jinja2.ext.i18n"])


@dataclass(frozen=True)
class Finding:
    """Untranslated text at a line of a template."""

    line: int
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text!r}"


def has_words(text: str) -> bool:
    """True when ``text`` holds letters once the untranslatable tokens are removed."""
    return bool(_LETTER.search(_ALLOWED.sub("", text)))


def _tokens(code: str) -> list[tuple[str, str]]:
    try:
        tokens = list(_ENV.lex(code))
    except TemplateSyntaxError:
        return []
    operators = {"(": "lparen", ")": "rparen", "~": "tilde"}
    return [
        (operators.get(value, kind) if kind == "operator" else kind, value)
        for _line, kind, value in tokens
        if kind != "whitespace"
    ]


def _literals(code: str) -> tuple[list[str], list[str]]:
    """String literals of a Jinja construct outside gettext calls: (those it prints
    directly, those of several words anywhere)."""
    tokens = _tokens(code)
    printed, wordy = [], []
    depth = 0  # parentheses opened since a gettext call began (0: outside one)
    nesting = 0  # parentheses open outside gettext calls: arguments are not printed
    for i, (kind, value) in enumerate(tokens):
        if depth:
            depth += {"lparen": 1, "rparen": -1}.get(kind, 0)
            continue
        nesting += {"lparen": 1, "rparen": -1}.get(kind, 0)
        if kind == "name" and value in GETTEXT_CALLS and i + 1 < len(tokens):
            if tokens[i + 1][0] == "lparen":
                depth = 1
                tokens[i + 1] = ("skip", "")
            continue
        if kind != "string":
            continue
        value = value[1:-1]  # the lexer gives literals as written, quotes included
        before = tokens[i - 1] if i else ("", "")
        after = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        beside_output = (
            before[0] in ("variable_begin", "tilde")
            or before == ("name", "else")
            or after[0] in ("variable_end", "tilde")
            or after == ("name", "if")
        )
        if beside_output and not nesting and code.startswith("{{"):
            printed.append(value)
        elif " " in value.strip() and has_words(value):
            wordy.append(value)
    return printed, wordy


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[Finding] = []
        self.in_code = 0

    def _check(self, text: str) -> None:
        if has_words(text):
            line = self.getpos()[0] + text[: len(text) - len(text.lstrip())].count("\n")
            self.found.append(Finding(line, " ".join(text.split())))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in CODE_ELEMENTS:
            self.in_code += 1
        values = dict(attrs)
        for name, value in attrs:
            visible = name in VISIBLE_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_INPUTS
            )
            if visible and value:
                self._check(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in CODE_ELEMENTS:
            self.in_code -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in CODE_ELEMENTS and self.in_code:
            self.in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self.in_code:
            self._check(data)


def untranslated(source: str) -> list[Finding]:
    """Every piece of visible text in a template source that is not wrapped in ``_()``."""
    findings: list[Finding] = []

    def replace(match: re.Match[str]) -> str:
        code = match.group(0)
        line = source.count("\n", 0, match.start()) + 1
        if code.startswith("{#") or re.match(r"\{%-?\s*trans\b", code):
            return "\n" * code.count("\n")
        printed, wordy = _literals(code)
        findings.extend(Finding(line, w) for w in wordy)
        # Keep the line structure, so that the HTML parser reports the right lines.
        shown = " ".join(p for p in printed if has_words(p))
        return (f" {shown} " if shown else "") + "\n" * code.count("\n")

    html = _JINJA.sub(replace, source)
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return sorted(findings + parser.found, key=lambda f: f.line)
