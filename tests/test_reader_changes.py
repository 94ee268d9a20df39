"""lake.changes() and lake.coverage() on small lakes built with deltalake, checked row by row
against answers computed by hand from lakebuilder.account_timeline (see its docstring):

    v0 WRITE    00:00  A1 B1 C1              (created/modified just before midnight)
    v1 MERGE    01:00  A2 (modified 00:40), D1 (created 00:50)
    v2 append   02:00  F1 (created 01:45)
    v3 OPTIMIZE 03:00  no data change
    v4 MERGE    04:00  A2 landed again; B2 soft delete (modified 02:30)
    v5 DELETE   05:00  the purge of B
    v6 MERGE    06:00  C2 (modified 05:50), E1 (created 05:55), F1 landed again
"""

import os

import pytest
from lakebuilder import (
    SCHEMA,
    SyncTable,
    account_timeline,
    drop_commit_time,
    record,
    remove_change_data,
    set_file_mtime,
    t,
    vacuum_data_files,
)

import kit
from kit.formats.base import CHANGE_COLUMNS


def table_path(root, name="account"):
    return os.path.join(str(root), "deltalake", f"{name}_partitioned")


def rows(lake, table="account"):
    rel = lake.changes(table)
    assert tuple(rel.columns) == CHANGE_COLUMNS
    return [tuple(r) for r in rel.order("id, versionnumber").fetchall()]


def row(id_, vn, change, modified, landed, landings, method, table="account"):
    return (table, id_, vn, change, modified, landed, landings, method)


# Every landed version, exact, as the change feed and the commit history both know them.
def full_history(method):
    return [
        row("A", 1, "create", t(4, 23, 50), t(5, 0), 1, method),
        row("A", 2, "update", t(5, 0, 40), t(5, 1), 2, method),  # landed at v1 and again at v4
        row("B", 1, "create", t(4, 23, 55), t(5, 0), 1, method),
        row("B", 2, "delete", t(5, 2, 30), t(5, 4), 1, method),  # soft delete; the purge is no change
        row("C", 1, "create", t(4, 23, 56), t(5, 0), 1, method),
        row("C", 2, "update", t(5, 5, 50), t(5, 6), 1, method),
        row("D", 1, "create", t(5, 0, 50), t(5, 1), 1, method),
        row("E", 1, "create", t(5, 5, 55), t(5, 6), 1, method),
        row("F", 1, "create", t(5, 1, 45), t(5, 2), 2, method),  # appended at v2, landed again at v6
    ]


LAYOUTS = {
    # layout: (where the table goes under the root, what to open, the layout reported)
    "synapse_link": (("deltalake", "account_partitioned"), (), "synapse_delta"),
    "fabric_link": (("Tables", "account"), (), "fabric"),
    "fabric_tables_folder": (("Tables", "account"), ("Tables",), "fabric"),
    "folder_of_tables": (("Account",), (), "delta"),
    "single_table": (("account_partitioned",), ("account_partitioned",), "delta"),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_change_feed_gives_every_landed_version(tmp_path, layout):
    where, opened, reported = LAYOUTS[layout]
    account_timeline(os.path.join(str(tmp_path), *where))
    lake = kit.open_lake(os.path.join(str(tmp_path), *opened))
    assert lake.table_names == ["account"] and lake.layout("account") == reported
    cov = lake.coverage("account")
    assert (cov.method, cov.feed_from_version, cov.feed_from_time, cov.complete) == ("change_feed", 0, t(5, 0), True)
    assert rows(lake) == full_history("change_feed")


def test_changes_column_types_and_streaming(tmp_path):
    account_timeline(table_path(tmp_path))
    lake = kit.open_lake(tmp_path)
    rel = lake.changes("account")
    assert [str(x) for x in rel.types] == [
        "VARCHAR", "VARCHAR", "BIGINT", "VARCHAR", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE", "BIGINT", "VARCHAR",
    ]
    # The relation can be read more than once (each read asks deltalake for a fresh stream),
    # and composed with other SQL on the lake's connection.
    assert rel.count("*").fetchall() == [(9,)]
    assert rel.count("*").fetchall() == [(9,)]
    sql = f"select change, count(*) from ({lake.changes_sql('account')}) group by 1 order by 1"
    assert lake.connection.sql(sql).fetchall() == [("create", 6), ("delete", 1), ("update", 2)]
    df = rel.df()
    assert str(df["landed_at"].dtype) == "datetime64[us, UTC]"


def test_commit_without_timestamp_uses_file_mtime(tmp_path):
    path = table_path(tmp_path)
    account_timeline(path)
    drop_commit_time(path, 4)
    set_file_mtime(path, 4, t(5, 4, 30))
    lake = kit.open_lake(tmp_path)
    hist = lake.history("account")
    assert hist.loc[hist.version == 4, "committed_at"].item() == t(5, 4, 30)
    assert hist.loc[hist.version == 3, "committed_at"].item() == t(5, 3)
    # Landing times come from SinkCreatedOn: unchanged.
    assert rows(lake) == full_history("change_feed")


def test_landed_at_falls_back_to_commit_time_when_sink_created_is_null(tmp_path):
    path = table_path(tmp_path)
    st = SyncTable(path)
    st.initial([record("A", 1, t(4, 10), t(4, 10))], t(5, 0))
    st.sync([record("A", 2, t(4, 10), t(5, 0, 30), SinkCreatedOn=None), record("B", 1, t(5, 0, 40), t(5, 0, 40), SinkCreatedOn=None)], t(5, 1))
    # deltalake reports 1970-01-01 as the feed's commit time when commitInfo has no
    # timestamp; the kit uses the commit file's modification time instead.
    drop_commit_time(path, 1)
    set_file_mtime(path, 1, t(5, 1, 2))
    lake = kit.open_lake(tmp_path)
    assert rows(lake) == [
        row("A", 1, "create", t(4, 10), t(5, 0), 1, "change_feed"),
        row("A", 2, "update", t(5, 0, 30), t(5, 1, 2), 1, "change_feed"),
        row("B", 1, "create", t(5, 0, 40), t(5, 1, 2), 1, "change_feed"),
    ]


def test_add_diff_method_without_change_feed(tmp_path):
    account_timeline(table_path(tmp_path), change_feed=False)
    lake = kit.open_lake(tmp_path)
    cov = lake.coverage("account")
    assert (cov.method, cov.feed_from_version, cov.complete) == ("add_diff", None, True)
    # Exact first landings, even for the versions landed twice.
    assert rows(lake) == full_history("add_diff")


def test_snapshot_method_when_feed_is_off_and_files_vacuumed(tmp_path):
    path = table_path(tmp_path)
    account_timeline(path, change_feed=False)
    assert vacuum_data_files(path)
    lake = kit.open_lake(tmp_path)
    cov = lake.coverage("account")
    assert (cov.method, cov.complete) == ("snapshot", False)
    assert "vacuumed" in cov.note
    assert rows(lake) == [
        # landed_at = SinkModifiedOn: the LAST landing (an upper bound) for A2 and F1.
        row("A", 2, "update", t(5, 0, 40), t(5, 4), None, "snapshot"),
        row("C", 2, "update", t(5, 5, 50), t(5, 6), None, "snapshot"),
        row("D", 1, "create", t(5, 0, 50), t(5, 1), None, "snapshot"),
        row("E", 1, "create", t(5, 5, 55), t(5, 6), None, "snapshot"),
        row("F", 1, "create", t(5, 1, 45), t(5, 6), None, "snapshot"),
    ]


def test_snapshot_method_when_feed_files_are_gone(tmp_path):
    path = table_path(tmp_path)
    account_timeline(path)
    remove_change_data(path, range(7))
    vacuum_data_files(path)
    lake = kit.open_lake(tmp_path)
    cov = lake.coverage("account")
    assert cov.method == "snapshot"
    assert "change feed's files are gone" in cov.note
    assert [r[-1] for r in rows(lake)] == ["snapshot"] * 5


def cut_log(path, at):
    """Checkpoint the table and delete commit 0's JSON file, as log cleanup does after the
    retention period: the history no longer reaches the table's creation."""
    from deltalake import DeltaTable
    from lakebuilder import set_commit_time

    DeltaTable(path).alter.set_table_properties({"delta.logRetentionDuration": "interval 30 days"})
    set_commit_time(path, at)
    DeltaTable(path).create_checkpoint()
    os.remove(os.path.join(path, "_delta_log", f"{0:020d}.json"))


def test_snapshot_method_when_log_was_cleaned(tmp_path):
    from datetime import timedelta

    path = table_path(tmp_path)
    st = SyncTable(path, change_feed=False)
    st.initial(
        [
            # same second (00:50:00.2 vs 00:50:00.9): create
            record("S", 1, t(5, 0, 50) + timedelta(milliseconds=200), t(5, 0, 50) + timedelta(milliseconds=900)),
            # one second apart: update, even for a first version
            record("U", 1, t(5, 0, 50, 0), t(5, 0, 50, 1)),
            # soft-deleted: delete wins over create
            record("X", 3, t(5, 0, 10), t(5, 0, 10), IsDelete=True),
            # Fabric: IsDelete NULL on live rows
            record("N", 7, t(4, 8), t(5, 0, 20), IsDelete=None),
        ],
        t(5, 1),
    )
    cut_log(path, t(5, 2))
    lake = kit.open_lake(tmp_path)
    assert list(lake.history("account").version) == [1]
    assert lake.coverage("account").method == "snapshot"
    assert rows(lake) == [
        row("N", 7, "update", t(5, 0, 20), t(5, 1), None, "snapshot"),
        row("S", 1, "create", t(5, 0, 50) + timedelta(milliseconds=900), t(5, 1), None, "snapshot"),
        row("U", 1, "update", t(5, 0, 50, 1), t(5, 1), None, "snapshot"),
        row("X", 3, "delete", t(5, 0, 10), t(5, 1), None, "snapshot"),
    ]


def test_partial_feed_after_vacuum(tmp_path):
    path = table_path(tmp_path)
    account_timeline(path)
    # Vacuum: the change files of v1 and v4 and every data file outside the snapshot (v0's
    # initial load, v2's append...) are gone; v5 (purge) and v6 keep their change files.
    assert len(remove_change_data(path, [1, 4])) == 2
    assert vacuum_data_files(path)
    lake = kit.open_lake(tmp_path)
    cov = lake.coverage("account")
    assert (cov.method, cov.feed_from_version, cov.feed_from_time, cov.complete) == ("change_feed", 5, t(5, 5), False)
    assert "from version 5" in cov.note
    assert rows(lake) == [
        # latest versions first landed before the feed's window: the snapshot rule
        row("A", 2, "update", t(5, 0, 40), t(5, 4), None, "snapshot"),
        row("C", 2, "update", t(5, 5, 50), t(5, 6), 1, "change_feed"),
        row("D", 1, "create", t(5, 0, 50), t(5, 1), None, "snapshot"),
        row("E", 1, "create", t(5, 5, 55), t(5, 6), 1, "change_feed"),
        # landed again inside the window: its pre-image carries the earlier landing (02:00),
        # which beats SinkModifiedOn (06:00); still a snapshot-method row
        row("F", 1, "create", t(5, 1, 45), t(5, 2), None, "snapshot"),
    ]


def test_feed_enabled_later_covers_from_then(tmp_path):
    path = table_path(tmp_path)
    st = SyncTable(path, change_feed=False)
    st.initial([record("A", 1, t(4, 10), t(4, 10)), record("B", 1, t(4, 11), t(4, 11))], t(5, 0))
    from deltalake import DeltaTable

    DeltaTable(path).alter.set_table_properties({"delta.enableChangeDataFeed": "true"})
    from lakebuilder import set_commit_time

    set_commit_time(path, t(5, 0, 30))
    st.sync([record("A", 2, t(4, 10), t(5, 0, 45))], t(5, 1))
    vacuum_data_files(path)
    lake = kit.open_lake(tmp_path)
    cov = lake.coverage("account")
    assert (cov.method, cov.feed_from_version, cov.complete) == ("change_feed", 1, False)
    assert rows(lake) == [
        row("A", 2, "update", t(5, 0, 45), t(5, 1), 1, "change_feed"),
        row("B", 1, "create", t(4, 11), t(5, 0), None, "snapshot"),
    ]


def test_fabric_layout_with_null_isdelete(tmp_path):
    path = os.path.join(str(tmp_path), "Tables", "contact")
    st = SyncTable(path)
    st.initial([record("P", 1, t(4, 9), t(4, 9)), record("Q", 1, t(4, 9, 5), t(4, 9, 5))], t(5, 0))
    st.sync([record("Q", 2, t(4, 9, 5), t(5, 0, 10), IsDelete=True), record("R", 1, t(5, 0, 20), t(5, 0, 20))], t(5, 1))
    lake = kit.open_lake(tmp_path)
    assert lake.layout("contact") == "fabric"
    assert rows(lake, "contact") == [
        row("P", 1, "create", t(4, 9), t(5, 0), 1, "change_feed", "contact"),
        row("Q", 1, "create", t(4, 9, 5), t(5, 0), 1, "change_feed", "contact"),
        row("Q", 2, "delete", t(5, 0, 10), t(5, 1), 1, "change_feed", "contact"),
        row("R", 1, "create", t(5, 0, 20), t(5, 1), 1, "change_feed", "contact"),
    ]
    assert sorted(r[0] for r in lake.live("contact").select("Id").fetchall()) == ["P", "R"]


def test_table_without_createdon_counts_snapshot_rows_as_creates(tmp_path):
    import pyarrow as pa

    schema = pa.schema([f for f in SCHEMA if f.name not in ("createdon",)])
    path = table_path(tmp_path, "accountleads")
    st = SyncTable(path, change_feed=False, schema=schema)
    st.initial([{"Id": "L1", "versionnumber": 1, "modifiedon": t(4, 10), "PartitionId": "1900"}], t(5, 0))
    cut_log(path, t(5, 1))
    lake = kit.open_lake(tmp_path)
    assert lake.changes("accountleads").select("id, change, method").fetchall() == [("L1", "create", "snapshot")]


def test_add_diff_method_with_filename_column_and_added_column(tmp_path):
    """annotation has a 'filename' column; IsDelete arrives with a later schema version."""
    import pyarrow as pa
    from deltalake import write_deltalake
    from lakebuilder import rows_table, set_commit_time

    narrow = pa.schema([f for f in SCHEMA if f.name != "IsDelete"] + [pa.field("filename", pa.string())])
    path = table_path(tmp_path, "annotation")
    st = SyncTable(path, change_feed=False, schema=narrow)
    st.initial([record("N1", 1, t(4, 8), t(4, 8), filename="a.pdf"), record("N2", 1, t(4, 9), t(4, 9), filename="b.pdf")], t(5, 0))
    wide = narrow.append(pa.field("IsDelete", pa.bool_()))
    write_deltalake(path, rows_table([record("N2", 2, t(4, 9), t(5, 0, 30), filename="b.pdf", IsDelete=True)], t(5, 1), wide),
                    mode="append", schema_mode="merge", partition_by=["PartitionId"])
    set_commit_time(path, t(5, 1))
    lake = kit.open_lake(tmp_path)
    assert lake.coverage("annotation").method == "add_diff"
    assert rows(lake, "annotation") == [
        row("N1", 1, "create", t(4, 8), t(5, 0), 1, "add_diff", "annotation"),
        row("N2", 1, "create", t(4, 9), t(5, 0), 1, "add_diff", "annotation"),
        row("N2", 2, "delete", t(5, 0, 30), t(5, 1), 1, "add_diff", "annotation"),
    ]


def test_cached_changes_equal_recomputed_ones():
    """The per-lake cache of changes() must not change a row (sample lake: feed + snapshot)."""
    import os

    import pandas as pd

    import kit

    sample = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_lake")
    order = "id, versionnumber"
    for table in ("email", "salesline"):
        cached = kit.open_lake(sample).changes(table).order(order).df()
        fresh = kit.open_lake(sample, cache_changes=False).changes(table).order(order).df()
        pd.testing.assert_frame_equal(cached, fresh)
        assert len(cached) > 1000
