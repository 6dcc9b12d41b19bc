"""Finding peers: ``/peers`` (the find help / offer help page), ``/api/peers`` (the same
as JSON) and the "who can help / who needs" sections of person and organisation pages.

Parameters (both routes): ``capacity`` (one or more capacity ids, repeated or
comma-separated), ``capacity_name`` (a capacity's label or alias in any language, resolved
to its best match), ``language``, ``territory``, ``modality`` (ids, likewise),
``direction`` (``offer``: who offers them, the default; ``need``: who needs them),
``all=1`` (only results matching every criterion) and ``page``. The matching and its
rules are :mod:`loader.discovery.peers`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request, url_for
from flask_babel import gettext as _

from loader.base import ids
from loader.base.errors import BigtentError
from loader.discovery import peers as matching
from loader.discovery.browse import subclasses
from loader.discovery.contact import ContactRoute, contact_routes
from loader.discovery.peers import Criteria, Match, Matches
from loader.discovery.search import search
from loader.storage.page_index import DESCRIPTION, PageIndex
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.formatting import by_label
from webapp.http.rendering import cached_html, index, language_tag
from webapp.http.request_args import check_page_in_range, page_number, reader_languages

bp = Blueprint("peers", __name__)

RESULTS_PER_PAGE = 20
#: Matches shown per statement on an entity page (the rest are one link away).
SECTION_RESULTS = 3
#: Raw parameter values read per request, in all; more is refused before any lookup.
MAX_PARAMETER_VALUES = 60
MAX_VALUE_LENGTH = 200
#: Values the form lists per criterion (every one in any catalogue we know of; beyond,
#: capacities are found by name).
SELECT_CAPACITIES = 2000
SELECT_OTHERS = 2000
LISTS = {"capacity": "capacities", "language": "languages", "territory": "territories"}
PARAMETERS = frozenset(
    {"capacity", "capacity_name", "language", "territory", "modality", "direction", "all"}
    | {"page", "uselang", "format"}
)


def init_app(app: Flask) -> None:
    """Register the blueprint and the entity-page helper ``peer_sections``."""
    app.jinja_env.globals["peer_sections"] = peer_sections
    app.register_blueprint(bp)


# --- reading the request ------------------------------------------------------------------
def _values(name: str) -> list[str]:
    found: list[str] = []
    for raw in request.args.getlist(name):
        for part in raw.split(","):
            part = part.strip()
            if part and part.upper() not in found:
                found.append(part.upper())
    return found


def read_criteria(found: PageIndex) -> tuple[Criteria | None, list[str]]:
    """The search asked for (None when no capacity was given) and notes for the reader
    (names that matched no capacity); 400 for anything malformed or unknown."""
    unknown = sorted(set(request.args) - PARAMETERS)
    if unknown:
        raise BigtentError(
            f"unknown parameter {unknown[0][:40]!r}: use capacity, capacity_name, language, "
            "territory, modality, direction, all and page",
            title="Unknown parameter",
        )
    raw = [v for values in request.args.lists() for v in values[1]]
    if len(raw) > MAX_PARAMETER_VALUES or sum(len(v.split(",")) for v in raw) > 2 * (
        matching.MAX_CRITERIA
    ):
        raise BigtentError(
            f"too many values: at most {matching.MAX_CRITERIA} criteria can be combined",
            title="Too many criteria",
        )
    if any(len(v) > MAX_VALUE_LENGTH for v in raw):
        raise BigtentError(
            f"a parameter value is longer than {MAX_VALUE_LENGTH} characters",
            title="Value too long",
        )
    direction = request.args.get("direction", matching.OFFER)
    flag = request.args.get("all", "")
    if flag not in ("", "0", "1", "on", "true", "false"):
        raise BigtentError(f"all={flag[:20]!r}: use all=1 or leave it out", title="Bad flag")
    notes: list[str] = []
    capacities = _values("capacity")
    for name in request.args.getlist("capacity_name"):
        name = name.strip()
        if not name:
            continue
        hits = search(found, name, classes=subclasses(found, matching.CAPACITY_CLASS), limit=1)
        if hits.hits:
            if hits.hits[0].id not in capacities:
                capacities.append(hits.hits[0].id)
        else:
            notes.append(_("No capacity is named “%(name)s”.", name=name))
    criteria = Criteria(
        tuple(capacities),
        tuple(_values("language")),
        tuple(_values("territory")),
        tuple(_values("modality")),
        direction,
        flag in ("1", "on", "true"),
    )
    if direction not in matching.DIRECTIONS:
        matching.check_criteria(found, criteria)  # names the parameter and its values
    if not capacities:
        return None, notes
    matching.check_criteria(found, criteria)
    return criteria, notes


# --- JSON ---------------------------------------------------------------------------------
RULES = (
    "A capacity includes its narrower capacities (broader concept, P20) up to three levels "
    "below; a territory includes the territories located in it (P12) up to three levels. "
    "Only best-rank capacity statements count. Each result has at least one statement "
    "matching an asked capacity; its matched criteria are the asked capacities, languages, "
    "territories and modalities its matching statements name. " + matching.PEER_ORDER
)


def _ref(entity: str, names: dict[str, tuple[str, str]]) -> dict[str, str]:
    label = names.get(entity)
    return {"id": entity, "label": label[1] if label else entity}


def _result_ids(results: list[Match]) -> set[str]:
    wanted: set[str] = set()
    for r in results:
        wanted.add(r.id)
        for reason in r.reasons:
            wanted |= {reason.capacity, *reason.asked, *reason.languages, *reason.modalities}
            wanted |= {t for pair in reason.territories for t in pair}
    return wanted


def _offer_ids(offers: dict[str, dict[str, matching.Statement]]) -> set[str]:
    wanted: set[str] = set()
    for by_statement in offers.values():
        for st in by_statement.values():
            wanted |= {st.capacity, *st.languages, *st.territories, *st.modalities, *st.levels}
    return wanted


def _contacts(results: list[Match]) -> dict[str, list[ContactRoute]]:
    """The consented contact routes of ``results``."""
    cat = get_catalogue()
    base = get_settings().CONTACT_WIKI_BASE
    base = base if base.endswith("/") else base + "/"
    return contact_routes(cat.revisions, cat.ns, [r.id for r in results], base)


def _offer_json(st: matching.Statement | None, names: dict[str, tuple[str, str]]) -> Any:
    if st is None:
        return None
    return {
        "levels": [_ref(c, names) for c in st.levels],
        "languages": [_ref(c, names) for c in st.languages],
        "territories": [_ref(c, names) for c in st.territories],
        "modalities": [_ref(c, names) for c in st.modalities],
    }


def _as_json(
    criteria: Criteria,
    matches: Matches,
    page: int,
    names: dict[str, tuple[str, str]],
    kinds: dict[str, list[str]],
    offers: dict[str, dict[str, matching.Statement]],
    contacts: dict[str, list[ContactRoute]],
) -> dict[str, Any]:
    base = get_settings().BASE_URL
    results = []
    for r in matches.results:
        missing = matching.unmatched(criteria, r)
        mine = offers.get(r.id, {})
        results.append(
            {
                **_ref(r.id, names),
                "iri": f"{base}entity/{r.id}",
                "url": url_for("pages.entity", entity_id=r.id),
                "classes": [_ref(c, names) for c in kinds.get(r.id, [])],
                "matched": r.matched,
                "of": criteria.count,
                "capacities": [_ref(c, names) for c in r.capacities],
                "languages": [_ref(c, names) for c in r.languages],
                "territories": [_ref(c, names) for c in r.territories],
                "modalities": [_ref(c, names) for c in r.modalities],
                "unmatched": {
                    "capacities": [_ref(c, names) for c in missing.capacities],
                    "languages": [_ref(c, names) for c in missing.languages],
                    "territories": [_ref(c, names) for c in missing.territories],
                    "modalities": [_ref(c, names) for c in missing.modalities],
                },
                "contact": [
                    {"kind": route.kind, "url": route.url, "text": route.text}
                    for route in contacts.get(r.id, [])
                ],
                "reasons": [
                    {
                        "statement": reason.statement,
                        "offer": _offer_json(mine.get(reason.statement), names),
                        "capacity": _ref(reason.capacity, names),
                        "asked": [_ref(c, names) for c in reason.asked],
                        "languages": [_ref(c, names) for c in reason.languages],
                        "territories": [
                            {**_ref(t, names), "within": _ref(a, names)}
                            for t, a in reason.territories
                        ],
                        "modalities": [_ref(c, names) for c in reason.modalities],
                    }
                    for reason in r.reasons
                ],
            }
        )
    return {
        "criteria": {
            "capacities": [_ref(c, names) for c in criteria.capacities],
            "languages": [_ref(c, names) for c in criteria.languages],
            "territories": [_ref(c, names) for c in criteria.territories],
            "modalities": [_ref(c, names) for c in criteria.modalities],
            "direction": criteria.direction,
            "all": criteria.require_all,
            "count": criteria.count,
        },
        "rules": RULES,
        "total": matches.total,
        "truncated": matches.truncated,
        "page": page,
        "pageSize": RESULTS_PER_PAGE,
        "results": results,
    }


def _criteria_ids(criteria: Criteria) -> set[str]:
    return {*criteria.capacities, *criteria.languages, *criteria.territories, *criteria.modalities}


@bp.get("/api/peers")
def api() -> Response:
    """Matching as JSON: the criteria, the rules, and a page of results with reasons."""
    found = index()
    page = page_number()
    criteria, notes = read_criteria(found)
    if criteria is None:
        raise BigtentError(
            "choose at least one capacity: capacity=Q334 (an id) or capacity_name=… "
            "(a name in any language)" + (" — " + " ".join(notes) if notes else ""),
            title="No capacity chosen",
        )
    languages = reader_languages()

    def answer() -> bytes:
        start = (page - 1) * RESULTS_PER_PAGE
        matches = matching.match(found, criteria, limit=RESULTS_PER_PAGE, offset=start)
        if matches.total:
            check_page_in_range(page, matches.total, RESULTS_PER_PAGE)
        shown = matches.results
        kinds = found.values([r.id for r in shown], ids.INSTANCE_OF)
        offers = matching.offered(found, [r.id for r in shown], criteria.direction)
        wanted = _criteria_ids(criteria) | _result_ids(shown) | _offer_ids(offers)
        wanted |= {c for cs in kinds.values() for c in cs}
        names = found.names(wanted, languages)
        body = _as_json(criteria, matches, page, names, kinds, offers, _contacts(shown))
        body["notes"] = notes
        return json.dumps(body, ensure_ascii=False).encode()

    # The same question is answered once per catalogue revision (and reader language).
    key = ("peers-json", criteria, page, tuple(languages), tuple(notes), request.script_root)
    body = matching.remember(found, key, answer, len)
    return Response(body, mimetype="application/json")


# --- the page -----------------------------------------------------------------------------
@bp.get("/peers")
def find() -> Response:
    """The find help / offer help page: the form, the rules, results with reasons."""
    found = index()
    page = page_number()
    languages = reader_languages()
    criteria, notes = read_criteria(found)
    head = get_catalogue().revisions.last_id()
    args = tuple(sorted((k, tuple(v)) for k, v in request.args.lists() if k != "uselang"))
    key = ("peers", args, head, tuple(languages))
    etag = f"peers-{language_tag([f'{k}={v}' for k, v in args])}-r{head}-{language_tag(languages)}"

    def render() -> tuple[str, None]:
        start = (page - 1) * RESULTS_PER_PAGE
        matches = None
        if criteria is not None:
            matches = matching.match(found, criteria, limit=RESULTS_PER_PAGE, offset=start)
        total = matches.total if matches else 0
        pages = check_page_in_range(page, total, RESULTS_PER_PAGE)
        shown = matches.results if matches else []
        tree = matching.capacity_tree(found, SELECT_CAPACITIES)
        options = {
            "language": matching.choices(found, matching.LANGUAGE_CLASS, SELECT_OTHERS),
            "territory": matching.choices(found, matching.TERRITORY_CLASS, SELECT_OTHERS),
            "modality": matching.choices(found, matching.MODALITY_CLASS, SELECT_OTHERS),
        }
        kinds = found.values([r.id for r in shown], ids.INSTANCE_OF)
        direction = criteria.direction if criteria else matching.OFFER
        offers = matching.offered(found, [r.id for r in shown], direction)
        wanted = _result_ids(shown) | (_criteria_ids(criteria) if criteria else set())
        wanted |= _offer_ids(offers)
        wanted |= {c for cs in kinds.values() for c in cs}
        wanted |= {r for r, _ in tree} | {c for _, cs in tree for c in cs}
        wanted |= {v for vs in options.values() for v in vs}
        names = found.names(wanted, languages)
        # languages, territories and ways of sharing in the reader's alphabetical order
        options = {
            kind: by_label(values, lambda v: names.get(v, ("", v))[1])
            for kind, values in options.items()
        }
        chosen = criteria or Criteria((), direction=request.args.get("direction", matching.OFFER))
        html = render_template(
            "peers.html",
            criteria=chosen,
            asked=criteria is not None,
            matches=matches,
            shown=shown,
            total=total,
            page=page,
            pages=pages,
            first=start + 1,
            tree=tree,
            options=options,
            names=names,
            descriptions=found.names([r.id for r in shown], languages, kind=DESCRIPTION),
            kinds=kinds,
            notes=notes,
            page_url=_page_url,
            offers=offers,
            contacts=_contacts(shown),
            unmatched={r.id: matching.unmatched(chosen, r) for r in shown},
        )
        return html, None

    return cached_html(key, etag, render)


def _page_url(page: int) -> str:
    args: dict[str, Any] = {k: v for k, v in request.args.lists() if k != "page"}
    return url_for("peers.find", **args, page=page)


def peers_url(criteria: Criteria) -> str:
    """The /peers search for ``criteria``."""
    return url_for(
        "peers.find",
        capacity=",".join(criteria.capacities),
        language=",".join(criteria.languages) or None,
        territory=",".join(criteria.territories) or None,
        modality=",".join(criteria.modalities) or None,
        direction=criteria.direction,
    )


# --- entity pages -------------------------------------------------------------------------
def peer_sections(entity: str) -> dict[str, Any] | None:
    """For a person or organisation page: who can help with each of its needs, and who
    needs each of its offers (None when it states neither)."""
    found = index()
    needs = matching.counterparts(found, entity, matching.NEED, SECTION_RESULTS)
    offers = matching.counterparts(found, entity, matching.OFFER, SECTION_RESULTS)
    if not needs and not offers:
        return None
    wanted: set[str] = set()
    for part in (*needs, *offers):
        wanted |= _criteria_ids(part.statement.criteria(matching.OFFER))
        wanted |= _result_ids(part.results)
    return {
        "needs": needs,
        "offers": offers,
        "names": found.names(wanted, reader_languages()),
        "url": lambda part, direction: peers_url(part.statement.criteria(direction)),
    }
