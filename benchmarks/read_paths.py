"""Measure the two read paths on a 10M-row Dataverse-like Delta table.

    python benchmarks/read_paths.py [--rows 10000000] [--dir /tmp/kit-bench]

Builds the table once (deltalake, PartitionId partitions, ~20 columns), then times, for each
path, a full-scan aggregate (count, distinct Ids, max modifiedon per PartitionId) and a
two-column query, median of 3 runs, with peak RSS of a fresh process per path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

QUERIES = {
    "aggregate": 'select "PartitionId", count(*), count(distinct "Id"), max("modifiedon") from bench group by all',
    "two_columns": 'select count(*) from bench where "statecode" = 1 and "modifiedon" >= TIMESTAMPTZ \'2026-06-01\'',
}


def build(path: str, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    from deltalake import write_deltalake

    rng = np.random.default_rng(1)
    batch = 1_000_000
    base = np.datetime64("2022-01-01T00:00:00", "us").astype("int64")
    span = 4 * 365 * 86400 * 10**6
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        created = base + rng.integers(0, span, n)
        modified = created + rng.integers(0, 90 * 86400 * 10**6, n)
        ids = np.char.add("00000000-0000-0000-0000-", np.char.zfill(np.arange(start, start + n).astype(str), 12))
        tbl = pa.table(
            {
                "Id": ids,
                "versionnumber": rng.integers(1, 10**9, n),
                "createdon": pa.array(created, pa.timestamp("us", tz="UTC")),
                "modifiedon": pa.array(modified, pa.timestamp("us", tz="UTC")),
                "statecode": rng.integers(0, 2, n).astype("int32"),
                "statuscode": rng.integers(1, 5, n).astype("int32"),
                "name": np.char.add("Account ", rng.integers(0, 10**6, n).astype(str)),
                "revenue": rng.random(n) * 1e6,
                "ownerid": np.char.add("owner-", rng.integers(0, 500, n).astype(str)),
                "IsDelete": pa.nulls(n, pa.bool_()),
                "SinkCreatedOn": pa.array(modified + 600 * 10**6, pa.timestamp("us", tz="UTC")),
                "SinkModifiedOn": pa.array(modified + 600 * 10**6, pa.timestamp("us", tz="UTC")),
                "PartitionId": pa.array((created // (365 * 86400 * 10**6) + 1970).astype(str)),
            }
        )
        write_deltalake(path, tbl, partition_by=["PartitionId"], mode="append")


def run_one(path: str, read_path: str, repeats: int) -> dict:
    import kit

    lake = kit.open_lake(path)
    source = lake[lake.table_names[0]]
    source.__dict__["read_path"] = read_path  # force the path under test
    lake._con.execute("create or replace view bench as select * from " + kit.engines.sql.quote(lake.view(source.name)))
    out = {}
    for name, sql in QUERIES.items():
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            lake._con.sql(sql).fetchall()
            times.append(time.perf_counter() - t0)
        out[name] = round(statistics.median(times), 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--dir", default="/tmp/kit-bench")
    ap.add_argument("--child", choices=["parquet", "deltalake"])
    args = ap.parse_args()
    path = os.path.join(args.dir, f"bench_{args.rows}")
    if args.child:
        print(json.dumps(run_one(path, args.child, 3)))
        return
    if not os.path.exists(path):
        t0 = time.perf_counter()
        build(path, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    files = sum(1 for d, _, fs in os.walk(path) for f in fs if f.endswith(".parquet"))
    print(f"table: {args.rows:,} rows, {files} files, {size / 1e6:.0f} MB")
    for read_path in ("parquet", "deltalake"):
        res = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--dir", args.dir, "--child", read_path],
                             capture_output=True, text=True, check=True)
        print(read_path, res.stdout.strip())


if __name__ == "__main__":
    main()
