"""Where the SQL runs: DuckDB embedded (the default)."""
