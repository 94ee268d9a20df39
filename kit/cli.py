"""The command line: ``python -m kit <command> LAKE [options]``.

    python -m kit tables sample_lake
    python -m kit latency sample_lake --by day --when landed --format csv
    python -m kit throughput sample_lake --table email
    python -m kit sample /tmp/lake --days 28
    python -m kit report sample_lake -o report.html

Errors print one line on stderr and exit with status 2.
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
    "latency": ("kit.metrics.latency", "sync_latency", ("tables", "by", "when")),
    "volume": ("kit.metrics.volume", "change_volume", ("tables", "by", "when")),
    "throughput": ("kit.metrics.throughput", "throughput", ("tables", "actions_per_record")),
    "cadence": ("kit.metrics.health", "sync_cadence", ("tables",)),
    "gaps": ("kit.metrics.health", "sync_gaps", ("tables", "outages_only")),
    "freshness": ("kit.metrics.health", "freshness", ("as_of",)),
    "anomalies": ("kit.metrics.anomalies", "anomalies", ("tables", "metric")),
}
BY_DEFAULT = {"latency": "day", "volume": "hour"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr, exit 2, as every other error
        self.exit(2, f"error: {message} (see python -m kit --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m kit", description="Analyse how Dataverse data lands in a lake.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def output(sp):
        sp.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)")

    t = sub.add_parser("tables", help="list the lake's tables")
    t.add_argument("lake", nargs="?", default=DEFAULT_LAKE, help="lake folder or URI (default: the sample lake)")
    output(t)
    for name, (_, func, opts) in ANALYSES.items():
        sp = sub.add_parser(name, help=f"{func}()")
        sp.add_argument("lake", nargs="?", default=DEFAULT_LAKE, help="lake folder or URI (default: the sample lake)")
        if "tables" in opts:
            sp.add_argument("--table", action="append", dest="tables", metavar="T", help="a table (repeatable; default: all)")
        if "by" in opts:
            sp.add_argument("--by", choices=("hour", "day", "week", "none"), default=BY_DEFAULT[name])
        if "when" in opts:
            sp.add_argument("--when", choices=("modified", "landed"), default="modified")
        if "actions_per_record" in opts:
            sp.add_argument("--actions-per-record", type=float, default=5, dest="actions_per_record")
        if "as_of" in opts:
            sp.add_argument("--as-of", dest="as_of", help="UTC time to measure staleness at (default: latest commit)")
        if "outages_only" in opts:
            sp.add_argument("--outages-only", action="store_true", dest="outages_only",
                            help="only the gaps that kept changes waiting")
        if "metric" in opts:
            sp.add_argument("--metric", choices=("volume", "latency"), default="volume")
            sp.add_argument("--all", action="store_true", dest="all_hours",
                            help="every scored hour, not only the flagged ones")
        output(sp)
    s = sub.add_parser("sample", help="write the simulated sample lake")
    s.add_argument("dest")
    s.add_argument("--days", type=int, default=28)
    s.add_argument("--scale", type=float, default=1.0)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--layout", choices=("synapse", "fabric"), default="synapse")
    r = sub.add_parser("report", help="write the self-contained HTML report")
    r.add_argument("lake", nargs="?", default=DEFAULT_LAKE, help="lake folder or URI (default: the sample lake)")
    r.add_argument("-o", "--output", default="report.html")
    return p


def _print(df, fmt: str) -> None:
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", date_format="iso", date_unit="ms") + "\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200):
            sys.stdout.write(df.to_string(index=False) + "\n")


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sample":
        from .sample import generate

        generate(args.dest, days=args.days, scale=args.scale, seed=args.seed, layout=args.layout)
        print(f"wrote the sample lake to {args.dest}")
        return 0
    from .lake import open_lake

    lake = open_lake(args.lake)  # credentials: AZURE_* environment variables
    if args.command == "report":
        from .report import write_report

        path = write_report(lake, args.output)
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
        if opt == "outages_only" and not value:
            value = None
        if value is not None or opt == "by":
            kwargs[opt] = value
    function = getattr(importlib.import_module(module), func)
    result = function(lake, **kwargs)
    if args.command == "anomalies" and not args.all_hours:
        result = result[result["flag"].notna()]  # the hours to look at; --all for every hour
    if args.command == "throughput":
        from .present.advice import pattern_reasons

        result = result.assign(reason=pattern_reasons(result))  # the verdict in words
    _print(result, args.format)
    return 0


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
    for w in caught:
        print(f"note: {redact(' '.join(str(w.message).split()), (storage_options_from_env() or {}).values())}", file=sys.stderr)
    sys.exit(code)
