"""A bounded, thread-safe LRU cache of rendered pages.

Keys include the revision log's newest id, so any change to the catalogue makes every
older entry unreachable (it ages out); nothing has to be invalidated by hand.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from flask import Flask, current_app

EXTENSION = "bigtent.page_cache"


@dataclass(frozen=True)
class CachedPage:
    """A rendered page and its validators."""

    body: bytes
    etag: str
    last_modified: str | None


class PageCache:
    """Least recently used pages, at most ``size`` of them (0 disables caching)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> CachedPage | None:
        """The page under ``key``, or None."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: CachedPage) -> None:
        """Remember a page, forgetting the least recently used beyond ``size``."""
        if self.size <= 0:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def init_app(app: Flask, size: int) -> None:
    """Give the app its page cache."""
    app.extensions[EXTENSION] = PageCache(size)


def get_page_cache() -> PageCache:
    """The current app's page cache."""
    cache: PageCache = current_app.extensions[EXTENSION]
    return cache
