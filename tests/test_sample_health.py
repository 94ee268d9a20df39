"""sync_gaps, freshness and anomalies on the sample lake, against its truth file.

The sample lake (``sample_lake/``, written by ``kit.sample``) carries ``TRUTH.json`` (schema in
docs/DESIGN.md): an outage (no sync on some tables between ``start`` and ``end``) and a degraded
window (changes land late on some tables). Skipped when the sample lake has not been generated.
"""

from __future__ import annotations

import json
import os
import warnings

import pandas as pd
import pytest

import kit
from kit.metrics.anomalies import anomalies
from kit.metrics.health import freshness, sync_cadence, sync_gaps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# KIT_SAMPLE_LAKE points the tests at another generated copy (e.g. one made in a temporary folder).
SAMPLE = os.environ.get("KIT_SAMPLE_LAKE") or os.path.join(ROOT, "sample_lake")
TRUTH_FILE = os.path.join(SAMPLE, "TRUTH.json")


@pytest.fixture(scope="module")
def truth():
    # sample_lake/ is committed: without its truth file the checkout is broken (an error, not a skip).
    assert os.path.exists(TRUTH_FILE), f"{TRUTH_FILE} is missing: run `python -m kit sample sample_lake`"
    with open(TRUTH_FILE) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def lake():
    return kit.open_lake(SAMPLE)


def when(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC") if pd.Timestamp(text).tzinfo else pd.Timestamp(text, tz="UTC")


def quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def gaps(lake):
    return quietly(sync_gaps, lake, outages_only=True)


@pytest.fixture(scope="module")
def all_gaps(lake):
    return quietly(sync_gaps, lake)


@pytest.fixture(scope="module")
def latency_anomalies(lake):
    # With the estimated hours (the feed keeps two days, too few for a baseline): the
    # degraded day is scored against the snapshot-era hours, and every row says so.
    return quietly(anomalies, lake, metric="latency", include_estimates=True)


def test_latency_anomalies_say_they_are_estimates(lake, latency_anomalies):
    assert not latency_anomalies["exact"].any()
    assert set(latency_anomalies["method"]) == {"change_feed+snapshot"}
    exact = quietly(anomalies, lake, metric="latency")  # the default: the exact span only
    assert exact["exact"].all() and (exact["hour"] >= pd.Timestamp("2026-09-28 12:00", tz="UTC")).all()


def interval_s(truth, table: str) -> float:
    return float(truth["tables"][table]["interval_minutes"]) * 60.0


def analysed(truth, names):
    """The tables of ``names`` that the analyses cover (Dataverse and F&O kinds)."""
    return [n for n in names if truth["tables"][n]["kind"] in ("dataverse", "finance_operations")]


def test_sync_gaps_find_the_outage(truth, gaps):
    outage = truth["incidents"]["outage"]
    start, end = when(outage["start"]), when(outage["end"])
    tables = analysed(truth, outage["tables"])
    assert tables, "the truth file names no outage table the analyses cover"
    second = pd.Timedelta(seconds=1)
    for table in tables:
        mine = gaps[gaps["table"] == table]
        commits = outage.get("commits", {}).get(table)
        if commits:  # the generator says which syncs bracket the outage: exactly those
            lo, hi = when(commits["last_before"]), when(commits["first_after"])
            hits = mine[((mine["start"] - lo).abs() <= second) & ((mine["end"] - hi).abs() <= second)]
        else:  # otherwise: the outage window, give or take one interval
            slack = pd.Timedelta(seconds=interval_s(truth, table))
            hits = mine[(mine["start"] <= start + slack) & (mine["end"] >= end - slack) & (mine["end"] <= end + slack)]
        assert len(hits) == 1, f"{table}: outage {start} - {end} not found in\n{mine}"
        assert hits.iloc[0]["waiting"] > 0


def test_every_long_interval_holds_the_outage_and_only_it_kept_changes_waiting(truth, gaps, all_gaps):
    """Without outages_only, quiet nights are listed too (DEFINITIONS' rule), with nothing
    waiting; the outages are exactly its rows that kept changes waiting."""
    assert len(all_gaps) > len(gaps)
    waited = all_gaps[(all_gaps["waiting"] != 0).fillna(True)].reset_index(drop=True)
    pd.testing.assert_frame_equal(waited, gaps.reset_index(drop=True))


def test_no_other_gaps(truth, gaps):
    outage = truth["incidents"]["outage"]
    start, end = when(outage["start"]), when(outage["end"])
    others = gaps[~(gaps["table"].isin(outage["tables"]) & (gaps["start"] < end) & (gaps["end"] > start))]
    assert len(others) == 0, f"gaps outside the outage:\n{others}"


def test_sync_cadence_matches_the_interval(truth, lake):
    df = quietly(sync_cadence, lake).set_index("table")
    for table, info in truth["tables"].items():
        if info["kind"] not in ("dataverse", "finance_operations") or table not in df.index:
            continue
        assert df.at[table, "median_interval_s"] == pytest.approx(interval_s(truth, table), rel=0.1), table
        assert df.at[table, "commits"] == info["commits"]["sync"], table


def test_freshness_default_is_the_lakes_last_commit(lake):
    df = quietly(freshness, lake)
    assert (df["as_of"] == pd.Timestamp(lake.as_of)).all()
    assert (df["staleness_s"] >= 0).all()


def mid_outage(truth) -> pd.Timestamp:
    outage = truth["incidents"]["outage"]
    start, end = when(outage["start"]), when(outage["end"])
    return start + (end - start) / 2


def check_freshness_against_truth(lake, truth):
    """The freshness rule on a generated lake: mid-outage, the stale tables are exactly those
    the truth file says the outage interrupted, with changes waiting; at the lake's last commit
    (just after midnight, the outage over) every table is judged and none is stale."""
    df = quietly(freshness, lake, as_of=mid_outage(truth))
    stale = df[df["stale"].fillna(False)]
    assert sorted(stale["table"]) == sorted(analysed(truth, truth["incidents"]["outage"]["tables"])), df
    assert (stale["reason"] == "waiting_changes").all() and (stale["waiting"] > 0).all()
    last = quietly(freshness, lake)
    assert last["stale"].notna().all() and not last["stale"].any(), last
    assert last["reason"].isna().all()


def test_freshness_mid_outage_and_at_the_last_commit(truth, lake):
    # The moments: 2026-09-30 18:00 (the outage's middle is 17:55) and 00:07 the next day.
    check_freshness_against_truth(lake, truth)
    at18 = quietly(freshness, lake, as_of="2026-09-30 18:00")
    assert sorted(at18.loc[at18["stale"].fillna(False), "table"]) == ["email", "incident", "opportunity"]


def test_freshness_is_calm_on_ordinary_nights(truth, lake):
    """Just after midnight on every night of the last two weeks but the outage's, in hindsight
    (waiting counted): quiet nights and weekends are no alarm."""
    outage_day = when(truth["incidents"]["outage"]["start"]).normalize()
    for day in pd.date_range(outage_day - pd.Timedelta(days=13), outage_day, freq="D"):
        df = quietly(freshness, lake, as_of=day + pd.Timedelta(minutes=7))
        assert not df["stale"].fillna(False).any(), df


def test_freshness_on_a_lake_it_was_not_tuned_on(tmp_path):
    """Another seed, length and scale: 15 days (two earlier weeks for every hour of the week
    judged), a quarter of the volume; its own truth file says which tables the outage hit."""
    from kit.sample import generate

    other = generate(tmp_path / "lake", seed=11, days=15, scale=0.25)
    check_freshness_against_truth(kit.open_lake(str(tmp_path / "lake")), other)


def test_latency_anomalies_find_the_degraded_window(truth, latency_anomalies):
    """The degraded export delay (up to tenfold towards midday) shows hour by hour where the
    hourly median latency is steady: on the busiest table (15-minute syncs, thousands of changes
    an hour). On the quiet hourly tables the wait for the next hourly run (0 to 60 minutes)
    dwarfs a delay that grows from about 75 s to 750 s: their hours are not flagged one by one."""
    degraded = truth["incidents"]["degraded"]
    start, end = when(degraded["start"]), when(degraded["end"])
    tables = analysed(truth, degraded["tables"])
    assert tables, "the truth file names no degraded table the analyses cover"
    df = latency_anomalies
    inside = df[df["table"].isin(tables) & (df["hour"] >= start.floor("h")) & (df["hour"] < end)]
    assert not (inside["flag"] == "drop").any()
    spikes = inside[inside["flag"] == "spike"]
    busiest = max(tables, key=lambda t: truth["tables"][t]["latency_s"]["changes"])
    mine = inside[(inside["table"] == busiest) & inside["score"].notna()]
    flagged = mine[mine["flag"] == "spike"]
    assert len(flagged) >= 0.5 * len(mine) > 0, f"{busiest}: {len(flagged)} of {len(mine)} degraded hours flagged"
    # the peak of the delay (10:00-16:00) is flagged on the busiest table, every hour
    peak = mine[(mine["hour"] >= start.floor("D") + pd.Timedelta(hours=10)) & (mine["hour"] < start.floor("D") + pd.Timedelta(hours=16))]
    assert (peak["flag"] == "spike").all(), peak
    assert spikes["table"].nunique() >= 2, spikes


def test_latency_anomalies_do_not_flood(truth, latency_anomalies):
    incidents = truth["incidents"]
    margin = pd.Timedelta(hours=2)
    df = latency_anomalies
    known = pd.Series(False, index=df.index)
    for incident in incidents.values():
        start, end = when(incident["start"]), when(incident["end"])
        known |= df["table"].isin(incident["tables"]) & (df["hour"] >= start - margin) & (df["hour"] < end + margin)
    known |= df["in_incident"]
    elsewhere = df[~known]
    flagged = elsewhere[elsewhere["flag"].notna()]
    scored = elsewhere["score"].notna().sum()
    assert len(flagged) <= max(5, 0.005 * scored), f"{len(flagged)} of {scored} ordinary hours flagged:\n{flagged}"


def test_volume_anomalies_do_not_flood(truth, lake):
    df = quietly(anomalies, lake, metric="volume")
    busy = truth.get("busy_table") or {}
    expected = pd.Series(False, index=df.index)
    if busy.get("peak_day"):
        day = pd.Timestamp(busy["peak_day"], tz="UTC")
        expected = (df["table"] == busy["table"]) & (df["hour"] >= day) & (df["hour"] < day + pd.Timedelta(days=1))
    elsewhere = df[~expected]
    flagged = elsewhere[elsewhere["flag"].notna()]
    scored = elsewhere["score"].notna().sum()
    assert len(flagged) <= max(5, 0.01 * scored), f"{len(flagged)} of {scored} ordinary hours flagged:\n{flagged}"
