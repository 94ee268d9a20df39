"""How the Spark engine reads a Delta table: the files the log and the planner list, as parquet.

Plain Spark (no Delta jars: none reachable here, and a platform's Delta need not be the same
version) reads exactly what the kit's own reader reads:

- the snapshot: the files of the pinned version (``DeltaSource.file_uris``), one
  ``spark.read.parquet`` over all of them with the Delta schema (files written before a column
  was added give NULL for it), partition values from the log typed by the Delta schema (never inferred from
  folder names), and on a table with deletion vectors the deleted rows left out: deltalake
  decodes each file's deletion vector (``DeltaTable.deletion_vectors()``) into the row indexes
  it deletes, a small frame the engine anti-joins on ``_metadata.row_index`` (Spark 4's parquet
  row index) and the file;
- the changes: the planned ``cdc`` and ``add`` files (``formats.delta.plan``), each row joined
  with its file's commit version and time from the plan (on ``_metadata.file_path``).

The data never passes through the driver: only the plan (one row per file) and the deletion
vectors' row indexes are built there. Tables with column mapping (physical column names only
deltalake maps) are refused with a ``KitError``: use the DuckDB engine for them.
"""

from __future__ import annotations

import os

import pyarrow as pa

from ...engines.sql import quote
from ...errors import KitError
from .types import sql_type

# The planned file's location as the plan writes it, from Spark's ``_metadata.file_path`` (a
# percent-encoded URI; ``file:`` for local files): decoded, '+' kept (form decoding would turn
# it into a space), the local scheme dropped.
_FILE_KEY = "regexp_replace(url_decode(replace(_metadata.file_path, '+', '%2B')), '^file:(//)?', '')"


def file_key(uri: str) -> str:
    """The join key of a planned file: its absolute local path, or its URI as is."""
    if "://" in uri:
        return uri
    return os.path.normpath(os.path.abspath(uri))


def _refuse_column_mapping(source) -> None:
    if source.column_mapping:
        raise KitError(
            f"Table {source.name!r} uses Delta column mapping (physical column names), which the "
            "Spark engine does not read yet: open the lake with engine='duckdb' for it, or read it "
            "with a Spark that has Delta (format('delta'))."
        )


def _read(engine, source, uris: list[str], change_type: bool = False):
    """One DataFrame over the parquet ``uris`` with the file key and the row index, read with
    the Delta schema (no footer is read to infer one: a file written before a column was added
    gives NULL for it); ``change_type``: with the change files' ``_change_type`` column."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType.fromJson({"type": "struct", "fields": source.schema_fields})
    if change_type:
        schema = schema.add(StructField("_change_type", StringType(), True))
    frame = engine.spark.read.schema(schema).parquet(*dict.fromkeys(uris))
    return frame.select("*", F.expr(_FILE_KEY).alias("__kit_file"), F.col("_metadata.row_index").alias("__kit_row"))


def _names(engine, tag: str, source) -> tuple[str, str, str]:
    key = abs(hash((source.uri, source.version, tag)))
    return f"__kit_{tag}_{key}", f"__kit_{tag}_data_{key}", f"__kit_{tag}_files_{key}"


def register(source, engine, view: str) -> None:
    """Create the Spark view ``view`` over ``source``'s pinned snapshot (deletion vectors
    honoured), with the Delta schema's columns and types."""
    _refuse_column_mapping(source)
    fields = source.schema_fields
    parts = list(source.partition_columns)
    uris = source.file_uris
    name, data_view, files_view = _names(engine, "snapshot", source)
    if not uris:
        cols = ", ".join(f"CAST(NULL AS {sql_type(f['type']) or 'VARCHAR'}) AS {quote(f['name'])}" for f in fields)
        engine.execute(f"create or replace view {quote(view)} as select {cols} where false")
        return
    actions = source.add_actions
    keys = [file_key(u) for u in uris]
    files = {"__kit_file": pa.array(keys, pa.string())}
    for i, p in enumerate(parts):
        column = f"partition.{p}"
        values = actions.column(column).to_pylist() if column in actions.column_names else [None] * len(uris)
        files[f"pv_{i}"] = pa.array([None if v is None else str(v) for v in values], pa.string())
    engine.register(files_view, pa.table(files))
    frame = _read(engine, source, uris)
    if "deletionVectors" in source.reader_features:
        deleted = _deleted_rows(source)
        if deleted.num_rows:
            dv_view = f"{files_view}_dv"
            engine.register(dv_view, deleted)
            frame = frame.join(engine.spark.table(dv_view), on=["__kit_file", "__kit_row"], how="left_anti")
    engine.view(data_view, frame)
    present = {c.lower(): c for c in frame.columns}
    projection = []
    for f in fields:
        col, typ = f["name"], sql_type(f["type"]) or "VARCHAR"
        if col in parts:
            projection.append(f"CAST(h.{quote('pv_' + str(parts.index(col)))} AS {typ}) AS {quote(col)}")
        elif col.lower() in present:
            projection.append(f"CAST(d.{quote(present[col.lower()])} AS {typ}) AS {quote(col)}"
                              if sql_type(f["type"]) else f"d.{quote(present[col.lower()])} AS {quote(col)}")
        else:
            projection.append(f"CAST(NULL AS {typ}) AS {quote(col)}")
    engine.execute(
        f"create or replace view {quote(view)} as select {', '.join(projection)} "
        f"from {quote(data_view)} d join {quote(files_view)} h on d.__kit_file = h.__kit_file"
    )


def _deleted_rows(source) -> pa.Table:
    """(``__kit_file``, ``__kit_row``) of every row the snapshot's deletion vectors delete:
    decoded by deltalake from the log's descriptors, one row per deleted row."""
    try:
        vectors = pa.table(source.table.deletion_vectors())
    except Exception as exc:
        raise source._fail(exc) from None
    files, rows = [], []
    for path, selection in zip(vectors.column("filepath").to_pylist(), vectors.column("selection_vector").to_pylist()):
        key = file_key(source.data_uri(path))
        gone = [i for i, keep in enumerate(selection) if not keep]
        files.extend([key] * len(gone))
        rows.extend(gone)
    return pa.table({"__kit_file": pa.array(files, pa.string()), "__kit_row": pa.array(rows, pa.int64())})


def files_view(engine, source, files, tag: str, columns: dict, view_sql) -> str:
    """The Spark twin of ``changes._files_view``: a view over the planned ``files`` with
    ``id``, ``versionnumber``, ``change_type``, ``commit_version``, ``commit_time``,
    ``is_delete``, ``modifiedon``, ``sink_created``, ``sink_modified``; returns its name.
    ``view_sql`` is that module's ``planned_rows_view_sql`` (one spelling for both engines)."""
    _refuse_column_mapping(source)
    name, data_view, files_table = _names(engine, tag, source)
    parts = {p.lower() for p in source.partition_columns}
    uris = [source.plan.file_uri(f.path) for f in files]
    data = {
        "__kit_file": pa.array([file_key(u) for u in uris], pa.string()),
        "commit_version": pa.array([f.version for f in files], pa.int64()),
        "commit_time": pa.array([f.committed_at for f in files], pa.timestamp("us", tz="UTC")),
        "file_change": pa.array(["insert" if f.kind == "add" else None for f in files], pa.string()),
    }
    wanted_parts = {k: v for k, v in columns.items() if v and v.lower() in parts}
    for k, col in wanted_parts.items():
        data[f"pv_{k}"] = pa.array([f.partition_values.get(col) for f in files], pa.string())
    engine.register(files_table, pa.table(data))
    frame = _read(engine, source, uris, change_type=any(f.kind == "cdc" for f in files))
    engine.view(data_view, frame)
    present = {c.lower(): c for c in frame.columns}
    engine.execute(view_sql(name, source, columns, wanted_parts, present, quote(data_view), files_table, "__kit_file"))
    return name
