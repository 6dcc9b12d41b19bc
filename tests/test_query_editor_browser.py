"""The query editor in headless Chromium, against a real server and the real endpoint."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import WatchedPage, watched_page
from live_server import LiveServer
from playwright.sync_api import Browser, Page, expect

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
    assert link.startswith(live_server.url + "query?query=")
    assert parse_qs(urlsplit(link).query) == {"query": [query]}
    assert parse_qs(urlsplit(page.url).query) == {"query": [query]}, "the address reopens it"
    open_editor(page, link)
    assert editor_text(page) == query
    browser_page.assert_stayed_local()


def test_prefixes_complete_from_this_catalogue(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    open_editor(page, live_server.url + "query?query=")
    page.click("#editor .CodeMirror")
    page.keyboard.type("SELECT * WHERE { ?item wdt:")
    page.wait_for_function(
        # A function, not an expression: Playwright would eval() an expression, which the
        # page's Content-Security-Policy refuses.
        "() => document.querySelector('#editor .CodeMirror').CodeMirror.getValue()"
        ".startsWith('PREFIX')"
    )
    assert editor_text(page).startswith(f"PREFIX wdt: <{live_server.url}prop/direct/>\n")
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


def test_a_bad_query_shows_the_endpoints_message(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    open_editor(page, live_server.url + "query?query=SELECT%20%3Fs%20WHERE%20%7B")
    page.click("#run")
    page.wait_for_function(
        "() => document.querySelector('#query-status').textContent.includes('failed')"
    )
    assert "The query failed" in page.inner_text("#query-status")
    assert page.locator(ROWS).count() == 0


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
    open_editor(page, live_server.url + "query?query=SELECT%20%3Fs%20WHERE%20%7B&uselang=es")
    page.click("#run")
    page.wait_for_function(
        "() => document.querySelector('#query-status').textContent.includes('falló')"
    )
    assert page.inner_text("#query-status").startswith("La consulta falló.")
    browser_page.assert_stayed_local()
