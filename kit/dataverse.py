"""What Dataverse columns mean: table kinds, live state, choice labels, F&O record ids.

FORMAT.md sections 2, 4 and 5. Column names are matched case-insensitively, because Synapse Link
writes ``Id`` / ``IsDelete`` while Fabric lakehouse tables may lowercase them.
"""

from __future__ import annotations

import uuid

from .engines.sql import literal, quote
from .errors import NotDataverseTableError

DATAVERSE_COLUMNS = ("Id", "versionnumber", "modifiedon")
FNO_MARKERS = ("recid", "sysrowversion")
#: The option-set metadata tables an export writes beside the data (logical names).
METADATA_TABLES = (
    "optionsetmetadata",
    "globaloptionsetmetadata",
    "statemetadata",
    "statusmetadata",
    "targetmetadata",
)


def column_map(columns: list[str]) -> dict[str, str]:
    """Lower-cased name -> actual column name."""
    return {c.lower(): c for c in columns}


def table_kind(name: str, columns: list[str]) -> str:
    """``dataverse`` | ``finance_operations`` | ``metadata`` | ``other`` (DEFINITIONS.md)."""
    if name.lower() in METADATA_TABLES:
        return "metadata"
    cols = column_map(columns)
    if all(c.lower() in cols for c in DATAVERSE_COLUMNS):
        if any(m in cols for m in FNO_MARKERS):
            return "finance_operations"
        return "dataverse"
    return "other"


def require_columns(table: str, columns: list[str], needed: tuple[str, ...], needed_for: str) -> dict[str, str]:
    """The actual names of ``needed`` columns; NotDataverseTableError naming the missing ones."""
    cols = column_map(columns)
    missing = [c for c in needed if c.lower() not in cols]
    if missing:
        raise NotDataverseTableError(table, missing, needed_for)
    return {c: cols[c.lower()] for c in needed}


def is_deleted_sql(column: str) -> str:
    """SQL that is true when an IsDelete value means deleted (boolean, or 'True'/'1' text)."""
    return f"coalesce(lower(CAST({quote(column)} AS VARCHAR)) in ('true', '1'), false)"


def latest_order_sql(columns: list[str]) -> str:
    """The order that ranks an Id's rows latest first: the highest ``versionnumber``, then the
    latest ``SinkModifiedOn`` (duplicate versionnumbers occur: retries)."""
    cols = column_map(columns)
    order = [f"{quote(cols['versionnumber'])} desc nulls last"]
    if "sinkmodifiedon" in cols:
        order.append(f"{quote(cols['sinkmodifiedon'])} desc nulls last")
    return ", ".join(order)


def latest_version_sql(view: str, columns: list[str], select: str = "*") -> str:
    """``select`` over each Id's latest row of ``view``: the highest ``versionnumber``, then
    the latest ``SinkModifiedOn`` (duplicate versionnumbers occur: retries). Soft-deleted rows
    are kept; ``live_sql`` drops them."""
    c = require_columns(view, columns, ("Id", "versionnumber"), "the latest version per Id")
    return (
        f"select {select} from {quote(view)} qualify row_number() over "
        f"(partition by {quote(c['Id'])} order by {latest_order_sql(columns)}) = 1"
    )


def live_sql(view: str, columns: list[str]) -> str:
    """The latest version per Id (highest versionnumber, then SinkModifiedOn), soft-deleted
    records dropped."""
    cols = column_map(columns)
    latest = latest_version_sql(view, columns)
    if "isdelete" not in cols:
        return latest
    return f"select * from ({latest}) where not {is_deleted_sql(cols['isdelete'])}"


def labels_sql(table: str, column: str, language: int, metadata: set[str]) -> str | None:
    """SQL returning (code, label) for a choice column of ``table``; None when the lake has no
    metadata table that could hold it."""
    col, lang, ent = literal(column.lower()), int(language), literal(table.lower())
    if column.lower() == "statecode" and "statemetadata" in metadata:
        return (
            'select CAST("State" AS BIGINT) AS code, first("LocalizedLabel" order by "IsUserLocalizedLabel" desc nulls last) AS label '
            f'from statemetadata where lower("EntityName") = {ent} and "LocalizedLabelLanguageCode" = {lang} '
            "group by 1 order by 1"
        )
    if column.lower() == "statuscode" and "statusmetadata" in metadata:
        return (
            'select CAST("Status" AS BIGINT) AS code, first("LocalizedLabel" order by "IsUserLocalizedLabel" desc nulls last) AS label '
            f'from statusmetadata where lower("EntityName") = {ent} and "LocalizedLabelLanguageCode" = {lang} '
            "group by 1 order by 1"
        )
    parts = []
    if "optionsetmetadata" in metadata:
        parts.append(
            'select CAST("Option" AS BIGINT) AS code, "LocalizedLabel" AS label, "IsUserLocalizedLabel" AS user_label, 1 AS rank '
            f'from optionsetmetadata where lower("EntityName") = {ent} and lower("OptionSetName") = {col} '
            f'and "LocalizedLabelLanguageCode" = {lang}'
        )
    if "globaloptionsetmetadata" in metadata:
        parts.append(
            'select CAST("Option" AS BIGINT) AS code, "LocalizedLabel" AS label, "IsUserLocalizedLabel" AS user_label, 2 AS rank '
            f'from globaloptionsetmetadata where lower("EntityName") = {ent} and lower("OptionSetName") = {col} '
            f'and "LocalizedLabelLanguageCode" = {lang}'
        )
    if not parts:
        return None
    union = " union all ".join(parts)
    # The entity's own option set wins over a global one; a user label over the default.
    return (
        f"select code, first(label order by rank, user_label desc nulls last) AS label from ({union}) "
        "group by code order by code"
    )


# -- finance and operations record ids --------------------------------------------------------
def fno_decode(record_id: str) -> tuple[int, int]:
    """(table id, RecId) packed in an F&O ``Id`` GUID: the first group is the table id in hex,
    the last 8 bytes are the RecId, little-endian.

    >>> fno_decode("0000277d-0000-0000-0100-000000000000")
    (10109, 1)
    """
    g = uuid.UUID(str(record_id))
    table_id = int(str(g).split("-")[0], 16)
    recid = int.from_bytes(g.bytes[8:], "little")
    return table_id, recid


def fno_encode(table_id: int, recid: int) -> str:
    """The ``Id`` GUID of an F&O record (inverse of ``fno_decode``)."""
    raw = table_id.to_bytes(4, "big") + b"\x00" * 4 + recid.to_bytes(8, "little")
    return str(uuid.UUID(bytes=raw))


def fno_sql(column: str) -> tuple[str, str]:
    """DuckDB expressions (table id, RecId) decoding an F&O ``Id`` column."""
    hexid = f"replace(CAST({quote(column)} AS VARCHAR), '-', '')"
    table_id = f"CAST(('0x' || substr({hexid}, 1, 8)) AS BIGINT)"
    little = " || ".join(f"substr({hexid}, {17 + 2 * i}, 2)" for i in range(7, -1, -1))
    recid = f"CAST(('0x' || {little}) AS UBIGINT)"
    return table_id, recid
