"""A diff between two revisions as a reader sees it: values shown by label.

:mod:`loader.records.diff` says *what* changed (terms, statements, qualifiers, references);
this module turns that into rows a page can show: every value as a
:class:`loader.publish.describe.Value` (entities by their label in the reader's languages, looked
up in one batch), and the parts that did not change counted and listed apart so a page
can fold them away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.errors import BigtentError, NotFound
from loader.publish.describe import Value, primary
from loader.records import coordinates
from loader.records.diff import Diff, diff_models
from loader.records.record_model import (
    RecordModel,
    Reference,
    Snak,
    Statement,
    from_triples,
    time_text,
)
from loader.records.record_model import Value as ModelValue
from loader.storage.revision_log import Revision

if TYPE_CHECKING:
    from loader.storage.page_index import PageIndex
    from loader.storage.repository import Repository


@dataclass
class SnakRow:
    """A property and its value, ready to show."""

    property: Value
    value: Value


@dataclass
class StatementRow:
    """One added, removed or changed statement."""

    change: str  # added | removed | changed
    property: Value
    old: Value | None
    new: Value | None
    old_rank: str | None
    new_rank: str | None
    parts: list[str]
    qualifiers_added: list[SnakRow] = field(default_factory=list)
    qualifiers_removed: list[SnakRow] = field(default_factory=list)
    references_added: list[list[SnakRow]] = field(default_factory=list)
    references_removed: list[list[SnakRow]] = field(default_factory=list)
    qualifiers_kept: list[SnakRow] = field(default_factory=list)
    references_kept: int = 0


@dataclass
class DiffView:
    """Everything a diff page shows."""

    diff: Diff
    old: Revision
    new: Revision
    statements: list[StatementRow]
    unchanged: list[SnakRow]  # statements present and identical in both revisions


@dataclass
class Comparison:
    """Two revisions of an entity and what changed between them."""

    diff: Diff
    old: Revision
    new: Revision
    unchanged: list[Statement]  # statements identical in both


def compare(cat: Repository, entity: str, old: int, new: int) -> Comparison:
    """The diff from revision ``old`` to ``new`` of ``entity`` with both revisions;
    ``old`` must be the older one."""
    if old == new:
        raise BigtentError(
            f"compare two different revisions of {entity}, not revision {old} with itself",
            title="Nothing to compare",
        )
    if old > new:
        raise BigtentError(
            f"from={old} is newer than to={new}: 'from' is the older revision "
            f"(try ?from={new}&to={old})",
            title="Revisions in the wrong order",
        )
    before = revision_model(cat, entity, old)
    after = revision_model(cat, entity, new)
    old_rev, new_rev = cat.revisions.get(entity, old), cat.revisions.get(entity, new)
    assert old_rev is not None and new_rev is not None  # revision_model found both
    earlier = before.statement_map()
    unchanged = [s for s in after.statements if s.id and earlier.get(s.id) == s]
    return Comparison(diff_models(before, after, old, new), old_rev, new_rev, unchanged)


def referenced(diff: Diff, unchanged: Iterable[Statement] = ()) -> set[str]:
    """Every entity and property id a diff mentions (to look their labels up at once)."""
    ids: set[str] = set()

    def snak(s: Snak) -> None:
        ids.add(s.property)
        if s.value is not None and isinstance(s.value.term, ox.NamedNode):
            local = s.value.term.value.rsplit("/", 1)[-1]
            ids.add(local)

    def statement(st: Statement | None) -> None:
        if st is None:
            return
        snak(Snak(st.property, st.value))
        for q in st.qualifiers:
            snak(q)
        for r in st.references:
            for s in r.snaks:
                snak(s)

    for change in diff.statements:
        statement(change.old)
        statement(change.new)
    for st in unchanged:
        snak(Snak(st.property, st.value))
    return ids


class Shower:
    """Shows model values with labels from ``names`` (id -> (language, label))."""

    def __init__(self, names: Mapping[str, tuple[str, str]], entity_ns: str, reader: str):
        self.names = names
        self.entity_ns = entity_ns
        self.reader = primary(reader)

    def entity(self, eid: str) -> Value:
        """An entity or property by its label."""
        found = self.names.get(eid)
        if found is None:
            return Value(eid, kind="entity", entity=eid)
        lang, text = found
        return Value(
            f"{text} ({eid})",
            kind="entity",
            entity=eid,
            lang=lang or None,
            foreign=bool(lang) and primary(lang) != self.reader,
        )

    def value(self, value: ModelValue | None) -> Value:
        """A statement, qualifier or reference value."""
        if value is None:
            return Value("no value", kind="novalue")
        term = value.term
        if isinstance(term, ox.BlankNode):
            return Value("unknown value", kind="somevalue")
        if isinstance(term, ox.NamedNode):
            if term.value.startswith(self.entity_ns):
                return self.entity(term.value[len(self.entity_ns) :])
            web = term.value.lower().startswith(("http://", "https://"))
            return Value(term.value, kind="url", href=term.value if web else None)
        if term.datatype.value.endswith("#dateTime"):
            shown = time_text(value)
            return Value(shown if isinstance(shown, str) else term.value, kind="string")
        if term.language:
            lang = term.language.lower()
            return Value(term.value, kind="text", lang=lang, foreign=primary(lang) != self.reader)
        point = coordinates.parse_point(term.value) if coordinates.is_wkt(term) else None
        if point is not None:
            # Decimal degrees and the precision: a diff must show a change of either.
            text = f"{point.latitude}, {point.longitude}"
            if value.geo_precision:
                text += f" (± {value.geo_precision}°)"
            return Value(text, kind="coordinate", coordinate=(point.latitude, point.longitude))
        return Value(term.value, kind="string")

    def snak(self, s: Snak) -> SnakRow:
        """A qualifier or reference part."""
        return SnakRow(self.entity(s.property), self.value(s.value))

    def reference(self, r: Reference) -> list[SnakRow]:
        """A reference's parts."""
        return [self.snak(s) for s in r.snaks]


def present(
    comparison: Comparison,
    index: PageIndex,
    languages: Sequence[str],
    entity_ns: str,
) -> DiffView:
    """The rows of a diff page, with every mentioned entity named in ``languages``."""
    diff, unchanged = comparison.diff, comparison.unchanged
    names = index.names(referenced(diff, unchanged), languages)
    show = Shower(names, entity_ns, languages[0] if languages else "")
    rows = []
    for c in diff.statements:
        row = StatementRow(
            c.change,
            show.entity(c.property),
            None if c.old is None else show.value(c.old.value),
            None if c.new is None else show.value(c.new.value),
            None if c.old is None else c.old.rank,
            None if c.new is None else c.new.rank,
            list(c.parts),
        )
        whole = c.new if c.change == "added" else c.old if c.change == "removed" else None
        if whole is not None:  # an added or removed statement: all its parts go with it
            target_q = row.qualifiers_added if c.change == "added" else row.qualifiers_removed
            target_r = row.references_added if c.change == "added" else row.references_removed
            target_q += [show.snak(q) for q in whole.qualifiers]
            target_r += [show.reference(r) for r in whole.references]
        else:
            row.qualifiers_added = [show.snak(q) for q in c.qualifiers_added]
            row.qualifiers_removed = [show.snak(q) for q in c.qualifiers_removed]
            row.references_added = [show.reference(r) for r in c.references_added]
            row.references_removed = [show.reference(r) for r in c.references_removed]
            assert c.new is not None
            row.qualifiers_kept = [
                show.snak(q) for q in c.new.qualifiers if q not in c.qualifiers_added
            ]
            row.references_kept = sum(1 for r in c.new.references if r not in c.references_added)
        rows.append(row)
    kept = [show.snak(Snak(s.property, s.value)) for s in unchanged]
    return DiffView(diff, comparison.old, comparison.new, rows, kept)


def revision_model(cat: Repository, entity: str, revision: int) -> RecordModel:
    """The record as it was after one revision (empty after a deletion or merge)."""

    rev = cat.revisions.get(entity, revision)
    if rev is None:
        raise NotFound(f"{entity} has no revision {revision}")
    if rev.snapshot is None:
        return RecordModel(entity)
    triples = [
        (q.subject, q.predicate, q.object) for q in ox.parse(rev.snapshot, ox.RdfFormat.N_TRIPLES)
    ]
    return from_triples(cat.ns, entity, triples)


def diff_revisions(cat: Repository, entity: str, old: int, new: int) -> Diff:
    """What changed in ``entity`` from revision ``old`` to revision ``new`` (ids of
    revisions of that entity, in either order)."""
    if old == new:
        raise BigtentError(f"compare two different revisions of {entity}, not {old} with itself")
    return diff_models(revision_model(cat, entity, old), revision_model(cat, entity, new), old, new)
