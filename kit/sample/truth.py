"""TRUTH.json: what the simulated organisation did and what landed when, computed from the
simulation state, never by reading the lake back.

TRUTH.json
----------
As docs/DESIGN.md specifies, with these decisions and additions:

- Every landed (Id, versionnumber) counts once under the UTC day of its ``modifiedon`` as written
  in the lake (sentinel rows under 1900-01-01), version 0's rows included (their days lie before
  the window). A version is a ``delete`` when ``IsDelete`` is true, else a ``create`` when it is
  the record's first landed version, else an ``update``. ``landed`` counts versions by the UTC day
  of their first landing. Versions superseded within a run never land; ``made_versions`` counts
  every version made in the window.
- ``commits.sync`` counts the WRITE and the MERGEs (DEFINITIONS: sync commits); ``write`` and
  ``merge`` are added.
- ``latency_by_day``: ``latency_s`` per UTC day of ``modifiedon`` (sentinel and negative
  latencies left out), what a store collected since the table's creation knows exactly.
- ``latency_s`` covers the versions first landed by a MERGE (version 0's rows are left out: their
  landing predates the log). ``latency_s_feed`` covers the versions first landed at or after
  ``change_feed.from_version``. ``latency_s_feed_as_seen`` is what the feed alone shows: every
  version landing in the feed, timed at its earliest landing there (a version first landed
  before the feed and landed again inside it is timed at the re-landing; there are
  ``feed_relanded_before`` of those). Each leaves out sentinel and negative latencies and counts
  them (``excluded_sentinel``, ``excluded_negative``); ``latency_excluded`` is their sum.
- ``change_feed`` adds ``cutoff`` (the last VACUUM's cut-off) and ``complete_from_day``: from this
  UTC day on, every landed version with that ``modifiedon`` day first landed inside the feed, so
  ``days`` is exact from the feed; earlier days are ``days_snapshot`` territory.
- Per table: ``day_clock`` (``modified``; ``landed`` for ``accountleads``, whose ``days`` and
  ``days_snapshot`` are keyed by the day of first landing and of ``SinkCreatedOn``), ``path``
  (relative to DEST), ``made_versions``, ``landings``, ``relandings``, ``snapshot_rows``,
  ``live_rows``, ``deleted_rows``, ``purged_rows``. ``peak_day`` is over ``days`` (creates +
  updates + deletes). Metadata tables: ``kind`` ``metadata``, ``rows``, ``path``, ``commits``.
- ``generator`` adds ``initial_load``, ``nightly_job``, ``vacuum_retention_hours`` and
  ``purge_after_days``. ``busy_table`` adds ``limit_per_day``, ``days_over_limit``, ``quiet_day``
  and ``quiet_day_events`` (its quietest weekday); ``trending_table`` adds ``slope_per_day``
  (least squares over weekdays), ``first_week_mean`` and ``last_week_mean`` (weekdays).
  ``incidents.outage.tables`` lists the tables whose sync the outage visibly interrupted (the
  interval between the syncs around it exceeds three median intervals, DEFINITIONS' gap rule,
  and kept changes waiting); tables that had nothing to land then (quiet tables whose work
  block was over) are left out. ``incidents.outage.commits`` gives, per table, the last sync
  before the outage and the first after it (null when none), ``gap`` and ``waiting`` (changes
  made inside the interval at least two median intervals before its end and landed by the sync
  that ended it). ``incidents.degraded`` lists every table and gives the peak slowdowns.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .arrays import group_starts
from .clock import DAY, HOUR, day_keys, is_weekday, iso
from .columns import TableData
from .deltalog import LogSim
from .spec import (BUSY_LIMIT_PER_DAY, BUSY_TABLE, DEGRADED, DEGRADED_EXPORT, DEGRADED_RUNTIME_S, END,
                   INITIAL_LOAD_BEFORE, OUTAGE, PURGE_AFTER, RETENTION, SENTINEL, TRENDING_TABLE, Window)


def percentiles(x: np.ndarray) -> dict:
    if len(x) == 0:
        return {"p50": None, "p95": None, "max": None, "changes": 0}
    return {"p50": round(float(np.percentile(x, 50)), 3), "p95": round(float(np.percentile(x, 95)), 3),
            "max": round(float(x.max()), 3), "changes": int(len(x))}


def count_by_day(keys: np.ndarray, kinds: np.ndarray, names: tuple) -> dict:
    """{day: {names[0]: n, ...}} from a day key and a kind index (into names) per item."""
    out = {}
    if len(keys) == 0:
        return out
    days, day_idx = np.unique(keys, return_inverse=True)
    counts = np.zeros((len(days), len(names)), dtype=np.int64)
    np.add.at(counts, (day_idx, kinds), 1)
    for d, row in zip(days, counts):
        out[str(d)] = {n: int(c) for n, c in zip(names, row)}
    return out


def latency_stats(lat: np.ndarray, sentinel: np.ndarray) -> dict:
    ok = ~sentinel & (lat >= 0)
    stats = percentiles(lat[ok])
    stats["excluded_sentinel"] = int(sentinel.sum())
    stats["excluded_negative"] = int((~sentinel & (lat < 0)).sum())
    return stats


def table_truth(table: TableData, sim: LogSim) -> dict:
    """What happened to one table, from the simulation state (never from the lake)."""
    v, lg = table.versions, table.landing
    landed = v.initial | lg.lands
    first_version = np.full(len(v), -1, dtype=np.int64)
    first_ms = np.zeros(len(v), dtype=np.int64)
    first_version[v.initial], first_ms[v.initial] = 0, table.sink0[v.initial]
    w = lg.lands
    first_version[w] = sim.sync_version[lg.first_commit[w]]
    first_ms[w] = lg.commit_ms[lg.first_commit[w]]

    idx = np.flatnonzero(landed)                   # landed versions, in (record, time) order
    is_first = group_starts(v.rec[idx])
    kind = np.where(v.is_delete[idx], 2, np.where(is_first, 0, 1))
    landed_day = day_keys(first_ms[idx] // 1000)
    day = day_keys(v.modified[idx]) if table.has_modifiedon else landed_day
    days = count_by_day(day, kind, ("creates", "updates", "deletes"))
    for d, n in zip(*np.unique(landed_day, return_counts=True)):
        days.setdefault(str(d), {"creates": 0, "updates": 0, "deletes": 0})["landed"] = int(n)
    for d in days.values():
        d.setdefault("landed", 0)
    days = dict(sorted(days.items()))

    # The feed starts at the first commit whose change files the final vacuum kept (none kept:
    # it would start at the next version, and has no time yet).
    feed_commit = next((c for c in sim.commits if c.ms >= sim.cutoff), None)
    from_version = feed_commit.version if feed_commit else len(sim.commits)
    before_feed = idx[first_version[idx] < from_version]
    complete_from = None  # no vacuum: the feed reaches back to the table's creation
    if len(before_feed):
        last_day = (v.modified if table.has_modifiedon else first_ms // 1000)[before_feed].max()
        complete_from = str(day_keys(np.array([(last_day // DAY + 1) * DAY]))[0])

    # The snapshot: each Id's row still in the table.
    in_table = np.flatnonzero(sim.cur >= 0)
    snap_v = sim.cur[in_table]
    if table.has_modifiedon:
        snap_day = day_keys(v.modified[snap_v])
        is_create = table.created_written[in_table] == v.modified[snap_v]
    else:
        snap_day = day_keys(sim.sink[in_table] // 1000)
        is_create = np.ones(len(in_table), dtype=bool)
    snap_kind = np.where(v.is_delete[snap_v], 2, np.where(is_create, 0, 1))
    days_snapshot = count_by_day(snap_day, snap_kind, ("creates", "updates", "deletes"))

    counts = {k: sum(1 for c in sim.commits if c.kind == k) for k in ("write", "merge", "optimize", "purge")}
    out = {"kind": table.spec.kind, "path": None, "interval_minutes": table.spec.interval_min,
           "commits": {"sync": counts["write"] + counts["merge"], **counts},
           "change_feed": {"from_version": from_version,
                           "from_time": iso(feed_commit.ms // 1000) if feed_commit else None,
                           "cutoff": iso(sim.cutoff // 1000) if sim.cutoff > 0 else None,
                           "complete_from_day": complete_from},
           "day_clock": "modified" if table.has_modifiedon else "landed",
           "days": days, "days_snapshot": days_snapshot,
           "landed_versions": int(len(idx)), "made_versions": int(len(v) - v.initial.sum()),
           "landings": int(len(idx) + len(lg.relanded_version)), "relandings": int(len(lg.relanded_version)),
           "snapshot_rows": int(len(in_table)), "deleted_rows": int(v.is_delete[snap_v].sum()),
           "live_rows": int(len(in_table) - v.is_delete[snap_v].sum()), "purged_rows": int(sim.purged)}
    if table.has_modifiedon:
        sync = idx[~v.initial[idx]]
        lat = first_ms[sync] / 1000.0 - v.modified[sync]
        sentinel = v.modified[sync] < SENTINEL + 366 * DAY
        feed = first_version[sync] >= from_version
        out["latency_s"] = latency_stats(lat, sentinel)
        out["latency_s_feed"] = latency_stats(lat[feed], sentinel[feed])
        # Per day of modifiedon (UTC), over the versions first landed by a sync: what a store
        # collected from the start knows exactly.
        ok = ~sentinel & (lat >= 0)
        lat_day = day_keys(v.modified[sync][ok])
        out["latency_by_day"] = {str(d): percentiles(lat[ok][lat_day == d]) for d in np.unique(lat_day)}
        # What the feed alone shows: a version first landed before the feed and landed again in
        # it looks, to a reader of the feed, as if it first landed at that later landing.
        seen_ms = feed_first_landing_ms(table, sim, first_version, first_ms, from_version)
        seen = idx[(seen_ms[idx] > 0) & ~v.initial[idx]]
        lat_seen = seen_ms[seen] / 1000.0 - v.modified[seen]
        out["latency_s_feed_as_seen"] = latency_stats(lat_seen, v.modified[seen] < SENTINEL + 366 * DAY)
        out["feed_relanded_before"] = int(((seen_ms[idx] > 0) & (first_version[idx] < from_version)).sum())
        out["latency_excluded"] = out["latency_s"]["excluded_sentinel"] + out["latency_s"]["excluded_negative"]
    else:
        out["latency_s"] = out["latency_s_feed"] = out["latency_s_feed_as_seen"] = out["latency_by_day"] = None
        out["latency_excluded"] = out["feed_relanded_before"] = 0
    totals = {d: c["creates"] + c["updates"] + c["deletes"] for d, c in days.items()}
    peak = max(totals, key=lambda d: (totals[d], d))
    out["peak_day"], out["peak_day_events"] = peak, totals[peak]
    return out


def truth_text(truth: dict) -> str:
    """JSON, indented, with each flat object (a day's counts, a percentile set) on one line."""
    def fmt(value, indent: int) -> str:
        flat = isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values())
        if not isinstance(value, dict) or not value or flat:
            return json.dumps(value, separators=(",", ":"))
        pad = " " * (indent + 1)
        items = [f"{pad}{json.dumps(k)}: {fmt(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return fmt(truth, 0) + "\n"


def feed_first_landing_ms(table: TableData, sim: LogSim, first_version, first_ms, from_version) -> np.ndarray:
    """Per version: its earliest landing at or after from_version (ms), 0 if none."""
    out = np.where(first_version >= from_version, first_ms, 0)
    lg = table.landing
    later = sim.sync_version[lg.relanded_commit] >= from_version
    rv, ms = lg.relanded_version[later], lg.commit_ms[lg.relanded_commit[later]]
    missing = out[rv] == 0
    order = np.argsort(ms[missing], kind="stable")[::-1]      # earliest written last: it wins
    out[rv[missing][order]] = ms[missing][order]
    return out


def window_day_totals(truth: dict, window: Window, weekdays_only: bool) -> tuple[list, list]:
    keys = day_keys(window.day_starts)
    wd = is_weekday(window.day_starts)
    days, totals = [], []
    for k, is_wd in zip(keys, wd):
        if weekdays_only and not is_wd:
            continue
        c = truth["days"].get(str(k), {"creates": 0, "updates": 0, "deletes": 0})
        days.append(str(k))
        totals.append(c["creates"] + c["updates"] + c["deletes"])
    return days, totals


def incidents_truth(tables: dict[str, TableData]) -> dict:
    """The outage and the degraded day. The outage lists the tables whose sync it visibly
    interrupted: the interval between the syncs around it is longer than three median intervals
    (DEFINITIONS' gap rule) and kept changes waiting (made inside it, at least two median
    intervals before its end, and landed by the sync that ended it)."""
    outage = {"start": iso(OUTAGE[0]), "end": iso(OUTAGE[1]), "tables": [], "commits": {}}
    for name, t in tables.items():
        gap = outage_gap(t)
        outage["commits"][name] = gap
        if gap["gap"] and gap["waiting"]:
            outage["tables"].append(name)
    degraded = {"start": iso(DEGRADED[0]), "end": iso(DEGRADED[1]), "tables": sorted(tables),
                "peak_extra_runtime_s": DEGRADED_RUNTIME_S, "peak_export_delay_factor": DEGRADED_EXPORT}
    return {"outage": outage, "degraded": degraded}


def outage_gap(t: TableData) -> dict:
    """The syncs around the outage, and whether the interval between them is a gap."""
    lg, v = t.landing, t.versions
    syncs = np.concatenate([[t.v0_ms], lg.commit_ms])
    before, after = syncs[syncs < OUTAGE[0] * 1000], syncs[syncs >= OUTAGE[1] * 1000]
    out = {"last_before": iso(before.max() // 1000) if len(before) else None,
           "first_after": iso(after.min() // 1000) if len(after) else None, "gap": False, "waiting": 0}
    if not (len(before) and len(after)) or len(syncs) < 3:
        return out
    median_s = float(np.median(np.diff(syncs))) / 1000
    start_s, end_s = before.max() / 1000, after.min() / 1000
    ending = np.searchsorted(lg.commit_ms, after.min())          # the sync that ended it
    waited = (lg.first_commit == ending) & (v.modified > start_s) & (v.modified <= end_s - 2 * median_s)
    out["gap"] = bool(end_s - start_s > 3 * median_s)
    out["waiting"] = int(waited.sum())
    return out


def assemble_truth(truth_tables: dict, tables: dict, window: Window, days, scale, seed, layout) -> dict:
    busy = truth_tables[BUSY_TABLE]
    wd_days, wd_totals = window_day_totals(busy, window, weekdays_only=True)
    quiet = int(np.argmin(wd_totals))
    _, all_totals = window_day_totals(busy, window, weekdays_only=False)
    all_days = [str(k) for k in day_keys(window.day_starts)]
    trend_days, trend_totals = window_day_totals(truth_tables[TRENDING_TABLE], window, weekdays_only=True)
    x = np.array([(np.datetime64(d) - np.datetime64(trend_days[0])).astype(int) for d in trend_days])
    slope = float(np.polyfit(x, np.array(trend_totals, dtype=float), 1)[0])
    return {
        "schema_version": 1,
        "generator": {"days": int(days), "scale": scale, "seed": seed, "layout": layout,
                      "start": iso(window.start), "end": iso(window.end),
                      "initial_load": iso(window.start - INITIAL_LOAD_BEFORE),
                      "nightly_job": "00:05Z", "vacuum_retention_hours": RETENTION // HOUR,
                      "purge_after_days": PURGE_AFTER // DAY},
        "tables": truth_tables,
        "incidents": incidents_truth(tables),
        "busy_table": {"table": BUSY_TABLE, "peak_day": busy["peak_day"],
                       "peak_day_events": busy["peak_day_events"], "limit_per_day": BUSY_LIMIT_PER_DAY,
                       "days_over_limit": [d for d, n in zip(all_days, all_totals) if n > BUSY_LIMIT_PER_DAY],
                       "quiet_day": wd_days[quiet], "quiet_day_events": wd_totals[quiet]},
        "trending_table": {"table": TRENDING_TABLE, "slope_per_day": round(slope, 3),
                           "first_week_mean": round(float(np.mean(trend_totals[:5])), 1),
                           "last_week_mean": round(float(np.mean(trend_totals[-5:])), 1)},
    }


def write_truth(dest: Path, truth: dict) -> None:
    """dest/TRUTH.json, its file time fixed after the window (no wall clock)."""
    path = dest / "TRUTH.json"
    path.write_text(truth_text(truth))
    os.utime(path, (END + DAY // 2,) * 2)
