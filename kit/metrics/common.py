"""What every analysis shares: which tables, the union of their changes, periods and clocks.

Periods are UTC (the connection runs with TimeZone = 'UTC'); weeks start on Monday.
"""

from __future__ import annotations

import warnings

from ..engines.sql import literal, timestamp, truncate
from ..errors import KitError
from ..errors import SkippedTableWarning, StoreError
from ..settings import SENTINEL_UNTIL
from .schema import Column, Schema

BY_VALUES = ("hour", "day", "week")
WHEN_COLUMNS = {"modified": "modifiedon", "landed": "landed_at"}


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


def unknown_time_sql(column: str = "modifiedon") -> str:
    """SQL condition: the TIMESTAMPTZ ``column`` holds no time: NULL, or a sentinel at or before
    1970-01-01T00:00:00Z (``settings.SENTINEL_UNTIL``: 1970-01-01, 1900-01-01, 0001-01-01)."""
    return f"({column} is null or {column} <= TIMESTAMPTZ '{SENTINEL_UNTIL}')"


def period_sql(by: str, column: str) -> str:
    """SQL truncating a TIMESTAMPTZ column to the start of its UTC hour, day or ISO week."""
    return truncate(by, column)


def resolve(lake, tables, needed_for: str) -> tuple[list[str], bool]:
    """(the tables to analyse, strict): ``strict`` when the caller named them, so an
    unreadable one raises instead of being skipped."""
    return lake.analysable(tables, needed_for=needed_for), tables is not None


def per_table(names, strict: bool, step) -> dict:
    """``{name: step(name)}`` over ``names``, in order. A ``KitError`` raises when ``strict``
    (the caller named the tables); otherwise the table is left out with a
    ``SkippedTableWarning`` naming it and why."""
    out = {}
    for name in names:
        try:
            out[name] = step(name)
        except StoreError:
            raise  # the store, not this table: every table would fail alike
        except KitError as exc:
            if strict:
                raise
            warnings.warn(f"Skipped table {name!r}: {exc}", SkippedTableWarning, stacklevel=3)
    return out


def changes_union_sql(lake, tables: list[str], strict: bool) -> str | None:
    """SQL with the changes of all ``tables`` (UNION ALL), to run on ``lake.connection``; None
    when no table is left. ``strict`` (the caller named the tables): an unreadable table
    raises; otherwise it is skipped with a warning."""
    parts = per_table(tables, strict, lambda name: f"select * from ({lake.changes_sql(name)})")
    if not parts:
        return None
    return "\nunion all\n".join(parts.values())


# -- Added for latency / volume / throughput ---------------------------------------------------
#: ``history`` is the earlier name of ``add_diff`` (no longer produced, still accepted).
METHOD_VALUES = ("change_feed", "add_diff", "history", "snapshot")

# The `method` column of an aggregate: the distinct methods of the group's changes joined by '+'
# in alphabetical order ('change_feed', 'change_feed+snapshot'...; a table has either add_diff
# or change_feed, never both).
METHOD_LABEL_SQL = "string_agg(DISTINCT method, '+' ORDER BY method)"


def method_filter_sql(methods) -> str:
    """SQL condition keeping the changes measured by ``methods`` (a name or a list of
    ``change_feed`` / ``add_diff`` / ``history`` / ``snapshot``); ``None`` keeps all (``true``)."""
    if methods is None:
        return "true"
    if isinstance(methods, str):
        methods = [methods]
    methods = list(methods)
    unknown = [m for m in methods if m not in METHOD_VALUES]
    if unknown or not methods:
        raise KitError(
            f"methods={methods!r}: use one or more of {', '.join(repr(m) for m in METHOD_VALUES)}, or None for all."
        )
    # ``history`` is the earlier name of ``add_diff``.
    methods = sorted({"add_diff" if m == "history" else m for m in methods})
    return "method IN (" + ", ".join("'" + m + "'" for m in methods) + ")"


def analysed_changes(lake, tables, needed_for: str, methods=None) -> tuple[list[str], str | None]:
    """(the tables analysed, SQL of their changes UNION ALL) for an analysis: ``resolve``
    then each table's changes, so the caller knows which tables were kept
    (unreadable ones are skipped with a warning when ``tables`` is None, raise otherwise).
    The SQL runs through ``lake.sql`` (the views it needs are registered). ``methods`` (a name
    or a list, see ``method_filter_sql``) is handed to ``lake.changes_sql``, so a feed-only
    question never computes the snapshot's rows; the caller still filters with
    ``method_filter_sql``."""
    names, strict = resolve(lake, tables, needed_for)
    if methods is not None:
        method_filter_sql(methods)  # an unknown method raises before any table is read
        methods = [methods] if isinstance(methods, str) else list(methods)
    parts = per_table(names, strict, lambda name: f"select * from ({lake.changes_sql(name, methods=methods)})")
    return list(parts), ("\nunion all\n".join(parts.values()) if parts else None)


def tables_values_sql(names: list[str]) -> str:
    """SQL of a one-column relation ``"table"`` listing ``names`` (for one row per table,
    changes or not)."""
    rows = ", ".join(f"({literal(n)})" for n in names)
    return f'select * from (values {rows}) AS t("table")'


def typed_frame(df, dtypes: dict):
    """``df`` with exactly the columns of ``dtypes`` in that order, cast to those dtypes (an
    empty frame with those columns when ``df`` is None): ``Schema.frame`` without meanings."""
    return Schema(*(Column(name, dtype, "") for name, dtype in dtypes.items())).frame(df)


def utc_time(value, name: str):
    """``value`` (a datetime, ``pd.Timestamp`` or ISO text) as a UTC ``pd.Timestamp``; a time
    without a zone is UTC. A ``KitError`` naming ``name`` when it is not a time."""
    import pandas as pd

    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise KitError(f"{name}={value!r} is not a time: pass a datetime or ISO text such as '2026-09-01T00:00:00Z'.") from None
    if pd.isna(t):
        raise KitError(f"{name}={value!r} is not a time: pass a datetime or ISO text such as '2026-09-01T00:00:00Z'.")
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def periodic_frame(lake, tables, by, when, methods, needed_for: str, schema, build_sql, include_estimates: bool = False,
                   since=None):
    """The common run of a per-table-and-period analysis: check ``by`` and ``when``, gather the
    changes of the analysed tables with their exactness (``exactness.with_exactness_sql``: each
    change's ``exact`` and its table's ``has_exact``; the period that decides it is ``by``, or
    the UTC day when ``by`` is None), run ``build_sql(changes, names, by, clock, keep, spans)``
    in DuckDB and type the aggregated result (no ``period`` column when ``by`` is None).
    ``keep`` holds the method filter and, unless ``include_estimates``, leaves out the
    estimated changes (``exactness.kept_sql``), and with ``since`` the changes whose clock is
    earlier; ``spans`` is the SQL of the tables' spans."""
    from .exactness import kept_sql, spans, spans_sql, warn_left_out, with_exactness_sql

    check_by(by)
    clock = clock_column(when)
    if not isinstance(include_estimates, bool):
        raise KitError(f"include_estimates={include_estimates!r}: use True or False.")
    keep = method_filter_sql(methods) + " and " + kept_sql(include_estimates)
    if since is not None:
        keep += f" and {clock} >= {timestamp(utc_time(since, 'since'))}"
    names, changes = analysed_changes(lake, tables, needed_for, methods)
    if by is None:
        schema = schema.without("period")
    if changes is None:
        return schema.frame(None)
    found = spans(lake, names, tables is not None)
    names = [n for n in names if n in found]
    if not names:
        return schema.frame(None)
    unit = by or "day"
    if not include_estimates:
        warn_left_out(found, unit, stacklevel=4)
    sql = build_sql(with_exactness_sql(changes, found, unit, clock), names, by, clock, keep, spans_sql(found))
    df = lake.sql(sql).df()
    return schema.frame(df)
