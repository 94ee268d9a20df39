"""The kit over every Delta conformance table in tests/fixtures/delta/ (one test case per
table), checked against MANIFEST.json's expected contents: read correctly, or refused with a
clear KitError.

Each fixture table is opened as its own lake (``kit.open_lake(<fixture dir>/<name>)``, the
single-table layout). The manifest's prose ``values`` are encoded below as concrete checks
(CHECKS); where it states none, the row count is checked against what deltalake 1.6.6's
QueryBuilder counted (READ_RESULTS_deltalake_1.6.6.json).
"""

import json
import os
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import pytest
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")  # also tests/conftest.py's

import kit

DELTA = os.path.join(FIXTURES, "delta")
UTC = timezone.utc


def _load(name):
    # The fixtures are part of the repository: a missing file fails collection, never a skip.
    with open(os.path.join(DELTA, name)) as fh:
        return json.load(fh)


MANIFEST = _load("MANIFEST.json")
_RESULTS = _load("READ_RESULTS_deltalake_1.6.6.json")
READ_RESULTS = {r["name"]: r for r in _RESULTS["results"]}


def ts(*args):
    return datetime(*args, tzinfo=UTC)


def q(name):
    return '"' + name.replace('"', '""') + '"'


def fetch(lake, table, columns="*", order=None):
    sql = f"select {columns} from {q(table)}" + (f" order by {order}" if order else "")
    return lake.sql(sql).fetchall()


def col(lake, table, column):
    return sorted((r[0] for r in fetch(lake, table, q(column))), key=lambda v: (v is None, v))


# -- the manifest's prose, as assertions ------------------------------------------------------
def check_simple_table(lake, t):
    assert col(lake, t, "id") == [5, 7, 9]


def check_delta_0_2_0(lake, t):
    assert sorted(col(lake, t, "value")) == [1, 1, 2, 2, 3, 3]
    assert lake.tables().iloc[0].files == 3  # "latest has 3 files"


def check_partitioned_0_8_0(lake, t):
    got = sorted(fetch(lake, t, "value, year"))
    assert got == sorted(zip(["1", "2", "3", "6", "7", "5", "4"], ["2020"] * 3 + ["2021"] * 4))
    types = dict(zip(lake.sql(f"select * from {q(t)}").columns, map(str, lake.sql(f"select * from {q(t)}").types)))
    # year, month and day are string partition columns in the Delta schema: they stay strings
    assert types["year"] == types["month"] == types["day"] == "VARCHAR"


def check_null_partition(lake, t):
    assert sorted(fetch(lake, t, "k, v"), key=str) == sorted([("A", 1), (None, 2)], key=str)


def check_special_partition(lake, t):
    # directory names x=A%2FA and x=B%20B are URL-decoded partition values
    assert sorted(fetch(lake, t, "x, y")) == [("A/A", 1), ("B B", 2)]


def check_partitioned_types_2_2_0(lake, t):
    assert sorted(fetch(lake, t, "c1, c2, c3")) == [(4, "c", 5), (5, "b", 6), (6, "a", 4)]
    rel = lake.sql(f"select c1, c2 from {q(t)}")
    assert [str(x) for x in rel.types] == ["INTEGER", "VARCHAR"]


def check_partition_type_primitives(lake, t):
    # the partition columns are strings in this table's Delta schema, 8 rows per value
    assert lake.sql(f"select year, count(*) from {q(t)} group by 1 order by 1").fetchall() == [("2020", 8), ("2021.0", 8)]
    assert lake.sql(f"select count(*) from {q(t)} where is_active = 'true'").fetchall() == [(8,)]
    assert lake.sql(f"select count(*) from {q(t)} where event_date = '2023-01-01'").fetchall() == [(8,)]


def check_column_mapping_names(lake, t):
    assert sorted(fetch(lake, t, '"Company Very Short", "Super Name"')) == [
        ("BME", "Timothy Lamb"), ("BMS", "Anthony Johnson"), ("BMS", "Mr. Daniel Ferguson MD"),
        ("BMS", "Nathan Bennett"), ("BMS", "Stephanie Mcgrath"),
    ]


def check_dv_small(lake, t):
    assert col(lake, t, "value") == list(range(1, 9))  # 0 and 9 deleted by the deletion vector


def check_edge_timestamps(lake, t):
    got = fetch(lake, t, '"BIG_DATE", "NORMAL_DATE", "SOME_VALUE"', order='"SOME_VALUE"')
    # INT96 values at the top of the range come back as written, not as 1816 dates
    assert got == [(ts(9999, 12, 31), ts(2022, 1, 1), 1), (ts(9999, 12, 30), ts(2022, 2, 1), 2)]


def check_inserts_deletes_checkpoint(lake, t):
    deleted = {i for start in (5, 15, 25, 35, 45) for i in range(start, start + 5)}
    assert col(lake, t, "id") == [i for i in range(66) if i not in deleted]


def check_inserts_merge(lake, t):
    got = fetch(lake, t, "id, str", order="id")
    want = [(i, f"val={i}" if i < 50 else "N/A" if i < 100 else "EXT") for i in range(10, 150)]
    assert got == want
    # Spark's camelCase string metrics of that MERGE
    assert metrics(lake, t, 1) == ("MERGE", True, 50, 50, 10, 40, 100)


def metrics(lake, t, version):
    h = lake.history(t).set_index("version")
    r = h.loc[version]
    values = [None if pd.isna(r[c]) else int(r[c]) for c in ("rows_inserted", "rows_updated", "rows_deleted", "rows_copied", "source_rows")]
    return (r.operation, bool(r.data_change), *values)


def check_inserts_updates(lake, t):
    assert fetch(lake, t, "id, str", order="id") == [(i, "N/A" if i < 50 else f"val={i}") for i in range(100)]
    assert metrics(lake, t, 1) == ("UPDATE", True, None, 50, None, 0, None)


def check_data2_deleted(lake, t):
    check_data3(lake, t)
    # an old Spark DELETE that recorded no metrics: NULL, not 0
    assert metrics(lake, t, 4) == ("DELETE", True, None, None, None, None, None)


def check_overwrite_restore(lake, t):
    assert col(lake, t, "id") == list(range(200))


def check_data3(lake, t):
    assert fetch(lake, t, "col1, col2", order="col1") == [(i, f"data-3-{i}") for i in range(20)]


def check_schema_changes(lake, t):
    assert fetch(lake, t, "id, part", order="id") == [(i, None if i < 10 else i) for i in range(20)]


def check_partition_changes(lake, t):
    assert fetch(lake, t, "id, part2", order="id") == [(i, i % 2) for i in range(10, 20)]


def check_latest_metadata_protocol(lake, t):
    got = sorted(fetch(lake, t, "col1, col2"), key=lambda r: (r[0], r[1] is not None, r[1]))
    want = sorted([(i, None) for i in range(20)] + [(i, i % 2) for i in range(20)], key=lambda r: (r[0], r[1] is not None, r[1]))
    assert got == want


def check_column_mapping_all_types(lake, t):
    got = fetch(lake, t, '"ByteType", "IntegerType", "LongType", "StringType", "decimal", "DateType", "TimestampType", "nested_struct"', order='"IntegerType" nulls last')
    want = [
        (i, i, i, str(i), Decimal(i).quantize(Decimal("0.00")), date(2021, 11, 18),
         ts(1970, 1, 1) + timedelta(milliseconds=i), {"aa": str(i), "ac": {"aca": i}})
        for i in range(5)
    ] + [(None,) * 8]
    assert got == want


def check_dv_partitioned(lake, t):
    want = sorted((x % 10, x, f"foo{x % 5}") for x in range(50) if not (x % 2 == 0 and x < 30))
    assert sorted(fetch(lake, t, "part, col1, col2")) == want


def check_dv_key_cases(lake, t):
    assert col(lake, t, "id") == [i for i in range(50) if i not in (0, 7, 14)]


def check_multi_part_checkpoint(lake, t):
    assert col(lake, t, "id") == sorted([0] + list(range(30)))


def check_ids_0_to_9(lake, t):
    assert col(lake, t, "id") == list(range(10))


def check_only_checkpoint_files(lake, t):
    assert col(lake, t, "id") == sorted(list(range(5, 10)) + list(range(20)))


def check_corrupted_last_checkpoint(lake, t):
    assert col(lake, t, "id") == list(range(100))


def check_partition_values(lake, t):
    cols = "as_int, as_long, as_byte, as_short, as_boolean, as_float, as_double, as_string, as_string_lit_null, as_date, as_timestamp, as_big_decimal, value"
    got = fetch(lake, t, cols, order="value")
    want = [
        (i, i, i, i, i % 2 == 0, float(i), float(i), str(i), "null", date(2021, 9, 8), ts(2021, 9, 8, 11, 11, 11), Decimal(i), str(i))
        for i in (0, 1)
    ] + [(None,) * 12 + ("2",)]
    assert got == want


def check_iso8601_partition(lake, t):
    assert fetch(lake, t, "str, ts", order="str") == [
        ("2024-01-01 10:00:00", ts(2024, 1, 1, 10)), ("2024-01-02 12:30:00", ts(2024, 1, 2, 12, 30)),
    ]


# DeltaTableReadsSuite's utcTableExpectedResult: (id, part, time)
UTC_TABLE = [
    (0, ts(2020, 1, 1, 8, 9, 10, 1000), ts(2020, 2, 1, 8, 9, 10)),
    (1, ts(2021, 10, 1, 8, 9, 20), ts(1999, 1, 1, 9)),
    (2, ts(2021, 10, 1, 8, 9, 20), ts(2000, 1, 1, 9)),
    (3, ts(1969, 1, 1), ts(1969, 1, 1)),
    (4, None, None),
]


def check_utc_timestamps(lake, t):
    assert fetch(lake, t, "id, part, time", order="id") == UTC_TABLE


def check_pst_timestamps(lake, t):
    # written in PST: the data column is 8 hours later; partition values are unchanged
    want = [(i, p, None if v is None else v + timedelta(hours=8)) for i, p, v in UTC_TABLE]
    assert fetch(lake, t, "id, part, time", order="id") == want


def check_timestamp_ntz(lake, t):
    a, b = datetime(2021, 11, 18, 2, 30, 0, 123456), datetime(2013, 7, 5, 17, 1, 0, 123456)
    assert fetch(lake, t, '"id", "tsNtz", "tsNtzPartition"', order="id") == [
        (0, a, a), (1, b, a), (2, None, a), (3, a, b), (4, b, b), (5, None, b), (6, a, None), (7, b, None), (8, None, None),
    ]
    rel = lake.sql(f"select * from {q(t)}")
    assert [str(x) for x in rel.types][1:] == ["TIMESTAMP", "TIMESTAMP"]  # no time zone: NTZ


def check_primitives(lake, t):
    got = fetch(lake, t, "as_int, as_long, as_byte, as_short, as_boolean, as_float, as_double, as_string, as_binary, as_big_decimal", order="as_int nulls first")
    want = [(None,) * 10] + [
        (i, i, i, i, i % 2 == 0, float(i), float(i), str(i), bytes([i, i]), Decimal(i)) for i in range(10)
    ]
    assert got == want


def check_decimal_types(lake, t):
    rel = lake.sql(f"select * from {q(t)}")
    for name, typ in zip(rel.columns, rel.types):
        p, s = name.split("_")[1:3]
        assert str(typ) == f"DECIMAL({p},{s})", name


def check_arbitrary_params(lake, t):
    assert sorted(fetch(lake, t, "id, month")) == [(1, 1), (2, 2)]
    h = lake.history(t)
    assert list(h.operation) == ["CREATE TABLE AS SELECT", "WRITE", "OPTIMIZE"]
    assert list(h.data_change) == [True, True, False]  # OPTIMIZE changes no data


def check_basic_dv_no_checkpoint(lake, t):
    assert col(lake, t, "id") == list(range(2, 10))


def check_basic_dv_with_checkpoint(lake, t):
    assert col(lake, t, "id") == [i for i in range(500) if i % 11 != 0]


def check_simple_table_with_checkpoint(lake, t):
    assert len(lake.history(t)) == 11  # every commit 0..10 is still in the log


def check_cdf_table(lake, t):
    # the _change_data folder is not part of the snapshot
    rel = lake.sql(f"select * from {q(t)}")
    assert [str(x) for x in rel.types] == ["INTEGER", "VARCHAR", "DATE"]


CHECKS = {
    "deltars__simple_table": check_simple_table,
    "deltars__simple_table_with_checkpoint": check_simple_table_with_checkpoint,
    "deltars__delta-0.2.0": check_delta_0_2_0,
    "deltars__delta-0.8.0-partitioned": check_partitioned_0_8_0,
    "deltars__delta-0.8.0-null-partition": check_null_partition,
    "deltars__delta-0.8.0-special-partition": check_special_partition,
    "deltars__delta-2.2.0-partitioned-types": check_partitioned_types_2_2_0,
    "deltars__partition-type-primitives": check_partition_type_primitives,
    "deltars__table_with_column_mapping": check_column_mapping_names,
    "deltars__table-with-dv-small": check_dv_small,
    "deltars__table_with_edge_timestamps": check_edge_timestamps,
    "deltars__cdf-table": check_cdf_table,
    "golden__basic-with-inserts-deletes-checkpoint": check_inserts_deletes_checkpoint,
    "golden__basic-with-inserts-merge": check_inserts_merge,
    "golden__basic-with-inserts-updates": check_inserts_updates,
    "golden__basic-with-inserts-overwrite-restore": check_overwrite_restore,
    "golden__snapshot-data2-deleted": check_data2_deleted,
    "golden__snapshot-vacuumed": check_data3,
    "golden__time-travel-schema-changes-b": check_schema_changes,
    "golden__time-travel-partition-changes-b": check_partition_changes,
    "golden__log-replay-latest-metadata-protocol": check_latest_metadata_protocol,
    "golden__table-with-columnmapping-mode-name": check_column_mapping_all_types,
    "golden__table-with-columnmapping-mode-id": check_column_mapping_all_types,
    "golden__dv-partitioned-with-checkpoint": check_dv_partitioned,
    "golden__dv-with-columnmapping": check_dv_partitioned,
    "golden__log-replay-dv-key-cases": check_dv_key_cases,
    "golden__multi-part-checkpoint": check_multi_part_checkpoint,
    "golden__v2-checkpoint-parquet": check_ids_0_to_9,
    "golden__v2-checkpoint-json": check_ids_0_to_9,
    "golden__only-checkpoint-files": check_only_checkpoint_files,
    "golden__corrupted-last-checkpoint-kernel": check_corrupted_last_checkpoint,
    "golden__data-reader-partition-values": check_partition_values,
    "golden__kernel-timestamp-partition-col-ISO8601": check_iso8601_partition,
    "golden__kernel-timestamp-INT96": check_utc_timestamps,
    "golden__kernel-timestamp-TIMESTAMP_MICROS": check_utc_timestamps,
    "golden__kernel-timestamp-PST": check_pst_timestamps,
    "golden__data-reader-timestamp_ntz": check_timestamp_ntz,
    "golden__data-reader-primitives": check_primitives,
    "golden__decimal-various-scale-precision": check_decimal_types,
    "golden__commit-info-containing-arbitrary-operationParams-types": check_arbitrary_params,
    "kernel__basic-dv-no-checkpoint": check_basic_dv_no_checkpoint,
    "kernel__basic-dv-with-checkpoint": check_basic_dv_with_checkpoint,
}

# Tables to refuse, with what the error must say (beyond naming the table).
REFUSE = {
    "golden__type-widening": r"typeWidening",  # a feature deltalake cannot read: named
    "golden__deltalog-invalid-protocol-version": r"protocol",
    "golden__versions-not-contiguous": r"gap.*between commits 0 and 2",
    "golden__no-delta-log-folder": r"No tables found",
    "deltars_err__table_c": r"gap.*between commits 11 and 13",
    "deltars_err__table_d": r"catalogOwned",
    "deltars_err__table_e": r"catalogOwned",
    "deltars_err__table_f": r"catalogOwned",
    "deltars_err__table_h": r"catalogOwned",
    "deltars_err__table_i": r"catalogOwned",
}
# The deletion-vector files of these two are missing in this copy: a clear error naming the
# missing file is the right outcome, never rows including deleted ones.
MISSING_DV = {"spark__table-with-dv-large", "spark__partitioned-table-with-dv-large"}


def _cases():
    return [pytest.param(entry, id=entry["name"]) for entry in MANIFEST]


def test_every_manifest_table_has_a_plan():
    """A table added to the manifest must get a check here (values, or a reason to refuse)."""
    assert MANIFEST, f"no tables in {DELTA}/MANIFEST.json"
    for entry in MANIFEST:
        e = entry["expected"]
        planned = entry["name"] in CHECKS or entry["name"] in REFUSE or entry["name"] in MISSING_DV
        if e.get("values") and not planned:
            pytest.fail(f"{entry['name']}: the manifest states values but no check encodes them")
        if e.get("open_error") and entry["name"] not in REFUSE:
            pytest.fail(f"{entry['name']}: must fail to open but has no REFUSE entry")


def assert_clear(error: Exception, name: str):
    text = str(error)
    assert isinstance(error, kit.KitError)
    assert name in text, text
    assert "\n" not in text and "<unknown>" not in text, text  # no library backtrace


def assert_utc_and_types(lake, name):
    rel = lake.sql(f"select * from {q(name)}")
    types = [str(x) for x in rel.types]
    rows = rel.fetchall()
    for i, typ in enumerate(types):
        if typ == "TIMESTAMP WITH TIME ZONE":
            for r in rows:
                if r[i] is not None:
                    assert r[i].utcoffset() == timedelta(0), (rel.columns[i], r[i])
    return rows


@pytest.mark.parametrize("entry", _cases())
def test_fixture_table(entry, fixtures_dir):
    name = entry["name"]
    expected = entry["expected"]
    read = READ_RESULTS.get(name, {})
    location = os.path.join(fixtures_dir, "delta", name)

    if name in REFUSE:
        with pytest.raises(kit.KitError, match=REFUSE[name]) as info:
            lake = kit.open_lake(location)
            lake.sql(f"select count(*) from {q(lake.table_names[0])}").fetchall()
        assert_clear(info.value, name)
        if name == "golden__type-widening":
            assert info.value.feature.startswith("typeWidening")
            assert kit.open_lake(location).tables().iloc[0].error  # listed, with its error
        return

    lake = kit.open_lake(location)
    assert len(lake.table_names) == 1
    table = lake.table_names[0]
    assert table == name.lower()
    source = lake[table]
    want_version = expected.get("version", read.get("version"))
    assert source.version == want_version

    if entry["log_only"] or name in MISSING_DV:
        # opening works; reading data fails clearly, naming a missing file
        with pytest.raises(kit.UnreadableTableError) as info:
            lake.sql(f"select count(*) from {q(table)}").fetchall()
        assert_clear(info.value, name)
        assert "missing" in str(info.value)
        assert ".bin" in str(info.value) if name in MISSING_DV else ".parquet" in str(info.value) or "f62d8868" in str(info.value)
        row = lake.tables().iloc[0]
        assert row.version == want_version and "missing" in row.error
        return

    rows = assert_utc_and_types(lake, table)
    want_rows = expected.get("rows", read.get("rows_querybuilder"))
    assert want_rows is not None, "no expected row count"
    assert len(rows) == want_rows
    inventory = lake.tables().iloc[0]
    assert inventory.version == want_version and inventory.rows == want_rows
    assert pd.isna(inventory.error)
    history = lake.history(table)
    assert history.version.iloc[-1] == want_version
    check = CHECKS.get(name)
    if check is not None:
        check(lake, table)
