"""The one error type Bigtent raises for anything a user or operator can fix."""

from __future__ import annotations

from collections.abc import Mapping


class BigtentError(Exception):
    """A problem with a clear cause and fix.

    ``status`` is the HTTP status the web app answers with; ``title`` a short
    summary; ``message`` says what is wrong, where, and how to fix it, naming the
    setting or field that controls it. ``details`` are extra facts a client can act
    on (suggestions, a search link, when something was deleted); they appear as
    further keys of the JSON body and on the HTML error page.
    """

    status: int = 400

    def __init__(
        self,
        message: str,
        *,
        title: str = "Bad request",
        status: int | None = None,
        retry_after: int | None = None,
        details: Mapping[str, object] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.title = title
        if status is not None:
            self.status = status
        #: seconds after which a retry may succeed (sent as the Retry-After header)
        self.retry_after = retry_after
        self.details = dict(details or {})

    def to_dict(self) -> dict[str, object]:
        """JSON shape used by every error response (``details`` never override it)."""
        fixed = {"ok": False, "status": self.status, "title": self.title, "error": self.message}
        return {**self.details, **fixed}


class ConfigError(BigtentError):
    """A setting has a value Bigtent cannot use."""

    status = 500


class Unavailable(BigtentError):
    """A service the catalogue depends on (the triple store, the shared database) cannot
    serve just now. ``message`` is for operators and goes to the server log: it names
    the host, the setting and the cause. ``public`` is all a visitor reads: no host,
    port, user or setting value (the web app's error handler swaps one for the other)."""

    status = 503
    #: what a visitor reads instead of ``message``
    public = "A service this catalogue depends on is not answering just now. Please try again."

    def __init__(
        self,
        message: str,
        *,
        title: str = "Service unavailable",
        public: str | None = None,
        retry_after: int | None = 5,
        status: int | None = None,
    ) -> None:
        super().__init__(message, title=title, retry_after=retry_after, status=status)
        if public is not None:
            self.public = public


class StoreBusyError(BigtentError):
    """Another process holds the embedded store."""

    status = 503


class NotFound(BigtentError):
    """No such entity or resource."""

    status = 404


class Gone(BigtentError):
    """The resource existed and was deleted on purpose."""

    status = 410


class SourceError(BigtentError):
    """An input as a whole cannot be loaded (unreadable, unsupported, bad syntax or
    structure). Nothing of it is written."""

    def __init__(
        self, source: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        where = source
        if line is not None:
            where += f", line {line}" + (f", column {column}" if column is not None else "")
        super().__init__(f"{where}: {message}", title="Input rejected")
        self.source = source
        self.line = line
        self.column = column
        self.detail = message


class DiskFull(BigtentError):
    """The file system holding the catalogue (DATA_DIR) has no room for a write. Nothing
    of the refused write was recorded."""

    status = 507

    def __init__(self, data_dir: object, detail: str = "") -> None:
        super().__init__(
            f"the disk holding DATA_DIR ({data_dir}) is full{': ' + detail if detail else ''}. "
            "Nothing of this change was written; free some space there (or lower "
            "DISK_RESERVE_MB) and try again.",
            title="Insufficient storage",
        )


#: errno values of a full file system (ENOSPC) or an exhausted quota (EDQUOT)
_FULL_ERRNOS = frozenset({28, 122})
_FULL_TEXTS = ("no space left on device", "database or disk is full", "disk quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (or an exception it was raised from or during) is how a full
    disk shows up: ENOSPC or EDQUOT from the system, SQLite's SQLITE_FULL, the store's
    "No space left on device", PostgreSQL's disk_full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFull):
            return True
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if getattr(current, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
            return True
        if getattr(current, "sqlstate", None) == "53100":  # PostgreSQL disk_full
            return True
        if any(text in str(current).lower() for text in _FULL_TEXTS):
            return True
        current = current.__cause__ or current.__context__
    return False
