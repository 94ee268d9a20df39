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


def drop_commit_time(path: str, version: int) -> None:
    """Remove ``commitInfo.timestamp`` from one commit, as some Fabric commits lack it."""
    log = os.path.join(path, "_delta_log", f"{version:020d}.json")
    st = os.stat(log)
    with open(log) as fh:
        actions = [json.loads(line) for line in fh if line.strip()]
    for a in actions:
        if "commitInfo" in a:
            a["commitInfo"].pop("timestamp", None)
    with open(log, "w") as fh:
        fh.write("\n".join(json.dumps(a) for a in actions) + "\n")
    os.utime(log, (st.st_atime, st.st_mtime))


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
        (
            dt.merge(rows_table(rows, at, self.schema), "s.Id = t.Id", source_alias="s", target_alias="t")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
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
