"""sync_cadence, sync_gaps, freshness on a tiny hand-built lake whose answers are worked out here.

Table ``account`` (hourly syncs with a 5-hour hole, and every kind of commit that is not a sync):

    v0  00:00 WRITE      initial load                          sync
    v1  01:00 MERGE      1 insert                              sync
    v2  02:00 MERGE      1 insert                              sync
    v3  03:00 MERGE      1 update (record d soft-deleted)      sync
    v4  04:00 MERGE      1 insert                              sync
    v5  05:00 OPTIMIZE   compaction, no data change            not a sync
    v6  06:00 DELETE     purge of the soft-deleted record d    not a sync
    v7  07:00 MERGE      physical delete only (0 ins, 0 upd)   not a sync
    v8  09:00 MERGE      2 inserts (modified 05:30 and 08:30)  sync
    v9  10:00 MERGE      re-landing of v8's row, same version  sync (rows updated: the job ran)
    v10 11:00 MERGE      1 insert, operationMetrics removed    sync (no metrics: counted)
    v11 12:00 MERGE      1 insert                              sync

Sync times 0,1,2,3,4,9,10,11,12 h: intervals 3600 x4, 18000, 3600 x3. The hole kept one change
waiting: the one modified at 05:30 (after 04:00, before 09:00 - 2 median intervals = 07:00).

Table ``contact``: a sync every 2 hours from 00:00 to 20:00 (11 syncs, intervals 7200 x10).
Table ``lead``: syncs at 0,1,2,3,6 h: intervals 3600 x3 and 10800 = exactly 3 x median: no gap.
Table ``quiet``: syncs at 0,1,2,3,4,10 h; the 10:00 sync lands a change modified at 08:30: the
6-hour interval is long (21600 > 3 x 3600) but quiet: the 08:30 change is within two median
intervals of the end (an export delay, not a missed run), so no change waited in it.
Table ``team``: the initial load only (one sync, no interval).
Table ``plain``: a Delta table without Dataverse columns.
All on 2026-01-05 (UTC). The lake's newest commit: contact's 20:00 sync.
"""

from __future__ import annotations

import math
import warnings
from datetime import datetime

import pandas as pd
import pytest

import kit
from kit.errors import NotDataverseTableError
from kit.metrics.health import freshness, sync_cadence, sync_commits, sync_gaps
from lakebuilder import SyncTable, drop_commit_metrics, merge_delete, plain_table, record, t


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("health_lake")

    account = SyncTable(root / "account")
    account.initial(
        [record("a", 1, t(4, 20), t(4, 20)), record("d", 1, t(4, 21), t(4, 21)), record("z", 1, t(4, 22), t(4, 22))],
        t(5, 0),
    )
    account.sync([record("b1", 1, t(5, 0, 30), t(5, 0, 30))], t(5, 1))
    account.sync([record("b2", 1, t(5, 1, 30), t(5, 1, 30))], t(5, 2))
    account.sync([record("d", 2, t(4, 21), t(5, 2, 30), IsDelete=True)], t(5, 3))
    account.sync([record("b4", 1, t(5, 3, 30), t(5, 3, 30))], t(5, 4))
    assert account.optimize(t(5, 5))
    account.purge(t(5, 6))
    merge_delete(account, ["z"], t(5, 7))
    account.sync([record("b5", 1, t(5, 5, 30), t(5, 5, 30)), record("b9", 1, t(5, 8, 30), t(5, 8, 30))], t(5, 9))
    account.sync([record("b9", 1, t(5, 8, 30), t(5, 8, 30))], t(5, 10))  # re-landing
    account.sync([record("b11", 1, t(5, 10, 30), t(5, 10, 30))], t(5, 11))
    drop_commit_metrics(account.path, account.version())
    account.sync([record("b12", 1, t(5, 11, 30), t(5, 11, 30))], t(5, 12))

    contact = SyncTable(root / "contact")
    contact.initial([record("c0", 1, t(4), t(4))], t(5, 0))
    for h in range(2, 21, 2):
        contact.sync([record(f"c{h}", 1, t(5, h - 1), t(5, h - 1))], t(5, h))

    lead = SyncTable(root / "lead")
    lead.initial([record("l0", 1, t(4), t(4))], t(5, 0))
    for h in (1, 2, 3, 6):
        lead.sync([record(f"l{h}", 1, t(5, h - 1), t(5, h - 1))], t(5, h))

    quiet = SyncTable(root / "quiet")
    quiet.initial([record("q0", 1, t(4), t(4))], t(5, 0))
    for h in (1, 2, 3, 4):
        quiet.sync([record(f"q{h}", 1, t(5, h - 1, 30), t(5, h - 1, 30))], t(5, h))
    quiet.sync([record("q10", 1, t(5, 8, 30), t(5, 8, 30))], t(5, 10))

    SyncTable(root / "team").initial([record("t0", 1, t(4), t(4))], t(5, 0))
    plain_table(root / "plain", t(5, 1))
    return str(root)


@pytest.fixture
def lake(lake_dir):
    return kit.open_lake(lake_dir)


DATAVERSE_TABLES = ["account", "contact", "lead", "quiet", "team"]


def row(df: pd.DataFrame, table: str) -> pd.Series:
    rows = df[df["table"] == table]
    assert len(rows) == 1, f"expected one row for {table}, got {len(rows)}"
    return rows.iloc[0]


def test_the_lake_holds_the_commits_the_docstring_lists(lake):
    ops = lake.history("account")[["version", "operation"]].values.tolist()
    assert ops == [
        [0, "WRITE"], [1, "MERGE"], [2, "MERGE"], [3, "MERGE"], [4, "MERGE"], [5, "OPTIMIZE"],
        [6, "DELETE"], [7, "MERGE"], [8, "MERGE"], [9, "MERGE"], [10, "MERGE"], [11, "MERGE"],
    ]
    h = lake.history("account").set_index("version")
    assert (h.at[7, "rows_inserted"], h.at[7, "rows_updated"], h.at[7, "rows_deleted"]) == (0, 0, 1)
    assert pd.isna(h.at[10, "rows_inserted"]) and pd.isna(h.at[10, "rows_updated"])
    assert h.at[9, "rows_updated"] == 1  # the re-landing


def test_optimize_purge_and_delete_only_merge_are_not_syncs(lake):
    commits, read = sync_commits(lake, ["account"], strict=True)
    assert read == ["account"]
    assert commits["version"].tolist() == [0, 1, 2, 3, 4, 8, 9, 10, 11]


def test_sync_cadence_by_hand(lake):
    df = sync_cadence(lake, "account")
    assert list(df.columns) == [
        "table", "commits", "first_commit", "last_commit", "median_interval_s", "p95_interval_s", "max_interval_s", "method", "exact",
    ]
    r = row(df, "account")
    intervals = sorted([3600] * 4 + [18000] + [3600] * 3)
    # p95, linear interpolation: rank 0.95 * (8 - 1) = 6.65 -> 3600 + 0.65 * (18000 - 3600)
    p95 = intervals[6] + 0.65 * (intervals[7] - intervals[6])
    assert p95 == pytest.approx(12960.0)
    assert r["commits"] == 9
    assert r["first_commit"] == pd.Timestamp(t(5, 0))
    assert r["last_commit"] == pd.Timestamp(t(5, 12))
    assert r["median_interval_s"] == 3600.0
    assert r["p95_interval_s"] == pytest.approx(p95)
    assert r["max_interval_s"] == 18000.0
    assert str(df["first_commit"].dtype) == "datetime64[us, UTC]"


def test_sync_cadence_of_every_table(lake):
    with pytest.warns(UserWarning, match="plain"):
        df = sync_cadence(lake)
    assert sorted(df["table"]) == DATAVERSE_TABLES
    contact = row(df, "contact")
    assert (contact["commits"], contact["median_interval_s"], contact["max_interval_s"]) == (11, 7200.0, 7200.0)
    team = row(df, "team")
    assert team["commits"] == 1
    assert math.isnan(team["median_interval_s"]) and math.isnan(team["max_interval_s"])
    assert team["first_commit"] == team["last_commit"] == pd.Timestamp(t(5, 0))


def test_sync_gaps_outages_are_the_hole(lake):
    with pytest.warns(UserWarning, match="plain"):
        gaps = sync_gaps(lake, outages_only=True)
    assert list(gaps.columns) == ["table", "start", "end", "seconds", "waiting", "method", "exact"]
    # account: 18000 > 3 * 3600, and the change modified at 05:30 waited; lead's 10800 is
    # exactly 3 x its median (not longer): no gap; quiet's 6 hours kept nothing waiting; the
    # 8 hours after account's last sync (12:00 -> 20:00) are freshness, not a gap.
    assert gaps.to_dict("records") == [
        {"table": "account", "start": pd.Timestamp(t(5, 4)), "end": pd.Timestamp(t(5, 9)), "seconds": 18000.0, "waiting": 1,
         "method": "change_feed", "exact": True}  # the feed reaches the table's creation
    ]
    assert str(gaps["waiting"].dtype) == "Int64"


def test_sync_gaps_lists_every_long_interval(lake):
    """DEFINITIONS' rule: every interval longer than 3x the median, quiet ones with waiting 0."""
    gaps = sync_gaps(lake, ["account", "quiet", "lead"])
    assert gaps[["table", "start", "end", "seconds", "waiting"]].values.tolist() == [
        ["account", pd.Timestamp(t(5, 4)), pd.Timestamp(t(5, 9)), 18000.0, 1],
        ["quiet", pd.Timestamp(t(5, 4)), pd.Timestamp(t(5, 10)), 21600.0, 0],
    ]


def test_sync_gaps_of_named_tables(lake):
    assert sync_gaps(lake, ["contact", "lead"]).empty
    assert len(sync_gaps(lake, "ACCOUNT")) == 1


def test_freshness_default_as_of_is_the_lakes_newest_commit(lake):
    """One day of history holds no earlier week: ``normal_silence_s`` is NaN, and at the lake's
    newest commit nothing has landed since (``waiting`` 0), so no table can be called stale:
    ``stale`` NA (tests/test_freshness.py has the weeks the rule needs)."""
    assert lake.as_of == t(5, 20)
    with pytest.warns(UserWarning, match="plain"):
        df = freshness(lake)
    assert list(df.columns) == ["table", "last_landed", "as_of", "staleness_s", "cadence_s", "normal_silence_s",
                                "waiting", "stale", "reason", "method", "exact"]
    assert sorted(df["table"]) == DATAVERSE_TABLES
    assert (df["as_of"] == pd.Timestamp(t(5, 20))).all()
    account = row(df, "account")
    assert account["last_landed"] == pd.Timestamp(t(5, 12))
    assert account["staleness_s"] == 8 * 3600.0
    assert account["cadence_s"] == 3600.0
    assert math.isnan(account["normal_silence_s"]) and account["waiting"] == 0
    assert pd.isna(account["stale"]) and account["reason"] is None
    contact = row(df, "contact")
    assert (contact["staleness_s"], contact["cadence_s"], contact["waiting"]) == (0.0, 7200.0, 0)
    lead = row(df, "lead")
    assert (lead["staleness_s"], lead["cadence_s"]) == (14 * 3600.0, 3600.0)
    team = row(df, "team")
    assert team["staleness_s"] == 20 * 3600.0
    # one sync: no cadence, so no cutoff for waiting changes either
    assert math.isnan(team["cadence_s"]) and pd.isna(team["waiting"]) and pd.isna(team["stale"])
    assert str(df["stale"].dtype) == "boolean" and str(df["waiting"].dtype) == "Int64"


def test_freshness_at_an_explicit_moment(lake):
    """In hindsight the hole in account is known: at 08:00 the change modified at 05:30 (after
    the 04:00 sync, before the cutoff 08:00 - 2 x 3600 s = 06:00) had not landed yet (09:00)."""
    # At 06:30 account's syncs so far are 0..4 h: last 04:00, 9000 s, median 3600; cutoff 04:30:
    # nothing modified in (04:00, 04:30] -> nothing waiting.
    df = freshness(lake, ["account", "contact"], as_of="2026-01-05 06:30")
    account, contact = row(df, "account"), row(df, "contact")
    assert account["as_of"] == pd.Timestamp(t(5, 6, 30))
    assert (account["last_landed"], account["staleness_s"], account["cadence_s"]) == (pd.Timestamp(t(5, 4)), 9000.0, 3600.0)
    assert account["waiting"] == 0 and pd.isna(account["stale"])
    # contact at 06:30: syncs 0, 2, 4, 6 h -> 1800 s stale, cadence 7200
    assert (contact["last_landed"], contact["staleness_s"], contact["cadence_s"]) == (pd.Timestamp(t(5, 6)), 1800.0, 7200.0)
    assert contact["waiting"] == 0
    # At 08:00 (a naive datetime is UTC): the 05:30 change is waiting.
    later = row(freshness(lake, "account", as_of=datetime(2026, 1, 5, 8)), "account")
    assert (later["staleness_s"], later["waiting"], bool(later["stale"]), later["reason"]) == (
        14400.0, 1, True, "waiting_changes")
    # A tz-aware string in another zone is converted to UTC: 09:00+01:00 = 08:00 UTC.
    other_zone = row(freshness(lake, "account", as_of="2026-01-05T09:00:00+01:00"), "account")
    assert other_zone["as_of"] == pd.Timestamp(t(5, 8))
    # quiet: at 09:30 the 08:30 change is within two median intervals: not waiting.
    quiet = row(freshness(lake, "quiet", as_of=t(5, 9, 30)), "quiet")
    assert (quiet["staleness_s"], quiet["waiting"]) == (5.5 * 3600, 0)


def test_freshness_before_any_sync(lake):
    r = row(freshness(lake, "account", as_of=t(4, 12)), "account")
    assert pd.isna(r["last_landed"]) and math.isnan(r["staleness_s"]) and pd.isna(r["stale"])
    assert pd.isna(r["waiting"]) and r["reason"] is None


def test_freshness_rejects_a_bad_as_of(lake):
    with pytest.raises(kit.KitError, match="as_of"):
        freshness(lake, as_of="yesterday-ish")


@pytest.mark.parametrize("fn", [sync_cadence, sync_gaps, lambda lake, tables: freshness(lake, tables=tables)])
def test_naming_a_table_without_dataverse_columns_raises(lake, fn):
    with pytest.raises(NotDataverseTableError) as info:
        fn(lake, tables=["account", "plain"])
    message = str(info.value)
    assert "plain" in message
    for column in ("Id", "versionnumber", "modifiedon"):
        assert column in message
    assert info.value.missing == ["Id", "versionnumber", "modifiedon"]


def test_whole_lake_skips_the_plain_table_with_a_warning(lake):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = sync_cadence(lake)
    messages = [str(w.message) for w in caught]
    assert any("plain" in m and "Id" in m for m in messages), messages
    assert "plain" not in set(df["table"])
    assert row(df, "account")["commits"] == 9


def test_unknown_table_raises(lake):
    with pytest.raises(kit.TableNotFoundError):
        sync_cadence(lake, "acount")
