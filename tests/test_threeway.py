"""Three-way merge of records, field by field, and the JSON values of the record model."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from loader.base.languages import LanguageTags
from loader.base.namespaces import Namespaces
from loader.records.record_model import (
    JsonReader,
    RecordModel,
    Reference,
    Snak,
    Statement,
    Value,
    parse_time,
    value_json,
)
from loader.records.threeway import merge3
from tests.conftest import BASE

NS = Namespaces(BASE)


def item(eid: str) -> Value:
    return Value(NS.entity(eid))


def test_labels_merge_per_language_and_conflict_only_when_both_change_one() -> None:
    base = RecordModel("Q1", labels={"en": "Lab", "fr": "Labo"})
    theirs = RecordModel("Q1", labels={"en": "Open Lab", "fr": "Labo"})
    mine = RecordModel("Q1", labels={"en": "Lab", "fr": "Laboratoire", "de": "Labor"})
    merged, conflicts = merge3(base, theirs, mine)
    assert conflicts == []
    assert merged.labels == {"en": "Open Lab", "fr": "Laboratoire", "de": "Labor"}
    mine.labels["en"] = "The Lab"
    _, conflicts = merge3(base, theirs, mine)
    assert [(c.field, c.language, c.theirs, c.mine) for c in conflicts] == [
        ("labels", "en", "Open Lab", "The Lab")
    ]
    same = RecordModel("Q1", labels={"en": "Open Lab", "fr": "Labo"})
    assert merge3(base, theirs, same)[1] == []  # both made the same change


def test_removing_a_label_they_left_alone_merges() -> None:
    base = RecordModel("Q1", labels={"en": "Lab", "fr": "Labo"})
    theirs = RecordModel("Q1", labels={"en": "Open Lab", "fr": "Labo"})
    mine = RecordModel("Q1", labels={"en": "Lab"})
    merged, conflicts = merge3(base, theirs, mine)
    assert conflicts == [] and merged.labels == {"en": "Open Lab"}


def test_aliases_merge_as_sets() -> None:
    base = RecordModel("Q1", aliases={"en": ["A", "B"]})
    theirs = RecordModel("Q1", aliases={"en": ["A", "B", "C"]})
    mine = RecordModel("Q1", aliases={"en": ["B", "D"], "fr": ["E"]})
    merged, conflicts = merge3(base, theirs, mine)
    assert conflicts == []
    assert merged.aliases == {"en": ["B", "C", "D"], "fr": ["E"]}


def test_statements_merge_by_id() -> None:
    ref = Reference((Snak("P18", Value(ox.NamedNode("https://a.example/"))),))
    s1 = Statement("Q1-1", "P5", item("Q10"))
    s2 = Statement("Q1-2", "P7", item("Q131"))
    base = RecordModel("Q1", statements=[s1, s2])
    theirs = RecordModel(
        "Q1",
        statements=[
            Statement("Q1-1", "P5", item("Q10"), qualifiers=(Snak("P6", item("Q110")),)),
            s2,
            Statement("Q1-3", "P9", None),
        ],
    )
    mine = RecordModel(
        "Q1",
        statements=[
            Statement("Q1-1", "P5", item("Q10"), rank="preferred", references=(ref,)),
            Statement("Q1-4", "P7", item("Q132")),
        ],
    )  # I removed Q1-2 and added Q1-4
    merged, conflicts = merge3(base, theirs, mine)
    assert conflicts == []
    by_id = {s.id: s for s in merged.statements}
    assert set(by_id) == {"Q1-1", "Q1-3", "Q1-4"}
    assert by_id["Q1-1"].rank == "preferred"
    assert by_id["Q1-1"].qualifiers == (Snak("P6", item("Q110")),)
    assert by_id["Q1-1"].references == (ref,)


def test_the_same_new_statement_added_by_both_is_kept_once() -> None:
    base = RecordModel("Q1")
    theirs = RecordModel("Q1", statements=[Statement("Q1-a", "P7", item("Q131"))])
    mine = RecordModel("Q1", statements=[Statement("Q1-b", "P7", item("Q131"))])
    merged, conflicts = merge3(base, theirs, mine)
    assert conflicts == [] and [s.id for s in merged.statements] == ["Q1-a"]


def test_other_triples_merge_as_a_set() -> None:
    me = NS.entity("P1000")
    a = (me, ox.NamedNode("http://wikiba.se/ontology#propertyType"), NS.entity("Q1"))
    b = (me, ox.NamedNode("http://example.org/x"), ox.Literal("x"))
    merged, _ = merge3(
        RecordModel("P1000", other=[a]),
        RecordModel("P1000", other=[a, b]),
        RecordModel("P1000", other=[]),
    )
    assert merged.other == [b]


# --- JSON values ---------------------------------------------------------------------------

TYPES = {
    "P9": "Time",
    "P34": "Quantity",
    "P49": "Monolingualtext",
    "P11": "Url",
    "P5": "WikibaseItem",
    "P41": "String",
    "P51": "Url",
}


def read(value: object, prop: str) -> Value | None:
    reader = JsonReader(NS, TYPES, LanguageTags().ok)
    found = reader.value("v", prop, value)
    if found is None:
        raise ValueError(reader.problems[0].message)
    return found


@pytest.mark.parametrize(
    ("text", "lexical", "precision"),
    [
        ("2012", "2012-01-01T00:00:00Z", 9),
        ("2012-05", "2012-05-01T00:00:00Z", 10),
        ("2012-05-03", "2012-05-03T00:00:00Z", 11),
        ("2012-05-03T10:20:30Z", "2012-05-03T10:20:30Z", 14),
        ("-0044-03-15", "-0044-03-15T00:00:00Z", 11),
    ],
)
def test_dates_keep_their_precision(text: str, lexical: str, precision: int) -> None:
    value = parse_time(text)
    assert (value.term.value, value.precision) == (lexical, precision)
    assert value_json(value, "Time") == text


def test_other_precisions_as_objects() -> None:
    value = read({"time": "1990", "precision": 8}, "P9")  # a decade
    assert value is not None and value.precision == 8
    assert value_json(value, "Time") == {"time": "1990-01-01T00:00:00Z", "precision": 8}


@pytest.mark.parametrize(
    ("raw", "prop", "message"),
    [
        ("2012-5", "P9", "is not a date"),
        ("1e5", "P34", "not a number"),
        (True, "P34", "must be a number"),
        ({"text": "x"}, "P49", '{"text"'),
        ({"text": "x", "language": "xx"}, "P49", "not a known language"),
        ("ftp://files.example/", "P11", "http"),
        ("Q5", "P41", None),
        ("P5", "P5", "an item id"),
    ],
)
def test_values_are_read_as_their_property_type(
    raw: object, prop: str, message: str | None
) -> None:
    if message is None:
        assert read(raw, prop) == Value(ox.Literal("Q5"))
        return
    with pytest.raises(ValueError, match=message):
        read(raw, prop)


def test_quantities_keep_their_lexical_form() -> None:
    value = read("+3", "P34")
    assert value is not None and value.term == ox.Literal(
        "+3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")
    )
    number = read(2.5, "P34")
    assert number is not None and number.term.value == "2.5"
