"""change_volume, sync_latency and throughput on the sample lake, against its truth file.

The truth (sample_lake/TRUTH.json, docs/DESIGN.md) is written by the generator from its own
simulation, never by reading the lake back. What is exact where:

- Days from ``change_feed.complete_from_day`` on (the day after ``from_time`` when the truth
  does not say): every version modified then first landed after the feed starts, so
  ``change_volume(by="day")`` equals ``days`` exactly. With ``from_version`` 0 (the feed
  reaches the table's creation) every day does.
- Full days before ``from_time`` (the day ends before it): only the snapshot knows them, so they
  equal ``days_snapshot``.
- ``latency_s_feed`` covers the versions first landed at or after ``from_version``: the
  changes measured by the change feed (``methods="change_feed"``).
"""

import json
import os
import warnings
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

import kit
from kit.present.advice import pattern_reasons
from kit.metrics.latency import sync_latency
from kit.metrics.throughput import throughput
from kit.metrics.volume import change_volume

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# KIT_SAMPLE_LAKE points the tests at another generated lake (kit.sample.generate(dest)).
SAMPLE = os.environ.get("KIT_SAMPLE_LAKE") or os.path.join(ROOT, "sample_lake")
TRUTH_FILE = os.path.join(SAMPLE, "TRUTH.json")

ANALYSED_KINDS = ("dataverse", "finance_operations")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.fixture(scope="module")
def truth():
    # sample_lake/ is committed: without its truth file the checkout is broken (an error, not a skip).
    assert os.path.exists(TRUTH_FILE), f"{TRUTH_FILE} is missing: run `python -m kit sample sample_lake`"
    with open(TRUTH_FILE) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def tables(truth):
    return {name: t for name, t in truth["tables"].items() if t["kind"] in ANALYSED_KINDS}


@pytest.fixture(scope="module")
def lake():
    return kit.open_lake(SAMPLE)


@pytest.fixture(scope="module")
def results(lake):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample's metadata and plain tables are skipped
        return {
            # Every day, estimated ones included (flagged exact=False; test_exact_vs_truth checks
            # the flags): the snapshot's days are compared with the truth's days_snapshot.
            "volume": change_volume(lake, by="day", include_estimates=True),
            "latency_feed": sync_latency(lake, by=None, methods="change_feed", include_estimates=True),
            "latency_all": sync_latency(lake, by=None, include_estimates=True),
            "throughput": throughput(lake).pipe(lambda df: df.assign(reason=pattern_reasons(df))),
        }


def by_day(volume: pd.DataFrame, table: str) -> dict:
    rows = volume[volume["table"] == table]
    return {
        p.strftime("%Y-%m-%d"): (int(r["creates"]), int(r["updates"]), int(r["deletes"]))
        for p, r in zip(rows["period"], rows.to_dict("records"))
        if not pd.isna(p)
    }


def truth_day(entry: dict | None) -> tuple:
    entry = entry or {}
    return (entry.get("creates", 0), entry.get("updates", 0), entry.get("deletes", 0))


def test_every_dataverse_table_is_analysed(results, tables):
    for key in ("volume", "latency_all", "throughput"):
        assert set(results[key]["table"]) == set(tables), key


def test_volume_equals_truth_days(results, truth, tables):
    start = utc(truth["generator"]["start"])
    end = utc(truth["generator"]["end"])
    mismatches = []
    compared = 0
    for name, t in tables.items():
        got = by_day(results["volume"], name)
        feed_from = utc(t["change_feed"]["from_time"])
        complete = t["change_feed"]["from_version"] == 0
        # The first day the feed alone knows fully: as the truth states it, else the day after
        # the feed starts.
        exact_from = t["change_feed"].get("complete_from_day") or (feed_from + timedelta(days=1)).strftime("%Y-%m-%d")
        day = datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
        while day < end:
            key = day.strftime("%Y-%m-%d")
            if complete or key >= exact_from:
                expected = truth_day(t["days"].get(key))
            elif day + timedelta(days=1) <= feed_from:
                expected = truth_day(t.get("days_snapshot", {}).get(key))
            else:
                expected = None  # the day the feed starts: partly feed, partly snapshot
            if expected is not None:
                compared += 1
                if got.get(key, (0, 0, 0)) != expected:
                    mismatches.append((name, key, got.get(key), expected))
            day += timedelta(days=1)
    assert compared > 0
    assert not mismatches, f"{len(mismatches)} table-days differ (table, day, kit, truth): {mismatches[:10]}"


def test_latency_over_the_feed_equals_truth(results, tables):
    lat = results["latency_feed"].set_index("table")
    for name, t in tables.items():
        want = t["latency_s_feed"]
        got = lat.loc[name]
        assert got["changes"] == want["changes"], name
        for col in ("excluded_sentinel", "excluded_negative"):
            if col in want:
                assert got[col] == want[col], (name, col)
        if want["changes"] == 0:
            continue
        assert got["method"] == "change_feed", name
        for col, key in (("p50_s", "p50"), ("p95_s", "p95"), ("max_s", "max")):
            assert abs(got[col] - want[key]) <= 1.0, (name, col, got[col], want[key])


def test_latency_of_fully_fed_tables_equals_truth(results, tables):
    lat = results["latency_all"].set_index("table")
    for name, t in tables.items():
        if t["change_feed"]["from_version"] != 0:
            continue  # older versions are known from the snapshot only (upper bounds)
        want, got = t["latency_s"], lat.loc[name]
        assert got["changes"] == want["changes"], name
        for col, key in (("p50_s", "p50"), ("p95_s", "p95"), ("max_s", "max")):
            assert abs(got[col] - want[key]) <= 1.0, (name, col, got[col], want[key])
        if "latency_excluded" in t:
            assert got["excluded"] == t["latency_excluded"], name


def test_busy_table_needs_service_bus(results, truth, tables):
    tp = results["throughput"].set_index("table")
    busy = truth["busy_table"]
    row = tp.loc[busy["table"]]
    assert busy["peak_day_events"] > 50_000
    assert row["peak_day"].strftime("%Y-%m-%d") == busy["peak_day"]
    assert row["peak_day_events"] == busy["peak_day_events"]
    assert row["pattern"] == "Service Bus + Azure Functions"
    assert row["utilisation"] > 1 and row["days_to_limit"] == 0
    assert "Service Bus + Azure Functions" in row["reason"] and f"{busy['peak_day_events']:,}" in row["reason"]


def test_quiet_tables_stay_on_power_automate(results, truth, tables):
    tp = results["throughput"].set_index("table")
    for name, t in tables.items():
        if name == truth["busy_table"]["table"]:
            continue
        row = tp.loc[name]
        assert row["pattern"] == "Power Automate", (name, row["reason"])
        feed_from = utc(t["change_feed"]["from_time"])
        if t.get("peak_day") and (t["change_feed"]["from_version"] == 0 or pd.Timestamp(t["peak_day"]).date() > feed_from.date()):
            assert row["peak_day_events"] == t["peak_day_events"], name


def test_trending_table_grows(results, truth):
    name = truth["trending_table"]["table"]  # the generator always names one
    row = results["throughput"].set_index("table").loc[name]
    assert row["trend_per_day"] > 0
    assert not pd.isna(row["days_to_limit"])


def test_daily_statistics_match_the_truth_despite_the_vacuumed_feed(results, truth, tables):
    """The feed covers two days; the snapshot alone sees about a third of email's earlier
    volume. Mean, p95 and trend come from the commit metrics instead, and agree with the
    truth's landed versions per day (numpy, computed here) within the re-landings."""
    import numpy as np

    tp = results["throughput"].set_index("table")
    start, end = utc(truth["generator"]["start"]), utc(truth["generator"]["end"])
    days = [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range((end - start).days)]
    for name, t in tables.items():
        row = tp.loc[name]
        if t["change_feed"]["from_version"] == 0:
            continue
        assert row["daily_basis"] == "commit_metrics", name
        landed = np.array([t["days"].get(d, {}).get("landed", 0) for d in days], dtype=float)
        # The lake observes from the day after the initial load; the window's days are the tail.
        assert row["days"] >= len(days)
        total = row["mean_per_day"] * row["days"]
        assert abs(total - landed.sum()) <= max(5, 0.005 * landed.sum()), name
        slope = np.polyfit(np.arange(len(landed)), landed, 1)[0]
        if row["days"] == len(days):
            assert row["trend_per_day"] == pytest.approx(slope, rel=0.02, abs=0.5), name


def test_daily_volume_sees_the_launch_day_the_snapshot_undercounts(lake, truth):
    """email's launch day (2026-09-16) is before the change feed: the snapshot shows a third of
    it; daily_volume, from the commit metrics, shows what landed that day (truth's landed). The
    days of the exact span (from 2026-09-29) are counted from the changes: the truth's days."""
    busy = truth["busy_table"]["table"]
    days = truth["tables"][busy]["days"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        daily = kit.daily_volume(lake, busy, include_estimates=True).set_index("period")["total"]
    for day in ("2026-09-16", "2026-09-22"):
        landed = days[day]["landed"]
        assert abs(int(daily[pd.Timestamp(day, tz="UTC")]) - landed) <= max(5, 0.005 * landed), day
    c = days["2026-09-30"]
    assert int(daily[pd.Timestamp("2026-09-30", tz="UTC")]) == c["creates"] + c["updates"] + c["deletes"]
