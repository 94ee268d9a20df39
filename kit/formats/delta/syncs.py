"""Which Delta commits are syncs: the commits that landed Dataverse row versions.

A commit is a *sync* when its operation is ``MERGE`` or a write (``WRITE``, ``STREAMING
UPDATE``, ``CREATE``/``REPLACE TABLE AS SELECT``), it changes data, and its metrics say it
inserted or updated at least one row (``rows_inserted + rows_updated > 0``). A MERGE whose
metrics say 0 inserted and 0 updated is not a sync. When the writer recorded neither metric, a
data-changing MERGE or write counts as a sync (the log cannot tell, and a sync job that ran is the
likelier reading). A MERGE that only landed row versions again (re-landings: the metrics count
them as updated rows) is a sync. ``OPTIMIZE`` (no data change), ``VACUUM START``/``VACUUM END``
and the ``DELETE`` that purges soft-deleted rows are never syncs.
"""

from __future__ import annotations

from .log import WRITE_OPERATIONS, Commit, commit_metrics

#: Operations that land row versions: MERGE (the incremental sync) and the plain writes.
SYNC_OPERATIONS = frozenset({"MERGE"}) | WRITE_OPERATIONS


def is_sync(operation, data_change: bool, rows_inserted: int | None, rows_updated: int | None) -> bool:
    """The sync rule of this module's docstring, for one commit."""
    if operation not in SYNC_OPERATIONS or not data_change:
        return False
    if rows_inserted is None and rows_updated is None:
        return True  # the writer recorded no metrics: a data-changing MERGE/WRITE is a sync
    return (rows_inserted or 0) + (rows_updated or 0) > 0


def sync_rows(commits: list[Commit]) -> list[dict]:
    """The sync commits among ``commits``: ``version``, ``committed_at``, ``operation``,
    ``rows_landed`` (inserted + updated; None when the writer recorded neither)."""
    out = []
    for c in commits:
        m = commit_metrics(c)
        inserted, updated = m["rows_inserted"], m["rows_updated"]
        if not is_sync(c.operation, c.data_change, inserted, updated):
            continue
        landed = None if inserted is None and updated is None else (inserted or 0) + (updated or 0)
        out.append({"version": c.version, "committed_at": c.committed_at, "operation": c.operation, "rows_landed": landed})
    return out
