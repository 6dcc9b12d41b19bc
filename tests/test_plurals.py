"""Plurals by CLDR's rules in every interface language.

English, Spanish: one for 1 only. French and Brazilian Portuguese (CLDR ``pt``): one for
0 and 1. The catalogues' Plural-Forms must say the same as CLDR (read through Babel), and
pages must choose the form by it: "Importer 0 enregistrement", "Importar 0 registros",
"Importar 0 registro".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask import Flask, render_template_string

from webapp.http import i18n

TEMPLATES = Path(i18n.__file__).resolve().parent.parent / "templates"
PYTHON = sorted(TEMPLATES.parent.rglob("*.py"))
COUNTS = (0, 1, 2, 5, 21)


def _catalogue(lang: str):  # type: ignore[no-untyped-def]
    with (i18n.TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def _gettext_index(expression: str, n: int) -> int:
    """Evaluate a gettext plural expression (C syntax) for ``n``."""
    python = expression.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)
    python = re.sub(r"(.+?)\?(.+?):(.+)", r"(\2) if (\1) else (\3)", python)
    return int(eval(python, {"__builtins__": {}}, {"n": n}))  # our own header, no input


@pytest.mark.parametrize("lang", ["fr", "es", "pt"])
def test_plural_forms_header_agrees_with_cldr(lang: str) -> None:
    """For every count a page shows (whole numbers), the catalogue's form is CLDR's:
    "one" → the first form, anything else → the second. (CLDR's "many", for exact
    millions in fr/es/pt — "1 million de" — reads like "other" in a count sentence.)"""
    catalogue = _catalogue(lang)
    assert catalogue.num_plurals == 2
    rule = Locale.parse(lang).plural_form
    for n in [*range(0, 1001), 1_000_001, 2_000_000]:
        expected = 0 if rule(n) == "one" else 1
        assert _gettext_index(catalogue.plural_expr, n) == expected, (lang, n)


def test_portuguese_is_brazilian_in_its_plurals() -> None:
    """CLDR's ``pt`` is Brazilian Portuguese: 0 is singular (pt_PT would say plural)."""
    assert Locale.parse("pt").plural_form(0) == "one"
    assert _gettext_index(_catalogue("pt").plural_expr, 0) == 0


#: (msgid, msgid_plural, per language: the words that mark the singular, the plural)
MESSAGES = {
    ("Import %(num)s record", "Import %(num)s records"): {
        "en": ("record", "records"),
        "fr": ("enregistrement", "enregistrements"),
        "es": ("registro", "registros"),
        "pt": ("registro", "registros"),
    },
    ("%(num)s criterion of %(m)s met", "%(num)s criteria of %(m)s met"): {
        "en": ("criterion", "criteria"),
        "fr": ("critère", "critères"),
        "es": ("criterio", "criterios"),
        "pt": ("critério", "critérios"),
    },
    ("%(num)s partnership.", "%(num)s partnerships."): {
        "en": ("partnership.", "partnerships."),
        "fr": ("partenariat.", "partenariats."),
        "es": ("alianza.", "alianzas."),
        "pt": ("parceria.", "parcerias."),
    },
}
SINGULAR_FOR = {"en": {1}, "es": {1}, "fr": {0, 1}, "pt": {0, 1}}


@pytest.fixture(scope="module")
def app() -> Flask:
    """Flask with the interface languages installed as the app installs them."""
    app = Flask(__name__)
    i18n.init_app(app)
    return app


@pytest.mark.parametrize("lang", ["en", "fr", "es", "pt"])
@pytest.mark.parametrize("messages", list(MESSAGES), ids=lambda m: m[0][:20])
def test_count_sentences_take_the_form_of_the_count(
    app: Flask, lang: str, messages: tuple[str, str]
) -> None:
    singular_word, plural_word = MESSAGES[messages][lang]
    template = "{{ ngettext(one, other, n, m=4) }}"
    for n in COUNTS:
        with app.test_request_context(f"/?uselang={lang}"):
            text = render_template_string(template, one=messages[0], other=messages[1], n=n)
        word = singular_word if n in SINGULAR_FOR[lang] else plural_word
        assert re.search(rf"(^|\s){re.escape(word)}(\s|$)", text), (lang, n, text)
        assert str(n) in text, (lang, n, text)


# --- no count beside a plural noun outside ngettext ----------------------------------------

#: Nouns a count is printed beside on the pages (English msgids).
PLURAL_NOUNS = (
    "records|results|partnerships|criteria|revisions|statements|entities|bytes|sources|"
    "references|accounts|matches|problems|organisations|networks|people|capacities|items|"
    "changes|links|members|parties|triples|files|pages|offers|needs|values"
)
#: A placeholder, at most two words, then a plural noun: "%(n)s records", "%(n)s of
#: %(m)s criteria", "%(n)s more records".
COUNT_BESIDE_NOUN = re.compile(
    rf"%\((\w+)\)[sd](?:\s+[\w’']+){{0,2}}\s+(?:{PLURAL_NOUNS})\b", re.IGNORECASE
)
#: Numbers that are not counts of the noun after them.
NOT_COUNTS = {"revision", "page", "pages", "id", "rev", "old", "new", "base", "limit", "size"}


def _singular_messages() -> list[tuple[str, int, str]]:
    """(file, line, msgid) of every message of the interface that is not ngettext."""
    found = []
    options = {"extensions": "jinja2.ext.i18n"}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for line, message, _comments, _context in extract_from_file(
            "jinja2", path, options=options
        ):
            if isinstance(message, str):
                found.append((path.name, line, message))
    for path in sorted(PYTHON):
        for line, message, _comments, _context in extract_from_file("python", path):
            if isinstance(message, str):
                found.append((path.name, line, message))
    return found


def test_no_count_is_printed_beside_a_plural_noun_outside_ngettext() -> None:
    offenders = []
    for name, line, message in _singular_messages():
        for match in COUNT_BESIDE_NOUN.finditer(message):
            if match.group(1) not in NOT_COUNTS:
                offenders.append(f"{name}:{line}: {message!r}")
    assert offenders == [], "use ngettext for these counts:\n" + "\n".join(offenders)


def test_the_check_finds_what_it_is_for() -> None:
    """The pattern catches the sentences the issue names."""
    for sentence in ("Import %(n)s records", "%(n)s of %(m)s criteria", "%(total)s partnerships;"):
        assert COUNT_BESIDE_NOUN.search(sentence), sentence
    assert not COUNT_BESIDE_NOUN.search("Revision %(n)s (before)")
