"""QuickStatements v1 and QuickStatements CSV imports: the reader, the web flow, the CLI."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, login, staff_app, state

from loader.base.namespaces import Namespaces
from loader.catalogue import Catalogue
from loader.records.quickstatements import Batch, Reader, read_csv
from loader.records.record_model import Value
from tests.conftest import BASE
from webapp.cli import main

NS = Namespaces(BASE)
TYPES = {
    "P1": "WikibaseItem",
    "P5": "WikibaseItem",
    "P6": "WikibaseItem",
    "P9": "Time",
    "P11": "Url",
    "P18": "Url",
    "P22": "ExternalId",
    "P34": "Quantity",
    "P49": "Monolingualtext",
    "P52": "String",
    "P53": "GlobeCoordinate",
}
LANGUAGES = {"en", "fr", "de", "es", "pt"}
USERS = {"bob": "editor"}


def reader(resolve: Any = None) -> Reader:
    return Reader(NS, TYPES, LANGUAGES.__contains__, max_field=200, resolve=resolve)


def qs(text: str) -> Batch:
    return reader().quickstatements(text)


def one_value(text: str, pid: str) -> Value | None:
    batch = qs(f"Q5\t{pid}\t{text}")
    assert not batch.problems, batch.problems
    (edit,) = batch.edits
    assert edit.statement is not None
    return edit.statement.value


# --- the reader ---------------------------------------------------------------------------------
def test_create_last_and_terms() -> None:
    batch = qs(
        'CREATE\nLAST\tLen\t"Open Lab"\nLAST|Lfr|"Labo ouvert"\nLAST\tDen\t"a lab"\nLAST\tAen\tOL'
    )
    assert batch.problems == []
    assert batch.created == 1
    assert [(e.subject, e.line, e.kind, e.language, e.text) for e in batch.edits] == [
        ("#1", 1, "create", None, None),
        ("#1", 2, "labels", "en", "Open Lab"),
        ("#1", 3, "labels", "fr", "Labo ouvert"),
        ("#1", 4, "descriptions", "en", "a lab"),
        ("#1", 5, "aliases", "en", "OL"),
    ]


def test_double_bar_separates_commands_in_one_line() -> None:
    batch = qs('CREATE||LAST|Len|"Open Lab"||LAST|P1|Q1')
    assert batch.problems == []
    assert [(e.line, e.kind) for e in batch.edits] == [
        (1, "create"),
        (2, "labels"),
        (3, "statement"),
    ]
    assert qs("CREATE||LAST|P1|nonsense").problems[0].startswith("line 2, field 3:")


def test_every_value_kind() -> None:
    assert one_value("Q1001", "P5") == Value(NS.entity("Q1001"))
    assert one_value('"https://example.org/a"', "P11") == Value(
        ox.NamedNode("https://example.org/a")
    )
    piped = qs('Q5|P52|"a|b"').edits[0].statement
    assert piped is not None and piped.value == Value(ox.Literal("a|b")), "| inside quotes"
    assert one_value("https://example.org/", "P18") == Value(ox.NamedNode("https://example.org/"))
    assert one_value('"Q42"', "P22") == Value(ox.Literal("Q42"))
    assert one_value('fr:"texte"', "P49") == Value(ox.Literal("texte", language="fr"))
    xsd = "http://www.w3.org/2001/XMLSchema#"
    month = one_value("+2009-03-00T00:00:00Z/10", "P9")
    assert month is not None and month.precision == 10
    assert month.term == ox.Literal("2009-03-01T00:00:00Z", datatype=ox.NamedNode(xsd + "dateTime"))
    year = one_value("+1990-00-00T00:00:00Z/9", "P9")
    assert year is not None and year.precision == 9
    day = one_value("+2012-05-03T00:00:00Z/11", "P9")
    assert day is not None and day.precision == 11 and day.term.value.startswith("2012-05-03")
    quantity = one_value("-2.5", "P34")
    assert quantity == Value(ox.Literal("-2.5", datatype=ox.NamedNode(xsd + "decimal")))
    point = one_value("@48.8566/2.3522", "P53")
    assert point is not None and point.geo_precision == "0.0001"
    assert "2.3522 48.8566" in point.term.value
    assert one_value("novalue", "P5") is None
    some = one_value("somevalue", "P5")
    assert some is not None and isinstance(some.term, ox.BlankNode)


def test_qualifiers_and_sources() -> None:
    batch = qs(
        "Q1200\tP5\tQ1001\tP6\tQ115\tP9\t+2009-03-00T00:00:00Z/10"
        '\tS18\t"https://example.org/source"\tS9\t+2020-01-01T00:00:00Z/11'
    )
    assert batch.problems == []
    statement = batch.edits[0].statement
    assert statement is not None
    assert [q.property for q in statement.qualifiers] == ["P6", "P9"]
    (reference,) = statement.references
    assert [s.property for s in reference.snaks] == ["P9", "P18"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'Q5\tP5\tQ1\nQ5\tP5\t"x"',
            r"line 2, field 3: P5 does not take string values: write an item id",
        ),
        ('\n\nLAST\tLen\t"x"', r"line 3, field 1: LAST names the item of the last CREATE"),
        ("-Q5\tP5\tQ1", r"line 1, field 1: removals .* are not imported"),
        ("Q5\tP9\t+2009-13-00T00:00:00Z/10", r"line 1, field 3: P9: .*(month|date)"),
        ("Q5\tP9\t+2009-00-00T00:00:00Z/11", r"line 1, field 3: .* precision 11 but no month"),
        ("Q5\tP9\t2009-03", r"line 1, field 3: '2009-03' is not a value P9 takes: write a time"),
        ("Q5\tP34\t12U11573", r"line 1, field 3: P34 would get the unit Q11573: .* plain numbers"),
        ("Q5\tP34\t12~0.5", r"line 1, field 3: .* without bounds"),
        ("Q5\tP53\t@95/2", r"line 1, field 3: P53: the latitude must be between -90 and 90"),
        ("Q5\tP99\tQ1", r"line 1, field 2: there is no property P99"),
        ('Q5\tLxx\t"x"', r"line 1, field 2: 'xx' is not a language of this catalogue"),
        ("Q5\tP5\tQ1\tP6", r"line 1, field 4: 'P6' has no value"),
        ("Q5\tP5\tQ1\tX6\tQ1", r"line 1, field 4: 'X6' is not a qualifier \(Pxx\) or a source"),
        ('Q5\tP52\t"open', r"line 1, field 3: a double quote is not closed"),
        ("Hello\tP5\tQ1", r"line 1, field 1: 'Hello' is not a command"),
        ("Q5\tP5\tLAST", r"line 1, field 3: LAST can only begin a line"),
        ('Q5\tP49\tzz:"x"', r"line 1, field 3: P49: 'zz' is not a known language code"),
        ('Q5\tSenwiki\t"x"', r"line 1, field 2: site links"),
        (
            "Q5\tP5\t" + "Q1" * 200,
            r"line 1: the line is 406 characters long, more than MAX_LITERAL_BYTES",
        ),
    ],
)
def test_bad_input_names_line_and_field(text: str, expected: str) -> None:
    batch = qs(text)
    assert len(batch.problems) == 1, batch.problems
    assert re.search(expected, batch.problems[0]), batch.problems[0]


def test_csv_columns() -> None:
    names: list[tuple[str, str, int, str]] = []

    def resolve(text: str, pid: str, line: int, column: str) -> str | None:
        names.append((text, pid, line, column))
        return "Q1001" if text == "Wikimedia Deutschland" else None

    text = (
        "qid,Len,Lfr,P1,P5,qal6,S18,P9\n"
        ",Open Lab,Labo ouvert,Q1,Wikimedia Deutschland,Q115,https://example.org/s,2009-03\n"
        "Q1200,,,,Someone Unknown,,,\n"
    )
    batch = read_csv(reader(resolve), text)
    assert batch.problems == []
    assert [(e.subject, e.kind) for e in batch.edits] == [
        ("#1", "create"),
        ("#1", "labels"),
        ("#1", "labels"),
        ("#1", "statement"),
        ("#1", "statement"),
        ("#1", "statement"),
    ]
    participant = batch.edits[4].statement
    assert participant is not None and participant.value == Value(NS.entity("Q1001"))
    assert [q.property for q in participant.qualifiers] == ["P6"]
    assert [s.property for s in participant.references[0].snaks] == ["P18"]
    assert batch.unresolved == {"Q1200": [3]}
    assert names[1] == ("Someone Unknown", "P5", 3, "column 5 (P5)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Len,P1\nx,Q1\n", r"line 1: the header has no qid column"),
        ("qid,qal6\n", r"line 1, column 2 .*: a qualifier column follows the statement column"),
        ("qid,Foo\n", r"line 1, column 2 \('Foo'\): is not a column"),
        ("qid,P9\nQ5,yesterday\n", r"line 2, column 2 \(P9\): 'yesterday' is not a value P9 takes"),
        ("qid,P1\nQ5,Q1,extra\n", r"line 2, column 3: the row has more cells"),
    ],
)
def test_bad_csv_names_line_and_column(text: str, expected: str) -> None:
    batch = read_csv(reader(), text)
    assert len(batch.problems) == 1, batch.problems
    assert re.search(expected, batch.problems[0]), batch.problems[0]


# --- the web flow -------------------------------------------------------------------------------
ORGANISATION_AND_PARTNERSHIP = (
    "CREATE\n"
    'LAST\tLen\t"Open Lab Berlin"\n'
    'LAST\tLfr\t"Laboratoire ouvert de Berlin"\n'
    'LAST\tDen\t"community workshop"\n'
    "LAST\tP1\tQ1\n"
    "LAST\tP53\t@52.5200/13.4050\n"
    "CREATE\n"
    'LAST|Len|"Open Lab – Wikimedia Deutschland partnership"\n'
    "LAST\tP1\tQ4\n"
    "LAST\tP5\tQ1000\n"
    'LAST\tP5\tQ1001\tP6\tQ115\tS18\t"https://example.org/agreement"\n'
    "LAST\tP9\t+2009-03-00T00:00:00Z/10\n"
)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS, IMPORT_MAX_BYTES=20_000)


@pytest.fixture
def bob(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    return client, login(client, "bob")


def send(client: FlaskClient, token: str, body: str, name: str, **form: str) -> Any:
    return client.post(
        "/import",
        data={"csrf_token": token, "file": (io.BytesIO(body.encode()), name), **form},
        content_type="multipart/form-data",
    )


def report_rows(response: Any) -> dict[str, tuple[str, str, str]]:
    doc = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    rows = {}
    for tr in doc.select("table.import-report tbody tr"):
        cells = tr.find_all("td")
        rows[tr.th.get_text(strip=True)] = (
            cells[0].get_text(strip=True),
            cells[1].get_text(strip=True),
            cells[2].get_text(" "),
        )
    return rows


def confirm(client: FlaskClient, token: str, page: Any) -> Any:
    doc = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    form = doc.find("form", action=re.compile(r"/confirm$"))
    assert form is not None, page.get_data(as_text=True)
    return client.post(form["action"], data={"csrf_token": token})


def test_quickstatements_upload_report_confirm(app: Flask, bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    cat = catalogue(app)
    before = state(cat)
    first = int(cat.editor.next_id("Q")[1:])
    org, partnership = f"Q{first}", f"Q{first + 1}"
    sent = send(client, token, ORGANISATION_AND_PARTNERSHIP, "partners.qs", summary="QS batch")
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert state(cat) == before, "the report writes nothing"
    page = client.get(sent.headers["Location"])
    rows = report_rows(page)
    assert rows[org][:2] == ("1", "new"), rows
    assert rows[partnership][:2] == ("7", "new"), rows
    done = confirm(client, token, page)
    assert done.status_code == 303, done.get_data(as_text=True)
    made = client.get(f"/api/entity/{org}").get_json()
    assert made["labels"] == {"en": "Open Lab Berlin", "fr": "Laboratoire ouvert de Berlin"}
    assert made["descriptions"] == {"en": "community workshop"}
    (where,) = [s for s in made["statements"] if s["property"] == "P53"]
    assert where["value"]["latitude"] == 52.52 and where["value"]["precision"] == 0.0001
    deal = client.get(f"/api/entity/{partnership}").get_json()
    parties = {s["value"]: s for s in deal["statements"] if s["property"] == "P5"}
    assert set(parties) == {"Q1000", "Q1001"}
    assert parties["Q1001"]["qualifiers"] == [{"property": "P6", "value": "Q115"}]
    assert parties["Q1001"]["references"] == [
        [{"property": "P18", "value": "https://example.org/agreement"}]
    ]
    (start,) = [s for s in deal["statements"] if s["property"] == "P9"]
    assert start["value"] == "2009-03"
    history = client.get(f"/api/entity/{org}/history").get_json()["revisions"][0]
    assert (history["author"], history["summary"]) == ("bob", "Imported from partners.qs: QS batch")
    assert cat.revisions.count() == before[0] + 2


def test_quickstatements_adds_to_an_existing_record(
    app: Flask, bob: tuple[FlaskClient, str]
) -> None:
    client, token = bob
    old = client.get("/api/entity/Q1200").get_json()
    body = (
        'Q1200\tLfr\t"Partenariat Bundesarchiv"\n'
        'Q1200\tP5\tQ1001\tP6\tQ115\tS18\t"https://example.org/more"\n'
    )
    page = client.get(send(client, token, body, "more.tsv").headers["Location"])
    assert report_rows(page)["Q1200"][1] == "changed"
    assert confirm(client, token, page).status_code == 303
    new = client.get("/api/entity/Q1200").get_json()
    assert new["labels"]["fr"] == "Partenariat Bundesarchiv"
    assert new["labels"]["en"] == old["labels"]["en"]
    parties = [s for s in new["statements"] if s["property"] == "P5"]
    assert len(parties) == len([s for s in old["statements"] if s["property"] == "P5"])
    (wmde,) = [s for s in parties if s["value"] == "Q1001"]
    assert [{"property": "P18", "value": "https://example.org/more"}] in wmde["references"]
    assert len(wmde["references"]) == 2, "the line's source is added to the statement"


def test_quickstatements_errors_refuse_the_file(app: Flask, bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    before = state(catalogue(app))
    sent = send(client, token, "CREATE\nLAST\tP9\tyesterday\n", "bad.qs")
    assert sent.status_code == 422
    text = BeautifulSoup(sent.get_data(as_text=True), "html.parser").get_text(" ")
    assert "line 2, field 3: 'yesterday' is not a value P9 takes" in text
    assert state(catalogue(app)) == before


def test_format_chosen_on_the_form(app: Flask, bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    sent = send(client, token, 'Q1200\tLfr\t"Partenariat"\n', "batch.txt", format="qs")
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert report_rows(client.get(sent.headers["Location"]))["Q1200"][1] == "changed"


def test_new_ids_taken_meanwhile_give_a_new_report(
    app: Flask, bob: tuple[FlaskClient, str]
) -> None:
    client, token = bob
    cat = catalogue(app)
    page = client.get(send(client, token, ORGANISATION_AND_PARTNERSHIP, "p.qs").headers["Location"])
    first = int(cat.editor.next_id("Q")[1:])
    assert f"Q{first}" in report_rows(page)
    editor = cat.editor
    editor.create(
        lambda e: editor.read_json(
            {"labels": {"en": "Other lab"}, "statements": [{"property": "P1", "value": "Q1"}]}, e
        ),
        author="alice",
    )
    before = state(cat)
    stale = confirm(client, token, page)
    assert stale.status_code == 409
    assert state(cat) == before, "nothing written over the id someone else took"
    rows = report_rows(stale)
    assert rows[f"Q{first + 1}"][:2] == ("1", "new") and f"Q{first + 2}" in rows
    assert confirm(client, token, stale).status_code == 303
    assert cat.revisions.count() == before[0] + 2


def test_invalid_record_is_rejected_with_its_line(app: Flask, bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    body = "Q1200\tP5\tQ999999\n"
    page = client.get(send(client, token, body, "x.qs").headers["Location"])
    line, verdict, problems = report_rows(page)["Q1200"]
    assert (line, verdict) == ("1", "rejected")
    assert "Q999999 does not exist" in problems


def test_csv_reconciles_names(app: Flask, bob: tuple[FlaskClient, str]) -> None:
    client, token = bob
    cat = catalogue(app)
    first = int(cat.editor.next_id("Q")[1:])
    body = (
        "qid,Len,Lde,P1,P5,S18,P5,qal6,P7\n"
        ",Archive partnership,Archivpartnerschaft,Q4,Wikimedia Foundation,https://example.org/a,"
        "Wikimedia Deutschland,Q115,Q131\n"
        ",Second partnership,,Q4,Wikimedia,,Q1002,,Q131\n"
    )
    sent = send(client, token, body, "partners.csv")
    assert sent.status_code == 303, sent.get_data(as_text=True)
    page = client.get(sent.headers["Location"])
    doc = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    names = {
        tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in doc.select("table.import-names tbody tr")
    }
    assert names["Wikimedia Foundation"][:3] == ["2", "column 5 (P5)", "Q1000"], names
    assert names["Wikimedia Deutschland"][:3] == ["2", "column 7 (P5)", "Q1001"], names
    ambiguous = names["Wikimedia"]
    assert ambiguous[0] == "3" and "Q1000" in ambiguous[3] and "Q1001" in ambiguous[3]
    assert "P54" not in ambiguous[3], "an item column is offered items only"
    assert "could not be matched" in doc.select_one("[role=alert]").get_text()
    rows = report_rows(page)
    made, waiting = f"Q{first}", f"Q{first + 1}"
    assert rows[made][:2] == ("2", "new"), rows
    assert waiting in rows and rows[waiting][:2] == ("3", "rejected")
    assert "'Wikimedia' is not matched with certainty" in rows[waiting][2]
    json_report = client.get(sent.headers["Location"] + "?format=json").get_json()
    assert [n["chosen"] for n in json_report["names"]] == ["Q1000", "Q1001", None]
    assert confirm(client, token, page).status_code == 303
    deal = client.get(f"/api/entity/{made}").get_json()
    assert deal["labels"] == {"en": "Archive partnership", "de": "Archivpartnerschaft"}
    parties = {s["value"]: s for s in deal["statements"] if s["property"] == "P5"}
    assert parties["Q1000"]["references"] == [
        [{"property": "P18", "value": "https://example.org/a"}]
    ]
    assert parties["Q1001"]["qualifiers"] == [{"property": "P6", "value": "Q115"}]
    assert client.get(f"/api/entity/{waiting}").status_code == 404, "left out until resolved"


# --- the command line ---------------------------------------------------------------------------
@pytest.fixture
def data_dir(catalogue: Catalogue) -> Path:
    catalogue.close()
    return catalogue.settings.data_dir


def test_cli_loads_quickstatements(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "org.qs"
    path.write_text('CREATE\nLAST\tLen\t"Open Lab"\nLAST\tLfr\t"Labo ouvert"\nLAST\tP1\tQ1\n')
    cli = ["--data-dir", str(data_dir), "--base-url", BASE]
    assert main([*cli, "load", "--dry-run", str(path)]) == 0
    assert "would load 1 record(s) (1 new, 0 changed)" in capsys.readouterr().out
    assert main([*cli, "load", "--author", "carol", str(path)]) == 0
    assert "loaded 1 record(s) (1 new, 0 changed)" in capsys.readouterr().out
    bad = tmp_path / "bad.qs"
    bad.write_text("Q1\tP5\tnonsense\n")
    assert main([*cli, "load", str(bad)]) == 1
    assert "line 1, field 3: 'nonsense' is not a value P5 takes" in capsys.readouterr().err
    table = tmp_path / "more.csv"
    table.write_text("qid,Aes\nQ1,entidad\n")
    assert main([*cli, "load", "--author", "carol", str(table)]) == 0
    assert "loaded 1 record(s) (0 new, 1 changed)" in capsys.readouterr().out
    with Catalogue.open(catalogue_settings(data_dir)) as cat:
        found = [
            r.entity
            for r in cat.revisions.recent(5)
            if r.author == "carol" and r.summary == "Imported from org.qs"
        ]
        assert len(found) == 1
        model, _rev = cat.editor.current(found[0])
        assert model.labels == {"en": "Open Lab", "fr": "Labo ouvert"}


def catalogue_settings(data_dir: Path) -> Any:
    from loader.base.settings import load_settings

    return load_settings(None, overrides={"DATA_DIR": str(data_dir), "BASE_URL": BASE})
