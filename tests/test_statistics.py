"""The statistics page: charts, their CSV and the SPARQL query behind each."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from loader.catalogue import Catalogue
from loader.discovery.statistics import CHARTS, Chart


def rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.id)
def test_each_csv_is_the_result_of_its_sparql_query(
    client: FlaskClient, app: Flask, chart: Chart
) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    example = cat.examples.get(chart.example)
    query = cat.examples.query(example)
    served = client.get(f"/statistics/{chart.id}.csv")
    assert served.status_code == 200
    assert served.mimetype == "text/csv"
    endpoint = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert endpoint.status_code == 200, endpoint.get_data(as_text=True)
    expected = rows(endpoint.data)
    assert expected, "the demo data gives every chart some rows"
    assert rows(served.data) == expected
    header = next(csv.reader(io.StringIO(served.data.decode())))
    assert {chart.category, chart.category + "Label", *chart.series} <= set(header)


def test_page_shows_every_chart_with_table_csv_and_query(client: FlaskClient, app: Flask) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    html = client.get("/statistics").get_data(as_text=True)
    for chart in CHARTS:
        section = html.split(f'<section class="chart" id="{chart.id}"', 1)[1].split("</section>")[0]
        assert 'role="img"' in section
        assert f'href="/statistics/{chart.id}.csv"' in section
        link = re.search(r'href="(/query\?query=[^"]+)"', section)
        assert link is not None
        query = parse_qs(urlsplit(unescape(link.group(1))).query)["query"][0]
        assert query == cat.examples.query(cat.examples.get(chart.example))
        # every figure of the CSV is in the chart's table, row by row
        table = section.split("<tbody>", 1)[1].split("</tbody>")[0]
        cells = [re.findall(r"<td>(\d+)</td>", row) for row in table.split("<tr>")[1:]]
        data = rows(client.get(f"/statistics/{chart.id}.csv").data)
        assert cells == [[r[s] for s in chart.series] for r in data]


def test_capacities_where_demand_exceeds_supply_are_flagged(client: FlaskClient) -> None:
    data = rows(client.get("/statistics/capacities-offered-and-needed.csv").data)
    short = {r["rootLabel"] for r in data if int(r["needs"]) > int(r["offers"])}
    assert short  # the demo has some
    html = client.get("/statistics").get_data(as_text=True)
    section = html.split('id="capacities-offered-and-needed"', 1)[1].split("</section>")[0]
    flagged = set()
    for row in section.split("<tbody>", 1)[1].split("<tr>")[1:]:
        if "More needed than offered" in row:
            flagged.add(re.sub(r"<[^>]+>", "", row.split("</th>")[0]).strip())
    assert flagged == short


def test_charts_follow_changes(client: FlaskClient, app: Flask, write_ttl: object) -> None:
    cat: Catalogue = app.extensions["bigtent"]
    before = rows(client.get("/statistics/partnerships-by-activity-and-year.csv").data)
    assert not any(r["year"] == "2031" for r in before)
    body = (
        'wd:Q5300 a wikibase:Item ; rdfs:label "Future exchange"@en ; wdt:P1 wd:Q4 ; '
        'wdt:P5 wd:Q1000 , wd:Q1001 ; wdt:P7 wd:Q136 ; wdt:P9 "2031"^^xsd:gYear .'
    )
    assert cat.load_paths([write_ttl("new.ttl", body)]).ok  # type: ignore[operator]
    at_once = rows(client.get("/statistics/partnerships-by-activity-and-year.csv").data)
    assert at_once == before  # the newest finished result, recomputed in the background
    cat.statistics.views.settle()
    after = rows(client.get("/statistics/partnerships-by-activity-and-year.csv").data)
    assert [r["partnerships"] for r in after if r["year"] == "2031"] == ["1"]


def test_csv_cells_cannot_start_a_spreadsheet_formula(
    client: FlaskClient, app: Flask, write_ttl: object
) -> None:
    """Finding 9: a label such as =HYPERLINK(…) went into /statistics/*.csv unescaped."""
    cat: Catalogue = app.extensions["bigtent"]
    formula = '=HYPERLINK("http://evil.example";"open")'
    body = (
        "wd:Q5310 a wikibase:Item ; wdt:P1 wd:Q24 ; rdfs:label "
        + ", ".join(f"{formula!r}@{lang}" for lang in ("en", "fr", "es", "pt"))
        + " .\n"
        'wd:Q5311 a wikibase:Item ; rdfs:label "Formula exchange"@en ; wdt:P1 wd:Q4 ; '
        'wdt:P5 wd:Q1000 , wd:Q1001 ; wdt:P7 wd:Q5310 ; wdt:P9 "2030"^^xsd:gYear .'
    )
    report = cat.load_paths([write_ttl("formula.ttl", body)])  # type: ignore[operator]
    assert report.ok, report.rejections
    served = client.get("/statistics/partnerships-by-activity-and-year.csv")
    cells = [cell for row in csv.reader(io.StringIO(served.data.decode())) for cell in row]
    assert "'" + formula in cells
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert not any(cell.startswith("-") and not cell.lstrip("-").isdigit() for cell in cells)
    html = client.get("/statistics").get_data(as_text=True)
    assert unescape(html).count(formula) >= 1 and "'" + formula not in unescape(html)


@pytest.mark.parametrize(
    "path",
    [
        "/statistics/nothing.csv",
        "/statistics/%3Cscript%3E.csv",
        "/statistics/" + "a" * 200 + ".csv",
    ],
)
def test_unknown_charts_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path, headers={"Accept": "application/json"}).status_code == 404
    response = client.get(path)
    assert response.status_code == 404
    assert "<script>" not in response.get_data(as_text=True)


def test_hidden_people_are_not_counted_or_shown(client: FlaskClient, app: Flask) -> None:
    cat: Catalogue = app.extensions["bigtent"]

    def english_speakers() -> int:
        data = rows(client.get("/statistics/people-and-organisations-by-language.csv").data)
        return next(int(r["people"]) for r in data if r["languageLabel"] == "English")

    before = english_speakers()
    cat.privacy.hide("Q1500", reason="test")  # Amara Okonkwo offers training in English
    assert english_speakers() == before - 1
    for path in ("/statistics", "/network", "/network.json", "/partnerships"):
        assert "Amara Okonkwo" not in client.get(path).get_data(as_text=True), path
    for chart in CHARTS:
        assert b"Q1500" not in client.get(f"/statistics/{chart.id}.csv").data
