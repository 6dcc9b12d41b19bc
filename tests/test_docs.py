"""The documentation as a reader follows it: the README opens with a tour for visitors
(three pictures, each small), staff and operators have pages of their own under docs/,
and every relative link and anchor between these files leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: The Markdown a reader moves between; links among them are checked.
PAGES = [
    README,
    ROOT / "SECURITY.md",
    ROOT / "ontology" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
PICTURE_BYTES = 150 * 1024


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor of a Markdown file: its headings' (GitHub numbers repeated ones) and
    explicit HTML ones (``<a id="…">``)."""
    text = FENCE.sub("", page.read_text("utf-8"))
    seen: dict[str, int] = {}
    found = set(re.findall(r"<a (?:id|name)=\"([^\"]+)\"", text))
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def test_slugs_follow_github() -> None:
    assert slug("People's data") == "peoples-data"
    assert slug("Querying in the browser: `/query`") == "querying-in-the-browser-query"
    assert slug("History, diffs, restoring and bulk import (web pages)") == (
        "history-diffs-restoring-and-bulk-import-web-pages"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    text = FENCE.sub("", page.read_text("utf-8"))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: outside this check
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(ROOT)}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert broken == [], f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_readme_opens_with_a_tour_for_visitors() -> None:
    text = README.read_text("utf-8")
    first = text.index("\n## ")
    tour_start = text.index("## A short tour")
    assert tour_start == first + 1, "the tour is the README's first section"
    tour = text[tour_start : text.index("\n## ", tour_start + 1)]
    pictures = IMAGE.findall(tour)
    assert [Path(src).name for _alt, src in pictures] == [
        "home.png",
        "organisation.png",
        "map.png",
    ]
    for alt, src in pictures:
        assert alt.strip(), f"{src} needs alternative text"
        picture = ROOT / src
        assert picture.read_bytes().startswith(b"\x89PNG"), src
        assert picture.stat().st_size <= PICTURE_BYTES, f"{src} is over 150 KB"


def test_staff_and_operators_have_their_own_pages() -> None:
    readme = README.read_text("utf-8")
    staff = ROOT / "docs" / "staff.md"
    operators = [ROOT / "docs" / "deployment.md", ROOT / "docs" / "operations.md"]
    for page in (staff, *operators):
        assert page.is_file(), page
        assert f"docs/{page.name}" in readme, f"the README links docs/{page.name}"
    staff_anchors = anchors(staff)
    for section in (
        "staff-accounts-and-editing-api",
        "editing-in-the-browser",
        "history-diffs-restoring-and-bulk-import-web-pages",
        "peoples-data",
    ):
        assert section in staff_anchors and section not in anchors(README), section
    deployment = anchors(operators[0])
    for section in ("deployment-at-scale", "postgresql", "backups-and-restore"):
        assert section in deployment and section not in anchors(README), section
    # what every reader needs stays in the README: the two commands and the settings
    for section in ("the-two-commands", "configuration", "translating-the-interface"):
        assert section in anchors(README), section
