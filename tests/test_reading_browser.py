"""Reading on a 390 px phone in headless Chromium: no word is broken inside (only long
tokens — IRIs, ids, hashes, code, URLs — may wrap), the page never scrolls sideways
(wide tables scroll inside their own box), and the navigation fits the screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import WatchedPage, watched_page
from live_server import LiveServer
from playwright.sync_api import Browser

PHONE = {"width": 390, "height": 844}
PAGES = (
    "",
    "page/Q1200",
    "page/Q1000",
    "page/P5",
    "page/Q1200/history",
    "browse",
    "partnerships",
    "statistics",
    "peers",
    "dataset",
    "dumps/",
)

#: Words in a text node that end up on more than one line. Long tokens may wrap;
#: headings that hyphenate (hyphens: auto) break at syllables, with a hyphen.
BROKEN_WORDS = """() => {
  const longTokens = 'code, pre, .iri, .id, .hash, .visually-hidden, script, style, svg';
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!element || element.closest(longTokens)) continue;
    if (getComputedStyle(element).hyphens === 'auto') continue;
    const link = element.closest('a');
    if (link && /^(https?:|mailto:)/.test(link.textContent.trim())) continue;
    // a hyphen or a slash is a break opportunity, not the inside of a word
    for (const match of node.data.matchAll(/[^\\s\\u00a0\\-\\u2010\\u2013\\u2014\\/]+/g)) {
      if (match[0].length < 2) continue;
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
      const lines = new Set(rects.map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
NAV_OUTSIDE = """() => [...document.querySelectorAll('header.site nav a')]
  .filter(a => { const r = a.getBoundingClientRect();
                 return r.width === 0 || r.left < 0 || r.right > window.innerWidth + 1; })
  .map(a => a.textContent.trim())"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[WatchedPage]:
    with watched_page(browser, viewport=PHONE, is_mobile=True, has_touch=True) as watched:
        yield watched
        watched.assert_stayed_local()


@pytest.mark.parametrize("lang", ["fr", "pt"])
def test_phone_pages_read_whole_words_without_sideways_scrolling(
    phone: WatchedPage, live_server: LiveServer, lang: str
) -> None:
    page = phone.page
    problems = {}
    for path in PAGES:
        page.goto(f"{live_server.url}{path}{'&' if '?' in path else '?'}uselang={lang}")
        broken = page.evaluate(BROKEN_WORDS)
        overflow = page.evaluate(OVERFLOW)
        outside = page.evaluate(NAV_OUTSIDE)
        if broken or overflow > 1 or outside:
            problems[path] = {"broken": broken[:10], "overflow": overflow, "nav": outside}
    assert problems == {}


def test_the_check_sees_a_broken_word(phone: WatchedPage, live_server: LiveServer) -> None:
    """The old rule (overflow-wrap: anywhere on body) breaks words: the check says so."""
    page = phone.page
    page.goto(live_server.url + "page/Q1200")
    page.add_style_tag(content="body, body * { overflow-wrap: anywhere !important; }")
    page.evaluate(
        "() => { const p = document.createElement('p'); p.style.width = '4rem';"
        " p.textContent = 'Partenariats internationalisation'; document.querySelector('main')"
        ".prepend(p); }"
    )
    assert "internationalisation" in page.evaluate(BROKEN_WORDS)


def test_wide_tables_scroll_inside_their_box(phone: WatchedPage, live_server: LiveServer) -> None:
    page = phone.page
    page.goto(live_server.url + "page/Q1200/history")
    box = page.locator(".table-scroll").first
    sizes = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert sizes[0] > sizes[1]  # the table is wider than the screen: it scrolls in its box
    assert page.evaluate(OVERFLOW) <= 1  # and the page itself does not
