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


# -- deletion vectors, written by hand (deltalake never writes them) ----------------------------
# What the low-latency Fabric Link engine writes: an update or a delete marks the old rows in a
# deletion vector (``remove`` + ``add`` of the same path with a ``deletionVector``) instead of
# rewriting the file; new row versions go to new files; the change feed gets change files.
_Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"


def z85_encode(data: bytes) -> str:
    import struct

    assert len(data) % 4 == 0
    out = []
    for i in range(0, len(data), 4):
        (value,) = struct.unpack(">I", data[i:i + 4])
        chars = []
        for _ in range(5):
            value, r = divmod(value, 85)
            chars.append(_Z85[r])
        out.append("".join(reversed(chars)))
    return "".join(out)


def roaring_bitmap_array(rows: list[int]) -> bytes:
    """The Delta deletion-vector bitmap of row indexes (all below 65,536, at most 4,096): magic,
    one 64-bit bucket, then a portable 32-bit roaring bitmap with one array container."""
    import struct

    rows = sorted(set(rows))
    assert rows and rows[-1] < 65536 and len(rows) <= 4096
    roaring = struct.pack("<II", 12346, 1) + struct.pack("<HH", 0, len(rows) - 1) + struct.pack("<I", 16)
    roaring += b"".join(struct.pack("<H", r) for r in rows)
    return struct.pack("<iq", 1681511377, 1) + struct.pack("<i", 0) + roaring


def write_deletion_vector(path: str, rows: list[int]) -> dict:
    """Write a deletion-vector file marking ``rows`` deleted; return its descriptor."""
    import struct
    import uuid
    import zlib

    data = roaring_bitmap_array(rows)
    ident = uuid.uuid4()
    with open(os.path.join(path, f"deletion_vector_{ident}.bin"), "wb") as fh:
        fh.write(b"\x01" + struct.pack(">i", len(data)) + data + struct.pack(">I", zlib.crc32(data)))
    return {"storageType": "u", "pathOrInlineDv": z85_encode(ident.bytes), "offset": 1,
            "sizeInBytes": len(data), "cardinality": len(set(rows))}


def _snapshot_rows(path: str) -> list[tuple[dict, int, dict]]:
    """(add action, row index, row) of every live row of the snapshot."""
    import pyarrow.parquet as pq
    from urllib.parse import unquote

    dt = DeltaTable(path)
    deleted = {}
    for dv in pa.table(dt.deletion_vectors()).to_pylist():
        local = unquote(dv["filepath"].removeprefix("file://"))
        deleted[os.path.normpath(local)] = {i for i, keep in enumerate(dv["selection_vector"]) if not keep}
    out = []
    for add in _live_adds(path):
        local = os.path.normpath(os.path.join(path, unquote(add["path"])))
        for i, r in enumerate(pq.read_table(local).to_pylist()):
            if i not in deleted.get(local, set()):
                out.append((add, i, r))
    return out


def _live_adds(path: str) -> list[dict]:
    """The snapshot's add actions, replayed from the JSON commits (tests keep every commit)."""
    live: dict[str, dict] = {}
    for f in sorted(glob.glob(os.path.join(path, "_delta_log", "*.json"))):
        with open(f) as fh:
            for line in fh:
                a = json.loads(line)
                if "remove" in a:
                    live.pop(a["remove"]["path"], None)
                elif "add" in a:
                    live[a["add"]["path"]] = a["add"]
    return list(live.values())


def _write_parquet(path: str, folder: str, table: pa.Table) -> dict:
    import uuid

    import pyarrow.parquet as pq

    rel = f"{folder}/part-{uuid.uuid4()}.snappy.parquet" if folder else f"part-{uuid.uuid4()}.snappy.parquet"
    os.makedirs(os.path.dirname(os.path.join(path, rel)), exist_ok=True)
    pq.write_table(table, os.path.join(path, rel))
    return {"path": rel, "size": os.path.getsize(os.path.join(path, rel))}


def dv_commit(st: "SyncTable", rows: list[dict], at: datetime, *, purge: bool = False) -> int:
    """Write one commit by hand, as the low-latency Fabric engine would with the change feed
    on: a MERGE landing ``rows`` (their old versions marked in deletion vectors, the new ones
    in a new file, pre/post images or inserts in change files), or with ``purge`` a DELETE of
    the soft-deleted rows through deletion vectors (change files with ``delete`` rows). The
    protocol moves to reader 3 / writer 7 with ``deletionVectors``. Returns the new version."""
    version = DeltaTable(st.path).version() + 1
    part = st.partition_by[0] if st.partition_by else None
    live = _snapshot_rows(st.path)
    by_id = {r["Id"]: (add, i, r) for add, i, r in live}
    if purge:
        victims = [(add, i, r) for add, i, r in live if r.get("IsDelete")]
        new_rows, changes = [], [dict(r, _change_type="delete") for _, _, r in victims]
    else:
        new_rows = list(rows_table(rows, at, st.schema).to_pylist())
        victims, changes = [], []
        for r in new_rows:
            old = by_id.get(r["Id"])
            if old is None:
                changes.append(dict(r, _change_type="insert"))
            else:
                victims.append(old)
                changes.append(dict(old[2], _change_type="update_preimage"))
                changes.append(dict(r, _change_type="update_postimage"))
    actions = [{"commitInfo": {"timestamp": int(at.timestamp() * 1000), "operation": "DELETE" if purge else "MERGE",
                               "operationMetrics": {"num_target_rows_inserted": sum(c["_change_type"] == "insert" for c in changes),
                                                    "num_target_rows_updated": sum(c["_change_type"] == "update_postimage" for c in changes),
                                                    "num_target_rows_deleted": len(victims) if purge else 0}}},
               {"protocol": {"minReaderVersion": 3, "minWriterVersion": 7, "readerFeatures": ["deletionVectors"],
                             "writerFeatures": ["changeDataFeed", "deletionVectors"]}}]
    # Old rows: one deletion vector per touched file (with the rows it already marked).
    touched: dict[str, tuple[dict, list[int]]] = {}
    for add, i, _ in victims:
        touched.setdefault(add["path"], (add, []))[1].append(i)
    for p, (add, idx) in touched.items():
        already = _dv_rows(st.path, add)
        dv = write_deletion_vector(st.path, already + idx)
        remove = {"path": p, "deletionTimestamp": int(at.timestamp() * 1000), "dataChange": True,
                  "partitionValues": add.get("partitionValues", {}), "size": add.get("size")}
        if add.get("deletionVector"):
            remove["deletionVector"] = add["deletionVector"]
        actions.append({"remove": remove})
        actions.append({"add": dict(add, dataChange=True, deletionVector=dv, modificationTime=int(at.timestamp() * 1000))})
    data_schema = pa.schema([f for f in st.schema if f.name != part])

    def group(rs):
        out: dict = {}
        for r in rs:
            out.setdefault(r.get(part) if part else None, []).append(r)
        return out
    for value, rs in group(new_rows).items():
        folder = f"{part}={value}" if part else ""
        info = _write_parquet(st.path, folder, pa.Table.from_pylist([{k: r.get(k) for k in data_schema.names} for r in rs], schema=data_schema))
        actions.append({"add": {**info, "partitionValues": {part: value} if part else {}, "modificationTime": int(at.timestamp() * 1000),
                                "dataChange": True, "stats": json.dumps({"numRecords": len(rs)})}})
    cdc_schema = data_schema.append(pa.field("_change_type", pa.string()))
    for value, rs in group(changes).items():
        folder = f"_change_data/{part}={value}" if part else "_change_data"
        info = _write_parquet(st.path, folder, pa.Table.from_pylist([{k: r.get(k) for k in cdc_schema.names} for r in rs], schema=cdc_schema))
        actions.append({"cdc": {**info, "partitionValues": {part: value} if part else {}, "dataChange": False}})
    log = os.path.join(st.path, "_delta_log", f"{version:020d}.json")
    with open(log, "w") as fh:
        fh.write("\n".join(json.dumps(a) for a in actions) + "\n")
    os.utime(log, (at.timestamp(), at.timestamp()))
    return version


def _dv_rows(path: str, add: dict) -> list[int]:
    """The row indexes an add action's deletion vector (written by ``write_deletion_vector``)
    marks deleted."""
    import struct
    import uuid

    dv = add.get("deletionVector")
    if not dv:
        return []
    raw = dv["pathOrInlineDv"]
    value = b""
    for i in range(0, len(raw), 5):
        n = 0
        for ch in raw[i:i + 5]:
            n = n * 85 + _Z85.index(ch)
        value += struct.pack(">I", n)
    with open(os.path.join(path, f"deletion_vector_{uuid.UUID(bytes=value)}.bin"), "rb") as fh:
        fh.seek(dv["offset"])
        (size,) = struct.unpack(">i", fh.read(4))
        data = fh.read(size)
    (card_minus_1,) = struct.unpack("<H", data[26:28])
    return list(struct.unpack(f"<{card_minus_1 + 1}H", data[32:32 + 2 * (card_minus_1 + 1)]))
