"""throughput on a tiny hand-built lake whose daily volumes are chosen here."""

import json
import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

import kit
from kit.errors import KitError, NotDataverseTableError
from kit.metrics.throughput import daily_volume, limits_table, load_limits
from kit.metrics.throughput import throughput as measure
from kit.present.advice import pattern_reasons
from lakebuilder import SyncTable, plain_table, record, t

COLUMNS = [
    "table", "days", "mean_per_day", "p95_per_day", "peak_day", "peak_day_events", "peak_hour_events",
    "peak_5min_events", "limit", "limit_per_day", "utilisation", "headroom", "days_to_limit", "pattern",
    "verdict", "burst_limit", "burst_events", "burst_demand", "premium_limit", "premium_demand",
    "actions_per_record", "trend_per_day", "limits_exceeded", "excluded", "method", "estimated", "peaks_exact", "exact", "daily_basis", "reason",
]


def throughput(lake, tables=None, **options):
    """``kit.throughput`` with the advice it is read with (``reason``, from the present layer)."""
    df = measure(lake, tables, **options)
    return df.assign(reason=pattern_reasons(df, options.get("limits")))


SENTINEL = pd.Timestamp("1900-01-01", tz="UTC").to_pydatetime()


def table(lake_dir, name) -> SyncTable:
    return SyncTable(str(lake_dir / "deltalake" / f"{name}_partitioned"))


def created(prefix: str, times) -> list[dict]:
    return [record(f"{prefix}{i}", 1, when, when) for i, when in enumerate(times)]


def spaced(start, n, step_minutes):
    return [start + timedelta(minutes=step_minutes * i) for i in range(n)]


def lands(tbl: SyncTable, batches: list[list[dict]], days: list[int]):
    """Each batch lands at 23:59 of its day (the first one as the initial load)."""
    for i, (rows, day) in enumerate(zip(batches, days)):
        (tbl.initial if i == 0 else tbl.sync)(rows, t(day, 23, 59))


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("throughput")
    # account: 10, 20, 30 changes on days 5, 6, 7 (modified clock).
    day5 = created("a5_", spaced(t(5, 8), 10, 10))  # 08:00 .. 09:30: 6 in hour 8, 4 in hour 9
    day6 = created("a6_", spaced(t(6, 6), 20, 15))  # 06:00 .. 10:45: 4 per hour
    day7 = (
        created("a7a_", [t(7, 9) + timedelta(seconds=30 * i) for i in range(7)])  # 7 in 09:00-09:05
        + created("a7b_", spaced(t(7, 9, 10), 5, 1))  # 5 in 09:10-09:15: hour 9 holds 12
        + created("a7c_", spaced(t(7, 13), 18, 20))  # 3 per hour from 13:00
    )
    # Day 7 also re-lands a day-5 version (not a change) and lands a sentinel modifiedon (excluded).
    extra = [day5[0], record("s", 1, t(7, 1), SENTINEL)]
    lands(table(root, "account"), [day5, day6, day7 + extra], [5, 6, 7])
    # contact: 10, 0, 30 (day 6 has no change but counts as a day).
    lands(table(root, "contact"), [created("c5_", spaced(t(5, 1), 10, 60)), created("c7_", spaced(t(7, 0), 30, 30))], [5, 7])
    # lead: 30, 20, 10 (shrinking).
    lands(
        table(root, "lead"),
        [created("l5_", spaced(t(5, 0), 30, 30)), created("l6_", spaced(t(6, 0), 20, 30)), created("l7_", spaced(t(7, 0), 10, 30))],
        [5, 6, 7],
    )
    return root


@pytest.fixture(scope="module")
def lake(lake_dir):
    return kit.open_lake(lake_dir)


def row(df, name):
    return df[df["table"] == name].iloc[0]


def test_daily_statistics(lake):
    df = throughput(lake)
    assert list(df.columns) == COLUMNS
    assert list(df["table"]) == ["account", "contact", "lead"]
    acc = row(df, "account")
    assert acc["days"] == 3
    assert acc["mean_per_day"] == pytest.approx(20.0)
    assert acc["p95_per_day"] == pytest.approx(np.percentile([10, 20, 30], 95))  # 29.0
    assert acc["peak_day"] == pd.Timestamp(t(7))
    assert acc["peak_day_events"] == 30
    assert acc["peak_hour_events"] == 12
    assert acc["peak_5min_events"] == 7
    assert acc["trend_per_day"] == pytest.approx(10.0)
    assert acc["excluded"] == 1  # the sentinel
    assert acc["method"] == "change_feed"
    # Default limits: 250,000 requests / 5 actions = 50,000 events a day.
    assert acc["limit"] == "power_automate_process_daily"
    assert acc["limit_per_day"] == 50000.0
    assert acc["utilisation"] == pytest.approx(30 / 50000)
    assert acc["headroom"] == pytest.approx(1 - 30 / 50000)
    # Line through (0, 10), (1, 20), (2, 30): at day 2 it is 30, rising 10 a day.
    assert acc["days_to_limit"] == pytest.approx((50000 - 30) / 10)
    assert acc["pattern"] == "Power Automate"
    assert acc["limits_exceeded"] == ""
    assert "Peak day 2026-01-07 had 30 events" in acc["reason"]
    assert "50,000/day Power Automate limit (250,000 requests per 24 h at 5 actions per record)" in acc["reason"]
    assert acc["reason"].endswith("(250,000 requests per 24 h at 5 actions per record): Power Automate is enough.")
    for col, dtype in (("days", "int64"), ("peak_day_events", "int64"), ("peak_hour_events", "int64"),
                       ("peak_5min_events", "int64"), ("utilisation", "float64"), ("days_to_limit", "float64")):
        assert df[col].dtype == dtype, col
    assert str(df["peak_day"].dtype) == "datetime64[us, UTC]"


def test_empty_days_count_as_zero(lake):
    contact = row(throughput(lake), "contact")
    daily = [10, 0, 30]
    slope, intercept = np.polyfit([0, 1, 2], daily, 1)
    assert contact["days"] == 3
    assert contact["mean_per_day"] == pytest.approx(40 / 3)
    assert contact["p95_per_day"] == pytest.approx(np.percentile(daily, 95))
    assert contact["trend_per_day"] == pytest.approx(slope)  # 10
    assert contact["days_to_limit"] == pytest.approx((50000 - (intercept + 2 * slope)) / slope)
    assert contact["peak_hour_events"] == 2  # two changes per hour on day 7
    assert contact["peak_5min_events"] == 1


def test_shrinking_table_has_no_days_to_limit(lake):
    lead = row(throughput(lake), "lead")
    assert lead["trend_per_day"] == pytest.approx(-10.0)
    assert math.isnan(lead["days_to_limit"])
    assert lead["peak_day"] == pd.Timestamp(t(5)) and lead["peak_day_events"] == 30
    assert lead["reason"].endswith("Power Automate is enough.")


def test_small_limit_by_hand(lake):
    # 500 requests a day / 5 actions = 100 events a day.
    acc = row(throughput(lake, tables="account", limits={"power_automate_process_daily": 500}), "account")
    assert acc["limit_per_day"] == 100.0
    assert acc["utilisation"] == pytest.approx(0.3)
    assert acc["headroom"] == pytest.approx(0.7)
    assert acc["days_to_limit"] == pytest.approx(7.0)  # (100 - 30) / 10
    assert acc["pattern"] == "Power Automate"
    assert "30% of the 100/day Power Automate limit (500 requests per 24 h at 5 actions per record)" in acc["reason"]
    assert acc["reason"].endswith(
        "and at its current growth of 10 events/day per day it reaches the limit in about 7 days: "
        "stay on Power Automate and plan for Service Bus + Azure Functions."
    )
    # 10 actions per record halves the events a day.
    acc = row(throughput(lake, tables="account", limits={"power_automate_process_daily": 500}, actions_per_record=10), "account")
    assert acc["limit_per_day"] == 50.0
    assert acc["utilisation"] == pytest.approx(0.6)
    assert acc["days_to_limit"] == pytest.approx(2.0)


def test_pattern_flips_when_over_the_day(lake):
    # 100 requests / 5 = 20 events a day; account's peak day has 30.
    df = throughput(lake, limits={"power_automate_process_daily": 100})
    acc = row(df, "account")
    assert acc["utilisation"] == pytest.approx(1.5)
    assert acc["headroom"] == pytest.approx(-0.5)
    assert acc["days_to_limit"] == 0.0
    assert acc["pattern"] == "Service Bus + Azure Functions"
    assert acc["limits_exceeded"] == "power_automate_process_daily"
    assert acc["reason"] == (
        "Peak day 2026-01-07 had 30 events, 150% of the 20/day Power Automate limit "
        "(100 requests per 24 h at 5 actions per record): move to Service Bus + Azure Functions."
    )
    assert row(df, "lead")["pattern"] == "Service Bus + Azure Functions"  # lead's peak day is 30 too
    assert row(df, "lead")["days_to_limit"] == 0.0  # already over, though shrinking
    # Exactly at the limit is not over: 150 requests / 5 = 30 events.
    at = row(throughput(lake, limits={"power_automate_process_daily": 150}), "account")
    assert at["utilisation"] == pytest.approx(1.0)
    assert at["pattern"] == "Power Automate" and at["days_to_limit"] == 0.0
    assert "right at the limit" in at["reason"]


def test_burst_ceilings(lake):
    # Peak 5 minutes: 7 events x 5 actions = 35 requests > 30.
    acc = row(throughput(lake, limits={"power_platform_5min": 30}), "account")
    assert acc["pattern"] == "Service Bus + Azure Functions"
    assert acc["limits_exceeded"] == "power_platform_5min"
    assert acc["reason"].startswith(
        "Peak 5 minutes had 7 events (35 requests at 5 actions per record), over the Power Platform limit of 30 requests per 5 minutes"
    )
    assert acc["utilisation"] == pytest.approx(30 / 50000)  # the daily limit is still the binding one
    # Dataverse service protection: 7 events x 1 request > 6.
    df = throughput(lake, limits={"dataverse_service_protection_5min": 6})
    assert row(df, "account")["pattern"] == "Service Bus + Azure Functions"
    assert row(df, "contact")["pattern"] == "Power Automate"  # one change per 5 minutes
    # Service Bus Standard (1 event a second x 2 operations > 1) constrains Service Bus, not Power Automate.
    acc = row(throughput(lake, limits={"service_bus_standard_1s": 1}), "account")
    assert acc["limits_exceeded"] == "service_bus_standard_1s"
    assert acc["pattern"] == "Power Automate"


def test_limits_forms(lake, tmp_path):
    entries = load_limits()
    assert {e["id"] for e in entries} >= {
        "power_automate_process_daily", "power_platform_5min", "dataverse_service_protection_5min",
        "logic_apps_consumption_5min", "service_bus_standard_1s",
    }
    for e in entries:
        assert e["source"].startswith("https://learn.microsoft.com/")
        pd.Timestamp(e["as_of"])  # a date
    table_ = limits_table()
    assert list(table_["id"])[0] == "power_automate_process_daily" and table_["binding"].sum() == 1
    # A list replaces the whole set.
    only = [dict(entries[0], figure=1000)]
    acc = row(throughput(lake, tables="account", limits=only), "account")
    assert acc["limit_per_day"] == 200.0
    # A file of the same form.
    path = tmp_path / "limits.json"
    path.write_text(json.dumps({"limits": only}))
    assert row(throughput(lake, tables="account", limits=str(path)), "account")["limit_per_day"] == 200.0
    # A dict of fields, and a new limit (hourly, 11 events x 1 request) that the peak hour exceeds.
    new = dict(entries[1], id="hourly_test", figure=11, window_seconds=3600, cost_per_event=1)
    new.pop("binding", None)
    acc = row(throughput(lake, tables="account", limits={"hourly_test": new}), "account")
    assert acc["limits_exceeded"] == "hourly_test" and acc["pattern"] == "Service Bus + Azure Functions"


def test_limit_errors(lake):
    with pytest.raises(KitError, match="no limit 'nope'"):
        throughput(lake, limits={"nope": 5})
    with pytest.raises(KitError, match="Exactly one limit must be binding"):
        throughput(lake, limits={"power_platform_5min": {"binding": True}})
    with pytest.raises(KitError, match="figure must be a positive number"):
        throughput(lake, limits={"power_platform_5min": -1})
    with pytest.raises(KitError, match="lacks the field"):
        throughput(lake, limits=[{"id": "x", "figure": 1}])
    with pytest.raises(KitError, match="actions_per_record"):
        throughput(lake, actions_per_record=0)


def test_non_dataverse_tables(tmp_path):
    acc = table(tmp_path, "account")
    acc.initial(created("a", spaced(t(5, 8), 3, 1)), t(5, 9))
    plain_table(str(tmp_path / "deltalake" / "notes_partitioned"), t(5))
    lake = kit.open_lake(tmp_path)
    with pytest.raises(NotDataverseTableError, match="Id, versionnumber, modifiedon"):
        throughput(lake, tables="notes")
    with pytest.warns(UserWarning, match="notes"):
        df = throughput(lake)
    assert df[["table", "days", "peak_day_events", "peak_5min_events"]].to_dict("records") == [
        {"table": "account", "days": 1, "peak_day_events": 3, "peak_5min_events": 3}
    ]
    assert math.isnan(df.iloc[0]["trend_per_day"]) and math.isnan(df.iloc[0]["days_to_limit"])


def test_table_without_dated_changes(tmp_path):
    acc = table(tmp_path, "account")
    acc.initial([record("s", 1, t(5, 8), SENTINEL)], t(5, 9))
    df = throughput(kit.open_lake(tmp_path))
    r = df.iloc[0]
    assert (r["days"], r["peak_day_events"], r["excluded"]) == (0, 0, 1)
    assert pd.isna(r["peak_day"]) and math.isnan(r["mean_per_day"])
    assert r["pattern"] == "Power Automate" and r["reason"].startswith("No changes with a modifiedon")


def test_sql_names_its_tables(lake_dir):
    """lake.sql finds the views a query needs with duckdb.get_table_names: keep it parseable."""
    import duckdb

    from kit.metrics.throughput import throughput_sql

    lake = kit.open_lake(lake_dir, cache_changes=False)  # SQL over the views, not the cache
    changes = lake.changes_sql("account")
    # The changes read the table's view or the kit's own views of its planned files.
    names = duckdb.get_table_names(throughput_sql(changes, {"account": t(5)}, [1, 300, 3600, 86400]))
    assert names and all(n == "account" or n.startswith("__kit_") for n in names)


def test_history_before_the_first_commit_is_excluded(tmp_path):
    """The initial load (day 7, 10:00) brings records last modified on days 1 and 3: history
    the lake never saw happen. Observed days start on day 7."""
    acc = table(tmp_path, "account")
    acc.initial(created("old", [t(1, 9), t(1, 10), t(3, 9)]) + created("new", [t(7, 8), t(7, 9)]), t(7, 10))
    acc.sync(created("next", spaced(t(8, 9), 4, 1)), t(8, 10))
    r = throughput(kit.open_lake(tmp_path)).iloc[0]
    assert (r["days"], r["excluded"], r["peak_day_events"], r["peak_5min_events"]) == (2, 3, 4, 4)
    assert r["peak_day"] == pd.Timestamp(t(8))
    assert r["mean_per_day"] == pytest.approx(3.0)
    assert r["trend_per_day"] == pytest.approx(2.0)


def test_vacuumed_feed_takes_daily_statistics_from_the_commit_metrics(tmp_path):
    """The initial load (day 4), then syncs landing 10, 20 and 40 new versions on days 5-7, one
    of day 7's updating a day-5 record; then the change data files are vacuumed. The snapshot
    alone would see 9 (day 5: one record's version moved to day 7), 20 and 40; the merge metrics
    still say 10, 20, 40 (inserted + updated) per commit day."""
    tbl = table(tmp_path, "account")
    tbl.initial([record("old", 1, t(1, 8), t(1, 8))], t(4, 23))
    tbl.sync(created("d5_", spaced(t(5, 8), 10, 10)), t(5, 23, 59))
    tbl.sync(created("d6_", spaced(t(6, 8), 20, 10)), t(6, 23, 59))
    tbl.sync(created("d7_", spaced(t(7, 8), 39, 10)) + [record("d5_0", 2, t(5, 8), t(7, 15))], t(7, 23, 59))
    tbl.vacuum_change_data()
    # and the data files the merges rewrote: no row-level history is left but the snapshot.
    DeltaTable(tbl.path).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    df = throughput(kit.open_lake(tmp_path))
    acc = row(df, "account")
    assert acc["daily_basis"] == "commit_metrics"
    assert acc["days"] == 3
    assert acc["mean_per_day"] == pytest.approx((10 + 20 + 40) / 3)
    assert acc["p95_per_day"] == pytest.approx(np.percentile([10, 20, 40], 95))
    assert acc["trend_per_day"] == pytest.approx(np.polyfit([0, 1, 2], [10, 20, 40], 1)[0])
    assert acc["method"] == "snapshot"
    # Estimated days, asked for: the exact span (after the last sync) holds no change.
    daily = daily_volume(kit.open_lake(tmp_path), include_estimates=True)
    assert daily["total"].tolist() == [10, 20, 40]
    assert not daily["exact"].any() and set(daily["method"]) == {"commit_metrics"}
    assert acc["verdict"] == "no_changes" and not acc["exact"]
    with pytest.warns(kit.KitWarning, match="include_estimates=True"):
        assert daily_volume(kit.open_lake(tmp_path)).empty
    assert daily["period"].tolist() == [pd.Timestamp(t(d)) for d in (5, 6, 7)]
    assert set(daily["basis"]) == {"commit_metrics"}


def test_daily_volume_of_a_fully_known_table_counts_changes_per_day(lake):
    """account: 10, 20 and 30 changes on days 5-7 (see the fixture), from the changes."""
    daily = daily_volume(lake, "account")
    assert daily["total"].tolist() == [10, 20, 30]
    assert set(daily["basis"]) == {"changes"}
    contact = daily_volume(lake, "contact")  # 10, 0, 30: the empty day is a 0, not a hole
    assert contact["total"].tolist() == [10, 0, 30]
