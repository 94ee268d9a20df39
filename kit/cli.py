"""The command line: ``python -m kit <command> LAKE [options]``.

    python -m kit tables sample_lake
    python -m kit latency sample_lake --by day --when landed --format csv
    python -m kit throughput sample_lake --table email
    python -m kit sample /tmp/lake --days 28
    python -m kit report sample_lake -o report.html
    python -m kit collect LAKE --store kit_store.duckdb      (hourly, from cron or a notebook schedule)
    python -m kit report LAKE --store kit_store.duckdb

Errors print one line on stderr and exit with status 2. Progress shows on stderr when it is a
terminal (never in a pipe, a log or CI).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

import duckdb

from .errors import KitError
from .storage import redact, storage_options_from_env

DEFAULT_LAKE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_lake")

# command -> (module, function, options it takes)
ANALYSES = {
    "latency": ("kit.metrics.latency", "sync_latency", ("tables", "by", "when", "include_estimates")),
    "volume": ("kit.metrics.volume", "change_volume", ("tables", "by", "when", "include_estimates")),
    "throughput": ("kit.metrics.throughput", "throughput", ("tables", "actions_per_record", "include_estimates")),
    "cadence": ("kit.metrics.health", "sync_cadence", ("tables",)),
    "gaps": ("kit.metrics.health", "sync_gaps", ("tables", "outages_only")),
    "freshness": ("kit.metrics.health", "freshness", ("as_of",)),
    "anomalies": ("kit.metrics.anomalies", "anomalies", ("tables", "metric", "include_estimates")),
}
BY_DEFAULT = {"latency": "day", "volume": "hour"}
# the analyses that read every landed row version several times (the rest read the log only, or
# the changes in one streaming query, where computing them ahead would only add work)
READS_CHANGES_AGAIN = {"throughput", "anomalies"}

DESCRIPTIONS = {
    "tables": "list the lake's tables: layout, kind, version, rows, last commit",
    "latency": "sync latency per table and period: p50 to p99 from modifiedon to first landing",
    "volume": "creates, updates and deletes per table and period",
    "throughput": "peak day, hour and 5 minutes per table against the published limits, and the pattern to use",
    "cadence": "time between sync commits per table: median, p95, longest",
    "gaps": "intervals between sync commits longer than 3x the table's usual one",
    "freshness": "time since each table last landed a change, and whether it is stale",
    "anomalies": "hours whose volume or latency is unusual for that hour of the day",
    "sample": "write the simulated sample lake (with its TRUTH.json) to a folder",
    "collect": "record every first landing not yet in the store (run it hourly: the store then stays exact after the feed is vacuumed)",
    "report": "write the self-contained HTML report of a lake",
}

# What an empty result means, said in the table format instead of an empty frame.
EMPTY = {
    "latency": "No changes to measure latency on in this window.",
    "volume": "No changes in this window.",
    "throughput": "No changes to size an integration for.",
    "cadence": "No sync commits.",
    "gaps": "No sync gaps: no interval between syncs was longer than three times the table's usual one.",
    "outages": "No outages: no sync gap kept changes waiting.",
    "freshness": "No table has landed a change.",
    "anomalies": "No anomalies: every scored hour is within its usual range (--all lists every hour).",
}

EPILOGS = {
    "latency": """columns (seconds in csv/json; readable durations in the table format):
  changes           changes measured in the period
  p50_s ... max_s   latency percentiles, from modifiedon to the first landing of each change
  within_15m/_60m   share (0 to 1) of the changes that landed within 15 / 60 minutes
  excluded          changes left out of the latency: excluded_sentinel (modifiedon NULL or
                    before 1901) plus excluded_negative (landed before modifiedon)
  method            how the landings are known: change_feed, add_diff (exact), snapshot
  exact             true when every change of the row was measured exactly and its period
                    lies in the table's exact span; false: an estimate (latencies at most)
By default only exact periods are shown; --include-estimates adds the others, exact false.""",
    "volume": """columns: creates, updates, deletes, total (landed row versions, each counted once),
  method (change_feed, add_diff: exact; snapshot: only each record's latest version) and exact
  (false: an estimate, a lower bound). By default only exact periods are shown;
  --include-estimates adds the others.""",
    "throughput": """columns:
  peak_day_events, peak_hour_events, peak_5min_events
                    the most changes in one UTC day, hour and 5 minutes (modifiedon clock)
  limit_per_day     250,000 Power Automate requests a day / --actions-per-record
  utilisation       peak_day_events / limit_per_day; headroom = 1 - utilisation
  days_to_limit     days until the daily trend reaches the limit (empty: not growing)
  pattern, reason   the recommended integration pattern, and why
  excluded          changes counted on no day, so not in the numbers above: modifiedon
                    NULL or before 1901, or before the day of the table's first commit
  estimated         changes of the days before the exact span, left out (--include-estimates
                    counts them); peaks_exact / exact: the peaks / every figure are exact""",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr, exit 2, as every other error
        if "required: LAKE" in message:
            message = (f"{self.prog} needs the LAKE to work on: its folder or abfss:// URI "
                       "(sample_lake for the bundled sample)")
        self.exit(2, f"error: {message} (see python -m kit --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m kit", description="Analyse how Dataverse data lands in a lake (Synapse Link, "
                "Fabric Link or Delta tables).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name):
        return sub.add_parser(name, help=DESCRIPTIONS[name], description=DESCRIPTIONS[name][0].upper() + DESCRIPTIONS[name][1:] + ".",
                              epilog=EPILOGS.get(name), formatter_class=argparse.RawDescriptionHelpFormatter)

    def lake(sp):
        sp.add_argument("lake", nargs="?", default=None, metavar="LAKE",
                        help="lake folder or abfss:// URI (default: the bundled sample lake, with a note saying so)")
        engine(sp)

    def engine(sp):
        sp.add_argument("--engine", choices=("duckdb", "spark"), default=None,
                        help="where the SQL runs: duckdb (embedded) or spark (the active or a local "
                        "SparkSession; needs pyspark and Java) (default: KIT_ENGINE, else duckdb)")

    def output(sp):
        sp.add_argument("--format", choices=("table", "csv", "json"), default="table",
                        help="output format: a readable table, or csv / json with durations in seconds (default: table)")

    def store(sp):
        sp.add_argument("--store", default=os.environ.get("KIT_STORE") or None, metavar="FILE",
                        help="the kit's store (a DuckDB file beside the lake, never inside it) that collect fills: "
                             "the analyses then cover the whole collected history exactly (default: $KIT_STORE, "
                             "else none: exact only as far back as the lake's change feed reaches)")

    t = command("tables")
    lake(t)
    output(t)
    c = command("collect")
    lake(c)
    store(c)
    c.add_argument("--table", action="append", dest="tables", metavar="T",
                   help="a table to collect (repeatable; default: every Dataverse table)")
    output(c)
    for name, (_, func, opts) in ANALYSES.items():
        sp = command(name)
        lake(sp)
        store(sp)
        if "tables" in opts:
            sp.add_argument("--table", action="append", dest="tables", metavar="T",
                            help="a table to analyse (repeatable; default: every Dataverse table)")
        if "by" in opts:
            sp.add_argument("--by", choices=("hour", "day", "week", "none"), default=BY_DEFAULT[name],
                            help="one row per table and UTC hour, day or week (Monday), or none for one row per "
                                 "table (default: %(default)s)")
            sp.add_argument("--all-periods", action="store_true", dest="all_periods",
                            help="also the periods before the lake's first sync commit (the initial load's backlog, "
                                 "often years of it); default: only the periods the lake observed")
        if "when" in opts:
            sp.add_argument("--when", choices=("modified", "landed"), default="modified",
                            help="the clock that places a change in a period: modifiedon in Dataverse, or its first "
                                 "landing in the lake (default: %(default)s)")
        if "actions_per_record" in opts:
            sp.add_argument("--actions-per-record", type=float, default=5, dest="actions_per_record", metavar="N",
                            help="Power Automate actions one change costs; the daily limit is 250,000 requests / N "
                                 "(default: %(default)g, so 50,000 events a day)")
        if "as_of" in opts:
            sp.add_argument("--as-of", dest="as_of", metavar="TIME",
                            help="UTC time to measure staleness at, e.g. 2026-09-30T18:00:00Z (default: the lake's "
                                 "newest commit)")
        if "outages_only" in opts:
            sp.add_argument("--outages-only", action="store_true", dest="outages_only",
                            help="only the gaps that kept changes waiting (default: every gap, quiet nights included)")
        if "include_estimates" in opts:
            sp.add_argument("--include-estimates", action="store_true", dest="include_estimates",
                            help="also the periods known only from the snapshot (before the change feed's exact "
                                 "span), flagged exact=false: counts there are at least, latencies at most "
                                 "(default: exact figures only, with a note saying from when)")
        if "metric" in opts:
            sp.add_argument("--metric", choices=("volume", "latency"), default="volume",
                            help="score hourly change volume or hourly latency (default: %(default)s)")
            sp.add_argument("--all", action="store_true", dest="all_hours",
                            help="every scored hour (default: only the flagged ones)")
        output(sp)
    s = command("sample")
    s.add_argument("dest", metavar="DEST", help="folder to write the lake to (new or empty, or --force)")
    s.add_argument("--days", type=int, default=28, help="simulated days, 7 to 366 (default: %(default)s)")
    s.add_argument("--scale", type=float, default=1.0,
                   help="activity multiplier; 20 gives about 6 million row versions in email (default: %(default)g)")
    s.add_argument("--seed", type=int, default=7, help="random seed: the same seed writes the same files (default: %(default)s)")
    s.add_argument("--layout", choices=("synapse", "fabric"), default="synapse",
                   help="synapse: deltalake/<table>_partitioned/; fabric: Tables/<table>/ (default: %(default)s)")
    s.add_argument("--force", action="store_true", help="replace a sample lake written earlier in DEST")
    s.add_argument("--store", metavar="FILE",
                   help="also write the store that an hourly collect would have built while the simulated feed "
                        "was still there (a new file, outside DEST)")
    r = command("report")
    r.add_argument("lake", metavar="LAKE", help="lake folder or abfss:// URI (pass sample_lake for the bundled sample)")
    r.add_argument("-o", "--output", default="report.html", metavar="FILE",
                   help="the HTML file to write (default: %(default)s)")
    store(r)
    engine(r)
    return p


def _readable(df):
    """Durations in seconds (``*_s``, ``seconds``) and fractions as readable text for the table
    format: ``median_interval_s`` 219662.99 -> ``median_interval`` "2.5 days"; 0.125 -> "12.5%"."""
    from .present.readings import fmt_days, fmt_duration, fmt_pct

    out = df.copy()
    renames = {}
    for col in df.columns:
        name = str(col)
        if name.startswith("within_") or name in ("utilisation", "headroom"):  # fractions
            out[col] = df[col].map(fmt_pct)
        elif name == "days_to_limit":
            out[col] = df[col].map(lambda d: "" if d != d or d is None else fmt_days(d))
        elif name.endswith("_s") or name == "seconds":
            out[col] = df[col].map(fmt_duration)
            renames[col] = name[:-2] if name.endswith("_s") else "duration"
    return out.rename(columns=renames)


def _print(df, fmt: str, empty: str | None = None) -> None:
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", date_format="iso", date_unit="ms") + "\n")
    elif df.empty and empty:
        sys.stdout.write(empty + "\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200):
            sys.stdout.write(_readable(df).to_string(index=False) + "\n")


def _progress(total: int, desc: str):
    """A progress bar on stderr, shown only when stderr is a terminal (and tqdm is installed)."""
    try:
        from tqdm import tqdm
    except ImportError:  # requirements.txt pins it; without it, no bar
        import contextlib

        class _Silent(contextlib.nullcontext):
            def update(self, n=1): pass

            def set_postfix_str(self, s="", refresh=True): pass

        return _Silent(_Silent())
    return tqdm(total=total, desc=desc, file=sys.stderr, disable=not sys.stderr.isatty(), leave=False,
                unit="step", dynamic_ncols=True)


def _check_new_store(path: str, dest: str) -> None:
    from .store import Store

    store = Store(path, dest)
    if store.exists:
        raise KitError(f"{path} exists: the sample's store must be a new file (remove it, or choose another path).")


def _sample_store(path: str, dest: str, options: dict) -> int:
    """The store hourly collects would have built on the sample lake: the same simulation
    written without its vacuum (every change data file kept) and collected, in a temporary
    folder. First landings do not depend on how often a collect runs as long as none misses a
    commit (tests/test_store.py collects a replay after every simulated day and finds the
    same), so one collect of the unvacuumed lake records what hourly ones would have."""
    import tempfile

    from .lake import open_lake
    from .sample import generate
    from .store import Store

    import duckdb

    with tempfile.TemporaryDirectory(prefix="kit-sample-") as tmp:
        generate(tmp, vacuum=False, **options)
        lake = open_lake(tmp, store=os.path.join(tmp, "..", os.path.basename(tmp) + ".duckdb"))
        lake.store.lake_key = Store(path, dest).lake_key  # the store is the sample lake's, not the twin's
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the metadata tables are not collected: nothing to say
            result = lake.collect()
        collected = str(lake.store.path)
        lake.engine.close()
        # Copied into a fresh file: the collect's free blocks left behind (a third smaller).
        with duckdb.connect(str(path)) as con:
            con.execute(f"ATTACH '{collected}' AS collected (READ_ONLY)")
            con.execute(f"COPY FROM DATABASE collected TO \"{os.path.splitext(os.path.basename(str(path)))[0]}\"")
        os.remove(collected)
    return int(result["changes_added"].sum())


def _no_dataverse(lake, location: str) -> KitError:
    n = len(lake)
    return KitError(
        f"No Dataverse table in {location!r}: none of its {n} table{'s' if n != 1 else ''} has the columns Id, "
        "versionnumber and modifiedon that Synapse Link and Fabric Link export, so there is nothing to measure "
        "(python -m kit tables lists what it holds)."
    )


def _read_changes(lake, names: list[str], desc: str = "reading changes") -> None:
    """Read each table's changes once, one step per table on the bar (inside
    ``lake.sharing_changes()``, which keeps them for the analyses that follow)."""
    with _progress(len(names), desc) as bar:
        for name in names:
            bar.set_postfix_str(name, refresh=False)
            try:
                lake.changes_sql(name)
            except KitError:
                pass  # the analysis skips it with a note
            bar.update()


def _report(lake, output: str) -> str:
    from . import report

    names = lake.dataverse_tables()
    with lake.sharing_changes():  # each table's changes read once, for every analysis of the report
        _read_changes(lake, names, "reading tables")
        return _analyse_and_write(lake, output, report)


def _analyse_and_write(lake, output: str, report) -> str:
    steps = 16 + 1  # the analyses report.collect runs, then the HTML
    with _progress(steps, "analysing") as bar:
        def step(key):
            bar.set_postfix_str(key, refresh=False)
            bar.update()

        data = report.collect(lake, progress=step)
        bar.set_postfix_str("writing the HTML")
        path = report.write_report(lake, output, data=data)
        bar.update()
    return path


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sample":
        from .sample import generate

        if os.path.exists(os.path.join(args.dest, "TRUTH.json")) and not args.force:
            raise KitError(f"{args.dest} already holds a sample lake (TRUTH.json): pass --force to replace it, "
                           "or choose another folder.")
        options = dict(days=args.days, scale=args.scale, seed=args.seed, layout=args.layout)
        if args.store:
            _check_new_store(args.store, args.dest)
        generate(args.dest, **options)
        print(f"wrote the sample lake to {args.dest}")
        if args.store:
            added = _sample_store(args.store, args.dest, options)
            print(f"wrote the store to {args.store}: {added:,} first landings, as hourly collects would have "
                  f"recorded them (python -m kit report {args.dest} --store {args.store})")
        return 0
    from .lake import open_lake

    location = args.lake
    if location is None:
        location = DEFAULT_LAKE
        print(f"note: no LAKE given: this is the bundled sample lake ({DEFAULT_LAKE}), not your data; "
              f"pass your lake's folder or URI: python -m kit {args.command} LAKE", file=sys.stderr)
    lake = open_lake(location, store=getattr(args, "store", None),
                     engine=getattr(args, "engine", None))  # credentials: AZURE_* environment variables
    if args.command == "collect":
        if lake.store is None:
            raise KitError("collect needs --store FILE (or KIT_STORE): the DuckDB file to record first landings in, "
                           "beside the lake (created on first collect).")
        result = lake.collect(args.tables)
        _print(result, args.format)
        return 0
    if args.command == "report":
        path = _report(lake, args.output)
        print(f"wrote {path}")
        return 0
    if args.command == "tables":
        _print(lake.tables(), args.format)
        return 0
    module, func, opts = ANALYSES[args.command]
    kwargs = {}
    for opt in opts:
        value = getattr(args, opt, None)
        if opt == "by" and value == "none":
            value = None
        if opt == "tables" and not value:
            value = None
        if opt in ("outages_only", "include_estimates") and not value:
            value = None
        if value is not None or opt == "by":
            kwargs[opt] = value
    if kwargs.get("tables") is None:
        names = lake.dataverse_tables()
        if not names:
            raise _no_dataverse(lake, lake.storage.display)
    else:
        names = [lake[t].name for t in kwargs["tables"]]
    function = getattr(importlib.import_module(module), func)
    if args.command in READS_CHANGES_AGAIN and len(names) > 1:
        with lake.sharing_changes():  # read once per table (the bar's steps), then shared
            _read_changes(lake, names)
            result = function(lake, **kwargs)
    else:
        result = function(lake, **kwargs)
    if args.command == "anomalies" and not args.all_hours:
        result = result[result["flag"].notna()]  # the hours to look at; --all for every hour
    if args.command == "throughput":
        from .present.advice import pattern_reasons

        result = result.assign(reason=pattern_reasons(result))  # the verdict in words
    if "by" in opts and kwargs.get("by") is not None and not args.all_periods:
        result = _observed_periods(lake, result, kwargs["by"])
    empty = EMPTY["outages" if getattr(args, "outages_only", False) else args.command]
    if args.command == "anomalies" and args.all_hours:
        empty = "No hour could be scored: too little history."
    _print(result, args.format, empty)
    return 0


def _observed_periods(lake, result, by: str):
    """The periods the lake observed as they happened: from the one holding its first sync
    commit on, with a note when earlier ones (the initial load's backlog) were left out."""
    import pandas as pd

    from .present.readings import fmt_day

    window = lake.observed_window()
    if window is None or result.empty:
        return result
    first = pd.Timestamp(window[0]).tz_convert("UTC")
    start = first.floor("h") if by == "hour" else first.floor("D")
    if by == "week":
        start -= pd.Timedelta(days=start.dayofweek)  # weeks start on Monday
    periods = pd.to_datetime(result["period"], utc=True)
    kept = result[periods.isna() | (periods >= start)]
    if len(kept) < len(result):
        print(f"note: periods from {fmt_day(first)} (the lake's first sync commit) on; {len(result) - len(kept):,} "
              "earlier period rows (the initial load's backlog) left out: --all-periods shows them", file=sys.stderr)
    return kept


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = run(argv)
        except KitError as exc:  # one line, whatever the message holds, credentials masked
            print(f"error: {redact(' '.join(str(exc).split()), (storage_options_from_env() or {}).values())}", file=sys.stderr)
            code = 2
        except BrokenPipeError:  # the reader of our output (head, less) went away
            code = 0
        except (OSError, duckdb.Error) as exc:
            # A file the OS refused (report path, permissions) or a data file DuckDB could not
            # read: still one line, with what happened, never a traceback.
            text = redact(" ".join(str(exc).split()), (storage_options_from_env() or {}).values())
            print(f"error: {type(exc).__name__}: {text[:500]}", file=sys.stderr)
            code = 2
    for message in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):  # each note once
        print(f"note: {redact(message, (storage_options_from_env() or {}).values())}", file=sys.stderr)
    sys.exit(code)
