"""Every kind of bad input: a clear message, exit code 1, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loader.catalogue import Catalogue
from tests.conftest import PREFIXES
from webapp.cli import main

GOOD_ORG = """
wd:Q5000 a wikibase:Item ; rdfs:label "Open Knowledge Lab"@en ; wdt:P1 wd:Q1 .
"""


def _state(cat: Catalogue) -> tuple[int, int]:
    return cat.revisions.count(), len(list(cat.store.graph_names()))


def _load(
    cat: Catalogue, path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str]:
    """Run `bigtent load` in-process against the catalogue's data directory."""
    data_dir = str(cat.settings.data_dir)
    base = cat.settings.BASE_URL
    cat.close()  # the CLI opens the store itself
    code = main(["--data-dir", data_dir, "--base-url", base, "load", str(path), *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def _reopen(cat: Catalogue) -> Catalogue:
    return Catalogue.open(cat.settings)


def _assert_rejected(
    cat: Catalogue,
    path: Path,
    capsys: pytest.CaptureFixture[str],
    *needles: str,
    flags: tuple[str, ...] = (),
) -> str:
    """Load ``path`` with the CLI: exit code 1, every needle in the report, and nothing
    written (no revision, no graph). Returns the report."""
    before = _state(cat)
    code, output = _load(cat, path, capsys, *flags)
    assert code == 1, output
    for needle in needles:
        assert needle.lower() in output.lower(), output
    with _reopen(cat) as reopened:
        assert _state(reopened) == before
    return output


CASES: dict[str, tuple[str, str, list[str]]] = {
    # name: (file name, body, substrings the report must contain)
    "unknown property": (
        "a.ttl",
        """
        wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ; wdt:P999 "x" .""",
        ["Q5000", "P999"],
    ),
    "string where a time is required": (
        "a.ttl",
        """
        wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
                 wdt:P48 "last spring" .""",
        ["Q5000", "P48"],
    ),
    "statement with no value": (
        "a.ttl",
        """
        wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
                 p:P12 [ pq:P9 "2001"^^xsd:gYear ] .""",
        ["Q5000", "value"],
    ),
    "unlabelled entity": (
        "a.ttl",
        """
        wd:Q5000 a wikibase:Item ; wdt:P1 wd:Q1 .""",
        ["Q5000", "label"],
    ),
    "statement with two ranks": (
        "a.ttl",
        """
        wd:Q5000 a wikibase:Item ; rdfs:label "Lab"@en ; wdt:P1 wd:Q1 ;
                 p:P11 [ ps:P11 <https://lab.example.org/> ;
                         wikibase:rank wikibase:NormalRank, wikibase:PreferredRank ] .""",
        ["Q5000", "rank"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_record_is_rejected_and_nothing_is_written(
    case: str,
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    name, body, expected = CASES[case]
    _assert_rejected(catalogue, write_ttl(name, body), capsys, *expected, "a.ttl")


def test_syntax_error_reports_line_and_column(
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_ttl("broken.ttl", GOOD_ORG + '\nwd:Q5001 rdfs:label "unterminated .\n')
    line = PREFIXES.count("\n") + GOOD_ORG.count("\n") + 2  # the unterminated string
    # Not even the good record before the error is written.
    _assert_rejected(catalogue, path, capsys, f"broken.ttl, line {line}, column", "syntax error")


def test_record_writing_about_another_entity_is_rejected(
    catalogue: Catalogue,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "records.trig"
    path.write_text(
        "@prefix wd: <https://bigtent.example.org/entity/> .\n"
        "@prefix wdata: <https://bigtent.example.org/data/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'wdata:Q5000 { wd:Q5000 rdfs:label "Lab"@en . wd:Q5001 rdfs:label "Other"@en . }\n',
        encoding="utf-8",
    )
    _assert_rejected(catalogue, path, capsys, "Q5000", "Q5001", "own entity")


def test_statement_of_another_entity_is_rejected(
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = GOOD_ORG.replace(
        " .\n", " ;\n  p:P11 wds:Q5001-aaaa .\nwds:Q5001-aaaa ps:P11 <https://x.example/> .\n"
    )
    _assert_rejected(catalogue, write_ttl("a.ttl", body), capsys, "belongs to Q5001")


def test_two_records_for_one_entity_in_one_file(
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = (
        GOOD_ORG
        + """
wd:Q5001 a wikibase:Item ; rdfs:label "Another"@en ; wdt:P1 wd:Q1 .
wd:Q5000 schema:description "described again"@en .
"""
    )
    _assert_rejected(catalogue, write_ttl("twice.ttl", body), capsys, "Q5000 is described twice")


def test_empty_file(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.ttl"
    path.write_text("", encoding="utf-8")
    _assert_rejected(catalogue, path, capsys, "empty.ttl", "no records")


def test_unsupported_format(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "partners.xlsx"  # CSV is read since QuickStatements-style imports
    path.write_bytes(b"PK\x03\x04 not a format Bigtent reads")
    _assert_rejected(catalogue, path, capsys, "partners.xlsx", "unsupported format", "--format")


def test_a_csv_without_known_columns_names_the_column(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "partners.csv"
    path.write_text("name,country\nLab,DE\n", encoding="utf-8")
    _assert_rejected(catalogue, path, capsys, "partners.csv", "line 1, column 1 ('name')")


def test_orphan_statement_is_rejected(
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = GOOD_ORG + "wds:lost-statement ps:P11 <https://x.example/> .\n"
    _assert_rejected(
        catalogue, write_ttl("orphan.ttl", body), capsys, "not connected to any entity"
    )


def test_all_or_nothing_rejects_the_whole_batch(
    catalogue: Catalogue,
    write_ttl: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = GOOD_ORG + "wd:Q5001 a wikibase:Item ; wdt:P1 wd:Q1 .\n"  # Q5001 has no label
    path = write_ttl("batch.ttl", body)
    _assert_rejected(catalogue, path, capsys, "Q5001", flags=("--all-or-nothing",))
    code, _ = _load(catalogue, path, capsys)  # without the flag the good record loads
    assert code == 1
    with _reopen(catalogue) as cat:
        assert cat.revisions.state("Q5000") is not None
        assert cat.revisions.state("Q5001") is None
