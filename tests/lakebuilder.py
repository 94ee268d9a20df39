"""Build tiny Dataverse-like Delta tables for tests, with deltalake, on a simulated clock.

A ``SyncTable`` behaves like the Synapse Link conversion: each ``sync`` is a MERGE on ``Id``
whose rows carry ``SinkCreatedOn = SinkModifiedOn = `` the sync time, and whose commit time
(``commitInfo.timestamp``) is set to that same simulated time. Tests compute their expected
answers by hand from what they passed in.
"""

from __future__ import annotations

import glob
import json
import os
from datetime import datetime, timedelta, timezone

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

UTC = timezone.utc


def t(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A UTC time in January 2026 (Jan 5 is a Monday)."""
    return datetime(2026, 1, day, hour, minute, second, tzinfo=UTC)


SCHEMA = pa.schema(
    [
        ("Id", pa.string()),
        ("versionnumber", pa.int64()),
        ("createdon", pa.timestamp("us", tz="UTC")),
        ("modifiedon", pa.timestamp("us", tz="UTC")),
        ("statecode", pa.int32()),
        ("name", pa.string()),
        ("IsDelete", pa.bool_()),
        ("SinkCreatedOn", pa.timestamp("us", tz="UTC")),
        ("SinkModifiedOn", pa.timestamp("us", tz="UTC")),
        ("PartitionId", pa.string()),
    ]
)


def rows_table(rows: list[dict], sink: datetime | None, schema: pa.Schema = SCHEMA) -> pa.Table:
    """Rows as dicts (Id, versionnumber, createdon, modifiedon, optional statecode, name,
    IsDelete) -> an Arrow table with the Sink columns set to ``sink``."""
    out = {f.name: [] for f in schema}
    for r in rows:
        for f in schema:
            if f.name in ("SinkCreatedOn", "SinkModifiedOn"):
                out[f.name].append(r.get(f.name, sink))
            elif f.name == "PartitionId":
                created = r.get("createdon")
                out[f.name].append(r.get("PartitionId", str(created.year) if created else "1900"))
            else:
                out[f.name].append(r.get(f.name))
    return pa.table(out, schema=schema)


def set_commit_time(path: str, when: datetime) -> None:
    """Rewrite the latest commit's ``commitInfo.timestamp`` (and file mtime) to ``when``."""
    log = sorted(glob.glob(os.path.join(path, "_delta_log", "*.json")))[-1]
    ms = int(when.timestamp() * 1000)
    lines = []
    with open(log) as fh:
        for line in fh:
            if not line.strip():
                continue
            action = json.loads(line)
            if "commitInfo" in action:
                action["commitInfo"]["timestamp"] = ms
            lines.append(json.dumps(action))
    with open(log, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.utime(log, (when.timestamp(), when.timestamp()))


def _drop_commit_info_key(path: str, version: int, key: str) -> None:
    """Remove one ``commitInfo`` key from a commit file, keeping its modification time."""
    log = os.path.join(path, "_delta_log", f"{version:020d}.json")
    st = os.stat(log)
    with open(log) as fh:
        actions = [json.loads(line) for line in fh if line.strip()]
    for a in actions:
        if "commitInfo" in a:
            a["commitInfo"].pop(key, None)
    with open(log, "w") as fh:
        fh.write("\n".join(json.dumps(a) for a in actions) + "\n")
    os.utime(log, (st.st_atime, st.st_mtime))


def drop_commit_time(path: str, version: int) -> None:
    """Remove ``commitInfo.timestamp`` from one commit, as some Fabric commits lack it."""
    _drop_commit_info_key(path, version, "timestamp")


class SyncTable:
    """A Dataverse table as Synapse Link lands it, on a simulated clock."""

    def __init__(self, path: str, *, change_feed: bool = True, schema: pa.Schema = SCHEMA, partition_by=("PartitionId",)):
        self.path = str(path)
        self.change_feed = change_feed
        self.schema = schema
        self.partition_by = list(partition_by)

    def initial(self, rows: list[dict], at: datetime) -> None:
        """Version 0: a WRITE of the initial load."""
        config = {"delta.enableChangeDataFeed": "true"} if self.change_feed else None
        write_deltalake(
            self.path, rows_table(rows, at, self.schema), partition_by=self.partition_by or None, configuration=config
        )
        set_commit_time(self.path, at)

    def sync(self, rows: list[dict], at: datetime) -> None:
        """A MERGE on Id landing ``rows`` at ``at`` (a re-landing when a row's version is
        already in the table)."""
        dt = DeltaTable(self.path)
        before = dt.version()
        (
            dt.merge(rows_table(rows, at, self.schema), "s.Id = t.Id", source_alias="s", target_alias="t")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
        # An empty merge writes no commit: never re-time the previous one.
        if self.version() != before:
            set_commit_time(self.path, at)

    def purge(self, at: datetime) -> None:
        """The physical delete of soft-deleted rows (the 28-day purge)."""
        before = self.version()
        DeltaTable(self.path).delete("IsDelete = true")
        assert self.version() == before + 1, "nothing to purge"
        set_commit_time(self.path, at)

    def optimize(self, at: datetime) -> bool:
        """A compaction (no data change); False when there was nothing to compact (no commit)."""
        before = self.version()
        DeltaTable(self.path).optimize.compact()
        if self.version() == before:
            return False
        set_commit_time(self.path, at)
        return True

    def vacuum_change_data(self) -> None:
        """Delete the change data files, as a vacuum past their retention would."""
        for f in glob.glob(os.path.join(self.path, "_change_data", "**", "*.parquet"), recursive=True):
            os.remove(f)

    def version(self) -> int:
        return DeltaTable(self.path).version()


def record(rid: str, version: int, created: datetime, modified: datetime, **extra) -> dict:
    return {"Id": rid, "versionnumber": version, "createdon": created, "modifiedon": modified, **extra}


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# -- helpers added for the health and anomaly tests --------------------------------------------
def merge_delete(table: SyncTable, ids: list[str], at: datetime) -> None:
    """A MERGE that physically deletes the rows with these ``Id``s: it changes data but inserts
    and updates nothing (metrics 0 inserted, 0 updated)."""
    before = table.version()
    source = pa.table({"Id": pa.array(ids, pa.string())})
    (
        DeltaTable(table.path)
        .merge(source, "s.Id = t.Id", source_alias="s", target_alias="t")
        .when_matched_delete()
        .execute()
    )
    assert table.version() == before + 1, "the merge deleted nothing"
    set_commit_time(table.path, at)


def drop_commit_metrics(path: str, version: int) -> None:
    """Remove ``commitInfo.operationMetrics`` from one commit, as older writers may omit them."""
    _drop_commit_info_key(path, version, "operationMetrics")


def plain_table(path: str, at: datetime) -> None:
    """A Delta table without Dataverse columns (no Id, versionnumber, modifiedon)."""
    write_deltalake(str(path), pa.table({"code": pa.array([1, 2], pa.int64()), "label": ["a", "b"]}))
    set_commit_time(str(path), at)


# -- additions for the reader tests (new helpers; nothing above changes) ----------------------
def _commit_actions(path: str, version: int) -> list[dict]:
    with open(os.path.join(path, "_delta_log", f"{version:020d}.json")) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def remove_change_data(path: str, versions) -> list[str]:
    """Delete the change data files written by the given commits, as a vacuum past their
    retention would; returns the files removed."""
    from urllib.parse import unquote

    removed = []
    for v in versions:
        for a in _commit_actions(path, v):
            if "cdc" in a:
                f = os.path.join(path, unquote(a["cdc"]["path"]))
                if os.path.exists(f):
                    os.remove(f)
                    removed.append(f)
    return removed


def vacuum_data_files(path: str) -> list[str]:
    """Delete every data file (outside ``_delta_log`` and ``_change_data``) that the current
    snapshot does not use, as VACUUM with zero retention would; returns the files removed."""
    from urllib.parse import unquote

    paths = pa.table(DeltaTable(path).get_add_actions(flatten=True)).column("path").to_pylist()
    live = {os.path.normpath(os.path.join(path, unquote(p))) for p in paths}
    removed = []
    for f in glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True):
        rel = os.path.relpath(f, path)
        if rel.startswith(("_delta_log", "_change_data")):
            continue
        if os.path.normpath(f) not in live:
            os.remove(f)
            removed.append(f)
    return removed


def set_file_mtime(path: str, version: int, when: datetime) -> None:
    """Set the modification time of one commit file (the log's clock when commitInfo has no
    timestamp)."""
    log = os.path.join(path, "_delta_log", f"{version:020d}.json")
    os.utime(log, (when.timestamp(), when.timestamp()))


def append_rows(st: "SyncTable", rows: list[dict], at: datetime) -> None:
    """A plain append landing ``rows`` at ``at`` (an insert-only sync: no change files, the
    added files are the inserts)."""
    write_deltalake(st.path, rows_table(rows, at, st.schema), mode="append", partition_by=st.partition_by or None)
    set_commit_time(st.path, at)


def write_plain(path: str, table: pa.Table, at: datetime | None = None, **kwargs) -> None:
    """Write any Arrow table as a Delta table (metadata tables, non-Dataverse tables)."""
    write_deltalake(path, table, **kwargs)
    if at is not None:
        set_commit_time(path, at)


def account_timeline(path: str, *, change_feed: bool = True) -> SyncTable:
    """Seven commits of an ``account`` table, on January 5 2026 (hand-checked in the reader
    tests): v0 WRITE at 00:00 (A1, B1, C1); v1 MERGE at 01:00 (A2, D1); v2 append at 02:00
    (F1); v3 OPTIMIZE at 03:00; v4 MERGE at 04:00 (A2 landed again, B2 soft delete); v5 purge
    of B at 05:00; v6 MERGE at 06:00 (C2, E1, F1 landed again)."""
    st = SyncTable(path, change_feed=change_feed)
    st.initial(
        [record("A", 1, t(4, 23, 50), t(4, 23, 50), name="a"), record("B", 1, t(4, 23, 55), t(4, 23, 55)),
         record("C", 1, t(4, 23, 56), t(4, 23, 56))],
        t(5, 0),
    )
    st.sync([record("A", 2, t(4, 23, 50), t(5, 0, 40), name="a2"), record("D", 1, t(5, 0, 50), t(5, 0, 50))], t(5, 1))
    append_rows(st, [record("F", 1, t(5, 1, 45), t(5, 1, 45))], t(5, 2))
    assert st.optimize(t(5, 3)), "the append left two files to compact"
    st.sync(
        [record("A", 2, t(4, 23, 50), t(5, 0, 40), name="a2"),
         record("B", 2, t(4, 23, 55), t(5, 2, 30), IsDelete=True)],
        t(5, 4),
    )
    st.purge(t(5, 5))
    st.sync(
        [record("C", 2, t(4, 23, 56), t(5, 5, 50)), record("E", 1, t(5, 5, 55), t(5, 5, 55)),
         record("F", 1, t(5, 1, 45), t(5, 1, 45))],
        t(5, 6),
    )
    return st
