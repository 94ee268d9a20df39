"""Where the SQL runs: DuckDB embedded (the default), or Apache Spark (``engines.spark``)."""
