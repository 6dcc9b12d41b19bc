"""Key pages in each interface language, chosen by ``?uselang=`` or ``Accept-Language``;
and catalogues whose translations keep every placeholder and tag of the English."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from conftest import BASE, close_app, open_app, sync_app
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from staff_support import login, staff_app

from loader.base.settings import load_settings
from webapp.http.i18n import TRANSLATIONS, UI_LANGUAGES

LANGUAGES = [lang for lang in UI_LANGUAGES if lang != "en"]
#: Each key page, and strings its interface shows (msgids, looked up in each catalogue).
KEY_PAGES = {
    "/": ["The catalogue", "What the catalogue holds", "Skip to content"],
    "/page/Q1009": ["Statements", "In other languages", "Data and history"],
    "/search?q=mozilla": ["Name or alias, in any language", "Kind"],
    "/browse/organisations": ["About this class", "Filter"],
    "/login": ["Log in", "Account name", "Password"],
    "/query": ["Query the catalogue", "Run query", "Download the results"],
    "/dataset": ["Getting the data", "Last change"],
    "/page/Q999999": ["Not found", "Back to the catalogue", "Search for an entity by name"],
}
PLACEHOLDER = re.compile(r"%\(\w+\)s")
TAG = re.compile(r"</?[a-z]+")


def catalogue(lang: str) -> dict[str, str | tuple[str, ...]]:
    """The translations of ``lang`` by msgid (plural entries under their singular)."""
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        messages = read_po(po_file)
    return {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in messages if m.id}


@pytest.fixture(scope="module")
def reader_app(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory, store_backend: dict[str, Any]
) -> Iterator[Flask]:
    """One app over the demo catalogue, shared by this module (on each store backend)."""
    data = tmp_path_factory.mktemp("languages") / "data"
    shutil.copytree(demo_template, data)
    values = {"DATA_DIR": str(data), "BASE_URL": BASE, "LOAD_WORKERS": 1, "DUMP_INTERVAL": 0}
    app = open_app(load_settings(env={}, overrides={**values, **store_backend}), "demo")
    yield app
    close_app(app, "demo")


@pytest.fixture
def reader(reader_app: Flask) -> FlaskClient:
    """An anonymous reader of the module's app."""
    return sync_app(reader_app, "demo").test_client()


def check_page(
    reader: FlaskClient, path: str, lang: str, url: str | None = None, **request: object
) -> None:
    """The key page ``path`` (fetched as ``url``) is in ``lang``."""
    headers = {"Accept": "text/html", **request.pop("headers", {})}  # type: ignore[dict-item]
    response = reader.get(url or path, headers=headers, **request)  # type: ignore[arg-type]
    assert response.status_code in (200, 404), f"{path}: {response.status_code}"
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html, f"{path} in {lang}"
    translated = catalogue(lang)
    for msgid in KEY_PAGES[path]:
        text = translated[msgid]
        assert isinstance(text, str) and text != msgid, f"{msgid!r} is the same in {lang}"
        assert str(escape(text)) in html, f"{path} in {lang} lacks {text!r} ({msgid!r})"
        assert f">{escape(msgid)}<" not in html, f"{path} in {lang} still shows {msgid!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", list(KEY_PAGES))
def test_key_pages_in_the_language_asked_with_uselang(
    reader: FlaskClient, path: str, lang: str
) -> None:
    separator = "&" if "?" in path else "?"
    check_page(reader, path, lang, f"{path}{separator}uselang={lang}")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", list(KEY_PAGES))
def test_key_pages_in_the_browsers_language(reader: FlaskClient, path: str, lang: str) -> None:
    check_page(reader, path, lang, headers={"Accept-Language": f"{lang}-XX, en;q=0.5"})


def test_english_stays_the_default(reader: FlaskClient) -> None:
    html = reader.get("/page/Q1009", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert ">Statements<" in html


def test_an_error_page_names_its_english_message_as_english(reader: FlaskClient) -> None:
    html = reader.get("/page/Q999999?uselang=es").get_data(as_text=True)
    assert "<h1>No encontrado" in html
    assert '<p class="error-message" lang="en">There is no entity Q999999' in html


def test_json_errors_stay_in_english(reader: FlaskClient) -> None:
    response = reader.get(
        "/page/Q999999", headers={"Accept": "application/json", "Accept-Language": "fr"}
    )
    assert response.status_code == 404
    assert response.get_json()["title"] == "Not found"


def test_the_query_editor_gets_its_messages_from_the_page(reader: FlaskClient) -> None:
    html = reader.get("/query?uselang=pt").get_data(as_text=True)
    config = json.loads(html.split('id="editor-config">', 1)[1].split("</script>", 1)[0])
    messages = config["messages"]
    assert messages["running"] == "Executando…"
    assert messages["many"] == "%(count)s resultados em %(ms)s ms."
    assert messages["copied"] == "Copiado"
    script = (Path(__file__).parent.parent / "webapp/static/query-editor.js").read_text()
    for english in ('"Running…"', '"The query failed', '" results"', '"Copied"'):
        assert english not in script, f"query-editor.js writes {english!r} itself"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_placeholders_and_tags(lang: str) -> None:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        messages = [m for m in read_po(po_file) if m.id]
    wrong = []
    for message in messages:
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in strings:
            for pattern in (PLACEHOLDER, TAG):
                if sorted(pattern.findall(text)) != sorted(pattern.findall(ids[-1])):
                    wrong.append(ids[0])
    assert not wrong, f"{lang} translations that change placeholders or tags: {wrong}"


@pytest.mark.parametrize(
    "path", ["/dataset", "/dumps/", "/changes", "/changes/page/1", "/page/Q1009/history"]
)
def test_pages_in_other_languages_are_other_representations(reader: FlaskClient, path: str) -> None:
    html = {"Accept": "text/html"}
    english = reader.get(path, headers=html)
    assert english.status_code == 200
    french = reader.get(path, headers={**html, "Accept-Language": "fr"})
    assert english.headers["ETag"] != french.headers["ETag"]
    assert (
        reader.get(path, headers={**html, "If-None-Match": english.headers["ETag"]}).status_code
        == 304
    )
    reader.set_cookie("bigtent_lang", "pt")
    try:
        again = reader.get(path, headers={**html, "If-None-Match": english.headers["ETag"]})
    finally:
        reader.delete_cookie("bigtent_lang")
    assert again.status_code == 200, "an English copy is no answer to a Portuguese reader"
    assert '<html lang="pt">' in again.get_data(as_text=True)


def test_staff_pages_and_their_messages_follow_the_language(make_app: Callable[..., Flask]) -> None:
    app = staff_app(make_app, {"ana": "admin", "bob": "editor"})
    admin = app.test_client()
    admin.set_cookie("bigtent_lang", "fr")
    token = login(admin, "ana")
    changed = admin.post("/admin/users/bob/role", data={"role": "admin", "csrf_token": token})
    assert changed.status_code == 303
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "bob est maintenant admin." in html
    assert "<h1>Comptes de l’équipe</h1>" in html
    assert '<option value="editor">éditeur</option>' in html
    api = admin.post(
        "/admin/users/bob/role", json={"role": "editor"}, headers={"X-CSRF-Token": token}
    )
    assert api.get_json()["message"] == "bob is now editor.", "JSON stays in English"
    app.extensions["bigtent"].close()
