"""Is the sync running? Cadence of sync commits, the outages between them, and freshness.

``sync_cadence`` reads the Delta log only (``lake.syncs``): no data file is opened. ``sync_gaps``
finds long intervals in the log, then asks ``lake.changes`` whether changes waited in them (an
outage) or nobody changed anything (a quiet night). ``freshness`` judges the silence since the
last sync against the table's own silences at that hour of the week (the log), and, for an
``as_of`` in the past, asks ``lake.changes`` whether changes were waiting then.

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
from .common import changes_union_sql, per_table, resolve, tables_values_sql
from .exactness import spans_or_none, window_exactness

#: An interval longer than this many times the table's median interval is a gap (an outage when
#: changes waited in it).
GAP_FACTOR = 3.0
#: A change waited in a gap when it was modified at least this many median intervals before its end.
WAIT_FACTOR = 2.0
#: Freshness: a silence is longer than usual when it exceeds this many times the longest one
#: the table's history shows at that hour of the week (``normal_silence_s``) ...
SILENCE_FACTOR = 2.0
#: ... which needs that hour of the week in at least this many earlier weeks of history.
MIN_WEEKS = 2

CADENCE_COLUMNS = ("table", "commits", "first_commit", "last_commit", "median_interval_s", "p95_interval_s", "max_interval_s",
                   "method", "exact")
GAP_COLUMNS = ("table", "start", "end", "seconds", "waiting", "method", "exact")
FRESHNESS_COLUMNS = ("table", "last_landed", "as_of", "staleness_s", "cadence_s", "normal_silence_s", "waiting",
                     "stale", "reason", "method", "exact")


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
    - ``method``: ``log`` (the sync commits of the Delta log); ``exact``: True (the log holds
      every commit it still has exactly; no figure here is estimated).
    """
    names, strict = resolve(lake, tables, "sync_cadence")
    commits, read = sync_commits(lake, names, strict)
    df = _cadence_frame(lake, commits)
    # Tables read but without any sync commit still get a row (commits = 0).
    df = df.set_index("table").reindex(read).rename_axis("table").reset_index()
    df["commits"] = df["commits"].fillna(0)
    df["method"], df["exact"] = "log", True
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
    found = spans_or_none(lake, list(gaps["table"].unique()))
    marks = [window_exactness(found[t], start) for t, start in zip(gaps["table"], gaps["start"])]
    gaps["method"] = [m for m, _ in marks]
    gaps["exact"] = [e for _, e in marks]
    df = _typed(gaps, GAP_COLUMNS, times=("start", "end"), floats=("seconds",))
    df["waiting"] = df["waiting"].astype("Int64")
    df["method"] = df["method"].astype("object")
    df["exact"] = df["exact"].astype(bool)
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
    - ``method``: how ``waiting`` was counted: the table's exact method (``change_feed``,
      ``add_diff``) when the gap lies in its exact span (``kit.metrics.exactness``), else with
      ``+snapshot`` (or ``snapshot``); ``unknown`` when the coverage could not be read.
    - ``exact`` (bool): the gap starts in the table's exact span, so ``waiting`` is exact.
      False: ``waiting`` is an estimate from the snapshot (each record's latest version, landed
      at its last landing). ``start``, ``end`` and ``seconds`` come from the log: always exact.

    The time after the last sync is not a gap: it is what ``freshness`` measures. A table with
    two sync commits has one interval, never longer than 3 times itself: no gap.
    """
    names, strict = resolve(lake, tables, "sync_gaps")
    return outages(lake, names, strict, include_quiet=not outages_only)


def freshness(lake, tables=None, *, as_of=None) -> pd.DataFrame:
    """How fresh each table is at ``as_of``, and whether its silence is a quiet hour or a
    broken sync: one row per table.

    ``as_of``: the moment to judge at, a datetime (naive = UTC) or an ISO string. Default: the
    lake's newest commit (the latest commit time over all tables, any operation), never the
    wall clock. Only sync commits at or before ``as_of`` count, so an ``as_of`` in the past
    shows the lake as it was then. ``tables`` as in ``sync_cadence`` (default: every Dataverse
    and F&O table).

    The rule (DEFINITIONS.md, "Cadence, gaps, freshness"): a job that commits only when it has
    rows leaves a table silent every night and weekend, so silence alone says nothing. A table
    is stale when

    - changes are known to be waiting (``waiting`` > 0; reason ``waiting_changes``), or
    - its silence is longer than its own history shows as normal at that hour of the week:
      ``staleness_s > 2 * normal_silence_s`` (reason ``longer_than_usual``). Twice the longest,
      not the longest: with a few weeks of history the longest is itself a small sample (a
      quiet table's work starting later than in the two weeks before is not an outage).

    An outage that starts in the evening looks like the night's silence until it outgrows it:
    judged at the newest commit, it shows the next morning; judged in hindsight, ``waiting``
    shows it at once.

    Columns (methods: the sync commits, ``lake.syncs``, for the times; ``lake.changes`` for
    ``waiting``):

    - ``table``: logical table name.
    - ``last_landed``: time of the latest sync commit at or before ``as_of`` (UTC): when Synapse
      Link / Fabric Link last made rows visible. NaT when no sync commit precedes ``as_of``.
    - ``as_of``: the moment judged (UTC).
    - ``staleness_s``: the silence, ``as_of - last_landed`` in seconds (float).
    - ``cadence_s``: the table's median interval between sync commits (those at or before
      ``as_of``), in seconds (float); NaN with fewer than two sync commits.
    - ``normal_silence_s``: the longest interval between consecutive sync commits (both at or
      before ``as_of``) that overlaps the UTC hour of the week of ``as_of`` (Monday 00:00-01:00
      is one such hour, Monday 01:00-02:00 the next ...) in an earlier week, in seconds (float).
      The interval after the table's first sync commit (the initial load, which may precede
      the first run of the job by days) is left out. NaN unless the history holds that hour of
      the week in at least 2 earlier weeks (``MIN_WEEKS``): too little history to know what is
      usual then.
    - ``waiting``: changes known to have been waiting at ``as_of`` (count; nullable integer):
      modified after ``last_landed`` and at least two median intervals before ``as_of`` (a run
      in between would have landed them: the slack ``sync_gaps`` gives), and landed after
      ``as_of``. Known only in hindsight: 0 when ``as_of`` is at or after the lake's newest
      commit (nothing has landed since; ``lake.changes`` is then not read). NA when the
      table's changes cannot be read (skipped with a warning unless the tables were named) or
      ``last_landed`` or ``cadence_s`` is unknown.
    - ``stale``: ``waiting > 0`` or ``staleness_s > 2 * normal_silence_s`` (nullable boolean,
      three-valued: true when either is true; NA when neither is true and one is unknown).
    - ``reason``: ``'waiting_changes'`` when ``waiting > 0``, else ``'longer_than_usual'`` when
      the silence is, else None (a code; sentences are ``kit.present``'s).
    - ``method``: ``log`` when every figure comes from the sync commits (``waiting`` not read
      from the changes: ``as_of`` at the newest commit); else how ``waiting`` was counted, as
      in ``sync_gaps``.
    - ``exact`` (bool): every figure is exact: from the log, or ``waiting`` counted in the
      table's exact span (``last_landed`` in it). False: ``waiting`` is an estimate.

    Computed in DuckDB over ``lake.syncs`` and ``lake.changes`` (``lake.sql``).
    """
    at = utc_timestamp(lake.as_of) if as_of is None else utc_timestamp(as_of)
    names, strict = resolve(lake, tables, "freshness")
    parts = per_table(names, strict, lake.syncs_sql)
    read = list(parts)
    if not read:
        return _freshness_typed(pd.DataFrame(columns=list(FRESHNESS_COLUMNS)))
    union = "\nunion all\n".join(f'select "table", version, committed_at from ({sql})' for sql in parts.values())
    df = lake.sql(_freshness_sql(union, tables_values_sql(read), _ts_sql(at))).df()
    df = df.set_index("table").reindex(read).rename_axis("table").reset_index()
    df["as_of"] = at
    newest = utc_timestamp(lake.as_of)
    if at >= newest:
        df["waiting"] = pd.array([0 if pd.notna(last) and pd.notna(c) else pd.NA
                                  for last, c in zip(df["last_landed"], df["cadence_s"])], dtype="Int64")
        df["method"], df["exact"] = "log", True
    else:
        df["waiting"] = _waiting_at(lake, df, at, strict)
        found = spans_or_none(lake, list(df["table"]))
        marks = [window_exactness(found[t], last) for t, last in zip(df["table"], df["last_landed"])]
        df["method"] = [m for m, _ in marks]
        df["exact"] = [e for _, e in marks]
    df = _freshness_typed(df)
    longer = pd.array(df["staleness_s"] > SILENCE_FACTOR * df["normal_silence_s"], dtype="boolean")
    longer[df["staleness_s"].isna() | df["normal_silence_s"].isna()] = pd.NA
    waits = pd.array(df["waiting"] > 0, dtype="boolean")
    df["stale"] = waits | longer
    df["reason"] = pd.Series([
        "waiting_changes" if w is True else ("longer_than_usual" if lg is True else None)
        for w, lg in zip(_flags(waits), _flags(longer))
    ], index=df.index, dtype="object")
    return df[list(FRESHNESS_COLUMNS)]


def _flags(values) -> list:
    """A nullable boolean array as a list of True / False / None."""
    return [None if v is pd.NA else bool(v) for v in values]


def _freshness_sql(syncs: str, tables: str, at: str) -> str:
    """One row per table with a sync commit at or before ``at``: ``last_landed``,
    ``staleness_s``, ``cadence_s``, ``normal_silence_s`` (see ``freshness``)."""
    how = "((isodow({x}) - 1) * 24 + hour({x}))"
    return f"""
        with syncs as (
            select "table", version, committed_at from ({syncs}) where committed_at <= {at}
        ),
        intervals as (
            select "table",
                   lag(committed_at) over w AS previous_at,
                   committed_at,
                   row_number() over w AS n
            from syncs
            window w as (partition by "table" order by version)
        ),
        cadence as (
            select "table", max(committed_at) AS last_landed,
                   quantile_cont(epoch(committed_at - previous_at), 0.5) AS cadence_s
            from intervals
            group by "table"
        ),
        -- every interval after the initial load's, once per UTC hour it overlaps
        hours as (
            select i."table", epoch(i.committed_at - i.previous_at) AS seconds, h.hour_start
            from intervals i,
                 lateral (select unnest(generate_series(date_trunc('hour', i.previous_at), i.committed_at,
                                                        interval 1 hour)) AS hour_start) h
            where i.n > 2 and h.hour_start < i.committed_at
        ),
        usual as (
            select "table", max(seconds) AS longest, count(distinct hour_start) AS weeks
            from hours
            where {how.format(x="hour_start")} = {how.format(x=at)}
              and hour_start < date_trunc('hour', {at})
            group by "table"
        )
        select t."table", c.last_landed,
               epoch({at} - c.last_landed) AS staleness_s,
               c.cadence_s,
               case when u.weeks >= {MIN_WEEKS} then u.longest end AS normal_silence_s
        from ({tables}) t
        join cadence c using ("table")
        left join usual u using ("table")
    """


def _waiting_at(lake, fresh: pd.DataFrame, at: pd.Timestamp, strict: bool) -> pd.Series:
    """``waiting`` (see ``freshness``) of each row of ``fresh``, counted in DuckDB over
    ``lake.changes``; NA where unknown."""
    out = pd.Series(pd.NA, index=fresh.index, dtype="Int64")
    known = fresh[fresh["last_landed"].notna() & fresh["cadence_s"].notna()]
    if known.empty:
        return out
    found = per_table(list(known["table"]), strict, lambda name: f"select * from ({lake.changes_sql(name)})")
    if not found:
        return out
    rows = ",\n            ".join(
        f"({literal(name)}, {_ts_sql(known.at[i, 'last_landed'])}, "
        f"{_ts_sql(at - WAIT_FACTOR * pd.Timedelta(seconds=float(known.at[i, 'cadence_s'])))})"
        for i, name in zip(known.index, known["table"]) if name in found
    )
    union = "\nunion all\n".join(found.values())
    counted = lake.sql(f"""
        with changes as ({union}),
        tables("table", last_landed, cutoff) as (values {rows})
        select t."table", count(c.id) AS waiting
        from tables t
        left join changes c
          on c."table" = t."table"
         and c.modifiedon > t.last_landed
         and c.modifiedon <= t.cutoff
         and c.landed_at > {_ts_sql(at)}
        group by t."table"
    """).df().set_index("table")["waiting"]
    for i, name in zip(fresh.index, fresh["table"]):
        if name in counted.index:
            out.at[i] = int(counted[name])
    return out


def _freshness_typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reindex(columns=list(FRESHNESS_COLUMNS))
    for c in ("last_landed", "as_of"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    for c in ("staleness_s", "cadence_s", "normal_silence_s"):
        df[c] = df[c].astype("float64")
    df["waiting"] = df["waiting"].astype("Int64")
    df["stale"] = df["stale"].astype("boolean")
    df["reason"] = df["reason"].astype("object")
    return df.reset_index(drop=True)
