"""The tables' column values, per record and per version, and everything else known about a
table (``TableData``).

Columns: ``Id`` (GUID text; Dataverse ids are sequential GUIDs as SQL Server makes them; the F&O
table packs its table id 359 into the first group and the RecId little-endian into the last
eight bytes), ``SinkCreatedOn`` = ``SinkModifiedOn`` = the time of the commit that landed the
row, the table's columns (real names and choice values from ``kit/sample/schemas.json``: taken
from microsoft/CDM under CC-BY-4.0, see ``kit/sample/SCHEMAS_LICENCE.md``; lookups as the triple
``<col>``, ``<col>_entitytype``, ``<col>name``), ``IsDelete`` and ``PartitionId``. Timestamps are
INT64 microseconds, UTC; Dataverse times have whole seconds. ``accountleads`` has no
``createdon`` and no ``modifiedon`` (intersect tables carry their keys and ``versionnumber``
only), so by DEFINITIONS its kind is ``other``; its ``PartitionId`` is the year of its first
landing (unconfirmed upstream). A soft delete is a new version with ``IsDelete`` true and
``modifiedon`` = the time of the delete; the other columns keep their last values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import decimal_array, group_starts, take_strings, timestamps
from .clock import DAY, year_of
from .schemas import ARROW_TYPES, DELTA_TYPES, FIRST, LAST, PERSON_PARTS, USERS, vocabulary
from .simulate import Landing, Records, Versions
from .spec import END, LEGACY_DATE_TABLE, SENTINEL, TableSpec

FO_PARTITION = 5637144576            # F&O's default partition key (also the first RecId)
FO_COMPANIES = ["usmf", "usmf", "usmf", "demf", "gbsi"]
FO_USERS = ["Admin", "batchjob", "jonas.f", "maria.r", "dual-write"]
NODES = np.array([0x8409000D3A4A1C2B, 0x9A7F6045BD0069AA, 0xB3D4000D3AB5E1F7, 0x7C2E6045BDE4A1D0],
                 dtype=np.uint64)


# -------------------------------------------------------------------------------------- ids
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex_columns(values: np.ndarray, nbytes: int, little_endian: bool) -> np.ndarray:
    """(n, 2*nbytes) ASCII hex digits of the low nbytes of each value."""
    v = np.asarray(values, dtype=np.uint64)
    shifts = np.arange(nbytes, dtype=np.uint64) * np.uint64(8)
    if not little_endian:
        shifts = shifts[::-1]
    octets = ((v[:, None] >> shifts[None, :]) & np.uint64(0xFF)).astype(np.uint8)
    out = np.empty((len(v), 2 * nbytes), dtype=np.uint8)
    out[:, 0::2] = _HEX[octets >> 4]
    out[:, 1::2] = _HEX[octets & 0x0F]
    return out


def dataverse_ids(counter: np.ndarray, created: np.ndarray) -> pa.Array:
    """Sequential GUIDs as Dataverse (SQL Server) makes them: the first bytes count up, the
    third group marks the era, the last eight bytes name the server."""
    counter = np.asarray(counter, dtype=np.uint64)
    year = np.clip(year_of(created), 2019, 2030).astype(np.uint64)
    era = (np.uint64(0xE9) + (year - np.uint64(2019))) << np.uint64(8) | np.uint64(0x11)
    node = NODES[(counter >> np.uint64(28)) % np.uint64(len(NODES))]  # one server per table
    n = len(counter)
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    tail = _hex_columns(node, 8, little_endian=False)
    day = (np.asarray(created, dtype=np.int64) // DAY).astype(np.uint64)
    second = (counter >> np.uint64(32)) ^ (day * np.uint64(0x9E37) & np.uint64(0xFFFF))
    parts = [_hex_columns(counter, 4, True), dash, _hex_columns(second, 2, True),
             dash, _hex_columns(era, 2, False), dash, tail[:, :4], dash, tail[:, 4:]]
    return _ascii_strings(np.concatenate(parts, axis=1))


def fo_ids(tableid: int, recid: np.ndarray) -> pa.Array:
    """F&O row ids: table id in hex in the first group, RecId little-endian in the last 8 bytes."""
    n = len(recid)
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    zeros = np.full((n, 4), ord("0"), dtype=np.uint8)
    tail = _hex_columns(np.asarray(recid, dtype=np.uint64), 8, little_endian=True)
    parts = [_hex_columns(np.full(n, tableid, dtype=np.uint64), 4, False), dash, zeros, dash, zeros,
             dash, tail[:, :4], dash, tail[:, 4:]]
    return _ascii_strings(np.concatenate(parts, axis=1))


def _ascii_strings(matrix: np.ndarray) -> pa.Array:
    n, width = matrix.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(matrix.tobytes()))


def skewed_choice(rng, n: int, k: int) -> np.ndarray:
    """Indices 0..k-1, the first ones more frequent (real choice columns are skewed)."""
    w = 1.0 / (np.arange(k) + 1.0)
    return rng.choice(k, n, p=w / w.sum())


def code_texts(pattern: str, numbers: np.ndarray) -> pa.Array:
    """'ACC-{:06d}'-style codes, vectorised with pyarrow string kernels."""
    prefix, rest = pattern.split("{", 1)
    width = int(rest.split(":", 1)[1].split("d", 1)[0]) if ":" in rest.split("}")[0] else 0
    suffix = rest.split("}", 1)[1]
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, suffix, "")


# ---------------------------------------------------------------------------------- columns
@dataclass
class TableData:
    """Everything known about one table: spec, schema, simulation, landing, columns."""

    no: int
    spec: TableSpec
    schema: dict
    versions: Versions
    records: Records
    landing: Landing = None
    ids: pa.Array = None                 # per record
    primary: pa.Array = None             # per record: the primary name (for lookups)
    partition: np.ndarray = None         # per record: index into partitions
    partitions: list = None              # partition values ('2026', '1900', ...)
    created_written: np.ndarray = None   # per record: createdon as written (F&O legacy 1900)
    person: np.ndarray = None            # per record: the person its name columns describe
    states: np.ndarray = None            # per version: statecode (statuscode follows it)
    sink0: np.ndarray = None             # per version: Sink time (ms) of version 0's rows
    v0_ms: int = 0                       # when version 0 (the initial load) was committed
    record_cols: dict = None             # name -> per-record array
    version_cols: dict = None            # name -> per-version array
    columns: list = None                 # [(name, delta type, arrow type)] in file order

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def has_modifiedon(self) -> bool:
        return any(c["role"] == "modified" for c in self.schema["columns"])


def record_basics(rng, table: TableData) -> None:
    """Ids, primary names, createdon as written, partitions: what other tables' lookups need."""
    spec, recs = table.spec, table.records
    n = len(recs)
    created = recs.created.copy()
    if spec.name == LEGACY_DATE_TABLE:
        # Legacy F&O rows created before createddatetime was enabled carry the default date.
        legacy = np.zeros(n, dtype=bool)
        legacy[: recs.n_initial] = rng.random(recs.n_initial) < 0.06
        created[legacy] = SENTINEL
    table.created_written = created
    if spec.kind == "finance_operations":
        table.ids = fo_ids(table.schema["tableid"], FO_PARTITION + 1000 + np.arange(n))
    else:
        table.ids = dataverse_ids((table.no + 1) * 0x10000000 + np.arange(n) * 3 + 0x1A2B, recs.created)
    # One person per record: first name, last name, full name and e-mail address agree.
    table.person = rng.integers(0, len(FIRST) * len(LAST), n)
    if spec.primary_name:
        col = next(c for c in table.schema["columns"] if c["name"] == spec.primary_name)
        vocab = vocabulary(col["arg"])
        pick = table.person if col["arg"] == "person" else rng.integers(0, len(vocab), n)
        table.primary = take_strings(vocab, pick)


def assign_partitions(table: TableData) -> None:
    """PartitionId: the year of createdon; for tables without createdon, of the first landing."""
    if table.has_modifiedon:
        years = year_of(table.created_written)
    else:
        v = table.versions
        first_ms = table.sink0.copy()
        landed = table.landing.first_commit >= 0
        first_ms[landed] = table.landing.commit_ms[table.landing.first_commit[landed]]
        firsts = group_starts(v.rec)
        years = year_of(first_ms[firsts] // 1000)
    table.partitions = [str(y) for y in np.unique(years)]
    table.partition = np.searchsorted(np.unique(years), years)


RECORD, VERSION = "record", "version"   # whether a column's values belong to the record or the version


def build_columns(rng, table: TableData, tables: dict) -> None:
    """Per-record and per-version column arrays, and the columns in the export's order."""
    v = table.versions
    timestamp = ARROW_TYPES["datetime"]
    rc, vc = {"Id": table.ids}, {}
    columns = [("Id", "string", pa.string()), ("SinkCreatedOn", "timestamp", timestamp),
               ("SinkModifiedOn", "timestamp", timestamp)]
    for col in table.schema["columns"]:
        if col["role"] == "lookup":
            triple = lookup_columns(rng, col, len(table.records), tables)
            rc.update(triple)
            columns += [(name, "string", pa.string()) for name in triple]
            continue
        builder = COLUMN_BUILDERS.get(col["role"])
        if builder is None:
            raise ValueError(f"unknown column role {col['role']!r} in {table.name}.{col['name']}")
        level, values = builder(rng, table, col, tables)
        (rc if level == RECORD else vc)[col["name"]] = values
        columns.append((col["name"], DELTA_TYPES[col["type"]], ARROW_TYPES[col["type"]]))
    columns.append(("IsDelete", "boolean", pa.bool_()))
    vc["IsDelete"] = pa.array(np.where(v.is_delete, True, None), pa.bool_())
    table.record_cols, table.version_cols, table.columns = rc, vc, columns


def text_column(rng, table: TableData, col: dict, tables) -> tuple:
    """Names from a vocabulary; a record's person columns describe one person."""
    kind, n = col["arg"], len(table.records)
    if col["name"] == table.spec.primary_name:
        return RECORD, table.primary
    if kind in PERSON_PARTS:
        return RECORD, take_strings(vocabulary(kind), PERSON_PARTS[kind](table.person))
    vocab = vocabulary(kind)
    return RECORD, take_strings(vocab, rng.integers(0, len(vocab), n))


def choice_column(rng, table: TableData, col: dict, tables) -> tuple:
    """Codes of a choice (skewed to the first options); volatile ones change with each version."""
    level = VERSION if col.get("volatile") else RECORD
    count = len(table.versions) if level == VERSION else len(table.records)
    options = np.asarray([o[0] for o in col["options"]])
    return level, pa.array(options[skewed_choice(rng, count, len(options))], ARROW_TYPES[col["type"]])


def number_column(rng, table: TableData, col: dict, tables) -> tuple:
    """Amounts and counts, log-uniform between low and high; money keeps its cents."""
    level = VERSION if col.get("volatile") else RECORD
    count = len(table.versions) if level == VERSION else len(table.records)
    x = np.exp(rng.uniform(np.log(max(col["low"], 1.0)), np.log(col["high"]), count))
    if col["type"] == "decimal":
        cents = np.round(x * 100) if col["role"] == "money" else np.round(x) * 100
        return level, decimal_array(cents.astype(np.int64))
    return level, pa.array(np.round(x).astype(np.int32 if col["type"] == "int32" else np.int64))


def state_column(rng, table: TableData, col: dict, tables) -> tuple:
    table.states = state_per_version(rng, col, table.versions)
    return VERSION, pa.array(table.states, pa.int32())


def reference_column(rng, table: TableData, col: dict, tables) -> tuple:
    """A key of a record of another table (the intersect table's two keys)."""
    target = tables[col["arg"]]
    pick = rng.integers(0, target.records.n_initial, len(table.records))
    return RECORD, pc.take(target.ids, pa.array(pick))


def constant(table: TableData, value, dtype) -> pa.Array:
    return pa.array(np.full(len(table.records), value, dtype))


COLUMN_BUILDERS = {
    "pk": lambda rng, t, col, tables: (RECORD, t.ids),
    "created": lambda rng, t, col, tables: (RECORD, timestamps(t.created_written)),
    "modified": lambda rng, t, col, tables: (VERSION, timestamps(t.versions.modified)),
    "version": lambda rng, t, col, tables: (VERSION, pa.array(t.versions.vn)),
    "text": text_column,
    "code": lambda rng, t, col, tables: (RECORD, code_texts(col["arg"], np.arange(len(t.records)) + 1001)),
    "choice": choice_column,
    "enum": choice_column,
    "flag": lambda rng, t, col, tables: (RECORD, pa.array(rng.random(len(t.records)) < 0.45)),
    "money": number_column,
    "int": number_column,
    "date": lambda rng, t, col, tables: (
        RECORD, timestamps((t.records.created // DAY + rng.integers(10, 120, len(t.records))) * DAY)),
    "ref": reference_column,
    "state": state_column,
    "status": lambda rng, t, col, tables: (VERSION, pa.array(status_for(rng, col, t.states), pa.int32())),
    # The system columns every F&O table exports.
    "fo_datastate": lambda rng, t, col, tables: (RECORD, constant(t, 0, np.int64)),
    "fo_modified": lambda rng, t, col, tables: (VERSION, timestamps(t.versions.modified)),
    "fo_created": lambda rng, t, col, tables: (RECORD, timestamps(t.created_written)),
    "fo_user": lambda rng, t, col, tables: (
        RECORD, take_strings(FO_USERS, skewed_choice(rng, len(t.records), len(FO_USERS)))),
    "fo_transaction": lambda rng, t, col, tables: (VERSION, pa.array(5_637_000_000 + t.versions.vn // 7)),
    "fo_company": lambda rng, t, col, tables: (
        RECORD, take_strings(FO_COMPANIES, rng.integers(0, len(FO_COMPANIES), len(t.records)))),
    "fo_recversion": lambda rng, t, col, tables: (   # 1 when inserted, a random number on update
        VERSION, pa.array(np.where(t.versions.ordinal == 0, 1, rng.integers(2, 2**31 - 1, len(t.versions))))),
    "fo_partition": lambda rng, t, col, tables: (RECORD, constant(t, FO_PARTITION, np.int64)),
    "fo_recid": lambda rng, t, col, tables: (
        RECORD, pa.array(FO_PARTITION + 1000 + np.arange(len(t.records), dtype=np.int64))),
    "fo_tableid": lambda rng, t, col, tables: (RECORD, constant(t, t.schema["tableid"], np.int64)),
    "partition_year": lambda rng, t, col, tables: (RECORD, take_strings(t.partitions, t.partition)),
}


def lookup_columns(rng, col: dict, n: int, tables: dict) -> dict:
    """<col>, <col>_entitytype, <col>name: a reference to a record of one of the targets."""
    name = col["name"]
    targets = col["arg"].split(",")
    if targets == ["systemuser"]:
        user = rng.integers(0, len(USERS), n)
        return {name: dataverse_ids(0x0F000000 + user * 5, np.full(n, END - 900 * DAY)),
                f"{name}_entitytype": take_strings(["systemuser"], np.zeros(n, np.int64)),
                f"{name}name": take_strings(USERS, user)}
    which = rng.integers(0, len(targets), n)
    ids, names = [], []
    for target in targets:
        t = tables[target]
        pick = pa.array(rng.integers(0, t.records.n_initial, n))
        ids.append(pc.take(t.ids, pick))
        names.append(pc.take(t.primary, pick))
    choose = pa.array(which.astype(np.int8))
    return {name: pc.choose(choose, *ids) if len(ids) > 1 else ids[0],
            f"{name}_entitytype": take_strings(targets, which),
            f"{name}name": pc.choose(choose, *names) if len(names) > 1 else names[0]}


def state_per_version(rng, col: dict, v: Versions) -> np.ndarray:
    """Open when created; a record's last version (and a share of old records) may be closed."""
    codes = np.array([o[0] for o in col["options"]])
    closed = codes[codes != codes.min()]
    close_draw = closed[skewed_choice(rng, len(v), len(closed))] if len(closed) else codes.min()
    last = v.ordinal == v.count - 1
    p_closed = np.where(v.initial, 0.25, np.where(last & (v.ordinal > 0), 0.45, 0.0))
    return np.where(rng.random(len(v)) < p_closed, close_draw, codes.min())


def status_for(rng, col: dict, states: np.ndarray) -> np.ndarray:
    """A status reason that belongs to the state (StatusMetadata's State column)."""
    out = np.empty(len(states), dtype=np.int64)
    for state in np.unique(states):
        options = [o[0] for o in col["options"] if o[2] == state]
        mask = states == state
        out[mask] = np.asarray(options)[skewed_choice(rng, int(mask.sum()), len(options))]
    return out
