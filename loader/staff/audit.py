"""Recent changes across the catalogue, filtered and paged: the staff audit view and
the public list of recent changes (``public=True``: revisions of entities that are
hidden or erased now are left out, all of them).

Paging is by revision id (``before``), so a page stays put while new changes arrive.
Author and kind of change are filtered in the revision log; the entity's class (instance
of, P1, or a subclass) through the page index, and visibility through the log's entity
states, in batches, with a bound on how many revisions one request looks at: a rare
class answers with a partial page and a link to look further rather than scanning the
whole log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loader.base.ids import INSTANCE_OF
from loader.discovery.browse import subclasses
from loader.storage.revision_log import CHANGE_KINDS, PRIVATE_STATES, Revision

if TYPE_CHECKING:
    from loader.storage.page_index import PageIndex
    from loader.storage.revision_log import RevisionLog

KINDS = tuple(CHANGE_KINDS)
#: revisions read per batch, and at most per request, when filtering by class
BATCH, SCAN_LIMIT = 500, 20_000


@dataclass
class ChangesPage:
    """One page of recent changes."""

    rows: list[Revision]
    next_before: int | None  # revision id to continue from (None: nothing older)
    scanned_out: bool  # the class filter stopped looking before the page was full


def recent_changes(
    log: RevisionLog,
    index: PageIndex,
    *,
    limit: int,
    before: int | None = None,
    author: str | None = None,
    kind: str | None = None,
    entity_class: str | None = None,
    public: bool = False,
) -> ChangesPage:
    """Newest changes first, filtered by author, kind and class of the entity; with
    ``public``, without the revisions of entities hidden or erased now."""
    if entity_class is None and not public:
        rows = log.recent_matching(before=before, limit=limit + 1, author=author, kind=kind)
        more = len(rows) > limit
        rows = rows[:limit]
        return ChangesPage(rows, rows[-1].id if more and rows else None, False)
    classes: set[str] | None = None
    if entity_class is not None:
        index.catch_up()
        classes = set(subclasses(index, entity_class)) | {entity_class}
    found: list[Revision] = []
    cursor, scanned = before, 0
    batch_size = BATCH if classes is not None else max(limit + 1, 50)
    while len(found) < limit and scanned < SCAN_LIMIT:
        batch = log.recent_matching(before=cursor, limit=batch_size, author=author, kind=kind)
        if not batch:
            return ChangesPage(found, None, False)
        scanned += len(batch)
        entities = {r.entity for r in batch}
        types = index.values(entities, INSTANCE_OF) if classes is not None else {}
        private = _private(log, entities) if public else set()
        for rev in batch:
            cursor = rev.id
            if rev.entity in private:
                continue
            if classes is None or classes & set(types.get(rev.entity, ())):
                found.append(rev)
                if len(found) == limit:
                    break
    if len(found) == limit:
        assert cursor is not None
        older = _any_older(log, index, cursor, author, kind, classes, public)
        return ChangesPage(found, cursor if older else None, False)
    return ChangesPage(found, cursor, True)


def _private(log: RevisionLog, entities: set[str]) -> set[str]:
    """Those of ``entities`` that are hidden or erased now."""
    return {e for e, s in log.states(entities).items() if s.state in PRIVATE_STATES}


def _any_older(
    log: RevisionLog,
    index: PageIndex,
    cursor: int,
    author: str | None,
    kind: str | None,
    classes: set[str] | None,
    public: bool,
) -> bool:
    """Whether a revision older than ``cursor`` may be on a next page. Without a class
    filter the next shown one is looked for (a bounded batch): a last page is not
    followed by an empty one because only hidden people's revisions are left."""
    if classes is not None:
        return bool(log.recent_matching(before=cursor, limit=1, author=author, kind=kind))
    older = log.recent_matching(before=cursor, limit=BATCH, author=author, kind=kind)
    if len(older) == BATCH:
        return True
    private = _private(log, {r.entity for r in older}) if public else set()
    return any(r.entity not in private for r in older)
