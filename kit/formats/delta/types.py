"""Delta schema types in the engine's SQL."""

from __future__ import annotations

import re

_PRIMITIVE_SQL = {
    "string": "VARCHAR",
    "long": "BIGINT",
    "integer": "INTEGER",
    "short": "SMALLINT",
    "byte": "TINYINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "binary": "BLOB",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "timestamp_ntz": "TIMESTAMP",
}


def sql_type(delta_type) -> str | None:
    """The DuckDB type of a Delta schema type (JSON form); None for nested types."""
    if isinstance(delta_type, str):
        if delta_type in _PRIMITIVE_SQL:
            return _PRIMITIVE_SQL[delta_type]
        m = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", delta_type)
        if m:
            return f"DECIMAL({m.group(1)},{m.group(2)})"
    return None
