"""What every analysis shares: which tables, the union of their changes, periods and clocks.

Periods are UTC (the connection runs with TimeZone = 'UTC'); weeks start on Monday.
"""

from __future__ import annotations

import warnings

from .errors import KitError

BY_VALUES = ("hour", "day", "week")
WHEN_COLUMNS = {"modified": "modifiedon", "landed": "landed_at"}
# modifiedon values before this year are "no value" sentinels (1900-01-01, 0001-01-01).
SENTINEL_BEFORE_YEAR = 1901


def check_by(by: str | None, allow_none: bool = True) -> None:
    if by is None and allow_none:
        return
    if by not in BY_VALUES:
        allowed = ", ".join(repr(b) for b in BY_VALUES) + (" or None" if allow_none else "")
        raise KitError(f"by={by!r} is not a period: use {allowed}.")


def clock_column(when: str) -> str:
    """The changes() column that places a change in a period: ``modifiedon`` or ``landed_at``."""
    if when not in WHEN_COLUMNS:
        raise KitError(f"when={when!r} is not a clock: use 'modified' (Dataverse modifiedon) or 'landed' (first landing).")
    return WHEN_COLUMNS[when]


def period_sql(by: str, column: str) -> str:
    """SQL truncating a TIMESTAMPTZ column to the start of its UTC hour, day or ISO week."""
    return f"date_trunc('{by}', {column})"


def select_tables(lake, tables, needed_for: str) -> list[str]:
    """Tables to analyse: see ``Lake.analysable``."""
    return lake.analysable(tables, needed_for=needed_for)


def changes_union_sql(lake, tables: list[str], strict: bool) -> str | None:
    """SQL with the changes of all ``tables`` (UNION ALL), to run on ``lake.connection``; None
    when no table is left. ``strict`` (the caller named the tables): an unreadable table
    raises; otherwise it is skipped with a warning."""
    parts = []
    for name in tables:
        try:
            parts.append(f"select * from ({lake.changes_sql(name)})")
        except KitError as exc:
            if strict:
                raise
            warnings.warn(f"Skipped table {name!r}: {exc}", stacklevel=3)
    if not parts:
        return None
    return "\nunion all\n".join(parts)
