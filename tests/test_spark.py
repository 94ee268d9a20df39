"""The Spark engine gives the DuckDB engine's answers: every analysis, on both engines, over the
sample lake, the Fabric layout, a table without a change feed (add-file diff) and tables with
deletion vectors (with and without the feed). One local Spark session for the whole run
(``conftest.spark``); never a mock.

Equality is exact, floats bit for bit: quantiles are interpolated on Spark as DuckDB does
(``kit.engines.spark_sql._quantile``).
"""

import os
import shutil
import warnings

import pandas as pd
import pytest
from deltalake import DeltaTable
from lakebuilder import account_timeline

import kit
from kit import sample
from kit.errors import KitError
from kit.metrics.naive import naive_latency, relanded_rows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "sample_lake")


def _changes(lake):
    frames = [lake.changes(name).df() for name in lake.dataverse_tables()]
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["table", "id", "versionnumber"], ignore_index=True)


def _syncs(lake):
    frames = [lake.syncs(name).df() for name in lake.dataverse_tables()]
    return pd.concat(frames, ignore_index=True)


def _live(lake):
    name = lake.dataverse_tables()[0]
    return lake.live(name).order('"Id"').df()


#: Every analysis kit exports, and the relations they read.
ANALYSES = {
    "sync_latency": lambda lake: kit.sync_latency(lake),
    "sync_latency_total": lambda lake: kit.sync_latency(lake, by=None),
    "sync_latency_landed_hour": lambda lake: kit.sync_latency(lake, by="hour", when="landed"),
    "change_volume": lambda lake: kit.change_volume(lake, by="day"),
    "change_volume_hour": lambda lake: kit.change_volume(lake, by="hour"),
    "daily_volume": lambda lake: kit.daily_volume(lake),
    "throughput": lambda lake: kit.throughput(lake),
    "sync_cadence": lambda lake: kit.sync_cadence(lake),
    "sync_gaps": lambda lake: kit.sync_gaps(lake),
    "freshness": lambda lake: kit.freshness(lake),
    "anomalies": lambda lake: kit.anomalies(lake),
    "anomalies_latency": lambda lake: kit.anomalies(lake, metric="latency"),
    "naive_latency": naive_latency,
    "relanded_rows": relanded_rows,
    "tables": lambda lake: lake.tables(),
    "changes": _changes,
    "syncs": _syncs,
    "live": _live,
}


#: On the sample lakes (eight Dataverse tables, hundreds of files), each analysis once with its
#: defaults: the variants above read the same changes and add only Spark's per-query cost (they
#: run on the small lakes below).
ONCE = ["sync_latency", "change_volume", "daily_volume", "throughput", "sync_cadence", "sync_gaps", "freshness",
        "anomalies", "naive_latency", "relanded_rows", "tables", "changes", "syncs", "live"]


def run_all(lake, names=None) -> dict:
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lake.sharing_changes():
            for name in names or ANALYSES:
                analysis = ANALYSES[name]
                try:
                    out[name] = analysis(lake)
                except KitError as exc:  # must fail the same way on both engines
                    out[name] = f"KitError: {exc}"
    return out


def assert_same(location, spark, names=None, store=None, rtol=None):
    duck = run_all(kit.open_lake(location, store=store), names)
    lake = kit.open_lake(location, engine="spark", spark=spark, store=store)
    assert lake.engine.name == "spark"
    on_spark = run_all(lake, names)
    lake.engine.close()
    differ = []
    for name, expected in duck.items():
        got = on_spark[name]
        if isinstance(expected, str) or isinstance(got, str):
            if expected != got:
                differ.append(f"{name}: {expected!r} != {got!r}")
            continue
        try:
            if rtol is None:
                pd.testing.assert_frame_equal(got, expected, check_exact=True)
            else:
                pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=rtol, atol=0)
        except AssertionError as exc:
            differ.append(f"{name}: {exc}")
    assert not differ, "\n\n".join(differ)
    return duck


def test_sample_lake(spark):
    duck = assert_same(SAMPLE, spark, ONCE)
    assert len(duck["changes"]) > 1000 and not isinstance(duck["anomalies"], str)


def test_fabric_layout(spark, tmp_path):
    dest = tmp_path / "fabric"
    assert sample.main([str(dest), "--days", "7", "--scale", "0.2", "--layout", "fabric"]) == 0
    assert_same(dest, spark, ONCE)


def test_table_without_feed_uses_the_add_file_diff(spark, tmp_path):
    account_timeline(os.path.join(tmp_path, "deltalake", "account_partitioned"), change_feed=False)
    assert kit.open_lake(tmp_path).coverage("account").method == "add_diff"
    assert_same(tmp_path, spark)


def test_deletion_vectors(spark, tmp_path):
    from test_plan import dv_timeline, table_path

    dv_timeline(table_path(tmp_path))
    lake = kit.open_lake(tmp_path)
    assert "deletionVectors" in lake["account"].reader_features
    duck = assert_same(tmp_path, spark)
    # The deleted rows stay out of the snapshot on Spark too (A3 replaced A2, C3 was purged).
    assert list(duck["live"]["Id"]) == ["A", "D", "E", "F", "G"]


def test_deletion_vectors_without_feed(spark, tmp_path):
    from test_plan import dv_timeline, table_path

    path = table_path(tmp_path)
    dv_timeline(path)
    shutil.rmtree(os.path.join(path, "_change_data"))
    DeltaTable(path).metadata()
    log0 = os.path.join(path, "_delta_log", f"{0:020d}.json")
    text = open(log0).read().replace('"delta.enableChangeDataFeed": "true"', '"delta.enableChangeDataFeed": "false"')
    open(log0, "w").write(text.replace('"delta.enableChangeDataFeed":"true"', '"delta.enableChangeDataFeed":"false"'))
    assert kit.open_lake(tmp_path).coverage("account").method == "add_diff"
    assert_same(tmp_path, spark)


def test_column_mapping_is_refused_clearly(spark, fixtures_dir):
    lake = kit.open_lake(os.path.join(fixtures_dir, "delta", "deltars__table_with_column_mapping"), engine="spark", spark=spark)
    with pytest.raises(KitError, match="column mapping"):
        lake.sql(f'select count(*) from "{lake.table_names[0]}"').fetchall()


def test_engine_choice(spark, monkeypatch):
    monkeypatch.setenv("KIT_ENGINE", "spark")
    assert kit.open_lake(SAMPLE).engine.name == "spark"
    monkeypatch.setenv("KIT_ENGINE", "duckdb")
    assert kit.open_lake(SAMPLE).engine.name == "duckdb"
    assert kit.open_lake(SAMPLE, spark=spark).engine.name == "spark"
    with pytest.raises(KitError, match="engine='cobol'"):
        kit.open_lake(SAMPLE, engine="cobol")
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_sample_lake_with_its_store(spark):
    """The store (a DuckDB file on the driver) under the Spark engine: its rows go to the
    session once per table, and every analysis gives the DuckDB engine's 28 exact days."""
    # throughput's days_to_limit is a least-squares fit over the 28 exact days: the two engines
    # sum its terms in another order, so it may differ in the last bits (a relative 1e-13).
    assert_same(SAMPLE, spark, ["sync_latency", "change_volume", "throughput", "changes"],
                store=os.path.join(ROOT, "sample_store.duckdb"), rtol=1e-12)


def test_collect_on_spark_records_what_duckdb_records(spark, tmp_path):
    """A collect whose increment is computed on Spark and merged into the store on the driver."""
    import duckdb

    lake_dir = tmp_path / "lake"
    account_timeline(str(lake_dir / "account"))
    stores = {}
    for engine in ("duckdb", "spark"):
        stores[engine] = tmp_path / f"{engine}.duckdb"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opened = kit.open_lake(lake_dir, engine=engine, spark=spark if engine == "spark" else None,
                                   store=stores[engine])
            result = opened.collect()
        assert int(result["changes_added"].sum()) > 0
    rows = 'select * from landings order by "table", id, versionnumber'
    with duckdb.connect(str(stores["duckdb"]), read_only=True) as a, duckdb.connect(str(stores["spark"]), read_only=True) as b:
        pd.testing.assert_frame_equal(a.sql(rows).df(), b.sql(rows).df())
