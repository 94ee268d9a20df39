"""A smoke run of the benchmark: every compared method runs and they agree.

The methods that answer the same question (first-landing latency per day over the change feed:
the kit, hand-written DuckDB over the log and files, DuckDB over load_cdf, FastTrack's pandas
method, polars, the kit on Spark; and the inventory: the kit's tables() against deltalake by hand) must give the
same answer; the runner stops with the two methods named otherwise. No timing is asserted.
"""

import os
import subprocess
import sys

from benchmarks.__main__ import spark_available

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_smoke_run_methods_agree(tmp_path):
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "KIT_BENCH_DIR": str(tmp_path)}, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    methods = ["kit_feed_latency", "duckdb_floor", "duckdb_load_cdf", "fasttrack", "polars_feed", "kit_tables",
               "deltalake_tables"]
    if spark_available() or os.environ.get("KIT_REQUIRE_SPARK") == "1":
        methods.append("spark_feed_latency")  # the Spark engine agrees with the others
    for method in methods:
        assert f"| {method} |" in out.stdout
