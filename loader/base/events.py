"""Operational events as one structured log line each (logfmt: ``event=name key=value``),
so a log collector can count outages and alert on them (the Twelve-Factor app's logs as
an event stream): ``log_event(log, logging.WARNING, "store_outage_start", reason=...)``."""

from __future__ import annotations

import json
import logging


def logfmt(name: str, **fields: object) -> str:
    """``event=name`` and each field as ``key=value`` (values with spaces, quotes or
    ``=`` are JSON-quoted), on one line.

    >>> logfmt("store_outage_end", seconds=2.5, reason="connection refused")
    'event=store_outage_end seconds=2.5 reason="connection refused"'
    """
    parts = [f"event={name}"]
    for key, value in fields.items():
        text = str(value)
        if not text or any(c in text for c in ' "=\\\n\t'):
            text = json.dumps(text, ensure_ascii=False)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def log_event(logger: logging.Logger, level: int, name: str, **fields: object) -> None:
    """Log one event line (see :func:`logfmt`)."""
    logger.log(level, "%s", logfmt(name, **fields))
