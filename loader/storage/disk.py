"""Room on the disk of DATA_DIR. Every write checks it first (:func:`ensure_room`), so a
full disk refuses a whole write before any of it is recorded, rather than failing half-way
between the revision log and the store; DISK_RESERVE_MB stays free for the store's own
housekeeping (compactions) and for the page index."""

from __future__ import annotations

import shutil
from pathlib import Path

from loader.base.errors import DiskFull
from loader.base.settings import Settings

#: Bytes a write needs per byte of content (N-Triples): the store's indexes take about
#: two, the revision log's compressed snapshot and the page index the rest (measured on
#: the 20 MB bench input: store ×2.1, log ×0.06, page index ×3.5 — the page index catches
#: up after the write, from the same free space).
BYTES_PER_CONTENT_BYTE = 6


def free_bytes(directory: Path) -> int:
    """Bytes an unprivileged process may still write on the file system of ``directory``
    (the nearest existing parent when it does not exist yet)."""
    path = directory.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def ensure_room(settings: Settings, content_bytes: int = 0) -> None:
    """Raise :class:`DiskFull` unless writing ``content_bytes`` of content leaves
    DISK_RESERVE_MB free on the disk of DATA_DIR."""
    reserve = int(settings.DISK_RESERVE_MB) << 20
    needed = BYTES_PER_CONTENT_BYTE * content_bytes
    free = free_bytes(settings.data_dir)
    if free - needed < reserve:
        wanted = f"this write needs about {needed >> 20} MB and " if needed >> 20 else ""
        raise DiskFull(
            settings.data_dir,
            f"{free >> 20} MB free; {wanted}DISK_RESERVE_MB ({reserve >> 20}) must stay free",
        )
