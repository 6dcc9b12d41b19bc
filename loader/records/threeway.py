"""Three-way merge of records: the revision an edit started from (base), the newest
revision (theirs) and the edit (mine).

Labels and descriptions merge per language, aliases as sets per language, statements by
statement id (value and rank as fields; qualifiers and references as sets), other
triples as a set. A field both sides changed differently is a conflict; everything else
merges. Nothing is decided silently: the caller refuses a save with conflicts and shows
them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from loader.records.record_model import RecordModel, Reference, Snak, Statement

T = TypeVar("T")


@dataclass(frozen=True)
class Conflict:
    """One field both sides changed differently."""

    field: str  # "labels", "descriptions", "statements"
    base: object
    theirs: object
    mine: object
    language: str | None = None
    statement: str | None = None
    property: str | None = None
    reason: str = ""


def _pick(base: T, theirs: T, mine: T) -> tuple[T, bool]:
    """(merged value, conflicting?) for one field."""
    if mine in (base, theirs):
        return theirs, False
    if theirs == base:
        return mine, False
    return theirs, True


def _merge_set(base: tuple[T, ...], theirs: tuple[T, ...], mine: tuple[T, ...]) -> list[T]:
    removed = set(base) - set(mine)
    added = [x for x in mine if x not in set(base)]
    out = [x for x in theirs if x not in removed]
    out += [x for x in added if x not in out]
    return out


def _merge_statement(b: Statement, t: Statement, m: Statement) -> tuple[Statement, list[str]]:
    value, value_conflict = _pick(b.value, t.value, m.value)
    rank, rank_conflict = _pick(b.rank, t.rank, m.rank)
    extra, extra_conflict = _pick(b.extra, t.extra, m.extra)
    qualifiers: list[Snak] = _merge_set(b.qualifiers, t.qualifiers, m.qualifiers)
    references: list[Reference] = _merge_set(b.references, t.references, m.references)
    conflicts = [
        name
        for name, flag in (
            ("value", value_conflict),
            ("rank", rank_conflict),
            ("extra", extra_conflict),
        )
        if flag
    ]
    merged = replace(
        t,
        value=value,
        rank=rank,
        extra=extra,
        qualifiers=tuple(sorted(qualifiers, key=Snak.key)),
        references=tuple(sorted(references, key=Reference.key)),
    )
    return merged, conflicts


def merge3(
    base: RecordModel, theirs: RecordModel, mine: RecordModel
) -> tuple[RecordModel, list[Conflict]]:
    """The merged record and the conflicts (the merge is only usable without any)."""
    conflicts: list[Conflict] = []
    merged = RecordModel(theirs.entity)
    for name in ("labels", "descriptions"):
        b, t, m = getattr(base, name), getattr(theirs, name), getattr(mine, name)
        out = getattr(merged, name)
        for lang in sorted(set(b) | set(t) | set(m)):
            value, clash = _pick(b.get(lang), t.get(lang), m.get(lang))
            if clash:
                conflicts.append(Conflict(name, b.get(lang), t.get(lang), m.get(lang), lang))
            if value is not None:
                out[lang] = value
    for lang in sorted(set(base.aliases) | set(theirs.aliases) | set(mine.aliases)):
        texts = _merge_set(
            tuple(base.aliases.get(lang, ())),
            tuple(theirs.aliases.get(lang, ())),
            tuple(mine.aliases.get(lang, ())),
        )
        if texts:
            merged.aliases[lang] = sorted(texts)
    b_map, t_map, m_map = base.statement_map(), theirs.statement_map(), mine.statement_map()
    order = [s.id for s in theirs.statements] + [s.id for s in mine.statements if s.id not in t_map]
    theirs_added = {s.content() for s in theirs.statements if s.id not in b_map}
    for sid in dict.fromkeys(order):
        if sid is None:
            continue
        b, t, m = b_map.get(sid), t_map.get(sid), m_map.get(sid)
        if b is None:
            if t is not None and m is not None and t.content() != m.content():
                conflicts.append(_statement_conflict(sid, b, t, m, "both added it differently"))
                merged.statements.append(t)
            elif t is not None:
                merged.statements.append(t)
            elif m is not None and m.content() not in theirs_added:
                merged.statements.append(m)
            continue
        if m is None and t is None:
            continue
        if m is None:
            assert t is not None
            if t.content() != b.content():
                conflicts.append(
                    _statement_conflict(sid, b, t, m, "you removed it, they changed it")
                )
                merged.statements.append(t)
            continue
        if t is None:
            if m.content() != b.content():
                conflicts.append(
                    _statement_conflict(sid, b, t, m, "you changed it, they removed it")
                )
            continue
        statement, fields = _merge_statement(b, t, m)
        if fields:
            conflicts.append(
                _statement_conflict(sid, b, t, m, "both changed its " + " and ".join(fields))
            )
        merged.statements.append(statement)
    merged.statements.sort(key=lambda s: (int(s.property[1:]), s.id or ""))
    merged.other = _merge_set(tuple(base.other), tuple(theirs.other), tuple(mine.other))
    return merged, conflicts


def _statement_conflict(
    sid: str, b: Statement | None, t: Statement | None, m: Statement | None, reason: str
) -> Conflict:
    prop = next(s.property for s in (b, t, m) if s is not None)
    return Conflict("statements", b, t, m, statement=sid, property=prop, reason=reason)


def keep_mine(
    base: RecordModel, theirs: RecordModel, mine: RecordModel
) -> tuple[RecordModel, list[Conflict]]:
    """The merge of ``mine`` and ``theirs`` (both made from ``base``) where every
    conflicting field takes ``mine``, and the conflicts."""
    if not mine.other:  # the JSON model does not carry untyped triples: keep the stored ones
        mine = replace(mine, other=list(base.other))
    merged, conflicts = merge3(base, theirs, mine)
    for conflict in conflicts:
        if conflict.field in ("labels", "descriptions") and conflict.language is not None:
            texts: dict[str, str] = getattr(merged, conflict.field)
            if conflict.mine is None:
                texts.pop(conflict.language, None)
            else:
                texts[conflict.language] = str(conflict.mine)
        elif conflict.field == "statements":
            merged.statements = [s for s in merged.statements if s.id != conflict.statement]
            if conflict.mine is not None:
                merged.statements.append(conflict.mine)  # type: ignore[arg-type]
    merged.statements.sort(key=lambda s: (int(s.property[1:]), s.id or ""))
    return merged, conflicts
