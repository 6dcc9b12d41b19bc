"""Partnership assessment: the criteria grid on a partnership's page (the template
function ``assessment_grid``) and ``/partnerships``, the partnerships by status with
those lacking an assessment or a governing document flagged: the first of each status,
and each status (or what partnerships lack) as a list of pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, render_template, request

from loader.base import ids
from loader.base.errors import BigtentError
from loader.base.ids import DECISION_LEVEL, GOVERNING_DOCUMENT, PARTNERSHIP, STATUS
from loader.discovery.network import RegisterEntry
from loader.publish.describe import Description, Value
from webapp.http.catalogue import get_catalogue
from webapp.http.rendering import cached_html, index, language_tag
from webapp.http.request_args import check_page_in_range, page_number, reader_languages

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


#: Partnerships listed per page of a filtered list, and per status on the overview.
PER_PAGE = 100
#: ``?missing=`` values: what a partnership lacks, and the register field that says so.
MISSING = {"assessment": "assessed", "document": "documented"}
#: ``?status=`` for partnerships without a status.
NO_STATUS = "none"


@dataclass(frozen=True)
class RegisterFilter:
    """What ``/partnerships`` lists: every status (the overview) or one list."""

    status: str | None = None  # a status id or NO_STATUS
    missing: str | None = None  # a key of MISSING

    def __bool__(self) -> bool:
        return self.status is not None or self.missing is not None

    def args(self) -> dict[str, str]:
        """The query-string arguments selecting this list."""
        found = {"status": self.status, "missing": self.missing}
        return {name: value for name, value in found.items() if value is not None}

    def keeps(self, entry: RegisterEntry, statuses: set[str]) -> bool:
        """True when ``entry`` belongs in this list."""
        if self.status == NO_STATUS:
            if set(entry.status) & statuses:
                return False
        elif self.status is not None and self.status not in entry.status:
            return False
        return self.missing is None or not getattr(entry, MISSING[self.missing])


def register_filter(statuses: list[str]) -> RegisterFilter:
    """``?status=`` and ``?missing=``; 400 naming the accepted values for anything else."""
    status, missing = request.args.get("status"), request.args.get("missing")
    if status is not None and status not in (*statuses, NO_STATUS):
        raise BigtentError(
            f"status={status[:40]!r} is not a partnership status: use one of "
            f"{', '.join([*statuses, NO_STATUS])}",
            title="Unknown status",
        )
    if missing is not None and missing not in MISSING:
        raise BigtentError(
            f"missing={missing[:40]!r} is not something a partnership can lack here: use "
            + " or ".join(MISSING),
            title="Unknown filter",
        )
    return RegisterFilter(status, missing)


@bp.get("/partnerships")
def register() -> Response:
    """Partnerships by status, flagging missing assessments and documents: the first
    :data:`PER_PAGE` of each status, or one status (or what they lack) page by page."""
    cat = get_catalogue()
    languages = reader_languages()
    found = index()
    latest = cat.network.register()
    statuses = cat.network.vocabulary("status")
    chosen = register_filter(statuses)
    page = page_number()
    key = ("partnerships", latest.revision, chosen, page, tuple(languages))
    selected = language_tag([f"{k}={v}" for k, v in chosen.args().items()])
    etag = f"partnerships-r{latest.revision}-{selected}-{page}-{language_tag(languages)}"

    def render() -> tuple[str, None]:
        entries = latest.value
        known = set(statuses)
        counts = [(status, sum(1 for e in entries if status in e.status)) for status in statuses]
        counts.append((NO_STATUS, sum(1 for e in entries if not set(e.status) & known)))
        if chosen:
            listed = [e for e in entries if chosen.keeps(e, known)]
            pages = check_page_in_range(page, len(listed), PER_PAGE)
            shown = listed[(page - 1) * PER_PAGE : page * PER_PAGE]
            groups = [(chosen, len(listed), shown)]
        else:
            pages = check_page_in_range(page, 1, PER_PAGE)
            groups = []
            for status, count in counts:
                if count:
                    one = RegisterFilter(status)
                    members = [e for e in entries if one.keeps(e, known)][:PER_PAGE]
                    groups.append((one, count, members))
        ids = [e.id for _, _, members in groups for e in members] + statuses
        html = render_template(
            "partnerships.html",
            chosen=chosen,
            counts=[(status, count) for status, count in counts if count],
            groups=groups,
            names=found.names(ids, languages),
            total=len(entries),
            unassessed=sum(1 for e in entries if not e.assessed),
            undocumented=sum(1 for e in entries if not e.documented),
            revision=latest.revision,
            page=page,
            pages=pages,
            per_page=PER_PAGE,
            no_status=NO_STATUS,
        )
        return html, None

    return cached_html(key, etag, render)
