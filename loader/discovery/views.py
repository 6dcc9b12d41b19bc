"""The whole-catalogue views of the page index, kept by :class:`loader.base.latest.Views`
(single flight, the newest finished result while one thread recomputes, privacy changes
waited for): browse counts, and whatever else a service keys (the network model and the
partnerships overview in ``network.py``, the places in ``geography.py``, the network and
map documents). The catalogue builds one (``Catalogue.views``) and hands it to them."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from loader.base.latest import Finished, Views
from loader.discovery import browse
from loader.storage.page_index import PageIndex
from loader.storage.revision_log import RevisionLog

T = TypeVar("T")


class IndexViews:
    """Views computed from the page index, each caught up with the log first."""

    def __init__(self, revisions: RevisionLog, page_index: PageIndex) -> None:
        self.page_index = page_index
        self.slots = Views(revisions.last_id, revisions.private_since)

    def get(self, key: Hashable, compute: Callable[[PageIndex], T]) -> Finished[T]:
        """``compute(page_index)`` for ``key``, as :meth:`Views.get` keeps it."""
        index = self.page_index

        def run() -> T:
            index.catch_up()
            return compute(index)

        return self.slots.get(key, run)

    def record_counts(self) -> Finished[list[tuple[str, str, int]]]:
        """:func:`browse.record_counts` (the home page and /browse/)."""
        return self.get(("record_counts",), browse.record_counts)

    def class_counts(self) -> Finished[list[tuple[str, int]]]:
        """:func:`browse.class_counts` (/browse/)."""
        return self.get(("class_counts",), browse.class_counts)

    def settle(self) -> None:
        """Wait for the background recomputations (:meth:`Views.settle`)."""
        self.slots.settle()

    def close(self) -> None:
        """Stop the background thread."""
        self.slots.close()
