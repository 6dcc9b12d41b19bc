"""Reading a test database directly, on either engine (to check what is stored)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg


def raw_rows(target: Path | str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one query (no parameters) on a SQLite file or a PostgreSQL URL."""
    if isinstance(target, Path):
        with sqlite3.connect(target) as db:
            return list(db.execute(sql))
    with psycopg.connect(target) as conn:
        return list(conn.execute(sql))
