"""Never mixed: on the sample lake (a 2-day change feed over 28 days of history) every figure
flagged ``exact`` equals what happened, and every figure that differs from it is flagged
``exact`` false. What happened comes from the generator's truth (sample_lake/TRUTH.json: counts
per day) and, for latencies (which the truth gives only over whole windows), from an independent
computation: the change feed read with deltalake's own ``load_cdf`` and reduced in pandas and
numpy, never through the kit's SQL.
"""

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

import kit
from kit.metrics.exactness import exact_spans

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.environ.get("KIT_SAMPLE_LAKE") or os.path.join(ROOT, "sample_lake")


@pytest.fixture(scope="module")
def truth():
    with open(os.path.join(SAMPLE, "TRUTH.json")) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def tables(truth):
    return {n: t for n, t in truth["tables"].items() if t["kind"] in ("dataverse", "finance_operations")}


@pytest.fixture(scope="module")
def lake():
    return kit.open_lake(SAMPLE)


def quietly(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def truth_total(entry) -> int:
    entry = entry or {}
    return entry.get("creates", 0) + entry.get("updates", 0) + entry.get("deletes", 0)


def test_the_exact_span_starts_where_the_truth_says(lake, tables):
    spans = quietly(exact_spans, lake).set_index("table")
    for name, t in tables.items():
        assert spans.loc[name, "exact"] == "from_day", name
        # The kit knows it only from the log; the truth from the simulation.
        assert spans.loc[name, "first_exact_day"].strftime("%Y-%m-%d") == t["change_feed"]["complete_from_day"], name


def test_every_day_flagged_exact_equals_the_truth_and_every_other_is_flagged(lake, tables):
    vol = quietly(kit.change_volume, lake, by="day", include_estimates=True)
    exact_days = wrong_but_exact = estimated_right = 0
    for row in vol.dropna(subset=["period"]).to_dict("records"):
        t = tables[row["table"]]
        day = row["period"].strftime("%Y-%m-%d")
        want = t["days"].get(day) or {}
        got = (row["creates"], row["updates"], row["deletes"])
        right = got == (want.get("creates", 0), want.get("updates", 0), want.get("deletes", 0))
        if row["exact"]:
            exact_days += 1
            wrong_but_exact += not right
        else:
            assert row["total"] <= truth_total(want), (row["table"], day)  # at least: a lower bound
            estimated_right += right
    assert exact_days >= 2 * len(tables)
    assert wrong_but_exact == 0


def test_default_volume_is_the_truth_of_the_exact_days(lake, tables):
    with pytest.warns(kit.KitWarning, match="include_estimates=True"):
        vol = kit.change_volume(lake, by=None)
    got = vol.set_index("table")
    for name, t in tables.items():
        first = t["change_feed"]["complete_from_day"]
        want = sum(truth_total(c) for d, c in t["days"].items() if d >= first)
        assert got.loc[name, "exact"], name
        assert got.loc[name, "total"] == want, name


def feed_latencies(lake, name: str, first_day: str) -> tuple[np.ndarray, int]:
    """Independent: per (Id, versionnumber) in the change feed, its first landing (the row of
    the lowest commit version among inserts and update post-images; its SinkCreatedOn, else the
    commit time); latency in seconds for the versions modified on or after ``first_day``.
    Returns the latencies kept (>= 0, not sentinel) and how many were left out."""
    cover = lake.coverage(name)
    path = lake[name].uri
    df = DeltaTable(path).load_cdf(starting_version=cover.feed_from_version).read_all()
    df = pd.DataFrame({c: df[c].to_pylist() for c in
                       ("Id", "versionnumber", "modifiedon", "SinkCreatedOn", "_change_type", "_commit_version", "_commit_timestamp")})
    df = df[df["_change_type"].isin(["insert", "update_postimage"])]
    df = df.sort_values(["_commit_version"], kind="stable").drop_duplicates(["Id", "versionnumber"], keep="first")
    modified = pd.to_datetime(df["modifiedon"], utc=True, format="mixed")
    landed = pd.to_datetime(df["SinkCreatedOn"], utc=True, format="mixed").fillna(
        pd.to_datetime(df["_commit_timestamp"], utc=True))
    on_exact_days = modified >= pd.Timestamp(first_day, tz="UTC")
    seconds = (landed - modified).dt.total_seconds()[on_exact_days].to_numpy()
    keep = seconds >= 0
    return seconds[keep], int((~keep).sum())


def test_default_latency_equals_an_independent_computation(lake, tables):
    lat = quietly(kit.sync_latency, lake, by=None).set_index("table")
    for name, t in tables.items():
        row = lat.loc[name]
        assert row["exact"] and row["method"] == "change_feed", name
        seconds, negative = feed_latencies(lake, name, t["change_feed"]["complete_from_day"])
        assert row["changes"] == len(seconds), name
        assert row["excluded_negative"] == negative, name
        for col, q in (("p50_s", 50), ("p95_s", 95), ("max_s", 100)):
            assert row[col] == pytest.approx(np.percentile(seconds, q), abs=0.01), (name, col)
        # The figures cover every change of the exact days: the one total of the report.
        first = t["change_feed"]["complete_from_day"]
        assert row["changes"] + row["excluded"] == sum(truth_total(c) for d, c in t["days"].items() if d >= first)


def test_estimated_latency_is_flagged(lake, tables, truth):
    """With the estimates, a table's overall latency mixes snapshot rows (upper bounds): it is
    not the truth's and must not claim to be."""
    lat = quietly(kit.sync_latency, lake, by=None, include_estimates=True).set_index("table")
    for name, t in tables.items():
        row = lat.loc[name]
        differs = abs(row["p95_s"] - t["latency_s"]["p95"]) > 1 or abs(row["max_s"] - t["latency_s"]["max"]) > 1
        assert not row["exact"], name
        assert differs or not row["exact"], name


def test_throughput_peaks_flagged_exact_are_the_truth(lake, tables):
    tp = quietly(kit.throughput, lake).set_index("table")
    for name, t in tables.items():
        row = tp.loc[name]
        first = t["change_feed"]["complete_from_day"]
        days = {d: truth_total(c) for d, c in t["days"].items() if d >= first}
        peak = max(days, key=lambda d: (days[d], d))
        assert row["peaks_exact"], name
        assert row["peak_day_events"] == days[peak], name
        # mean, p95 and trend come from the commit metrics (landings per day): an estimate.
        assert row["daily_basis"] == "commit_metrics" and not row["exact"], name
    everything = quietly(kit.throughput, lake, include_estimates=True).set_index("table")
    assert not everything["peaks_exact"].any()


def test_daily_volume_rows_flagged_exact_are_the_truth(lake, tables):
    daily = quietly(kit.daily_volume, lake, include_estimates=True)
    for row in daily.to_dict("records"):
        t = tables[row["table"]]
        day = row["period"].strftime("%Y-%m-%d")
        if row["exact"]:
            assert row["total"] == truth_total(t["days"].get(day)), (row["table"], day)
            assert row["method"] == "change_feed"
        else:
            assert row["method"] == "commit_metrics"


def test_outage_waiting_flagged_exact_is_the_truth(lake, truth):
    gaps = quietly(kit.sync_gaps, lake, outages_only=True)
    want = {n: c["waiting"] for n, c in truth["incidents"]["outage"]["commits"].items() if c["gap"]}
    assert set(gaps["table"]) == set(want)
    for row in gaps.to_dict("records"):
        assert row["exact"] and row["method"] == "change_feed", row["table"]
        assert row["waiting"] == want[row["table"]], row["table"]
