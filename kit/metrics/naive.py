"""The naive latency query, and why it overstates: ``naive_latency``.

The query most people write first measures latency on the table as it is now:
``SinkModifiedOn - modifiedon`` for each record's current row. ``SinkModifiedOn`` is stamped
every time the conversion job writes the row, including when it lands the same row version
again (a re-sync, a re-initialisation, a retried batch). For such a row the naive query measures
the time to the *last* landing, not the first: the change was readable in the lake much earlier.
The kit measures latency to the first landing (``lake.changes``, DEFINITIONS.md).

``naive_latency`` puts both side by side on the same row versions: the versions that are
current in the snapshot (latest version per ``Id``, soft-deleted rows included) and whose first
landing the kit knows from the change feed or the commit history (where only the snapshot is
left, the kit's own ``landed_at`` is ``SinkModifiedOn`` and the two measures agree by
construction). The only difference is the clock that ends the wait. ``relanded_rows`` lists the
rows where the two differ, one per row version.
"""

from __future__ import annotations

import pandas as pd

from .common import per_table, resolve, typed_frame, unknown_time_sql
from ..dataverse import latest_version_sql, require_columns
from ..engines.sql import literal, quantile, quote

NAIVE_COLUMNS = {
    "table": "str",
    "changes": "int64",
    "naive_p50_s": "float64",
    "naive_p95_s": "float64",
    "naive_p99_s": "float64",
    "first_p50_s": "float64",
    "first_p95_s": "float64",
    "first_p99_s": "float64",
    "relanded": "int64",
    "relanded_share": "float64",
    "relanded_naive_p50_s": "float64",
    "relanded_first_p50_s": "float64",
    "snapshot_only": "int64",
    "method": "object",
    "exact": "bool",
}
RELANDED_COLUMNS = {
    "table": "str",
    "id": "str",
    "versionnumber": "int64",
    "modifiedon": "datetime64[us, UTC]",
    "first_landed": "datetime64[us, UTC]",
    "sink_modified": "datetime64[us, UTC]",
    "first_s": "float64",
    "naive_s": "float64",
}
# A row counts as landed again when its SinkModifiedOn is later than its first landing by more
# than this (seconds): the two clocks of one landing can differ by the job's own run time.
RELANDED_AFTER_S = 60


def naive_latency(lake, tables=None) -> pd.DataFrame:
    """Naive latency (``SinkModifiedOn - modifiedon`` on the current snapshot) against latency
    to first landing (``landed_at - modifiedon`` from ``lake.changes``), per table, on the same
    row versions.

    ``tables``: None (every Dataverse / F&O table with a ``SinkModifiedOn`` column; others are
    skipped, with a warning for those that are not metadata tables) or a name or list of names
    (which must have the columns: ``NotDataverseTableError`` otherwise).

    One row per table: ``table``; ``changes`` (row versions compared: current in the
    snapshot, first landing known from the change feed or the history, ``modifiedon`` a
    time, not a sentinel, and both latencies >= 0); ``naive_p50_s``, ``naive_p95_s``, ``naive_p99_s`` (seconds,
    ``SinkModifiedOn - modifiedon``); ``first_p50_s``, ``first_p95_s``, ``first_p99_s``
    (seconds, ``landed_at - modifiedon``); ``relanded`` (rows whose ``SinkModifiedOn`` is more
    than a minute after their first landing: landed again later), ``relanded_share`` (fraction
    0-1 of ``changes``), ``relanded_naive_p50_s`` and ``relanded_first_p50_s`` (the median of
    each measure over those rows; NULL without any); ``snapshot_only`` (current rows left out
    because only the snapshot knows their landing); ``method`` (the methods that measured the
    compared rows' first landing, ``change_feed`` / ``add_diff`` joined by ``+``; NULL when
    none); ``exact`` (always true: only rows whose first landing is known exactly are compared,
    the snapshot's are counted apart in ``snapshot_only``). Percentiles interpolate linearly
    (``quantile_cont``). Computed in DuckDB.
    """
    parts = _per_table(lake, tables, "naive_latency", lambda name, cols: _table_sql(lake, name, cols))
    if not parts:
        return typed_frame(None, NAIVE_COLUMNS)
    return typed_frame(lake.sql("\nunion all\n".join(parts) + "\norder by 1").df(), NAIVE_COLUMNS)


def relanded_rows(lake, tables=None) -> pd.DataFrame:
    """The current rows whose naive latency differs from their latency to first landing: one
    row per row version landed again more than a minute after its first landing (the rows
    counted in ``naive_latency``'s ``relanded``). Columns: ``table``, ``id``,
    ``versionnumber``, ``modifiedon``, ``first_landed`` (``landed_at``), ``sink_modified``
    (``SinkModifiedOn``: the last landing), ``first_s`` and ``naive_s`` (seconds from
    ``modifiedon``). Ordered by table, then ``naive_s - first_s`` descending."""
    parts = _per_table(
        lake, tables, "relanded_rows",
        lambda name, cols: f"select * from ({_pairs_sql(lake, name, cols)}) "
                           f"where naive_s - first_s > {RELANDED_AFTER_S} and method <> 'snapshot'",
    )
    if not parts:
        return typed_frame(None, RELANDED_COLUMNS)
    sql = "\nunion all\n".join(parts) + '\norder by "table", naive_s - first_s desc, id'
    return typed_frame(lake.sql(sql).df(), RELANDED_COLUMNS)


def _per_table(lake, tables, needed_for: str, build) -> list[str]:
    """``build(name, columns)`` for each analysed table that has the columns both measures
    need; a table without them raises when named, and is skipped with a warning otherwise."""
    names, strict = resolve(lake, tables, needed_for)

    def step(name):
        cols = require_columns(name, lake.columns(name), ("Id", "versionnumber", "modifiedon", "SinkModifiedOn"), needed_for)
        return build(name, cols)

    return list(per_table(names, strict, step).values())


def _pairs_sql(lake, name: str, cols: dict[str, str]) -> str:
    """Per current row version: both latencies (seconds) and the method of its first landing."""
    changes = lake.changes_sql(name)
    idc, ver, sink = quote(cols["Id"]), quote(cols["versionnumber"]), quote(cols["SinkModifiedOn"])
    latest = latest_version_sql(
        lake.view(name), lake.columns(name),
        f"CAST({idc} AS VARCHAR) AS id, CAST({ver} AS BIGINT) AS versionnumber, "
        f"CAST({sink} AS TIMESTAMPTZ) AS sink_modified",
    )
    return f"""
    with snap as ({latest}),
    ch as (select id, versionnumber, modifiedon, landed_at, method from ({changes}))
    select {literal(name)} AS "table", s.id, s.versionnumber, c.modifiedon, c.landed_at AS first_landed, s.sink_modified,
           epoch(c.landed_at) - epoch(c.modifiedon) AS first_s,
           epoch(s.sink_modified) - epoch(c.modifiedon) AS naive_s,
           c.method
    from snap s join ch c on s.id = c.id and s.versionnumber = c.versionnumber
    where not {unknown_time_sql('c.modifiedon')}
      and s.sink_modified is not null and c.landed_at is not null
      and epoch(s.sink_modified) - epoch(c.modifiedon) >= 0 and epoch(c.landed_at) - epoch(c.modifiedon) >= 0"""


def _table_sql(lake, name: str, cols: dict[str, str]) -> str:
    relanded = f"naive_s - first_s > {RELANDED_AFTER_S}"
    return f"""
    select {literal(name)} AS "table",
           count(*) filter (where known) AS changes,
           {quantile('naive_s', 0.5)} filter (where known) AS naive_p50_s,
           {quantile('naive_s', 0.95)} filter (where known) AS naive_p95_s,
           {quantile('naive_s', 0.99)} filter (where known) AS naive_p99_s,
           {quantile('first_s', 0.5)} filter (where known) AS first_p50_s,
           {quantile('first_s', 0.95)} filter (where known) AS first_p95_s,
           {quantile('first_s', 0.99)} filter (where known) AS first_p99_s,
           count(*) filter (where known and {relanded}) AS relanded,
           coalesce(count(*) filter (where known and {relanded}) / nullif(count(*) filter (where known), 0), 0) AS relanded_share,
           {quantile('naive_s', 0.5)} filter (where known and {relanded}) AS relanded_naive_p50_s,
           {quantile('first_s', 0.5)} filter (where known and {relanded}) AS relanded_first_p50_s,
           count(*) filter (where not known) AS snapshot_only,
           string_agg(DISTINCT method, '+' ORDER BY method) filter (where known) AS method,
           true AS exact
    from (select *, method <> 'snapshot' AS known from ({_pairs_sql(lake, name, cols)}))"""
