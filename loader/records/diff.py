"""What changed between two revisions of an entity, as structured data.

Terms are compared per language; statements by id, and a statement that was replaced
by one with another id but the same property and main value (as happens when a
record without statement ids is loaded again) counts as changed, not as removed and
added. For a changed statement the result says which parts changed: value, rank,
qualifiers and references added or removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from loader.records.record_model import (
    RecordModel,
    Reference,
    Snak,
    Statement,
    snak_json,
    statement_json,
)


@dataclass
class TermChange:
    """A label or description set, changed or removed in one language."""

    kind: str  # "label" | "description"
    language: str
    old: str | None
    new: str | None


@dataclass
class AliasChange:
    """Aliases added and removed in one language."""

    language: str
    added: list[str]
    removed: list[str]


@dataclass
class StatementChange:
    """A statement added, removed or changed."""

    change: str  # "added" | "removed" | "changed"
    property: str
    old: Statement | None
    new: Statement | None
    parts: list[str] = field(default_factory=list)  # value, rank, qualifiers, references
    qualifiers_added: list[Snak] = field(default_factory=list)
    qualifiers_removed: list[Snak] = field(default_factory=list)
    references_added: list[Reference] = field(default_factory=list)
    references_removed: list[Reference] = field(default_factory=list)


@dataclass
class Diff:
    """Everything that differs between two versions of a record."""

    entity: str
    old_revision: int | None
    new_revision: int | None
    terms: list[TermChange] = field(default_factory=list)
    aliases: list[AliasChange] = field(default_factory=list)
    statements: list[StatementChange] = field(default_factory=list)
    other_added: list[str] = field(default_factory=list)
    other_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (
            self.terms or self.aliases or self.statements or self.other_added or self.other_removed
        )

    def as_dict(self, types: Mapping[str, str]) -> dict[str, object]:
        """JSON form; values as in the JSON record model (``types``: property types)."""

        def stmt(s: Statement | None) -> object:
            return None if s is None else statement_json(s, types)

        def ref(r: Reference) -> list[dict[str, object]]:
            return [snak_json(s, types) for s in r.snaks]

        return {
            "entity": self.entity,
            "from": self.old_revision,
            "to": self.new_revision,
            "terms": [t.__dict__ for t in self.terms],
            "aliases": [a.__dict__ for a in self.aliases],
            "statements": [
                {
                    "change": c.change,
                    "property": c.property,
                    "old": stmt(c.old),
                    "new": stmt(c.new),
                    "parts": c.parts,
                    "qualifiers_added": [snak_json(s, types) for s in c.qualifiers_added],
                    "qualifiers_removed": [snak_json(s, types) for s in c.qualifiers_removed],
                    "references_added": [ref(r) for r in c.references_added],
                    "references_removed": [ref(r) for r in c.references_removed],
                }
                for c in self.statements
            ],
            "other_added": self.other_added,
            "other_removed": self.other_removed,
        }


def _statement_change(old: Statement, new: Statement) -> StatementChange | None:
    if old.content() == new.content():
        return None
    change = StatementChange("changed", new.property, old, new)
    if old.value != new.value:
        change.parts.append("value")
    if old.rank != new.rank:
        change.parts.append("rank")
    change.qualifiers_added = [q for q in new.qualifiers if q not in old.qualifiers]
    change.qualifiers_removed = [q for q in old.qualifiers if q not in new.qualifiers]
    if change.qualifiers_added or change.qualifiers_removed:
        change.parts.append("qualifiers")
    change.references_added = [r for r in new.references if r not in old.references]
    change.references_removed = [r for r in old.references if r not in new.references]
    if change.references_added or change.references_removed:
        change.parts.append("references")
    if old.extra != new.extra:
        change.parts.append("other")
    return change


def diff_models(
    old: RecordModel,
    new: RecordModel,
    old_revision: int | None = None,
    new_revision: int | None = None,
) -> Diff:
    """What changed from ``old`` to ``new``."""
    out = Diff(new.entity or old.entity or "", old_revision, new_revision)
    for kind, name in (("label", "labels"), ("description", "descriptions")):
        a, b = getattr(old, name), getattr(new, name)
        for lang in sorted(set(a) | set(b)):
            if a.get(lang) != b.get(lang):
                out.terms.append(TermChange(kind, lang, a.get(lang), b.get(lang)))
    for lang in sorted(set(old.aliases) | set(new.aliases)):
        a, b = old.aliases.get(lang, []), new.aliases.get(lang, [])
        added, removed = [x for x in b if x not in a], [x for x in a if x not in b]
        if added or removed:
            out.aliases.append(AliasChange(lang, added, removed))
    old_map, new_map = old.statement_map(), new.statement_map()
    removed_only = [s for sid, s in old_map.items() if sid not in new_map]
    added_only = [s for sid, s in new_map.items() if sid not in old_map]
    for sid in sorted(set(old_map) & set(new_map)):
        change = _statement_change(old_map[sid], new_map[sid])
        if change is not None:
            out.statements.append(change)
    # A statement replaced by one with another id but the same property and value.
    for gone in list(removed_only):
        twin = next(
            (s for s in added_only if s.property == gone.property and s.value == gone.value), None
        )
        if twin is not None:
            removed_only.remove(gone)
            added_only.remove(twin)
            change = _statement_change(gone, twin)
            if change is not None:
                out.statements.append(change)
    out.statements += [StatementChange("removed", s.property, s, None) for s in removed_only]
    out.statements += [StatementChange("added", s.property, None, s) for s in added_only]
    out.statements.sort(key=lambda c: (int(c.property[1:]), c.change))
    old_other = {f"{s} {p} {o} ." for s, p, o in old.other}
    new_other = {f"{s} {p} {o} ." for s, p, o in new.other}
    out.other_added = sorted(new_other - old_other)
    out.other_removed = sorted(old_other - new_other)
    return out
