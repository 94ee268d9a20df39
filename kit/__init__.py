"""Analyse how Dynamics 365 / Dataverse data lands in a data lake.

    import kit
    lake = kit.open_lake("sample_lake")
    lake.tables()
    lake.sql("select count(*) from account").fetchall()
    lake.changes("account").df()
"""

from .errors import (
    KitError,
    LakeNotFoundError,
    NotDataverseTableError,
    TableNotFoundError,
    UnreadableTableError,
)
from .lake import Lake, open_lake

__all__ = [
    "KitError",
    "Lake",
    "LakeNotFoundError",
    "NotDataverseTableError",
    "TableNotFoundError",
    "UnreadableTableError",
    "open_lake",
]
__version__ = "0.1.0"
