"""The lake: every exported table as a DuckDB view, with its log, history and Dataverse meaning.

>>> lake = kit.open_lake("sample_lake")
>>> lake.tables()                        # what is there, how big, how fresh
>>> lake.sql("select count(*) from account").fetchall()
>>> lake.changes("account").df()         # one row per landed row version
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager
from datetime import datetime

import duckdb
import pandas as pd

from .dataverse import fno_sql, is_deleted_sql, labels_sql, latest_order_sql, live_sql, require_columns, table_kind
from .engines.sql import quote
from .formats.delta.errors import translate_error
from .formats.delta.source import DeltaSource, prefetch
from .engines.duckdb import DuckDBEngine
from .errors import KitError, SkippedTableWarning, StoreError, TableNotFoundError
from .formats.base import SYNC_COLUMNS, Coverage
from .formats.discovery import discover
from .storage import Storage, storage_options_from_env
from .store import Store, StoredTable
from .store.store import merged_changes_sql, stored_coverage

# A double-quoted identifier or a bare word, for finding the tables a query names.
_IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')

_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist")


def _method_where(methods) -> str:
    if methods is None:
        return ""
    methods = ["add_diff" if m == "history" else m for m in methods]  # its earlier name
    return " where method in (" + ", ".join("'" + str(m).replace("'", "''") + "'" for m in methods) + ")"

TABLE_COLUMNS = (
    "table", "layout", "kind", "version", "last_commit", "time_source", "files", "bytes", "rows",
    "live_rows", "deleted_rows", "change_feed", "reader_features", "error",
)


def open_lake(location, *, storage_options: dict[str, str] | None = None, store=None,
              cache_changes: bool = False, engine: str | None = None, spark=None) -> "Lake":
    """Open a lake: a local folder or an Azure storage / OneLake URI.

    Finds every table (Synapse Link Delta, Fabric Link, a folder of Delta tables, or a single
    Delta table); reads no table log until the table is used. ``storage_options`` are passed to
    deltalake's object store (account name, key, SAS token with or without its ``?``, service
    principal...); for a URI without them, the environment: ``AZURE_STORAGE_ACCOUNT_NAME`` /
    ``_ACCOUNT_KEY`` / ``_SAS_TOKEN`` / ``_TOKEN``, ``AZURE_CLIENT_ID`` / ``_CLIENT_SECRET`` /
    ``AZURE_TENANT_ID`` / ``AZURE_FEDERATED_TOKEN_FILE``, ``AZURE_USE_AZURE_CLI``, and
    ``AZURE_STORAGE_USE_EMULATOR`` (Azurite). Credentials never appear in a repr, a log or an
    error. Every remote call is bounded: ``KIT_STORAGE_CONNECT_TIMEOUT`` and
    ``KIT_STORAGE_TIMEOUT`` (seconds; or ``timeout`` / ``connect_timeout`` in the options).
    Raises ``LakeNotFoundError`` when nothing is found.

    Each table is pinned at its newest version when first used: every result of the lake
    (``tables``, ``history``, ``changes``, every analysis) describes that version, whatever
    other writers commit meanwhile; ``Lake.refresh()`` moves every table to its newest version.

    ``store``: the path of the kit's store (a DuckDB file, never inside the lake; created by the
    first ``Lake.collect()``). With a store, ``changes()`` and every analysis cover the whole
    collected history exactly, as if the change feed had never been vacuumed, plus the commits
    not collected yet; ``coverage()`` reports the exact span and any gap. None: the lake alone
    (exact only as far back as its change feed reaches). Notebooks and the CLI read
    ``KIT_STORE``; ``open_lake`` reads no environment for it.

    ``cache_changes``: keep each table's ``changes()`` in a DuckDB temporary table once computed
    (see ``Lake.changes_sql``). The default (False) computes them inside each query, where
    DuckDB reads only the columns and rows the query needs: faster for one analysis, and
    less memory; True pays off only when many analyses run on the same large tables (or use
    ``with lake.sharing_changes():`` around them, as the report does).

    ``engine``: where the SQL runs: ``"duckdb"`` (embedded, the default) or ``"spark"`` (the
    changes and every analysis' aggregation on a SparkSession: ``spark``, else the active
    session, else a local one the kit starts; results are the same pandas frames). None: the
    ``KIT_ENGINE`` environment variable, else ``"duckdb"``. Passing ``spark`` alone chooses
    Spark. See ``kit.engines.spark`` and docs/DESIGN.md.
    """
    return Lake(location, storage_options=storage_options, store=store, cache_changes=cache_changes, engine=engine,
                spark=spark)


def _engine(engine: str | None, spark):
    """The engine ``open_lake`` asked for (module docstring of ``kit.engines``)."""
    import os

    if engine is None:
        engine = "spark" if spark is not None else (os.environ.get("KIT_ENGINE") or "duckdb")
    engine = str(engine).strip().lower()
    if engine == "duckdb":
        if spark is not None:
            raise KitError("spark= was given with engine='duckdb': pass engine='spark' to run on that session.")
        return DuckDBEngine()
    if engine == "spark":
        from .engines.spark import SparkEngine

        return SparkEngine(spark)
    raise KitError(f"engine={engine!r}: use 'duckdb' (embedded, the default) or 'spark'.")


class Lake:
    """An opened lake. Index it by table name to get the table's ``DeltaSource``."""

    def __init__(self, location, *, storage_options: dict[str, str] | None = None, store=None,
                 cache_changes: bool = False, engine: str | None = None, spark=None):
        if storage_options is None and "://" in str(location):
            storage_options = storage_options_from_env()
        self.storage = Storage(str(location), storage_options)
        self.location = self.storage.location
        self.store = None if store is None else Store(
            store, None if self.storage.remote else self.location, self.storage.display if self.storage.remote else None)
        self.engine = _engine(engine, spark)
        self._con = self.engine.connection
        self._cache_changes = cache_changes
        self._generation = 0
        self._open_tables()

    def _open_tables(self) -> None:
        """Find the tables and forget every table's pinned version (each is pinned again at
        its first use)."""
        found = discover(self.storage)
        self._sources = {t.name: DeltaSource(t, self.storage) for t in found.tables}
        for source in self._sources.values():
            source.engine = self.engine.name
        self._duplicates = found.duplicates
        self._registered: set[str] = set()
        self._changes_tables: dict[str, str] = {}
        self._syncs_tables: dict[str, str] = {}
        self._broken: dict[str, KitError] = {}
        self._stored: dict[str, StoredTable | None] = {}

    def refresh(self) -> "Lake":
        """Move every table to its newest version (and find tables added since): the next use
        of a table reads its log again, and every later result describes the new versions.
        Relations obtained before keep reading the old views' definitions only until their
        views are replaced; take new ones after a refresh. Returns the lake."""
        for cached in list(self._changes_tables.values()) + [s.rows for s in self._stored.values() if s]:
            self._con.execute(f"drop table if exists {quote(cached)}")
        self._generation += 1
        self._open_tables()
        return self

    @contextmanager
    def sharing_changes(self):
        """Within the block, each table's changes are computed once, into a temporary table of
        the engine, and shared by every analysis that reads them (the report runs 16 over the
        same changes); after it, the lake computes them per query again (``cache_changes``) and
        the temporary tables are dropped. One analysis alone is faster without: the engine then
        reads only the columns it needs, streaming."""
        before = self._cache_changes
        self._cache_changes = True
        try:
            yield self
        finally:
            self._cache_changes = before
            if not before:
                for cached in self._changes_tables.values():
                    self._con.execute(f"drop table if exists {quote(cached)}")
                self._changes_tables.clear()

    def __repr__(self) -> str:
        store = "" if self.store is None else f", store={str(self.store.path)!r}"
        return f"Lake({self.storage.display!r}, tables={len(self._sources)}{store})"

    # -- tables -------------------------------------------------------------------------------
    @property
    def table_names(self) -> list[str]:
        return sorted(self._sources)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._sources

    def __iter__(self):
        return iter(self.table_names)

    def __len__(self) -> int:
        return len(self._sources)

    def __getitem__(self, name: str) -> DeltaSource:
        source = self._sources.get(str(name).lower())
        if source is None:
            raise TableNotFoundError(str(name), self._sources)
        return source

    def kind(self, name: str) -> str:
        """``dataverse`` | ``finance_operations`` | ``metadata`` | ``other``."""
        source = self[name]
        return table_kind(source.name, source.columns)

    def columns(self, name: str) -> list[str]:
        """The table's column names, as its schema has them."""
        return list(self[name].columns)

    def layout(self, name: str) -> str:
        return self[name].location.layout

    # -- DuckDB -------------------------------------------------------------------------------
    def view(self, name: str) -> str:
        """Register the table's view if needed; return the view name (its logical name)."""
        source = self[name]
        if source.name not in self._registered:
            if source.name in self._duplicates:
                where = ", ".join(self._duplicates[source.name])
                warnings.warn(f"Several folders map to table {source.name!r} ({where}); using the first.", stacklevel=3)
            source.register(self._con, source.name)
            self._registered.add(source.name)
        return source.name

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, with a view for every readable table (reads every log)."""
        for name in self.table_names:
            if name in self._registered or name in self._broken:
                continue
            try:
                self.view(name)
            except KitError as exc:
                self._broken[name] = exc
        return self._con

    def sql(self, query: str, params=None) -> duckdb.DuckDBPyRelation:
        """Run SQL over the lake's tables (each is a view named by its logical name) and
        return a DuckDB relation (``.df()`` gives pandas). Only the tables the query names are
        opened. ``params`` fill ``?`` / ``$1`` placeholders."""
        try:
            names = {n.lower() for n in duckdb.get_table_names(query)}
            exact = True
        except duckdb.Error:
            # get_table_names binds the query and fails on prepared parameters and on some valid
            # queries (a CTE joined USING a column): fall back to every identifier in the query
            # that names a table of the lake.
            names = {
                (quoted.replace('""', '"') if quoted else bare).lower()
                for quoted, bare in _IDENTIFIER.findall(query)
            }
            exact = False
        unreadable: dict[str, KitError] = {}
        for name in sorted(names):
            if name in self._sources:
                try:
                    self.view(name)
                except KitError as exc:
                    if exact:
                        raise
                    unreadable[name] = exc  # may be a column that shares a table's name
        try:
            if params is not None:
                return self._con.sql(query, params=params)
            return self._con.sql(query)
        except duckdb.CatalogException as exc:
            for name, error in unreadable.items():
                if name in str(exc).lower():
                    raise error from None
            missing = _MISSING_TABLE.search(str(exc))
            if missing and missing.group(1).lower() not in self._sources:
                raise TableNotFoundError(missing.group(1), self._sources) from None
            raise

    # -- inventory ----------------------------------------------------------------------------
    def tables(self) -> pd.DataFrame:
        """One row per table. Columns:

        ``table``, ``layout`` (synapse_delta | fabric | delta), ``kind`` (dataverse |
        finance_operations | metadata | other), ``version`` (the pinned version: the newest
        when the table was first used; see ``refresh``), ``last_commit`` (UTC time of that
        commit), ``time_source`` (the clock of ``last_commit``: ``in_commit_timestamp``,
        ``commit_info`` (``commitInfo.timestamp``) or ``file_mtime`` (the commit file's
        modification time, when the commit carries no time)), ``files`` and ``bytes`` (data files of the snapshot), ``rows``
        (snapshot rows), ``live_rows`` (rows of ``live()``: latest version per Id, soft deletes
        dropped) and ``deleted_rows`` (snapshot rows with IsDelete true), both NULL for
        non-Dataverse tables; ``change_feed`` (the change data feed is on), ``reader_features``
        (comma-separated Delta reader features), ``error`` (NULL unless the table is
        unreadable: one bad table does not stop the others).
        """
        rows, counted = [], []
        prefetch(self._sources[n] for n in self.table_names)  # remote tables: in parallel
        for name in self.table_names:
            source = self._sources[name]
            row = {k: None for k in TABLE_COLUMNS}
            row.update(table=name, layout=source.location.layout)
            try:
                if self._inventory(source, row):
                    counted.append((source, row))
            except KitError as exc:
                row["error"] = str(exc)
            rows.append(row)
        self._count_rows(counted)
        df = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
        for col in ("version", "files", "bytes", "rows", "live_rows", "deleted_rows"):
            df[col] = df[col].astype("Int64")
        df["last_commit"] = pd.to_datetime(df["last_commit"], utc=True).astype("datetime64[us, UTC]")
        df["change_feed"] = df["change_feed"].astype("boolean")
        return df

    def _inventory(self, source: DeltaSource, out: dict) -> bool:
        """Fill ``out`` with what the log tells (no data read), step by step, so an unreadable
        table still shows what could be read. True when counting needs the data: a Dataverse
        table (``live_rows``, ``deleted_rows``), or statistics that do not give ``rows``."""
        kind = table_kind(source.name, source.columns)
        out.update({
            "kind": kind,
            "version": source.version,
            "files": source.files,
            "bytes": source.bytes,
            "change_feed": source.change_feed_enabled,
            "reader_features": ",".join(source.reader_features) or None,
        })
        last = source.last_commit
        out["last_commit"], out["time_source"] = last.committed_at, last.time_source
        try:  # what registering the view would refuse: unreadable features, missing files
            source.read_path  # noqa: B018
            source.check_files_exist()
        except KitError:
            raise
        except Exception as exc:
            raise translate_error(source.name, exc, self.storage.secrets()) from None
        out["rows"] = source.stats_rows()
        if kind in ("dataverse", "finance_operations") or out["rows"] is None:
            self.view(source.name)  # registered now, so a bad table's error lands in its row
            return True
        return False

    def _count_sql(self, source: DeltaSource, key: int) -> str:
        """One scan of the table's view: snapshot rows, and for a Dataverse table the rows
        with IsDelete true and the rows of ``live()`` (each Id's latest row, ordered as
        ``latest_version_sql`` orders it, when not deleted)."""
        view = quote(source.name)
        if table_kind(source.name, source.columns) not in ("dataverse", "finance_operations"):
            return f"select {key} AS k, count(*) AS total, NULL AS deleted, NULL AS live from {view}"
        cols = {c.lower(): c for c in source.columns}
        deleted = is_deleted_sql(cols["isdelete"]) if "isdelete" in cols else "false"
        return (
            f"select {key} AS k, count(*) AS total, count(*) filter (where del) AS deleted, "
            f"count(*) filter (where latest = 1 and not del) AS live from ("
            f"select {deleted} AS del, row_number() over (partition by {quote(cols['id'])} order by {latest_order_sql(source.columns)}) AS latest "
            f"from {view})"
        )

    def _count_rows(self, counted: list) -> None:
        """``rows``, ``deleted_rows`` and ``live_rows`` of the tables that need data, in one
        query over their views (a query per table only when that one fails, so a corrupt data
        file is reported in its own table's row)."""
        if not counted:
            return

        def fill(results):
            for k, total, deleted, live in results:
                _, row = counted[k]
                row["rows"] = total
                if deleted is not None:
                    row.update(deleted_rows=deleted, live_rows=live)

        try:
            fill(self._con.sql("\nunion all\n".join(self._count_sql(s, k) for k, (s, _) in enumerate(counted))).fetchall())
            return
        except duckdb.Error:
            pass
        for k, (source, row) in enumerate(counted):
            try:
                fill(self._con.sql(self._count_sql(source, k)).fetchall())
            except duckdb.Error as exc:  # a corrupt data file surfaces only when DuckDB reads it
                row["error"] = str(translate_error(source.name, exc, self.storage.secrets()))

    @property
    def as_of(self) -> datetime:
        """The lake's "now": the latest commit time over all readable tables (UTC)."""
        times = []
        for name in self.table_names:
            try:
                times.append(self._sources[name].last_commit.committed_at)
            except KitError:
                continue
        if not times:
            raise KitError(f"No readable table in {self.storage.display!r}: the lake has no commit time.")
        return max(times)

    # -- history ------------------------------------------------------------------------------
    def history(self, table: str | None = None) -> pd.DataFrame:
        """One row per commit, oldest first. ``table=None``: every readable table's commits,
        with a ``table`` column last (unreadable tables are left out). Columns: ``version``; ``committed_at`` (UTC:
        ``commitInfo.timestamp``, or the commit file's modification time when the commit has
        none); ``operation`` (WRITE, MERGE, OPTIMIZE, DELETE...); ``data_change`` (false for
        OPTIMIZE and other commits whose actions change no data); ``rows_inserted``,
        ``rows_updated``, ``rows_deleted``, ``rows_copied``, ``source_rows`` from the
        operation metrics (Spark's camelCase strings or delta-rs's snake_case numbers; NULL
        when the writer did not record the metric). Commits whose files were cleaned from the
        log (older than the oldest checkpoint kept) are not listed."""
        if table is not None:
            return self[table].history()
        frames = []
        for name in self.table_names:
            try:
                h = self[name].history()
            except KitError:
                continue
            if not h.empty:
                frames.append(h.assign(table=name))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    # -- Dataverse semantics ------------------------------------------------------------------
    def live(self, table: str) -> duckdb.DuckDBPyRelation:
        """The latest version of each record: per ``Id`` the highest ``versionnumber`` (then
        ``SinkModifiedOn``), soft-deleted records (IsDelete true) dropped."""
        source = self[table]
        view = self.view(source.name)
        return self._con.sql(live_sql(view, source.columns))

    def labels(self, table: str, column: str, language: int = 1033) -> pd.DataFrame:
        """(``code``, ``label``) of a choice column, from OptionsetMetadata /
        GlobalOptionsetMetadata, or StateMetadata / StatusMetadata for ``statecode`` /
        ``statuscode``. Empty when the metadata has no labels for it in that language."""
        source = self[table]
        if column.lower() not in {c.lower() for c in source.columns}:
            raise KitError(f"Table {source.name!r} has no column {column!r}.")
        metadata = {n for n in ("optionsetmetadata", "globaloptionsetmetadata", "statemetadata", "statusmetadata") if n in self._sources}
        sql = labels_sql(source.name, column, language, metadata)
        if sql is None:
            raise KitError(
                f"The lake has no option-set metadata tables (OptionsetMetadata, StateMetadata...), "
                f"so {source.name}.{column} cannot be labelled. Export the metadata tables with the data."
            )
        return self.sql(sql).df()

    def with_labels(self, table: str, columns: list[str] | None = None, language: int = 1033, live: bool = True) -> duckdb.DuckDBPyRelation:
        """The table (its live state by default) with a ``<column>_label`` column beside each
        choice column. ``columns=None`` labels every column the metadata has labels for."""
        source = self[table]
        base = live_sql(self.view(source.name), source.columns) if live else f"select * from {quote(self.view(source.name))}"
        candidates = columns if columns is not None else source.columns
        joins, extra = [], []
        for i, col in enumerate(candidates):
            try:
                labels = self.labels(source.name, col, language)
            except KitError:
                if columns is not None:
                    raise
                continue
            if labels.empty:
                continue
            name = f"__kit_labels_{abs(hash((source.uri, col, language)))}"
            self._con.register(name, labels)
            actual = next(c for c in source.columns if c.lower() == col.lower())
            joins.append(f"left join {quote(name)} l{i} on TRY_CAST(t.{quote(actual)} AS BIGINT) = l{i}.code")
            extra.append(f"l{i}.label AS {quote(actual + '_label')}")
        select = ", ".join(["t.*"] + extra)
        return self._con.sql(f"select {select} from ({base}) t {' '.join(joins)}")

    def fno_ids(self, table: str) -> duckdb.DuckDBPyRelation:
        """``Id``, ``table_id`` and ``recid`` decoded from an F&O table's ``Id`` GUIDs."""
        source = self[table]
        c = require_columns(source.name, source.columns, ("Id",), "F&O id decoding")
        table_id, recid = fno_sql(c["Id"])
        view = quote(self.view(source.name))
        return self._con.sql(f"select {quote(c['Id'])}, {table_id} AS table_id, {recid} AS recid from {view}")

    # -- changes ------------------------------------------------------------------------------
    def changes(self, table: str, methods=None) -> duckdb.DuckDBPyRelation:
        """One row per landed row version: ``table``, ``id``, ``versionnumber``, ``change``
        (create | update | delete), ``modifiedon``, ``landed_at`` (first landing, UTC),
        ``landings`` (commits that landed it; NULL when only the snapshot is known),
        ``method`` (change_feed | add_diff | snapshot). See ``kit.formats.delta.changes`` for the rules and
        ``coverage()`` for how far back they are exact. Computed in DuckDB from the files the
        planner names (never in pandas), at the table's pinned version. ``methods`` (a name or a
        list): only the changes of these methods; None: all."""
        sql = self.changes_sql(table, methods=methods)
        try:
            return self._con.sql(sql)
        except duckdb.Error as exc:  # a file lost under the reader: a KitError that names it
            raise translate_error(self[table].name, exc, self.storage.secrets()) from None

    def changes_sql(self, table: str, methods=None) -> str:
        """The SQL behind ``changes(table)``, for composing larger queries on ``connection``.

        ``methods``: only the changes these methods measure (the others are not computed: a
        feed-only question never reads the snapshot). With ``cache_changes=True``, the first
        call computes all the table's changes into a temporary table and later calls read it
        (filtered by ``methods``); the lake pins one snapshot per table, so the cache cannot go
        stale, and ``refresh()`` drops it."""
        source = self[table]
        if isinstance(methods, str):
            methods = [methods]
        cached = self._changes_tables.get(source.name)
        if cached is not None:
            return f"select * from {quote(cached)}" + _method_where(methods)
        try:
            if not self._cache_changes:
                sql = self._table_changes_sql(source, methods)
                self._con.sql(sql)  # bound now: a file lost under the reader fails this table, not the run
                return sql
            sql = self._table_changes_sql(source, None)
        except duckdb.Error as exc:
            raise translate_error(source.name, exc, self.storage.secrets()) from None
        cached = f"__kit_changes_{self._generation}_{len(self._changes_tables)}"
        try:
            self._con.execute(f"create temp table {quote(cached)} as {sql}")
        except duckdb.Error as exc:
            raise translate_error(source.name, exc, self.storage.secrets()) from None
        self._changes_tables[source.name] = cached
        return f"select * from {quote(cached)}" + _method_where(methods)

    def _table_changes_sql(self, source: DeltaSource, methods) -> str:
        """The changes of one table: the lake's alone, or with a store, the stored history plus
        the commits not collected yet (``store.merged_changes_sql``)."""
        stored = self.stored(source.name)
        if stored is None:
            return source.changes_sql(self._con, self.view(source.name), methods=methods)
        increment = source.increment(self._con, stored.version, stored.table_id)
        wants = None if methods is None else {"add_diff" if m == "history" else m for m in methods}
        snapshot = None
        if not stored.complete and (wants is None or "snapshot" in wants):
            snapshot = source.changes_sql(self._con, self.view(source.name), method="snapshot")
        return merged_changes_sql(stored, increment.sql, snapshot) + _method_where(methods)

    def stored(self, table: str) -> StoredTable | None:
        """What the store knows of ``table`` (None without a store, or before its first
        collect), read once per pinned table: its rows are copied into the engine, so the
        store is held only for that moment (a collect running meanwhile is not disturbed)."""
        if self.store is None:
            return None
        name = self[table].name
        if name not in self._stored:
            rows = f"__kit_stored_{self._generation}_{len(self._stored)}"
            found = self.store.read_table(self._store_con, name, rows)
            if found is not None and self._store_con is not self._con:
                # Another engine (Spark): the store is a file on this machine, its rows go to
                # the engine once per pinned table.
                self.engine.register(rows, self._store_con.sql(f"select * from {quote(rows)}").to_arrow_table())
                self._store_con.execute(f"drop table if exists {quote(rows)}")
            self._stored[name] = found
        return self._stored[name]

    @property
    def _store_con(self):
        """The DuckDB connection the store is read and written through: the lake's own on the
        DuckDB engine, else one of its own (the store is a DuckDB file)."""
        if self.engine.name == "duckdb":
            return self._con
        if getattr(self, "_store_engine", None) is None:
            self._store_engine = DuckDBEngine()
        return self._store_engine.connection

    def coverage(self, table: str) -> Coverage:
        """Which method ``changes()`` uses for the table, from when it is exact, and since when
        the lake observed the table (``observed_from``: its first commit still in the log, or
        with a store, the first commit it collected if earlier). With a store that collected
        the table: the method it collected with, exact from its first collected commit
        (``feed_from_time``), ``complete`` when that was the table's creation and no commit was
        lost since, and ``gaps`` (commits vacuumed between two collects, or a re-creation)."""
        source = self[table]
        require_columns(source.name, source.columns, ("Id", "versionnumber", "modifiedon"), "changes()")
        lake_coverage = source.coverage()
        stored = self.stored(source.name)
        if stored is None:
            return lake_coverage
        return stored_coverage(stored, lake_coverage)

    # -- the store ----------------------------------------------------------------------------
    def collect(self, tables=None) -> pd.DataFrame:
        """Record in the store every first landing it does not hold yet (needs ``store=``).

        For each table (None: every Dataverse and F&O table; unreadable ones are skipped with a
        warning), reads only the commits after the last version collected (a table without a
        change feed is read through its add-file diff, whose files must all be read), and adds
        each (Id, versionnumber) not yet recorded, once, with its kind, ``modifiedon``,
        ``landed_at`` (first landing) and method; a later landing of a recorded version only
        raises its ``landings``. Collecting again with no new commit adds nothing. Commits whose
        files were vacuumed before any collect read them are recorded as a gap; a table dropped
        and created again (a new ``metaData.id``) is followed, its new initial load being
        landings of the versions it carries again. Safe to run while another collect runs.

        Returns one row per table: ``table``, ``from_version`` and ``to_version`` (the versions
        read; ``from_version`` NA when nothing was new), ``changes_added``, ``landings_added``
        (later landings of versions already recorded), ``commits_lost`` (vacuumed before
        being collected; NA when unknown: re-created), ``method`` (``change_feed``,
        ``add_diff``, or ``snapshot``: nothing exact to collect) and ``note``."""
        if self.store is None:
            raise KitError("collect() needs a store: open the lake with kit.open_lake(location, store='path/to/kit_store.duckdb').")
        names, strict = (self.analysable(None, needed_for="collect()"), False) if tables is None else (
            self.analysable(tables, needed_for="collect()"), True)
        rows = []
        for name in names:
            try:
                rows.append(self._collect_table(name))
            except StoreError:
                raise  # the store, not the table: nothing else can be collected either
            except KitError as exc:
                if strict:
                    raise
                warnings.warn(f"Skipped table {name!r}: {exc}", SkippedTableWarning, stacklevel=2)
        columns = ["table", "from_version", "to_version", "changes_added", "landings_added", "commits_lost", "method", "note"]
        df = pd.DataFrame(rows, columns=columns)
        for col in ("from_version", "to_version", "changes_added", "landings_added", "commits_lost"):
            df[col] = df[col].astype("Int64")
        return df

    def _collect_table(self, name: str) -> dict:
        from datetime import timezone

        source = self[name]
        scratch = f"__kit_increment_{self._generation}"
        for _attempt in range(20):
            known = self.store.read_state(self._store_con, name)
            expected = None if known is None else (known.table_id, known.version)
            try:
                inc = source.increment(self._con, None if known is None else known.version,
                                       None if known is None else known.table_id)
                if inc.sql is not None and self._store_con is self._con:
                    self._con.execute(f"create or replace temp table {quote(scratch)} as {inc.sql}")
                elif inc.sql is not None:  # computed on the engine, merged on this machine
                    self._store_con.register(scratch + "_rows", self.engine.sql(inc.sql).arrow())
                    self._store_con.execute(f"create or replace temp table {quote(scratch)} as select * from {quote(scratch + '_rows')}")
                    self._store_con.unregister(scratch + "_rows")
            except duckdb.Error as exc:
                raise translate_error(source.name, exc, self.storage.secrets()) from None
            try:
                if inc.method is None and known is None:
                    note = "no change data feed and no add-file diff: nothing exact to collect (only the snapshot)"
                    return {"table": name, "from_version": None, "to_version": source.version, "changes_added": 0,
                            "landings_added": 0, "commits_lost": None, "method": "snapshot", "note": note}
                done = self.store.merge(self._store_con, name, inc, scratch, expected, datetime.now(timezone.utc))
            finally:
                self._store_con.execute(f"drop table if exists {quote(scratch)}")
            if done is not None:
                break
        else:
            raise KitError(f"collect() of table {name!r} kept meeting other collects of it: try again.")
        old = self._stored.pop(name, None)
        if old is not None:
            self._con.execute(f"drop table if exists {quote(old.rows)}")
        recreated = known is not None and known.table_id != inc.table_id
        lost = None if recreated else (0 if inc.gap is None else inc.gap.commits)
        notes = []
        if recreated:
            notes.append("the table was re-created (new table id): followed from its version 0")
        if inc.gap is not None:
            notes.append(f"{inc.gap.commits} commit(s) vacuumed before being collected (versions "
                         f"{inc.gap.from_version}-{inc.gap.to_version}): a gap in the record")
        if inc.method is None and inc.from_version <= source.version and inc.gap is not None:
            notes.append("no readable change data left after the last collect")
        if inc.sql is None and inc.gap is None:
            notes.append("no new commit")
        read = inc.from_version <= inc.to_version
        return {"table": name, "from_version": inc.from_version if read else None, "to_version": inc.to_version,
                "changes_added": done["changes_added"], "landings_added": done["landings_added"],
                "commits_lost": lost, "method": inc.method or (known.method if known else "snapshot"),
                "note": "; ".join(notes)}

    def coverages(self, tables=None) -> pd.DataFrame:
        """``coverage`` of every Dataverse table (or of ``tables``), one row each: ``table``,
        ``method``, ``complete``, ``feed_from_version``, ``feed_from_time``, ``observed_from``,
        ``note``, ``error`` (why an unreadable table has no coverage; else None)."""
        rows = []
        for name in (self.dataverse_tables() if tables is None else tables):
            try:
                c = self.coverage(name)
            except KitError as exc:
                rows.append({"table": name, "method": "unreadable", "error": str(exc)})
                continue
            rows.append({"table": name, "method": c.method, "complete": c.complete,
                         "feed_from_version": c.feed_from_version, "feed_from_time": c.feed_from_time,
                         "observed_from": c.observed_from, "note": c.note, "error": None})
        columns = ["table", "method", "complete", "feed_from_version", "feed_from_time", "observed_from", "note", "error"]
        return pd.DataFrame(rows, columns=columns)

    # -- syncs --------------------------------------------------------------------------------
    def syncs(self, table: str) -> duckdb.DuckDBPyRelation:
        """One row per sync commit (a commit that landed row versions; the rule is the
        format's, see ``kit.formats.delta.syncs``), oldest first: ``table``, ``version``,
        ``committed_at`` (UTC), ``operation``, ``rows_landed`` (rows inserted + updated by the
        commit's own metrics; NULL when the writer recorded none). Read from the log only."""
        return self._con.sql(self.syncs_sql(table))

    def syncs_sql(self, table: str) -> str:
        """The SQL behind ``syncs(table)``, for composing larger queries."""
        source = self[table]
        name = self._syncs_tables.get(source.name)
        if name is None:
            import pyarrow as pa

            rows = source.syncs()
            name = f"__kit_syncs_{self._generation}_{len(self._syncs_tables)}"
            self._con.register(name, pa.table({
                "table": pa.array([source.name] * len(rows), pa.string()),
                "version": pa.array([r["version"] for r in rows], pa.int64()),
                "committed_at": pa.array([r["committed_at"] for r in rows], pa.timestamp("us", tz="UTC")),
                "operation": pa.array([r["operation"] for r in rows], pa.string()),
                "rows_landed": pa.array([r["rows_landed"] for r in rows], pa.int64()),
            }))
            self._syncs_tables[source.name] = name
        return f"select {', '.join(quote(c) for c in SYNC_COLUMNS)} from {quote(name)}"

    # -- what the analyses run on ---------------------------------------------------------------
    def dataverse_tables(self) -> list[str]:
        """The lake's Dataverse and F&O tables (those the analyses run on by default), sorted;
        unreadable tables are left out."""
        out = []
        for name in self.table_names:
            try:
                if self.kind(name) in ("dataverse", "finance_operations"):
                    out.append(name)
            except KitError:
                continue
        return out

    def observed_window(self):
        """(start, end) of what the lake observed as it happened: from the earliest first commit
        of its Dataverse / F&O tables (the initial load) to the lake's newest commit
        (``as_of``), as UTC ``pd.Timestamp``; None when no table has a commit. Changes modified
        before the start reached the lake in the initial load, as a backlog that keeps only each
        record's latest version."""
        firsts = []
        for name in self.dataverse_tables():
            try:
                first = self[name].first_commit
            except KitError:
                continue
            firsts.append(pd.Timestamp(first.committed_at))
        if not firsts:
            return None
        return min(firsts), pd.Timestamp(self.as_of)

    def analysable(self, tables=None, needed=("Id", "versionnumber", "modifiedon"), needed_for="this analysis") -> list[str]:
        """The tables an analysis runs on. ``None``: every Dataverse and F&O table (tables that
        lack the columns are skipped with a warning naming them); named tables must have the
        columns (NotDataverseTableError otherwise)."""
        if tables is None:
            chosen, skipped = [], []
            unreadable = {}
            for name in self.table_names:
                try:
                    kind = self.kind(name)
                except KitError as exc:
                    unreadable[name] = exc
                    continue
                if kind in ("dataverse", "finance_operations"):
                    chosen.append(name)
                elif kind == "other":
                    skipped.append(name)
            self.storage.check_available()  # storage gone: the analysis fails, not table by table
            if skipped:
                warnings.warn(
                    f"Skipped tables without the Dataverse columns {', '.join(needed)}: {', '.join(skipped)}",
                    SkippedTableWarning, stacklevel=3,
                )
            for name, exc in unreadable.items():  # each with its own reason
                warnings.warn(f"Skipped table {name!r}: {exc}", SkippedTableWarning, stacklevel=3)
            return chosen
        if isinstance(tables, str):
            tables = [tables]
        out = []
        for name in tables:
            source = self[name]
            require_columns(source.name, source.columns, tuple(needed), needed_for)
            out.append(source.name)
        return out
