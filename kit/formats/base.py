"""What every table format gives the layers above: the two relations and the TableSource protocol.

The analyses see a table through two relations only, whatever its format:

``changes`` (one row per landed row version; ``Lake.changes``)
    ``table`` VARCHAR, ``id`` VARCHAR, ``versionnumber`` BIGINT, ``change`` VARCHAR
    (create | update | delete), ``modifiedon`` TIMESTAMPTZ, ``landed_at`` TIMESTAMPTZ (first
    landing), ``landings`` BIGINT, ``method`` VARCHAR (change_feed | add_diff | snapshot;
    ``history`` is the earlier name of add_diff).
``syncs`` (one row per sync commit: a commit that landed row versions; ``Lake.syncs``)
    ``table`` VARCHAR, ``version`` BIGINT, ``committed_at`` TIMESTAMPTZ, ``operation``
    VARCHAR, ``rows_landed`` BIGINT (rows inserted + updated by the commit's own metrics; NULL
    when the writer recorded none).

plus ``Coverage``: how far back the ``changes`` are exact, and since when the lake observed the
table. A new format (Synapse Link CSV, say) is a new subpackage whose source satisfies
``TableSource``; nothing above this layer changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

CHANGE_COLUMNS = ("table", "id", "versionnumber", "change", "modifiedon", "landed_at", "landings", "method")
SYNC_COLUMNS = ("table", "version", "committed_at", "operation", "rows_landed")


@dataclass(frozen=True)
class Coverage:
    """How far back ``changes()`` is exact for a table."""

    table: str
    method: str  # change_feed | add_diff | snapshot
    feed_from_version: int | None
    feed_from_time: datetime | None
    complete: bool  # True when every landed version is known, back to the table's creation
    note: str
    #: The time of the table's first commit still known (normally the initial load): changes
    #: modified before it reached the lake as history, not as they happened.
    observed_from: datetime | None = None
    #: With a store: the spans no collect saw, oldest first (dicts with ``from_version``,
    #: ``to_version``, ``from_time`` (the last commit collected before), ``to_time`` (the last
    #: lost commit, or a re-created table's first), ``commits`` lost or None when unknown, and
    #: ``reason``: ``vacuumed`` or ``recreated``). Changes modified in between may be missing:
    #: they are known only from the snapshot, and the periods touching a gap are estimates.
    gaps: tuple = ()
    #: True when these changes come from a store's collects (``open_lake(..., store=)``), not
    #: from the lake alone.
    collected: bool = False


class TableSource(Protocol):
    """One table of a lake, as a format reads it. ``Lake`` holds one per table."""

    name: str
    uri: str

    @property
    def columns(self) -> list[str]: ...

    def register(self, con, view: str) -> None:
        """Create the engine view ``view`` over the table's current snapshot."""

    def changes_sql(self, con, view: str) -> str:
        """SQL of the ``changes`` relation (CHANGE_COLUMNS) over the registered ``view``."""

    def coverage(self) -> Coverage: ...

    def syncs(self) -> list[dict]:
        """The table's sync commits, oldest first: dicts with SYNC_COLUMNS but ``table``."""

    def history(self):
        """One row per commit (pandas): see ``Lake.history``."""
