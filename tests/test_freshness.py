"""freshness on a tiny three-week lake whose answers are worked out here: quiet nights and
weekends are not stale, a stopped sync is, and the reason says which rule fired.

Two tables, ``office`` and ``stopped``, sync (insert-only appends) like a job that commits only when it has rows, for
an office that works weekdays. Initial load: Thursday 2026-01-01 12:00 (UTC). Then on every
weekday from Friday 01-02 to Friday 01-16 (01-02, 01-05..09, 01-12..16) a sync at 09:00, 11:00,
13:00, 15:00 and 17:00, each landing one change modified 30 minutes before it. Nothing at night,
nothing at weekends. Intervals between syncs: 2 h in the day, 16 h overnight (17:00 -> 09:00),
64 h over a weekend (Friday 17:00 -> Monday 09:00); the median interval is 2 h (7200 s).

Monday 01-19, the incident:

- ``office``: syncs at 09:00 and 11:00 (changes modified 08:30, 10:30), then nothing until
  18:00, when one sync lands the changes modified at 11:30, 12:30 and 13:30 (a stopped sync
  that resumed). 18:00 is the lake's newest commit.
- ``stopped``: syncs at 09:00 and 11:00, then nothing at all.

The rule: stale when changes are known to be waiting (modified after the last sync, at least two
median intervals before ``as_of``, landed after it), or when the silence is longer than 2 x the
longest interval overlapping the same UTC hour of the week in at least two earlier weeks (the
interval after the initial load left out). Worked out:

- Saturday 01-17 12:00: silent since Friday 17:00 = 68,400 s; Saturdays 12:00-13:00 of 01-03
  and 01-10 lie in weekend intervals of 230,400 s: not stale (a quiet weekend).
- Monday 01-19 08:30: silent 228,600 s (the weekend); Mondays 08:00-09:00 of 01-05 and 01-12 lie
  in 230,400 s weekend intervals: not stale.
- Monday 01-19 12:30: silent 5,400 s; Mondays 12:00-13:00 lie in the 11:00-13:00 interval
  (7,200 s): 5,400 < 14,400: not stale; no change waiting (cutoff 08:30 is before 11:00).
- Monday 01-19 16:00: silent 18,000 s; Mondays 16:00-17:00 lie in 15:00-17:00 (7,200 s):
  18,000 > 14,400. ``office``: the change modified at 11:30 (after 11:00, before the cutoff
  12:00) landed at 18:00: waiting 1, reason ``waiting_changes``. ``stopped``: nothing waiting
  (its changes never landed), reason ``longer_than_usual``.
- Monday 01-19 18:00 (the default as_of): ``office`` fresh (silence 0); ``stopped`` silent
  25,200 s, but Mondays 18:00-19:00 lie in the overnight interval (57,600 s): an evening stop
  looks like a quiet night until it outgrows one. Waiting is 0: nothing landed later.
- Tuesday 01-20 12:00 (after the newest commit): ``stopped`` silent 90,000 s, Tuesdays
  12:00-13:00 lie in 11:00-13:00 (7,200 s): stale, ``longer_than_usual``.
- Monday 01-05 12:30: no earlier Monday: ``normal_silence_s`` NaN, ``stale`` NA.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta

import pandas as pd
import pytest

import kit
from kit.metrics.health import freshness
from lakebuilder import SyncTable, append_rows, record, t

DAYS = [2, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16]
HOURS = [9, 11, 13, 15, 17]
HALF = timedelta(minutes=30)


def timeline(name: str) -> list[tuple[datetime, list[datetime]]]:
    """(sync time, modifiedon of the changes it lands), in order, after the initial load."""
    out = [(t(d, h), [t(d, h) - HALF]) for d in DAYS for h in HOURS]
    out += [(t(19, 9), [t(19, 8, 30)]), (t(19, 11), [t(19, 10, 30)])]
    if name == "office":
        out.append((t(19, 18), [t(19, 11, 30), t(19, 12, 30), t(19, 13, 30)]))
    return out


INITIAL = t(1, 12)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("freshness_lake")
    for name in ("office", "stopped"):
        table = SyncTable(root / name)
        table.initial([record(f"{name}0", 1, t(1), t(1))], INITIAL)
        for i, (at, modified) in enumerate(timeline(name)):
            append_rows(table, [record(f"{name}{i}-{j}", 1, m, m) for j, m in enumerate(modified)], at)
    return kit.open_lake(str(root))


# -- an independent computation of the rule, from the timeline above ----------------------------
def syncs_of(name: str) -> list[datetime]:
    return [INITIAL] + [at for at, _ in timeline(name)]


def expected(name: str, at: datetime, newest: datetime) -> dict:
    syncs = [s for s in syncs_of(name) if s <= at]
    intervals = [(b - a).total_seconds() for a, b in zip(syncs, syncs[1:])]
    cadence = statistics.median(intervals) if intervals else math.nan
    slot, this_hour = (at.weekday(), at.hour), at.replace(minute=0, second=0)
    longest, weeks = 0.0, set()
    for prev, nxt in zip(syncs[1:], syncs[2:]):  # the interval after the initial load left out
        hour = prev.replace(minute=0, second=0)
        while hour < nxt:
            if (hour.weekday(), hour.hour) == slot and hour < this_hour:
                weeks.add(hour)
                longest = max(longest, (nxt - prev).total_seconds())
            hour += timedelta(hours=1)
    normal = longest if len(weeks) >= 2 else math.nan
    last = syncs[-1]
    staleness = (at - last).total_seconds()
    waiting = None if math.isnan(cadence) else 0
    if at < newest and waiting is not None:
        cutoff = at - timedelta(seconds=2 * cadence)
        for when, modified in timeline(name):
            waiting += sum(1 for m in modified if last < m <= cutoff and when > at)
    longer = None if math.isnan(normal) else staleness > 2 * normal
    waits = None if waiting is None else waiting > 0
    stale = True if waits or longer else (None if waits is None or longer is None else False)
    reason = "waiting_changes" if waits else ("longer_than_usual" if longer else None)
    return {"last_landed": last, "staleness_s": staleness, "cadence_s": cadence, "normal_silence_s": normal,
            "waiting": waiting, "stale": stale, "reason": reason}


def row(df: pd.DataFrame, table: str) -> pd.Series:
    rows = df[df["table"] == table]
    assert len(rows) == 1
    return rows.iloc[0]


def check(got: pd.Series, want: dict) -> None:
    assert got["last_landed"] == pd.Timestamp(want["last_landed"])
    assert got["staleness_s"] == pytest.approx(want["staleness_s"])
    for column in ("cadence_s", "normal_silence_s"):
        if math.isnan(want[column]):
            assert math.isnan(got[column]), column
        else:
            assert got[column] == pytest.approx(want[column]), column
    assert (None if pd.isna(got["waiting"]) else got["waiting"]) == want["waiting"]
    assert (None if pd.isna(got["stale"]) else bool(got["stale"])) == want["stale"]
    assert got["reason"] == want["reason"]


NEWEST = t(19, 18)


def test_columns_and_types(lake):
    assert lake.as_of == NEWEST
    df = freshness(lake)
    assert list(df.columns) == ["table", "last_landed", "as_of", "staleness_s", "cadence_s", "normal_silence_s",
                                "waiting", "stale", "reason", "method", "exact"]
    assert str(df["last_landed"].dtype) == "datetime64[us, UTC]"
    assert str(df["waiting"].dtype) == "Int64"
    assert str(df["stale"].dtype) == "boolean"
    assert (df["as_of"] == pd.Timestamp(NEWEST)).all()


@pytest.mark.parametrize("at, office, stopped", [
    # (as_of, office's (stale, reason), stopped's (stale, reason)): the docstring's cases
    (t(17, 12), (False, None), (False, None)),
    (t(19, 8, 30), (False, None), (False, None)),
    (t(19, 12, 30), (False, None), (False, None)),
    (t(19, 16), (True, "waiting_changes"), (True, "longer_than_usual")),
    (t(19, 18), (False, None), (False, None)),
    (t(20, 12), (True, "longer_than_usual"), (True, "longer_than_usual")),
    (t(5, 12, 30), (None, None), (None, None)),
])
def test_the_docstring_cases(lake, at, office, stopped):
    df = freshness(lake, as_of=at)
    for name, (stale, reason) in (("office", office), ("stopped", stopped)):
        got = row(df, name)
        assert (None if pd.isna(got["stale"]) else bool(got["stale"]), got["reason"]) == (stale, reason), name
        check(got, expected(name, at, NEWEST))


def test_by_hand_at_the_incident(lake):
    office = row(freshness(lake, "office", as_of="2026-01-19 16:00"), "office")
    assert (office["staleness_s"], office["cadence_s"], office["normal_silence_s"], office["waiting"]) == (
        18000.0, 7200.0, 7200.0, 1)
    night = row(freshness(lake, "office", as_of=t(17, 12)), "office")
    assert (night["staleness_s"], night["normal_silence_s"]) == (68400.0, 230400.0)


def test_every_thirteenth_hour_matches_the_independent_computation(lake):
    at = t(2, 0)
    while at <= t(20, 12):
        df = freshness(lake, as_of=at)
        for name in ("office", "stopped"):
            check(row(df, name), expected(name, at, NEWEST))
        at += timedelta(hours=13)


def test_the_readings_name_the_stopped_tables_and_stay_calm_at_night(lake):
    from kit.present import charts, readings

    incident = str(readings._read_freshness(freshness(lake, as_of=t(19, 16))))
    assert "office" in incident and "1 change" in incident  # waiting, named as a stalled sync
    assert "stopped" in incident and "check the link's status" in incident
    night = freshness(lake, as_of=t(17, 12))
    text = str(readings._read_freshness(night))
    assert "no table is stale" in text and "check" not in text
    table = readings.freshness_table(freshness(lake, as_of=t(19, 16)))
    assert sorted(table["status"]) == ["STALE: changes waiting", "STALE: silent longer than usual"]
    assert set(readings.freshness_table(freshness(lake, as_of=t(5, 12, 30)))["status"]) == {"too little history"}
    fig = charts.freshness(night)
    marker = fig.data[-1]
    assert "longest silence" in marker.name
    unit = {"hours": 3600, "days": 86400}[fig.layout.xaxis.title.text.split("(")[-1].rstrip(")")]
    assert sorted(marker.x) == pytest.approx(sorted(2 * night["normal_silence_s"] / unit))
