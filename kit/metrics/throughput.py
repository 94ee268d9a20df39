"""Change volume against published limits, and the integration pattern it calls for: ``throughput``.

The limits live in ``kit/limits.json`` (figure, window, source URL and date for each; see
``limits_table()``); ``throughput(limits=...)`` overrides them. The rule of thumb (LIMITS.md):
Power Automate for under 50,000 events a day, Service Bus + Azure Functions above. The 50,000 is
the Power Automate Process (per flow) licence's 250,000 Power Platform requests per 24 hours at
``actions_per_record`` (default 5) actions per record; burst ceilings per 5 minutes are checked
too, because peaks break integrations before daily totals do.
"""

from __future__ import annotations

import copy
import json
import math
import os
from datetime import datetime, timezone
from numbers import Real

import pandas as pd

from .common import METHOD_LABEL_SQL, SENTINEL_BEFORE_YEAR, analysed_changes, typed_frame
from ..engines.sql import literal
from ..errors import KitError
from .health import is_sync

from ..settings import LIMITS_FILE
LIMIT_FIELDS = ("id", "name", "figure", "unit", "window_seconds", "applies_to", "cost_per_event", "source", "as_of")

POWER_AUTOMATE = "Power Automate"
SERVICE_BUS = "Service Bus + Azure Functions"

DAY_S, HOUR_S, FIVE_MIN_S = 86400, 3600, 300
# The reason mentions the growth trend when it reaches the limit within a year, and advises
# planning the move when within a quarter (the pattern itself follows the limits only).
TREND_MENTION_DAYS, TREND_PLAN_DAYS = 365, 90

DAILY_DTYPES = {"table": "str", "period": "datetime64[us, UTC]", "total": "int64", "basis": "str"}

THROUGHPUT_DTYPES = {
    "table": "str",
    "days": "int64",
    "mean_per_day": "float64",
    "p95_per_day": "float64",
    "peak_day": "datetime64[us, UTC]",
    "peak_day_events": "int64",
    "peak_hour_events": "int64",
    "peak_5min_events": "int64",
    "limit": "str",
    "limit_per_day": "float64",
    "utilisation": "float64",
    "headroom": "float64",
    "days_to_limit": "float64",
    "pattern": "str",
    "reason": "str",
    "trend_per_day": "float64",
    "limits_exceeded": "str",
    "excluded": "int64",
    "method": "str",
    "daily_basis": "str",
}


def throughput(lake, tables=None, limits=None, actions_per_record: float = 5) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame, one row per analysed table, sorted by ``table``:

    - ``table`` (str).
    - ``days`` (int64): observed calendar days (UTC), from the day of the table's first commit
      (or its first day with changes, if later) to the last day with changes, inclusive; days
      without changes count as 0 events. 0 when the table has no counted change.
    - ``mean_per_day`` (float64, events/day): changes / ``days``. NULL when ``days`` is 0.
    - ``p95_per_day`` (float64, events/day): 95th percentile of the daily volumes over those
      days (linear interpolation, ``quantile_cont``). NULL when ``days`` is 0.
    - ``peak_day`` (datetime64[us, UTC]): start of the UTC day with the most changes (the
      earliest such day on a tie). NULL when ``days`` is 0.
    - ``peak_day_events``, ``peak_hour_events``, ``peak_5min_events`` (int64, events): the
      most changes in one UTC day / clock hour / 5-minute bucket (aligned to :00, :05...).
      Fixed buckets: a sliding window's peak can be higher (up to twice).
    - ``limit`` (str): id of the binding limit the pattern decision uses (the Power Automate
      Process per-flow daily limit, ``power_automate_process_daily``).
    - ``limit_per_day`` (float64, events/day): that limit in events: figure (250,000 requests
      per 24 h) / ``actions_per_record`` = 50,000 at the default 5.
    - ``utilisation`` (float64, fraction): ``peak_day_events / limit_per_day`` (1.0 = at the
      limit). ``headroom`` (float64, fraction): ``1 - utilisation`` (negative when over).
    - ``days_to_limit`` (float64, days): from a least-squares line through the daily volumes
      (x = day index over ``days``, empty days as 0): 0 when already over (``peak_day_events
      >= limit_per_day``); NULL when the slope is not positive (or fewer than 2 days);
      otherwise the (fractional) days after the last observed day until the line reaches
      ``limit_per_day``, 0 when the line is already there.
    - ``pattern`` (str): ``"Service Bus + Azure Functions"`` when any limit that applies to
      Power Automate is exceeded at its own window (over ``limit_per_day`` on the peak day, or
      a 5-minute ceiling on the peak 5 minutes), else ``"Power Automate"``. The other rows of
      the rule of thumb (Logic Apps for orchestration, Data Factory for bulk ETL, dual write)
      depend on what the integration does, which volumes cannot tell.
    - ``reason`` (str): one sentence naming the limit and how close the table is (the peak day
      as a share of ``limit_per_day``, or the burst ceiling exceeded); it adds the growth trend
      when ``days_to_limit`` is within 365 days, and advises planning the move to Service Bus +
      Azure Functions when within 90 (the ``pattern`` itself changes only once a limit is
      exceeded).
    - ``trend_per_day`` (float64, events/day per day): slope of that line; NULL with fewer
      than 2 days.
    - ``limits_exceeded`` (str): comma-separated ids of every limit the table's peak exceeds at
      the limit's own window (peak in the window x ``cost_per_event`` > figure), whichever
      pattern it applies to; empty when none.
    - ``excluded`` (int64): changes on no observed day, not counted above: ``modifiedon`` NULL
      or a sentinel (year before 1901), or before the day of the table's first commit.
    - ``daily_basis`` (str): what ``days``, ``mean_per_day``, ``p95_per_day`` and the trend
      were computed from: ``changes`` (row-level, modified clock, over the observed days), or
      ``commit_metrics`` when the table's changes are not all known (the change feed was
      vacuumed): the sync commits' rows inserted + updated per UTC day of the commit, from the
      day after the initial load (landed clock; re-landings included). The snapshot alone
      would undercount those days (latest versions only) and fake a growth trend.
    - ``method`` (str): the method(s) that measured the table's changes (``change_feed``,
      ``history``, ``snapshot``, or e.g. ``change_feed+snapshot``; snapshot-only history
      undercounts: only each record's latest version is known).

    Runs in DuckDB on the lake's connection; only one aggregated row per table comes back.
    """
    apr = _check_actions(actions_per_record)
    entries = load_limits(limits)
    binding = next(e for e in entries if e.get("binding"))
    windows = sorted({1, FIVE_MIN_S, HOUR_S, DAY_S} | {int(e["window_seconds"]) for e in entries})
    names, changes = analysed_changes(lake, tables, "throughput")
    if changes is None:
        return typed_frame(None, THROUGHPUT_DTYPES)
    observed_from = {name: _first_day(lake, name) for name in names}
    stats = lake.sql(throughput_sql(changes, observed_from, windows)).df()
    stats["daily_basis"] = "changes"
    stats = _daily_from_commits(lake, stats)
    limit_per_day = binding["figure"] * DAY_S / binding["window_seconds"] / _cost(binding, apr)
    rows = [_judge(row, entries, binding, limit_per_day, apr) for row in stats.to_dict("records")]
    out = stats.assign(**{k: [r[k] for r in rows] for k in rows[0]}) if rows else stats
    return typed_frame(out, THROUGHPUT_DTYPES) if rows else typed_frame(None, THROUGHPUT_DTYPES)


def throughput_sql(changes: str, observed_from: dict, windows: list[int]) -> str:
    """The SQL of ``throughput``: per table the daily statistics and, for each window (in
    seconds), the most changes in one window-aligned bucket (``peak_<seconds>``).
    ``observed_from`` maps each table to the first UTC day it counts (a ``datetime``)."""
    values = ", ".join(f"({int(w)})" for w in windows)
    observed = ", ".join(
        f"({literal(name)}, CAST({literal(day.isoformat())} AS TIMESTAMPTZ))" for name, day in observed_from.items()
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
    -- One scan of the changes: events per table and UTC second of modifiedon. NULL second:
    -- not on an observed day (modifiedon NULL, a sentinel, or before the table's first
    -- commit day), counted as excluded.
    per_second AS MATERIALIZED (
        select c."table", c.method,
               case when c.modifiedon is null or year(c.modifiedon) < {SENTINEL_BEFORE_YEAR} then null
                    when c.modifiedon < o.observed_from then null
                    else date_trunc('second', c.modifiedon) end AS second,
               count(*) AS events
        from changes c
        join observed o on o."table" = c."table"
        group by all
    ),
    counted as (
        select "table",
               coalesce(sum(events) filter (where second is null), 0) AS excluded,
               {METHOD_LABEL_SQL} AS method
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
        select "table", date_trunc('day', second) AS day, sum(events) AS events
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
               quantile_cont(events, 0.95) AS p95_per_day,
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
           c.method,
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
    h = lake.history(table)
    columns = ["operation", "data_change", "rows_inserted", "rows_updated"]
    syncs = h[[is_sync(*c) and v != 0 for c, v in zip(h[columns].itertuples(index=False), h["version"])]]
    if syncs.empty or syncs[["rows_inserted", "rows_updated"]].isna().all(axis=None):
        return None
    landed = syncs["rows_inserted"].astype("Float64").fillna(0) + syncs["rows_updated"].astype("Float64").fillna(0)
    per_day = landed.groupby(syncs["committed_at"].dt.floor("D")).sum()
    days = pd.date_range(per_day.index.min(), per_day.index.max(), freq="D")
    return per_day.reindex(days, fill_value=0).astype("int64")


def daily_volume(lake, tables=None) -> pd.DataFrame:
    """The daily volumes ``throughput`` judges, per table and UTC day: one row each.

    - ``table`` (str), ``period`` (datetime64[us, UTC]: the day's start).
    - ``total`` (int64, events): where every landed version is known (the change feed reaches
      the table's creation, or the commit history's files remain), changes per day of
      ``modifiedon`` over the observed days (``throughput``'s rule: from the day of the first
      commit; empty days 0). Where the change feed was vacuumed, row versions landed per day of
      the sync commits, from their merge metrics (``commit_metrics_series``): the snapshot
      alone would show only each record's latest version, a fraction of the real volume.
    - ``basis`` (str): ``changes`` or ``commit_metrics``, as above.

    Tables as in ``throughput``.
    """
    from .volume import change_volume

    names = lake.analysable(tables, needed_for="daily_volume")
    frames = []
    exact = []
    for name in names:
        series = None if lake.coverage(name).complete else commit_metrics_series(lake, name)
        if series is None:
            exact.append(name)
            continue
        frames.append(pd.DataFrame({"table": name, "period": series.index, "total": series.to_numpy(), "basis": "commit_metrics"}))
    if exact:
        vol = change_volume(lake, exact, by="day")
        for name in exact:
            part = vol[(vol["table"] == name) & (vol["period"] >= pd.Timestamp(_first_day(lake, name)))]
            if part.empty:
                continue
            days = pd.date_range(part["period"].min(), part["period"].max(), freq="D")
            total = part.set_index("period")["total"].reindex(days, fill_value=0)
            frames.append(pd.DataFrame({"table": name, "period": days, "total": total.to_numpy(), "basis": "changes"}))
    if not frames:
        return typed_frame(None, DAILY_DTYPES)
    out = pd.concat(frames, ignore_index=True).sort_values(["table", "period"], kind="stable")
    return typed_frame(out.reset_index(drop=True), DAILY_DTYPES)


def _first_day(lake, table: str) -> datetime:
    """The first UTC day the lake observed the table: the day of its first commit still in the
    log (the initial load). Changes modified before it are history the load brought in."""
    first = lake[table].commits[0].committed_at
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
    pattern = SERVICE_BUS if over_pa else POWER_AUTOMATE
    return {
        "limit": binding["id"],
        "limit_per_day": limit_per_day,
        "utilisation": utilisation,
        "headroom": 1.0 - utilisation,
        "days_to_limit": days_to_limit,
        "pattern": pattern,
        "reason": _reason(row, binding, limit_per_day, utilisation, days_to_limit, over_pa, exceeded, apr),
        "limits_exceeded": ",".join(e["id"] for e in exceeded),
    }


def _reason(row, binding, limit_per_day, utilisation, days_to_limit, over_pa, exceeded, apr) -> str:
    daily = (
        f"the {limit_per_day:,.0f}/day {binding.get('label', binding['name'])} limit "
        f"({binding['figure']:,.0f} {binding['unit']} per {_window(binding['window_seconds'])}"
        f"{_cost_text(binding, apr)})"
    )
    if int(row["days"]) == 0:
        return f"No changes with a modifiedon to count, so nothing approaches {daily}: stay on Power Automate."
    day = pd.Timestamp(row["peak_day"]).strftime("%Y-%m-%d")
    peak = f"Peak day {day} had {int(row['peak_day_events']):,} events, {_pct(utilisation)} of {daily}"
    service_bus = next((e for e in exceeded if SERVICE_BUS in e["applies_to"]), None)
    tail = ""
    if service_bus is not None:
        tail = (
            f", and its peak {_window(service_bus['window_seconds'])} needs "
            f"{_demand(row, service_bus, apr):,.0f} {service_bus['unit']}, over the "
            f"{service_bus['figure']:,.0f} per {_window(service_bus['window_seconds'])} of "
            f"{service_bus.get('label', service_bus['name'])} (use Premium)"
        )
    if binding in over_pa:
        return f"{peak}: move to Service Bus + Azure Functions{tail}."
    if over_pa:
        burst = over_pa[0]
        events = _peak(row, burst["window_seconds"])
        return (
            f"Peak {_window(burst['window_seconds'])} had {events:,} events "
            f"({_demand(row, burst, apr):,.0f} {burst['unit']}{_cost_text(burst, apr)}), over the "
            f"{burst.get('label', burst['name'])} limit of {burst['figure']:,.0f} {burst['unit']} per "
            f"{_window(burst['window_seconds'])}, although the peak day ({day}) is {_pct(utilisation)} of "
            f"{daily}: move to Service Bus + Azure Functions{tail}."
        )
    if utilisation >= 1:
        return f"{peak}, right at the limit: stay on Power Automate only if volumes do not grow, else move to Service Bus + Azure Functions."
    if days_to_limit == 0:
        return (
            f"{peak}, and its growth trend ({_rate(_num(row['trend_per_day']))} events/day per day) is already at "
            f"the limit: stay on Power Automate for now and plan for Service Bus + Azure Functions."
        )
    if days_to_limit is not None and days_to_limit <= TREND_MENTION_DAYS:
        days = math.ceil(days_to_limit)
        advice = (
            "stay on Power Automate and plan for Service Bus + Azure Functions"
            if days_to_limit <= TREND_PLAN_DAYS
            else "Power Automate is enough for now"
        )
        return (
            f"{peak}, and at its current growth of {_rate(_num(row['trend_per_day']))} events/day per day "
            f"it reaches the limit in about {days:,} day{'s' if days != 1 else ''}: {advice}."
        )
    return f"{peak}: Power Automate is enough."


# -- limits ---------------------------------------------------------------------------------------
def load_limits(limits=None) -> list[dict]:
    """The limit entries in force: ``kit/limits.json`` unless ``limits`` overrides them (see
    ``throughput``). Validated: a KitError says what is wrong."""
    if limits is None or isinstance(limits, (str, os.PathLike)):
        entries = _read_limits_file(LIMITS_FILE if limits is None else os.fspath(limits))
    elif isinstance(limits, dict):
        entries = _read_limits_file(LIMITS_FILE)
        by_id = {e["id"]: e for e in entries}
        for key, value in limits.items():
            if isinstance(value, Real) and not isinstance(value, bool):
                if key not in by_id:
                    raise KitError(
                        f"limits={{{key!r}: {value!r}}}: no limit {key!r} to override. Known limits: "
                        f"{', '.join(by_id)}; a new limit needs a complete entry ({', '.join(LIMIT_FIELDS)})."
                    )
                by_id[key]["figure"] = value
            elif isinstance(value, dict):
                if key in by_id:
                    by_id[key].update(value)
                else:
                    entry = {"id": key, **value}
                    entries.append(entry)
                    by_id[key] = entry
            else:
                raise KitError(f"limits[{key!r}] must be a number (the figure) or a dict of fields, not {value!r}.")
    elif isinstance(limits, (list, tuple)):
        entries = copy.deepcopy(list(limits))
    else:
        raise KitError(
            f"limits must be None, a path to a limits JSON file, a list of limit entries or a dict of "
            f"overrides by id, not {type(limits).__name__}."
        )
    _validate(entries)
    return entries


def limits_table(limits=None) -> pd.DataFrame:
    """The limits in force, one row each: ``id``, ``name``, ``figure``, ``unit``,
    ``window_seconds``, ``applies_to`` (comma-separated patterns), ``cost_per_event``,
    ``binding``, ``source`` (URL), ``as_of`` (date the figure was taken), ``note``."""
    rows = []
    for e in load_limits(limits):
        rows.append({
            "id": e["id"], "name": e["name"], "figure": float(e["figure"]), "unit": e["unit"],
            "window_seconds": int(e["window_seconds"]), "applies_to": ", ".join(e["applies_to"]),
            "cost_per_event": str(e["cost_per_event"]), "binding": bool(e.get("binding", False)),
            "source": e["source"], "as_of": e["as_of"], "note": e.get("note", ""),
        })
    return pd.DataFrame(rows)


def _read_limits_file(path: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise KitError(f"No limits file at {path!r}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KitError(f"Cannot read the limits file {path!r}: {getattr(exc, 'strerror', None) or exc}.") from None
    except json.JSONDecodeError as exc:
        raise KitError(f"The limits file {path!r} is not valid JSON ({exc}).") from None
    entries = data.get("limits") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise KitError(f"The limits file {path!r} must hold a list of limits (or {{\"limits\": [...]}}).")
    return copy.deepcopy(entries)


def _validate(entries: list[dict]) -> None:
    if not entries:
        raise KitError("No limits to check against: pass at least the binding daily limit.")
    seen = set()
    for e in entries:
        if not isinstance(e, dict):
            raise KitError(f"A limit must be a dict of fields, not {e!r}.")
        missing = [f for f in LIMIT_FIELDS if f not in e]
        if missing:
            raise KitError(f"Limit {e.get('id', '?')!r} lacks the field(s) {', '.join(missing)}.")
        if e["id"] in seen:
            raise KitError(f"Limit {e['id']!r} appears twice.")
        seen.add(e["id"])
        if not _positive(e["figure"]):
            raise KitError(f"Limit {e['id']!r}: figure must be a positive number, not {e['figure']!r}.")
        if not (isinstance(e["window_seconds"], int) and not isinstance(e["window_seconds"], bool) and e["window_seconds"] >= 1):
            raise KitError(f"Limit {e['id']!r}: window_seconds must be a whole number of seconds >= 1, not {e['window_seconds']!r}.")
        cost = e["cost_per_event"]
        if cost != "actions_per_record" and not _positive(cost):
            raise KitError(f"Limit {e['id']!r}: cost_per_event must be a positive number or 'actions_per_record', not {cost!r}.")
        if isinstance(e["applies_to"], str):
            e["applies_to"] = [e["applies_to"]]
    binding = [e["id"] for e in entries if e.get("binding")]
    if len(binding) != 1:
        raise KitError(
            f"Exactly one limit must be binding (it decides the pattern); found {len(binding)}"
            f"{': ' + ', '.join(binding) if binding else ''}."
        )


def _check_actions(value) -> float:
    if not _positive(value):
        raise KitError(f"actions_per_record must be a positive number, not {value!r}.")
    return float(value)


# -- small helpers ----------------------------------------------------------------------------------
def _positive(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _cost(entry: dict, apr: float) -> float:
    cost = entry["cost_per_event"]
    return apr if cost == "actions_per_record" else float(cost)


def _cost_text(entry: dict, apr: float) -> str:
    if entry["cost_per_event"] == "actions_per_record":
        return f" at {apr:g} actions per record"
    cost = float(entry["cost_per_event"])
    return f" at {cost:g} {entry['unit']} per event" if cost != 1 else ""


def _peak(row: dict, window_seconds: int) -> int:
    return int(row[f"peak_{int(window_seconds)}"])


def _demand(row: dict, entry: dict, apr: float) -> float:
    """What the table's peak in the limit's window costs, in the limit's unit."""
    return _peak(row, entry["window_seconds"]) * _cost(entry, apr)


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _window(seconds: int) -> str:
    names = {1: "second", 60: "minute", 300: "5 minutes", 3600: "hour", 86400: "24 h"}
    if seconds in names:
        return names[seconds]
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} s"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}"


def _pct(fraction: float) -> str:
    if 0 < fraction < 0.01:
        return "under 1%"
    return f"{fraction:.0%}"
