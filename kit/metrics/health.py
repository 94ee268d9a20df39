"""Is the sync running? Cadence of sync commits, the outages between them, and freshness.

``sync_cadence`` and ``freshness`` read the Delta log only (``lake.history(table)``): no data
file is opened. ``sync_gaps`` finds long intervals in the log, then asks ``lake.changes`` whether
changes waited in them (an outage) or nobody changed anything (a quiet night).

Sync commits (DEFINITIONS.md, "Cadence, gaps, freshness")
    The ``syncs`` relation (``lake.syncs``): the commits that landed row versions, by the
    table format's rule (for Delta: a data-changing MERGE or write whose metrics say it
    inserted or updated rows, or recorded no metrics; never OPTIMIZE, VACUUM or the purge).
Commit time
    ``commitInfo.timestamp`` (or ``inCommitTimestamp``); where absent, the commit file's
    modification time. UTC. Intervals are between consecutive sync commits in log order, over
    the commits the log still holds (commits older than the oldest kept checkpoint are gone).
Percentiles
    Linear interpolation between closest ranks (DuckDB ``quantile_cont``, numpy's default).
"""

from __future__ import annotations

import pandas as pd

from ..engines.sql import literal
from ..errors import KitError
from .common import changes_union_sql, per_table, resolve

#: An interval longer than this many times the table's median interval is a gap (an outage when
#: changes waited in it).
GAP_FACTOR = 3.0
#: A change waited in a gap when it was modified at least this many median intervals before its end.
WAIT_FACTOR = 2.0
#: A table is stale when its staleness exceeds this many times its median interval.
STALE_FACTOR = 3.0

CADENCE_COLUMNS = ("table", "commits", "first_commit", "last_commit", "median_interval_s", "p95_interval_s", "max_interval_s")
GAP_COLUMNS = ("table", "start", "end", "seconds", "waiting")
FRESHNESS_COLUMNS = ("table", "last_landed", "as_of", "staleness_s", "cadence_s", "stale")


# -- shared plumbing ----------------------------------------------------------------------------
def utc_timestamp(value, name: str = "as_of") -> pd.Timestamp:
    """A point in time as a tz-aware UTC ``pd.Timestamp``: a datetime (naive = UTC), a
    ``pd.Timestamp`` or an ISO string (``'2026-01-31 12:00'``, ``'2026-01-31T12:00:00Z'``)."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise KitError(f"{name}={value!r} is not a point in time: give a datetime or an ISO string ({exc}).") from None
    if ts is pd.NaT:
        raise KitError(f"{name}={value!r} is not a point in time: give a datetime or an ISO string.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


SYNC_DTYPES = {"table": "str", "version": "int64", "committed_at": "datetime64[us, UTC]",
               "operation": "str", "rows_landed": "Int64"}


def sync_commits(lake, tables: list[str], strict: bool) -> tuple[pd.DataFrame, list[str]]:
    """The sync commits of ``tables`` (already resolved names; ``lake.syncs``) and the tables
    whose log was read. The frame: ``table``, ``version``, ``committed_at`` (UTC),
    ``operation``, ``rows_landed``, oldest first per table. ``strict`` (the caller named the
    tables): an unreadable log raises; otherwise the table is skipped with a warning."""
    parts = per_table(tables, strict, lake.syncs_sql)
    if parts:
        union = "\nunion all\n".join(parts.values())
        out = lake.sql(f'select * from ({union}) order by "table", version').df()
    else:
        out = pd.DataFrame({c: pd.Series(dtype=t) for c, t in SYNC_DTYPES.items()})
    out = out.astype(SYNC_DTYPES)
    return out.reset_index(drop=True), list(parts)


def _resolve(lake, tables, needed_for: str) -> tuple[list[str], bool]:
    return resolve(lake, tables, needed_for)


# Consecutive sync commits per table, with the interval that ends at each one.
_INTERVALS_SQL = """
    select "table",
           lag(committed_at) over w AS previous_at,
           committed_at,
           epoch(committed_at - lag(committed_at) over w) AS interval_s
    from sync_commits
    window w as (partition by "table" order by version)
"""


def _cadence_frame(lake, commits: pd.DataFrame) -> pd.DataFrame:
    con = lake.engine.scratch()
    try:
        con.register("sync_commits", commits)
        df = con.sql(
            f"""
            with intervals as ({_INTERVALS_SQL})
            select "table",
                   count(*) AS commits,
                   min(committed_at) AS first_commit,
                   max(committed_at) AS last_commit,
                   quantile_cont(interval_s, 0.5) AS median_interval_s,
                   quantile_cont(interval_s, 0.95) AS p95_interval_s,
                   max(interval_s) AS max_interval_s
            from intervals
            group by "table"
            order by "table"
            """
        ).df()
    finally:
        con.close()
    return df


def _typed(df: pd.DataFrame, columns, times=(), floats=(), ints=()) -> pd.DataFrame:
    df = df.reindex(columns=list(columns))
    for c in times:
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    for c in floats:
        df[c] = df[c].astype("float64")
    for c in ints:
        df[c] = df[c].astype("int64")
    return df.reset_index(drop=True)


# -- public functions -----------------------------------------------------------------------
def sync_cadence(lake, tables=None) -> pd.DataFrame:
    """How often each table syncs: one row per table, from the Delta log.

    ``tables``: a name or a list; ``None`` = every Dataverse and F&O table of the lake (tables
    without the Dataverse columns ``Id``, ``versionnumber``, ``modifiedon`` are skipped and
    listed in a warning; naming one raises ``NotDataverseTableError`` naming the columns).

    Columns (method: the table's Delta log, ``lake.history``; see the module docstring for
    what a sync commit is):

    - ``table``: logical table name.
    - ``commits``: number of sync commits the log holds (count).
    - ``first_commit``, ``last_commit``: times of the first and last sync commit (UTC).
    - ``median_interval_s``, ``p95_interval_s``, ``max_interval_s``: median, 95th percentile
      (linear interpolation) and maximum of the intervals between consecutive sync commits,
      in seconds (float). NaN when the table has fewer than two sync commits.
    """
    names, strict = _resolve(lake, tables, "sync_cadence")
    commits, read = sync_commits(lake, names, strict)
    df = _cadence_frame(lake, commits)
    # Tables read but without any sync commit still get a row (commits = 0).
    df = df.set_index("table").reindex(read).rename_axis("table").reset_index()
    df["commits"] = df["commits"].fillna(0)
    return _typed(
        df, CADENCE_COLUMNS, times=("first_commit", "last_commit"),
        floats=("median_interval_s", "p95_interval_s", "max_interval_s"), ints=("commits",),
    )


def gaps_frame(lake, commits: pd.DataFrame) -> pd.DataFrame:
    """The long intervals (``table``, ``start``, ``end``, ``seconds``, ``median_interval_s``)
    in a frame of sync commits as ``sync_commits`` returns it: longer than 3 times the table's
    median interval, quiet or not."""
    con = lake.engine.scratch()
    try:
        con.register("sync_commits", commits)
        df = con.sql(
            f"""
            with intervals as ({_INTERVALS_SQL}),
            cadence as (
                select "table", quantile_cont(interval_s, 0.5) AS median_interval_s
                from intervals
                group by "table"
            )
            select i."table", i.previous_at AS "start", i.committed_at AS "end", i.interval_s AS seconds,
                   c.median_interval_s
            from intervals i
            join cadence c using ("table")
            where i.interval_s > {GAP_FACTOR} * c.median_interval_s
            order by i."table", i.previous_at
            """
        ).df()
    finally:
        con.close()
    return df


def waiting_changes(lake, gaps: pd.DataFrame, strict: bool) -> pd.Series:
    """For each row of ``gaps`` (as ``gaps_frame`` returns them), the number of changes the
    interval kept waiting (see ``sync_gaps``): modified after its start and no later than two
    median intervals before its end (``cutoff``), and landed by the commit that ended it
    (``landed_at`` between the cutoff and a minute after the end; a NULL ``landed_at`` is
    accepted). Counted in DuckDB over ``lake.changes``. NA for a table whose changes cannot be
    read (skipped with a warning unless ``strict``)."""
    out = pd.Series(pd.NA, index=gaps.index, dtype="Int64")
    if gaps.empty:
        return out
    found = per_table(list(gaps["table"].unique()), strict, lambda name: changes_union_sql(lake, [name], True))
    parts, read = list(found.values()), list(found)
    if not parts:
        return out
    cutoff = gaps["end"] - WAIT_FACTOR * pd.to_timedelta(gaps["median_interval_s"], unit="s")
    rows = ",\n            ".join(
        f"({int(i)}, {literal(gaps.at[i, 'table'])}, {_ts_sql(gaps.at[i, 'start'])}, "
        f"{_ts_sql(cutoff[i])}, {_ts_sql(gaps.at[i, 'end'])})"
        for i in gaps.index
        if gaps.at[i, "table"] in read
    )
    union = "\nunion all\n".join(parts)
    sql = f"""
        with changes as ({union}),
        gaps(gap, "table", "start", cutoff, "end") as (
            values {rows}
        )
        select g.gap, count(c.id) AS waiting
        from gaps g
        left join changes c
          on c."table" = g."table"
         and c.modifiedon > g."start"
         and c.modifiedon <= g.cutoff
         and (c.landed_at is null
              or (c.landed_at >= g.cutoff and c.landed_at <= g."end" + interval 1 minute))
        group by g.gap
    """
    counted = lake.sql(sql).df()
    for gap, waiting in zip(counted["gap"], counted["waiting"]):
        out.at[int(gap)] = int(waiting)
    return out


def _ts_sql(value) -> str:
    return f"TIMESTAMPTZ {literal(pd.Timestamp(value).isoformat())}"


def outages(lake, tables: list[str], strict: bool, commits: pd.DataFrame | None = None,
            include_quiet: bool = False) -> pd.DataFrame:
    """``sync_gaps`` for resolved table names (``commits``: their sync commits, when the caller
    has them already)."""
    if commits is None:
        commits, _read = sync_commits(lake, tables, strict)
    gaps = gaps_frame(lake, commits)
    gaps["waiting"] = waiting_changes(lake, gaps, strict)
    if not include_quiet:
        # NA (changes unreadable): kept, as the log alone cannot call the interval quiet.
        gaps = gaps[(gaps["waiting"] != 0).fillna(True)]
    df = _typed(gaps, GAP_COLUMNS, times=("start", "end"), floats=("seconds",))
    df["waiting"] = df["waiting"].astype("Int64")
    return df


def sync_gaps(lake, tables=None, *, outages_only: bool = False) -> pd.DataFrame:
    """Gaps: one row per interval between consecutive sync commits longer than 3 times the
    table's median interval (strictly longer), with ``waiting``: how many changes it held back.

    ``tables`` as in ``sync_cadence``. ``outages_only=True`` keeps the outages: the gaps that
    kept at least one change waiting.

    Not every gap is an outage. A conversion job commits only when it has rows to land (and a
    commit that lands no row is not a sync), so a table nobody touches overnight has no sync
    from evening to morning: a long interval by the log, but nothing waited (``waiting`` = 0).
    An interval is an outage when at least one change was kept waiting by it: modified after its start and at
    least two median intervals before its end (a run in between would have landed it, unless
    the export itself held it back longer than an interval: one interval of slack absorbs the
    job's runtime and ordinary export delays), and landed by the commit that ended it
    (``landed_at`` from that cutoff to one minute after the end; a change that landed even
    later waited for something else).

    Columns (methods: the Delta log, as ``sync_cadence``, for the intervals; ``lake.changes``
    for ``waiting``):

    - ``table``: logical table name.
    - ``start``: time of the sync commit before the gap (UTC).
    - ``end``: time of the sync commit that ended it (UTC).
    - ``seconds``: ``end - start`` in seconds (float).
    - ``waiting``: changes the gap kept waiting (count, as defined above; nullable integer):
      NA when the table's changes could not be read (the gap is then listed as an outage).

    The time after the last sync is not a gap: it is what ``freshness`` measures. A table with
    two sync commits has one interval, never longer than 3 times itself: no gap.
    """
    names, strict = _resolve(lake, tables, "sync_gaps")
    return outages(lake, names, strict, include_quiet=not outages_only)


def freshness(lake, tables=None, *, as_of=None) -> pd.DataFrame:
    """How fresh each table is at ``as_of``: one row per table.

    ``as_of``: the moment to judge at, a datetime (naive = UTC) or an ISO string. Default: the
    lake's newest commit (the latest commit time over all tables, any operation), never the
    wall clock. Only sync commits at or before ``as_of`` count, so an ``as_of`` in the past
    shows the lake as it was then. ``tables`` as in ``sync_cadence`` (default: every Dataverse
    and F&O table).

    Columns (method: the Delta log, as ``sync_cadence``):

    - ``table``: logical table name.
    - ``last_landed``: time of the last landed change = the time of the latest sync commit at
      or before ``as_of`` (UTC). The commit time is when Synapse Link / Fabric Link made the
      rows visible, it is the clock of ``sync_cadence``, and it needs no data file. NaT when
      no sync commit precedes ``as_of``.
    - ``as_of``: the moment judged (UTC).
    - ``staleness_s``: ``as_of - last_landed`` in seconds (float).
    - ``cadence_s``: the table's median interval between sync commits (those at or before
      ``as_of``), in seconds (float); NaN with fewer than two sync commits.
    - ``stale``: ``staleness_s > 3 * cadence_s`` (nullable boolean; NA when either is
      unknown).

    The log cannot tell a stopped sync from a quiet table: a conversion job that commits only
    when it has rows leaves a table untouched overnight "stale" by this rule in the morning.
    Read ``stale`` with the time of day, or check ``sync_gaps`` (which does look at the data)
    once the sync has resumed.
    """
    at = utc_timestamp(lake.as_of) if as_of is None else utc_timestamp(as_of)
    names, strict = _resolve(lake, tables, "freshness")
    commits, read = sync_commits(lake, names, strict)
    commits = commits[commits["committed_at"] <= at]
    cadence = _cadence_frame(lake, commits).set_index("table")
    rows = []
    for name in read:
        last = cadence.at[name, "last_commit"] if name in cadence.index else pd.NaT
        median = cadence.at[name, "median_interval_s"] if name in cadence.index else float("nan")
        staleness = (at - pd.Timestamp(last)).total_seconds() if not pd.isna(last) else float("nan")
        stale = pd.NA if pd.isna(staleness) or pd.isna(median) else bool(staleness > STALE_FACTOR * median)
        rows.append({"table": name, "last_landed": last, "as_of": at, "staleness_s": staleness, "cadence_s": median, "stale": stale})
    df = _typed(
        pd.DataFrame(rows, columns=list(FRESHNESS_COLUMNS)), FRESHNESS_COLUMNS,
        times=("last_landed", "as_of"), floats=("staleness_s", "cadence_s"),
    )
    df["stale"] = df["stale"].astype("boolean")
    return df
