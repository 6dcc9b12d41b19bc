"""Partnership assessment: the criteria grid on a partnership's page (the template
function ``assessment_grid``) and ``/partnerships``, every partnership by status with
those lacking an assessment or a governing document flagged."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, render_template

from loader.base import ids
from loader.base.ids import DECISION_LEVEL, GOVERNING_DOCUMENT, PARTNERSHIP, STATUS
from loader.discovery.network import RegisterEntry
from loader.publish.describe import Description, Value
from webapp.http.catalogue import get_catalogue
from webapp.http.rendering import cached_html, index, language_tag
from webapp.http.request_args import reader_languages

bp = Blueprint("partnerships", __name__)

BT_PARTNERSHIP = "https://w3id.org/bigtent/ontology#Partnership"
CRITERION, RATING, QUANTITY, POINT_IN_TIME = (
    ids.ASSESSMENT_CRITERION,
    ids.ASSESSMENT_RATING,
    ids.QUANTITY,
    ids.POINT_IN_TIME,
)
CRITERIA_VOCABULARY = ids.ASSESSMENT_CRITERIA


@dataclass
class CriterionRow:
    """One criterion of the grid and how it was rated."""

    criterion: Value
    rating: list[Value] = field(default_factory=list)
    quantity: list[Value] = field(default_factory=list)
    assessed: list[Value] = field(default_factory=list)


@dataclass
class Assessment:
    """What a partnership page shows about its assessment."""

    status: list[Value]
    decision: list[Value]
    documents: list[Value]
    rows: list[CriterionRow]
    missing: list[tuple[str, tuple[str, str] | None]]  # criteria not assessed, with names


def init_app(app: Flask) -> None:
    """Register the blueprint and the ``assessment_grid`` template function."""
    app.jinja_env.globals["assessment_grid"] = assessment_grid
    app.register_blueprint(bp)


def is_partnership(e: Description) -> bool:
    """True when the described entity is a partnership."""
    return BT_PARTNERSHIP in e.types or any(c.entity == PARTNERSHIP for c in e.classes)


def assessment_grid(e: Description) -> Assessment | None:
    """The assessment of a described partnership (None for other entities)."""
    if not is_partnership(e):
        return None
    rows = []
    for group in e.statements:
        if group.property != CRITERION:
            continue
        for statement in group.statements:
            if statement.rank == "deprecated":
                continue
            row = CriterionRow(statement.value)
            for snak in statement.qualifiers:
                target = {RATING: row.rating, QUANTITY: row.quantity, POINT_IN_TIME: row.assessed}
                if snak.property in target:
                    target[snak.property].extend(snak.values)
            rows.append(row)
    assessed = {row.criterion.entity for row in rows}
    vocabulary = get_catalogue().network.instances(CRITERIA_VOCABULARY)
    missing = [c for c in vocabulary if c not in assessed]
    names = index().names(missing, reader_languages())
    return Assessment(
        status=e.values_of(STATUS),
        decision=e.values_of(DECISION_LEVEL),
        documents=e.values_of(GOVERNING_DOCUMENT),
        rows=rows,
        missing=[(c, names.get(c)) for c in missing],
    )


@bp.get("/partnerships")
def register() -> Response:
    """Every partnership by status, flagging missing assessments and documents."""
    cat = get_catalogue()
    languages = reader_languages()
    found = index()
    latest = cat.network.register()
    key = ("partnerships", latest.revision, tuple(languages))
    etag = f"partnerships-r{latest.revision}-{language_tag(languages)}"

    def render() -> tuple[str, None]:
        entries = latest.value
        statuses = cat.network.vocabulary("status")
        groups: list[tuple[str | None, list[RegisterEntry]]] = [
            (status, [e for e in entries if status in e.status]) for status in statuses
        ]
        groups.append((None, [e for e in entries if not set(e.status) & set(statuses)]))
        ids = [e.id for e in entries] + statuses
        html = render_template(
            "partnerships.html",
            groups=[(s, members) for s, members in groups if members],
            names=found.names(ids, languages),
            total=len(entries),
            unassessed=sum(1 for e in entries if not e.assessed),
            undocumented=sum(1 for e in entries if not e.documented),
            revision=latest.revision,
        )
        return html, None

    return cached_html(key, etag, render)
