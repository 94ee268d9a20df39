"""Change volume against published limits, and the integration pattern it calls for: ``throughput``.

The limits live in ``kit/limits.json`` (figure, window, source URL and date for each; see
``limits_table()``); ``throughput(limits=...)`` overrides them. The rule of thumb (LIMITS.md):
Power Automate for under 50,000 events a day, Service Bus + Azure Functions above. The 50,000 is
the Power Automate Process (per flow) licence's 250,000 Power Platform requests per 24 hours at
``actions_per_record`` (default 5) actions per record; burst ceilings per 5 minutes are checked
too, because peaks break integrations before daily totals do.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pandas as pd

from ..engines.sql import literal, quantile, timestamp, truncate
from ..errors import KitError
from .common import METHOD_LABEL_SQL, analysed_changes, unknown_time_sql
from .exactness import kept_sql, spans, warn_left_out, with_exactness_sql
from .schema import Column, Schema, documented
from .limits import cost, limits_table, load_limits, positive  # noqa: F401  (limits_table: re-exported)

POWER_AUTOMATE = "Power Automate"
SERVICE_BUS = "Service Bus + Azure Functions"

DAY_S, HOUR_S, FIVE_MIN_S = 86400, 3600, 300
#: A table whose growth trend reaches the daily limit within this many days is ``growing_to_limit``
#: (the pattern itself follows the limits only).
TREND_HORIZON_DAYS = 365

DAILY = Schema(
    Column("table", "str", "logical table name."),
    Column("period", "datetime64[us, UTC]", "the day's start (UTC)."),
    Column("total", "int64", """events: on the days of the table's exact span (every landed
        version known: ``kit.metrics.exactness``), changes per day of ``modifiedon`` over the
        observed days (``throughput``'s rule: from the day of the first commit; empty days 0).
        On the days before it (the change feed was vacuumed), row versions landed per day of the
        sync commits, from their merge metrics (``commit_metrics_series``): the snapshot alone
        would show only each record's latest version, a fraction of the real volume; without
        commit metrics, the snapshot's changes per day (a lower bound)."""),
    Column("basis", "str", "``changes`` or ``commit_metrics``, as above."),
    Column("method", "str", """how the day's total was obtained: the changes' method(s)
        (``change_feed``, ``add_diff``, ``snapshot``, joined by ``+``) or ``commit_metrics``."""),
    Column("exact", "bool", """true when the total counts every change of the day exactly: the
        day lies in the table's exact span (``kit.metrics.exactness``) and its changes were
        measured by the change feed or the add-file diff. False: an estimate: from the commit
        metrics (row versions landed that day, re-landings included, on the landed clock: about
        the day's volume, at most a fraction of a percent over) or from the snapshot (at
        least)."""),
)

THROUGHPUT = Schema(
    Column("table", "str", "logical table name."),
    Column("days", "int64", """observed calendar days (UTC), from the day of the table's first
        commit (or its first day with changes, if later) to the last day with changes,
        inclusive; days without changes count as 0 events. 0 when the table has no counted
        change."""),
    Column("mean_per_day", "float64", "events/day: changes / ``days``. NULL when ``days`` is 0."),
    Column("p95_per_day", "float64", """events/day: 95th percentile of the daily volumes over
        those days (linear interpolation, ``quantile_cont``). NULL when ``days`` is 0."""),
    Column("peak_day", "datetime64[us, UTC]", """start of the UTC day with the most changes (the
        earliest such day on a tie). NULL when ``days`` is 0."""),
    Column("peak_day_events", "int64", "events: the most changes in one UTC day."),
    Column("peak_hour_events", "int64", "events: the most changes in one UTC clock hour."),
    Column("peak_5min_events", "int64", """events: the most changes in one 5-minute bucket
        (aligned to :00, :05...). Fixed buckets: a sliding window's peak can be higher (up to
        twice)."""),
    Column("limit", "str", """id of the binding limit the pattern decision uses (the Power
        Automate Process per-flow daily limit, ``power_automate_process_daily``)."""),
    Column("limit_per_day", "float64", """events/day: that limit in events: figure (250,000
        requests per 24 h) / ``actions_per_record`` = 50,000 at the default 5."""),
    Column("utilisation", "float64", "fraction: ``peak_day_events / limit_per_day`` (1.0 = at the limit)."),
    Column("headroom", "float64", "fraction: ``1 - utilisation`` (negative when over)."),
    Column("days_to_limit", "float64", """days, from a least-squares line through the daily
        volumes (x = day index over ``days``, empty days as 0): 0 when already over
        (``peak_day_events >= limit_per_day``); NULL when the slope is not positive (or fewer
        than 2 days); otherwise the (fractional) days after the last observed day until the
        line reaches ``limit_per_day``, 0 when the line is already there."""),
    Column("pattern", "str", """``"Service Bus + Azure Functions"`` when any limit that applies
        to Power Automate is exceeded at its own window (over ``limit_per_day`` on the peak
        day, or a 5-minute ceiling on the peak 5 minutes), else ``"Power Automate"``. The other
        rows of the rule of thumb (Logic Apps for orchestration, Data Factory for bulk ETL,
        dual write) depend on what the integration does, which volumes cannot tell."""),
    Column("verdict", "str", """why: ``no_changes`` (nothing to count), ``over_daily_limit``
        (the peak day exceeds the binding limit), ``over_burst_limit`` (a shorter Power
        Automate window is exceeded: see ``burst_limit``), ``at_daily_limit`` (utilisation
        1.0 exactly), ``trend_at_limit`` (the growth line is already at the limit),
        ``growing_to_limit`` (it reaches the limit within 365 days: ``days_to_limit``),
        ``within_limits``. ``kit.present.readings.pattern_reason`` words it."""),
    Column("burst_limit", "object", """id of the first Power Automate limit other than the
        binding one that the table exceeds (None unless ``verdict`` is
        ``over_burst_limit``)."""),
    Column("burst_events", "Int64", "events: the table's peak in that limit's window."),
    Column("burst_demand", "Float64", "what that peak costs, in that limit's unit."),
    Column("premium_limit", "object", """id of a Service Bus limit the table exceeds (its
        Standard tier's throughput: the advice is Premium), or None."""),
    Column("premium_demand", "Float64", "what the table's peak costs in that limit's window and unit."),
    Column("actions_per_record", "float64", "the flow actions per change the costs assumed."),
    Column("trend_per_day", "float64", """events/day per day: slope of that line; NULL with
        fewer than 2 days."""),
    Column("limits_exceeded", "str", """comma-separated ids of every limit the table's peak
        exceeds at the limit's own window (peak in the window x ``cost_per_event`` > figure),
        whichever pattern it applies to; empty when none."""),
    Column("excluded", "int64", """changes on no observed day, not counted above:
        ``modifiedon`` NULL or a sentinel (at or before 1970-01-01T00:00:00Z), or before the day of the table's
        first commit."""),
    Column("method", "str", """the method(s) that measured the table's changes
        (``change_feed``, ``add_diff``, ``snapshot``, or e.g. ``change_feed+snapshot``;
        snapshot-only history undercounts: only each record's latest version is known)."""),
    Column("estimated", "int64", """changes of the table's estimated days (before its exact span,
        ``kit.metrics.exactness``) left out of every figure above (``include_estimates=False``,
        the default); 0 when they are included or the table has no exact span (its estimates
        are then counted, ``peaks_exact`` false)."""),
    Column("peaks_exact", "bool", """true when ``peak_day``, ``peak_day_events``,
        ``peak_hour_events``, ``peak_5min_events`` (and so ``utilisation``, ``headroom``, the
        limits exceeded, ``pattern`` and ``verdict``) come from exactly measured days only. False:
        estimated days were counted (``include_estimates=True``, or the table has no exact day):
        the peaks are lower bounds (at least)."""),
    Column("exact", "bool", """true when every figure of the row is exact: ``peaks_exact`` and
        ``daily_basis`` is ``changes`` (``days``, ``mean_per_day``, ``p95_per_day`` and the trend
        from the same exact days)."""),
    Column("daily_basis", "str", """what ``days``, ``mean_per_day``, ``p95_per_day`` and the
        trend were computed from: ``changes`` (row-level, modified clock, over the observed
        days), or ``commit_metrics`` when the table's changes are not all known (the change
        feed was vacuumed): the sync commits' rows inserted + updated per UTC day of the
        commit, from the day after the initial load (landed clock; re-landings included). The
        snapshot alone would undercount those days (latest versions only) and fake a growth
        trend."""),
)


@documented(THROUGHPUT)
def throughput(lake, tables=None, *, limits=None, actions_per_record: float = 5,
               include_estimates: bool = False) -> pd.DataFrame:
    """Daily, hourly and 5-minute change volumes per table against the published limits, and
    the integration pattern they call for.

    Counts changes (landed row versions, ``lake.changes``: a re-landed version once, purge and
    compactions never) on the **modified clock**: the UTC day / hour / 5 minutes of Dataverse's
    ``modifiedon``, when the change happened and an integration would have to carry it.

    Over the **observed days** only: from the UTC day of the table's first commit still in the
    log (normally the initial load) to the last day with changes. Records the initial load
    brought in with an older ``modifiedon`` are history the lake never saw happen (and only
    each record's latest version of it), so they are counted in ``excluded``, not in the
    daily volumes.

    Parameters
    ----------
    tables : None (every Dataverse and F&O table; tables without ``Id``, ``versionnumber``,
        ``modifiedon`` are skipped and named in a warning), a name or a list of names (a named
        table lacking them raises ``NotDataverseTableError`` naming the columns).
    limits : None (``kit/limits.json``); a path to a JSON file of the same form; a list of
        limit entries (replaces the whole set; each with ``id``, ``name``, ``figure``, ``unit``,
        ``window_seconds``, ``applies_to``, ``cost_per_event``, ``source``, ``as_of``, and
        exactly one with ``binding: true``); or a dict overriding entries by id: ``{id:
        figure}`` or ``{id: {field: value}}`` (a new id needs a complete entry). See
        ``limits_table()``.
    actions_per_record : Power Platform requests (flow actions) one change costs (default 5),
        for limits whose ``cost_per_event`` is ``"actions_per_record"``.
    include_estimates : False (default): the daily, hourly and 5-minute figures count the days
        of each table's exact span only (``kit.metrics.exactness``), with a note saying from
        when; the changes of earlier days are counted in ``estimated``. A table with no exact
        day keeps its estimates (``peaks_exact`` false). True: every observed day.

    Returns
    -------
    pandas.DataFrame, one row per analysed table, sorted by ``table``:

    {columns}

    Runs in DuckDB on the lake's connection; only one aggregated row per table comes back.
    """
    apr = _check_actions(actions_per_record)
    entries = load_limits(limits)
    binding = next(e for e in entries if e.get("binding"))
    windows = sorted({1, FIVE_MIN_S, HOUR_S, DAY_S} | {int(e["window_seconds"]) for e in entries})
    names, changes = analysed_changes(lake, tables, "throughput")
    if changes is None:
        return THROUGHPUT.frame(None)
    found = spans(lake, names, tables is not None)
    names = [n for n in names if n in found]
    if not names:
        return THROUGHPUT.frame(None)
    if not include_estimates:
        warn_left_out(found, "day")
    observed_from = {name: _first_day(lake, name) for name in names}
    sql = throughput_sql(with_exactness_sql(changes, found, "day", "modifiedon"), observed_from, windows,
                         kept_sql(include_estimates))
    stats = lake.sql(sql).df()
    has_exact = stats["table"].map(lambda n: found[n].has_exact)
    stats["peaks_exact"] = stats["peaks_exact"].astype("boolean").fillna(has_exact).astype(bool)
    stats["daily_basis"] = "changes"
    stats = _daily_from_commits(lake, stats)
    limit_per_day = binding["figure"] * DAY_S / binding["window_seconds"] / cost(binding, apr)
    rows = [_judge(row, entries, binding, limit_per_day, apr) for row in stats.to_dict("records")]
    out = stats.assign(**{k: [r[k] for r in rows] for k in rows[0]}) if rows else stats
    if rows:
        out["exact"] = out["peaks_exact"] & (out["daily_basis"] == "changes")
    return THROUGHPUT.frame(out) if rows else THROUGHPUT.frame(None)


def throughput_sql(changes: str, observed_from: dict, windows: list[int], keep: str = "true") -> str:
    """The SQL of ``throughput``: per table the daily statistics and, for each window (in
    seconds), the most changes in one window-aligned bucket (``peak_<seconds>``).
    ``changes``: with their ``exact`` and ``has_exact`` columns
    (``exactness.with_exactness_sql``); ``observed_from`` maps each table to the first UTC day
    it counts (a ``datetime``); ``keep``: the condition a change on an observed day must meet
    to be counted (``exactness.kept_sql``); the others are ``estimated``."""
    values = ", ".join(f"({int(w)})" for w in windows)
    observed = ", ".join(
        f"({literal(name)}, {timestamp(day)})" for name, day in observed_from.items()
    )
    peak_columns = ",\n               ".join(
        f'max(events) filter (where seconds = {int(w)}) AS "peak_{int(w)}"' for w in windows
    )
    peaks_out = ", ".join(f'coalesce(p."peak_{int(w)}", 0) AS "peak_{int(w)}"' for w in windows)
    return f"""
    with changes as (
        {changes}
    ),
    observed as (
        select * from (values {observed}) AS o("table", observed_from)
    ),
    -- Each change: counted, excluded (not on an observed day: modifiedon NULL, a sentinel,
    -- or before the table's first commit day) or estimated (left out by ``keep``).
    classified as (
        select c."table", c.method, c.exact, c.modifiedon,
               case when {unknown_time_sql('c.modifiedon')} then 'excluded'
                    when c.modifiedon < o.observed_from then 'excluded'
                    when not ({keep}) then 'estimated'
                    else 'counted' end AS status
        from changes c
        join observed o on o."table" = c."table"
    ),
    -- One scan of the changes: events per table and UTC second of modifiedon. NULL second:
    -- not counted.
    per_second AS MATERIALIZED (
        select "table", method, status,
               case when status = 'counted' then {truncate('second', 'modifiedon')} end AS second,
               bool_and(exact) AS exact,
               count(*) AS events
        from classified
        group by all
    ),
    counted as (
        select "table",
               coalesce(sum(events) filter (where status = 'excluded'), 0) AS excluded,
               coalesce(sum(events) filter (where status = 'estimated'), 0) AS estimated,
               coalesce(string_agg(DISTINCT method, '+' ORDER BY method) filter (where status = 'counted'),
                        {METHOD_LABEL_SQL}) AS method,
               bool_and(exact) filter (where status = 'counted') AS peaks_exact
        from per_second
        group by "table"
    ),
    windows as (
        select * from (values {values}) AS w(seconds)
    ),
    bucketed as (
        select s."table", w.seconds,
               time_bucket(to_seconds(w.seconds), s.second) AS bucket,
               sum(s.events) AS events
        from per_second s cross join windows w
        where s.second is not null
        group by all
    ),
    peaks as (
        select "table",
               {peak_columns}
        from bucketed
        group by "table"
    ),
    per_day as (
        select "table", {truncate('day', 'second')} AS day, sum(events) AS events
        from per_second
        where second is not null
        group by all
    ),
    span as (
        select "table", min(day) AS first_day, max(day) AS last_day
        from per_day
        group by "table"
    ),
    calendar as (
        select "table", first_day, unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS day
        from span
    ),
    -- Every calendar day from the first to the last day with changes; days without are 0.
    daily as (
        select c."table", c.day,
               coalesce(d.events, 0) AS events,
               date_diff('day', c.first_day, c.day) AS x
        from calendar c
        left join per_day d on d."table" = c."table" and d.day = c.day
    ),
    day_stats as (
        select "table",
               count(*) AS days,
               avg(events) AS mean_per_day,
               {quantile('events', 0.95)} AS p95_per_day,
               max(events) AS peak_day_events,
               first(day order by events desc, day) AS peak_day,
               regr_slope(events, x) AS trend_per_day,
               regr_intercept(events, x) + regr_slope(events, x) * max(x) AS trend_last_day
        from daily
        group by "table"
    )
    select t."table",
           coalesce(d.days, 0) AS days,
           d.mean_per_day, d.p95_per_day, d.peak_day,
           coalesce(d.peak_day_events, 0) AS peak_day_events,
           coalesce(p."peak_{HOUR_S}", 0) AS peak_hour_events,
           coalesce(p."peak_{FIVE_MIN_S}", 0) AS peak_5min_events,
           d.trend_per_day, d.trend_last_day,
           coalesce(c.excluded, 0) AS excluded,
           coalesce(c.estimated, 0) AS estimated,
           c.method,
           c.peaks_exact,
           {peaks_out}
    from observed t
    left join day_stats d using ("table")
    left join peaks p using ("table")
    left join counted c using ("table")
    order by t."table"
    """


def _daily_from_commits(lake, stats: pd.DataFrame) -> pd.DataFrame:
    """Daily statistics from the commit log for tables whose row-level history is incomplete.

    Where the change feed no longer reaches back (vacuumed files), days before it are known
    only through the snapshot: each record's latest version, a third of the real volume on a
    busy table. Mean, p95 and trend over such days would mix undercounts with exact counts (a
    false growth trend). The sync commits' own merge metrics survive a vacuum: see
    ``commit_metrics_series``. Peaks stay row-level on the modified clock: exact where the feed
    reaches, lower bounds before.
    """
    import numpy as np

    for i, row in stats.iterrows():
        name = row["table"]
        if lake.coverage(name).complete:
            continue
        daily = commit_metrics_series(lake, name)
        if daily is None:
            continue  # the writer recorded no metrics: keep the row-level figures
        series = daily.to_numpy(dtype=float)
        stats.loc[i, "days"] = len(series)
        stats.loc[i, "mean_per_day"] = float(series.mean())
        stats.loc[i, "p95_per_day"] = float(np.percentile(series, 95))
        if len(series) >= 2:
            slope, intercept = np.polyfit(np.arange(len(series)), series, 1)
            stats.loc[i, "trend_per_day"] = float(slope)
            stats.loc[i, "trend_last_day"] = float(intercept + slope * (len(series) - 1))
        stats.loc[i, "daily_basis"] = "commit_metrics"
    return stats


def commit_metrics_series(lake, table: str) -> pd.Series | None:
    """Row versions landed per UTC day, from the sync commits' merge metrics (rows inserted +
    rows updated; re-landings included, a fraction of a percent), indexed by day with empty days
    as 0, from the first sync after the initial load (version 0, which lands history, not the
    day's activity) to the last. None when the writer recorded no metrics. These survive a
    vacuum, unlike the change data and old data files."""
    syncs = lake.sql(f"select * from ({lake.syncs_sql(table)}) where version <> 0 order by version").df()
    if syncs.empty or syncs["rows_landed"].isna().all():
        return None
    landed = syncs["rows_landed"].astype("Float64").fillna(0)
    per_day = landed.groupby(pd.to_datetime(syncs["committed_at"], utc=True).dt.floor("D")).sum()
    days = pd.date_range(per_day.index.min(), per_day.index.max(), freq="D")
    return per_day.reindex(days, fill_value=0).astype("int64")


@documented(DAILY)
def daily_volume(lake, tables=None, *, include_estimates: bool = False) -> pd.DataFrame:
    """The daily volumes ``throughput`` judges, per table and UTC day: one row each, each from
    one method.

    {columns}

    Tables as in ``throughput``. ``include_estimates``: False (default): the days of each
    table's exact span only (a table with no exact day keeps its estimated days, ``exact``
    false); True: the estimated days before it too, ``exact`` false.
    """
    from .volume import change_volume

    names = lake.analysable(tables, needed_for="daily_volume")
    found = spans(lake, names, tables is not None)
    if not include_estimates:
        warn_left_out(found, "day")
    frames = []
    by_changes: list[str] = []
    for name, span in found.items():
        first_exact = None if span.complete else span.first_exact("day")
        if span.complete:
            by_changes.append(name)
            continue
        if span.has_exact:
            by_changes.append(name)
            if not include_estimates:
                continue
        series = commit_metrics_series(lake, name)
        if series is None:
            if not span.has_exact:
                by_changes.append(name)  # the snapshot's days: lower bounds, flagged
            continue
        if first_exact is not None:
            series = series[series.index < first_exact]
        frames.append(pd.DataFrame({"table": name, "period": series.index, "total": series.to_numpy(),
                                    "basis": "commit_metrics", "method": "commit_metrics", "exact": False}))
    if by_changes:
        vol = change_volume(lake, by_changes, by="day", include_estimates=True)
        for name in by_changes:
            span = found[name]
            part = vol[(vol["table"] == name) & (vol["period"] >= pd.Timestamp(_first_day(lake, name)))]
            if span.has_exact:  # the commit metrics (or nothing) before the exact span
                part = part[part["exact"]]
            if part.empty:
                continue
            days = pd.date_range(part["period"].min(), part["period"].max(), freq="D")
            indexed = part.set_index("period")
            total = indexed["total"].reindex(days, fill_value=0)
            method = indexed["method"].reindex(days).fillna(span.method)
            exact = indexed["exact"].reindex(days).fillna(span.has_exact).astype(bool)
            frames.append(pd.DataFrame({"table": name, "period": days, "total": total.to_numpy(), "basis": "changes",
                                        "method": method.to_numpy(), "exact": exact.to_numpy()}))
    if not frames:
        return DAILY.frame(None)
    out = pd.concat(frames, ignore_index=True).sort_values(["table", "period"], kind="stable")
    return DAILY.frame(out)


def _first_day(lake, table: str) -> datetime:
    """The first UTC day the lake observed the table: the day of its first commit still in the
    log (the initial load). Changes modified before it are history the load brought in."""
    first = lake.coverage(table).observed_from
    return datetime(first.year, first.month, first.day, tzinfo=timezone.utc)


# -- judging one table ----------------------------------------------------------------------------
def _judge(row: dict, entries: list[dict], binding: dict, limit_per_day: float, apr: float) -> dict:
    """The limit columns of one table's row (plain Python on one aggregated row)."""
    peak_day = int(row["peak_day_events"])
    utilisation = peak_day / limit_per_day
    exceeded = [e for e in entries if _demand(row, e, apr) > e["figure"]]
    slope, trend_last = _num(row["trend_per_day"]), _num(row["trend_last_day"])
    if peak_day >= limit_per_day:
        days_to_limit = 0.0
    elif slope is None or slope <= 0:
        days_to_limit = None
    else:
        days_to_limit = max(0.0, (limit_per_day - trend_last) / slope)
    over_pa = [e for e in exceeded if POWER_AUTOMATE in e["applies_to"]]
    burst = next((e for e in over_pa if e is not binding), None) if binding not in over_pa else None
    premium = next((e for e in exceeded if SERVICE_BUS in e["applies_to"]), None)
    return {
        "limit": binding["id"],
        "limit_per_day": limit_per_day,
        "utilisation": utilisation,
        "headroom": 1.0 - utilisation,
        "days_to_limit": days_to_limit,
        "pattern": SERVICE_BUS if over_pa else POWER_AUTOMATE,
        # No counted change (none in the exact span): nothing to judge, whatever the commit
        # metrics' days say.
        "verdict": _verdict(int(row["days"]) if peak_day > 0 else 0, binding in over_pa, bool(over_pa), utilisation, days_to_limit),
        "burst_limit": burst["id"] if burst else None,
        "burst_events": _peak(row, burst["window_seconds"]) if burst else None,
        "burst_demand": _demand(row, burst, apr) if burst else None,
        "premium_limit": premium["id"] if premium else None,
        "premium_demand": _demand(row, premium, apr) if premium else None,
        "actions_per_record": apr,
        "limits_exceeded": ",".join(e["id"] for e in exceeded),
    }


def _verdict(days: int, over_daily: bool, over_any: bool, utilisation: float, days_to_limit: float | None) -> str:
    """The ``verdict`` code of one table (see ``throughput``)."""
    if days == 0:
        return "no_changes"
    if over_daily:
        return "over_daily_limit"
    if over_any:
        return "over_burst_limit"
    if utilisation >= 1:
        return "at_daily_limit"
    if days_to_limit == 0:
        return "trend_at_limit"
    if days_to_limit is not None and days_to_limit <= TREND_HORIZON_DAYS:
        return "growing_to_limit"
    return "within_limits"


def _check_actions(value) -> float:
    if not positive(value):
        raise KitError(f"actions_per_record must be a positive number, not {value!r}.")
    return float(value)


# -- small helpers ----------------------------------------------------------------------------------
def _peak(row: dict, window_seconds: int) -> int:
    return int(row[f"peak_{int(window_seconds)}"])


def _demand(row: dict, entry: dict, apr: float) -> float:
    """What the table's peak in the limit's window costs, in the limit's unit."""
    return _peak(row, entry["window_seconds"]) * cost(entry, apr)


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


