"""How many changes a table sees: ``change_volume``."""

from __future__ import annotations

import pandas as pd

from .schema import Column, Schema, documented
from .common import (
    METHOD_LABEL_SQL,
    period_sql,
    periodic_frame,
)

VOLUME = Schema(
    Column('table', 'str', 'logical table name.'),
    Column('period', 'datetime64[us, UTC]', 'start of the UTC hour / day / week of the chosen clock. A sentinel ``modifiedon`` (1900-01-01) is counted in its own 1900 period; a NULL clock gives a NULL period (never dropped).'),
    Column('creates', 'int64', "changes of kind ``create`` (the record's first landed version; from the snapshot alone: ``createdon`` equals ``modifiedon`` to the second)."),
    Column('updates', 'int64', 'changes of kind ``update``.'),
    Column('deletes', 'int64', 'changes of kind ``delete`` (the version has IsDelete true: the soft delete Synapse Link lands, not the later purge).'),
    Column('total', 'int64', '``creates + updates + deletes``, in changes (row versions).'),
    Column('method', 'str', "the method(s) that measured the period's changes, distinct values joined by ``+`` in alphabetical order: ``change_feed`` (exact, from the Delta change data feed), ``add_diff`` (exact, from the files each commit added), ``snapshot`` (only each Id's latest version is known, so counts are lower bounds: earlier versions of a record and purged deletes are not seen), or a mix such as ``change_feed+snapshot``."),
    Column('exact', 'bool', "true when every change behind the row was measured exactly (``change_feed`` or ``add_diff``) and its period lies wholly in the table's exact span (``kit.metrics.exactness``: the period starts at or after ``exact_from``; with ``by=None``, each change's UTC day does): the counts equal what landed. False: an estimate, a lower bound (at least: the snapshot knows each Id's latest version only). By default (``include_estimates=False``) estimated changes are left out, so every row is exact, except for a table with no exact period at all (snapshot only), whose estimates are kept with ``exact`` false."),
)


@documented(VOLUME)
def change_volume(lake, tables=None, *, by: str | None = "hour", when: str = "modified", methods=None,
                  include_estimates: bool = False, since=None) -> pd.DataFrame:
    """Changes per table and period, by kind.

    A change is one landed row version (``lake.changes``: one row per (``Id``,
    ``versionnumber``)): a version landed again later counts once; the purge of soft-deleted
    rows and compactions (OPTIMIZE) count as nothing.

    Parameters
    ----------
    tables : None (every Dataverse and F&O table of the lake; tables without the columns
        ``Id``, ``versionnumber``, ``modifiedon`` are skipped and named in a warning), a table
        name, or a list of names (a named table lacking those columns raises
        ``NotDataverseTableError`` naming them).
    by : ``"hour"`` (default), ``"day"``, ``"week"`` (weeks start Monday) or None (one row per
        table, no ``period`` column). Periods are UTC.
    when : the clock that places a change in a period: ``"modified"`` (default; Dataverse
        ``modifiedon``, what an integration sees) or ``"landed"`` (``landed_at``, the first
        landing in the lake).
    methods : keep only the changes measured by these methods (``"change_feed"``,
        ``"add_diff"``, ``"snapshot"``, or a list); None keeps all.
    include_estimates : False (default): only exact counts: the changes of the periods in each
        table's exact span (``kit.metrics.exactness``; with ``by=None``, of its exact UTC days),
        with a note naming where estimates were left out. True: every change, estimated
        periods flagged ``exact`` false (their counts are lower bounds).

    since : only the changes whose clock (``when``) is at or after this UTC time (a datetime or
        ISO text; one without a zone is UTC), e.g. the start of the observed window, so a
        headline leaves out the initial load's backlog; None (default): all.

    Returns
    -------
    pandas.DataFrame, one row per table and period that has changes (periods without changes
    are omitted; with ``by=None`` every analysed table has a row, zeros when it has no
    changes), sorted by ``table``, ``period`` (NULL last):

    {columns}

    Runs in DuckDB on the lake's connection; only the aggregated rows come back.
    """
    return periodic_frame(lake, tables, by, when, methods, "change_volume", VOLUME, volume_sql, include_estimates, since)


def volume_sql(changes: str, names: list[str], by: str | None, clock: str, keep: str, spans: str) -> str:
    """The SQL of ``change_volume`` (see ``latency_sql`` for the arguments)."""
    period = f"{period_sql(by, clock)} AS period," if by else ""
    group = '"table", period' if by else '"table"'
    counted = f"""
    with changes as (
        {changes}
    ),
    per_group as (
        select "table",
               {period}
               count(*) filter (where change = 'create') AS creates,
               count(*) filter (where change = 'update') AS updates,
               count(*) filter (where change = 'delete') AS deletes,
               count(*) AS total,
               {METHOD_LABEL_SQL} AS method,
               bool_and(exact) AS exact
        from changes
        where {keep}
        group by {group}
    )"""
    if by:
        return f"""{counted}
    select "table", period, creates, updates, deletes, total, method, exact
    from per_group
    order by "table", period nulls last
    """
    return f"""{counted}
    select t."table",
           coalesce(g.creates, 0) AS creates,
           coalesce(g.updates, 0) AS updates,
           coalesce(g.deletes, 0) AS deletes,
           coalesce(g.total, 0) AS total,
           g.method,
           coalesce(g.exact, t.has_exact) AS exact
    from ({spans}) t
    left join per_group g using ("table")
    order by t."table"
    """
