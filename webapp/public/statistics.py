"""The statistics page (``/statistics``): charts drawn as inline SVG on the server, each
with its data table, its CSV (``/statistics/<chart>.csv``) and the SPARQL query behind it
(a public example query, opened in the query editor)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, render_template, url_for
from flask_babel import gettext as _

from loader.base.errors import NotFound
from loader.discovery.statistics import CHARTS, Chart, ChartData, chart
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue
from webapp.http.rendering import cached_html, language_tag
from webapp.http.request_args import label_languages

bp = Blueprint("statistics", __name__)

CHART_FILE = re.compile(r"^[a-z0-9-]{1,80}$")
#: Chart geometry (SVG user units).
WIDTH, LABEL_WIDTH, BAR_HEIGHT, ROW_GAP, TOP = 760, 300, 16, 10, 8
BAR_WIDTH = WIDTH - LABEL_WIDTH - 60


@dataclass(frozen=True)
class Bar:
    """One bar: its series, value, position and length."""

    series: int
    value: int
    y: float
    width: float


@dataclass(frozen=True)
class ChartRow:
    """One row of a chart as drawn and tabulated."""

    entity: str | None
    label: str
    values: tuple[int, ...]
    flagged: bool
    y: float
    bars: list[Bar]


@dataclass(frozen=True)
class ShownChart:
    """Everything the page shows for one chart."""

    chart: Chart
    title: str
    description: str
    series: list[str]
    rows: list[ChartRow]
    height: float
    query_url: str
    csv_url: str
    flag: str | None  # what a flagged row means, for charts that flag rows


def texts() -> dict[str, tuple[str, str]]:
    """Title and description of each chart, in the interface language."""
    return {
        "partnerships-by-activity-and-year": (
            _("Partnerships by activity type and year"),
            _(
                "How many partnerships of each activity type started in each year; "
                "“year unknown” counts those without a recorded start."
            ),
        ),
        "capacities-offered-and-needed": (
            _("Capacities offered and needed"),
            _(
                "Statements offering and needing each root capacity of the taxonomy, "
                "narrower capacities included. Flagged rows need more than is offered."
            ),
        ),
        "people-and-organisations-by-territory": (
            _("People and organisations by territory"),
            _(
                "Organisations by where they are, and people and organisations by the "
                "territories their capacity statements apply to."
            ),
        ),
        "people-and-organisations-by-language": (
            _("People and organisations by language"),
            _("People and organisations by the languages of their capacity statements."),
        ),
    }


def series_names() -> dict[str, str]:
    """The reader's name of each counted column."""
    return {
        "partnerships": _("Partnerships"),
        "offers": _("Offered"),
        "needs": _("Needed"),
        "people": _("People"),
        "organisations": _("Organisations"),
    }


def shown(data: ChartData) -> ShownChart:
    """Lay a chart's data out as horizontal bars."""
    scale = BAR_WIDTH / max(1, data.largest)
    per_row = len(data.chart.series) * BAR_HEIGHT + ROW_GAP
    rows = []
    flags = data.chart.series == ("offers", "needs")
    for i, row in enumerate(data.rows):
        y = TOP + i * per_row
        label = row.label
        if data.chart.detail:
            label = _("%(name)s, %(year)s", name=row.label, year=row.detail or _("year unknown"))
        bars = [
            Bar(s, value, y + s * BAR_HEIGHT, value * scale) for s, value in enumerate(row.values)
        ]
        flagged = flags and row.values[1] > row.values[0]
        rows.append(ChartRow(row.entity, label, row.values, flagged, y, bars))
    title, description = texts()[data.chart.id]
    names = series_names()
    return ShownChart(
        chart=data.chart,
        title=title,
        description=description,
        series=[names[s] for s in data.chart.series],
        rows=rows,
        height=TOP * 2 + max(1, len(rows)) * per_row,
        query_url=url_for(
            "query_editor.editor", query=get_catalogue().statistics.query(data.chart)
        ),
        csv_url=url_for("statistics.chart_csv", name=data.chart.id),
        flag=_("More needed than offered") if flags else None,
    )


@bp.get("/statistics")
def statistics_page() -> Response:
    """Every chart with its table, CSV and query, as of the newest finished results
    (after an edit they are recomputed in the background; the page says which revision)."""
    cat = get_catalogue()
    languages = label_languages()
    found = [cat.statistics.latest(c, languages) for c in CHARTS]
    revision = min(f.revision for f in found)
    revisions = tuple(f.revision for f in found)
    spread = "" if set(revisions) == {revision} else "-" + "-".join(map(str, revisions))
    etag = f"statistics-r{revision}{spread}-{language_tag(languages)}"

    def render() -> tuple[str, None]:
        html = render_template(
            "statistics.html",
            charts=[shown(f.value) for f in found],
            revision=revision,
            width=WIDTH,
            label_width=LABEL_WIDTH,
            bar_height=BAR_HEIGHT,
        )
        return html, None

    return cached_html(("statistics", revisions, tuple(languages)), etag, render)


@bp.get("/statistics/<name>.csv")
def chart_csv(name: str) -> Response:
    """A chart's data: its query's result, as the SPARQL endpoint writes CSV."""
    if not CHART_FILE.match(name):
        raise NotFound(f"there is no chart {name[:40]!r}", title="Not found")
    cat = get_catalogue()
    languages = label_languages()
    found = cat.statistics.latest(chart(name), languages)
    response = Response(found.value.csv, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'inline; filename="{name}.csv"'
    etag = f"statistics-r{found.revision}-{name}-{language_tag(languages)}"
    return conditional(response, etag, max_age=60)
