"""Analyse how Dynamics 365 / Dataverse data lands in a data lake.

    import kit
    lake = kit.open_lake("sample_lake")
    lake.tables()
    lake.sql("select count(*) from account").fetchall()
    lake.changes("account").df()
"""

from .errors import (
    KitError,
    KitWarning,
    SkippedTableWarning,
    LakeNotFoundError,
    NotDataverseTableError,
    StoreBusyError,
    StoreError,
    TableNotFoundError,
    UnreadableTableError,
)
from .lake import Lake, open_lake
from .metrics.latency import sync_latency
from .metrics.volume import change_volume
from .metrics.throughput import daily_volume, throughput
from .metrics.health import freshness, sync_cadence, sync_gaps
from .metrics.anomalies import anomalies
from .metrics.exactness import exact_spans

__all__ = [
    "anomalies",
    "change_volume",
    "daily_volume",
    "exact_spans",
    "freshness",
    "sync_cadence",
    "sync_gaps",
    "sync_latency",
    "throughput",
    "KitError",
    "KitWarning",
    "SkippedTableWarning",
    "Lake",
    "LakeNotFoundError",
    "NotDataverseTableError",
    "StoreBusyError",
    "StoreError",
    "TableNotFoundError",
    "UnreadableTableError",
    "open_lake",
]
__version__ = "0.1.0"
