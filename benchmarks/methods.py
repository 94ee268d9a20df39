"""The methods the benchmark compares, each run in a process of its own.

    python -m benchmarks.methods METHOD LAKE TABLE

prints one JSON line: ``{"method": ..., "answer": ...}``. ``answer`` is what the method computed,
rounded so that methods giving the same numbers give the same answer (the runner checks it).

Two questions, each answered by several methods:

``latency``: p50, p95, max and count of first-landing latency per UTC day of ``modifiedon``, over
    every landed row version of the table (the kit's full answer: change feed where it reaches,
    the snapshot before).
``feed_latency``: the same over the row versions whose first landing the change feed still holds
    (what every method can compute exactly from the feed files alone).

First landing (DEFINITIONS.md): per (Id, versionnumber) the earliest commit whose feed rows
(``insert`` / ``update_postimage``) hold it; ``landed_at`` = its ``SinkCreatedOn``, else the commit
time; a first in-feed landing whose pre-image carries the same versionnumber landed before the
feed and is not counted. Sentinel ``modifiedon`` (at or before 1970-01-01) and negative latencies
are left out.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

SENTINEL = "1970-01-01 00:00:00+00"


def _round(rows) -> list:
    return [[str(r[0])[:10], int(r[1])] + [round(float(x), 3) for x in r[2:]] for r in rows]


def _table_path(lake: str, table: str) -> str:
    for candidate in (f"{lake}/deltalake/{table}_partitioned", f"{lake}/Tables/{table}", f"{lake}/{table}"):
        if os.path.isdir(candidate + "/_delta_log"):
            return candidate
    raise SystemExit(f"no Delta table {table!r} under {lake!r}")


def _feed_plan(path: str):
    """From the log alone (independent of the kit): the first version from which the change
    feed is complete, each commit's time, and the files holding the feed's rows: a commit's
    ``cdc`` files, or its data-changing ``add`` files when it wrote none (an append or the
    initial load: every added row is an insert)."""
    from datetime import datetime, timezone
    from urllib.parse import unquote

    log = f"{path}/_delta_log"
    commits = []
    for name in sorted(os.listdir(log)):
        if name.endswith(".json") and name[:-5].isdigit():
            actions = [json.loads(line) for line in open(f"{log}/{name}", encoding="utf-8") if line.strip()]
            commits.append((int(name[:-5]), actions, os.path.getmtime(f"{log}/{name}")))
    start, times, files = None, {}, []
    expected = commits[-1][0]
    for version, actions, mtime in reversed(commits):
        if version != expected:
            break
        info = next((a["commitInfo"] for a in actions if "commitInfo" in a), {})
        ms = info.get("inCommitTimestamp") or info.get("timestamp") or mtime * 1000
        cdc = [a["cdc"]["path"] for a in actions if "cdc" in a]
        adds = [a["add"]["path"] for a in actions if "add" in a and a["add"].get("dataChange", True)]
        kind, needed = ("cdc", cdc) if cdc else ("add", adds)
        if not all(os.path.exists(f"{path}/{unquote(p)}") for p in needed):
            break
        times[version] = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
        files += [(f"{path}/{unquote(p)}", version, kind) for p in needed]
        start, expected = version, expected - 1
    return start, times, files


# -- the kit -----------------------------------------------------------------------------------
def kit_latency(lake: str, table: str):
    import kit

    df = kit.sync_latency(kit.open_lake(lake), table, by="day")
    df = df[df["changes"] > 0]
    return _round(zip(df["period"].dt.strftime("%Y-%m-%d"), df["changes"], df["p50_s"], df["p95_s"], df["max_s"]))


def kit_feed_latency(lake: str, table: str):
    import kit

    df = kit.sync_latency(kit.open_lake(lake), table, by="day", methods="change_feed")
    df = df[df["changes"] > 0]
    return _round(zip(df["period"].dt.strftime("%Y-%m-%d"), df["changes"], df["p50_s"], df["p95_s"], df["max_s"]))


def kit_volume(lake: str, table: str):
    import kit

    df = kit.change_volume(kit.open_lake(lake), table, by="day")
    return [[str(p)[:10], int(c), int(u), int(d)] for p, c, u, d in zip(df["period"], df["creates"], df["updates"], df["deletes"])]


def kit_changes(lake: str, table: str):
    import kit

    rel = kit.open_lake(lake).changes(table)
    return [list(map(str, r)) for r in rel.aggregate("method, count(*) AS n", "method").order("method").fetchall()]


def kit_throughput(lake: str, table: str):
    import kit

    row = kit.throughput(kit.open_lake(lake), table).iloc[0]
    return [int(row["peak_day_events"]), int(row["peak_5min_events"]), row["pattern"]]


def _spark_lake(lake: str):
    import kit

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return kit.open_lake(lake, engine="spark")


def spark_start(lake: str, table: str):
    """A local Spark session started and a lake opened on it, nothing read: what every
    ``spark_*`` method pays before its first query (subtract it for the per-row cost)."""
    _spark_lake(lake)
    return "started"


def spark_latency(lake: str, table: str):
    """``kit_latency`` on the Spark engine (a local session: ``local[*]``)."""
    import kit

    df = kit.sync_latency(_spark_lake(lake), table, by="day")
    df = df[df["changes"] > 0]
    return _round(zip(df["period"].dt.strftime("%Y-%m-%d"), df["changes"], df["p50_s"], df["p95_s"], df["max_s"]))


def spark_feed_latency(lake: str, table: str):
    """``kit_feed_latency`` on the Spark engine."""
    import kit

    df = kit.sync_latency(_spark_lake(lake), table, by="day", methods="change_feed")
    df = df[df["changes"] > 0]
    return _round(zip(df["period"].dt.strftime("%Y-%m-%d"), df["changes"], df["p50_s"], df["p95_s"], df["max_s"]))


def spark_volume(lake: str, table: str):
    """``kit_volume`` on the Spark engine."""
    import kit

    df = kit.change_volume(_spark_lake(lake), table, by="day")
    return [[str(p)[:10], int(c), int(u), int(d)] for p, c, u, d in zip(df["period"], df["creates"], df["updates"], df["deletes"])]


def kit_report(lake: str, table: str):
    import kit.report

    with tempfile.TemporaryDirectory() as tmp:
        kit.report.write_report(kit.open_lake(lake), os.path.join(tmp, "r.html"))
    return "written"


def kit_tables(lake: str, table: str):
    import kit

    df = kit.open_lake(lake).tables()
    return [int(len(df)), int(df["version"].sum())]


def deltalake_tables(lake: str, table: str):
    """Opening each table with deltalake by hand: version, last commit, files, bytes, rows from
    the log (the add actions' statistics)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    root = f"{lake}/deltalake" if os.path.isdir(f"{lake}/deltalake") else lake
    n = versions = 0
    for name in sorted(os.listdir(root)):
        if not os.path.isdir(f"{root}/{name}/_delta_log"):
            continue
        dt = DeltaTable(f"{root}/{name}")
        adds = pa.table(dt.get_add_actions(flatten=True))
        _ = (dt.history(1), adds.num_rows, pc.sum(adds.column("size_bytes")), pc.sum(adds.column("num_records")))
        n += 1
        versions += dt.version()
    return [n, versions]


# -- the alternatives, feed days only ---------------------------------------------------------------
_LATENCY_BY_DAY = f"""
    select strftime(date_trunc('day', modifiedon), '%Y-%m-%d') AS day, count(*),
           quantile_cont(s, 0.5), quantile_cont(s, 0.95), max(s)
    from (select modifiedon, (epoch_us(landed_at) - epoch_us(modifiedon)) / 1e6 AS s from first_landing)
    where modifiedon > TIMESTAMPTZ '{SENTINEL}' and s >= 0
    group by all order by 1
"""

_FIRST_LANDING = """
    create or replace view first_landing as
    with feed as (
        select "Id" AS id, versionnumber, _change_type AS change_type, commit_version,
               modifiedon, coalesce(SinkCreatedOn, commit_time) AS landed_at
        from feed_rows
        where _change_type in ('insert', 'update_preimage', 'update_postimage')
    ),
    pre as (select id, commit_version, versionnumber AS pre_vn from feed where change_type = 'update_preimage'),
    landing as (
        select f.*, p.pre_vn from feed f left join pre p using (id, commit_version)
        where f.change_type <> 'update_preimage'
    ),
    first as (
        select * from landing
        qualify row_number() over (partition by id, versionnumber order by commit_version) = 1
    )
    select * from first where change_type = 'insert' or pre_vn is null or pre_vn <> versionnumber
"""


def duckdb_floor(lake: str, table: str):
    """Hand-written DuckDB over the log and the files: the planned change files read as parquet,
    each file's version and commit time joined from the log."""
    import duckdb
    import pyarrow as pa

    start, times, files = _feed_plan(_table_path(lake, table))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("plan", pa.table({
        "filename": [f[0] for f in files],
        "commit_version": pa.array([f[1] for f in files], pa.int64()),
        "commit_time": pa.array([times[f[1]] for f in files], pa.timestamp("us", tz="UTC")),
        "kind": [f[2] for f in files],
    }))
    listing = "[" + ", ".join("'" + f[0].replace("'", "''") + "'" for f in files) + "]"
    con.execute(f"""
        create view feed_rows as
        select d."Id", d.versionnumber, CAST(d.modifiedon AS TIMESTAMPTZ) AS modifiedon,
               CAST(d.SinkCreatedOn AS TIMESTAMPTZ) AS SinkCreatedOn,
               case when p.kind = 'add' then 'insert' else d._change_type end AS _change_type,
               p.commit_version, p.commit_time
        from read_parquet({listing}, union_by_name = true, filename = '__file', hive_partitioning = false) d
        join plan p on p.filename = d.__file
    """)
    con.execute(_FIRST_LANDING)
    return _round(con.sql(_LATENCY_BY_DAY).fetchall())


def duckdb_load_cdf(lake: str, table: str):
    """DuckDB over deltalake's ``load_cdf`` stream."""
    import duckdb
    import pyarrow as pa
    from deltalake import DeltaTable

    path = _table_path(lake, table)
    start, times, _files = _feed_plan(path)
    stream = DeltaTable(path).load_cdf(starting_version=start, columns=[
        '"Id"', "versionnumber", "modifiedon", '"SinkCreatedOn"', "_change_type", "_commit_version"])
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("cdf", stream)
    con.register("commit_times", pa.table({
        "commit_version": pa.array(list(times), pa.int64()),
        "commit_time": pa.array(list(times.values()), pa.timestamp("us", tz="UTC")),
    }))
    con.execute("""
        create view feed_rows as
        select "Id", versionnumber, CAST(modifiedon AS TIMESTAMPTZ) AS modifiedon,
               CAST("SinkCreatedOn" AS TIMESTAMPTZ) AS SinkCreatedOn, _change_type,
               CAST(_commit_version AS BIGINT) AS commit_version, t.commit_time
        from cdf c join commit_times t on t.commit_version = CAST(c._commit_version AS BIGINT)
    """)
    con.execute(_FIRST_LANDING)
    return _round(con.sql(_LATENCY_BY_DAY).fetchall())


def fasttrack(lake: str, table: str):
    """Microsoft FastTrack's method: the change feed into pandas (``load_cdf().read_all()
    .to_pandas()``), first landings and percentiles in pandas."""
    import numpy as np
    import pandas as pd
    from deltalake import DeltaTable

    path = _table_path(lake, table)
    start, times, _files = _feed_plan(path)
    import pyarrow as pa

    df = pa.table(DeltaTable(path).load_cdf(starting_version=start).read_all()).to_pandas()
    df = df[df["_change_type"].isin(["insert", "update_preimage", "update_postimage"])]
    df["commit_time"] = df["_commit_version"].map({v: pd.Timestamp(t) for v, t in times.items()})
    pre = df[df["_change_type"] == "update_preimage"][["Id", "_commit_version", "versionnumber"]]
    pre = pre.rename(columns={"versionnumber": "pre_vn"})
    land = df[df["_change_type"] != "update_preimage"].merge(pre, on=["Id", "_commit_version"], how="left")
    land = land.sort_values("_commit_version", kind="stable").drop_duplicates(["Id", "versionnumber"])
    land = land[(land["_change_type"] == "insert") | land["pre_vn"].isna() | (land["pre_vn"] != land["versionnumber"])]
    landed = pd.to_datetime(land["SinkCreatedOn"], utc=True).fillna(land["commit_time"])
    modified = pd.to_datetime(land["modifiedon"], utc=True)
    s = (landed - modified).dt.total_seconds()
    keep = (modified > pd.Timestamp(SENTINEL)) & (s >= 0)
    out = pd.DataFrame({"day": modified[keep].dt.strftime("%Y-%m-%d"), "s": s[keep]})
    rows = []
    for day, g in out.groupby("day", sort=True):
        v = g["s"].to_numpy()
        rows.append((day, len(v), np.percentile(v, 50), np.percentile(v, 95), v.max()))
    return _round(rows)


def polars_feed(lake: str, table: str):
    """polars over the planned change files (scan_parquet), first landings and percentiles."""
    import polars as pl

    start, times, files = _feed_plan(_table_path(lake, table))
    frames = []
    for name, version, kind in files:
        f = pl.scan_parquet(name).select(["Id", "versionnumber", "modifiedon", "SinkCreatedOn"] + (["_change_type"] if kind == "cdc" else []))
        if kind == "add":
            f = f.with_columns(pl.lit("insert").alias("_change_type"))
        frames.append(f.with_columns(pl.lit(version, pl.Int64).alias("commit_version"),
                                     pl.lit(times[version]).dt.cast_time_unit("us").alias("commit_time")))
    feed = pl.concat(frames, how="diagonal_relaxed").filter(pl.col("_change_type").is_in(["insert", "update_preimage", "update_postimage"]))
    pre = feed.filter(pl.col("_change_type") == "update_preimage").select(["Id", "commit_version", pl.col("versionnumber").alias("pre_vn")])
    land = feed.filter(pl.col("_change_type") != "update_preimage").join(pre, on=["Id", "commit_version"], how="left")
    first = land.sort("commit_version").group_by(["Id", "versionnumber"], maintain_order=True).first()
    first = first.filter((pl.col("_change_type") == "insert") | pl.col("pre_vn").is_null() | (pl.col("pre_vn") != pl.col("versionnumber")))
    first = first.with_columns(
        pl.col("modifiedon").dt.replace_time_zone("UTC") if first.collect_schema()["modifiedon"].time_zone is None else pl.col("modifiedon"),
    )
    landed = pl.coalesce([pl.col("SinkCreatedOn").dt.convert_time_zone("UTC"), pl.col("commit_time").dt.convert_time_zone("UTC")])
    s = ((landed.dt.epoch("us") - pl.col("modifiedon").dt.epoch("us")) / 1e6).alias("s")
    out = (first.with_columns(s).filter((pl.col("modifiedon").dt.epoch("us") > 0) & (pl.col("s") >= 0))
           .group_by(pl.col("modifiedon").dt.strftime("%Y-%m-%d").alias("day"))
           .agg(pl.len().alias("n"), pl.col("s").quantile(0.5, "linear").alias("p50"),
                pl.col("s").quantile(0.95, "linear").alias("p95"), pl.col("s").max().alias("max"))
           .sort("day").collect())
    return _round(out.rows())


def pandas_snapshot(lake: str, table: str):
    """The naive alternative: the whole table into pandas (``to_pandas()``), latency from
    ``SinkModifiedOn`` per day (a different, wrong answer: shown for its cost only)."""
    import pandas as pd
    from deltalake import DeltaTable

    df = DeltaTable(_table_path(lake, table)).to_pandas()
    s = (pd.to_datetime(df["SinkModifiedOn"], utc=True) - pd.to_datetime(df["modifiedon"], utc=True)).dt.total_seconds()
    return [int(len(df)), round(float(s.median()), 3)]


METHODS = {name: fn for name, fn in globals().items() if callable(fn) and not name.startswith("_")
           and getattr(fn, "__module__", None) == __name__}
#: What each method answers; methods with the same question must agree.
QUESTION = {
    "kit_latency": "latency", "kit_feed_latency": "feed_latency", "duckdb_floor": "feed_latency",
    "duckdb_load_cdf": "feed_latency", "fasttrack": "feed_latency", "polars_feed": "feed_latency",
    "kit_tables": "tables", "deltalake_tables": "tables",
    "spark_latency": "latency", "spark_feed_latency": "feed_latency", "kit_volume": "volume",
    "spark_volume": "volume",
}


if __name__ == "__main__":
    method, lake, table = sys.argv[1:4]
    print(json.dumps({"method": method, "answer": METHODS[method](lake, table)}))
