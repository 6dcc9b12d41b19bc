"""Browse pages: the classes, and the members of each class with facets.

``/browse/<class>`` takes a class's slug (``organisations``) or its id (``Q1``);
``?P7=Q130&P29=Q182`` keeps the members having those values (combinable, repeatable),
``?page=`` pages through them. Facet values are bound as SQL parameters.
"""

from __future__ import annotations

import re

from flask import Blueprint, Flask, Response, render_template, request, url_for

from loader.base.errors import BigtentError, NotFound
from loader.base.ids import RECORD_TYPES
from loader.discovery import browse as listing_data
from loader.storage.page_index import PageIndex
from webapp.http.catalogue import get_catalogue
from webapp.http.rendering import cached_html, index, language_tag
from webapp.http.request_args import check_page_in_range, page_number, reader_languages

bp = Blueprint("browse", __name__)

SLUGS = RECORD_TYPES  # URL slug -> class item (loader.base.ids)
SLUG_OF = {qid: slug for slug, qid in SLUGS.items()}
MEMBERS_PER_PAGE = 50
#: Facet filters one request may combine.
MAX_FILTERS = 12
ITEM_ID = re.compile(r"^Q[1-9][0-9]{0,15}$")
PROPERTY_ID = re.compile(r"^P[1-9][0-9]{0,15}$")
#: Parameters that are not facet filters.
OTHER_PARAMETERS = frozenset({"page", "uselang"})


def init_app(app: Flask) -> None:
    """Register the blueprint and the ``browse_url`` template helper."""
    app.jinja_env.globals["browse_url"] = browse_url
    app.register_blueprint(bp)


def browse_url(class_id: str) -> str:
    """URL of a class's browse page (its slug when it has one)."""
    return url_for("browse.members", cls=SLUG_OF.get(class_id, class_id))


@bp.get("/browse/")
def classes() -> Response:
    """Every class in use, with the number of its instances."""
    languages = reader_languages()
    found = index()
    views = get_catalogue().views
    direct_found, main_found = views.class_counts(), views.record_counts()
    revision = min(direct_found.revision, main_found.revision)
    key = ("classes", direct_found.revision, main_found.revision, tuple(languages))

    def render() -> tuple[str, None]:
        direct = direct_found.value
        main = [(qid, slug, n) for slug, qid, n in main_found.value]
        names = found.names([c for c, _ in direct] + [q for q, _, _ in main], languages)
        html = render_template(
            "browse_index.html",
            main=main,
            direct=direct,
            names=names,
            revision=revision,
        )
        return html, None

    etag = f"classes-r{direct_found.revision}-{main_found.revision}-{language_tag(languages)}"
    return cached_html(key, etag, render)


@bp.get("/browse/<cls>")
def members(cls: str) -> Response:
    """Members of one class (and its subclasses), sorted by label, with facets."""
    class_id = SLUGS.get(cls, cls)
    if not ITEM_ID.match(class_id):
        raise NotFound(
            f"{cls[:60]!r} is not a class: use a class id such as Q1, or one of "
            + ", ".join(SLUGS),
            title="No such class",
        )
    page = page_number()
    languages = reader_languages()
    found = index()
    classes = listing_data.subclasses(found, class_id)
    if listing_data.member_count(found, classes) == 0:
        raise NotFound(
            f"{class_id} has no instances in this catalogue (is it a class?). "
            "See /browse/ for the classes in use.",
            title="No such class",
        )
    facets = listing_data.facet_properties(found, classes)
    filters = _filters(found, facets)
    head = get_catalogue().revisions.last_id()
    chosen = tuple(sorted((p, v) for p, vs in filters.items() for v in vs))
    key = ("browse", class_id, chosen, page, head, tuple(languages))
    filtered = language_tag([f"{p}={v}" for p, v in chosen])
    etag = f"browse-{class_id}-{filtered}-{page}-r{head}-{language_tag(languages)}"

    def render() -> tuple[str, None]:
        result = listing_data.listing(
            found,
            classes,
            filters,
            facets,
            limit=MEMBERS_PER_PAGE,
            offset=(page - 1) * MEMBERS_PER_PAGE,
        )
        pages = check_page_in_range(page, result.total, MEMBERS_PER_PAGE)
        wanted = {class_id, *result.members, *facets}
        wanted |= {v.value for f in result.facets for v in f.values}
        names = found.names(wanted, languages)
        descriptions = found.names(result.members, languages, kind=2)
        html = render_template(
            "browse.html",
            class_id=class_id,
            slug=SLUG_OF.get(class_id, class_id),
            result=result,
            names=names,
            descriptions=descriptions,
            filters=filters,
            chosen=chosen,
            page=page,
            pages=pages,
            first=(page - 1) * MEMBERS_PER_PAGE + 1,
            toggle=lambda prop, value: _toggled(chosen, prop, value),
        )
        return html, None

    return cached_html(key, etag, render)


def _filters(found: PageIndex, facets: list[str]) -> dict[str, list[str]]:
    """Facet filters from the query string; 400 for anything that is not one."""
    filters: dict[str, list[str]] = {}
    count = 0
    for name, values in request.args.lists():
        if name in OTHER_PARAMETERS:
            continue
        if not PROPERTY_ID.match(name) or name not in facets:
            offered = ", ".join(facets) or "none"
            raise BigtentError(
                f"{name[:40]!r} is not a facet of this class. Facets here: {offered}; "
                "filter with ?P7=Q130 (property=value).",
                title="Unknown facet",
            )
        for value in values:
            count += 1
            if count > MAX_FILTERS:
                raise BigtentError(
                    f"at most {MAX_FILTERS} facet values can be combined", title="Too many filters"
                )
            if not ITEM_ID.match(value) or not found.exists(value):
                raise BigtentError(
                    f"{name}={value[:40]!r}: there is no entity {value[:40]!r} to filter by; "
                    "facet values are item ids such as Q130",
                    title="Unknown facet value",
                )
            if value not in filters.setdefault(name, []):
                filters[name].append(value)
    return filters


def _toggled(chosen: tuple[tuple[str, str], ...], prop: str, value: str) -> dict[str, list[str]]:
    """Query arguments with ``prop=value`` added, or removed when already chosen."""
    pairs = set(chosen) ^ {(prop, value)}
    args: dict[str, list[str]] = {}
    for p, v in sorted(pairs):
        args.setdefault(p, []).append(v)
    return args
