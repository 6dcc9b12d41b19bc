"""Diffs between revisions: terms, aliases, statements, qualifiers, references."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from loader.base.errors import BigtentError
from loader.base.namespaces import Namespaces
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.publish.revision_diffs import diff_revisions
from loader.records.diff import diff_models
from loader.records.record_model import RecordModel, Reference, Snak, Statement, Value
from tests.conftest import BASE

NS = Namespaces(BASE)


def item(eid: str) -> Value:
    return Value(NS.entity(eid))


def url(text: str) -> Value:
    return Value(ox.NamedNode(text))


def test_terms_and_aliases_per_language() -> None:
    old = RecordModel("Q1", labels={"en": "Lab", "fr": "Labo"}, aliases={"en": ["L", "The Lab"]})
    new = RecordModel("Q1", labels={"en": "Open Lab", "de": "Labor"}, aliases={"en": ["L", "OL"]})
    diff = diff_models(old, new)
    assert [(t.kind, t.language, t.old, t.new) for t in diff.terms] == [
        ("label", "de", None, "Labor"),
        ("label", "en", "Lab", "Open Lab"),
        ("label", "fr", "Labo", None),
    ]
    [aliases] = diff.aliases
    assert (aliases.language, aliases.added, aliases.removed) == ("en", ["OL"], ["The Lab"])
    assert not diff_models(old, old).terms and diff_models(old, old).empty


def test_statements_added_removed_and_changed_part_by_part() -> None:
    source = Reference((Snak("P18", url("https://a.example/")),))
    other_source = Reference((Snak("P18", url("https://b.example/")),))
    kept = Statement(
        "Q1-a", "P5", item("Q10"), qualifiers=(Snak("P6", item("Q110")),), references=(source,)
    )
    gone = Statement("Q1-b", "P7", item("Q131"))
    old = RecordModel("Q1", statements=[kept, gone])
    changed = Statement(
        "Q1-a",
        "P5",
        item("Q10"),
        rank="preferred",
        qualifiers=(Snak("P6", item("Q111")),),
        references=(source, other_source),
    )
    added = Statement("Q1-c", "P9", None)  # "no value"
    new = RecordModel("Q1", statements=[changed, added])
    diff = diff_models(old, new, 1, 2)
    by_kind = {c.change: c for c in diff.statements}
    assert set(by_kind) == {"changed", "removed", "added"}
    change = by_kind["changed"]
    assert change.parts == ["rank", "qualifiers", "references"]
    assert change.qualifiers_added == [Snak("P6", item("Q111"))]
    assert change.qualifiers_removed == [Snak("P6", item("Q110"))]
    assert change.references_added == [other_source] and change.references_removed == []
    assert by_kind["removed"].old == gone and by_kind["added"].new == added
    data = diff.as_dict(
        {
            "P5": "WikibaseItem",
            "P6": "WikibaseItem",
            "P7": "WikibaseItem",
            "P9": "Time",
            "P18": "Url",
        }
    )
    assert data["from"] == 1 and data["to"] == 2
    statements: list[dict[str, Any]] = data["statements"]  # type: ignore[assignment]
    changed_json = next(s for s in statements if s["change"] == "changed")
    assert changed_json["qualifiers_added"] == [{"property": "P6", "value": "Q111"}]
    assert changed_json["references_added"] == [
        [{"property": "P18", "value": "https://b.example/"}]
    ]
    added_json = next(s for s in statements if s["change"] == "added")
    assert added_json["new"]["novalue"] is True


def test_a_statement_with_a_new_id_but_the_same_value_is_a_change() -> None:
    old = RecordModel("Q1", statements=[Statement("Q1-a", "P7", item("Q131"))])
    new = RecordModel("Q1", statements=[Statement("Q1-z", "P7", item("Q131"), rank="deprecated")])
    [change] = diff_models(old, new).statements
    assert change.change == "changed" and change.parts == ["rank"]


@pytest.fixture
def demo(
    demo_template: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> Iterator[Catalogue]:
    shutil.copytree(demo_template, tmp_path / "data")
    with Catalogue.open(make_settings()) as cat:
        yield cat


def test_diff_between_any_two_revisions(demo: Catalogue) -> None:
    # Q1208 has no start time (P9), so the third revision can add one.
    editor = demo.editor
    data = editor.record_json("Q1208")
    first = int(data.pop("revision"))  # type: ignore[call-overload]
    data.pop("modified")
    second_data = copy.deepcopy(data)
    second_data["labels"]["fr"] = "Don"  # type: ignore[index]
    second = editor.save("Q1208", editor.read_json(second_data, "Q1208"), first, author="a")
    third_data = copy.deepcopy(second_data)
    third_data["statements"].append({"property": "P9", "value": "2008"})  # type: ignore[attr-defined]
    third = editor.save(
        "Q1208", editor.read_json(third_data, "Q1208"), second.revision.id, author="a"
    )
    one_two = diff_revisions(demo, "Q1208", first, second.revision.id)
    assert [t.language for t in one_two.terms] == ["fr"] and not one_two.statements
    one_three = diff_revisions(demo, "Q1208", first, third.revision.id)
    assert [c.change for c in one_three.statements] == ["added"]
    three_one = diff_revisions(demo, "Q1208", third.revision.id, first)  # backwards
    assert [c.change for c in three_one.statements] == ["removed"]
    assert three_one.terms[0].old == "Don" and three_one.terms[0].new is None
    with pytest.raises(BigtentError):
        diff_revisions(demo, "Q1208", first, first)
    with pytest.raises(BigtentError, match="no revision"):
        diff_revisions(demo, "Q1208", first, 1)  # revision 1 belongs to another entity


def test_diff_to_a_deletion_removes_everything(demo: Catalogue) -> None:
    before = demo.revisions.state("Q1300").latest  # type: ignore[union-attr]
    deleted = demo.editor.delete("Q1300", "test", author="a")
    diff = diff_revisions(demo, "Q1300", before, deleted.id)
    assert diff.statements and all(c.change == "removed" for c in diff.statements)
    assert all(t.new is None for t in diff.terms)
