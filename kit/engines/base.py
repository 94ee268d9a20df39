"""The Engine protocol: where the SQL of the analyses runs.

An engine runs SQL text over named relations and returns pandas; the kit's layers above it never
open a connection of their own. DuckDB (``engines.duckdb``) is the embedded default. A new
engine is a new module here implementing this protocol, plus its spelling of the few dialect
helpers in ``engines.sql`` where it differs.
"""

from __future__ import annotations

from typing import Protocol


class Engine(Protocol):
    name: str

    def sql(self, query: str, params=None):
        """A lazy relation for ``query`` (``.df()`` gives pandas)."""

    def execute(self, statement: str) -> None:
        """Run a statement (create a view or a temporary table)."""

    def register(self, name: str, data) -> None:
        """Expose an Arrow table, stream or pandas frame as the relation ``name``."""

    def scratch(self) -> "Engine":
        """A separate, empty engine of the same kind for small frames the kit computed itself
        (its tables never mix with the lake's views); close it after use."""

    def close(self) -> None: ...
