"""The option-set metadata tables (``OptionsetMetadata``, ``GlobalOptionsetMetadata``,
``StateMetadata``, ``StatusMetadata``, ``TargetMetadata``): unpartitioned, one WRITE each, a label
for every choice value used."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa

from .arrays import uuid_texts
from .columns import TableData
from .deltalog import ENGINE, table_dir, table_header, write_json, write_parquet

METADATA_TABLES = ("OptionsetMetadata", "GlobalOptionsetMetadata", "StateMetadata",
                   "StatusMetadata", "TargetMetadata")


def label_rows(tables: dict[str, TableData]) -> dict[str, list[dict]]:
    """Rows of the option-set metadata tables: a label for every choice the sample uses."""
    out = {name: [] for name in METADATA_TABLES}
    label = {"IsUserLocalizedLabel": False, "LocalizedLabelLanguageCode": 1033}
    for t in tables.values():
        for col in t.schema["columns"]:
            role, name = col["role"], col["name"]
            if role in ("choice", "flag") and not col.get("global"):
                out["OptionsetMetadata"] += [{"EntityName": t.name, "OptionSetName": name, "Option": o[0],
                                              **label, "LocalizedLabel": o[1]} for o in col["options"]]
            elif role in ("choice", "enum"):
                out["GlobalOptionsetMetadata"] += [
                    {"OptionSetName": name, "Option": o[0], **label, "LocalizedLabel": o[1],
                     "GlobalOptionSetName": col.get("enum", name), "EntityName": t.name,
                     "ExternalValue": o[2] if role == "enum" else None} for o in col["options"]]
            elif role == "state":
                out["StateMetadata"] += [{"EntityName": t.name, "State": o[0], **label, "LocalizedLabel": o[1]}
                                         for o in col["options"]]
            elif role == "status":
                out["StatusMetadata"] += [{"EntityName": t.name, "State": o[2], "Status": o[0], **label,
                                           "LocalizedLabel": o[1]} for o in col["options"]]
            elif role in ("lookup", "ref"):
                for target in col["arg"].split(","):
                    out["TargetMetadata"].append({"EntityName": t.name, "AttributeName": name,
                                                  "ReferencedEntity": target,
                                                  "ReferencedAttribute": f"{target}id"})
    return out


METADATA_COLUMNS = {
    "OptionsetMetadata": [("EntityName", "string"), ("OptionSetName", "string"), ("Option", "integer"),
                          ("IsUserLocalizedLabel", "boolean"), ("LocalizedLabelLanguageCode", "integer"),
                          ("LocalizedLabel", "string")],
    "GlobalOptionsetMetadata": [("OptionSetName", "string"), ("Option", "integer"),
                                ("IsUserLocalizedLabel", "boolean"), ("LocalizedLabelLanguageCode", "integer"),
                                ("LocalizedLabel", "string"), ("GlobalOptionSetName", "string"),
                                ("EntityName", "string"), ("ExternalValue", "string")],
    "StateMetadata": [("EntityName", "string"), ("State", "integer"), ("IsUserLocalizedLabel", "boolean"),
                      ("LocalizedLabelLanguageCode", "integer"), ("LocalizedLabel", "string")],
    "StatusMetadata": [("EntityName", "string"), ("State", "integer"), ("Status", "integer"),
                       ("IsUserLocalizedLabel", "boolean"), ("LocalizedLabelLanguageCode", "integer"),
                       ("LocalizedLabel", "string")],
    "TargetMetadata": [("EntityName", "string"), ("AttributeName", "string"), ("ReferencedEntity", "string"),
                       ("ReferencedAttribute", "string")],
}
_ARROW_OF_DELTA = {"string": pa.string(), "integer": pa.int32(), "boolean": pa.bool_()}


def write_metadata_table(dest: Path, layout: str, name: str, rows: list[dict], rng, ms: int) -> dict:
    """A metadata table: one WRITE (Overwrite) commit, unpartitioned, one file."""
    tdir = dest / table_dir(layout, name)
    cols = METADATA_COLUMNS[name]
    schema = pa.schema([pa.field(c, _ARROW_OF_DELTA[t]) for c, t in cols])
    tbl = pa.Table.from_pylist(rows, schema=schema)
    (u,) = uuid_texts(rng, 1)
    path = f"part-00000-{u}.c000.zstd.parquet"
    size = write_parquet(tdir / path, tbl)
    os.utime(tdir / path, (ms / 1000,) * 2)
    (txn,) = uuid_texts(rng, 1)
    info = {"commitInfo": {"timestamp": ms, "operation": "WRITE",
                           "operationParameters": {"mode": "Overwrite", "partitionBy": "[]"},
                           "isolationLevel": "Serializable", "isBlindAppend": False,
                           "operationMetrics": {"numFiles": "1", "numOutputRows": str(len(rows)),
                                                "numOutputBytes": str(size)},
                           "engineInfo": ENGINE[layout], "txnId": txn}}
    add = {"add": {"path": path, "partitionValues": {}, "size": size, "modificationTime": ms,
                   "dataChange": True, "stats": json.dumps({"numRecords": len(rows)})}}
    columns = [(c, t, None) for c, t in cols]
    write_json(tdir / "_delta_log" / f"{0:020d}.json", [info] + table_header(rng, columns, False, ms, {}) + [add], ms)
    return {"kind": "metadata", "path": table_dir(layout, name), "rows": len(rows),
            "commits": {"sync": 1, "write": 1, "merge": 0, "optimize": 0, "purge": 0}}
