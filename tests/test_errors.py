"""Every error the kit raises on bad input is a KitError whose message names the table or path
and says what to do; never a raw library traceback, never a silently wrong number."""

import json
import os
import warnings

import pyarrow as pa
import pytest
from lakebuilder import SyncTable, account_timeline, record, t, write_plain

import kit
from kit.storage import redact


def synapse(root, name):
    return os.path.join(str(root), "deltalake", f"{name}_partitioned")


def log_file(path, version):
    return os.path.join(path, "_delta_log", f"{version:020d}.json")


def test_error_hierarchy():
    for cls in (kit.LakeNotFoundError, kit.TableNotFoundError, kit.UnreadableTableError, kit.NotDataverseTableError):
        assert issubclass(cls, kit.KitError)
    assert issubclass(kit.TableNotFoundError, KeyError)


# -- no lake ----------------------------------------------------------------------------------
def test_missing_folder(tmp_path):
    with pytest.raises(kit.LakeNotFoundError, match="does not exist") as info:
        kit.open_lake(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value)


@pytest.mark.parametrize("make", ["empty", "file", "parquet_only"])
def test_no_tables_found(tmp_path, make):
    target = tmp_path / "lake"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("not a lake")
    else:
        (target / "sub").mkdir(parents=True)
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"a": [1]}), str(target / "sub" / "x.parquet"))
    with pytest.raises(kit.LakeNotFoundError) as info:
        kit.open_lake(target)
    text = str(info.value)
    assert str(target) in text and "deltalake/" in text and "Tables/" in text


# -- unknown table ----------------------------------------------------------------------------
def test_unknown_table_suggests_close_names(tmp_path):
    for name in ("account", "accountleads", "contact"):
        write_plain(synapse(tmp_path, name), pa.table({"k": [1]}))
    lake = kit.open_lake(tmp_path)
    for call in (lambda: lake["acount"], lambda: lake.changes("acount"), lambda: lake.history("acount"),
                 lambda: lake.live("acount"), lambda: lake.labels("acount", "statecode")):
        with pytest.raises(kit.TableNotFoundError) as info:
            call()
        assert "Did you mean 'account'" in str(info.value)
        assert info.value.suggestions[0] == "account"
        assert "lake.tables()" in str(info.value)
    assert "acount" not in lake and "Account" in lake


def test_unknown_table_in_sql(tmp_path):
    write_plain(synapse(tmp_path, "account"), pa.table({"k": [1]}))
    lake = kit.open_lake(tmp_path)
    with pytest.raises(kit.TableNotFoundError, match="Did you mean 'account'"):
        lake.sql("select * from acount")


# -- unreadable tables ------------------------------------------------------------------------
def test_corrupt_commit(tmp_path):
    path = synapse(tmp_path, "account")
    account_timeline(path)
    with open(log_file(path, 6), "w") as fh:
        fh.write('{"commitInfo": {"timestamp": 1}}\n{"add": {"path": "x.parquet", "size": \n')
    lake = kit.open_lake(tmp_path)
    for call in (lambda: lake.sql("select * from account"), lambda: lake.history("account"),
                 lambda: lake.changes("account"), lambda: lake.live("account")):
        with pytest.raises(kit.UnreadableTableError) as info:
            call()
        text = str(info.value)
        assert "'account'" in text and "commit 6" in text and "not valid JSON" in text
        assert "<unknown>" not in text and "\n" not in text  # no native backtrace
    assert "commit 6" in lake.tables().iloc[0].error


def test_commit_gap(tmp_path):
    path = synapse(tmp_path, "account")
    account_timeline(path)
    os.remove(log_file(path, 2))
    lake = kit.open_lake(tmp_path)
    with pytest.raises(kit.UnreadableTableError, match=r"gap.*between commits 1 and 3.*Restore"):
        lake.sql("select count(*) from account")
    # history must not hide the gap either
    with pytest.raises(kit.UnreadableTableError, match="gap"):
        lake.history("account")


def test_missing_data_file_is_named(tmp_path):
    path = synapse(tmp_path, "account")
    account_timeline(path)
    lake = kit.open_lake(tmp_path)
    victim = lake["account"].file_uris[0]
    os.remove(victim)
    with pytest.raises(kit.UnreadableTableError) as info:
        lake.sql("select count(*) from account")
    text = str(info.value)
    assert os.path.basename(victim) in text and "vacuumed or copied incompletely" in text
    with pytest.raises(kit.UnreadableTableError, match=os.path.basename(victim)):
        kit.open_lake(tmp_path).changes("account").fetchall()


def test_unsupported_reader_feature_is_named(tmp_path):
    path = synapse(tmp_path, "account")
    SyncTable(path).initial([record("A", 1, t(4, 1), t(4, 1))], t(5, 0))
    with open(log_file(path, 1), "w") as fh:
        fh.write(json.dumps({"commitInfo": {"timestamp": 1767574800000, "operation": "SET TBLPROPERTIES"}}) + "\n")
        fh.write(json.dumps({"protocol": {"minReaderVersion": 3, "minWriterVersion": 7,
                                          "readerFeatures": ["typeWidening"], "writerFeatures": ["typeWidening"]}}) + "\n")
    lake = kit.open_lake(tmp_path)
    with pytest.raises(kit.UnreadableTableError) as info:
        lake.sql("select * from account")
    assert info.value.feature == "typeWidening"
    assert "typeWidening" in str(info.value) and "'account'" in str(info.value)
    row = lake.tables().iloc[0]
    assert "typeWidening" in row.error


def test_not_a_delta_table_in_synapse_folder(tmp_path):
    write_plain(synapse(tmp_path, "account"), pa.table({"k": [1]}))
    os.makedirs(os.path.join(synapse(tmp_path, "half"), "_delta_log"))  # an export in progress
    lake = kit.open_lake(tmp_path)
    with pytest.raises(kit.UnreadableTableError, match="'half'.*not a Delta table"):
        lake.sql("select * from half")


# -- not a Dataverse table --------------------------------------------------------------------
def test_not_a_dataverse_table(tmp_path):
    account_timeline(synapse(tmp_path, "account"))
    write_plain(synapse(tmp_path, "plain"), pa.table({"key": [1], "value": ["x"]}))
    write_plain(synapse(tmp_path, "half"), pa.table({"Id": ["a"], "value": ["x"]}))
    lake = kit.open_lake(tmp_path)
    with pytest.raises(kit.NotDataverseTableError) as info:
        lake.changes("plain")
    assert info.value.missing == ["Id", "versionnumber", "modifiedon"]
    assert "'plain'" in str(info.value) and "Id, versionnumber, modifiedon" in str(info.value)
    with pytest.raises(kit.NotDataverseTableError, match="versionnumber, modifiedon"):
        lake.coverage("half")
    with pytest.raises(kit.NotDataverseTableError, match="'plain'"):
        lake.live("plain")
    with pytest.warns(UserWarning, match=r"Skipped tables without the Dataverse columns.*half.*plain"):
        assert lake.analysable(None) == ["account"]
    with pytest.raises(kit.NotDataverseTableError, match="'plain'"):
        lake.analysable(["account", "plain"])
    assert lake.analysable("account") == ["account"]


def test_analysable_skips_unreadable_tables_with_a_warning(tmp_path):
    account_timeline(synapse(tmp_path, "account"))
    os.makedirs(os.path.join(synapse(tmp_path, "half"), "_delta_log"))
    lake = kit.open_lake(tmp_path)
    with pytest.warns(kit.SkippedTableWarning, match=r"Skipped table 'half': Table 'half' cannot be read"):
        assert lake.analysable(None) == ["account"]


# -- credentials ------------------------------------------------------------------------------
def test_redact():
    assert redact("key=abcd1234 and abcd1234", ["abcd1234"]) == "key=*** and ***"
    assert redact("true", ["tru"]) == "true"  # too short to be a secret


def test_errors_raised_by_operations_are_kit_errors(tmp_path):
    """Every public operation on a broken table raises a KitError, never a library error."""
    path = synapse(tmp_path, "account")
    account_timeline(path)
    for f in os.listdir(path):
        if f.startswith("PartitionId"):
            for g in os.listdir(os.path.join(path, f)):
                os.remove(os.path.join(path, f, g))
    lake = kit.open_lake(tmp_path)
    calls = {
        "sql": lambda: lake.sql("select * from account"),
        "live": lambda: lake.live("account"),
        "changes": lambda: lake.changes("account").fetchall(),
        "with_labels": lambda: lake.with_labels("account"),
        "fno_ids": lambda: lake.fno_ids("account"),
    }
    for name, call in calls.items():
        with pytest.raises(kit.KitError):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert lake.tables().iloc[0].error


# -- INT96 timestamps on read paths other than DuckDB's ---------------------------------------
def _edge_table(fixtures_dir, read_path):
    lake = kit.open_lake(os.path.join(fixtures_dir, "delta", "deltars__table_with_edge_timestamps"))
    source = lake["deltars__table_with_edge_timestamps"]
    source.__dict__["read_path"] = read_path  # as for a table with deletion vectors / a remote one
    return lake


def test_int96_beyond_2262_refused_on_the_scan_path(fixtures_dir):
    """deltalake's scan returns 1816-03-29 for an INT96 9999-12-31: never hand that out."""
    lake = _edge_table(fixtures_dir, "deltalake")
    with pytest.raises(kit.UnreadableTableError) as info:
        lake.sql('select * from "deltars__table_with_edge_timestamps"')
    assert info.value.feature == "INT96 timestamps"
    assert "BIG_DATE" in str(info.value) and "9999-12-31" in str(info.value)


def test_int96_read_right_on_the_dataset_path(fixtures_dir):
    """The path remote plain tables take: deltalake's pyarrow dataset, INT96 coerced to us."""
    from datetime import datetime, timezone

    lake = _edge_table(fixtures_dir, "dataset")
    got = lake.sql('select "BIG_DATE", "SOME_VALUE" from "deltars__table_with_edge_timestamps" order by 2').fetchall()
    assert got == [(datetime(9999, 12, 31, tzinfo=timezone.utc), 1), (datetime(9999, 12, 30, tzinfo=timezone.utc), 2)]


def test_int96_in_range_is_fine_on_the_scan_path(fixtures_dir):
    lake = kit.open_lake(os.path.join(fixtures_dir, "delta", "golden__kernel-timestamp-INT96"))
    lake["golden__kernel-timestamp-INT96"].__dict__["read_path"] = "deltalake"
    assert lake.sql('select count(*) from "golden__kernel-timestamp-INT96"').fetchall() == [(5,)]
