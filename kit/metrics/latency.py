"""How long a change takes to land: ``sync_latency``.

The latency of a change is ``landed_at - modifiedon``: from the moment Dataverse stamped the row
version to its first landing in the lake (DEFINITIONS.md, "Latency and volume").
"""

from __future__ import annotations

import pandas as pd

from ..engines.sql import quantile, seconds_between
from .schema import Column, Schema, documented
from .common import (
    METHOD_LABEL_SQL,
    unknown_time_sql,
    period_sql,
    periodic_frame,
)

WITHIN_15M_S = 900
WITHIN_60M_S = 3600

LATENCY = Schema(
    Column('table', 'str', 'logical table name.'),
    Column('period', 'datetime64[us, UTC]', 'start of the UTC hour / day / week of the chosen clock. A sentinel ``modifiedon`` (1900-01-01) gives a period of its own (with ``when="modified"``) whose changes are all excluded; a NULL clock gives a NULL period.'),
    Column('changes', 'int64', 'changes whose latency was measured (the included ones): not excluded below.'),
    Column('p50_s', 'float64', "seconds: the 50th percentile of the included changes' latency, linear interpolation between closest ranks (DuckDB ``quantile_cont``, numpy's default). NULL when ``changes`` is 0."),
    Column('p90_s', 'float64', "seconds: the 90th percentile of the included changes' latency, linear interpolation between closest ranks (DuckDB ``quantile_cont``, numpy's default). NULL when ``changes`` is 0."),
    Column('p95_s', 'float64', "seconds: the 95th percentile of the included changes' latency, linear interpolation between closest ranks (DuckDB ``quantile_cont``, numpy's default). NULL when ``changes`` is 0."),
    Column('p99_s', 'float64', "seconds: the 99th percentile of the included changes' latency, linear interpolation between closest ranks (DuckDB ``quantile_cont``, numpy's default). NULL when ``changes`` is 0."),
    Column('max_s', 'float64', 'seconds: the largest included latency.'),
    Column('within_15m', 'float64', 'fraction 0 to 1: share of the included changes with latency at most 900 s (inclusive). NULL when ``changes`` is 0.'),
    Column('within_60m', 'float64', 'fraction 0 to 1: share of the included changes with latency at most 3,600 s (inclusive). NULL when ``changes`` is 0.'),
    Column('excluded', 'int64', 'changes of the period left out of the figures above, never dropped silently: ``excluded_sentinel`` + ``excluded_negative`` + changes whose landing time is unknown (``landed_at`` NULL: a snapshot-only table without ``SinkModifiedOn``).'),
    Column('excluded_sentinel', 'int64', '``modifiedon`` NULL or a sentinel (at or before 1970-01-01T00:00:00Z: 1970-01-01, 1900-01-01, 0001-01-01).'),
    Column('excluded_negative', 'int64', 'negative latency (``landed_at`` before ``modifiedon``: clock skew between Dataverse and the lake writer).'),
    Column('method', 'str', "the method(s) that measured the period's changes (included or excluded), distinct values joined by ``+`` in alphabetical order: ``change_feed`` (exact first landings from the Delta change data feed), ``add_diff`` (exact first landings from the files each commit added), ``snapshot`` (each Id's latest version only; ``landed_at`` = ``SinkModifiedOn``, an upper bound of the first landing, so latencies are upper bounds), or a mix such as ``change_feed+snapshot`` where the feed covers only part of the history."),
    Column('exact', 'bool', "true when every change behind the row (included or excluded) was measured exactly (``change_feed`` or ``add_diff``) and its period lies wholly in the table's exact span (``kit.metrics.exactness``: the period starts at or after ``exact_from``; with ``by=None``, each change's UTC day does): the figures equal what happened. False: an estimate from the snapshot (each Id's latest version only): ``changes`` is a lower bound (at least) and each latency an upper bound (at most). By default (``include_estimates=False``) estimated changes are left out, so every row is exact, except for a table with no exact period at all (snapshot only), whose estimates are kept with ``exact`` false."),
)


@documented(LATENCY)
def sync_latency(lake, tables=None, *, by: str | None = "day", when: str = "modified", methods=None,
                 include_estimates: bool = False, since=None) -> pd.DataFrame:
    """Sync latency per table and period: how long changes took to land in the lake.

    The latency of a change (one landed row version, ``lake.changes``) is ``landed_at -
    modifiedon`` in seconds (float): from Dataverse's ``modifiedon`` of the version to its first
    landing (``landed_at``: the ``SinkCreatedOn`` of the first commit that landed it, else that
    commit's time). A version landed again later counts once, at its first landing; the purge
    of soft-deleted rows and compactions are not changes.

    Parameters
    ----------
    tables : None (every Dataverse and F&O table of the lake; tables without the columns
        ``Id``, ``versionnumber``, ``modifiedon`` are skipped and named in a warning), a table
        name, or a list of names (a named table lacking those columns raises
        ``NotDataverseTableError`` naming them).
    by : ``"hour"``, ``"day"`` (default), ``"week"`` (weeks start Monday) or None (one row per
        table, no ``period`` column). Periods are UTC.
    when : the clock that places a change in a period: ``"modified"`` (default; ``modifiedon``,
        what an integration sees) or ``"landed"`` (``landed_at``).
    methods : keep only the changes measured by these methods (``"change_feed"``, ``"add_diff"``,
        ``"snapshot"``, or a list); None keeps all. ``methods="change_feed"`` restricts the
        analysis to the versions the change feed saw land, whose ``landed_at`` is exact.
    include_estimates : False (default): only exact figures: the changes of the periods in each
        table's exact span (``kit.metrics.exactness``; with ``by=None``, of its exact UTC days),
        with a note naming where estimates were left out. True: every change, estimated
        periods flagged ``exact`` false (latencies there are upper bounds).

    since : only the changes whose clock (``when``) is at or after this UTC time (a datetime or
        ISO text; one without a zone is UTC), e.g. the start of the observed window, so a
        headline leaves out the initial load's backlog; None (default): all.

    Returns
    -------
    pandas.DataFrame, one row per table and period that has changes (periods without changes
    are omitted; with ``by=None`` every analysed table has a row, ``changes`` 0 when it has
    none), sorted by ``table``, ``period`` (NULL last):

    {columns}

    Runs in DuckDB on the lake's connection; only the aggregated rows come back.
    """
    return periodic_frame(lake, tables, by, when, methods, "sync_latency", LATENCY, latency_sql, include_estimates, since)


def latency_sql(changes: str, names: list[str], by: str | None, clock: str, keep: str, spans: str) -> str:
    """The SQL of ``sync_latency``: ``changes`` is the SQL of the changes with their
    ``exact`` and ``has_exact`` columns (``exactness.with_exactness_sql``), ``names`` the
    tables (one row each when ``by`` is None), ``clock`` the column placing a change in a
    period, ``keep`` a condition on the changes, ``spans`` the SQL of the tables' exact spans
    (``exactness.spans_sql``)."""
    period = f"{period_sql(by, clock)} AS period," if by else ""
    group = '"table", period' if by else '"table"'
    measured = f"""
    with changes as (
        {changes}
    ),
    measured as (
        select "table",
               {period}
               method,
               exact,
               case
                   when {unknown_time_sql('modifiedon')} then 'sentinel'
                   when landed_at is null then 'unknown'
                   when landed_at < modifiedon then 'negative'
                   else 'included'
               end AS status,
               {seconds_between('landed_at', 'modifiedon')} AS latency_s
        from changes
        where {keep}
    ),
    per_group as (
        select {group},
               count(*) filter (where status = 'included') AS changes,
               {quantile('latency_s', 0.50)} filter (where status = 'included') AS p50_s,
               {quantile('latency_s', 0.90)} filter (where status = 'included') AS p90_s,
               {quantile('latency_s', 0.95)} filter (where status = 'included') AS p95_s,
               {quantile('latency_s', 0.99)} filter (where status = 'included') AS p99_s,
               max(latency_s) filter (where status = 'included') AS max_s,
               count(*) filter (where status = 'included' and latency_s <= {WITHIN_15M_S}) AS n_15m,
               count(*) filter (where status = 'included' and latency_s <= {WITHIN_60M_S}) AS n_60m,
               count(*) filter (where status <> 'included') AS excluded,
               count(*) filter (where status = 'sentinel') AS excluded_sentinel,
               count(*) filter (where status = 'negative') AS excluded_negative,
               {METHOD_LABEL_SQL} AS method,
               bool_and(exact) AS exact
        from measured
        group by {group}
    )"""
    columns = """
           coalesce(g.changes, 0) AS changes,
           g.p50_s, g.p90_s, g.p95_s, g.p99_s,
           g.max_s,
           g.n_15m / nullif(g.changes, 0) AS within_15m,
           g.n_60m / nullif(g.changes, 0) AS within_60m,
           coalesce(g.excluded, 0) AS excluded,
           coalesce(g.excluded_sentinel, 0) AS excluded_sentinel,
           coalesce(g.excluded_negative, 0) AS excluded_negative,
           g.method"""
    if by:
        return f"""{measured}
    select g."table", g.period, {columns}, g.exact
    from per_group g
    order by g."table", g.period nulls last
    """
    # One row per analysed table, with or without changes.
    return f"""{measured}
    select t."table", {columns}, coalesce(g.exact, t.has_exact) AS exact
    from ({spans}) t
    left join per_group g using ("table")
    order by t."table"
    """
