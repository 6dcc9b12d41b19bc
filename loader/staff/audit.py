"""Recent changes across the catalogue for the staff audit view, filtered and paged.

Paging is by revision id (``before``), so a page stays put while new changes arrive.
Author and kind of change are filtered in the revision log; the entity's class (instance
of, P1, or a subclass) through the page index, in batches, with a bound on how many
revisions one request looks at: a rare class answers with a partial page and a link to
look further rather than scanning the whole log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loader.base.ids import INSTANCE_OF
from loader.discovery.browse import subclasses
from loader.storage.revision_log import CHANGE_KINDS, Revision

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
) -> ChangesPage:
    """Newest changes first, filtered by author, kind and class of the entity."""
    if entity_class is None:
        rows = log.recent_matching(before=before, limit=limit + 1, author=author, kind=kind)
        more = len(rows) > limit
        rows = rows[:limit]
        return ChangesPage(rows, rows[-1].id if more and rows else None, False)
    index.catch_up()
    classes = set(subclasses(index, entity_class)) | {entity_class}
    found: list[Revision] = []
    cursor, scanned = before, 0
    while len(found) < limit and scanned < SCAN_LIMIT:
        batch = log.recent_matching(before=cursor, limit=BATCH, author=author, kind=kind)
        if not batch:
            return ChangesPage(found, None, False)
        scanned += len(batch)
        types = index.values({r.entity for r in batch}, INSTANCE_OF)
        for rev in batch:
            cursor = rev.id
            if classes & set(types.get(rev.entity, ())):
                found.append(rev)
                if len(found) == limit:
                    break
    if len(found) == limit:
        assert cursor is not None
        older = log.recent_matching(before=cursor, limit=1, author=author, kind=kind)
        return ChangesPage(found, cursor if older else None, False)
    return ChangesPage(found, cursor, True)
