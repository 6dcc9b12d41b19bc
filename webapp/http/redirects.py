"""Where a ``next=`` argument may send a reader: only to a path of this site.

Every redirect whose target comes from the request (after logging in, after switching
the interface language) goes through :func:`safe_next`, so no link can make Bigtent
send a reader to another site (an open redirect, OWASP's "unvalidated redirects").
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

#: Longer targets are not followed (a path of this site is far shorter).
MAX_NEXT_LENGTH = 2048
#: Percent-decoding rounds looked through (``%252F`` is ``/`` after two).
DECODE_ROUNDS = 3


def safe_next(target: object, default: str = "/") -> str:
    """``target`` when it is a path of this site, else ``default``.

    Accepted: a string starting with a single ``/`` followed by anything but ``/`` or
    ``\\``, with no backslash, whitespace or control character anywhere (browsers drop
    tabs and newlines inside URLs and read ``\\`` as ``/``, so ``/<TAB>/evil.example`` and
    ``/\\evil.example`` lead to evil.example; CR/LF could also split the header), whose
    path stays so once percent-decoded (``/%2F%2Fevil.example``, ``/%5Cevil.example``),
    and with neither scheme nor host."""
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT_LENGTH:
        return default
    if not _local_path(target):
        return default
    path = target.split("?", 1)[0].split("#", 1)[0]
    for _ in range(DECODE_ROUNDS):
        decoded = unquote(path)
        if decoded == path:
            break
        if not _local_path(decoded):
            return default
        path = decoded
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _local_path(text: str) -> bool:
    """True when ``text`` starts as a path of this site and holds nothing a browser
    strips or rewrites."""
    if not text.startswith("/") or text[1:2] in ("/", "\\") or "\\" in text:
        return False
    return not any(c.isspace() or unicodedata.category(c)[0] in "CZ" for c in text)
