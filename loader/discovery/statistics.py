"""The statistics charts: each one is the result of a public example query.

Every chart names a file of ``sparql/examples``; its data is that query's result as the
public endpoint gives it (same prefixes, ``?xLabel`` filling and dataset), run in process
on the live store and kept until the catalogue next changes. The CSV offered for download
is that result verbatim, so a reader can check any figure by running the query; like every
CSV of the endpoint, its cells are safe to open in a spreadsheet
(:func:`loader.base.spreadsheets.neutralise`), and the page reads them back as written.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loader.base.errors import NotFound
from loader.base.latest import Finished, Views
from loader.base.namespaces import Namespaces
from loader.base.spreadsheets import restore

if TYPE_CHECKING:
    from loader.query.examples import Examples
    from loader.query.service import QueryService
    from loader.storage.page_index import PageIndex
    from loader.storage.repository import Repository

CSV = "text/csv"


@dataclass(frozen=True)
class Chart:
    """One chart: the example query behind it and the columns it draws."""

    id: str
    example: str  # sparql/examples/<example>.rq
    category: str  # the variable each bar is about (its ``Label`` column names it)
    series: tuple[str, ...]  # the counted variables, one bar each per row
    detail: str | None = None  # a second variable naming the row (e.g. the year)


CHARTS: tuple[Chart, ...] = (
    Chart(
        "partnerships-by-activity-and-year",
        "partnerships-by-activity-type-and-year",
        "activity",
        ("partnerships",),
        detail="year",
    ),
    Chart(
        "capacities-offered-and-needed",
        "capacities-offered-and-needed-per-root",
        "root",
        ("offers", "needs"),
    ),
    Chart(
        "people-and-organisations-by-territory",
        "people-and-organisations-by-territory",
        "territory",
        ("people", "organisations"),
    ),
    Chart(
        "people-and-organisations-by-language",
        "people-and-organisations-by-language",
        "language",
        ("people", "organisations"),
    ),
)
CHART_IDS = {chart.id: chart for chart in CHARTS}


@dataclass(frozen=True)
class Row:
    """One row of a chart: what it is about and its counts."""

    entity: str | None  # the category's entity id, when it is an entity
    label: str
    detail: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class ChartData:
    """A chart's query result: the CSV as the endpoint writes it, and its rows."""

    chart: Chart
    csv: bytes
    rows: list[Row]

    @property
    def largest(self) -> int:
        """The largest count (the scale of the bars)."""
        return max((v for row in self.rows for v in row.values), default=0)


def chart(chart_id: str) -> Chart:
    """A chart by id; 404 naming the charts that exist."""
    found = CHART_IDS.get(chart_id)
    if found is None:
        raise NotFound(
            f"there is no chart {chart_id[:40]!r}; the charts are "
            f"{', '.join(c.id for c in CHARTS)}",
            title="Not found",
        )
    return found


class Statistics:
    """Runs the charts' queries for one catalogue (``Catalogue.statistics``)."""

    def __init__(
        self,
        repository: Repository,
        query_service: QueryService,
        examples: Examples,
        page_index: PageIndex,
    ) -> None:
        self.repository = repository
        self.query_service = query_service
        self.examples = examples
        self.page_index = page_index
        revisions = repository.revisions
        #: the charts' newest finished data (recomputed in the background after writes)
        self.views = Views(revisions.last_id, revisions.private_since)

    def query(self, chart: Chart) -> str:
        """The example query behind a chart, as users get it (absolute prefixes)."""
        examples = self.examples
        return examples.query(examples.get(chart.example))

    def data(self, chart: Chart, languages: Sequence[str]) -> ChartData:
        """The chart's data, labelled in ``languages`` (see :meth:`latest`)."""
        return self.latest(chart, languages).value

    def latest(self, chart: Chart, languages: Sequence[str]) -> Finished[ChartData]:
        """The chart's newest finished data and the revision it reflects: after a write
        it is recomputed in the background, except after a hide or erase (waited for)."""
        wanted = tuple(languages)
        return self.views.get(
            (chart.id, wanted), lambda: self._run(chart, wanted), SavedChart(self, chart, wanted)
        )

    def close(self) -> None:
        """Stop the background recomputation."""
        self.views.close()

    def _run(self, chart: Chart, languages: Sequence[str]) -> ChartData:
        service = self.query_service
        request = service.request(self.query(chart), solutions_type=CSV, languages=tuple(languages))
        outcome = service.run_local(request)
        outcome.raise_for_error()
        return ChartData(chart, outcome.body, rows_of(chart, outcome.body, self.repository.ns))


class SavedChart:
    """A chart's data as the page index keeps it between starts (:class:`Saved`): at 1M
    records a restarted server otherwise made its first reader wait about a minute and a
    half. The key names the query's text, so a changed query is never answered from an
    older one's result."""

    def __init__(self, statistics: Statistics, chart: Chart, languages: tuple[str, ...]) -> None:
        self.statistics, self.chart, self.languages = statistics, chart, languages

    @property
    def key(self) -> str:
        """The chart, its query's text and the languages (made when loaded or saved:
        once a process and computation, not per request)."""
        query = hashlib.sha256(self.statistics.query(self.chart).encode()).hexdigest()[:16]
        return f"statistics/{self.chart.id}/{query}/{','.join(self.languages)}"

    def load(self) -> Finished[ChartData] | None:
        """The chart's data saved last, with its revision."""
        found = self.statistics.page_index.saved_view(self.key)
        if found is None:
            return None
        revision, body = found
        ns = self.statistics.repository.ns
        return Finished(ChartData(self.chart, body, rows_of(self.chart, body, ns)), revision)

    def save(self, finished: Finished[ChartData]) -> None:
        """Keep the chart's CSV and the revision it reflects."""
        self.statistics.page_index.save_view(self.key, finished.revision, finished.value.csv)


def rows_of(chart: Chart, body: bytes, ns: Namespaces) -> list[Row]:
    """The chart rows of a SPARQL CSV result."""
    rows = []
    for written in csv.DictReader(io.StringIO(body.decode("utf-8"))):
        record = {name: restore(value or "") for name, value in written.items()}
        iri = record.get(chart.category, "")
        entity = ns.entity_id(iri) if iri else None
        label = record.get(chart.category + "Label") or entity or iri
        rows.append(
            Row(
                entity,
                label,
                record.get(chart.detail, "") if chart.detail else "",
                tuple(_count(record.get(name)) for name in chart.series),
            )
        )
    return rows


def _count(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
