"""The interface in four languages: complete catalogues and the choice of language."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import render_template_string
from flask.testing import FlaskClient

from webapp.http.i18n import COOKIE, TRANSLATIONS, UI_LANGUAGES, compile_catalogues

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("webapp/**.py", "python"), ("webapp/templates/**.html", "jinja2")]


def interface_strings() -> set[str]:
    """Every msgid wrapped in ``_()`` in the views and templates."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), METHODS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_interface_has_strings_to_translate() -> None:
    assert "Interface language" in interface_strings()


@pytest.mark.parametrize("lang", [lang for lang in UI_LANGUAGES if lang != "en"])
def test_every_interface_string_is_translated(lang: str) -> None:
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string}
    missing = sorted(interface_strings() - translated)
    assert not missing, (
        f"{len(missing)} interface strings have no {lang} translation in {path}: {missing[:20]}"
    )


def test_uselang_chooses_the_interface_language(client: FlaskClient) -> None:
    page = client.get("/?uselang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Langue de l’interface" in page


def test_accept_language_falls_back_to_the_primary_language(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "pt-BR, en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="pt">' in page
    assert "Idioma da interface" in page


def test_unknown_languages_fall_back_to_english(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Interface language" in page


def test_the_switch_remembers_the_choice(client: FlaskClient) -> None:
    response = client.get("/language?to=es&next=/search?q=x")
    assert response.status_code == 303
    assert response.headers["Location"] == "/search?q=x"
    assert f"{COOKIE}=es" in response.headers["Set-Cookie"]
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="es">' in page, "the switch beats the browser's preference"
    assert "Cookie" in client.get("/").headers["Vary"]


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_the_switch_only_returns_into_the_site(client: FlaskClient, target: str) -> None:
    response = client.get("/language", query_string={"to": "fr", "next": target})
    assert response.headers["Location"] == "/"


def test_an_unknown_choice_changes_nothing(client: FlaskClient) -> None:
    response = client.get("/language?to=xx&next=/")
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers


def test_stale_catalogues_are_recompiled(tmp_path: Path) -> None:
    po = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n\nmsgid "Yes"\nmsgstr "Oui"\n', encoding="utf-8")
    assert compile_catalogues(tmp_path) == [po.with_suffix(".mo")]
    assert compile_catalogues(tmp_path) == [], "fresh catalogues are left alone"
    os.utime(po, (po.stat().st_atime, po.stat().st_mtime + 10))
    assert compile_catalogues(tmp_path) == [po.with_suffix(".mo")]


def test_template_strings_are_translated_escaped_and_formatted(client: FlaskClient) -> None:
    template = (
        '{{ _("What links to %(label)s (%(id)s)", label=label, id="Q1") }}|'
        '{{ _("Statements") }}|{{ _("100%% sure") }}|{{ gettext("Statements") }}'
    )
    app = client.application
    for lang, statements in (("en", "Statements"), ("fr", "Déclarations")):
        with app.test_request_context(f"/?uselang={lang}"):
            text = render_template_string(template, label="<b>Ada</b>")
            linked, plain, percent, again = text.split("|")
            assert "&lt;b&gt;Ada&lt;/b&gt;" in linked and "(Q1)" in linked
            assert plain == again == statements  # remembered, and the same either way
            assert percent == "100% sure"
        with app.test_request_context(f"/?uselang={lang}"):  # a second request, same answer
            assert render_template_string("{{ _('Statements') }}") == statements
