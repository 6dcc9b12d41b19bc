"""Every page: one h1, landmarks, languages marked, labelled controls, no outside requests."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from pages_support import Page

from webapp.http.request_args import LANGUAGE_TAG

PAGES = [
    "/",
    "/page/Q1208",
    "/page/Q1001",
    "/page/Q1200?uselang=de",
    "/page/Q2",
    "/page/P22",
    "/page/Q1001/links",
    "/page/Q1/links",
    "/page/Q1208/history",
    "/browse/",
    "/browse/partnerships",
    "/browse/partnerships?P7=Q131&P25=Q141",
    "/browse/people",
    "/search",
    "/search?q=wiki",
    "/search?q=nothing-matches-this",
    "/page/Q999999",
    "/browse/partnerships?P7=Q999999",
    "/recent-changes",
    "/recent-changes?type=people&kind=create",
    "/search?q=Q10010",
]
CONTROLS = {"input", "select", "textarea"}


@pytest.mark.parametrize("path", PAGES)
def test_page_structure(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept-Language": "pt-BR, en;q=0.5"})
    assert response.status_code in (200, 400, 404)
    page = Page(response.get_data(as_text=True))
    for check in CHECKS:
        check(page)


def exactly_one_h1(page: Page) -> None:
    assert len(page.find("h1")) == 1


def landmarks_and_skip_link(page: Page) -> None:
    for tag in ("header", "nav", "main", "footer"):
        assert page.find(tag), f"no <{tag}>"
    [main] = page.find("main")
    skip = page.find("a", class_="skip")
    assert skip and skip[0].attrs["href"] == "#" + main.attrs["id"]
    assert page.elements.index(skip[0]) < page.elements.index(main)
    for nav in page.find("nav"):
        assert nav.attrs.get("aria-label"), "several navs need names"


def languages_are_marked(page: Page) -> None:
    [html] = page.find("html")
    assert html.attrs["lang"] == "pt", "the interface language the reader asked for"
    for element in page.elements:
        lang = element.attrs.get("lang")
        if lang is not None:
            assert lang == "und" or LANGUAGE_TAG.match(lang), (
                f"bad lang {lang!r} on <{element.tag}>"
            )


def every_control_is_labelled(page: Page) -> None:
    labelled = {label.attrs.get("for") for label in page.find("label")}
    for element in page.elements:
        if element.tag not in CONTROLS or element.attrs.get("type") in ("hidden", "submit"):
            continue
        assert (
            element.attrs.get("id") in labelled
            or element.attrs.get("aria-label")
            or element.attrs.get("aria-labelledby")
        ), f"unlabelled <{element.tag} {element.attrs}>"
    for button in page.find("button"):
        assert button.text.strip() or button.attrs.get("aria-label")


def ids_are_unique_and_references_resolve(page: Page) -> None:
    ids = [e.attrs["id"] for e in page.elements if "id" in e.attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for element in page.elements:
        for ref in element.attrs.get("aria-labelledby", "").split():
            assert ref in ids, f"aria-labelledby={ref!r} points nowhere"
        href = element.attrs.get("href", "")
        if element.tag == "a" and href.startswith("#") and len(href) > 1:
            assert href[1:] in ids, f"link to missing #{href[1:]}"


def images_have_alt_text(page: Page) -> None:
    for img in page.find("img"):
        assert "alt" in img.attrs


def nothing_is_loaded_from_other_hosts(page: Page) -> None:
    for element in page.elements:
        if element.tag in ("script", "img", "iframe", "audio", "video", "source"):
            assert not urlsplit(element.attrs.get("src", "")).netloc, element.attrs
        if element.tag == "link" and element.attrs.get("rel") in ("stylesheet", "icon", "preload"):
            assert not urlsplit(element.attrs["href"]).netloc, element.attrs
        style = element.attrs.get("style", "")
        assert not re.search(r"url\(\s*['\"]?https?:", style)
    for script in page.find("script"):  # this site's own files (checked above), or data
        if script.attrs.get("src"):
            continue
        assert script.attrs.get("type") == "application/ld+json", "no inline scripts"


def tables_scroll_and_have_headers(page: Page) -> None:
    for table in page.find("table"):
        assert "div" in table.parents
        assert any(c.tag == "thead" for c in table.children)


CHECKS = (
    exactly_one_h1,
    landmarks_and_skip_link,
    languages_are_marked,
    every_control_is_labelled,
    ids_are_unique_and_references_resolve,
    images_have_alt_text,
    nothing_is_loaded_from_other_hosts,
    tables_scroll_and_have_headers,
)


def test_checks_catch_what_they_look_for() -> None:
    bad = Page(
        '<html lang="en"><body><h1>a</h1><h1>b</h1><p lang="not a tag">x</p>'
        '<input id="x"><input id="x"><img src="https://cdn.example/x.png">'
        "<table><tr><td>1</td></tr></table></body></html>"
    )
    for check in CHECKS:
        with pytest.raises(AssertionError):
            check(bad)


def test_stylesheet_has_focus_styles_and_no_remote_urls(client: FlaskClient) -> None:
    response = client.get("/static/bigtent.css")
    css = response.get_data(as_text=True)
    response.close()
    assert ":focus-visible" in css and "@media (max-width" in css
    assert not re.search(r"url\(|@import|https?://", css)
