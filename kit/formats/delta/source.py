"""How one Delta table is read: its log, its read path, its history and its change feed.

A ``DeltaSource`` opens nothing until asked. Its log is read on first use and cached.

Read paths (measured on a 10M-row table: see README):

- ``parquet``: DuckDB scans the snapshot's parquet files itself; partition values come from the
  log, typed by the Delta schema (so ``PartitionId`` stays a string); timestamps are cast to the
  Delta type (INT96 values at 9999-12-31 stay 9999-12-31). Only for local tables whose protocol
  has no deletion vectors, column mapping or V2 checkpoints: with those, the parquet files alone
  do not say which rows are live or what the columns are called.
- ``dataset``: deltalake's pyarrow dataset, for remote tables (DuckDB cannot reach Azure storage
  itself here) without column mapping, deletion vectors or V2 checkpoints; INT96 timestamps are
  read as microseconds, so 9999-12-31 stays 9999-12-31.
- ``deltalake``: deltalake's own scan (``DeltaTable.scan()``), streamed into DuckDB afresh for each
  query. Honours deletion vectors, column mapping and V2 checkpoints. It overflows INT96
  timestamps outside 1677-2262, so a local table on this path holding such values is refused.

A data file the log names but the disk lacks is reported when the view is created (local tables),
by name, rather than as a library error in the middle of a query.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import cached_property
from urllib.parse import unquote, urlparse

import pyarrow as pa

from ...engines.sql import literal, quote
from ...errors import KitError, UnreadableTableError
from ...storage import Storage
from ..discovery import TableLocation
from .errors import broken_checkpoint, percent_in_path, translate_error
from .types import sql_type
from .log import COMMIT_FILE, METRIC_NAMES, Commit, commit_metrics, parse_commit

_SCAN_FEATURES = {
    "deletionVectors",
    "columnMapping",
    "v2Checkpoint",
    "timestampNtz",
    "variantType",
    "variantType-preview",
    "vacuumProtocolCheck",
    "domainMetadata",
    "rowTracking",
    "checkpointProtection",
}
# Reader features for which deltalake's pyarrow dataset refuses the table.
_DATASET_REFUSES = {"deletionVectors", "v2Checkpoint"}
# Of those, the ones the parquet fast path can also read correctly.
_PARQUET_FEATURES = {"timestampNtz", "vacuumProtocolCheck", "domainMetadata", "rowTracking", "checkpointProtection"}


class DeltaSource:
    """One Delta table of a lake, opened lazily."""

    #: The engine that reads it (``duckdb`` or ``spark``): the lake sets it. Spark reads remote
    #: files itself (through the cluster's own storage connector).
    engine = "duckdb"

    def __init__(self, location: TableLocation, storage: Storage):
        self.location = location
        self.name = location.name
        self.uri = location.uri
        self.storage = storage

    def __repr__(self) -> str:
        return f"DeltaSource({self.name!r}, {self.uri!r})"

    # -- opening ------------------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> UnreadableTableError:
        self.storage.observe(exc)  # a storage that stopped answering is not asked again
        return translate_error(self.name, exc, self.storage.secrets())

    @cached_property
    def table(self):
        """The deltalake ``DeltaTable`` at its latest version."""
        from deltalake import DeltaTable

        self.storage.check_available()
        try:
            dt = DeltaTable(self.uri, storage_options=self.storage.storage_options or None)
        except Exception as exc:
            error = self._fail(exc)
            if "not valid JSON" in str(error):
                error = self._corrupt_commit() or error
            elif "checkpoint cannot be read" in str(error):
                error = broken_checkpoint(self) or error
            elif "is missing" in str(error):
                error = percent_in_path(self) or error
            raise error from None
        return dt

    def _corrupt_commit(self) -> UnreadableTableError | None:
        """The error naming the first commit file that is not valid JSON (deltalake does not
        say which), or None when every commit file parses."""
        log = self.uri.rstrip("/") + "/_delta_log"
        try:
            for name, _size, mtime in self.storage.list_files(log):
                m = COMMIT_FILE.match(name)
                if m:
                    parse_commit(self.name, int(m.group(1)), self.storage.read_bytes(log + "/" + name), mtime)
        except UnreadableTableError as exc:
            return exc
        except Exception:  # listing failed: keep deltalake's own message
            return None
        return None

    @cached_property
    def protocol(self):
        return self.table.protocol()

    @cached_property
    def reader_features(self) -> list[str]:
        return sorted(self.protocol.reader_features or [])

    @cached_property
    def configuration(self) -> dict[str, str]:
        return dict(self.table.metadata().configuration or {})

    @cached_property
    def table_id(self) -> str:
        """The table's unique id (``metaData.id``): a table dropped and created again under the
        same name (Fabric Link unlink and relink) has a new one, and versions from 0 again."""
        return str(self.table.metadata().id)

    @cached_property
    def partition_columns(self) -> list[str]:
        return list(self.table.metadata().partition_columns or [])

    @cached_property
    def schema_fields(self) -> list[dict]:
        return json.loads(self.table.schema().to_json())["fields"]

    @cached_property
    def columns(self) -> list[str]:
        return [f["name"] for f in self.schema_fields]

    @cached_property
    def version(self) -> int:
        """The pinned version: the newest when the table was first opened (``Lake.refresh``
        moves to a newer one by opening the table again)."""
        return self.table.version()

    @cached_property
    def column_mapping(self) -> bool:
        mode = self.configuration.get("delta.columnMapping.mode", "none")
        return mode not in ("none", "", None) or self.protocol.min_reader_version == 2

    def check_readable(self) -> None:
        """Raise UnreadableTableError naming the first reader feature deltalake cannot read."""
        for feature in self.reader_features:
            if feature not in _SCAN_FEATURES:
                raise UnreadableTableError(
                    self.name,
                    f"it uses the Delta reader feature {feature!r}, which deltalake cannot read.",
                    advice="Read it with a Spark or Fabric engine that supports the feature, or "
                    "rewrite the table without it.",
                    feature=feature,
                )
        if self.protocol.min_reader_version > 3:
            raise UnreadableTableError(
                self.name,
                f"its protocol asks for reader version {self.protocol.min_reader_version}, newer "
                "than any reader supports.",
                feature=f"readerVersion {self.protocol.min_reader_version}",
            )

    @cached_property
    def read_path(self) -> str:
        """``parquet`` (DuckDB scans the files), ``dataset`` (a pyarrow dataset from deltalake,
        for remote tables DuckDB cannot reach itself) or ``deltalake`` (deltalake's scan)."""
        self.check_readable()
        if self.column_mapping:
            # Only the scan maps physical column names (the pyarrow dataset returns NULLs).
            return "deltalake"
        if self.storage.remote:
            # deltalake's scan overflows INT96 timestamps (9999-12-31 comes back as 1816); its
            # pyarrow dataset with coerce_int96_timestamp_unit reads them right, but refuses
            # deletion vectors and V2 checkpoints, which only the scan reads.
            if set(self.reader_features) & _DATASET_REFUSES:
                return "deltalake"
            return "dataset"
        if set(self.reader_features) - _PARQUET_FEATURES:
            return "deltalake"
        return "parquet"

    # -- snapshot files -----------------------------------------------------------------------
    @cached_property
    def add_actions(self) -> pa.Table:
        try:
            return pa.table(self.table.get_add_actions(flatten=True))
        except Exception as exc:
            raise self._fail(exc) from None

    def data_uri(self, path: str) -> str:
        """The location of a data file from its (URL-encoded) path in the log."""
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+://", path):
            parsed = urlparse(path)
            return unquote(parsed.path) if parsed.scheme == "file" else path
        if path.startswith("/"):
            return unquote(path)
        return self.uri.rstrip("/") + "/" + unquote(path)

    @cached_property
    def file_uris(self) -> list[str]:
        """The snapshot's data files, in the order of ``add_actions`` (derived from its paths,
        so each file stays paired with its own partition values)."""
        return [self.data_uri(p) for p in self.add_actions.column("path").to_pylist()]

    def check_files_exist(self) -> None:
        """UnreadableTableError naming the first data file of the snapshot that is missing
        (remotely: one listing per partition folder)."""
        if self.__dict__.get("_files_checked"):
            return
        for uri in self.storage.missing(self.file_uris)[:1]:
            raise UnreadableTableError(
                self.name,
                f"the data file {uri.split('/')[-1]!r} named by the log is missing "
                f"(in {uri.rsplit('/', 1)[0]!r}).",
                advice="The table was vacuumed or copied incompletely; restore the file "
                "or copy the table again.",
            )
        self._files_checked = True

    @property
    def files(self) -> int:
        return self.add_actions.num_rows

    @property
    def bytes(self) -> int:
        return int(pa.compute.sum(self.add_actions.column("size_bytes")).as_py() or 0)

    def stats_rows(self) -> int | None:
        """Rows of the snapshot from the log's statistics; None when a file lacks them or
        deletion vectors hide rows the statistics still count."""
        if "deletionVectors" in self.reader_features:
            return None
        col = self.add_actions.column("num_records")
        if col.null_count:
            return None
        return int(pa.compute.sum(col).as_py() or 0)

    # -- DuckDB registration ------------------------------------------------------------------
    def register(self, con, view: str) -> None:
        """Create (or replace) the engine view ``view`` over this table's latest snapshot
        (``con``: a DuckDB connection, or the Spark engine: ``formats.delta.spark``)."""
        if getattr(con, "name", None) == "spark":
            from .spark import register

            try:
                self.check_readable()
                self.check_files_exist()
                register(self, con, view)
            except KitError:
                raise
            except Exception as exc:
                raise self._fail(exc) from None
            return
        try:
            path = self.read_path
            # A missing file is reported here, by name, rather than as a library error in the
            # middle of some later query.
            self.check_files_exist()
            dataset = self._dataset() if path == "dataset" else None
            if path == "parquet":
                sql = self._parquet_view_sql(con)
            elif dataset is not None:
                source = f"__kit_dataset_{abs(hash(self.uri))}"
                con.register(source, dataset)
                sql = f"select * from {quote(source)}"
            else:
                self._check_int96_for_scan(con)
                source = f"__kit_scan_{abs(hash(self.uri))}"
                con.register(source, ScanFactory(self))
                sql = f"select * from {quote(source)}"
            con.execute(f"create or replace view {quote(view)} as {sql}")
        except Exception as exc:
            raise self._fail(exc) from None

    def _dataset(self):
        """deltalake's pyarrow dataset with INT96 timestamps read as microseconds; None when
        deltalake refuses the table's reader features (then its scan reads it)."""
        import pyarrow.dataset as pds
        from deltalake.exceptions import DeltaProtocolError

        options = pds.ParquetReadOptions(coerce_int96_timestamp_unit="us")
        try:
            return self.table.to_pyarrow_dataset(parquet_read_options=options)
        except DeltaProtocolError:
            return None
        except Exception as exc:
            if "reader features" in str(exc):
                return None
            raise

    def _check_int96_for_scan(self, con) -> None:
        """deltalake's scan reads INT96 timestamps as nanoseconds and silently overflows those
        outside 1677-2262 (9999-12-31 comes back as 1816-03-29). Where the scan is the only
        correct reader (deletion vectors, column mapping, V2 checkpoints), refuse such a table
        rather than return wrong dates. Local tables only; DuckDB reads INT96 right."""
        if self.storage.remote or not self.file_uris:
            return
        if not any(f["type"] == "timestamp" for f in self.schema_fields):
            return
        files = "[" + ", ".join(literal(u) for u in self.file_uris) + "]"
        int96 = [
            r[0]
            for r in con.execute(
                f"select distinct name from parquet_schema({files}) where type = 'INT96'"
            ).fetchall()
        ]
        for column in int96:
            # Deleted rows are included here: the check errs on the side of refusing.
            (outside,) = con.execute(
                f"select count(*) from read_parquet({files}, union_by_name = true) "
                f"where {quote(column)} not between TIMESTAMP '1677-09-22' and TIMESTAMP '2262-04-11'"
            ).fetchall()[0]
            if outside:
                raise UnreadableTableError(
                    self.name,
                    f"its column {column!r} holds INT96 timestamps outside 1677-2262 (such as "
                    "9999-12-31), and the table's features "
                    f"({', '.join(self.reader_features) or 'column mapping'}) leave deltalake's scan "
                    "as the only reader, which overflows such values into wrong dates.",
                    advice="Read it with Spark or Fabric, or rewrite the column as INT64 timestamps.",
                    feature="INT96 timestamps",
                )

    def _parquet_view_sql(self, con) -> str:
        fields = self.schema_fields
        parts = set(self.partition_columns)
        uris = self.file_uris
        if not uris:
            cols = ", ".join(
                f"CAST(NULL AS {sql_type(f['type']) or 'VARCHAR'}) AS {quote(f['name'])}" for f in fields
            )
            return f"select {cols} where false"
        actions = self.add_actions
        # Group files by their partition values, so each group gets typed literal columns.
        groups: dict[tuple, list[str]] = {}
        part_values = [
            actions.column(f"partition.{p}").to_pylist() if f"partition.{p}" in actions.column_names else [None] * len(uris)
            for p in self.partition_columns
        ]
        for i, uri in enumerate(uris):
            key = tuple(vals[i] for vals in part_values)
            groups.setdefault(key, []).append(uri)
        type_of = {f["name"]: sql_type(f["type"]) for f in fields}
        wanted = {f["name"] for f in fields}
        # Which columns each group's files hold: files written before a column was added lack
        # it, and a group (a partition) may hold only such files.
        group_columns = self._parquet_columns(con, list(groups.values()))
        present: set[str] = set()
        select_sqls = []
        for (key, files), columns in zip(groups.items(), group_columns):
            file_list = "[" + ", ".join(literal(u) for u in files) + "]"
            scan = f"read_parquet({file_list}, union_by_name = true, hive_partitioning = false)"
            cols = [c for c in columns if c not in parts and c in wanted]
            present.update(cols)
            inner_cols = [quote(c) for c in cols]
            for col, value in zip(self.partition_columns, key):
                typ = type_of.get(col) or "VARCHAR"
                if value is None:
                    inner_cols.append(f"CAST(NULL AS {typ}) AS {quote(col)}")
                else:
                    if isinstance(value, datetime) and value.tzinfo is None:
                        value = value.replace(tzinfo=timezone.utc)
                    inner_cols.append(f"CAST({literal(value)} AS {typ}) AS {quote(col)}")
            if not inner_cols:  # a table whose only columns are missing from these files
                inner_cols = ["1 AS __kit_no_column"]
            select_sqls.append(f"select {', '.join(inner_cols)} from {scan}")
        # UNION ALL BY NAME fills a column that a group lacks with NULL.
        union = "\nunion all by name\n".join(select_sqls)
        projection = []
        for f in fields:
            name, typ = f["name"], sql_type(f["type"])
            if name not in present and name not in parts:
                projection.append(f"CAST(NULL AS {typ or 'VARCHAR'}) AS {quote(name)}")
            elif typ in ("TIMESTAMPTZ", "TIMESTAMP") and name not in parts:
                projection.append(f"CAST({quote(name)} AS {typ}) AS {quote(name)}")
            else:
                projection.append(quote(name))
        return f"select {', '.join(projection)} from (\n{union}\n)"

    def _parquet_columns(self, con, groups: list[list[str]]) -> list[list[str]]:
        """The top-level columns of each group of parquet files (read from their footers, on
        the lake's connection: a fresh DuckDB connection per table costs ~35 ms)."""
        out = []
        try:
            for uris in groups:
                file_list = "[" + ", ".join(literal(u) for u in uris) + "]"
                top = con.execute(
                    f"describe select * from read_parquet({file_list}, union_by_name = true, hive_partitioning = false)"
                ).fetchall()
                out.append([r[0] for r in top])
        except Exception as exc:
            raise self._fail(exc) from None
        return out

    # -- the log ------------------------------------------------------------------------------
    @cached_property
    def plan(self):
        """The landing planner over this table's pinned version (``formats.delta.plan``)."""
        from .plan import TablePlan

        # Open the table first: a log deltalake refuses (a gap after the last checkpoint, a
        # corrupt checkpoint, an unsupported feature) must not yield a history that looks fine.
        version = self.version
        return TablePlan(self.name, self.uri, self.storage, version, self.configuration)

    @property
    def commits(self) -> list[Commit]:
        """Every commit whose JSON file is still in the log, oldest first, up to the pinned
        version (a commit another writer made since is not this snapshot's)."""
        return self.plan.commits

    @property
    def last_commit(self) -> Commit:
        return self.plan.last

    @property
    def first_commit(self) -> Commit:
        return self.plan.first

    @property
    def reads_files(self) -> bool:
        """True when the engine reads the planned data files itself: a local table whose
        files hold the columns under their logical names (no column mapping). Spark reads
        remote files itself too."""
        return (not self.storage.remote or self.engine == "spark") and not self.column_mapping

    def history(self):
        """One row per commit; see ``Lake.history`` for the columns."""
        import pandas as pd

        rows = []
        for c in self.commits:
            m = commit_metrics(c)
            rows.append(
                {
                    "version": c.version,
                    "committed_at": c.committed_at,
                    "operation": c.operation,
                    "data_change": c.data_change,
                    **m,
                }
            )
        df = pd.DataFrame(rows)
        df["version"] = df["version"].astype("int64")
        df["committed_at"] = pd.to_datetime(df["committed_at"], utc=True).astype("datetime64[us, UTC]")
        df["data_change"] = df["data_change"].astype(bool)
        for col in METRIC_NAMES:
            df[col] = df[col].astype("Int64")
        return df

    # -- the relations the layers above see (formats.base.TableSource) -------------------------
    def changes_sql(self, con, view: str, methods=None, *, method: str | None = None) -> str:
        """SQL of the ``changes`` relation (``formats.delta.changes``); ``methods``: only the
        changes of these methods (None: all); ``method``: force ``add_diff`` or ``snapshot``."""
        from .changes import changes_sql

        return changes_sql(con, self, view, method=method, methods=methods)

    def coverage(self):
        from .changes import coverage

        return coverage(self)

    def increment(self, con, after: int | None, after_table_id: str | None):
        """What the commits after version ``after`` of table ``after_table_id`` landed
        (``formats.delta.changes.Increment``), for a store's collect."""
        from .changes import increment

        return increment(con, self, after, after_table_id)

    def syncs(self) -> list[dict]:
        """The sync commits (``formats.delta.syncs``), oldest first."""
        from .syncs import sync_rows

        return sync_rows(self.commits)

    # -- change data feed ---------------------------------------------------------------------
    @cached_property
    def change_feed_enabled(self) -> bool:
        return self.configuration.get("delta.enableChangeDataFeed", "false").lower() == "true"

    @cached_property
    def feed_start(self) -> int | None:
        """The earliest version from which the change data feed is complete to the pinned
        version: the feed was on and every file it needs still exists. None: no usable feed."""
        if not self.change_feed_enabled:
            return None
        return self.plan.feed_start(need_removes=not self.reads_files)

    def feed_reader(self, columns: list[str], starting_version: int):
        """A fresh stream of the change data feed from ``starting_version`` to the pinned
        version (read once), through deltalake's ``load_cdf``: the path for tables whose files
        the engine cannot read itself (remote, column mapping)."""
        try:
            return self.table.load_cdf(
                starting_version=starting_version,
                ending_version=self.version,
                # load_cdf needs mixed-case names quoted, but not its own metadata columns.
                columns=[c if c in _FEED_COLUMNS else quote(c) for c in columns],
            )
        except Exception as exc:
            raise self._fail(exc) from None


def prefetch(sources) -> None:
    """Open remote tables in parallel (log, latest commit, snapshot files, the missing-file
    check) before they are used one by one: each step waits on the network, not the CPU.
    Errors are left for the caller's own pass over the tables, which meets and reports them."""
    sources = list(sources)
    if len(sources) < 2 or not sources[0].storage.remote:
        return

    def one(source):
        try:
            source.table, source.last_commit, source.add_actions, source.read_path  # noqa: B018
            source.check_files_exist()
        except Exception:  # noqa: BLE001 - reported by the caller's pass
            pass

    sources[0].storage.map(one, sources)


class ScanFactory:
    """An Arrow stream source DuckDB can scan any number of times: each scan asks deltalake
    for a fresh stream of the latest snapshot (deletion vectors and column mapping honoured)."""

    def __init__(self, source: DeltaSource):
        self._source = source

    def __repr__(self) -> str:
        return f"ScanFactory({self._source.name!r})"

    def __arrow_c_stream__(self, requested_schema=None):
        try:
            reader = self._source.table.scan()
        except Exception as exc:
            raise self._source._fail(exc) from None
        return reader.__arrow_c_stream__(requested_schema)


_FEED_COLUMNS = {"_change_type", "_commit_version", "_commit_timestamp"}
