"""Apache Spark: the engine for lakes that outgrow one machine.

``SparkEngine`` runs the kit's SQL (written once, in DuckDB's dialect: ``engines.sql``) on a
SparkSession, transpiled by ``engines.spark_sql``. The lake's tables are temporary views over
the data files the planner lists (``formats.delta.spark``); only aggregated results come back
to the driver, as pandas with the same dtypes as DuckDB's (``SparkRelation.df``).

The session: the one passed in, else the active one (a Fabric, Synapse or Databricks
notebook's ``spark``), else a local one the kit starts (``local[*]``, loopback only:
``SPARK_LOCAL_IP=127.0.0.1`` unless set; 25-50 s to start on 2 cores). Every session is set to
UTC (``spark.sql.session.timeZone``) and to read parquet dates and INT96 timestamps as written
(``CORRECTED``), as the DuckDB engine reads them.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from contextlib import contextmanager

from ..errors import KitError

#: The pyspark the kit is tested with (requirements-dev.txt).
PYSPARK_PIN = "pyspark==4.3.0"

_SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    # Partition values come from the Delta log, typed by the table's schema, never from paths.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
_LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    # The planned files are listed one by one (a status call each), not by a Spark job.
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    # Local mode: the driver is the only executor, and its memory also holds the cached
    # changes; a broadcast that does not fit fails the query, where a sort-merge join spills.
    "spark.sql.autoBroadcastJoinThreshold": "-1",
}
_lock = threading.Lock()
#: The column sqlglot adds to express DuckDB's QUALIFY in Spark (a subquery filtered on it).
_QUALIFY_COLUMN = "_w"


@contextmanager
def _quiet():
    """pyspark 4.3 warns on each pandas conversion that it does not fully support pandas 3: the
    kit converts through Arrow only, and that warning would otherwise land in every notebook
    and report run on Spark (and in none on DuckDB)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        yield


def _pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError:
        raise KitError(
            f"engine='spark' needs pyspark: pip install {PYSPARK_PIN} (and a Java 17 runtime, "
            "e.g. apt-get install openjdk-17-jre-headless). On Fabric, Synapse or Databricks "
            "pyspark is already there: pass the notebook's session, open_lake(..., spark=spark)."
        ) from None
    return SparkSession


def session(spark=None):
    """The SparkSession to run on: ``spark``, else the active session, else a local one
    started now (loopback only). Raises KitError when pyspark or Java is missing."""
    with _quiet():
        return _session(spark)


def _session(spark):
    SparkSession = _pyspark()
    if spark is None:
        spark = SparkSession.getActiveSession()
    if spark is None:
        with _lock:
            spark = SparkSession.getActiveSession()
            if spark is None:
                spark = _local_session(SparkSession)
    for key, value in _SESSION_CONF.items():
        spark.conf.set(key, value)
    return spark


def _local_session(SparkSession):
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(os.environ.get("KIT_SPARK_MASTER", "local[*]")).appName("kit")
    for key, value in {**_LOCAL_CONF, **_SESSION_CONF}.items():
        builder = builder.config(key, value)
    # Local mode runs the executors in the driver's JVM: 1 GB (Spark's default) is short for a
    # broadcast join next to cached changes.
    builder = builder.config("spark.driver.memory", os.environ.get("KIT_SPARK_DRIVER_MEMORY", "2g"))
    try:
        return builder.getOrCreate()
    except Exception as exc:  # no Java, or the JVM failed to start
        raise KitError(
            f"Could not start a local Spark session ({str(exc).splitlines()[0][:300]}). It needs a "
            "Java 17 runtime on PATH or JAVA_HOME (apt-get install openjdk-17-jre-headless)."
        ) from None


class SparkRelation:
    """The lazy result of ``SparkEngine.sql``: DuckDB relation's reading methods over a Spark
    DataFrame (``df``, ``fetchall``, ``arrow``, ``order``, ``select``, ``limit``, ``columns``).
    Results come back through Arrow and are typed as DuckDB types them (TIMESTAMP in UTC ->
    ``datetime64[us, UTC]``, BIGINT -> int64, or float64 when NULLs are present...)."""

    def __init__(self, engine: "SparkEngine", query: str, frame):
        self._engine, self.query, self.frame = engine, query, frame

    def __repr__(self) -> str:
        return f"SparkRelation({self.columns})"

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def arrow(self):
        """The result as a pyarrow Table (collected on the driver)."""
        with _quiet():
            return self.frame.toArrow()

    def _duck(self):
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        return con, con.from_arrow(self.arrow())

    def df(self):
        """The result as pandas, with DuckDB's dtypes for the same column types."""
        con, rel = self._duck()
        try:
            return rel.df()
        finally:
            con.close()

    fetchdf = df

    def fetchall(self) -> list[tuple]:
        con, rel = self._duck()
        try:
            return rel.fetchall()
        finally:
            con.close()

    def order(self, expr: str) -> "SparkRelation":
        return self._engine.sql(f"select * from ({self.query}) order by {expr}")

    def select(self, expr: str) -> "SparkRelation":
        return self._engine.sql(f"select {expr} from ({self.query})")

    def aggregate(self, exprs: str, groups: str = "") -> "SparkRelation":
        group = f" group by {groups}" if groups else ""
        return self._engine.sql(f"select {exprs} from ({self.query}){group}")

    def limit(self, n: int) -> "SparkRelation":
        return self._engine.sql(f"select * from ({self.query}) limit {int(n)}")


_CREATE_VIEW = re.compile(r"^\s*create\s+or\s+replace\s+view\s+(\"(?:[^\"]|\"\")+\"|\w+)\s+as\s+(.*)$", re.I | re.S)
_CREATE_TEMP = re.compile(r"^\s*create\s+(?:or\s+replace\s+)?temp(?:orary)?\s+table\s+(\"(?:[^\"]|\"\")+\"|\w+)\s+as\s+(.*)$", re.I | re.S)
_DROP = re.compile(r"^\s*drop\s+(?:table|view)\s+if\s+exists\s+(\"(?:[^\"]|\"\")+\"|\w+)\s*$", re.I | re.S)


def _name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token


class SparkEngine:
    """A SparkSession as the kit's engine (``engines.base.Engine``). ``sql`` takes the kit's
    DuckDB SQL and runs it transpiled; views and temporary tables are Spark temporary views
    (a temporary table is a persisted view: memory, then disk)."""

    name = "spark"

    def __init__(self, spark=None):
        self.spark = session(spark)
        self._views: set[str] = set()
        self._persisted: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"SparkEngine({self.spark.version})"

    @property
    def connection(self) -> "SparkEngine":
        """The engine itself: it answers ``sql``, ``execute`` and ``register`` as a DuckDB
        connection does, for the lake's few direct uses."""
        return self

    def sql(self, query: str, params=None) -> SparkRelation:
        if params is not None:
            raise KitError("SQL parameters are not supported on the Spark engine: put the values in the SQL text.")
        from .spark_sql import to_spark

        with _quiet():
            frame = self.spark.sql(to_spark(query))
        if _QUALIFY_COLUMN in frame.columns and not re.search(rf"\b{_QUALIFY_COLUMN}\b", query):
            # Spark has no QUALIFY: sqlglot filters on a window column of its own, which a
            # ``select *`` over the filtered rows would otherwise return.
            frame = frame.drop(_QUALIFY_COLUMN)
        return SparkRelation(self, query, frame)

    def execute(self, statement: str) -> None:
        m = _CREATE_VIEW.match(statement)
        if m:
            self.view(_name(m.group(1)), self.sql(m.group(2)).frame)
            return
        m = _CREATE_TEMP.match(statement)
        if m:
            from pyspark import StorageLevel

            name = _name(m.group(1))
            frame = self.sql(m.group(2)).frame.persist(StorageLevel.MEMORY_AND_DISK)
            self._persisted[name] = frame
            self.view(name, frame)
            return
        m = _DROP.match(statement)
        if m:
            name = _name(m.group(1))
            frame = self._persisted.pop(name, None)
            if frame is not None:
                frame.unpersist()
            self.spark.catalog.dropTempView(name)
            self._views.discard(name)
            return
        from .spark_sql import to_spark

        self.spark.sql(to_spark(statement))

    def view(self, name: str, frame) -> None:
        """Expose a Spark DataFrame as the temporary view ``name``."""
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def register(self, name: str, data) -> None:
        """Expose a small Arrow table or pandas frame the kit built on the driver (a plan, a
        list of sync commits, labels) as the view ``name``."""
        import pyarrow as pa

        if hasattr(data, "__arrow_c_stream__") and not isinstance(data, pa.Table) and not hasattr(data, "columns"):
            raise KitError(
                "The Spark engine does not pull a stream onto the driver: this table's rows can be "
                "read only through deltalake here (column mapping). Use engine='duckdb' for it."
            )
        if not isinstance(data, pa.Table):
            data = pa.Table.from_pandas(data, preserve_index=False)
        with _quiet():
            self.view(name, self.spark.createDataFrame(data))

    def scratch(self):
        """A DuckDB engine for the small frames the kit computed on the driver (scores over an
        hourly series, gaps between commits): they never hold a table's rows."""
        from .duckdb import DuckDBEngine

        return DuckDBEngine()

    def close(self) -> None:
        """Drop the views and persisted tables this engine made; the session stays (it may be
        the notebook's, or shared by other lakes)."""
        for frame in self._persisted.values():
            try:
                frame.unpersist()
            except Exception:  # noqa: BLE001 - the session may be gone already
                pass
        self._persisted.clear()
        for name in list(self._views):
            try:
                self.spark.catalog.dropTempView(name)
            except Exception:  # noqa: BLE001
                pass
        self._views.clear()
