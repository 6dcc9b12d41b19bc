"""Human-readable pages: the home page and a page per entity."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from loader.describe import describe
from loader.errors import NotFound
from loader.namespaces import ENTITY_ID
from webapp.catalogue_ext import get_catalogue, get_settings

bp = Blueprint("pages", __name__)


def reader_languages() -> list[str]:
    """The reader's languages: ?uselang=, then Accept-Language, then LANGUAGES."""
    chosen = []
    uselang = request.args.get("uselang")
    if uselang:
        chosen.append(uselang.lower())
    chosen += [lang.split("-")[0].lower() for lang, _ in request.accept_languages]
    chosen += get_settings().languages
    return list(dict.fromkeys(chosen))


@bp.get("/")
def home() -> str:
    """Counts per class."""
    cat = get_catalogue()
    counts = cat.counts_by_class(reader_languages())
    return render_template("home.html", counts=counts, revisions=cat.revisions.count())


@bp.get("/page/<entity_id>")
def entity(entity_id: str) -> str:
    """A plain page listing an entity's labels and statements."""
    if not ENTITY_ID.match(entity_id):
        raise NotFound(
            f"'{entity_id}' is not an entity id: ids look like Q42 or P31", title="Not found"
        )
    cat = get_catalogue()
    state = cat.revisions.state(entity_id)
    if state is None:
        raise NotFound(f"there is no entity {entity_id} in this catalogue", title="Not found")
    if state.state != "live":
        target = f"; it was merged into {state.redirect}" if state.redirect else ""
        raise NotFound(f"{entity_id} was {state.state}{target}", title="Gone", status=410)
    description = describe(cat, entity_id, reader_languages())
    return render_template("entity.html", e=description)
