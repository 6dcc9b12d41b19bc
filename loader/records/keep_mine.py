"""Reconciling an edit with a newer revision: the three-way merge, keeping the editor's
version of every field both sides changed, for the editor to review and save again."""

from __future__ import annotations

from dataclasses import replace

from loader.records.record_model import RecordModel
from loader.records.threeway import Conflict, merge3


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
