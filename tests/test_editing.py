"""The staff edit path: ids, saves, three-way merges, conflicts, reverts, deletions."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.editing.editor import EditConflict, Editor, ValidationFailed
from loader.records.normalise import normalise
from loader.records.record_model import model_json, to_triples
from loader.records.source import SourceRecord
from loader.storage.revision_log import NewRevision, StaleRevision
from tests.conftest import PREFIXES


@pytest.fixture
def demo(
    demo_template: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> Iterator[Catalogue]:
    """A private copy of the demo catalogue."""
    shutil.copytree(demo_template, tmp_path / "data")
    with Catalogue.open(make_settings()) as cat:
        yield cat


ORG = {
    "labels": {"en": "Open Knowledge Lab", "de": "Offenes Wissenslabor"},
    "descriptions": {"en": "a lab"},
    "statements": [{"property": "P1", "value": "Q1"}, {"property": "P48", "value": "2012-05"}],
}


def create(editor: Editor, record: dict[str, Any], author: str = "alice") -> str:
    result = editor.create(lambda eid: editor.read_json(record, eid), author=author)
    assert result.revision is not None
    return result.entity


def edit(editor: Editor, entity: str) -> tuple[dict[str, Any], int]:
    """The record's JSON and its revision, as an edit form starts from."""
    data = editor.record_json(entity)
    revision = data.pop("revision")
    data.pop("modified")
    return data, int(revision)  # type: ignore[call-overload]


def save(editor: Editor, entity: str, data: dict[str, Any], base: int, who: str = "bob") -> Any:
    return editor.save(entity, editor.read_json(data, entity), base, author=who, summary="test")


def test_every_stored_record_round_trips_through_the_model(demo: Catalogue) -> None:
    """Model and JSON model lose nothing: an unchanged record saves as unchanged."""
    editor = demo.editor
    ctx = editor.context()
    checked = 0
    for rev in demo.revisions.latest_revisions():
        model = editor._model_of(rev.entity, rev)
        again = normalise(SourceRecord(rev.entity, to_triples(demo.ns, model), "t"), ctx)
        assert again.content_hash == rev.content_hash, rev.entity
        checked += 1
    assert checked > 300
    for entity in ("Q1200", "Q1205", "P9", "Q1500"):  # partnership, dates, property, person
        data, base = edit(editor, entity)
        result = save(editor, entity, data, base)
        assert result.unchanged, entity


def test_new_items_get_ids_above_every_id_in_use(
    demo: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    editor = demo.editor
    assert create(editor, ORG) == "Q10000"  # NEW_ITEM_MIN; the demo stops below
    assert create(editor, ORG) == "Q10001"
    demo.load_paths([write_ttl("far.ttl", 'wd:Q20000 rdfs:label "Far"@en ; wdt:P1 wd:Q1 .')])
    far = create(editor, ORG)
    assert far == "Q20001"
    editor.delete(far, "test", author="alice")
    assert create(editor, ORG) == "Q20002"  # deleted ids are never given out again
    rev = demo.revisions.get("Q10000")
    assert rev is not None and rev.author == "alice" and rev.action == "create"


def test_a_new_property_gets_a_p_id(demo: Catalogue) -> None:
    editor = demo.editor
    record = {"labels": {"en": "number of volunteers"}, "datatype": "Quantity"}
    result = editor.create(lambda eid: editor.read_json(record, eid), author="a", kind="P")
    assert result.entity == "P1000"
    assert editor.property_types()["P1000"] == "Quantity"


def test_a_save_is_a_revision_with_author_and_summary(demo: Catalogue) -> None:
    editor = demo.editor
    data, base = edit(editor, "Q1200")
    data["labels"]["fr"] = "Don d'images"
    result = save(editor, "Q1200", data, base, who="carol")
    assert result.revision is not None and result.merged_with is None
    rev = demo.revisions.get("Q1200")
    assert rev is not None
    assert (rev.id, rev.author, rev.summary, rev.parent) == (
        result.revision.id,
        "carol",
        "test",
        base,
    )
    label = ox.Literal("Don d'images", language="fr")
    assert label in demo.store.objects(demo.ns.entity("Q1200"), ox.NamedNode(RDFS_LABEL))


RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def test_saves_that_do_not_conflict_are_merged(demo: Catalogue) -> None:
    editor = demo.editor
    first, base = edit(editor, "Q1200")
    second = copy.deepcopy(first)
    first["labels"]["en"] = "Image donation of the Federal Archives"
    theirs = save(editor, "Q1200", first, base, who="ann")
    second["aliases"] = {"en": ["Bundesarchiv donation"]}
    second["statements"].append({"property": "P9", "value": "2008-12"})
    mine = save(editor, "Q1200", second, base, who="ben")
    assert mine.merged_with == theirs.revision.id
    now, _ = edit(editor, "Q1200")
    assert now["labels"]["en"] == "Image donation of the Federal Archives"
    assert now["aliases"] == {"en": ["Bundesarchiv donation"]}
    assert {"P9"} <= {s["property"] for s in now["statements"]}


def test_conflicting_label_edits_are_refused_and_nothing_is_lost(demo: Catalogue) -> None:
    editor = demo.editor
    first, base = edit(editor, "Q1200")
    second = copy.deepcopy(first)
    first["labels"]["en"] = "Version A"
    theirs = save(editor, "Q1200", first, base, who="ann")
    second["labels"]["en"] = "Version B"
    second["descriptions"]["en"] = "also changed, without conflict"
    count = demo.revisions.count()
    with pytest.raises(EditConflict) as refused:
        save(editor, "Q1200", second, base, who="ben")
    assert refused.value.status == 409
    conflict = refused.value.to_dict()["conflict"]
    assert conflict["latest_revision"] == theirs.revision.id and conflict["base_revision"] == base
    [clash] = conflict["fields"]
    assert clash == {
        "field": "labels",
        "language": "en",
        "base": "Wikimedia Deutschland – German Federal Archives image donation",
        "theirs": "Version A",
        "mine": "Version B",
    }
    assert conflict["mine"]["labels"]["en"] == "Version B"  # what was typed comes back
    assert conflict["mine"]["descriptions"]["en"] == "also changed, without conflict"
    assert conflict["theirs"]["labels"]["en"] == "Version A"
    assert demo.revisions.count() == count  # nothing written
    assert edit(editor, "Q1200")[0]["labels"]["en"] == "Version A"


def _statement(data: dict[str, Any], prop: str, value: str) -> dict[str, Any]:
    return next(s for s in data["statements"] if s["property"] == prop and s["value"] == value)


def test_statement_level_merges_and_conflicts(demo: Catalogue) -> None:
    editor = demo.editor
    start, base = edit(editor, "Q1200")
    # They add a qualifier to the first participant; I add a reference to the same
    # statement and change the rank of another: all merge.
    theirs = copy.deepcopy(start)
    _statement(theirs, "P5", "Q1001")["qualifiers"].append({"property": "P6", "value": "Q111"})
    mine = copy.deepcopy(start)
    _statement(mine, "P5", "Q1001")["references"].append(
        [{"property": "P18", "value": "https://example.org/source"}]
    )
    _statement(mine, "P7", "Q131")["rank"] = "preferred"
    save(editor, "Q1200", theirs, base)
    merged = save(editor, "Q1200", mine, base)
    assert merged.merged_with is not None
    now, latest = edit(editor, "Q1200")
    participant = _statement(now, "P5", "Q1001")
    assert {"property": "P6", "value": "Q111"} in participant["qualifiers"]
    assert len(participant["references"]) == 2
    assert _statement(now, "P7", "Q131")["rank"] == "preferred"
    # Now both change the same statement's value: a conflict naming that statement.
    one, two = copy.deepcopy(now), copy.deepcopy(now)
    _statement(one, "P26", "Q151")["value"] = "Q150"
    _statement(two, "P26", "Q151")["value"] = "Q152"
    save(editor, "Q1200", one, latest)
    with pytest.raises(EditConflict) as refused:
        save(editor, "Q1200", two, latest)
    [clash] = refused.value.conflict["fields"]  # type: ignore[index]
    assert clash["property"] == "P26" and clash["reason"] == "both changed its value"
    assert (clash["base"]["value"], clash["theirs"]["value"], clash["mine"]["value"]) == (
        "Q151",
        "Q150",
        "Q152",
    )


def test_removing_a_statement_they_changed_is_a_conflict(demo: Catalogue) -> None:
    editor = demo.editor
    start, base = edit(editor, "Q1200")
    theirs, mine = copy.deepcopy(start), copy.deepcopy(start)
    _statement(theirs, "P24", "Q120")["rank"] = "preferred"
    mine["statements"] = [s for s in mine["statements"] if s["property"] != "P24"]
    save(editor, "Q1200", theirs, base)
    with pytest.raises(EditConflict) as refused:
        save(editor, "Q1200", mine, base)
    [clash] = refused.value.conflict["fields"]  # type: ignore[index]
    assert clash["property"] == "P24" and clash["mine"] is None
    assert "removed" in clash["reason"]


def test_a_merge_that_would_be_invalid_is_a_conflict(demo: Catalogue) -> None:
    editor = demo.editor  # Q1208 has no start time (P9) yet
    start, base = edit(editor, "Q1208")
    one, two = copy.deepcopy(start), copy.deepcopy(start)
    one["statements"].append({"property": "P9", "value": "2008"})
    two["statements"].append({"property": "P9", "value": "2009"})  # a partnership has one
    save(editor, "Q1208", one, base)
    with pytest.raises(EditConflict) as refused:
        save(editor, "Q1208", two, base)
    conflict = refused.value.conflict
    assert conflict["fields"] == []
    assert any(p["property"] == "P9" for p in conflict["problems"])  # type: ignore[attr-defined]


def test_a_save_without_a_base_revision_is_refused(demo: Catalogue) -> None:
    editor = demo.editor
    data, _ = edit(editor, "Q1200")
    with pytest.raises(Exception, match="base_revision") as refused:
        editor.save("Q1200", editor.read_json(data, "Q1200"), None, author="x")
    assert refused.value.status == 428  # type: ignore[attr-defined]


def test_revert_is_a_new_revision(demo: Catalogue) -> None:
    editor = demo.editor
    data, original = edit(editor, "Q1200")
    before = demo.revisions.get("Q1200", original)
    data["labels"]["en"] = "Vandalised"
    save(editor, "Q1200", data, original)
    result = editor.revert("Q1200", original, author="carol")
    assert (
        result.revision is not None
        and result.revision.summary == f"Reverted to revision {original}"
    )
    assert demo.revisions.get("Q1200").content_hash == before.content_hash  # type: ignore[union-attr]
    assert len(demo.revisions.history("Q1200")) == 3
    assert editor.revert("Q1200", original, author="carol").unchanged


def test_revert_restores_a_deleted_entity(demo: Catalogue) -> None:
    editor = demo.editor
    base = demo.revisions.state("Q1300").latest  # type: ignore[union-attr]
    editor.delete("Q1300", "duplicate", author="admin")
    with pytest.raises(Exception, match="deleted"):
        editor.record_json("Q1300")
    result = editor.revert("Q1300", base, author="admin")
    assert result.revision is not None and result.revision.action == "restore"
    assert editor.record_json("Q1300")["id"] == "Q1300"
    assert demo.entity_triples("Q1300")


def test_delete_needs_a_reason_and_leaves_a_tombstone(demo: Catalogue) -> None:
    editor = demo.editor
    with pytest.raises(Exception, match="reason"):
        editor.delete("Q1300", "  ", author="admin")
    rev = editor.delete("Q1300", "test record", author="admin")
    assert (rev.action, rev.summary) == ("delete", "test record")
    assert demo.entity_triples("Q1300") == []


def test_the_log_refuses_a_write_on_a_stale_base(demo: Catalogue) -> None:
    """Optimistic concurrency in the log itself protects writers in other processes."""
    latest = demo.revisions.state("Q1200").latest  # type: ignore[union-attr]
    count = demo.revisions.count()
    stale = NewRevision(
        "Q1200", "update", "x", "x", "h", b"", expect_latest=latest - 1, check_latest=True
    )
    with pytest.raises(StaleRevision):
        demo.revisions.append([stale])
    taken = NewRevision(
        "Q1200", "create", "x", "x", "h", b"", expect_latest=None, check_latest=True
    )
    with pytest.raises(StaleRevision):
        demo.revisions.append([taken])
    assert demo.revisions.count() == count


def test_the_validation_context_follows_edits(demo: Catalogue) -> None:
    """An organisation created a moment ago can be what another is part of (P42 wants
    an organisation), and stops qualifying once it is no longer one."""
    editor = demo.editor
    parent = create(editor, ORG)
    child = {
        "labels": {"en": "Lab branch"},
        "statements": [{"property": "P1", "value": "Q1"}, {"property": "P42", "value": parent}],
    }
    child_id = create(editor, child)
    data, base = edit(editor, parent)
    _statement(data, "P1", "Q1")["value"] = "Q10"  # now a document
    data["statements"] = [s for s in data["statements"] if s["property"] == "P1"]
    data["statements"].append({"property": "P31", "value": "Q190"})  # a contract
    save(editor, parent, data, base)
    again, child_base = edit(editor, child_id)
    again["labels"]["fr"] = "Antenne du lab"
    with pytest.raises(ValidationFailed) as refused:
        save(editor, child_id, again, child_base)
    assert any(p.property == "P42" for p in refused.value.problems)


def test_turtle_records_create_and_update(demo: Catalogue) -> None:
    editor = demo.editor
    body = (
        PREFIXES
        + 'wd:new rdfs:label "Turtle Lab"@en ; wdt:P1 wd:Q1 ; wdt:P11 <https://lab.example.org/> .'
    )
    result = editor.create(
        lambda eid: editor.read_rdf(body.encode(), eid, placeholder=True), author="t"
    )
    entity = result.entity
    data, base = edit(editor, entity)
    assert data["labels"] == {"en": "Turtle Lab"}
    update = PREFIXES + f'wd:{entity} rdfs:label "Turtle Lab"@en, "Labo"@fr ; wdt:P1 wd:Q1 .'
    saved = editor.save(entity, editor.read_rdf(update.encode(), entity), base, author="t")
    assert saved.revision is not None
    data, _ = edit(editor, entity)
    assert data["labels"] == {"en": "Turtle Lab", "fr": "Labo"}
    assert [s["property"] for s in data["statements"]] == ["P1"]  # the website was removed


def test_turtle_about_another_entity_is_refused(demo: Catalogue) -> None:
    editor = demo.editor
    body = PREFIXES + 'wd:Q1200 rdfs:label "x"@en . wd:Q1201 rdfs:label "y"@en .'
    with pytest.raises(ValidationFailed, match="could not be read") as refused:
        editor.read_rdf(body.encode(), "Q1200")
    assert "Q1201" in refused.value.problems[0].message


def test_json_form_of_every_value_type(demo: Catalogue) -> None:
    editor = demo.editor
    data = model_json(editor.current("Q1208")[0], editor.property_types())
    kinds = {type(s["value"]).__name__ for s in data["statements"]}  # type: ignore[union-attr]
    assert "str" in kinds
    record = {
        "labels": {"en": "Values"},
        "statements": [
            {"property": "P1", "value": "Q1"},
            {"property": "P48", "value": "1999-12-31"},
            {"property": "P11", "value": "https://values.example.org/"},
            {"property": "P22", "value": "Q42"},
            {
                "property": "P4",
                "value": "Q1100",
                "qualifiers": [
                    {"property": "P6", "value": "Q110"},
                    {"property": "P9", "value": "2020"},
                ],
            },
            {
                "property": "P17",
                "value": "Q1000",
                "qualifiers": [
                    {"property": "P49", "value": {"text": "outreach", "language": "en"}}
                ],
            },
        ],
    }
    entity = create(editor, record)
    back, _ = edit(editor, entity)
    values = {s["property"]: s["value"] for s in back["statements"]}
    assert values["P48"] == "1999-12-31" and values["P22"] == "Q42"
    assert values["P11"] == "https://values.example.org/"
    member = _statement(back, "P4", "Q1100")
    assert {"property": "P9", "value": "2020"} in member["qualifiers"]
