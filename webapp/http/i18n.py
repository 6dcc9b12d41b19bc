"""The interface in English, French, Spanish and Portuguese.

Template and view strings are wrapped in ``_()``; their translations live in standard
gettext catalogues under ``webapp/translations/<lang>/LC_MESSAGES/messages.po``. The
compiled ``.mo`` files are build products: ``scripts/bootstrap`` compiles them, and
``init_app`` recompiles any that are missing or older than their ``.po`` (a developer who
edits a catalogue sees the change on the next start without a build step).

The interface language of a request is, in order: ``?uselang=``, the ``bigtent_lang``
cookie set by the language switch, ``Accept-Language``, then English.
"""

from __future__ import annotations

import logging
import tempfile
from contextvars import ContextVar
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from flask import Flask, request
from flask_babel import Babel, get_locale, get_translations
from markupsafe import Markup
from werkzeug.wrappers import Response

from webapp.http import ui_terms

TRANSLATIONS = Path(str(files("webapp") / "translations"))
UI_LANGUAGES = ("en", "fr", "es", "pt")
ENDONYMS = {"en": "English", "fr": "Français", "es": "Español", "pt": "Português"}
COOKIE = "bigtent_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

log = logging.getLogger(__name__)

#: The catalogue of the current request's language, looked up once per request: a page
#: translates a hundred strings, and flask_babel finds the catalogue again for each
#: (≈20 µs through its context proxies, a sixth of an entity page's time).
_CATALOGUE: ContextVar[NullTranslations | None] = ContextVar("bigtent_catalogue", default=None)


def ui_language() -> str:
    """The interface language for this request (one of ``UI_LANGUAGES``)."""
    uselang = request.args.get("uselang", "").split("-")[0].lower()
    if uselang in UI_LANGUAGES:
        return uselang
    cookie = request.cookies.get(COOKIE, "")
    if cookie in UI_LANGUAGES:
        return cookie
    # By preference, each tag by its primary language: "pt-BR, en;q=0.5" means Portuguese
    # (werkzeug's best_match would prefer the exact "en").
    for tag, _quality in request.accept_languages:
        primary = tag.split("-")[0].split("_")[0].lower()
        if primary in UI_LANGUAGES:
            return primary
    return "en"


def _catalogue() -> NullTranslations:
    found = _CATALOGUE.get()
    if found is None:
        found = get_translations()
        _CATALOGUE.set(found)
    return found


@lru_cache(maxsize=8192)
def _translated(catalogue: NullTranslations, string: str) -> Markup:
    # Translations are this project's own catalogues, trusted as template text is.
    return Markup(catalogue.ugettext(string)) % {}  # noqa: S704


def template_gettext(string: str, **variables: object) -> Markup:
    """``_()`` and ``gettext()`` in templates: what Jinja's new-style gettext does in an
    autoescaped template (every Bigtent template is one: HTML and SVG), i.e. the
    translation as Markup, formatted with the escaped ``variables`` (``%%`` becomes ``%``
    even without them). Called directly, not through Jinja's two-step wrapper, and
    remembered per catalogue when there are no variables: a page translates about fifty
    strings, and the wrapper took about a fifth of an entity page's time."""
    catalogue = _catalogue()
    if not variables:
        return _translated(catalogue, string)
    return Markup(catalogue.ugettext(string)) % variables  # noqa: S704  (variables escaped)


def _forget_catalogue(_exc: BaseException | None) -> None:
    # the thread serves its next request, perhaps in another language
    _CATALOGUE.set(None)


def language_etag(tag: str) -> str:
    """``tag`` made specific to the interface language: pages in different languages
    are different representations, so they never share an ETag."""
    return f"{tag}-{ui_language()}"


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``.po`` under ``directory`` whose ``.mo`` is missing or stale;
    return the files written."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        try:
            # Written beside and renamed into place: processes starting at the same time
            # (test workers, app instances) never read or leave a half-written catalogue.
            with tempfile.NamedTemporaryFile(
                "wb", dir=mo_path.parent, prefix=".messages-", suffix=".mo", delete=False
            ) as mo_file:
                write_mo(mo_file, catalog)
            Path(mo_file.name).replace(mo_path)
        except OSError as exc:  # a read-only install: serve what was compiled at build time
            log.warning("could not compile %s: %s", po_path, exc)
            continue
        written.append(mo_path)
    return written


def init_app(app: Flask) -> None:
    """Install gettext in Jinja and views (the language switch is ``webapp.public.language``)."""
    compile_catalogues()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    Babel(app, locale_selector=ui_language)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # jinja2.ext.i18n
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)
    app.teardown_appcontext(_forget_catalogue)
    ui_terms.init_app(app)

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {
            "ui_lang": str(get_locale() or "en"),
            "ui_languages": ENDONYMS,
        }

    @app.after_request
    def _vary(response: Response) -> Response:
        if response.mimetype == "text/html":  # data documents never depend on the cookie
            response.vary.add("Cookie")
        return response
