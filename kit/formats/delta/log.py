"""The Delta log: commits as read from their JSON files, and their operation metrics."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ...errors import UnreadableTableError

COMMIT_FILE = re.compile(r"^(\d{20})\.json$")
#: The clocks a commit time can come from, best first.
TIME_SOURCES = ("in_commit_timestamp", "commit_info", "file_mtime")


@dataclass
class Commit:
    """One commit of the log, as read from its JSON file."""

    version: int
    committed_at: datetime
    #: Which clock ``committed_at`` is (``TIME_SOURCES``): ``in_commit_timestamp``
    #: (``commitInfo.inCommitTimestamp``), ``commit_info`` (``commitInfo.timestamp``) or
    #: ``file_mtime`` (the commit file's modification time).
    time_source: str
    operation: str | None
    metrics: dict
    adds: list[dict] = field(default_factory=list)
    removes: list[dict] = field(default_factory=list)
    cdcs: list[dict] = field(default_factory=list)
    configuration: dict | None = None  # set when the commit carries a metaData action

    @property
    def timestamp_source(self) -> str:  # the earlier name
        return self.time_source

    @property
    def data_change(self) -> bool:
        return any(a.get("dataChange", True) for a in self.adds + self.removes) or bool(self.cdcs)


# -- log parsing -----------------------------------------------------------------------------
METRIC_NAMES = ("rows_inserted", "rows_updated", "rows_deleted", "rows_copied", "source_rows")

# Spark writes camelCase strings; delta-rs writes snake_case numbers. First match wins.
_METRIC_KEYS = {
    "rows_inserted": ("numTargetRowsInserted", "num_target_rows_inserted"),
    "rows_updated": ("numTargetRowsUpdated", "numUpdatedRows", "num_target_rows_updated", "num_updated_rows"),
    "rows_deleted": ("numTargetRowsDeleted", "numDeletedRows", "num_target_rows_deleted", "num_deleted_rows"),
    "rows_copied": ("numTargetRowsCopied", "numCopiedRows", "num_target_rows_copied", "num_copied_rows"),
    "source_rows": ("numSourceRows", "num_source_rows"),
}
#: Operations that write rows without merging (an append, an initial load). Spark and delta-rs names.
WRITE_OPERATIONS = frozenset(
    {"WRITE", "CREATE TABLE AS SELECT", "REPLACE TABLE AS SELECT", "CREATE OR REPLACE TABLE AS SELECT", "STREAMING UPDATE"}
)


def _metric(metrics: dict, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        if key in metrics and metrics[key] is not None:
            try:
                return int(metrics[key])
            except (TypeError, ValueError):
                return None
    return None


def commit_metrics(c: Commit) -> dict:
    out = {name: _metric(c.metrics, keys) for name, keys in _METRIC_KEYS.items()}
    if c.operation in WRITE_OPERATIONS and out["rows_inserted"] is None:
        # An append or initial load inserts every row it writes.
        out["rows_inserted"] = _metric(c.metrics, ("numOutputRows", "num_added_rows"))
    return out


def parse_commit(table: str, version: int, raw: bytes, mtime: float) -> Commit:
    info: dict = {}
    adds, removes, cdcs = [], [], []
    configuration = None
    for line_no, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            action = json.loads(line)
        except json.JSONDecodeError:
            raise UnreadableTableError(
                table,
                f"commit {version} of its log ({version:020d}.json) is not valid JSON (line {line_no}).",
                advice="The log is corrupt; restore the commit file from a backup or re-export the table.",
            ) from None
        if "commitInfo" in action:
            info = action["commitInfo"] or {}
        elif "add" in action:
            adds.append(action["add"])
        elif "remove" in action:
            removes.append(action["remove"])
        elif "cdc" in action:
            cdcs.append(action["cdc"])
        elif "metaData" in action:
            configuration = action["metaData"].get("configuration") or {}
    ms, source = commit_time_ms(info, mtime)
    committed_at = datetime.fromtimestamp(float(ms) / 1000.0, tz=timezone.utc)
    metrics = info.get("operationMetrics") or {}
    return Commit(version, committed_at, source, info.get("operation"), metrics, adds, removes, cdcs, configuration)


def _positive_ms(value) -> float | None:
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return None
    return ms if ms > 0 else None


def commit_time_ms(info: dict, mtime: float) -> tuple[float, str]:
    """(milliseconds since the epoch, source) of a commit: ``commitInfo.inCommitTimestamp``,
    else ``commitInfo.timestamp``, else the commit file's modification time (what Spark and the
    Delta kernel do). A timestamp that is absent, 0 or not a number is not a time (Fabric Link
    writes none; deltalake then reports 1970-01-01)."""
    ms = _positive_ms(info.get("inCommitTimestamp"))
    if ms is not None:
        return ms, "in_commit_timestamp"
    ms = _positive_ms(info.get("timestamp"))
    if ms is not None:
        return ms, "commit_info"
    return mtime * 1000.0, "file_mtime"


def feed_enabled_from(commits: list[Commit]) -> int | None:
    """The version since which the change data feed has been on without interruption."""
    since = None
    for c in commits:
        if c.configuration is None:
            continue
        on = str(c.configuration.get("delta.enableChangeDataFeed", "false")).lower() == "true"
        if on and since is None:
            since = c.version
        elif not on:
            since = None
    if since is None and commits and commits[0].configuration is None:
        # The metaData that turned it on is older than the oldest commit file left (it lives in a
        # checkpoint): the feed was on since at least the oldest commit we still have.
        since = commits[0].version
    return since
