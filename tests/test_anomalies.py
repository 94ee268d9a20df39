"""anomalies() on a hand-built 5-week lake whose answers are worked out here.

Table ``account``, days i = 0..34 from Monday 2026-01-05 (weekday = i % 7, 0 = Monday). Every
change is a new record; the number of changes modified in hour h of day i:

- weekend (Sat, Sun): 0 at 03:00, else 2;
- weekdays: 2, except 10:00 on Mondays = 20 (a weekly batch job), 10:00 on Wednesday
  2026-01-21 (i = 16) and Wednesday 2026-01-28 (i = 23) = 30 (two incidents at the same hour of
  the week), and 14:00 = 2 + (i % 3).

The k changes of an hour are modified at minutes 0, 1, ..., k - 1 and land with
``SinkCreatedOn = modifiedon + 600 s``, except on Thursday 2026-01-22 (i = 17) 08:00-17:59,
the degraded day, where they land 5400 s after. Day i's changes land in a sync at the next
midnight, except during the outage: no sync on Jan 14, 15, 16; the changes of Jan 13-16
(i = 8..11) land in the sync of Jan 17 00:00, stamped with that time. Sync commits: Jan 5 (the
initial load, one record modified the day before), Jan 6 ... Jan 13, Jan 17 ... Feb 9: intervals
of 24 h, and one of 96 h > 3 x 24 h: the gap (Jan 13 00:00, Jan 17 00:00). Its hours, Jan 13
00:00 to Jan 16 23:00, are ``in_incident``.

Analysed window: Jan 5 00:00 (the first commit) to Feb 8 23:00 (the last hour before the last
sync, Feb 9 00:00): 35 x 24 = 840 hours.
"""

from __future__ import annotations

import math
import statistics
import warnings
from datetime import timedelta

import pandas as pd
import pytest

import kit
from kit.metrics.anomalies import anomalies
from kit.errors import NotDataverseTableError
from lakebuilder import SyncTable, plain_table, record, t

T0 = t(5)
DAYS = 35
OUTAGE_DAYS = range(8, 12)  # Jan 13 .. Jan 16
DEGRADED_DAY, DEGRADED_HOURS = 17, range(8, 18)
INCIDENT_WEDNESDAYS = (16, 23)


def at(i: int, hour: int = 0, minute: int = 0):
    return T0 + timedelta(days=i, hours=hour, minutes=minute)


def count(i: int, h: int) -> int:
    if i % 7 >= 5:
        return 0 if h == 3 else 2
    if h == 10:
        if i % 7 == 0:
            return 20
        if i in INCIDENT_WEDNESDAYS:
            return 30
    if h == 14:
        return 2 + i % 3
    return 2


def latency(i: int, h: int) -> int:
    return 5400 if i == DEGRADED_DAY and h in DEGRADED_HOURS else 600


def day_rows(i: int, stamped: bool) -> list[dict]:
    rows = []
    for h in range(24):
        for j in range(count(i, h)):
            m = at(i, h, j)
            extra = {"SinkCreatedOn": m + timedelta(seconds=latency(i, h))} if stamped else {}
            rows.append(record(f"r{i}_{h}_{j}", 1, m, m, **extra))
    return rows


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("anomaly_lake")
    account = SyncTable(root / "account")
    account.initial([record("seed", 1, at(-1, 12), at(-1, 12))], at(0))
    pending = []
    for i in range(DAYS):
        if i in OUTAGE_DAYS:
            pending += day_rows(i, stamped=False)  # they land when the sync comes back
            if i == OUTAGE_DAYS[-1]:
                account.sync(pending, at(i + 1))
            continue
        account.sync(day_rows(i, stamped=True), at(i + 1))
    plain_table(root / "plain", at(0))
    return str(root)


@pytest.fixture
def lake(lake_dir):
    return kit.open_lake(lake_dir)


@pytest.fixture(scope="module")
def volume_frame(lake_dir):
    return anomalies(kit.open_lake(lake_dir), tables="account", metric="volume")


@pytest.fixture
def volume(volume_frame):
    return volume_frame.set_index("hour")


@pytest.fixture(scope="module")
def latency_scores(lake_dir):
    return anomalies(kit.open_lake(lake_dir), tables="account", metric="latency").set_index("hour")


def ts(i, h):
    return pd.Timestamp(at(i, h))


def weekdays_except(*skip):
    return [i for i in range(DAYS) if i % 7 < 5 and i not in skip]


def volume_mad(pool, baseline, near_mad):
    """The MAD anomalies() divides by for volume: the larger of the pool's own MAD and the
    neighbourhood's, floored at 1 change, 5% of the baseline and sqrt(baseline)."""
    own = statistics.median(abs(v - baseline) for v in pool)
    return max(own, near_mad, 1.0, 0.05 * abs(baseline), math.sqrt(abs(baseline)))


def test_columns_and_window(volume_frame, volume):
    df = volume_frame
    assert list(df.columns) == [
        "table", "hour", "metric", "value", "baseline", "mad", "score", "flag", "in_incident", "samples", "pool",
        "method", "exact",
    ]
    assert len(df) == DAYS * 24
    assert df["hour"].min() == ts(0, 0) and df["hour"].max() == ts(34, 23)
    assert str(df["hour"].dtype) == "datetime64[us, UTC]"
    assert set(df["metric"]) == {"volume"}
    # the seed record (modified the day before the first commit) is outside the window
    assert volume.at[ts(0, 0), "value"] == 2


def test_volume_values_and_empty_hours(volume):
    for i in (0, 5, 16, 21):
        for h in (3, 10, 14):
            assert volume.at[ts(i, h), "value"] == count(i, h)
    assert volume.at[ts(5, 3), "value"] == 0  # Saturday 03:00: no change, still a row


def test_gap_hours_are_in_incident(volume):
    inside = volume["in_incident"]
    assert inside.sum() == 4 * 24
    assert inside[ts(8, 0)] and inside[ts(11, 23)]
    assert not inside[ts(7, 23)] and not inside[ts(12, 0)]


def test_an_incident_does_not_hide_the_next(volume):
    """Wed Jan 21 and Wed Jan 28, 10:00: 30 changes each; otherwise 10:00 is 2 (20 on Mondays)."""
    flagged = volume[volume["flag"].notna()]
    assert flagged.index.tolist() == [ts(16, 10), ts(23, 10)]
    assert (flagged["flag"] == "spike").all()

    # The mean / standard deviation way over the same hour of the week, incidents kept:
    # Jan 28 against Jan 7, 14, 21 and Feb 4 = 2, 2, 30, 2.
    history = [2, 2, 30, 2]
    z = (30 - statistics.mean(history)) / statistics.stdev(history)
    assert z == pytest.approx(1.5)  # (30 - 9) / 14: the first incident hides the second
    assert z < 3.5

    # Ours, Jan 28 10:00, second pass: of the other Wednesdays only Jan 7 and Feb 4 are clean
    # (Jan 14 is in the outage, Jan 21 was flagged by the first pass): fewer than 4, so the
    # pool is 10:00 on the other weekdays, leaving out the outage days and the flagged Jan 21.
    pool = [count(i, 10) for i in weekdays_except(23, 16, *OUTAGE_DAYS)]
    assert len(pool) == 19 and pool.count(20) == 5  # five Mondays at 20, fourteen days at 2
    baseline = statistics.median(pool)
    # Neighbourhood: weekday hours 08:00-12:00 of the other days, each against its own
    # baseline: all 2 against 2, or Mondays 10:00 at 20 against the other Mondays' 20: all 0.
    mad = volume_mad(pool, baseline, near_mad=0)
    assert (baseline, mad) == (2, math.sqrt(2))  # own MAD 0, near 0: the Poisson floor sqrt(2)
    r = volume.loc[ts(23, 10)]
    assert (r["baseline"], r["samples"], r["pool"]) == (2.0, 19, "hour_of_day")
    assert r["mad"] == pytest.approx(mad)
    assert r["score"] == pytest.approx(0.6745 * (30 - 2) / math.sqrt(2))
    assert not r["in_incident"]


def test_weekly_pattern_uses_the_same_hour_of_the_week(volume):
    """Mondays 10:00 = 20 every week: their baseline is the other Mondays, so no flag."""
    r = volume.loc[ts(14, 10)]  # Monday Jan 19
    assert (r["value"], r["baseline"], r["samples"], r["pool"]) == (20.0, 20.0, 4, "hour_of_week")
    assert r["score"] == 0.0 and r["flag"] is None


def test_baseline_and_mad_by_hand(volume):
    """Tuesday Jan 20 (i = 15), 14:00: value 2 + 15 % 3 = 2."""
    # Other Tuesdays: Jan 6, 13 (outage), 27, Feb 3: 3 clean -> pool = 14:00 on other weekdays.
    pool = [count(i, 14) for i in weekdays_except(15, *OUTAGE_DAYS)]
    baseline = statistics.median(pool)
    own_mad = statistics.median(abs(v - baseline) for v in pool)
    # Neighbourhood, 12:00-16:00 of the other weekdays: 80 hours at 2 against a baseline of 2
    # (deviation 0) and 20 at 14:00 (deviation 0 or 1): median 0.
    mad = volume_mad(pool, baseline, near_mad=0)
    r = volume.loc[ts(15, 14)]
    assert r["value"] == 2
    assert r["samples"] == len(pool) == 20
    assert r["baseline"] == baseline == 3
    assert own_mad == 1
    assert mad == math.sqrt(3)  # the Poisson floor beats the own MAD of 1
    assert r["mad"] == pytest.approx(mad)
    assert r["score"] == pytest.approx(0.6745 * (2 - 3) / math.sqrt(3))
    # Saturday Jan 10 03:00: 0 changes, like the 4 other Saturdays (the outage is Tue-Fri, so
    # all 4 are clean: the same hour of the week): baseline 0, MAD 0 floored at 1 change.
    r = volume.loc[ts(5, 3)]
    assert (r["value"], r["baseline"], r["mad"], r["score"]) == (0.0, 0.0, 1.0, 0.0)
    assert (r["samples"], r["pool"]) == (4, "hour_of_week")


def test_latency_finds_the_degraded_day_and_the_outage(latency_scores):
    df = latency_scores
    assert set(df["metric"]) == {"latency"}
    spikes = df[df["flag"] == "spike"]
    degraded = [ts(DEGRADED_DAY, h) for h in DEGRADED_HOURS]
    outage = [ts(i, h) for i in OUTAGE_DAYS for h in range(24)]
    assert sorted(spikes.index) == sorted(degraded + outage)
    assert (df["flag"] != "drop").all()
    assert not spikes.loc[degraded, "in_incident"].any()
    assert spikes.loc[outage, "in_incident"].all()
    # Thursday Jan 22 10:00: other Thursdays Jan 8, 15 (outage), 29, Feb 5: 3 clean -> pool =
    # 10:00 of the other weekdays outside the outage: 20 days at 600 s. MAD 0 -> 5% of 600 = 30.
    r = df.loc[ts(DEGRADED_DAY, 10)]
    assert (r["value"], r["baseline"], r["mad"], r["samples"]) == (5400.0, 600.0, 30.0, 20)
    assert r["score"] == pytest.approx(0.6745 * (5400 - 600) / 30)
    # An outage hour: Jan 14 10:00, changes at 10:00 and 10:01 landed Jan 17 00:00.
    r = df.loc[ts(9, 10)]
    assert r["value"] == statistics.median([(at(12) - at(9, 10, j)).total_seconds() for j in (0, 1)])
    assert r["baseline"] == 600.0


def test_latency_hours_without_changes_have_no_value(latency_scores):
    r = latency_scores.loc[ts(5, 3)]  # Saturday 03:00
    assert pd.isna(r["value"]) and pd.isna(r["score"]) and r["flag"] is None


def test_threshold(lake):
    df = anomalies(lake, tables="account", metric="volume", threshold=100).set_index("hour")
    assert df["flag"].isna().all()
    with pytest.raises(kit.KitError, match="threshold"):
        anomalies(lake, tables="account", metric="volume", threshold=0)


def test_unknown_metric(lake):
    with pytest.raises(kit.KitError, match="metric"):
        anomalies(lake, metric="speed")


def test_naming_a_table_without_dataverse_columns_raises(lake):
    with pytest.raises(NotDataverseTableError) as info:
        anomalies(lake, tables=["plain"], metric="latency")
    assert info.value.missing == ["Id", "versionnumber", "modifiedon"]
    assert "Id, versionnumber, modifiedon" in str(info.value)


def test_whole_lake_warns_and_analyses_the_rest(lake):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = anomalies(lake, metric="volume")
    assert any("plain" in str(w.message) for w in caught)
    assert set(df["table"]) == {"account"}
    assert len(df) == DAYS * 24
