"""change_volume on tiny hand-built lakes: every expected count is written here by hand."""

import pandas as pd
import pytest

import kit
from kit.errors import KitError, NotDataverseTableError
from kit.metrics.volume import change_volume
from lakebuilder import SyncTable, plain_table, record, t, vacuum_data_files

COLUMNS = ["table", "period", "creates", "updates", "deletes", "total", "method", "exact"]


def table(lake_dir, name, **kw) -> SyncTable:
    return SyncTable(str(lake_dir / "deltalake" / f"{name}_partitioned"), **kw)


def build(lake_dir, *, purge: bool = True, optimize: bool = True) -> SyncTable:
    """account:
    - day 5, 10:00 initial load: a, b, c created at 09:00, 09:10, 09:20.
    - day 6, 10:00 sync: a updated (v2, 09:30), d created (09:40), b re-landed (same v1).
    - day 6, 23:55 modified / day 7, 00:05 landed: e created (modified day 6, landed day 7).
    - day 7, 10:00 sync: c soft-deleted (v3, IsDelete, 09:50), a re-landed again (v2).
    - day 8: compaction, then the purge of c (neither is a change).
    """
    acc = table(lake_dir, "account")
    acc.initial(
        [record("a", 1, t(5, 9), t(5, 9)), record("b", 1, t(5, 9, 10), t(5, 9, 10)), record("c", 1, t(5, 9, 20), t(5, 9, 20))],
        t(5, 10),
    )
    acc.sync([record("a", 2, t(5, 9), t(6, 9, 30)), record("d", 1, t(6, 9, 40), t(6, 9, 40)), record("b", 1, t(5, 9, 10), t(5, 9, 10))], t(6, 10))
    acc.sync([record("e", 1, t(6, 23, 55), t(6, 23, 55))], t(7, 0, 5))
    acc.sync([record("c", 3, t(5, 9, 20), t(7, 9, 50), IsDelete=True), record("a", 2, t(5, 9), t(6, 9, 30))], t(7, 10))
    if optimize:
        acc.optimize(t(8, 1))
    if purge:
        acc.purge(t(8, 2))
    return acc


@pytest.fixture
def lake_dir(tmp_path):
    build(tmp_path)
    return tmp_path


def counts(df):
    return {p.strftime("%Y-%m-%d %H:%M"): (r["creates"], r["updates"], r["deletes"], r["total"]) for p, r in zip(df["period"], df.to_dict("records"))}


def test_by_day_modified(lake_dir):
    df = change_volume(kit.open_lake(lake_dir), by="day")
    assert list(df.columns) == COLUMNS
    assert counts(df) == {
        "2026-01-05 00:00": (3, 0, 0, 3),  # a, b, c; b's re-landing on day 6 counts once, here
        "2026-01-06 00:00": (2, 1, 0, 3),  # d, e created; a updated
        "2026-01-07 00:00": (0, 0, 1, 1),  # c deleted (a's second re-landing is nothing)
    }
    for col in ("creates", "updates", "deletes", "total"):
        assert df[col].dtype == "int64"
    assert str(df["period"].dtype) == "datetime64[us, UTC]"
    assert set(df["method"]) == {"change_feed"}
    assert list(df["table"]) == ["account"] * 3


def test_by_hour_default(lake_dir):
    df = change_volume(kit.open_lake(lake_dir))  # by="hour"
    assert counts(df) == {
        "2026-01-05 09:00": (3, 0, 0, 3),
        "2026-01-06 09:00": (1, 1, 0, 2),
        "2026-01-06 23:00": (1, 0, 0, 1),
        "2026-01-07 09:00": (0, 0, 1, 1),
    }


def test_landed_clock(lake_dir):
    df = change_volume(kit.open_lake(lake_dir), by="day", when="landed")
    assert counts(df) == {
        "2026-01-05 00:00": (3, 0, 0, 3),
        "2026-01-06 00:00": (1, 1, 0, 2),  # e moved to day 7: it landed at 00:05
        "2026-01-07 00:00": (1, 0, 1, 2),
    }


def test_week_and_none(lake_dir):
    lake = kit.open_lake(lake_dir)
    week = change_volume(lake, by="week")
    assert counts(week) == {"2026-01-05 00:00": (5, 1, 1, 7)}  # Monday Jan 5
    total = change_volume(lake, by=None)
    assert list(total.columns) == ["table", "creates", "updates", "deletes", "total", "method", "exact"]
    assert total.to_dict("records") == [
        {"table": "account", "creates": 5, "updates": 1, "deletes": 1, "total": 7, "method": "change_feed", "exact": True}
    ]


def test_purge_and_compaction_count_nothing(tmp_path):
    build(tmp_path / "before", purge=False, optimize=False)
    build(tmp_path / "after", purge=True, optimize=True)
    before = change_volume(kit.open_lake(tmp_path / "before"), by="hour")
    after = change_volume(kit.open_lake(tmp_path / "after"), by="hour")
    history = kit.open_lake(tmp_path / "after").history("account")
    assert "DELETE" in set(history["operation"])  # the purge happened
    pd.testing.assert_frame_equal(before, after)


def test_sentinel_and_null_periods(tmp_path):
    acc = table(tmp_path, "account")
    sentinel = pd.Timestamp("1900-01-01", tz="UTC").to_pydatetime()
    acc.initial([record("a", 1, t(5, 9), sentinel), record("b", 1, t(5, 9), None), record("c", 1, t(5, 9), t(5, 9))], t(5, 10))
    df = change_volume(kit.open_lake(tmp_path), by="day")
    # Never dropped: the sentinel has its 1900 period, the NULL modifiedon a NULL period (last).
    assert [None if pd.isna(p) else p.strftime("%Y-%m-%d") for p in df["period"]] == ["1900-01-01", "2026-01-05", None]
    assert list(df["total"]) == [1, 1, 1]
    # On the landed clock all three landed on day 5.
    landed = change_volume(kit.open_lake(tmp_path), by="day", when="landed")
    assert counts(landed) == {"2026-01-05 00:00": (3, 0, 0, 3)}  # the initial load's inserts are creates


def test_snapshot_only_rows_and_methods(tmp_path):
    """After the feed's early files are vacuumed, the days before it come from the snapshot:
    each Id's latest version, create when createdon equals modifiedon (to the second)."""
    acc = table(tmp_path, "account")
    acc.initial([record("a", 1, t(5, 9), t(5, 9)), record("b", 1, t(5, 9), t(5, 9))], t(5, 10))
    acc.sync([record("b", 2, t(5, 9), t(5, 11))], t(5, 12))
    acc.vacuum_change_data()
    acc.sync([record("c", 1, t(6, 9), t(6, 9))], t(6, 10))
    assert vacuum_data_files(acc.path)  # no add-file diff either
    lake = kit.open_lake(tmp_path)
    df = change_volume(lake, by="day", include_estimates=True)
    assert counts(df) == {
        "2026-01-05 00:00": (1, 1, 0, 2),  # snapshot: a (create), b v2 (update); b v1 is not known
        "2026-01-06 00:00": (1, 0, 0, 1),  # feed: c
    }
    assert list(df["method"]) == ["snapshot", "change_feed"]
    # The last sync before the feed is at 12:00 on day 5: day 6 is the first exact day.
    assert list(df["exact"]) == [False, True]
    everything = change_volume(lake, by=None, include_estimates=True)
    assert everything[["method", "exact"]].values.tolist() == [["change_feed+snapshot", False]]
    with pytest.warns(kit.KitWarning, match="account from 2026-01-06"):
        exact = change_volume(lake, by=None)
    assert exact[["total", "method", "exact"]].values.tolist() == [[1, "change_feed", True]]
    with pytest.warns(kit.KitWarning):
        assert counts(change_volume(lake, by="day")) == {"2026-01-06 00:00": (1, 0, 0, 1)}
    only_feed = change_volume(lake, by="day", methods="change_feed")
    assert counts(only_feed) == {"2026-01-06 00:00": (1, 0, 0, 1)}


def test_tables_and_errors(lake_dir):
    other = table(lake_dir, "contact")
    other.initial([record("x", 1, t(6, 9), t(6, 9))], t(6, 10))
    plain_table(str(lake_dir / "deltalake" / "notes_partitioned"), t(5))
    lake = kit.open_lake(lake_dir)
    with pytest.warns(UserWarning, match="notes"):
        df = change_volume(lake, by=None)
    assert df[["table", "total"]].to_dict("records") == [{"table": "account", "total": 7}, {"table": "contact", "total": 1}]
    assert change_volume(lake, tables=["contact"], by="day")["total"].tolist() == [1]
    with pytest.raises(NotDataverseTableError, match="Id, versionnumber, modifiedon"):
        change_volume(lake, tables=["account", "notes"])
    with pytest.raises(KitError, match="by='minute'"):
        change_volume(lake, by="minute")
    with pytest.raises(KitError, match="when="):
        change_volume(lake, when="committed")
    with pytest.raises(kit.TableNotFoundError):
        change_volume(lake, tables="acount")


def test_sql_names_its_tables(lake_dir):
    """lake.sql finds the views a query needs with duckdb.get_table_names: keep it parseable."""
    import duckdb

    from kit.metrics.exactness import spans, spans_sql, with_exactness_sql
    from kit.metrics.volume import volume_sql

    lake = kit.open_lake(lake_dir, cache_changes=False)  # SQL over the views, not the cache
    found = spans(lake, ["account"], True)
    changes = with_exactness_sql(lake.changes_sql("account"), found, "hour", "landed_at")
    for by in ("hour", None):
        # The changes read the table's view or the kit's own views of its planned files.
        names = duckdb.get_table_names(volume_sql(changes, ["account"], by, "landed_at", "true", spans_sql(found)))
        assert names and all(n == "account" or n.startswith("__kit_") for n in names)
