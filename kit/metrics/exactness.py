"""Which figures are exact: the span of each table that ``lake.changes`` knows exactly.

A change (one row of ``lake.changes``) is **exact** when its ``method`` is ``change_feed`` or
``add_diff``: every landed row version is known, with its first landing. A ``snapshot`` row is
an **estimate**: only each Id's latest version is known, so counts built from such rows are
lower bounds ("at least") and each latency an upper bound ("at most": ``landed_at`` is the
last landing's ``SinkModifiedOn``, at or after the first landing).

A **period** (hour, day, week) is exact when every change placed in it was measured exactly
*and* none can be missing: the table's exact span covers it completely. The span starts at
``exact_from`` (DEFINITIONS.md, "Exact and estimated figures"):

- the table's coverage is complete (the change feed reaches its creation, or the add-file diff
  applies): every period is exact (``exact_from`` NULL, ``complete`` true);
- only the snapshot is known: no period is exact (``exact_from`` NULL, ``complete`` false);
- the change feed starts at version ``feed_from_version`` (older files vacuumed): ``exact_from``
  = the time of the table's last sync commit before that version (``lake.syncs``), else the
  feed's first commit time. A commit lands only changes made before it, so every change
  modified (or first landed) after ``exact_from`` landed in a commit the feed still holds. A
  period is exact when it *starts* at or after ``exact_from``: the day the feed starts part-way
  through is an estimate.

Rows of an analysis then say how their figures were obtained: ``method`` (the methods of the
changes behind the row) and ``exact`` (true only when every change behind it was measured
exactly and its periods lie in the exact span). By default the analyses leave estimated
periods out (``include_estimates=False``), except for a table with no exact period at all,
whose estimates are kept (``exact`` false) rather than shown as zeros.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd

from ..engines.sql import literal, timestamp_or_null, truncate
from ..errors import KitWarning
from .common import per_table, resolve

#: The methods that measure every landed row version with its first landing.
EXACT_METHODS = ("change_feed", "add_diff")
EXACT_METHODS_SQL = "(" + ", ".join(literal(m) for m in EXACT_METHODS) + ")"


@dataclass(frozen=True)
class Span:
    """The exact span of one table: ``complete`` (every period exact), else exact from
    ``exact_from`` on (None: never, the snapshot alone is known)."""

    table: str
    method: str
    complete: bool
    exact_from: pd.Timestamp | None
    #: Known from a store's collects (the lake alone would know less).
    collected: bool = False
    #: (start, end) of each span no collect saw (a store's coverage ``gaps``): changes modified
    #: (or first landed) in it may be missing, so periods touching it are estimates.
    gaps: tuple = ()

    @property
    def has_exact(self) -> bool:
        return self.complete or self.exact_from is not None

    def first_exact(self, unit: str = "day") -> pd.Timestamp | None:
        """The start of the first UTC hour / day / week wholly in the span (None when the span
        is complete or empty)."""
        if self.exact_from is None:
            return None
        t = pd.Timestamp(self.exact_from).tz_convert("UTC")
        freq = {"hour": "h", "day": "D"}.get(unit)
        if freq is not None:
            return t.ceil(freq)
        day = t.ceil("D")  # weeks start on Monday
        return day if day.dayofweek == 0 else day + pd.Timedelta(days=7 - day.dayofweek)


def table_span(lake, table: str) -> Span:
    """The exact span of ``table`` (see the module docstring), from ``lake.coverage`` and
    ``lake.syncs``."""
    cover = lake.coverage(table)
    gaps = tuple((_utc(g["from_time"]), _utc(g["to_time"])) for g in getattr(cover, "gaps", ())
                 if g.get("from_time") is not None and g.get("to_time") is not None)
    if cover.complete or (gaps and cover.feed_from_version == 0 and cover.method in EXACT_METHODS):
        # A store collected since the table's creation: exact but for its gaps.
        return Span(table, cover.method, True, None, cover.collected, gaps)
    if cover.method not in EXACT_METHODS or cover.feed_from_version is None:
        return Span(table, cover.method, False, None, cover.collected)
    rows = lake.sql(
        f"select max(committed_at) from ({lake.syncs_sql(table)}) where version < {int(cover.feed_from_version)}"
    ).fetchall()
    last = rows[0][0] if rows else None
    start = last if last is not None else cover.feed_from_time
    return Span(table, cover.method, False, None if start is None else _utc(start), cover.collected, gaps)


def spans(lake, names: list[str], strict: bool) -> dict[str, Span]:
    """``table_span`` of each name (an unreadable table raises when ``strict``, else is
    skipped with a warning)."""
    return per_table(names, strict, lambda name: table_span(lake, name))


def spans_sql(found: dict[str, Span]) -> str:
    """SQL of a relation ``"table"``, ``exact_from`` (TIMESTAMPTZ, NULL when complete or
    never), ``complete``, ``has_exact`` (BOOLEAN): one row per table."""
    rows = ", ".join(
        f"({literal(s.table)}, {timestamp_or_null(s.exact_from)}, {str(s.complete).lower()}, "
        f"{str(s.has_exact).lower()})"
        for s in found.values()
    )
    return f'select * from (values {rows}) AS s("table", exact_from, complete, has_exact)'


def with_exactness_sql(changes: str, found: dict[str, Span], unit: str, clock: str) -> str:
    """The changes (SQL) with two more columns: ``exact`` (the change was measured exactly and
    the ``unit`` period of ``clock`` that holds it lies in the table's exact span) and
    ``has_exact`` (the table has an exact span at all)."""
    period = truncate(unit, f"c.{clock}")
    # A period touching a span no collect saw (a store's gap) may miss changes.
    in_gap = " or ".join(
        f"""(c."table" = {literal(s.table)} and {period} between {truncate(unit, timestamp_or_null(a))}
            and {truncate(unit, timestamp_or_null(b))})"""
        for s in found.values() for a, b in s.gaps
    ) or "false"
    return f"""
    select c.*,
           (c.method IN {EXACT_METHODS_SQL} and coalesce({period} >= s.exact_from, s.complete)
            and not ({in_gap})) AS exact,
           s.has_exact
    from ({changes}) c
    join ({spans_sql(found)}) s on s."table" = c."table"
    """


def kept_sql(include_estimates: bool) -> str:
    """SQL condition on ``with_exactness_sql`` rows: the changes an analysis counts. Exact
    ones only, unless ``include_estimates`` or the table has no exact span at all."""
    return "true" if include_estimates else "(exact or not has_exact)"


def warn_left_out(found: dict[str, Span], unit: str = "day", stacklevel: int = 3) -> None:
    """One note naming, per first exact period, the tables whose earlier (estimated) periods
    an analysis left out, and how to ask for them."""
    starts: dict[str, list[str]] = {}
    for s in found.values():
        first = s.first_exact(unit)
        if first is not None:
            starts.setdefault(first.strftime("%Y-%m-%d %H:%M" if unit == "hour" else "%Y-%m-%d"), []).append(s.table)
    if not starts:
        return
    parts = "; ".join(f"{', '.join(sorted(t))} from {k}" for k, t in sorted(starts.items()))
    warnings.warn(
        f"Exact figures only (UTC): {parts}. Earlier periods are estimates from the snapshot (each "
        "record's latest version only: counts at least, latencies at most) and are left out; "
        "include_estimates=True (on the command line --include-estimates) adds them with exact=False.",
        KitWarning, stacklevel=stacklevel,
    )


def exact_spans(lake, tables=None) -> pd.DataFrame:
    """Per analysed table, the span in which ``lake.changes`` is exact. Columns:

    - ``table`` (str): logical table name.
    - ``method`` (str): the coverage method (``change_feed``, ``add_diff``, ``snapshot``).
    - ``complete`` (bool): every landed version is known, back to the table's creation: every
      period is exact.
    - ``exact_from`` (datetime64[us, UTC]): changes modified (or first landed) at or after it
      are all known exactly (the last sync commit before the change feed's first version); NaT
      when ``complete`` or when no period is exact.
    - ``first_exact_day`` (datetime64[us, UTC]): the first UTC day wholly in the span, the first
      exact day; NaT when ``complete`` or never.
    - ``exact`` (str): ``all`` (complete), ``from_day`` (exact from ``first_exact_day``) or
      ``none`` (snapshot only: every figure is an estimate).
    - ``collected`` (bool): the changes come from a store's collects (``open_lake(...,
      store=)``), which remember what the lake's vacuumed change feed no longer holds.
    """
    names, strict = resolve(lake, tables, "exact_spans")
    found = spans(lake, names, strict)
    rows = [{
        "table": s.table, "method": s.method, "complete": s.complete, "exact_from": s.exact_from,
        "first_exact_day": s.first_exact("day"),
        "exact": "all" if s.complete else ("from_day" if s.exact_from is not None else "none"),
        "collected": s.collected,
    } for s in found.values()]
    df = pd.DataFrame(rows, columns=["table", "method", "complete", "exact_from", "first_exact_day", "exact", "collected"])
    df["collected"] = df["collected"].astype(bool)
    for col in ("exact_from", "first_exact_day"):
        df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[us, UTC]")
    df["complete"] = df["complete"].astype(bool)
    return df.astype({"table": "str", "method": "str", "exact": "str"})


def _utc(value) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def window_exactness(span: Span | None, start) -> tuple[str, bool]:
    """(method, exact) of a figure counted over the changes of a window that starts at
    ``start``: exact when the window lies in the table's exact span; its method is then the
    table's (``change_feed``, ``add_diff``), else with ``+snapshot`` (or ``snapshot`` alone).
    ``span`` None (the table's coverage could not be read): (``unknown``, False)."""
    if span is None:
        return "unknown", False
    known = start is not None and not pd.isna(start)
    exact = (span.complete or (span.exact_from is not None and known
                               and pd.Timestamp(start) >= pd.Timestamp(span.exact_from)))
    if exact and span.gaps:  # a window reaching into a gap may miss changes
        exact = known and not any(end >= pd.Timestamp(start) for _, end in span.gaps)
    if exact:
        return span.method, True
    return ("snapshot" if span.method == "snapshot" else f"{span.method}+snapshot"), False


def spans_or_none(lake, names) -> dict[str, Span | None]:
    """``table_span`` of each name; None for a table whose coverage cannot be read (the
    analysis has already said why)."""
    from ..errors import KitError

    out: dict[str, Span | None] = {}
    for name in names:
        try:
            out[name] = table_span(lake, name)
        except KitError:
            out[name] = None
    return out
