"""The landing planner (kit.formats.delta.plan), pinned snapshots, and changes read from the
planned files, checked against answers worked out by hand and against deltalake's own
``load_cdf`` (an independent reader of the same feed).

Tables: ``lakebuilder.account_timeline`` (seven commits, see test_reader_changes), and the same
timeline followed by two commits written by hand as the low-latency Fabric engine writes them
with deletion vectors (deltalake cannot write those):

    v7 MERGE  07:00  A3 (modified 06:30), C3 soft delete (06:50), G1 (created 06:45): the old
                     rows of A and C marked in deletion vectors, the new ones in a new file
    v8 DELETE 08:00  the purge of C3 through a deletion vector (the v7 file added again)
"""

import os
import shutil

import pyarrow as pa
import pytest
from deltalake import DeltaTable
from lakebuilder import (
    SyncTable,
    account_timeline,
    drop_commit_time,
    dv_commit,
    record,
    t,
    vacuum_data_files,
)

import kit
from kit.formats.delta.changes import changes_sql
from kit.formats.delta.log import parse_commit
from kit.formats.delta.plan import NotPlannable
from kit.metrics.health import freshness, sync_cadence
from kit.metrics.latency import sync_latency
from kit.metrics.volume import change_volume

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "delta")


def table_path(root, name="account"):
    return os.path.join(str(root), "deltalake", f"{name}_partitioned")


def rows(lake, table="account", sql=None):
    rel = lake.connection.sql(sql) if sql else lake.changes(table)
    return [tuple(r) for r in rel.order("id, versionnumber").fetchall()]


def row(id_, vn, change, modified, landed, landings, method="change_feed"):
    return ("account", id_, vn, change, modified, landed, landings, method)


TIMELINE = [
    row("A", 1, "create", t(4, 23, 50), t(5, 0), 1),
    row("A", 2, "update", t(5, 0, 40), t(5, 1), 2),
    row("B", 1, "create", t(4, 23, 55), t(5, 0), 1),
    row("B", 2, "delete", t(5, 2, 30), t(5, 4), 1),
    row("C", 1, "create", t(4, 23, 56), t(5, 0), 1),
    row("C", 2, "update", t(5, 5, 50), t(5, 6), 1),
    row("D", 1, "create", t(5, 0, 50), t(5, 1), 1),
    row("E", 1, "create", t(5, 5, 55), t(5, 6), 1),
    row("F", 1, "create", t(5, 1, 45), t(5, 2), 2),
]
DV_LANDINGS = [
    row("A", 3, "update", t(5, 6, 30), t(5, 7), 1),
    row("C", 3, "delete", t(5, 6, 50), t(5, 7), 1),
    row("G", 1, "create", t(5, 6, 45), t(5, 7), 1),
]


def with_method(expected, method):
    return sorted(r[:-1] + (method,) for r in expected)


def dv_timeline(path) -> SyncTable:
    st = account_timeline(path)
    dv_commit(st, [record("A", 3, t(4, 23, 50), t(5, 6, 30)), record("G", 1, t(5, 6, 45), t(5, 6, 45)),
                   record("C", 3, t(4, 23, 56), t(5, 6, 50), IsDelete=True)], t(5, 7))
    dv_commit(st, [], t(5, 8), purge=True)
    return st


# -- commit times -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "info, expected_ms, source",
    [
        ({"inCommitTimestamp": 2000, "timestamp": 1000}, 2000, "in_commit_timestamp"),
        ({"timestamp": 1000}, 1000, "commit_info"),
        ({"timestamp": 0}, 5000, "file_mtime"),  # 0 is not a time (deltalake: 1970-01-01)
        ({"timestamp": None}, 5000, "file_mtime"),
        ({}, 5000, "file_mtime"),
    ],
)
def test_commit_time_rule(info, expected_ms, source):
    import json

    raw = (json.dumps({"commitInfo": info}) + "\n").encode()
    c = parse_commit("t", 3, raw, mtime=5.0)
    assert (c.committed_at.timestamp() * 1000, c.time_source) == (expected_ms, source)


# -- the plan -----------------------------------------------------------------------------------
def test_plan_of_the_timeline(tmp_path):
    path = table_path(tmp_path)
    account_timeline(path)
    lake = kit.open_lake(tmp_path)
    plan = lake["account"].plan
    assert plan.version == 6 and plan.versions == list(range(7))
    got = [(c.version, c.operation, c.data_change, c.committed_at, c.time_source) for c in plan.commits]
    assert got == [
        (0, "WRITE", True, t(5, 0), "commit_info"),
        (1, "MERGE", True, t(5, 1), "commit_info"),
        (2, "WRITE", True, t(5, 2), "commit_info"),
        (3, "OPTIMIZE", False, t(5, 3), "commit_info"),
        (4, "MERGE", True, t(5, 4), "commit_info"),
        (5, "DELETE", True, t(5, 5), "commit_info"),
        (6, "MERGE", True, t(5, 6), "commit_info"),
    ]
    # The feed's files: the initial load's and the append's added files (inserts), the change
    # files of every MERGE and of the purge; none for the compaction.
    kinds = {}
    for f in plan.feed_files(0):
        kinds.setdefault(f.version, set()).add(f.kind)
    assert kinds == {0: {"add"}, 1: {"cdc"}, 2: {"add"}, 4: {"cdc"}, 5: {"cdc"}, 6: {"cdc"}}
    assert plan.feed_start() == 0
    # Add-file diff: each path once, data-changing adds only (not the compaction's file; the
    # purge rewrites a file without the purged rows: its copies land nothing new).
    diff = plan.add_diff_files()
    assert {f.version for f in diff} == {0, 1, 2, 4, 5, 6}
    assert len({f.path for f in diff}) == len(diff)


def test_feed_files_hold_what_load_cdf_returns(tmp_path):
    """The planned files, read by DuckDB, give exactly deltalake's change feed rows."""
    path = table_path(tmp_path)
    dv_timeline(path)
    lake = kit.open_lake(tmp_path)
    source = lake["account"]
    files = source.plan.feed_files(0)
    con = lake.connection
    from kit.formats.delta.changes import _files_view

    view = _files_view(con, source, files, "check", {"id": "Id", "vn": "versionnumber"})
    ours = sorted(con.sql(f'select id, versionnumber, change_type, commit_version from "{view}"').fetchall())
    cdf = pa.table(DeltaTable(path).load_cdf(starting_version=0))
    theirs = sorted(zip(cdf.column("Id").to_pylist(), cdf.column("versionnumber").to_pylist(),
                        cdf.column("_change_type").to_pylist(), cdf.column("_commit_version").to_pylist()))
    assert ours == theirs
    assert ("G", 1, "insert", 7) in ours and ("C", 3, "delete", 8) in ours


# -- add-file diff against the feed ---------------------------------------------------------------
def test_add_diff_equals_the_feed(tmp_path):
    account_timeline(table_path(tmp_path))
    lake = kit.open_lake(tmp_path)
    assert rows(lake) == sorted(TIMELINE)
    diff = changes_sql(lake.connection, lake["account"], lake.view("account"), method="add_diff")
    assert rows(lake, sql=diff) == with_method(TIMELINE, "add_diff")


def test_deletion_vectors_feed_and_add_diff_agree(tmp_path):
    path = table_path(tmp_path)
    dv_timeline(path)
    lake = kit.open_lake(tmp_path)
    source = lake["account"]
    assert "deletionVectors" in source.reader_features and source.version == 8
    expected = sorted(TIMELINE + DV_LANDINGS)
    assert lake.coverage("account").method == "change_feed"
    assert rows(lake) == expected
    diff = changes_sql(lake.connection, source, lake.view("account"), method="add_diff")
    assert rows(lake, sql=diff) == with_method(expected, "add_diff")
    # The v8 purge added the v7 file again with a deletion vector: not planned again.
    planned = source.plan.add_diff_files()
    assert [f.version for f in planned].count(8) == 0
    # The snapshot honours the deletion vectors: A3 replaced A2, C3 was purged.
    assert sorted(lake.live("account").select("Id, versionnumber").fetchall()) == [
        ("A", 3), ("D", 1), ("E", 1), ("F", 1), ("G", 1)]
    inv = lake.tables().set_index("table").loc["account"]
    assert (inv["version"], inv["rows"], inv["live_rows"]) == (8, 5, 5)


def test_table_without_feed_but_deletion_vectors_uses_the_add_diff(tmp_path):
    path = table_path(tmp_path)
    dv_timeline(path)
    # The feed switched off for good: its change files vacuumed, the setting off.
    shutil.rmtree(os.path.join(path, "_change_data"))
    DeltaTable(path).metadata()  # readable before the edit
    log0 = os.path.join(path, "_delta_log", f"{0:020d}.json")
    text = open(log0).read().replace('"delta.enableChangeDataFeed": "true"', '"delta.enableChangeDataFeed": "false"')
    text = text.replace('"delta.enableChangeDataFeed":"true"', '"delta.enableChangeDataFeed":"false"')
    open(log0, "w").write(text)
    lake = kit.open_lake(tmp_path)
    assert not lake["account"].change_feed_enabled
    assert lake.coverage("account").method == "add_diff"
    assert rows(lake) == with_method(TIMELINE + DV_LANDINGS, "add_diff")


def test_deletion_vector_fixture_plans_each_file_once():
    """deltars table-with-dv-small: v1 deletes two rows by adding the v0 file again with a
    deletion vector: the add-file diff reads the v0 file once (at v0), never the re-add."""
    lake = kit.open_lake(os.path.join(FIXTURES, "deltars__table-with-dv-small"))
    (name,) = lake.table_names
    plan = lake[name].plan
    c1 = plan.commit(1)
    assert c1.adds[0]["deletionVector"]["cardinality"] == 2 and c1.adds[0]["path"] == c1.removes[0]["path"]
    assert [(f.version, f.kind) for f in plan.add_diff_files()] == [(0, "add")]
    # Without change files, a re-added file is not an insert either.
    assert plan.feed_files_of(c1) == []


def test_first_add_with_a_deletion_vector_is_not_planned(tmp_path):
    """A file whose first add already carries a deletion vector cannot be read as parquet
    alone: the add-file diff declines rather than count deleted rows (the log edited so that
    kernel basic-dv-no-checkpoint's v1 is the first add of its file)."""
    import json

    table = tmp_path / "basic"
    shutil.copytree(os.path.join(FIXTURES, "kernel__basic-dv-no-checkpoint"), table)
    log0 = table / "_delta_log" / f"{0:020d}.json"
    actions = [json.loads(line) for line in log0.read_text().splitlines() if line.strip()]
    dv_path = json.loads((table / "_delta_log" / f"{1:020d}.json").read_text().splitlines()[1])["add"]["path"]
    log0.write_text("\n".join(json.dumps(a) for a in actions if a.get("add", {}).get("path") != dv_path) + "\n")
    plan = kit.open_lake(table)["basic"].plan
    with pytest.raises(NotPlannable, match="deletion vector"):
        plan.add_diff_files()


# -- pinning --------------------------------------------------------------------------------------
def test_a_lake_reads_one_snapshot_until_refreshed(tmp_path):
    path = table_path(tmp_path)
    st = account_timeline(path)
    lake = kit.open_lake(tmp_path)
    before = lake.tables().set_index("table").loc["account"]
    assert before["version"] == 6
    # Another writer commits between tables() and the analyses.
    st.sync([record("H", 1, t(5, 6, 50), t(5, 6, 50)), record("A", 3, t(4, 23, 50), t(5, 6, 55))], t(5, 7))
    assert DeltaTable(path).version() == 7
    assert rows(lake) == sorted(TIMELINE)
    assert lake.history("account")["version"].max() == 6
    assert lake.syncs("account").df()["version"].max() == 6
    assert int(sync_latency(lake, by=None)["changes"].sum()) == len(TIMELINE)
    assert lake.tables().set_index("table").loc["account", "version"] == 6
    assert sorted(r[0] for r in lake.live("account").select("Id").fetchall()) == ["A", "C", "D", "E", "F"]
    # refresh(): every result moves to the newest version.
    lake.refresh()
    assert lake.tables().set_index("table").loc["account", "version"] == 7
    assert rows(lake) == sorted(TIMELINE + [row("A", 3, "update", t(5, 6, 55), t(5, 7), 1),
                                            row("H", 1, "create", t(5, 6, 50), t(5, 7), 1)])
    assert lake.history("account")["version"].max() == 7
    assert int(sync_latency(lake, by=None)["changes"].sum()) == len(TIMELINE) + 2
    assert sorted(r[0] for r in lake.live("account").select("Id").fetchall()) == ["A", "C", "D", "E", "F", "H"]


def test_pinned_lake_with_cached_changes(tmp_path):
    path = table_path(tmp_path)
    st = account_timeline(path)
    lake = kit.open_lake(tmp_path, cache_changes=True)
    assert rows(lake) == sorted(TIMELINE)
    st.sync([record("H", 1, t(5, 6, 50), t(5, 6, 50))], t(5, 7))
    assert rows(lake) == sorted(TIMELINE)
    lake.refresh()
    assert len(rows(lake)) == len(TIMELINE) + 1


# -- commits without commitInfo.timestamp ---------------------------------------------------------
@pytest.mark.parametrize("change_feed", [True, False])
def test_commits_without_timestamps_give_the_same_analyses(tmp_path, change_feed):
    """Fabric Link writes no commitInfo.timestamp: the commit file's modification time is the
    clock (lakebuilder sets it to the simulated commit time), and every analysis is unchanged."""
    with_time = tmp_path / "with"
    account_timeline(table_path(with_time), change_feed=change_feed)
    without = tmp_path / "without"
    shutil.copytree(with_time, without)  # copy2 keeps the modification times
    for v in range(7):
        drop_commit_time(table_path(without), v)
    a, b = kit.open_lake(with_time), kit.open_lake(without)
    assert set(a.tables()["time_source"]) == {"commit_info"}
    assert set(b.tables()["time_source"]) == {"file_mtime"}
    assert rows(a) == rows(b)
    import pandas as pd

    for fn, kwargs in ((sync_latency, {"by": "hour"}), (change_volume, {"by": "hour"}), (sync_cadence, {}),
                       (freshness, {})):
        pd.testing.assert_frame_equal(fn(a, **kwargs), fn(b, **kwargs))
    pd.testing.assert_frame_equal(a.history("account"), b.history("account"))


def test_vacuumed_table_without_feed_falls_back_to_the_snapshot(tmp_path):
    path = table_path(tmp_path)
    account_timeline(path, change_feed=False)
    vacuum_data_files(path)
    lake = kit.open_lake(tmp_path)
    with pytest.raises(NotPlannable, match="vacuumed"):
        lake["account"].plan.add_diff_files()
    assert lake.coverage("account").method == "snapshot"


# -- epoch arithmetic -----------------------------------------------------------------------------
def test_truncate_equals_date_trunc():
    """The epoch arithmetic of engines.sql.truncate gives date_trunc's UTC periods (weeks
    from Monday), on random instants from 1899 to 2040, sentinels, the boundaries and NULL."""
    import duckdb

    from kit.engines.sql import truncate

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "create table t as select TIMESTAMPTZ '1899-12-31 23:59:59.5+00' + to_microseconds(CAST(random() * 4.4e15 AS BIGINT)) AS ts "
        "from range(20000) union all select * from (values (TIMESTAMPTZ '1900-01-01 00:00:00+00'), (NULL), "
        "(TIMESTAMPTZ '0001-01-01 00:00:00+00'), (TIMESTAMPTZ '2026-01-05 00:00:00+00'), "
        "(TIMESTAMPTZ '2026-01-04 23:59:59.999999+00'), (TIMESTAMPTZ '1970-01-01 00:00:00+00'))"
    )
    for unit in ("second", "minute", "hour", "day", "week"):
        (differ,) = con.sql(
            f"select count(*) filter (where {truncate(unit, 'ts')} is distinct from date_trunc('{unit}', ts)) from t"
        ).fetchall()[0]
        assert differ == 0, unit


# -- the load_cdf path (remote tables, column mapping) ---------------------------------------------
@pytest.fixture
def through_load_cdf(monkeypatch):
    """Make every table take the path of tables whose files DuckDB cannot read itself."""
    from kit.formats.delta.source import DeltaSource

    monkeypatch.setattr(DeltaSource, "reads_files", property(lambda self: False))


def test_load_cdf_path_gives_the_same_changes(tmp_path, through_load_cdf):
    path = table_path(tmp_path)
    st = account_timeline(path)
    drop_commit_time(path, 6)  # deltalake's _commit_timestamp is 1970 here; the plan's is not
    lake = kit.open_lake(tmp_path)
    assert rows(lake) == sorted(TIMELINE)
    # Pinned too: load_cdf stops at the pinned version.
    st.sync([record("H", 1, t(5, 6, 50), t(5, 6, 50))], t(5, 7))
    lake2 = kit.open_lake(tmp_path)
    lake2.tables()
    st.sync([record("I", 1, t(5, 7, 50), t(5, 7, 50))], t(5, 8))
    assert [r[1] for r in rows(lake2)].count("I") == 0 and [r[1] for r in rows(lake2)].count("H") == 1


def test_load_cdf_path_after_vacuum(tmp_path, through_load_cdf):
    """Feed from version 5 (the change files of v1 and v4 gone, old data files vacuumed):
    the same rows as test_reader_changes.test_partial_feed_after_vacuum."""
    from lakebuilder import remove_change_data

    path = table_path(tmp_path)
    account_timeline(path)
    remove_change_data(path, [1, 4])
    vacuum_data_files(path)
    lake = kit.open_lake(tmp_path)
    assert lake.coverage("account").feed_from_version == 5
    assert rows(lake) == [
        row("A", 2, "update", t(5, 0, 40), t(5, 4), None, "snapshot"),
        row("C", 2, "update", t(5, 5, 50), t(5, 6), 1),
        row("D", 1, "create", t(5, 0, 50), t(5, 1), None, "snapshot"),
        row("E", 1, "create", t(5, 5, 55), t(5, 6), 1),
        row("F", 1, "create", t(5, 1, 45), t(5, 2), None, "snapshot"),
    ]


def test_inventory_counts_equal_the_live_relation():
    """tables()' batched counts against lake.live() and a plain count, table by table (sample lake)."""
    import warnings

    sample = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_lake")
    lake = kit.open_lake(sample)
    inv = lake.tables().set_index("table")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = lake.dataverse_tables()
    for name in names:
        (total,) = lake.sql(f'select count(*) from "{name}"').fetchall()[0]
        (deleted,) = lake.sql(f'select count(*) filter (where "IsDelete") from "{name}"').fetchall()[0]
        assert (inv.loc[name, "rows"], inv.loc[name, "deleted_rows"], inv.loc[name, "live_rows"]) == (
            total, deleted, len(lake.live(name).df())), name
