"""sync_latency on tiny hand-built lakes: every expected number is computed here by hand."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from deltalake import write_deltalake
import pyarrow as pa

import kit
from kit.errors import KitError, NotDataverseTableError
from kit.metrics.latency import sync_latency
from lakebuilder import SyncTable, plain_table, record, t, vacuum_data_files

S = timedelta(seconds=1)
DAY5, DAY6, DAY7 = (pd.Timestamp(t(d)) for d in (5, 6, 7))


def table(lake_dir, name, **kw) -> SyncTable:
    return SyncTable(str(lake_dir / "deltalake" / f"{name}_partitioned"), **kw)


@pytest.fixture
def lake_dir(tmp_path):
    """account:
    - day 5, 12:00 initial load: a1 (latency 30 s), a2 (90 s).
    - day 6, 12:00 sync: five changes with latencies 60, 120, 600, 1200, 4000 s (b1..b5), and
      x1 modified at 23:50 on day 6 is landed at 00:20 on day 7 (1,800 s; modified day 6,
      landed day 7).
    - day 7, 00:20 sync: x1; the same sync lands a2 again (same version: a re-landing).
    - day 7, 06:00 sync: s1 with the sentinel modifiedon 1900-01-01 and n1 modified 120 s
      after it landed (clock skew): both excluded.
    - day 7, 08:00 sync: b1 soft-deleted at 07:58 (a delete version, latency 120 s).
    - day 8: compaction and purge (not changes).
    """
    acc = table(tmp_path, "account")
    noon5, noon6 = t(5, 12), t(6, 12)
    acc.initial(
        [record("a1", 1, noon5 - 30 * S, noon5 - 30 * S), record("a2", 2, noon5 - 90 * S, noon5 - 90 * S)],
        noon5,
    )
    acc.sync(
        [record(f"b{i}", 10 + i, noon6 - lat * S, noon6 - lat * S) for i, lat in enumerate((60, 120, 600, 1200, 4000), 1)],
        noon6,
    )
    acc.sync([record("x1", 20, t(6, 23, 50), t(6, 23, 50)), record("a2", 2, noon5 - 90 * S, noon5 - 90 * S)], t(7, 0, 20))
    acc.sync(
        [
            record("s1", 30, t(7, 5), pd.Timestamp("1900-01-01", tz="UTC").to_pydatetime()),
            record("n1", 31, t(7, 6, 2), t(7, 6, 2)),
        ],
        t(7, 6),
    )
    acc.sync([record("b1", 40, noon6 - 60 * S, t(7, 7, 58), IsDelete=True)], t(7, 8))
    acc.optimize(t(8, 1))
    acc.purge(t(8, 2))
    return tmp_path


DAY6_LATENCIES = [60, 120, 600, 1200, 4000]


def expect_percentiles(row, latencies):
    for q, col in ((50, "p50_s"), (90, "p90_s"), (95, "p95_s"), (99, "p99_s")):
        assert row[col] == pytest.approx(np.percentile(latencies, q)), col
    assert row["max_s"] == max(latencies)
    assert row["changes"] == len(latencies)
    assert row["within_15m"] == pytest.approx(sum(x <= 900 for x in latencies) / len(latencies))
    assert row["within_60m"] == pytest.approx(sum(x <= 3600 for x in latencies) / len(latencies))


def test_by_day_modified(lake_dir):
    lake = kit.open_lake(lake_dir)
    df = sync_latency(lake)
    assert list(df.columns) == [
        "table", "period", "changes", "p50_s", "p90_s", "p95_s", "p99_s", "max_s",
        "within_15m", "within_60m", "excluded", "excluded_sentinel", "excluded_negative", "method", "exact",
    ]
    # The sentinel's own period (1900-01-01) comes first; days 5, 6, 7 follow.
    assert [p.strftime("%Y-%m-%d") for p in df["period"]] == ["1900-01-01", "2026-01-05", "2026-01-06", "2026-01-07"]
    assert str(df["period"].dtype) == "datetime64[us, UTC]"
    rows = {p.strftime("%Y-%m-%d"): r for p, r in zip(df["period"], df.to_dict("records"))}

    sentinel = rows["1900-01-01"]
    assert (sentinel["changes"], sentinel["excluded"], sentinel["excluded_sentinel"], sentinel["excluded_negative"]) == (0, 1, 1, 0)
    assert np.isnan(sentinel["p50_s"]) and np.isnan(sentinel["within_15m"])

    expect_percentiles(rows["2026-01-05"], [30, 90])  # a2's re-landing on day 7 does not count
    # Day 6: b1..b5, x1 (1,800 s) and b1's delete version (modified on day 7: not here).
    expect_percentiles(rows["2026-01-06"], DAY6_LATENCIES + [1800])
    day7 = rows["2026-01-07"]
    expect_percentiles(day7, [120])  # b1's delete version; n1 is negative, excluded
    assert (day7["excluded"], day7["excluded_sentinel"], day7["excluded_negative"]) == (1, 0, 1)
    assert set(df["method"]) == {"change_feed"}
    assert df["changes"].dtype == "int64" and df["excluded"].dtype == "int64"


def test_five_latencies_by_hand(lake_dir):
    """60, 120, 600, 1200, 4000 s: p50 = 600; p90 = 1200 + 0.6 * 2800 = 2880; within 15 min 3/5."""
    lake = kit.open_lake(lake_dir)
    df = sync_latency(lake, by="hour")
    # b1..b5 were modified in hours 10 (4000 s before noon: 10:53:20) and 11.
    hour11 = df[df["period"] == pd.Timestamp(t(6, 11))].iloc[0]
    expect_percentiles(hour11, [60, 120, 600, 1200])
    hour10 = df[df["period"] == pd.Timestamp(t(6, 10))].iloc[0]
    expect_percentiles(hour10, [4000])

    # All five over the feed, on the landed clock (one landing at day 6 noon):
    landed = sync_latency(lake, by="hour", when="landed")
    noon = landed[landed["period"] == pd.Timestamp(t(6, 12))].iloc[0]
    expect_percentiles(noon, DAY6_LATENCIES)
    assert noon["p50_s"] == 600.0
    assert noon["p90_s"] == pytest.approx(2880.0)
    assert noon["within_15m"] == pytest.approx(3 / 5)
    assert noon["within_60m"] == pytest.approx(4 / 5)


def test_landed_clock_moves_the_late_change(lake_dir):
    lake = kit.open_lake(lake_dir)
    df = sync_latency(lake, by="day", when="landed")
    rows = {p.strftime("%Y-%m-%d"): r for p, r in zip(df["period"], df.to_dict("records"))}
    assert set(rows) == {"2026-01-05", "2026-01-06", "2026-01-07"}  # no 1900 period on this clock
    expect_percentiles(rows["2026-01-06"], DAY6_LATENCIES)
    # Day 7 landings: x1 (1,800 s), b1's delete (120 s); s1 (sentinel) and n1 (negative) excluded.
    expect_percentiles(rows["2026-01-07"], [1800, 120])
    assert (rows["2026-01-07"]["excluded_sentinel"], rows["2026-01-07"]["excluded_negative"]) == (1, 1)
    assert rows["2026-01-07"]["excluded"] == 2


def test_by_none_and_week(lake_dir):
    lake = kit.open_lake(lake_dir)
    everything = [30, 90] + DAY6_LATENCIES + [1800, 120]
    df = sync_latency(lake, by=None)
    assert "period" not in df.columns and len(df) == 1
    row = df.iloc[0]
    assert row["table"] == "account"
    expect_percentiles(row, everything)
    assert (row["excluded"], row["excluded_sentinel"], row["excluded_negative"]) == (2, 1, 1)

    # Jan 5 2026 is a Monday: days 5-7 are one week; the sentinel has its own (Monday 1900-01-01).
    weeks = sync_latency(lake, by="week", when="landed")
    assert list(weeks["period"]) == [pd.Timestamp(t(5))]
    expect_percentiles(weeks.iloc[0], everything)


def test_week_starts_monday(tmp_path):
    acc = table(tmp_path, "account")
    acc.initial([record("a", 1, t(4, 10), t(4, 10))], t(4, 10, 1))  # Sunday Jan 4
    acc.sync([record("b", 2, t(5, 10), t(5, 10))], t(5, 10, 2))  # Monday Jan 5
    df = sync_latency(kit.open_lake(tmp_path), by="week")
    assert list(df["period"]) == [pd.Timestamp("2025-12-29", tz="UTC"), pd.Timestamp(t(5))]
    assert list(df["p50_s"]) == [60.0, 120.0]


def test_mixed_methods_after_vacuum(tmp_path):
    """The feed's files of versions 0-1 are gone: a1 (whose latest version landed in version 0)
    is known from the snapshot only, b2 from the feed: 'change_feed+snapshot'."""
    acc = table(tmp_path, "account")
    acc.initial([record("a1", 1, t(5, 9), t(5, 9)), record("b1", 2, t(5, 9), t(5, 9))], t(5, 10))
    acc.sync([record("b1", 3, t(5, 9), t(5, 9, 30))], t(5, 11))
    acc.vacuum_change_data()
    acc.sync([record("b1", 4, t(5, 9), t(5, 11, 50))], t(5, 12))
    # The data files outside the snapshot are vacuumed too: no add-file diff either.
    assert vacuum_data_files(acc.path)
    lake = kit.open_lake(tmp_path)
    assert lake.coverage("account").feed_from_version == 2
    row = sync_latency(lake, include_estimates=True).iloc[0]
    assert row["method"] == "change_feed+snapshot"
    assert not row["exact"]  # a mixed day is an estimate
    # a1: snapshot, landed_at = SinkModifiedOn = 10:00 (3,600 s); b1 v4: feed, 600 s. b1 v2 and
    # v3 are gone with the vacuumed feed (the snapshot keeps only each Id's latest version).
    expect_percentiles(row, [3600, 600])
    # By default only exact figures: day 5 is partly before the feed (its last sync before the
    # feed is at 10:00 on day 5), so no day of this table is exact yet.
    with pytest.warns(kit.KitWarning, match="include_estimates=True"):
        assert sync_latency(lake).empty
    only_feed = sync_latency(lake, methods="change_feed", include_estimates=True).iloc[0]
    assert only_feed["method"] == "change_feed"
    expect_percentiles(only_feed, [600])
    snap = sync_latency(lake, by=None, methods=["snapshot"], include_estimates=True).iloc[0]
    expect_percentiles(snap, [3600])


def test_late_feed_with_every_added_file_uses_the_add_diff(tmp_path):
    """The feed's files of versions 0-1 are gone but every file the commits added is still
    there: the add-file diff gives every version exactly, and coverage still names the feed."""
    acc = table(tmp_path, "account")
    acc.initial([record("a1", 1, t(5, 9), t(5, 9)), record("b1", 2, t(5, 9), t(5, 9))], t(5, 10))
    acc.sync([record("b1", 3, t(5, 9), t(5, 9, 30))], t(5, 11))
    acc.vacuum_change_data()
    acc.sync([record("b1", 4, t(5, 9), t(5, 11, 50))], t(5, 12))
    lake = kit.open_lake(tmp_path)
    cov = lake.coverage("account")
    assert (cov.method, cov.complete, cov.feed_from_version) == ("add_diff", True, 2)
    row = sync_latency(lake, by=None).iloc[0]
    assert row["method"] == "add_diff"
    # a1 and b1 v2 landed at 10:00 (3,600 s each), b1 v3 at 11:00 (5,400 s), b1 v4 at 12:00 (600 s).
    expect_percentiles(row, [3600, 3600, 5400, 600])


def test_add_diff_method(tmp_path):
    acc = table(tmp_path, "account", change_feed=False)
    acc.initial([record("a1", 1, t(5, 9), t(5, 9))], t(5, 10))
    acc.sync([record("a1", 2, t(5, 9), t(5, 10, 30))], t(5, 11))
    df = sync_latency(kit.open_lake(tmp_path), by=None)
    assert df.iloc[0]["method"] == "add_diff"
    expect_percentiles(df.iloc[0], [3600, 1800])


def test_methods_filter_without_rows_keeps_the_table(lake_dir):
    df = sync_latency(kit.open_lake(lake_dir), by=None, methods="snapshot")
    assert list(df["table"]) == ["account"]
    assert df.iloc[0]["changes"] == 0 and df.iloc[0]["excluded"] == 0
    assert pd.isna(df.iloc[0]["method"])
    # With periods, periods without changes are omitted.
    assert sync_latency(kit.open_lake(lake_dir), methods="snapshot").empty


def test_bad_arguments(lake_dir):
    lake = kit.open_lake(lake_dir)
    with pytest.raises(KitError, match="by='month'"):
        sync_latency(lake, by="month")
    with pytest.raises(KitError, match="when='created'"):
        sync_latency(lake, when="created")
    with pytest.raises(KitError, match="methods"):
        sync_latency(lake, methods="feed")


def test_non_dataverse_tables(lake_dir):
    plain_table(str(lake_dir / "deltalake" / "notes_partitioned"), t(5))
    # Has Id but neither versionnumber nor modifiedon.
    write_deltalake(str(lake_dir / "deltalake" / "half_partitioned"), pa.table({"Id": ["x"], "name": ["y"]}))
    lake = kit.open_lake(lake_dir)
    with pytest.raises(NotDataverseTableError) as err:
        sync_latency(lake, tables="notes")
    assert "Id, versionnumber, modifiedon" in str(err.value)
    assert err.value.missing == ["Id", "versionnumber", "modifiedon"]
    with pytest.raises(NotDataverseTableError) as err:
        sync_latency(lake, tables=["account", "half"])
    assert err.value.missing == ["versionnumber", "modifiedon"]
    assert "versionnumber, modifiedon" in str(err.value)

    with pytest.warns(UserWarning, match="half.*notes|notes.*half"):
        df = sync_latency(lake, by=None)
    assert list(df["table"]) == ["account"]
    assert df.iloc[0]["changes"] == 9


def test_several_tables_and_empty(tmp_path):
    a = table(tmp_path, "account")
    a.initial([record("a", 1, t(5, 9), t(5, 9))], t(5, 9, 1))
    c = table(tmp_path, "contact")
    c.initial([record("c", 1, t(5, 9), t(5, 9)), record("d", 2, t(5, 9), t(5, 9))], t(5, 9, 2))
    lake = kit.open_lake(tmp_path)
    df = sync_latency(lake, by="day")
    assert list(df["table"]) == ["account", "contact"]
    assert list(df["p50_s"]) == [60.0, 120.0]
    assert list(df["changes"]) == [1, 2]
    assert list(sync_latency(lake, tables="contact", by=None)["table"]) == ["contact"]


def test_no_table_left(tmp_path):
    plain_table(str(tmp_path / "deltalake" / "notes_partitioned"), t(5))
    with pytest.warns(UserWarning):
        df = sync_latency(kit.open_lake(tmp_path))
    assert df.empty and "p50_s" in df.columns and str(df["period"].dtype) == "datetime64[us, UTC]"


def test_sql_names_its_tables(lake_dir):
    """lake.sql finds the views a query needs with duckdb.get_table_names, which fails on some
    valid SQL (quantile_cont with a list of quantiles): the latency SQL must stay parseable."""
    import duckdb

    from kit.metrics.exactness import spans, spans_sql, with_exactness_sql
    from kit.metrics.latency import latency_sql

    lake = kit.open_lake(lake_dir, cache_changes=False)  # SQL over the views, not the cache
    found = spans(lake, ["account"], True)
    changes = with_exactness_sql(lake.changes_sql("account"), found, "day", "modifiedon")
    for by in ("day", None):
        # The changes read the table's view or the kit's own views of its planned files.
        names = duckdb.get_table_names(latency_sql(changes, ["account"], by, "modifiedon", "true", spans_sql(found)))
        assert names and all(n == "account" or n.startswith("__kit_") for n in names)


def test_every_sentinel_form_is_excluded_the_same_way(tmp_path):
    """account, one initial load at day 5 12:00 of four versions: e1 modified at the Unix epoch
    1970-01-01T00:00:00Z, z1 at 0001-01-01, h1 at 1900-01-01 (all three sentinels: no time), and
    r1 modified 60 s before the load. Latency measures r1 only and counts three sentinels;
    throughput counts one change on day 5 and three excluded; the naive comparison one row."""
    from kit.metrics.naive import naive_latency
    from kit.metrics.throughput import throughput

    acc = table(tmp_path, "account")
    noon5 = t(5, 12)
    sentinels = {"e1": "1970-01-01T00:00:00Z", "z1": "0001-01-01T00:00:00Z", "h1": "1900-01-01T00:00:00Z"}
    acc.initial(
        [record(k, 1, noon5 - 60 * S, pd.Timestamp(v).to_pydatetime()) for k, v in sentinels.items()]
        + [record("r1", 1, noon5 - 60 * S, noon5 - 60 * S)],
        noon5,
    )
    lake = kit.open_lake(tmp_path)
    lat = sync_latency(lake, by=None).iloc[0]
    assert (lat["changes"], lat["excluded_sentinel"], lat["excluded"], lat["max_s"]) == (1, 3, 3, 60.0)
    tp = throughput(lake).iloc[0]
    assert (tp["peak_day_events"], tp["excluded"]) == (1, 3)
    assert naive_latency(lake).iloc[0]["changes"] == 1
