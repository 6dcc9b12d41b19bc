"""Every piece of text a template shows is wrapped in ``_()`` (so it can be translated)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.template_text import untranslated

TEMPLATES = Path(__file__).resolve().parent.parent / "webapp" / "templates"


@pytest.mark.parametrize(
    "name", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_template_text_is_wrapped_for_translation(name: str) -> None:
    found = untranslated((TEMPLATES / name).read_text(encoding="utf-8"))
    assert not found, f"{name} shows text not wrapped in _(): " + "; ".join(map(str, found))


@pytest.mark.parametrize(
    ("source", "line", "text"),
    [
        ("<p>\n  Hello</p>", 2, "Hello"),
        ('<img src="x" alt="A tent">', 1, "A tent"),
        ('<a title="Home" href="/">{{ _("Home") }}</a>', 1, "Home"),
        ('<input type="search" placeholder="Search names…">', 1, "Search names…"),
        ('<button aria-label="Close">×</button>', 1, "Close"),
        ('<input type="submit" value="Save">', 1, "Save"),
        ('<optgroup label="For staff"></optgroup>', 1, "For staff"),
        ("{% if x %}\n<h1>{{ n }} result{{ 's' if n != 1 }}</h1>{% endif %}", 2, "result s"),
        ('<td>{{ "disabled" if off else "enabled" }}</td>', 1, "disabled enabled"),
        ("{{ search_form('q', label='Search by name') }}", 1, "Search by name"),
        ("{% macro f(label='Search by name') %}{% endmacro %}", 1, "Search by name"),
        ("{# a comment #}<p>{{ x }}</p>\n<p>Bigtent and more</p>", 2, "Bigtent and more"),
        ("{% trans %}Fine{% endtrans %}\n\n<p>Not fine</p>", 3, "Not fine"),
    ],
)
def test_the_check_finds_text_left_untranslated(source: str, line: int, text: str) -> None:
    found = untranslated(source)
    assert [(f.line, f.text) for f in found] == [(line, text)]


@pytest.mark.parametrize(
    "source",
    [
        '<p>{{ _("Hello") }}</p>',
        '<a title="{{ _("Home") }}">{{ ngettext("%(num)s hit", "%(num)s hits", n) }}</a>',
        "<p>{{ _('%(n)s of %(m)s', n=a, m=b) }} · <code>bigtent demo</code> (SPARQL, RDF)</p>",
        "<p class=\"{{ 'error' if bad else 'notice' }}\" lang=\"fr\">{{ label }}</p>",
        '<input type="hidden" name="x" value="yes"><script>var t = "text";</script>',
        "{# Some words in a comment #}{% set x = 'a.b' %}{{ '{:,}'.format(n) }}",
        "{{ search_form('q', label=_('Search by name')) }}",
        "<p>{% trans n=count %}\n{{ n }} item{% pluralize %}{{ n }} items{% endtrans %}</p>",
        '{{ errors("field-" ~ f.id) }}',  # an argument built from literals is not printed
    ],
)
def test_the_check_accepts_translated_or_invisible_text(source: str) -> None:
    assert untranslated(source) == []
