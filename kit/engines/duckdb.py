"""DuckDB, embedded: the default engine. Sessions run in UTC, with no progress bar."""

from __future__ import annotations

import duckdb


class DuckDBEngine:
    """An in-process DuckDB database (``engines.base.Engine``)."""

    name = "duckdb"

    def __init__(self):
        self.connection = duckdb.connect()
        self.connection.execute("SET TimeZone = 'UTC'")
        try:  # no bar drawn over CLI output (in Jupyter, DuckDB refuses the setting without ipywidgets)
            self.connection.execute("SET enable_progress_bar = false")
        except duckdb.Error:
            pass

    def __repr__(self) -> str:
        return "DuckDBEngine()"

    def sql(self, query: str, params=None) -> duckdb.DuckDBPyRelation:
        if params is not None:
            return self.connection.sql(query, params=params)
        return self.connection.sql(query)

    def execute(self, statement: str) -> None:
        self.connection.execute(statement)

    def register(self, name: str, data) -> None:
        self.connection.register(name, data)

    def scratch(self) -> "DuckDBEngine":
        return DuckDBEngine()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "DuckDBEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
