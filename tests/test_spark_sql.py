"""Every SQL text the analyses and the formats produce has a Spark spelling: transpiled
(``kit.engines.spark_sql.to_spark``), it calls only functions Spark has. Needs no Spark: it
records the SQL of a full report run on the DuckDB engine (sample lake, a table with deletion
vectors, a table without a feed) and transpiles each text; a DuckDB function left untranslated
fails here, by name, before any Spark test runs."""

import os
import warnings

import pytest
from lakebuilder import account_timeline

import kit
import kit.lake
from kit.engines.spark_sql import check_functions, to_spark
from kit.errors import KitError
from kit.report import collect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Recorder:
    """A DuckDB connection that records every SQL text run on it."""

    def __init__(self, con, seen):
        self._con, self._seen = con, seen

    def sql(self, query, params=None):
        self._seen.append(query)
        return self._con.sql(query) if params is None else self._con.sql(query, params=params)

    def execute(self, query, *args):
        self._seen.append(query)
        return self._con.execute(query, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def recorded(location) -> list[str]:
    seen: list[str] = []
    lake = kit.open_lake(location)
    lake._con = Recorder(lake._con, seen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collect(lake)
        for name in lake.dataverse_tables():
            lake.live(name).fetchall()
    # DuckDB's own file reading (read_parquet, describe) is replaced on Spark by
    # formats.delta.spark, which reads the same files; the SQL over them is transpiled.
    return [q for q in dict.fromkeys(seen) if "read_parquet(" not in q and "parquet_schema(" not in q]


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    from test_plan import dv_timeline, table_path

    dv = tmp_path_factory.mktemp("dv")
    dv_timeline(table_path(dv))
    nofeed = tmp_path_factory.mktemp("nofeed")
    account_timeline(os.path.join(nofeed, "deltalake", "account_partitioned"), change_feed=False)
    out = []
    for location in (os.path.join(ROOT, "sample_lake"), dv, nofeed):
        out += recorded(location)
    return list(dict.fromkeys(out))


def test_every_sql_text_has_a_spark_spelling(texts):
    assert len(texts) > 30
    untranslated = {}
    for text in texts:
        for name in check_functions(to_spark(text)):
            untranslated.setdefault(name, text[:200])
    assert not untranslated, untranslated


@pytest.mark.parametrize("duck, spark", [
    ("epoch_us(t)", "UNIX_MICROS(t)"),
    ("make_timestamptz(n)", "TIMESTAMP_MICROS(n)"),
    ("epoch(a - b)", "((UNIX_MICROS(a) - UNIX_MICROS(b)) / 1e6)"),
    ("epoch(t)", "(UNIX_MICROS(t) / 1e6)"),
    ("isodow(t)", "(WEEKDAY(t) + 1)"),
    ("first(d order by n desc, d)", "MIN_BY(d, STRUCT(-(n), d))"),
    ("TIMESTAMPTZ '1970-01-01 00:00:00+00'", "CAST('1970-01-01 00:00:00+00:00' AS TIMESTAMP)"),
])
def test_rewrites(duck, spark):
    assert to_spark(f"select {duck}") == f"SELECT {spark}"


@pytest.mark.parametrize("duck, q", [("quantile_cont(x, 0.9) filter (where f)", "0.9"), ("median(x)", "0.5")])
def test_quantiles_interpolate_as_duckdb(duck, q):
    out = to_spark(f"select {duck} from t")
    assert "ARRAY_SORT(COLLECT_LIST(CAST(x AS DOUBLE))" in out and f"CAST({q} AS DOUBLE)" in out
    assert "REFLECT('java.lang.Math', 'fma'" in out and "PERCENTILE" not in out
    assert ("FILTER(WHERE f)" in out) == ("filter" in duck)


def test_nested_ctes_stay_in_place():
    sql = "select * from (with a as (select 1 x) select * from a) union all select * from (with a as (select 2 x) select * from a)"
    assert to_spark(sql).count("WITH a AS") == 2


def test_untranslatable_sql_is_a_kit_error():
    with pytest.raises(KitError, match="no Spark spelling"):
        to_spark("select time_bucket(interval 1 month, t) from x")


def test_spark_without_pyspark_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(KitError, match=r"pip install pyspark==4\.3\.0.*Java 17"):
        kit.open_lake(os.path.join(ROOT, "sample_lake"), engine="spark")


def test_the_default_engine_needs_no_spark(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.delenv("KIT_ENGINE", raising=False)
    lake = kit.open_lake(os.path.join(ROOT, "sample_lake"))
    assert lake.engine.name == "duckdb" and len(kit.sync_latency(lake, "account", by=None)) == 1
