"""Errors the kit raises on bad input.

Every error names the lake, table or path concerned and says what to do. Callers catch
`KitError` for all of them; the subclasses let a pipeline tell a missing table from a broken one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class KitError(Exception):
    """Base class of every error the kit raises on bad input."""


class InvalidOptionError(KitError, ValueError):
    """An argument is out of its range or not one of the allowed values."""


class LakeNotFoundError(KitError):
    """The location does not exist, or holds no table the kit can recognise."""


class NotAFolderError(LakeNotFoundError):
    """The location is a file, not a folder."""


class NotDeltaError(LakeNotFoundError):
    """The location holds parquet files but no Delta log: plain parquet, not Delta tables."""


class CsvExportError(LakeNotFoundError):
    """The location is a Synapse Link CSV export (``model.json``), which the kit does not read yet."""


class TableNotFoundError(KitError, KeyError):
    """The lake has no table of that name."""

    def __init__(self, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(known[:10]) + (" ..." if len(known) > 10 else "")
        super().__init__(
            f"The lake has no table {name!r}.{hint} "
            f"Tables found: {listing or 'none'} (see lake.tables())."
        )
        self.name = name
        self.suggestions = close

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnreadableTableError(KitError):
    """The table's log or data cannot be read (corrupt log, commit gap, missing file,
    unsupported feature). `feature` names the Delta feature when that is the cause."""

    def __init__(self, table: str, problem: str, *, advice: str = "", feature: str | None = None):
        text = f"Table {table!r} cannot be read: {problem}"
        if advice:
            text += f" {advice}"
        super().__init__(text)
        self.table = table
        self.feature = feature

    @classmethod
    def from_message(cls, table: str, message: str) -> "UnreadableTableError":
        err = cls.__new__(cls)
        Exception.__init__(err, message)
        err.table, err.feature = table, None
        return err


class NotDataverseTableError(KitError):
    """A Dataverse column the operation needs is missing from the table."""

    def __init__(self, table: str, missing: Iterable[str], needed_for: str):
        missing = list(missing)
        super().__init__(
            f"Table {table!r} is not a Dataverse export table: {needed_for} needs the "
            f"column(s) {', '.join(missing)}, which it lacks. Pick a table exported by "
            "Synapse Link or Fabric Link, or leave it out (tables=None skips such tables)."
        )
        self.table = table
        self.missing = missing


class StoreError(KitError):
    """The store (``open_lake(..., store=FILE)``) cannot be used: a path inside the lake, a
    folder, a file that is not a kit store, or another schema version."""


class StoreBusyError(StoreError):
    """Another collect or lake held the store for longer than ``KIT_STORE_TIMEOUT`` seconds."""


class KitWarning(UserWarning):
    """Base class of every warning the kit emits (filter them with ``warnings.filterwarnings``)."""


class SkippedTableWarning(KitWarning):
    """An analysis over the whole lake left a table out (unreadable, or without the Dataverse
    columns it needs); the message names the table and why."""
