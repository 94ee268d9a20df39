"""Unusual hours: a robust score for each table and hour against the same hour on other days.

Data-observability tools score an hour with the mean and standard deviation of its history, and
keep past incidents in that history: one big incident inflates the mean and the deviation so
much that the next incident at the same hour looks normal. Here the baseline is the median and
the spread the median absolute deviation (MAD), which one or two bad samples cannot move, and
known incidents are left out of the baseline altogether.

Method, per table:

1. The hourly series (computed in DuckDB from ``lake.changes``; only the series comes back).
   Hours are UTC and placed on the Dataverse clock, ``modifiedon``:

   - ``volume``: the number of changes whose ``modifiedon`` falls in the hour. An hour without
     changes is 0.
   - ``latency``: the median latency (``landed_at - modifiedon``, seconds) of the changes
     modified in the hour; negative latencies are left out (DEFINITIONS.md). An hour without
     changes has no value (NaN) and no score.

   Why the modified clock for latency too: it charges each change's wait to the hour the user
   made it, so every hour whose changes waited shows it (a slow sync day lifts every hour of
   that day). On the landed clock an outage or a slow day would show only as the few hours in
   which the late rows finally landed, and hours in which nothing landed would have no value.

   The series covers every whole hour from the table's first commit to its last sync commit
   (hours that start at or after the first commit and end at or before the last sync).
   Changes modified before the first commit reached the lake as a backlog (the initial load
   keeps only each record's latest version). For ``volume`` every version must be known, so
   where the change feed reaches back only part of the history the series starts at the first
   commit the feed covers (with a warning: before it only each record's latest version is
   known, and counts would read as drops), and tables known only from the snapshot (no feed,
   old files vacuumed) are skipped with a warning. ``latency`` uses what remains (DEFINITIONS):
   the latest version of each record keeps its landing time (``SinkModifiedOn``, exact unless
   the version landed again later), a fair sample of the hour's latencies.
2. Known incidents: the table's ``sync_gaps`` (outages: long intervals between syncs that kept
   changes waiting; quiet nights are not incidents). An hour is ``in_incident`` when it overlaps
   one (``hour < end`` and ``hour + 1 h > start``).
3. Baseline samples for an hour: the values of the same hour of the week on the other weeks,
   when at least ``WEEK_SAMPLES`` (4) of them are clean; otherwise (fewer than 5 weeks of data,
   the common case) the same hour of the day on every other day of the same day type (weekday
   Monday-Friday, or weekend). Clean = not in an incident, not flagged in the first pass (step
   5), and with a value. Other days both before and after the hour count: the analysis is
   retrospective. The hour's own day is never in its baseline.
4. ``baseline`` = median of the samples. ``mad`` = the larger of two medians of absolute
   deviations, then floored:

   - the hour's own: median of ``|sample - baseline|`` over its baseline samples;
   - its neighbourhood's: median of ``|value - its own baseline|`` over the clean hours of the
     other days of the same day type whose hour of the day is within ``SPREAD_HOURS`` (2) of
     this one (midnight wraps). With 4 weeks of data an hour has only 7 (weekend) to 19
     (weekday) samples, and a MAD of so few is often far too small by chance, which on
     simulated noise flagged 1-3% of ordinary hours; the neighbourhood holds 5 times as many
     deviations, each measured against its own hour's baseline so the daily curve does not
     inflate it. Taking the larger of the two keeps an hour whose own history is noisier than
     its neighbours' (the shoulder of the working day) from being judged by the calmer ones.
   - floor: at least 1 unit (1 change, 1 second) and 5% of ``|baseline|``; for ``volume`` also
     ``sqrt(baseline)``, the Poisson noise of a count (its standard deviation, counted as a
     MAD: deliberately wide, because small counts are skewed: 9 changes in an hour that
     usually has 3 happens once in 260 hours by chance alone). Without a floor a perfectly
     regular history (MAD 0) would turn every wobble into an infinite score.

   ``score`` = ``0.6745 * (value - baseline) / mad`` (Iglewicz and Hoaglin's modified
   z-score: about a standard z-score for normal data). NaN when the hour has no value or fewer
   than ``MIN_SAMPLES`` (3) samples. ``flag`` = ``spike`` when ``score > threshold``, ``drop``
   when ``score < -threshold`` (default 3.5), else None.
5. Two passes: the first scores with incidents left out; the second recomputes every baseline
   leaving out also the hours the first pass flagged, so an incident the log does not show (a
   volume burst, a slow day) cannot hide the next one either. The second pass's scores are
   returned.

Sensitivity: a change's latency includes the wait for the next run of the conversion job (0 to
one interval), so on a table synced hourly with a few changes an hour the hourly median moves by
many minutes from hour to hour, and a slowdown must be larger than that to show hour by hour.
On the sample lake the degraded day (export delay up to tenfold, about 75 s to 750 s) stands out
on the 15-minute busy table and the busiest hourly one, not on the quiet hourly tables.
"""

from __future__ import annotations

import warnings

import pandas as pd

from .common import changes_union_sql, per_table
from ..engines.sql import literal, timestamp, truncate
from ..errors import KitError, KitWarning, SkippedTableWarning
from .exactness import table_span
from .health import outages, sync_commits

METRICS = ("volume", "latency")
DEFAULT_THRESHOLD = 3.5
#: Iglewicz and Hoaglin's constant: for normal data MAD / 0.6745 estimates the standard deviation.
MAD_SCALE = 0.6745
#: Clean samples of the same hour of the week needed to use that pool (else the day-type pool).
WEEK_SAMPLES = 4
#: The MAD of an hour pools the deviations of the hours up to this far from its hour of the day.
SPREAD_HOURS = 2
#: Fewest baseline samples for a score.
MIN_SAMPLES = 3
#: The least MAD the score divides by (SQL over ``b.baseline``): one unit (a change, a second),
#: 5% of the baseline, and for counts the Poisson noise sqrt(baseline).
MAD_FLOOR_SQL = {
    "volume": "1.0, 0.05 * abs(b.baseline), sqrt(abs(b.baseline))",
    "latency": "1.0, 0.05 * abs(b.baseline)",
}

ANOMALY_COLUMNS = (
    "table", "hour", "metric", "value", "baseline", "mad", "score", "flag", "in_incident", "samples", "pool",
    "method", "exact",
)


def anomalies(lake, tables=None, *, metric: str = "volume", threshold: float = DEFAULT_THRESHOLD,
              include_estimates: bool = False) -> pd.DataFrame:
    """Score every hour of every table against the same hour on other weeks (robustly), with
    known outages left out of the baseline; flag spikes and drops.

    ``metric``: ``"volume"`` (changes per hour) or ``"latency"`` (median latency of the hour's
    changes). ``tables``: a name or a list; ``None`` = every Dataverse and F&O table (tables
    without ``Id``, ``versionnumber``, ``modifiedon`` are skipped and listed in a warning;
    naming one raises ``NotDataverseTableError`` naming the columns). ``threshold``: the
    absolute score above which an hour is flagged. The method is in this module's docstring.
    ``include_estimates``: False (default): each table's window starts at its exact span
    (``kit.metrics.exactness``), so every value and every baseline sample is exact (a table
    with no exact span: its volume is skipped with a warning, its latency analysed as an
    estimate); True: latency from the table's first commit, its snapshot hours included
    (upper bounds), and volume from the change feed's first commit.

    One row per table and hour of the analysed window. Columns:

    - ``table``: logical table name.
    - ``hour``: start of the UTC hour (tz-aware), on the ``modifiedon`` clock.
    - ``metric``: ``volume`` or ``latency``.
    - ``value``: ``volume``: changes modified in the hour (count, 0 when none);
      ``latency``: median of ``landed_at - modifiedon`` over them, in seconds (NaN when none).
      From ``lake.changes`` (change feed, commit history or snapshot; see ``lake.coverage``).
    - ``baseline``: median of the baseline samples (same unit as ``value``).
    - ``mad``: the median absolute deviation the score divides by (same unit as ``value``):
      the larger of the hour's own samples' MAD and its neighbourhood's (hours within 2 of it,
      same day type), at least 1, 5% of ``|baseline|`` and, for volume, ``sqrt(baseline)``.
    - ``score``: ``0.6745 * (value - baseline) / mad`` (dimensionless); NaN without a value or
      with fewer than 3 samples.
    - ``flag``: ``"spike"`` (score > threshold), ``"drop"`` (score < -threshold) or None.
    - ``in_incident``: the hour overlaps one of the table's ``sync_gaps`` (bool); such hours
      are scored but never used as baseline samples.
    - ``samples``: how many baseline samples the baseline and MAD come from (count).
    - ``pool``: where they come from: ``hour_of_week`` (same hour of the week, other weeks) or
      ``hour_of_day`` (same hour of the day, other days of the same day type); None without
      samples.
    - ``method``: how the table's hours in the window were measured: the coverage method
      (``change_feed``, ``add_diff``) when the window lies in the exact span, else with
      ``+snapshot`` (or ``snapshot`` alone).
    - ``exact`` (bool): the window lies in the table's exact span, so ``value``, ``baseline``
      and ``score`` come from exactly measured hours only. False: estimated hours (snapshot:
      each record's latest version; latencies upper bounds) are among them.
    """
    if metric not in METRICS:
        raise KitError(f"metric={metric!r} is not a metric: use 'volume' (changes per hour) or 'latency' (median latency per hour).")
    try:
        limit = float(threshold)
    except (TypeError, ValueError):
        limit = float("nan")
    if not limit > 0:
        raise KitError(f"threshold={threshold!r} must be a positive number (the default is {DEFAULT_THRESHOLD}).")
    threshold = limit
    strict = tables is not None
    names = lake.analysable(tables, needed_for=f"anomalies(metric={metric!r})")
    commits, read = sync_commits(lake, names, strict)
    if not isinstance(include_estimates, bool):
        raise KitError(f"include_estimates={include_estimates!r}: use True or False.")
    windows, union, exactness = _windows(lake, metric, commits, read, strict, include_estimates)
    if not windows:
        return _empty()
    series = _hourly_series(lake, metric, windows, union)
    analysed = [w[0] for w in windows]
    gaps = outages(lake, analysed, strict, commits=commits[commits["table"].isin(analysed)])
    scored = _score(lake, series, gaps, metric, threshold)
    scored.insert(2, "metric", metric)
    scored["method"] = scored["table"].map(lambda n: exactness[n][0])
    scored["exact"] = scored["table"].map(lambda n: exactness[n][1])
    return _typed(scored)


# -- the analysed window and the hourly series (DuckDB, on the lake's connection) --------------
def _windows(lake, metric: str, commits: pd.DataFrame, read: list[str], strict: bool, include_estimates: bool):
    """(table, first_hour, last_hour) per table, the SQL of their changes (UNION ALL), and per
    table (method, exact) of its window."""
    windows, parts, partial = [], [], []
    exactness = {}
    for name, (cover, span) in per_table(read, strict, lambda n: (lake.coverage(n), table_span(lake, n))).items():
        start = pd.Timestamp(cover.observed_from)
        if metric == "volume" and not cover.complete:
            if cover.method == "snapshot":
                warnings.warn(
                    f"Skipped table {name!r} for volume: {cover.note}, so changes per hour cannot be counted.",
                    SkippedTableWarning, stacklevel=3,
                )
                continue
            start = pd.Timestamp(cover.feed_from_time)
        if not include_estimates and span.exact_from is not None:
            start = max(start, pd.Timestamp(span.exact_from))
        if not span.complete and span.exact_from is not None and start >= pd.Timestamp(span.exact_from):
            partial.append(f"{name} from {start.tz_convert('UTC').ceil('h'):%Y-%m-%d %H:%M}")
        exact = span.complete or (span.exact_from is not None and start >= pd.Timestamp(span.exact_from))
        method = span.method if exact else ("snapshot" if span.method == "snapshot" else f"{span.method}+snapshot")
        exactness[name] = (method, exact)
        syncs = commits.loc[commits["table"] == name, "committed_at"]
        if syncs.empty:
            continue
        first_hour = start.tz_convert("UTC").ceil("h")
        last_hour = pd.Timestamp(syncs.max()).tz_convert("UTC").floor("h") - pd.Timedelta(hours=1)
        if last_hour < first_hour:
            continue
        sql = changes_union_sql(lake, [name], strict)
        if sql is None:
            continue
        windows.append((name, first_hour, last_hour))
        parts.append(sql)
    if partial:
        # One note for all tables: a per-table warning floods a notebook on a vacuumed lake.
        warnings.warn(
            f"{metric.capitalize()} is analysed only where the changes are known exactly (UTC): "
            + "; ".join(partial) + ". Older hours are known only from the snapshot"
            + ("." if metric == "volume" or include_estimates else ": include_estimates=True adds them."),
            KitWarning, stacklevel=3,
        )
    return windows, "\nunion all\n".join(parts), exactness


def _hourly_series(lake, metric: str, windows, union: str) -> pd.DataFrame:
    """``table``, ``hour``, ``value``: one row per hour of each table's window."""
    rows = ",\n            ".join(f"({literal(n)}, {timestamp(a)}, {timestamp(b)})" for n, a, b in windows)
    value = "coalesce(p.changes, 0)" if metric == "volume" else "p.latency_s"
    sql = f"""
        with changes as ({union}),
        windows("table", first_hour, last_hour) as (
            values {rows}
        ),
        hours as (   -- every hour of each table's window
            select "table", unnest(generate_series(first_hour, last_hour, interval 1 hour)) AS hour
            from windows
        ),
        per_hour as (
            select c."table",
                   {truncate('hour', 'c.modifiedon')} AS hour,
                   count(*) AS changes,
                   median(epoch(c.landed_at - c.modifiedon))
                       filter (where c.landed_at >= c.modifiedon) AS latency_s
            from changes c
            join windows w on w."table" = c."table"
            where c.modifiedon >= w.first_hour
              and c.modifiedon < w.last_hour + interval 1 hour
            group by all
        )
        select h."table", h.hour, CAST({value} AS DOUBLE) AS value
        from hours h
        left join per_hour p on p."table" = h."table" and p.hour = h.hour
        order by h."table", h.hour
    """
    return lake.sql(sql).df()


# -- scoring (on a scratch engine over the hourly series) ---------------------------
def _score_sql(metric: str) -> str:
    """One pass over ``series`` (``table``, ``hour``, ``value``, ``in_incident``, ``excluded``):
    the baseline, MAD, score and flag of every hour. ``excluded`` hours give no samples."""
    floor = MAD_FLOOR_SQL[metric]
    return f"""
        with s as (
            select *,
                   isodow(hour) AS dow,               -- 1 = Monday ... 7 = Sunday
                   hour(hour) AS hod,
                   isodow(hour) >= 6 AS weekend,
                   {truncate('day', 'hour')} AS day
            from series
        ),
        pool as (   -- candidate samples: same hour of day, same day type, another day, clean
            select t."table", t.hour, p.value, p.dow = t.dow AS same_hour_of_week
            from s t
            join s p
              on p."table" = t."table" and p.hod = t.hod and p.weekend = t.weekend and p.day <> t.day
            where not p.excluded and p.value is not null
        ),
        choice as (   -- the same hour of the week when enough other weeks are clean
            select "table", hour,
                   count(*) filter (where same_hour_of_week) >= {WEEK_SAMPLES} AS by_week
            from pool
            group by "table", hour
        ),
        chosen as (
            select p."table", p.hour, p.value, c.by_week
            from pool p
            join choice c using ("table", hour)
            where p.same_hour_of_week or not c.by_week
        ),
        base as (
            select "table", hour,
                   median(value) AS baseline,
                   count(*) AS samples,
                   any_value(by_week) AS by_week
            from chosen
            group by "table", hour
        ),
        own_spread as (   -- the MAD of the hour's own baseline samples
            select c."table", c.hour, median(abs(c.value - b.baseline)) AS own_mad
            from chosen c
            join base b using ("table", hour)
            group by c."table", c.hour
        ),
        residual as (   -- each clean hour's deviation from its own baseline
            select s."table", s.hod, s.weekend, s.day, abs(s.value - b.baseline) AS deviation
            from s
            join base b using ("table", hour)
            where not s.excluded and s.value is not null and b.samples >= {MIN_SAMPLES}
        ),
        near_spread as (   -- the same near the hour: same day type, within SPREAD_HOURS of its hour of day
            select t."table", t.hour, median(r.deviation) AS near_mad
            from s t
            join residual r
              on r."table" = t."table" and r.weekend = t.weekend and r.day <> t.day
             and least(abs(r.hod - t.hod), 24 - abs(r.hod - t.hod)) <= {SPREAD_HOURS}
            group by t."table", t.hour
        ),
        scored as (
            select s."table", s.hour, s.value, b.baseline,
                   greatest(o.own_mad, n.near_mad, {floor}) AS mad,
                   coalesce(b.samples, 0) AS samples,
                   case when b.by_week then 'hour_of_week' when b.by_week is not null then 'hour_of_day' end AS pool,
                   s.in_incident
            from s
            left join base b using ("table", hour)
            left join own_spread o using ("table", hour)
            left join near_spread n using ("table", hour)
        )
        select "table", hour, value, baseline, mad,
               case when samples >= {MIN_SAMPLES} and value is not null
                    then {MAD_SCALE} * (value - baseline) / mad end AS score,
               in_incident, samples, pool
        from scored
    """


def _score(lake, series: pd.DataFrame, gaps: pd.DataFrame, metric: str, threshold: float) -> pd.DataFrame:
    con = lake.engine.scratch()
    try:
        con.register("hourly", series)
        con.register("gaps", gaps)
        con.execute(
            """
            create table series as
            select h."table", h.hour, h.value,
                   exists (
                       select 1 from gaps g
                       where g."table" = h."table" and h.hour < g."end" and h.hour + interval 1 hour > g."start"
                   ) AS in_incident,
                   false AS excluded
            from hourly h
            """
        )
        con.execute("update series set excluded = in_incident")
        flagged = f"abs(score) > {threshold}"
        con.execute(f"create table first_pass as {_score_sql(metric)}")
        con.execute(
            f"""
            update series set excluded = true
            from first_pass f
            where f."table" = series."table" and f.hour = series.hour and {flagged}
            """
        )
        df = con.sql(
            f"""
            select *,
                   case when score > {threshold} then 'spike' when score < -{threshold} then 'drop' end AS flag
            from ({_score_sql(metric)})
            order by "table", hour
            """
        ).df()
    finally:
        con.close()
    return df


def _empty() -> pd.DataFrame:
    return _typed(pd.DataFrame(columns=list(ANOMALY_COLUMNS)))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reindex(columns=list(ANOMALY_COLUMNS))
    df["hour"] = pd.to_datetime(df["hour"], utc=True).astype("datetime64[us, UTC]")
    for col in ("value", "baseline", "mad", "score"):
        df[col] = df[col].astype("float64")
    df["in_incident"] = df["in_incident"].astype(bool)
    df["method"] = df["method"].astype("object")
    df["exact"] = df["exact"].astype(bool)
    df["samples"] = df["samples"].astype("int64")
    for col in ("flag", "pool"):
        df[col] = pd.Series([None if pd.isna(v) else str(v) for v in df[col]], index=df.index, dtype=object)
    return df.reset_index(drop=True)
