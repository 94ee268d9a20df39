"""The Delta tables, written here: their commits simulated, their data and change files, their
log, checkpoints and file times.

The Delta log is written here, not by delta-rs: a real MERGE per interval rewrites files, and
thousands of delta-rs merges blow both the time and the size budget. It is what the Synapse Link
Spark job (Spark 3.4, Delta 2.4) writes:

- version 0, two days before the window: a ``WRITE`` (Overwrite) of the records that existed
  before it. Its rows keep the Sink times of their earlier landing (the log's older history is
  not kept), so rows soft-deleted before the window are purged inside it.
- one ``MERGE`` per run of the conversion job: every 15 minutes for ``email``, 60 for the others,
  and only when new changes are waiting. ``commitInfo.timestamp`` is the simulated time; the
  metrics are Spark's camelCase strings (``numTargetRowsInserted``, ``numTargetRowsUpdated``,
  ``numTargetRowsDeleted``, ``numTargetRowsCopied``, ``numSourceRows``, ``numOutputRows``, ...).
  The MERGE takes the latest version per ``Id`` (earlier versions of the interval never land),
  writes new ``Id`` s into one new file per partition, rewrites every file holding a matched
  row (copy-on-write), and writes change data files (``_change_data/``: ``insert``,
  ``update_preimage``, ``update_postimage``; a re-landing is a pre/post pair with one
  versionnumber).
- the nightly job at 00:05 UTC (02:05 in Central Europe): a ``DELETE`` of rows soft-deleted 28
  days ago (the purge; ``delete`` change rows, not changes of the source), an ``OPTIMIZE``
  (``dataChange`` false) of partitions holding 8 or more small files, and a VACUUM with
  ``delta.deletedFileRetentionDuration`` = 2 days that deletes older removed data files and
  change data files as Spark's VACUUM does (Delta 2.x writes no commit for it). The change feed
  therefore starts at the first commit after 29 September 00:06: ``load_cdf`` from an earlier
  version fails on the missing files, and earlier days are seen only through the snapshot.
- checkpoints every 10 commits (``delta.checkpointInterval``), written by deltalake's
  ``create_checkpoint``; only the latest two per table are kept (as log cleanup eventually
  does) to keep the file budget.
- ``delta.dataSkippingNumIndexedCols`` = 0 (file statistics hold the row count only); Parquet
  files are zstd-compressed, without column statistics, Dataverse times and numbers
  delta-encoded: every Parquet reader reads them, and the sample fits its budget. The size of a
  file the simulated VACUUM deleted (never written) is estimated from the table's written files.

Budget arithmetic (``du -sm`` counts 4 KiB blocks, so each of the ~2,700 files costs at least
4 KiB): one JSON file per commit dominates the file count. A 15-minute table committing in every
interval for 28 days would need 2,688 commits on its own; ``email`` commits only in the business
day's intervals that have changes (about 42 per weekday, a few per weekend day): 884 sync
commits, 20 OPTIMIZE and 3 purges, 3.8 MiB of log. The eight 60-minute tables commit 55 (N:N)
to 274 (``incident``) times each, 917 commits and 3.6 MiB of log in all. Copy-on-write is the
other cost: the removed files of the last two days must stay for the change feed's window, so
``email`` updates reach back at most three runs (about 4.6 rewritten files per MERGE, 3.6 MiB
retained), older records of the busy tables are not updated, and the quiet tables' files are
small (OPTIMIZE targets 600 rows). An ``email`` that committed every 15 minutes around the clock
(2,688 JSON files, 11 MB of log alone) and quiet tables committing every hour would not fit.
Measured for the default run: 2,658 files (1,829 of them commit files), 22.6 MiB (``du -sm``:
23), of which ``email`` 11.0 MiB and TRUTH.json 0.75 MB.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .arrays import take_strings, uuid_texts
from .clock import DAY, iso_ms
from .columns import TableData
from .spec import NIGHTLY_AT, PURGE_AFTER, RETENTION, VACUUM_AFTER_MS, Window


# --------------------------------------------------------------------- the Delta log, simulated
INSERT, PREIMAGE, POSTIMAGE, DELETE = 0, 1, 2, 3
CHANGE_TYPES = ["insert", "update_preimage", "update_postimage", "delete"]
OPTIMIZE_MIN_FILES = 8              # the nightly job compacts a partition from this many small files


@dataclass
class DataFile:
    path: str
    partition: int
    rows: int
    stats: str
    added_ms: int
    vers: np.ndarray | None          # version index per row (dropped once known to be vacuumed)
    sink: np.ndarray | None          # Sink time (ms) per row
    removed_ms: int | None = None
    size: int = 0


@dataclass
class ChangeFile:
    path: str
    partition: int
    rows: int
    commit_ms: int
    vers: np.ndarray | None
    sink: np.ndarray | None
    change: np.ndarray | None
    size: int = 0


@dataclass
class Commit:
    version: int
    ms: int
    kind: str                        # write | merge | purge | optimize
    metrics: dict
    adds: list = field(default_factory=list)
    removes: list = field(default_factory=list)
    cdcs: list = field(default_factory=list)


class LogSim:
    """Replays a table's landings as the Spark conversion job writes them to the Delta log."""

    def __init__(self, table: TableData, rng: np.random.Generator, vacuum_cutoff_ms: int):
        self.t = table
        self.rng = rng
        self.cutoff = vacuum_cutoff_ms
        n = len(table.records)
        self.loc = np.full(n, -1, dtype=np.int64)     # the data file holding the record's row
        self.cur = np.full(n, -1, dtype=np.int64)     # the version in the table
        self.sink = np.zeros(n, dtype=np.int64)       # its Sink time (ms)
        self.files: list[DataFile] = []
        self.changes: list[ChangeFile] = []
        self.commits: list[Commit] = []
        self.live: dict[int, list[int]] = {}          # partition -> live data file ids, oldest first
        self.sync_version = np.full(len(table.landing.commit_ms), -1, dtype=np.int64)
        self.purged = 0
        self.pending = np.full(n, -1, dtype=np.int64)
        self.rec = table.versions.rec

    # -- files
    def _name(self, prefix: str) -> str:
        (u,) = uuid_texts(self.rng, 1)
        return f"{prefix}-{self.rng.integers(0, 200):05d}-{u}.c000.zstd.parquet"

    def _partition_dir(self, p: int) -> str:
        return f"PartitionId={self.t.partitions[p]}"

    @staticmethod
    def _stats(vers: np.ndarray) -> str:
        # delta.dataSkippingNumIndexedCols = 0: Spark then records only the row count.
        return json.dumps({"numRecords": len(vers)}, separators=(",", ":"))

    def _add_file(self, p: int, vers: np.ndarray, sink: np.ndarray, ms: int) -> int:
        order = np.argsort(self.rec[vers], kind="stable")   # rows in record (≈ Id) order
        vers, sink = vers[order], sink[order]
        f = DataFile(f"{self._partition_dir(p)}/{self._name('part')}", p, len(vers),
                     self._stats(vers), ms, vers, sink)
        self.files.append(f)
        fid = len(self.files) - 1
        self.live.setdefault(p, []).append(fid)
        self.loc[self.rec[vers]] = fid
        return fid

    def _remove_file(self, fid: int, ms: int) -> None:
        f = self.files[fid]
        f.removed_ms = ms
        self.live[f.partition].remove(fid)
        if ms < self.cutoff:               # the final vacuum deletes it: its rows are not needed
            f.vers = f.sink = None

    def _add_changes(self, ms: int, vers, sink, change) -> list[int]:
        """One change data file per partition, as Spark writes them."""
        ids = []
        part = self.t.partition[self.rec[vers]]
        for p in np.unique(part):
            m = part == p
            keep = ms >= self.cutoff
            cf = ChangeFile(f"_change_data/{self._partition_dir(p)}/{self._name('cdc')}", int(p),
                            int(m.sum()), ms, vers[m] if keep else None, sink[m] if keep else None,
                            change[m] if keep else None)
            self.changes.append(cf)
            ids.append(len(self.changes) - 1)
        return ids

    def _commit(self, ms: int, kind: str, metrics: dict, adds=(), removes=(), cdcs=()) -> Commit:
        c = Commit(len(self.commits), ms, kind, metrics, list(adds), list(removes), list(cdcs))
        self.commits.append(c)
        return c

    # -- operations
    def write_initial(self, ms: int) -> None:
        v = self.t.versions
        vers = np.flatnonzero(v.initial)
        sink = self.t.sink0[vers]
        self.cur[self.rec[vers]] = vers
        self.sink[self.rec[vers]] = sink
        part = self.t.partition[self.rec[vers]]
        adds = []
        for p in np.unique(part):
            idx = np.flatnonzero(part == p)
            for chunk in np.array_split(idx, max(1, -(-len(idx) // self.t.spec.initial_rows_per_file))):
                adds.append(self._add_file(int(p), vers[chunk], sink[chunk], ms))
        self._commit(ms, "write", {"numFiles": len(adds), "numOutputRows": len(vers)}, adds=adds)

    def merge(self, ms: int, vers: np.ndarray, sync_index: int) -> None:
        recs = self.rec[vers]
        old = self.cur[recs]
        matched = old >= 0
        adds, removes = [], []
        # New Ids: one new file per partition.
        ins = vers[~matched]
        ins_part = self.t.partition[self.rec[ins]]
        for p in np.unique(ins_part):
            m = ins_part == p
            adds.append(self._add_file(int(p), ins[m], np.full(m.sum(), ms), ms))
        # Matched Ids: every file holding one is rewritten with the new versions (copy-on-write).
        copied = 0
        self.pending[recs[matched]] = vers[matched]
        for fid in np.unique(self.loc[recs[matched]]):
            f = self.files[fid]
            new = self.pending[self.rec[f.vers]]
            hit = new >= 0
            copied += int((~hit).sum())
            nv = np.where(hit, new, f.vers)
            ns = np.where(hit, ms, f.sink)
            removes.append(int(fid))
            self._remove_file(int(fid), ms)
            adds.append(self._add_file(f.partition, nv, ns, ms))
        self.pending[recs[matched]] = -1
        # Change data: inserts, and a pre/post image pair per matched Id.
        mv, mo = vers[matched], old[matched]
        cvers = np.concatenate([ins, mo, mv])
        csink = np.concatenate([np.full(len(ins), ms), self.sink[recs[matched]], np.full(len(mv), ms)])
        ctype = np.concatenate([np.full(len(ins), INSERT), np.full(len(mo), PREIMAGE), np.full(len(mv), POSTIMAGE)])
        order = np.lexsort((ctype, self.rec[cvers]))
        cdcs = self._add_changes(ms, cvers[order], csink[order], ctype[order].astype(np.int8))
        self.cur[recs] = vers
        self.sink[recs] = ms
        c = self._commit(ms, "merge", {"numSourceRows": len(vers), "numTargetRowsInserted": len(ins),
                                       "numTargetRowsUpdated": int(matched.sum()), "numTargetRowsDeleted": 0,
                                       "numTargetRowsCopied": copied,
                                       "numOutputRows": len(vers) + copied}, adds, removes, cdcs)
        self.sync_version[sync_index] = c.version

    def purge(self, ms: int) -> None:
        """The 28-day purge: rows soft-deleted (landed) 28 days ago are physically deleted."""
        cutoff = ms - PURGE_AFTER * 1000
        in_table = self.cur >= 0
        deleted = np.zeros(len(self.cur), dtype=bool)
        deleted[in_table] = self.t.versions.is_delete[self.cur[in_table]]
        victims = np.flatnonzero(deleted & (self.sink <= cutoff))
        if len(victims) == 0:
            return
        adds, removes, copied = [], [], 0
        gone = np.zeros(len(self.cur), dtype=bool)
        gone[victims] = True
        for fid in np.unique(self.loc[victims]):
            f = self.files[fid]
            keep = ~gone[self.rec[f.vers]]
            kept_vers, kept_sink = f.vers[keep], f.sink[keep]
            removes.append(int(fid))
            self._remove_file(int(fid), ms)
            if keep.any():
                copied += int(keep.sum())
                adds.append(self._add_file(f.partition, kept_vers, kept_sink, ms))
        vers = self.cur[victims]
        cdcs = self._add_changes(ms, vers, self.sink[victims], np.full(len(vers), DELETE, np.int8))
        self.cur[victims] = -1
        self.loc[victims] = -1
        self.purged += len(victims)
        self._commit(ms, "purge", {"numDeletedRows": len(victims), "numCopiedRows": copied,
                                   "cutoff_ms": cutoff}, adds, removes, cdcs)

    def optimize(self, ms: int) -> None:
        """Bin-pack small files of a partition into files of about rows_per_file rows."""
        target = self.t.spec.rows_per_file
        adds, removes = [], []
        for p in sorted(self.live):
            small = [fid for fid in self.live[p] if self.files[fid].rows < target // 2]
            if len(small) < OPTIMIZE_MIN_FILES:
                continue
            bins, current, rows = [], [], 0
            for fid in small:
                current.append(fid)
                rows += self.files[fid].rows
                if rows >= target:
                    bins.append(current)
                    current, rows = [], 0
            bins.append(current)
            for group in (b for b in bins if len(b) > 1):
                vers = np.concatenate([self.files[fid].vers for fid in group])
                sink = np.concatenate([self.files[fid].sink for fid in group])
                for fid in group:
                    removes.append(fid)
                    self._remove_file(fid, ms)
                adds.append(self._add_file(p, vers, sink, ms))
        if adds:
            self._commit(ms, "optimize", {"numRemovedFiles": len(removes), "numAddedFiles": len(adds)},
                         adds, removes)


def run_log(table: TableData, rng, window: Window, v0_ms: int, vacuum: bool = True) -> LogSim:
    """The table's commits in time order: version 0, the syncs, the nightly jobs. ``vacuum``
    False: no file is ever vacuumed (every file is written)."""
    slot_ms = table.no * 20_000
    nights = [(window.start + d * DAY + NIGHTLY_AT) * 1000 + slot_ms for d in range(1, window.days + 1)]
    # The last night's VACUUM runs after its purge and OPTIMIZE (at +0 s and +40 s).
    cutoff = nights[-1] + VACUUM_AFTER_MS - RETENTION * 1000 if vacuum else -(2**62)
    sim = LogSim(table, rng, vacuum_cutoff_ms=cutoff)
    sim.write_initial(v0_ms)
    batches = landing_batches(table)
    events = [(int(ms), 0, i) for i, ms in enumerate(table.landing.commit_ms)]
    events += [(ms, 1, -1) for ms in nights]
    for ms, what, i in sorted(events):
        if what == 0:
            sim.merge(ms, batches[i], i)
        else:
            sim.purge(ms)
            sim.optimize(ms + 40_000)
    return sim


def landing_batches(table: TableData) -> list[np.ndarray]:
    """Per sync commit: the versions it lands (first landings and re-landings)."""
    lg = table.landing
    first = np.flatnonzero(lg.lands)
    commit = np.concatenate([lg.first_commit[first], lg.relanded_commit])
    vers = np.concatenate([first, lg.relanded_version])
    order = np.lexsort((vers, commit))
    commit, vers = commit[order], vers[order]
    bounds = np.searchsorted(commit, np.arange(len(lg.commit_ms) + 1))
    return [vers[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


# ------------------------------------------------------------------------------ writing files
LAYOUTS = ("synapse", "fabric")
ENGINE = {"synapse": "Apache-Spark/3.4.1 Delta-Lake/2.4.0", "fabric": "Apache-Spark/3.5.1 Delta-Lake/3.2.0"}
TABLE_PROPERTIES = {
    "delta.enableChangeDataFeed": "true",
    "delta.checkpointInterval": "10",
    "delta.deletedFileRetentionDuration": "interval 2 days",
    "delta.logRetentionDuration": "interval 30 days",
    "delta.dataSkippingNumIndexedCols": "0",
}
KEEP_CHECKPOINTS = 2


def table_dir(layout: str, name: str) -> str:
    """Where a table lives under DEST, per layout."""
    if layout == "fabric":
        return f"Tables/{name.lower()}"
    return f"deltalake/{name}_partitioned"


def rows_table(table: TableData, vers: np.ndarray, sink_ms: np.ndarray, change=None) -> pa.Table:
    """The rows of one file: record columns, version columns and the Sink times of its landing."""
    ridx = pa.array(table.versions.rec[vers])
    vidx = pa.array(vers)
    sink = pa.array(np.asarray(sink_ms, dtype=np.int64) * 1000, pa.timestamp("us", tz="UTC"))
    arrays, fields = [], []
    for name, _, atype in table.columns:
        if name in ("SinkCreatedOn", "SinkModifiedOn"):
            arr = sink
        elif name in table.record_cols:
            arr = table.record_cols[name].take(ridx)
        else:
            arr = table.version_cols[name].take(vidx)
        arrays.append(arr)
        fields.append(pa.field(name, atype))
    if change is not None:
        arrays.append(take_strings(CHANGE_TYPES, change))
        fields.append(pa.field("_change_type", pa.string()))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(path: Path, tbl: pa.Table) -> int:
    """zstd, delta-encoded times and numbers, no Arrow schema in the footer (Spark writes none):
    the encodings any Parquet reader reads, chosen to keep the sample within its size budget."""
    path.parent.mkdir(parents=True, exist_ok=True)
    delta = [f.name for f in tbl.schema
             if (pa.types.is_timestamp(f.type) and not f.name.startswith("Sink")) or pa.types.is_int64(f.type)]
    # Dictionaries only pay off in files of some size; column statistics are left out (each
    # file's footer would otherwise double for the small files most commits write).
    dictionary = [n for n in tbl.column_names if n not in delta] if tbl.num_rows >= 200 else False
    pq.write_table(tbl, path, compression="zstd", store_schema=False, write_statistics=False,
                   use_dictionary=dictionary, column_encoding={n: "DELTA_BINARY_PACKED" for n in delta})
    return path.stat().st_size


def size_model(sizes: list[tuple[int, int]]) -> tuple[float, float]:
    """bytes ~ a + b * rows, fitted on written files: sizes of vacuumed files are estimated."""
    if len(sizes) < 2:
        return 2500.0, 20.0
    rows, size = np.array(sizes, dtype=float).T
    b, a = np.polyfit(rows, size, 1) if np.ptp(rows) > 0 else (0.0, size.mean())
    return max(a, 500.0), max(b, 1.0)


def write_table_files(table: TableData, sim: LogSim, tdir: Path) -> None:
    """Write the data and change files that survive the final vacuum; size the others."""
    data_sizes, change_sizes = [], []
    for f in sim.files:
        if f.vers is not None and (f.removed_ms is None or f.removed_ms >= sim.cutoff):
            f.size = write_parquet(tdir / f.path, rows_table(table, f.vers, f.sink))
            data_sizes.append((f.rows, f.size))
    for cf in sim.changes:
        if cf.vers is not None:
            cf.size = write_parquet(tdir / cf.path, rows_table(table, cf.vers, cf.sink, cf.change))
            change_sizes.append((cf.rows, cf.size))
    a, b = size_model(data_sizes)
    for f in sim.files:
        if not f.size:
            f.size = int(a + b * f.rows)
    a, b = size_model(change_sizes)
    for cf in sim.changes:
        if not cf.size:
            cf.size = int(a + b * cf.rows)


def schema_string(columns: list) -> str:
    fields = [{"name": n, "type": t, "nullable": True, "metadata": {}} for n, t, _ in columns]
    return json.dumps({"type": "struct", "fields": fields}, separators=(",", ":"))


def commit_info(c: Commit, sim: LogSim | None, layout: str, txn: str) -> dict:
    """commitInfo as Spark writes it: camelCase operation metrics as strings."""
    added = sum(sim.files[i].size for i in c.adds) if sim else 0
    removed = sum(sim.files[i].size for i in c.removes) if sim else 0
    m = c.metrics
    if c.kind == "write":
        op, params = "WRITE", {"mode": "Overwrite", "partitionBy": json.dumps(m.get("partitionBy", ["PartitionId"]))}
        metrics = {"numFiles": m["numFiles"], "numOutputRows": m["numOutputRows"],
                   "numOutputBytes": m.get("numOutputBytes", added)}
    elif c.kind == "merge":
        op = "MERGE"
        params = {"predicate": '["(Id#1 = Id#2)"]', "matchedPredicates": '[{"actionType":"update"}]',
                  "notMatchedPredicates": '[{"actionType":"insert"}]'}
        metrics = dict(m, numTargetFilesAdded=len(c.adds), numTargetFilesRemoved=len(c.removes),
                       numTargetChangeFilesAdded=len(c.cdcs), numTargetBytesAdded=added,
                       numTargetBytesRemoved=removed, executionTimeMs=int(sim.rng.integers(3000, 40000)))
    elif c.kind == "purge":
        op = "DELETE"
        params = {"predicate": f'["((IsDelete#3 = true) AND (SinkModifiedOn#2 <= {iso_ms(m["cutoff_ms"])}))"]'}
        metrics = {"numRemovedFiles": len(c.removes), "numAddedFiles": len(c.adds),
                   "numAddedChangeFiles": len(c.cdcs), "numDeletedRows": m["numDeletedRows"],
                   "numCopiedRows": m["numCopiedRows"], "numRemovedBytes": removed, "numAddedBytes": added}
    else:
        op, params = "OPTIMIZE", {"predicate": "[]", "zOrderBy": "[]"}
        metrics = {"numRemovedFiles": len(c.removes), "numAddedFiles": len(c.adds),
                   "numRemovedBytes": removed, "numAddedBytes": added}
    info = {"timestamp": c.ms, "operation": op, "operationParameters": params}
    if c.version > 0:
        info["readVersion"] = c.version - 1
    info.update({"isolationLevel": "SnapshotIsolation" if op == "OPTIMIZE" else "Serializable",
                 "isBlindAppend": False, "operationMetrics": {k: str(v) for k, v in metrics.items()},
                 "engineInfo": ENGINE[layout], "txnId": txn})
    return {"commitInfo": info}


def log_lines(c: Commit, sim: LogSim, partitioned: bool) -> list[dict]:
    """add / remove / cdc actions of a commit."""
    data_change = c.kind != "optimize"

    def pv(p):
        return {"PartitionId": sim.t.partitions[p]} if partitioned else {}

    out = []
    for i in c.adds:
        f = sim.files[i]
        out.append({"add": {"path": f.path, "partitionValues": pv(f.partition), "size": f.size,
                            "modificationTime": f.added_ms, "dataChange": data_change, "stats": f.stats}})
    for i in c.removes:
        f = sim.files[i]
        out.append({"remove": {"path": f.path, "deletionTimestamp": c.ms, "dataChange": data_change,
                               "extendedFileMetadata": True, "partitionValues": pv(f.partition),
                               "size": f.size}})
    for i in c.cdcs:
        cf = sim.changes[i]
        out.append({"cdc": {"path": cf.path, "partitionValues": pv(cf.partition), "size": cf.size,
                            "dataChange": False}})
    return out


def table_header(rng, columns: list, partitioned: bool, created_ms: int, properties: dict) -> list[dict]:
    (table_id,) = uuid_texts(rng, 1)
    return [{"protocol": {"minReaderVersion": 1, "minWriterVersion": 4 if properties else 2}},
            {"metaData": {"id": table_id, "format": {"provider": "parquet", "options": {}},
                          "schemaString": schema_string(columns),
                          "partitionColumns": ["PartitionId"] if partitioned else [],
                          "configuration": properties, "createdTime": created_ms}}]


def write_json(path: Path, actions: list[dict], ms: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(a, separators=(",", ":")) + "\n" for a in actions))
    os.utime(path, (ms / 1000, ms / 1000))


def write_log(table: TableData, sim: LogSim, tdir: Path, layout: str) -> None:
    log = tdir / "_delta_log"
    columns = table.columns + [("PartitionId", "string", pa.string())]
    txns = uuid_texts(sim.rng, len(sim.commits))
    for c in sim.commits:
        actions = [commit_info(c, sim, layout, txns[c.version])]
        if c.version == 0:
            actions += table_header(sim.rng, columns, True, c.ms, TABLE_PROPERTIES)
        actions += log_lines(c, sim, partitioned=True)
        write_json(log / f"{c.version:020d}.json", actions, c.ms)


def write_checkpoints(tdir: Path, commits_ms: list[int]) -> list[int]:
    """The latest checkpoints (every 10 commits), written by deltalake from the log."""
    from deltalake import DeltaTable

    last = len(commits_ms) - 1
    versions = [v for v in range(10, last + 1, 10)][-KEEP_CHECKPOINTS:]
    for v in versions:
        DeltaTable(str(tdir), version=v).create_checkpoint()
    log = tdir / "_delta_log"
    for v in versions:
        for p in log.glob(f"{v:020d}.checkpoint*.parquet"):
            os.utime(p, (commits_ms[v] / 1000,) * 2)
    if versions:
        os.utime(log / "_last_checkpoint", (commits_ms[versions[-1]] / 1000,) * 2)
    return versions


def set_file_times(sim: LogSim, tdir: Path) -> None:
    for f in sim.files:
        p = tdir / f.path
        if p.exists():
            os.utime(p, (f.added_ms / 1000,) * 2)
    for cf in sim.changes:
        p = tdir / cf.path
        if p.exists():
            os.utime(p, (cf.commit_ms / 1000,) * 2)
