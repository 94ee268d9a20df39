"""Scheduled collects against one full read: what keeping a store costs.

    python -m benchmarks.collect --scale 20 --hours 7 --rounds 3

The lake is the scale-N sample (built once, as ``python -m benchmarks --scale N`` does). Each
round replays it (``kit.sample.replay``: the lake as it was at a moment, vacuumed to keep a day
of change data) to 8 hours before its end and collects everything into a new store (not
timed: the history a store holds when the schedule starts). Then, ``--hours`` times, the lake
moves on an hour and ``collect(["email"])`` runs (timed: open the lake, collect). Interleaved
with those, within the same round, one full-history ``changes("email")`` of the final lake
without a store (timed: open the lake, count the changes and their latest landing). Both in
this process (no interpreter start-up in either figure). Prints the medians over rounds, the
range, and the ratio (collects in total / one full read).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import warnings
from datetime import datetime, timedelta, timezone

import kit
from kit.sample.replay import replay

from .__main__ import build_scale

END = datetime(2026, 10, 1, tzinfo=timezone.utc)
TABLE = "email"


def full_read(lake_dir: str) -> tuple[float, int]:
    start = time.perf_counter()
    lake = kit.open_lake(lake_dir)
    (n, _latest) = lake.sql(f"select count(*), max(landed_at) from ({lake.changes_sql(TABLE)})").fetchall()[0]
    return time.perf_counter() - start, n


def one_round(base: str, hours: int) -> dict:
    work = tempfile.mkdtemp(prefix="kit-collect-bench-")
    try:
        lake_dir, store = f"{work}/lake", f"{work}/store.duckdb"
        at = END - timedelta(hours=8)
        replay(base, lake_dir, at, feed_kept=timedelta(days=1))
        kit.open_lake(lake_dir, store=store).collect([TABLE])
        collect_s, added = [], 0
        for h in range(1, hours + 1):
            replay(base, lake_dir, at + timedelta(hours=h), feed_kept=timedelta(days=1))
            start = time.perf_counter()
            result = kit.open_lake(lake_dir, store=store).collect([TABLE])
            collect_s.append(time.perf_counter() - start)
            added += int(result["changes_added"].sum())
        full_s, n = full_read(lake_dir)
        with_store = kit.open_lake(lake_dir, store=store)
        (n_store,) = with_store.sql(f"select count(*) from ({with_store.changes_sql(TABLE)})").fetchall()[0]
        return {"collects_s": sum(collect_s), "each_s": collect_s, "full_s": full_s, "added": added,
                "changes_full": n, "changes_store": n_store}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.collect", description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=20)
    p.add_argument("--hours", type=int, default=7)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--lake", help="a sample lake to use instead of building --scale")
    args = p.parse_args(argv)
    base = args.lake or build_scale(args.scale)
    warnings.simplefilter("ignore", kit.SkippedTableWarning)
    rounds = [one_round(base, args.hours) for _ in range(args.rounds)]
    med = lambda k: statistics.median(r[k] for r in rounds)  # noqa: E731
    rng = lambda k: f"{min(r[k] for r in rounds):.2f}-{max(r[k] for r in rounds):.2f}"  # noqa: E731
    print(f"lake {base}, table {TABLE}, {args.hours} hourly collects, {args.rounds} rounds")
    print(f"  {args.hours} collects in total  {med('collects_s'):7.2f} s  ({rng('collects_s')})  "
          f"each {statistics.median(s for r in rounds for s in r['each_s']):.2f} s, "
          f"{rounds[0]['added']:,} changes added")
    print(f"  one full changes()   {med('full_s'):7.2f} s  ({rng('full_s')})  {rounds[0]['changes_full']:,} changes "
          f"(with the store: {rounds[0]['changes_store']:,}, exact further back)")
    print(f"  ratio collects / full read: {med('collects_s') / med('full_s'):.2f}")


if __name__ == "__main__":
    main()
