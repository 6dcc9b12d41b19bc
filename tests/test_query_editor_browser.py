"""The query editor in headless Chromium, against a real server and the real endpoint."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
from browser import WatchedPage, watched_page
from live_server import LiveServer
from playwright.sync_api import Browser, Page, expect

from loader.base import ids

EXAMPLE = "partners-by-activity-type"
ROWS = "#results table.dataTable tbody tr"


def editor_text(page: Page) -> str:
    """The query in the YASQE (CodeMirror) editor."""
    text: str = page.evaluate("document.querySelector('#editor .CodeMirror').CodeMirror.getValue()")
    return text


def open_editor(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#editor .CodeMirror")


def test_choose_an_example_run_it_download_csv_and_share(
    browser_page: WatchedPage, live_server: LiveServer, tmp_path: Path
) -> None:
    page = browser_page.page
    open_editor(page, live_server.url + "query")
    assert page.is_hidden("#query"), "the plain textarea gives way to the editor"

    page.select_option("#example", EXAMPLE)
    query = editor_text(page)
    assert query.startswith("# title: Partners of an organisation, by activity type")
    assert f"PREFIX wd: <{live_server.url}entity/>" in query
    assert "Everyone the Wikimedia Foundation" in page.inner_text("#example-description")

    page.click("#run")
    page.wait_for_selector(ROWS)
    assert page.locator(ROWS).count() == 14
    assert "14 results" in page.inner_text("#query-status")
    assert page.is_hidden("#truncated")
    mozilla = page.locator("#results a.entity-link", has_text="Mozilla Foundation").first
    assert mozilla.get_attribute("href") == "/page/Q1009"
    assert "(Q1009)" in mozilla.locator("xpath=..").inner_text()
    headers = page.locator("#results table.dataTable thead th").all_inner_texts()
    assert "partnerLabel" not in headers, "label columns are shown in their entity's column"

    # sortable: a click on the partner column orders rows by the partners' labels
    # DataTables 2 sorts in a timeout after the click: wait for the header to say so.
    partner_header = page.locator("#results table.dataTable thead th", has_text="partner").first
    partner_header.click()
    expect(partner_header).to_have_attribute("aria-sort", "ascending")
    partners = page.locator(f"{ROWS} td:nth-child(3) a.entity-link").all_inner_texts()
    assert partners == sorted(partners, key=str.casefold)

    assert page.is_hidden('#download-links li[data-kind="graph"]')
    with page.expect_download() as download_info:
        page.click('#download-links a[data-format="csv"]')
    download = download_info.value
    assert download.suggested_filename == "results.csv"
    saved = tmp_path / "results.csv"
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert len(rows) == 14
    assert {"activity", "activityLabel", "partner", "partnerLabel"} <= set(rows[0])
    assert any(
        r["partnerLabel"] == "Mozilla Foundation"
        and r["partner"] == live_server.url + "entity/Q1009"
        for r in rows
    )

    link = page.input_value("#share-link")
    assert link.startswith(live_server.url + "query#")
    assert unquote(urlsplit(link).fragment) == query
    assert unquote(urlsplit(page.url).fragment) == query, "the address reopens it"
    page.goto("about:blank")
    open_editor(page, link)
    assert editor_text(page) == query
    page.wait_for_selector(ROWS)  # and runs it
    assert page.locator(ROWS).count() == 14
    browser_page.assert_stayed_local()


def test_prefixes_complete_from_this_catalogue(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    open_editor(page, live_server.url + "query?query=")
    page.click("#editor .CodeMirror")
    page.keyboard.type("SELECT * WHERE { ?item wdt:P1 wd:Q1 }")
    # The endpoint predefines wdt: and wd:, and so does the editor: no PREFIX line is
    # added, and the query is not flagged ("Prefix 'wdt' is not defined").
    assert editor_text(page) == "SELECT * WHERE { ?item wdt:P1 wd:Q1 }"
    assert page.locator("#editor .parseErrorIcon").count() == 0
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("PREFIX bt")
    page.keyboard.press("Control+Space")
    hints = page.locator(".CodeMirror-hints li").all_inner_texts()
    assert hints == [
        "bt: <https://w3id.org/bigtent/ontology#>",
        "bts: <https://w3id.org/bigtent/shapes#>",
    ]
    browser_page.assert_stayed_local()


def test_construct_queries_offer_rdf_downloads_and_show_triples(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    open_editor(page, live_server.url + "query?example=organisations-as-schema-org")
    assert page.is_hidden('#download-links li[data-kind="solutions"]')
    assert page.is_visible('#download-links a[data-format="ttl"]')
    page.click("#run")
    page.wait_for_selector("#results .yasr_results :text('schema')")
    with page.expect_download() as download_info:
        page.click('#download-links a[data-format="nt"]')
    body = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert "<http://schema.org/Organization>" in body
    browser_page.assert_stayed_local()


def test_a_bad_query_shows_one_message_with_its_place_marked(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    open_editor(page, live_server.url + f"query?example={EXAMPLE}")
    page.click("#run")
    page.wait_for_selector(ROWS)
    bad = "SELECT ?s WHERE {\n  ?s ?p ?o .\n  BIND(1 AS ?s AS ?t)\n}"
    page.evaluate(
        "(text) => document.querySelector('#editor .CodeMirror').CodeMirror.setValue(text)", bad
    )
    page.click("#run")
    page.wait_for_selector("#query-status.query-failed")
    status = page.inner_text("#query-status")
    assert status.startswith("The query failed")
    assert re.search(r"line 3, column \d+", status), status
    assert "\n" not in status.strip() and len(status) < 400, "one concise line"
    # the offending part is marked in the editor, on the line the message names
    mark = page.locator("#editor .CodeMirror-code .query-error-mark")
    assert mark.count() == 1 and mark.inner_text() == "AS"
    assert "AS ?t" in mark.locator("xpath=ancestor::pre[1]").inner_text()
    # shown once: not again in the results (the earlier rows are gone), nothing to download
    assert page.is_hidden("#results")
    assert page.locator("#results-section :text('The query failed')").count() == 1
    assert page.is_hidden("#downloads")
    assert page.is_hidden("#view-switcher")
    # editing the query clears the mark and brings the downloads back
    page.click("#editor .CodeMirror")
    page.keyboard.press("Control+End")
    page.keyboard.type(" LIMIT 1")
    assert page.locator("#editor .query-error-mark").count() == 0
    expect(page.locator("#downloads")).to_be_visible()


def test_without_javascript_the_form_still_queries(
    browser: Browser, live_server: LiveServer
) -> None:
    with watched_page(browser, java_script_enabled=False) as watched:
        page = watched.page
        page.goto(live_server.url + "query")
        page.select_option("#example", "organisations-per-country")
        page.click("#open-example")
        page.wait_for_url("**/query?example=organisations-per-country")
        assert "Organisations per country" in page.input_value("#query")
        page.select_option("#format", "csv")
        with (
            page.expect_response(lambda r: r.url.endswith("/sparql")) as response_info,
            page.expect_download() as download_info,  # Chromium saves text/csv
        ):
            page.click("#run")
        response = response_info.value
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/csv")
        body = Path(download_info.value.path()).read_text(encoding="utf-8")
        assert body.startswith("country,countryLabel,organisations")
        assert "Germany" in body
        watched.assert_stayed_local()


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose endpoint cuts results at 5 rows."""
    with LiveServer.start(
        tmp_path_factory.mktemp("small"), settings={"BIGTENT_SPARQL_MAX_ROWS": "5"}
    ) as server:
        yield server


def test_truncated_results_are_flagged(browser_page: WatchedPage, small_server: LiveServer) -> None:
    page = browser_page.page
    open_editor(page, small_server.url + f"query?example={EXAMPLE}")
    page.click("#run")
    page.wait_for_selector(ROWS)
    assert page.locator(ROWS).count() == 5
    assert page.is_visible("#truncated")
    assert "first 5 rows" in page.inner_text("#truncated")


def test_the_editor_speaks_the_pages_language(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    open_editor(page, live_server.url + f"query?example={EXAMPLE}&uselang=fr")
    page.click("#run")
    page.wait_for_selector(ROWS)
    assert "14 résultats en" in page.inner_text("#query-status")
    # YASGUI's own words, translated as it draws them
    assert page.input_value("#results .tableFilter") == ""
    assert page.get_attribute("#results .tableFilter", "placeholder") == "Filtrer les résultats"
    assert page.inner_text("#results .pageSizerLabel").strip() == "Lignes par page :"
    assert page.get_attribute("#editor .yasqe_share", "title") == "Partager la requête"
    assert page.inner_text("#view-switcher button[data-view=table]") == "Tableau"
    open_editor(page, live_server.url + "query?query=SELECT%20%3Fs%20WHERE%20%7B&uselang=es")
    page.click("#run")
    page.wait_for_function(
        "() => document.querySelector('#query-status').textContent.includes('falló')"
    )
    assert page.inner_text("#query-status").startswith("La consulta falló")
    browser_page.assert_stayed_local()


# --- result views, completion, sharing, embedding (issue 14) ----------------------------
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
GEO = "PREFIX geo: <http://www.opengis.net/ont/geosparql#>\n"
COUNTRIES = f"""SELECT ?country ?countryLabel (COUNT(?org) AS ?organisations) WHERE {{
  ?org wdt:{ids.INSTANCE_OF} wd:{ids.ORGANISATION} ; wdt:{ids.LOCATED_IN} ?country .
}} GROUP BY ?country ?countryLabel ORDER BY DESC(?organisations) ?countryLabel"""
# Coordinates as WDQS queries return them (geo:wktLiteral, longitude first). VALUES keeps
# the map test independent of which records carry coordinates.
PLACES = f"""{GEO}SELECT ?place ?placeLabel ?where WHERE {{
  VALUES (?place ?where) {{
    (wd:Q1401 "Point(13.4 52.52)"^^geo:wktLiteral)
    (wd:Q1415 "Point(-17.44 14.69)"^^geo:wktLiteral)
    (wd:Q1405 "Point(-47.88 -15.79)"^^geo:wktLiteral)
  }}
}}"""
STARTS = f"""SELECT ?thing ?thingLabel ?start WHERE {{
  ?thing wdt:{ids.START_TIME} ?start .
}} ORDER BY DESC(?start) LIMIT 12"""
PARTNERS = f"""SELECT ?organisation ?organisationLabel ?country ?countryLabel WHERE {{
  ?organisation wdt:{ids.INSTANCE_OF} wd:{ids.ORGANISATION} ; wdt:{ids.LOCATED_IN} ?country .
}}"""


def images_query(server: LiveServer) -> str:
    """Two image columns' worth of rows: one image on this server, one elsewhere (shown
    as a link, never loaded)."""
    return f"""SELECT ?item ?itemLabel ?image WHERE {{
  VALUES (?item ?image) {{
    (wd:Q1000 <{server.url}static/favicon.svg>)
    (wd:Q1001 <https://upload.wikimedia.org/wikipedia/commons/a/a0/Example.jpg>)
  }}
}}"""


VIEW_QUERIES: dict[str, tuple[str, str]] = {
    # view: (WDQS name in #defaultView, query)
    "table": ("Table", COUNTRIES),
    "map": ("Map", PLACES),
    "barchart": ("BarChart", COUNTRIES),
    "linechart": ("LineChart", COUNTRIES),
    "piechart": ("PieChart", COUNTRIES),
    "graph": ("Graph", PARTNERS),
    "timeline": ("Timeline", STARTS),
    "imagegrid": ("ImageGrid", ""),
}


def share_url(server: LiveServer, query: str, page: str = "query") -> str:
    """A share link as the editor makes it: the query, percent-encoded, in the fragment."""
    return f"{server.url}{page}#{quote(query, safe='')}"


def run_shared(page: Page, url: str) -> None:
    """Open a share link and wait for its results (it runs by itself)."""
    page.goto(url)
    page.wait_for_selector("#results-section:not([hidden]) #query-status:text-matches('result')")


CHART_DRAWN = (
    "() => window.Chart && window.Chart.getChart(document.querySelector('.result-chart canvas'))"
)


def chart_data(page: Page) -> dict[str, Any]:
    """Kind, labels and first dataset of the chart the page draws (Chart.js)."""
    data: dict[str, Any] = page.evaluate(
        """() => {
          const chart = window.Chart.getChart(document.querySelector('.result-chart canvas'));
          return {type: chart.config.type, labels: chart.data.labels,
                  values: chart.data.datasets[0].data};
        }"""
    )
    return data


@pytest.mark.parametrize("view", list(VIEW_QUERIES))
def test_each_view_renders_from_its_default_view_comment(
    browser_page: WatchedPage, live_server: LiveServer, view: str
) -> None:
    """`#defaultView:NAME` as WDQS writes it picks the view; a share link runs it."""
    page = browser_page.page
    name, query = VIEW_QUERIES[view]
    query = f"#defaultView:{name}\n{query or images_query(live_server)}"
    run_shared(page, share_url(live_server, query))
    pressed = page.locator("#view-switcher button[aria-pressed=true]")
    expect(pressed).to_have_count(1)
    assert pressed.get_attribute("data-view") == view
    results = page.locator("#results")
    if view == "table":
        assert page.locator(ROWS).count() >= 10
        assert page.locator(f"{ROWS} a.entity-link", has_text="Germany").count() == 1
    elif view == "map":
        expect(results.locator(".result-map[data-markers='3'] path.result-marker")).to_have_count(3)
        assert results.locator(".result-map path.leaflet-interactive").count() >= 3
        results.locator("path.result-marker").first.click(force=True)
        expect(page.locator(".leaflet-popup-content a.entity-link")).to_have_count(1)
    elif view in ("barchart", "linechart", "piechart"):
        page.wait_for_selector(".result-chart canvas")
        page.wait_for_function(CHART_DRAWN)
        data = chart_data(page)
        assert data["type"] == {"barchart": "bar", "linechart": "line", "piechart": "pie"}[view]
        assert "Germany" in data["labels"], "entities are shown by their labels"
        assert data["values"][0] == max(data["values"]) >= 1
    elif view == "graph":
        graph = results.locator(".result-graph")
        expect(graph.locator("canvas").first).to_be_attached()
        nodes = int(graph.get_attribute("data-nodes") or 0)
        assert results.locator(".result-graph").count() == 1 and nodes > 20
    elif view == "timeline":
        items = results.locator(".timeline-item")
        expect(items.first).to_be_visible()
        dates = items.locator("time").evaluate_all(
            "els => els.map(e => e.getAttribute('datetime'))"
        )
        rows = int(page.inner_text("#query-status").split()[0])
        assert len(dates) == rows >= 3 and dates == sorted(dates), "each row, in order of time"
        assert items.locator("a.entity-link").count() == rows
    elif view == "imagegrid":
        tiles = results.locator(".image-tile")
        expect(tiles).to_have_count(2)
        image = tiles.locator("img")
        expect(image).to_have_count(1)
        page.wait_for_function("() => document.querySelector('.image-tile img').naturalWidth > 0")
        assert image.get_attribute("src") == f"{live_server.url}static/favicon.svg"
        assert "upload.wikimedia.org" in tiles.locator(".image-elsewhere").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#results-section").screenshot(path=str(SCREENSHOTS / f"query-{view}.png"))
    browser_page.assert_stayed_local()


def test_the_switcher_changes_the_view_and_the_share_link_keeps_it(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    run_shared(page, share_url(live_server, "#defaultView:BarChart\n" + COUNTRIES))
    page.wait_for_selector(".result-chart canvas")
    assert page.is_disabled("#view-switcher button[data-view=map]"), "no coordinates"
    assert page.is_disabled("#view-switcher button[data-view=imagegrid]")
    page.click("#view-switcher button[data-view=table]")
    page.wait_for_selector(ROWS)
    expect(page.locator("#view-switcher button[data-view=table]")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert (
        page.get_attribute("#view-switcher button[data-view=barchart]", "aria-pressed") == "false"
    )
    link = page.input_value("#share-link")
    assert unquote(urlsplit(link).fragment).startswith("#defaultView:Table\n")
    assert "#defaultView:BarChart" not in unquote(link)
    page.goto("about:blank")
    run_shared(page, link)
    page.wait_for_selector(ROWS)
    browser_page.assert_stayed_local()


def test_completion_after_wdt_offers_properties_by_label(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    """Typing after `wdt:` asks /sparql/complete; the pick is the id with its label in a
    comment (`wdt:P12 # located in`), in the reader's language."""
    page = browser_page.page
    open_editor(page, live_server.url + "query?query=")
    page.click("#editor .CodeMirror")
    page.keyboard.type("SELECT ?org WHERE { ?org wdt:locat")
    hint = page.locator(".CodeMirror-hints li", has_text="located in").first
    expect(hint).to_be_visible()
    assert f"wdt:{ids.LOCATED_IN}" in hint.inner_text()
    assert "territory" in hint.locator(".hint-description").inner_text()
    hint.click()
    assert editor_text(page) == f"SELECT ?org WHERE {{ ?org wdt:{ids.LOCATED_IN} # located in"
    # the cursor stays after the id: what follows goes before the comment
    page.keyboard.type(" wd:germ")
    item = page.locator(".CodeMirror-hints li .hint-label", has_text=re.compile("^Germany$"))
    expect(item).to_be_visible()
    item.click()
    text = editor_text(page)
    assert re.fullmatch(
        rf"SELECT \?org WHERE \{{ \?org wdt:{ids.LOCATED_IN} wd:Q\d+ # located in, Germany", text
    ), text
    page.keyboard.type(" }")
    assert page.locator("#editor .parseErrorIcon").count() == 0
    # Ctrl+Space asks too, and in French the labels are French
    open_editor(page, live_server.url + "query?query=&uselang=fr")
    page.click("#editor .CodeMirror")
    page.keyboard.type("SELECT ?x WHERE { ?x wdt:situ")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Space")
    expect(page.locator(".CodeMirror-hints li", has_text="situé dans").first).to_be_visible()
    browser_page.assert_stayed_local()


WDQS_QUERY = f"""#Organisations and their countries, as written for the Wikidata Query Service
SELECT ?item ?itemLabel ?itemDescription ?country ?countryLabel WHERE {{
  ?item wdt:{ids.INSTANCE_OF} wd:{ids.ORGANISATION} .
  OPTIONAL {{ ?item wdt:{ids.LOCATED_IN} ?country . }}
  SERVICE wikibase:label {{ bd:serviceParam wikibase:language "[AUTO_LANGUAGE],en". }}
}}
LIMIT 10"""


def test_a_pasted_wdqs_query_with_the_label_service_runs(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    """No PREFIX lines, the label service idiom: not flagged, and it runs with labels."""
    page = browser_page.page
    open_editor(page, live_server.url + "query?query=")
    page.click("#editor .CodeMirror")
    page.evaluate(
        """(text) => {
          const data = new DataTransfer();
          data.setData('text/plain', text);
          document.querySelector('#editor .CodeMirror textarea').dispatchEvent(
            new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        WDQS_QUERY,
    )
    assert editor_text(page) == WDQS_QUERY, "pasted as it is"
    assert page.locator("#editor .parseErrorIcon").count() == 0
    page.click("#run")
    page.wait_for_selector(ROWS)
    assert page.locator(ROWS).count() == 10
    labels = page.locator(f"{ROWS} td:nth-child(2) a.entity-link").all_inner_texts()
    assert len(labels) == 10 and all(not re.fullmatch(r"Q\d+", label) for label in labels)
    browser_page.assert_stayed_local()


def test_the_share_button_makes_a_link_and_does_not_run(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    open_editor(page, live_server.url + f"query?example={EXAMPLE}")
    query = editor_text(page)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/sparql" in r.url else None)
    page.click("#editor .yasqe_share")
    popup = page.locator("#editor .yasqe_sharePopup input")
    expect(popup).to_be_visible()
    link = popup.input_value()
    page.click("#editor .yasqe_sharePopup .curl")  # its other button neither
    page.click("#copy-link")
    page.wait_for_timeout(300)  # give a wrongly started query the time to leave
    assert sent == [], "sharing sent the query"
    assert page.is_hidden("#results-section")
    assert link == page.input_value("#share-link")
    assert link.startswith(live_server.url + "query#")
    assert unquote(urlsplit(link).fragment) == query
    page.goto("about:blank")
    page.goto(link)
    page.wait_for_selector(ROWS)
    assert editor_text(page) == query
    assert page.locator(ROWS).count() == 14
    browser_page.assert_stayed_local()


def test_embed_shows_one_view_alone(browser_page: WatchedPage, live_server: LiveServer) -> None:
    page = browser_page.page
    query = "#defaultView:PieChart\n" + COUNTRIES
    page.goto(share_url(live_server, query, page="embed"))
    page.wait_for_function(CHART_DRAWN)
    data = chart_data(page)
    assert data["type"] == "pie" and "Germany" in data["labels"]
    assert page.locator("#editor, #view-switcher, header.site, #results table").count() == 0
    assert page.locator(".result-view").count() == 1
    assert page.is_hidden("#results .yasr_btnGroup")
    opener = page.get_attribute("#embed-open", "href") or ""
    assert unquote(urlsplit(opener).fragment) == query
    assert page.get_attribute("#embed-open", "target") == "_blank"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "query-embed.png"))
    # the editor offers the code that frames this page
    run_shared(page, share_url(live_server, query))
    code = page.input_value("#embed-code")
    src = re.search(r'src="([^"]+)"', code)
    assert src is not None and src.group(1).startswith(live_server.url + "embed#")
    assert unquote(urlsplit(src.group(1).replace("&amp;", "&")).fragment) == query
    browser_page.assert_stayed_local()


def test_the_editor_works_at_phone_width(browser: Browser, live_server: LiveServer) -> None:
    with watched_page(browser, viewport={"width": 390, "height": 844}) as watched:
        page = watched.page
        open_editor(page, live_server.url + "query?query=")
        editor = page.locator("#editor .CodeMirror").bounding_box()
        assert editor is not None and editor["x"] >= 0 and editor["x"] + editor["width"] <= 390
        page.click("#editor .CodeMirror")
        page.keyboard.type(
            f"SELECT ?o WHERE {{ ?o wdt:{ids.INSTANCE_OF} wd:{ids.ORGANISATION} }} LIMIT 3"
        )
        page.click("#run")
        page.wait_for_selector(ROWS)
        assert page.locator(ROWS).count() == 3
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert page.is_visible("#view-switcher")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "query-phone.png"), full_page=True)
        watched.assert_stayed_local()
