"""The benchmark: each method in a process of its own, interleaved rounds, medians with min-max,
peak memory, ratios, and a check that methods answering the same question agree.

    python -m benchmarks --scale 20                 # builds /tmp/kit-bench/scale-20 once (kit sample)
    python -m benchmarks --lake sample_lake --rounds 3
    python -m benchmarks --tables 1000              # open_lake + tables() on 1,000 small tables
    python -m benchmarks --smoke                    # one quick round on the sample lake (CI)

Methods and questions: ``benchmarks/methods.py``. Figures and how to read them:
docs/PERFORMANCE.md. Timing is wall-clock of the whole process (Python start and imports
included, as a user meets them); memory is the process's peak resident set (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("KIT_BENCH_DIR", "/tmp/kit-bench")

LAKE_METHODS = ["kit_latency", "kit_feed_latency", "kit_volume", "kit_throughput", "kit_changes", "kit_report",
                "duckdb_floor", "duckdb_load_cdf", "fasttrack", "polars_feed", "pandas_snapshot",
                "spark_start", "spark_latency", "spark_feed_latency", "spark_volume"]
TABLE_METHODS = ["kit_tables", "deltalake_tables"]


def spark_available() -> bool:
    """pyspark installed and a Java runtime to run it (the ``spark_*`` methods need both)."""
    import importlib.util
    import shutil

    return importlib.util.find_spec("pyspark") is not None and (
        shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME")))
#: The reference each method's time is divided by.
REFERENCE = {"feed_latency": "duckdb_floor", "tables": "deltalake_tables"}


def run_once(method: str, lake: str, table: str) -> dict:
    """One process: wall seconds, peak RSS (MB), the answer."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.methods", method, lake, table],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT})
    out = proc.stdout.read()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{method} failed:\n{err.decode()[-2000:]}")
    return {"wall_s": wall, "rss_mb": usage.ru_maxrss / 1024, "answer": json.loads(out)["answer"]}


def build_scale(scale: float) -> str:
    dest = os.path.join(CACHE, f"scale-{scale:g}")
    if not os.path.exists(os.path.join(dest, "TRUTH.json")):
        shutil.rmtree(dest, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "kit", "sample", dest, "--scale", str(scale)], check=True, cwd=ROOT)
    return dest


def build_many(count: int) -> str:
    """``count`` small Delta tables: copies of the sample lake's smallest Dataverse table."""
    dest = os.path.join(CACHE, f"tables-{count}")
    if not os.path.isdir(dest) or len(os.listdir(dest)) != count:
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        source = os.path.join(ROOT, "sample_lake", "deltalake", "account_partitioned")
        for i in range(count):
            shutil.copytree(source, os.path.join(dest, f"t{i:04d}"))
    return dest


def measure(methods: list[str], lake: str, table: str, rounds: int) -> dict:
    from benchmarks.methods import QUESTION

    runs = {m: [] for m in methods}
    for _ in range(rounds):  # interleaved: each round runs every method once
        for m in methods:
            runs[m].append(run_once(m, lake, table))
    answers: dict = {}
    for m in methods:
        q = QUESTION.get(m)
        if q is None:
            continue
        first = runs[m][0]["answer"]
        if q in answers and answers[q][1] != first:
            raise SystemExit(f"{m} and {answers[q][0]} answer {q!r} differently")
        answers.setdefault(q, (m, first))
    return runs


def report(runs: dict, title: str) -> str:
    from benchmarks.methods import QUESTION

    med = {m: statistics.median(r["wall_s"] for r in rs) for m, rs in runs.items()}
    lines = [f"### {title}", "", "| method | question | wall s, median (min-max) | x reference | peak RSS MB, median |",
             "|---|---|---|---|---|"]
    for m, rs in runs.items():
        walls = [r["wall_s"] for r in rs]
        q = QUESTION.get(m, "-")
        ref = REFERENCE.get(q)
        ratio = f"{med[m] / med[ref]:.2f}x {ref}" if ref in med and ref != m else ""
        lines.append(f"| {m} | {q} | {med[m]:.2f} ({min(walls):.2f}-{max(walls):.2f}) | {ratio} | "
                     f"{statistics.median(r['rss_mb'] for r in rs):,.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--lake", help="an existing lake folder")
    p.add_argument("--scale", type=float, help="build (once) and measure a sample lake of this scale")
    p.add_argument("--tables", type=int, help="measure open_lake + tables() on this many small tables")
    p.add_argument("--table", default="email", help="the table the per-table methods analyse (default: email)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default: 3)")
    p.add_argument("--methods", help="comma-separated subset of the methods")
    p.add_argument("--smoke", action="store_true", help="one round on the sample lake, every method, answers checked")
    p.add_argument("--json", help="also write the raw runs to this file")
    args = p.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d', time.gmtime())}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    results = {}
    if args.smoke:
        args.lake, args.rounds = os.path.join(ROOT, "sample_lake"), 1
        args.methods = args.methods or "kit_feed_latency,duckdb_floor,duckdb_load_cdf,fasttrack,polars_feed" + (
            ",spark_feed_latency" if spark_available() else "")
    if args.lake or args.scale:
        lake = args.lake or build_scale(args.scale)
        methods = args.methods.split(",") if args.methods else LAKE_METHODS
        runs = measure([m for m in methods if m not in TABLE_METHODS], lake, args.table, args.rounds)
        results["lake"] = runs
        print(report(runs, f"{lake}, table {args.table}, {args.rounds} round(s)"))
    if args.tables or args.smoke:
        count = args.tables or 5
        runs = measure(TABLE_METHODS, build_many(count), "-", args.rounds)
        results["tables"] = runs
        print(report(runs, f"{count} tables, {args.rounds} round(s)"))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
