"""People's data stays theirs: hiding, unhiding and erasing person records.

Hiding is decided at the source, so every public output inherits it:

* the revision log records ``hide`` and ``unhide`` as revisions (audited, with who and
  why); a ``hide`` revision carries the content unchanged, so staff still see it, and
  puts the entity in the state ``hidden``;
* the triple store holds no graph for a hidden entity (``entity_graph_ntriples`` is
  empty for it), so SPARQL, labels on other pages and ``full`` documents never show it;
* the page index, the dumps and the sitemap only take live entities; documents, pages
  and the edit API answer 404 to the public; the change feed shows the hide as a
  ``Delete`` and never a hidden entity's revision summaries.

Erasing goes further: every revision of the person loses its content and summary (the
rows stay, with their times, so revision ids and feed pages keep their numbering), an
``erase`` revision is the tombstone, the store graph is dropped,
the SQLite files are vacuumed, the store rebuilt in fresh files and the dumps rewritten, so
the bytes are gone from disk.
"""

from __future__ import annotations

import getpass
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import BT, ENTITY_ID, RDF
from loader.storage.revision_log import (
    DELETED,
    ERASED,
    HIDDEN,
    LIVE,
    REDIRECT,
    EntityState,
    NewRevision,
    Revision,
)

if TYPE_CHECKING:
    from loader.storage.page_index import PageIndex
    from loader.storage.repository import Repository

PERSON = BT + "Person"
MAX_REASON = 500


class Privacy:
    """Hide, unhide and erase person items (the catalogue owns one)."""

    def __init__(
        self,
        repository: Repository,
        page_index: PageIndex,
        rewrite_dumps: Callable[[], None],
        snapshots_in_use: Callable[[], bool],
    ) -> None:
        self.repository = repository
        self.page_index = page_index
        self.rewrite_dumps = rewrite_dumps
        self.snapshots_in_use = snapshots_in_use

    # --- writing --------------------------------------------------------------------------
    def hide(self, entity: str, reason: str, author: str | None = None) -> Revision:
        """Hide a live person item from every public output (a ``hide`` revision)."""
        reason = _reason(reason)
        state = self._state(entity)
        if state.state == HIDDEN:
            raise BigtentError(f"{entity} is already hidden", title="Already hidden", status=409)
        if state.state != LIVE:
            raise _not_live(entity, state, "hidden")
        rev = self._person_revision(entity)
        return self.repository.write_revisions(
            [
                NewRevision(
                    entity,
                    "hide",
                    self._author(author),
                    reason,
                    state.content_hash,
                    rev.snapshot,
                    check_latest=True,
                    expect_latest=state.latest,
                )
            ]
        )[0]

    def unhide(self, entity: str, author: str | None = None, summary: str = "") -> Revision:
        """Show a hidden person again (an ``unhide`` revision with the same content)."""
        state = self._state(entity)
        if state.state == ERASED:
            raise BigtentError(
                f"{entity} was erased: its data is gone and cannot be shown again",
                title="Erased",
                status=410,
            )
        if state.state != HIDDEN:
            raise BigtentError(
                f"{entity} is not hidden (it is {state.state}); only hidden persons can be "
                "unhidden",
                title="Not hidden",
                status=409,
            )
        rev = self.repository.revisions.get(entity)
        assert rev is not None
        return self.repository.write_revisions(
            [
                NewRevision(
                    entity,
                    "unhide",
                    self._author(author),
                    summary.strip()[:MAX_REASON] or "Unhidden",
                    state.content_hash,
                    rev.snapshot,
                    check_latest=True,
                    expect_latest=state.latest,
                )
            ]
        )[0]

    def erase(self, entity: str, author: str | None = None) -> Revision:
        """Remove a person's data from the store, every revision snapshot and the dumps,
        keeping a tombstone; then compact the files so no bytes of it remain."""
        state = self._state(entity)
        if state.state == ERASED:
            when = self.repository.revisions.revision_time(state.latest)
            raise BigtentError(
                f"{entity} was already erased on {when}; there is nothing left to erase",
                title="Already erased",
                status=409,
            )
        self._person_revision(entity)
        who = self._author(author)
        change = NewRevision(
            entity, "erase", who, ERASED, check_latest=True, expect_latest=state.latest
        )
        [rev] = self.repository.write_revisions([change], erase=True)
        self.purge()
        return rev

    def purge(self) -> None:
        """Make removed content unrecoverable from DATA_DIR: rebuild the store in fresh
        files, vacuum the revision log and page index, drop SPARQL snapshots, rewrite
        existing dumps. Needs the store to itself (the server stopped), like reindex."""
        repo = self.repository
        repo.rebuild_store()
        repo.revisions.compact()
        self.page_index.catch_up()
        self.page_index.compact()
        snapshots = repo.settings.data_dir / "snapshots"
        if snapshots.is_dir() and not self.snapshots_in_use():
            # Leftovers of a server that stopped abruptly: hard-linked copies of the store.
            shutil.rmtree(snapshots, ignore_errors=True)
        self.rewrite_dumps()

    # --- helpers --------------------------------------------------------------------------
    def _author(self, author: str | None) -> str:
        return author or self.repository.settings.AUTHOR or getpass.getuser()

    def _state(self, entity: str) -> EntityState:
        if not ENTITY_ID.match(entity):
            raise BigtentError(
                f"{entity[:40]!r} is not an entity id: ids look like Q42",
                title="Bad entity id",
                status=400,
            )
        state = self.repository.revisions.state(entity)
        if state is None:
            raise NotFound(f"there is no entity {entity} in this catalogue", title="Not found")
        return state

    def _person_revision(self, entity: str) -> Revision:
        """The newest revision of ``entity`` that has content; refuses non-persons."""
        log = self.repository.revisions
        for past in log.history(entity):
            rev = log.get(entity, past.id)
            if rev is not None and rev.snapshot is not None:
                if _is_person(self.repository.ns.entity(entity).value, rev.snapshot):
                    return rev
                break
        raise BigtentError(
            f"{entity} is not a person: only person items (instance of person or a "
            "subclass) can be hidden or erased",
            title="Not a person",
            status=422,
        )


def _is_person(entity_iri: str, snapshot: bytes) -> bool:
    line = f"<{entity_iri}> <{RDF}type> <{PERSON}> .".encode()
    return line in snapshot.split(b"\n")


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise BigtentError(
            "give a reason for hiding (reason): it is kept in the audit log for staff",
            title="Reason required",
            status=422,
        )
    return text[:MAX_REASON]


def _not_live(entity: str, state: EntityState, verb: str) -> BigtentError:
    if state.state == REDIRECT:
        why = f"was merged into {state.redirect}"
    elif state.state == DELETED:
        why = "was deleted"
    else:
        why = f"is {state.state}"
    return BigtentError(
        f"{entity} {why}; only live person items can be {verb}", title="Conflict", status=409
    )
