"""What the analyses' numbers say, for people: small formatted tables and one-paragraph readings.

Each ``*_table`` function takes an analysis DataFrame and returns a small DataFrame of strings
(thousands separators, percentages, durations in minutes or hours, readable column names) for
display in a notebook or the HTML report. Each ``read_*`` function returns a plain-language
sentence or two computed from the same data, so a notebook's prose stays true on any lake:

    lat = kit.sync_latency(lake, by=None)
    kit.readings.latency_table(lat)
    print(kit.readings.read_latency(lat))
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

from ..metrics.limits import events_per_window, limits_table
from ..settings import MONTH_END_DAYS
from .advice import pattern_reasons


class Reading(str):
    """A sentence about the data: a plain ``str`` that notebooks display as Markdown."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def show_warnings_as_notes(stream=None) -> None:
    """Print every warning as one line, ``note: <message>``, on stdout (no file path, no
    source line), each message once per session: for notebooks, whose stored outputs must
    not depend on where the kit is installed. The kit warns when it skips a table or can
    analyse only part of a history."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if text not in seen:
            seen.add(text)
            print(f"note: {text}", file=stream or sys.stdout)

    warnings.showwarning = show


def lake_name(location) -> str:
    """A lake's location for display without this machine's paths: the last part of a local
    path (``sample_lake``); a URI with its query string (a SAS token) and password removed."""
    from ..storage import display_location

    text = display_location(str(location))
    if "://" in text:
        return text
    import os

    return os.path.basename(os.path.normpath(text)) or text


def producer(tables: pd.DataFrame | None) -> str:
    """What wrote the lake, for sentences, from the layout of its tables (``lake.tables()``'s
    ``layout`` column): ``"Synapse Link"``, ``"Fabric Link"``, or ``"the export"`` for plain
    Delta folders or a mix."""
    layouts = set() if tables is None or "layout" not in tables else set(tables["layout"].dropna())
    names = {"synapse_delta": "Synapse Link", "fabric": "Fabric Link"}
    return names.get(layouts.pop(), "the export") if len(layouts) == 1 else "the export"

# -- number formats ------------------------------------------------------------------------------


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def fmt_int(v) -> str:
    """``1234567`` -> ``"1,234,567"``; missing -> ``""``."""
    return "" if _missing(v) else f"{int(round(float(v))):,}"


def fmt_pct(fraction, digits: int | None = None) -> str:
    """A fraction as a percentage: ``0.1234`` -> ``"12.3%"``, ``1.22`` -> ``"122%"``."""
    if _missing(fraction):
        return ""
    p = float(fraction) * 100
    if digits is None:
        digits = 0 if abs(p) >= 100 else 1
    return f"{p:,.{digits}f}%"


def fmt_duration(seconds) -> str:
    """Seconds as the unit that reads best: ``"45 s"``, ``"12.5 min"``, ``"3.2 h"``, ``"2.1 days"``."""
    if _missing(seconds):
        return ""
    s = float(seconds)
    if abs(s) < 60:
        return f"{s:.0f} s"
    if abs(s) < 2 * 3600:
        return f"{s / 60:.1f} min"
    if abs(s) < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def fmt_time(ts) -> str:
    """A UTC time to the minute: ``"2026-10-30 14:05 UTC"``."""
    if _missing(ts):
        return ""
    ts = pd.Timestamp(ts)
    return (ts.tz_convert("UTC") if ts.tzinfo else ts).strftime("%Y-%m-%d %H:%M UTC")


def fmt_day(ts) -> str:
    """A UTC day: ``"2026-10-30"``."""
    if _missing(ts):
        return ""
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def fmt_bytes(n) -> str:
    if _missing(n):
        return ""
    n = float(n)
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    return f"{n:,.0f} B"


def fmt_days(d) -> str:
    if _missing(d):
        return "not growing"
    d = float(d)
    if d <= 0:
        return "already over"
    if d > 3650:
        return "> 10 years"
    return f"{d:,.0f} days"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _join(names: list[str]) -> str:
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _strings(df: pd.DataFrame) -> pd.DataFrame:
    """All values as display strings, the first column (the table, mostly) as the index, so a
    notebook shows it in place of a meaningless 0, 1, 2... (``attrs["index_label"]`` keeps its
    name, for ``table_rows``)."""
    df = df.reset_index(drop=True).astype("object")
    if df.empty or len(df.columns) < 2:
        return df
    label = df.columns[0]
    out = df.set_index(label)
    out.index.name = None
    out.attrs["index_label"] = label
    return out


def table_rows(df: pd.DataFrame) -> pd.DataFrame:
    """A display table back to plain columns (the index as its first column again)."""
    label = df.attrs.get("index_label")
    if not label:
        return df.reset_index(drop=True)
    out = df.reset_index()
    return out.rename(columns={out.columns[0]: label})


def _reading(func):
    """Make a ``read_*`` function return a ``Reading`` (displayed as Markdown in notebooks)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return Reading(func(*args, **kwargs))

    return wrapper


# -- exact and estimated figures ---------------------------------------------------------------------
def _exact(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows of an analysis flagged ``exact`` (all rows of a frame without the column)."""
    if df is None or "exact" not in df:
        return df
    return df[df["exact"].fillna(False).astype(bool)]


def _estimated(df: pd.DataFrame | None) -> pd.DataFrame | None:
    if df is None or "exact" not in df:
        return None if df is None else df.iloc[0:0]
    return df[~df["exact"].fillna(False).astype(bool)]


def _first_estimate_free_day(df: pd.DataFrame) -> pd.Timestamp | None:
    """The first period after every estimated one (None without estimated rows)."""
    est = _estimated(df)
    if est is None or est.empty or "period" not in est:
        return None
    ok = _exact(df)
    last = pd.to_datetime(est["period"], utc=True).max()
    later = pd.to_datetime(ok["period"], utc=True)
    later = later[later > last]
    return later.min() if len(later) else None


def exact_span_text(spans: pd.DataFrame | None, end=None) -> str:
    """Which days the figures are exact for, from ``kit.metrics.exactness.exact_spans``: one
    sentence per group of tables with the same first exact day; ``end``: where the figures end
    (the lake's newest commit)."""
    if spans is None or spans.empty:
        return ""
    last = fmt_time(end) if end is not None else None
    to = f" to {last}" if last else ""
    parts = []
    complete = spans[spans["exact"] == "all"]
    from_day = spans[spans["exact"] == "from_day"]
    none = spans[spans["exact"] == "none"]
    if len(complete) == len(spans):
        if "collected" in spans and spans["collected"].all():
            return ("Every figure is exact: the store, collected from the lake's change feed, knows every landed "
                    "row version of every table, back to its creation.")
        return ("Every figure is exact: the lake knows every landed row version of every table, back to its "
                "creation (change data feed or commit history).")
    groups = from_day.groupby("first_exact_day", sort=True)
    for day, g in groups:
        method = " and ".join(sorted({m.replace("_", " ") for m in g["method"]}))
        who = "" if len(g) == len(spans) else f" for {_join(sorted(g['table']))}"
        parts.append(f"Exact from {fmt_day(day)}{to} ({method}){who}")
    text = "; ".join(parts)
    if text:
        text += ("; days before are estimates from the snapshot (each record's latest version only: counts at least, "
                 "latencies at most), drawn dotted and left out of every total, percentile, heatmap and busiest-day figure.")
    if not complete.empty:
        text += f" {_join(sorted(complete['table']))}: exact on every day."
    if not none.empty:
        text += (f" {_join(sorted(none['table']))}: no exact day (snapshot only): "
                 "their figures are estimates, labelled as such.")
    if not from_day.empty and not ("collected" in spans and spans["collected"].any()):
        text += (" To keep every day exact, collect the change feed into a store before it is vacuumed "
                 "(python -m kit collect LAKE --store FILE, hourly) and pass --store.")
    return text.strip()


@_reading
def read_exact_span(spans: pd.DataFrame | None, end=None) -> str:
    """Which days are exact, and what the others are (``exact_span_text``)."""
    return exact_span_text(spans, end) or "No table's changes could be read, so no day is known exactly."


# -- 01 inventory --------------------------------------------------------------------------------
def inventory_table(tables: pd.DataFrame) -> pd.DataFrame:
    """``lake.tables()`` for reading: one row per table, largest first."""
    if tables is None or tables.empty:
        return pd.DataFrame(columns=["table", "kind", "rows"])
    df = tables.sort_values(["rows", "table"], ascending=[False, True], kind="stable", na_position="last")
    out = pd.DataFrame({
        "table": df["table"],
        "kind": df["kind"].fillna(""),
        "rows": df["rows"].map(fmt_int),
        "live rows": df["live_rows"].map(fmt_int),
        "soft-deleted": df["deleted_rows"].map(fmt_int),
        "size": df["bytes"].map(fmt_bytes),
        "files": df["files"].map(fmt_int),
        "version": df["version"].map(fmt_int),
        "last commit": df["last_commit"].map(fmt_time),
        "change feed": df["change_feed"].map(lambda v: "" if _missing(v) else ("on" if v else "off")),
    })
    if "error" in df and df["error"].notna().any():
        out["error"] = df["error"].fillna("")
    return _strings(out)


@_reading
def read_inventory(tables: pd.DataFrame, as_of=None) -> str:
    """One paragraph: how many tables of each kind, rows, size, and the newest commit."""
    if tables is None or tables.empty:
        return "The lake holds no table the kit can find."
    kinds = tables["kind"].fillna("unreadable").value_counts()
    names = {"dataverse": "Dataverse", "finance_operations": "finance and operations", "metadata": "metadata",
             "other": "other", "unreadable": "unreadable"}
    parts = [f"{int(kinds[k])} {names.get(k, k)}" for k in ("dataverse", "finance_operations", "metadata", "other", "unreadable") if k in kinds]
    rows = pd.to_numeric(tables["rows"], errors="coerce").sum()
    live = pd.to_numeric(tables["live_rows"], errors="coerce").sum()
    deleted = pd.to_numeric(tables["deleted_rows"], errors="coerce").sum()
    size = pd.to_numeric(tables["bytes"], errors="coerce").sum()
    text = (f"The lake holds {_plural(len(tables), 'table')} ({', '.join(parts)}) with {fmt_int(rows)} rows "
            f"in {fmt_bytes(size)} on disk.")
    if deleted > 0:
        text += (f" Of the Dataverse rows, {fmt_int(live)} are live and {fmt_int(deleted)} are soft-deleted "
                 "(IsDelete true): they stay in the table until the purge, so count live rows, not rows.")
    big = tables.sort_values(["rows", "table"], ascending=[False, True], kind="stable").iloc[0]
    text += f" The largest table is {big['table']} ({fmt_int(big['rows'])} rows)."
    if as_of is not None:
        text += f" The newest commit is at {fmt_time(as_of)}: every \"now\" in this report is that time."
    errors = tables[tables["error"].notna()] if "error" in tables else tables.iloc[0:0]
    if not errors.empty:
        text += f" Unreadable: {_join(list(errors['table']))} (see the error column)."
    return text


# -- 02 latency ----------------------------------------------------------------------------------
def latency_table(latency: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """``sync_latency(lake, by=None)`` for reading, worst p95 first."""
    if latency is None or latency.empty:
        return pd.DataFrame(columns=["table", "changes", "p50", "p95", "p99"])
    df = latency.sort_values(["p95_s", "table"], ascending=[False, True], kind="stable", na_position="last")
    if top:
        df = df.head(top)
    out = pd.DataFrame({
        "table": df["table"],
        "changes": df["changes"].map(fmt_int),
        "p50": df["p50_s"].map(fmt_duration),
        "p95": df["p95_s"].map(fmt_duration),
        "p99": df["p99_s"].map(fmt_duration),
        "max": df["max_s"].map(fmt_duration),
        "within 15 min": df["within_15m"].map(fmt_pct),
        "within 1 h": df["within_60m"].map(fmt_pct),
        "measured from": df["method"].fillna("").str.replace("change_feed", "feed"),
    })
    if "exact" in df and not df["exact"].all():
        out["figures"] = ["exact" if e else "estimate: at most" for e in df["exact"]]
    if "excluded" in df and pd.to_numeric(df["excluded"], errors="coerce").fillna(0).gt(0).any():
        out["excluded"] = df["excluded"].map(fmt_int)
    return _strings(out)


@_reading
def read_latency(latency: pd.DataFrame) -> str:
    """Overall share within 15 and 60 minutes, the slowest table and which tables miss an hour,
    over the exact rows (``exact``); tables known only as estimates are named apart, their
    latencies as upper bounds. The number of changes quoted is every change behind the exact
    rows (measured + excluded): the report's one total."""
    if latency is None or latency.empty or latency["changes"].fillna(0).sum() == 0:
        return "No change with a usable modifiedon landed in the analysed tables, so there is no latency to report."
    estimates = _estimated(latency)
    estimates = estimates[estimates["changes"].fillna(0) > 0] if estimates is not None else None
    df = _exact(latency)
    df = df[df["changes"].fillna(0) > 0]
    if df.empty:
        worst = estimates.sort_values(["p95_s", "table"], ascending=[False, True], kind="stable").iloc[0]
        return (f"No latency is known exactly here: only the snapshot is left, where each record's latest version "
                f"landed at most this late. Estimates (at most): the slowest table, {worst['table']}, "
                f"p95 at most {fmt_duration(worst['p95_s'])}.")
    w = df["changes"].astype("float64")
    total = w.sum() + (df["excluded"].fillna(0).sum() if "excluded" in df else 0)
    within15 = float((df["within_15m"].astype("float64") * w).sum() / w.sum())
    within60 = float((df["within_60m"].astype("float64") * w).sum() / w.sum())
    worst = df.sort_values(["p95_s", "table"], ascending=[False, True], kind="stable").iloc[0]
    left = int(total - w.sum())
    text = (f"Across {_plural(len(df), 'table')} and {fmt_int(total)} changes, {fmt_pct(within15)} landed within "
            f"15 minutes of being made and {fmt_pct(within60)} within an hour"
            + (f" ({fmt_int(left)} without a usable modifiedon, or landed before it, left out)" if left else "")
            + f". The slowest table is {worst['table']}: "
            f"half its changes waited more than {fmt_duration(worst['p50_s'])}, one in twenty more than "
            f"{fmt_duration(worst['p95_s'])} and one in a hundred more than {fmt_duration(worst['p99_s'])}.")
    late = df[df["p95_s"] > 3600].sort_values("p95_s", ascending=False)
    if late.empty:
        fast = df[df["p95_s"] <= 900]
        if len(fast) == len(df):
            text += " Every table's p95 is within 15 minutes: any consumer that can wait 15 minutes is served."
        else:
            text += (" Every table's p95 is within an hour; a consumer that needs data within 15 minutes should check "
                     "the tables above 15 minutes before relying on the lake.")
    else:
        text += (f" p95 above an hour: {_join(list(late['table']))}. A consumer that needs these within an hour "
                 "cannot rely on the lake for them: read Dataverse directly or shorten the sync interval.")
    if estimates is not None and not estimates.empty:
        text += (f" {_join(sorted(estimates['table']))}: only estimates from the snapshot (latencies at most, "
                 "not counted above).")
    return text


def worst_latency_table(latency: pd.DataFrame) -> str | None:
    """The table with the highest p95 latency (None without data)."""
    if latency is None or latency.empty:
        return None
    df = latency.dropna(subset=["p95_s"])
    if "exact" in df and df["exact"].any():
        df = df[df["exact"].astype(bool)]
    if df.empty:
        return None
    return str(df.sort_values(["p95_s", "table"], ascending=[False, True], kind="stable").iloc[0]["table"])


def naive_table(naive: pd.DataFrame) -> pd.DataFrame:
    """``kit.naive.naive_latency`` for reading, most rows landed again first: the medians are
    over the rows landed again (where the two measures differ), the p99s over all rows compared."""
    if naive is None or naive.empty:
        return pd.DataFrame(columns=["table", "rows compared", "landed again"])
    df = naive.sort_values(["relanded_share", "table"], ascending=[False, True], kind="stable")
    out = pd.DataFrame({
        "table": df["table"],
        "rows compared": df["changes"].map(fmt_int),
        "landed again": [f"{fmt_int(n)} ({fmt_pct(p)})" for n, p in zip(df["relanded"], df["relanded_share"])],
        "naive median": df["relanded_naive_p50_s"].map(fmt_duration),
        "first-landing median": df["relanded_first_p50_s"].map(fmt_duration),
        "naive p99": df["naive_p99_s"].map(fmt_duration),
        "first-landing p99": df["first_p99_s"].map(fmt_duration),
    })
    return _strings(out)


def _ratio(a, b) -> pd.Series:
    a = pd.to_numeric(a, errors="coerce").astype("float64")
    b = pd.to_numeric(b, errors="coerce").astype("float64")
    return a / b.where(b > 0)


@_reading
def read_naive(naive: pd.DataFrame) -> str:
    """How much the naive SinkModifiedOn query overstates, where, and why."""
    if naive is None or naive.empty or naive["changes"].fillna(0).sum() == 0:
        return ("The kit cannot compare the two measures here: no current row has a first landing known from the "
                "change data feed or the commit history (only the snapshot is left, where both clocks are SinkModifiedOn).")
    df = naive[naive["changes"] > 0]
    compared = int(df["changes"].sum())
    relanded = int(df["relanded"].sum())
    if relanded == 0:
        return (f"Over the {fmt_int(compared)} current rows whose first landing the change feed shows, the naive query "
                "(SinkModifiedOn - modifiedon) agrees with the latency to first landing: no row was landed again.")
    ratio = _ratio(df["relanded_naive_p50_s"], df["relanded_first_p50_s"])
    worst = df.assign(_r=ratio).dropna(subset=["_r"]).sort_values(["relanded", "table"], ascending=[False, True], kind="stable").iloc[0]
    p99 = df.assign(_d=df["naive_p99_s"] - df["first_p99_s"]).sort_values(["_d", "table"], ascending=[False, True], kind="stable").iloc[0]
    text = (f"{fmt_int(relanded)} of the {fmt_int(compared)} current rows whose first landing the change feed shows "
            f"({fmt_pct(relanded / compared)}) were landed again later, and every landing stamps a new SinkModifiedOn: "
            "for those rows the naive query (SinkModifiedOn - modifiedon) measures the wait until the last landing, "
            "although the change was readable in the lake from the first. "
            f"In {worst['table']}, the table with the most, the naive median over those rows is "
            f"{fmt_duration(worst['relanded_naive_p50_s'])} against {fmt_duration(worst['relanded_first_p50_s'])} "
            f"to first landing ({worst['_r']:,.1f}x).")
    if p99["naive_p99_s"] - p99["first_p99_s"] > 60:
        text += (f" It moves whole-table percentiles too: {p99['table']}'s p99 reads {fmt_duration(p99['naive_p99_s'])} "
                 f"naively against {fmt_duration(p99['first_p99_s'])}.")
    text += " Measure latency to first landing (kit.sync_latency), as this report does."
    return text


# -- 03 volume -----------------------------------------------------------------------------------
def volume_table(volume: pd.DataFrame) -> pd.DataFrame:
    """Totals per table from ``change_volume`` (any ``by``), busiest first, with the busiest
    period (a day when ``by="day"``)."""
    volume = _exact(volume)  # a total never mixes exact and estimated periods
    if volume is None or volume.empty:
        return pd.DataFrame(columns=["table", "creates", "updates", "deletes", "total"])
    sums = volume.groupby("table")[["creates", "updates", "deletes", "total"]].sum()
    idx = volume.sort_values(["total", "period"], ascending=[False, True], kind="stable").groupby("table").head(1).set_index("table")
    sums = sums.join(idx[["period", "total"]].rename(columns={"period": "_peak", "total": "_peak_total"}))
    sums = sums.reset_index().sort_values(["total", "table"], ascending=[False, True], kind="stable")
    all_total = float(sums["total"].sum()) or 1.0
    out = pd.DataFrame({
        "table": sums["table"],
        "creates": sums["creates"].map(fmt_int),
        "updates": sums["updates"].map(fmt_int),
        "deletes": sums["deletes"].map(fmt_int),
        "total": sums["total"].map(fmt_int),
        "share": (sums["total"] / all_total).map(fmt_pct),
        "busiest period": sums["_peak"].map(fmt_day),
        "changes that period": sums["_peak_total"].map(fmt_int),
    })
    return _strings(out)


@_reading
def read_volume(volume: pd.DataFrame) -> str:
    """Total changes by kind, the busiest table and the busiest day (``by="day"``), over the
    exact periods (``exact``; estimated ones are named, not counted); the busiest day against
    the median day needs at least three exact days."""
    if volume is None or volume.empty or volume["total"].sum() == 0:
        return "No change landed in the analysed tables."
    after = _first_estimate_free_day(volume)
    estimated = _estimated(volume)
    volume = _exact(volume)
    if volume.empty or volume["total"].sum() == 0:
        return ("No day is known exactly: only the snapshot is left, which shows each record's latest version, so "
                "every count here is an estimate (at least).")
    c, u, d, t = (int(volume[k].sum()) for k in ("creates", "updates", "deletes", "total"))
    per_table = volume.groupby("table")["total"].sum().sort_values(ascending=False, kind="stable")
    days = volume.groupby("period")["total"].sum()
    n_days = int((pd.Timestamp(days.index.max()) - pd.Timestamp(days.index.min())).days) + 1
    top = per_table.index[0]
    span = (f" from {fmt_day(days.index.min())} to {fmt_day(days.index.max())}" if estimated is not None
            and not estimated.empty else "")
    text = (f"{fmt_int(t)} changes over {_plural(n_days, 'exact day' if span else 'day')}{span}: {fmt_int(c)} creates, "
            f"{fmt_int(u)} updates and {fmt_int(d)} deletes. {top} carries {fmt_pct(per_table.iloc[0] / t)} of them")
    if len(per_table) > 1:
        text += f", {per_table.index[1]} {fmt_pct(per_table.iloc[1] / t)}"
    text += "."
    busiest = days.sort_values(ascending=False, kind="stable")
    text += (f" The busiest day for the whole lake was {pd.Timestamp(busiest.index[0]):%a %Y-%m-%d} with "
             f"{fmt_int(busiest.iloc[0])} changes")
    if len(days) >= 3:
        text += f", {busiest.iloc[0] / days.median():,.1f}x the median day."
    else:
        text += f"; {_plural(len(days), 'exact day')} are too few for a median day to compare it with."
    if estimated is not None and not estimated.empty:
        first = fmt_day(after) if after is not None else "the exact span"
        text += (f" Days before {first} are known only from the snapshot (each record's latest version: at least "
                 "the true count) and are not counted here.")
    return text


@_reading
def read_month_end(volume: pd.DataFrame, last_days: int = MONTH_END_DAYS) -> str:
    """Whether the last ``last_days`` days of a month are busier than the others, from
    ``kit.daily_volume(lake)`` (or ``change_volume(lake, by="day")``); names the table with the
    largest burst."""
    if volume is None or volume.empty:
        return "No changes, so no month-end pattern to look for."
    label = ""
    if "exact" in volume and not volume["exact"].all():
        exact = _exact(volume)
        t = pd.to_datetime(exact["period"], utc=True)
        ends = ((t + pd.Timedelta(days=last_days)).dt.month != t.dt.month)
        if not exact.empty and ends.any() and not ends.all():
            volume = exact  # exact days on both sides: an exact comparison
        else:
            after = _first_estimate_free_day(volume)
            est = _estimated(volume)
            kind = ("the commit log's rows landed per day (re-landings included: at most)"
                    if set(est.get("method", pd.Series(dtype=object)).dropna()) <= {"commit_metrics"}
                    else "the snapshot (at least)")
            label = (f"Estimated, as the exact days (from {fmt_day(after)}) alone cannot compare a month end with "
                     f"ordinary days, from {kind} before them: ") if after is not None else f"Estimated from {kind}: "
    df = volume.copy()
    df["period"] = pd.to_datetime(df["period"], utc=True)
    full = pd.date_range(df["period"].min(), df["period"].max(), freq="D")
    daily = df.pivot_table(index="period", columns="table", values="total", aggfunc="sum").reindex(full, fill_value=0).fillna(0)
    month_end = np.asarray((full + pd.Timedelta(days=last_days)).month != full.month)
    if not month_end.any():
        return (f"The observed days include no month end (the last {last_days} days of a month), so the "
                "month-end burst cannot be seen here; rerun on a lake that spans one.")
    if month_end.all():
        return "Every observed day is a month-end day; there is no ordinary day to compare with."
    total = daily.sum(axis=1)
    ratio_all = total[month_end].mean() / max(total[~month_end].mean(), 1e-9)
    ratios = (daily[month_end].mean() / daily[~month_end].mean().where(daily[~month_end].mean() > 0)).dropna()
    text = label + (f"{'in' if label else 'In'} the last {last_days} days of the month the lake averaged {fmt_int(total[month_end].mean())} changes a day, "
                    f"{ratio_all:,.1f}x the {fmt_int(total[~month_end].mean())} of the other days.")
    if not ratios.empty:
        ratios = ratios.sort_values(ascending=False, kind="stable")
        top = ratios.index[0]
        peak_day = daily[top].idxmax()
        if ratios.iloc[0] >= 1.5:
            text += (f" The burst is sharpest in {top} ({ratios.iloc[0]:,.1f}x its ordinary days; peak "
                     f"{fmt_int(daily[top].max())} changes on {peak_day:%a %Y-%m-%d}). Size integrations for the "
                     "month end, not the average day.")
        else:
            text += " No table more than doubles at month end: the average day is a fair basis for sizing."
    return text


# -- 04 throughput -------------------------------------------------------------------------------
def throughput_table(throughput: pd.DataFrame) -> pd.DataFrame:
    """``throughput`` for reading: highest utilisation first (the peak hour and 5 minutes are
    in ``charts.bursts``)."""
    if throughput is None or throughput.empty:
        return pd.DataFrame(columns=["table", "peak day", "% of limit", "pattern"])
    df = throughput.sort_values(["utilisation", "table"], ascending=[False, True], kind="stable", na_position="last")
    out = pd.DataFrame({
        "table": df["table"],
        "p95 / day": df["p95_per_day"].map(fmt_int),
        "peak day": df["peak_day"].map(fmt_day),
        "peak day events": df["peak_day_events"].map(fmt_int),
        "% of daily limit": df["utilisation"].map(fmt_pct),
        "headroom": df["headroom"].map(fmt_pct),
        "days to limit": df["days_to_limit"].map(fmt_days),
        "pattern": df["pattern"].fillna(""),
    })
    return _strings(out)


def limit_basis(reasons: pd.Series) -> str:
    """What the daily limit stands for, which every throughput reason (``advice.pattern_reasons``)
    states in brackets ("250,000 requests per 24 h at 5 actions per record"): said once, in the
    caption of ``pattern_table``, which leaves it out of the reasons. "" when they state none."""
    if reasons is None or len(reasons) == 0:
        return ""
    found = pd.Series(reasons).dropna().astype(str).str.extract(r"limit \(([^()]+)\)")[0].dropna()
    return str(found.mode().iloc[0]) if len(found) else ""


def pattern_table(throughput: pd.DataFrame, limits=None) -> pd.DataFrame:
    """The recommended integration pattern per table with its reason (``throughput``, judged
    against ``limits``: None for ``kit/limits.json``); the limit's basis (``limit_basis``), the
    same for every table, is left out of the reasons."""
    if throughput is None or throughput.empty:
        return pd.DataFrame(columns=["table", "pattern", "reason"])
    df = throughput.sort_values(["utilisation", "table"], ascending=[False, True], kind="stable", na_position="last")
    reasons = pattern_reasons(df, limits)
    basis = limit_basis(reasons)
    reason = reasons.str.replace(f" ({basis})", "", regex=False) if basis else reasons
    return _strings(pd.DataFrame({"table": df["table"], "pattern": df["pattern"].fillna(""), "reason": reason}))


def burst_ceilings(limits=None, window_seconds: int = 300, actions_per_record: float = 5,
                   applies_to: str = "Power Automate") -> list[tuple[str, float]]:
    """The published limits over ``window_seconds`` that constrain ``applies_to``, as
    ``(label, events per window)``: the figure divided by what one change costs
    (``kit.metrics.limits.events_per_window``)."""
    return [(f"{e.get('label', e['name'])}: {events:,.0f} events", events)
            for e, events in events_per_window(limits, window_seconds, actions_per_record, applies_to)]


def _peaks_exact(row) -> bool:
    """A throughput row's peaks come from exact days only (rows without the flag: as before)."""
    value = row.get("peaks_exact", True) if hasattr(row, "get") else True
    return True if _missing(value) else bool(value)


@_reading
def read_throughput(throughput: pd.DataFrame) -> str:
    """Which tables outgrow Power Automate, by how much, and which come next."""
    if throughput is None or throughput.empty:
        return "No table had changes to size an integration for."
    df = throughput.dropna(subset=["utilisation"])
    if df.empty:
        return "No table had changes to size an integration for."
    limit = float(df["limit_per_day"].iloc[0])
    over = df[df["pattern"] != "Power Automate"].sort_values(["utilisation", "table"], ascending=[False, True], kind="stable")
    under = df[df["pattern"] == "Power Automate"].sort_values(["utilisation", "table"], ascending=[False, True], kind="stable")
    parts = []
    if over.empty:
        parts.append(f"Every table stays under {fmt_int(limit)} events a day (the Power Automate rule of thumb) and "
                     "under the 5-minute ceilings: Power Automate can carry each of them.")
    else:
        top = over.iloc[0]
        least = "" if _peaks_exact(top) else "at least "
        parts.append(
            f"{_plural(len(over), 'table')} outgrow{'s' if len(over) == 1 else ''} Power Automate: "
            f"{top['table']} peaked at {least}{fmt_int(top['peak_day_events'])} events on {pd.Timestamp(top['peak_day']):%a %Y-%m-%d}, "
            f"{least}{fmt_pct(top['utilisation'])} of the {fmt_int(limit)} events/day limit"
            + ("" if least else " (exact)") + "."
        )
        if len(over) > 1:
            parts.append(f"Also over a limit: {_join(list(over['table'].iloc[1:]))}.")
        them, they_feed = ("it", "it only feeds") if len(over) == 1 else ("them", "they only feed")
        parts.append(f"Move {them} to Service Bus + Azure Functions (or, if {they_feed} analytics, to a bulk pattern "
                     "such as Data Factory + Synapse Link).")
    if not under.empty:
        nxt = under.iloc[0]
        least = "" if _peaks_exact(nxt) else "at least "
        text = (f"Closest under the limit: {nxt['table']} at {least}{fmt_pct(nxt['utilisation'])} on its peak day "
                f"(headroom {'at most ' if least else ''}{fmt_pct(nxt['headroom'])})")
        d = nxt["days_to_limit"]
        if not _missing(d) and float(d) > 0:
            text += f"; at its current growth it reaches the limit in about {fmt_days(d)}"
            if nxt.get("daily_basis") == "commit_metrics":
                text += " (an estimate: the growth line runs through the commit log's rows landed per day)"
        parts.append(text + ".")
        growing = under.dropna(subset=["days_to_limit"])
        growing = growing[(growing["days_to_limit"] > 0) & (growing["days_to_limit"] <= 90)]
        growing = growing[growing["table"] != nxt["table"]]
        if not growing.empty:
            g = growing.sort_values("days_to_limit").iloc[0]
            parts.append(f"{g['table']} is growing fast enough to reach it in about {fmt_days(g['days_to_limit'])}: plan its move now.")
    return " ".join(parts)


@_reading
def read_bursts(throughput: pd.DataFrame, ceilings: list[tuple[str, float]] | None = None) -> str:
    """The busiest five minutes and hour against the 5-minute ceilings."""
    if throughput is None or throughput.empty:
        return "No changes, so no bursts."
    df = throughput.dropna(subset=["peak_5min_events"])
    if df.empty:
        return "No changes, so no bursts."
    top5 = df.sort_values(["peak_5min_events", "table"], ascending=[False, True], kind="stable").iloc[0]
    toph = df.sort_values(["peak_hour_events", "table"], ascending=[False, True], kind="stable").iloc[0]
    text = (f"The sharpest burst: {fmt_int(top5['peak_5min_events'])} changes of {top5['table']} in five minutes; "
            f"the busiest hour: {fmt_int(toph['peak_hour_events'])} changes of {toph['table']}.")
    if ceilings:
        label, lowest = min(ceilings, key=lambda c: c[1])
        over = df[df["peak_5min_events"] > lowest]
        name = label.split(":")[0]
        if over.empty:
            text += (f" Every table stays under the lowest 5-minute ceiling ({name}, {fmt_int(lowest)} events per 5 minutes "
                     f"at the default cost per change): peak {fmt_pct(top5['peak_5min_events'] / lowest)} of it.")
        else:
            text += (f" {_join(list(over['table']))} exceed{'s' if len(over) == 1 else ''} the {name} ceiling of "
                     f"{fmt_int(lowest)} events per 5 minutes: a flow would be throttled there even on a quiet day.")
    return text


# -- 05 health -----------------------------------------------------------------------------------
def cadence_table(cadence: pd.DataFrame) -> pd.DataFrame:
    if cadence is None or cadence.empty:
        return pd.DataFrame(columns=["table", "sync commits", "median interval"])
    df = cadence.sort_values(["max_interval_s", "table"], ascending=[False, True], kind="stable", na_position="last")
    return _strings(pd.DataFrame({
        "table": df["table"],
        "sync commits": df["commits"].map(fmt_int),
        "median interval": df["median_interval_s"].map(fmt_duration),
        "p95 interval": df["p95_interval_s"].map(fmt_duration),
        "longest interval": df["max_interval_s"].map(fmt_duration),
    }))


def gaps_table(gaps: pd.DataFrame) -> pd.DataFrame:
    if gaps is None or gaps.empty:
        return pd.DataFrame(columns=["table", "from", "to", "no sync for"])
    df = gaps.sort_values(["seconds", "table"], ascending=[False, True], kind="stable")
    return _strings(pd.DataFrame({
        "table": df["table"],
        "from": df["start"].map(fmt_time),
        "to": df["end"].map(fmt_time),
        "no sync for": df["seconds"].map(fmt_duration),
    }))


_STALE_STATUS = {"waiting_changes": "STALE: changes waiting", "longer_than_usual": "STALE: silent longer than usual"}


def _fresh_status(stale, reason) -> str:
    if _missing(stale):
        return "too little history"
    if not stale:
        return "fresh"
    return _STALE_STATUS.get(None if _missing(reason) else reason, "STALE")


def freshness_table(freshness: pd.DataFrame) -> pd.DataFrame:
    if freshness is None or freshness.empty:
        return pd.DataFrame(columns=["table", "last landed", "staleness", "status"])
    df = freshness.sort_values(["staleness_s", "table"], ascending=[False, True], kind="stable", na_position="last")
    reasons = df["reason"] if "reason" in df else pd.Series(None, index=df.index, dtype="object")
    out = {
        "table": df["table"],
        "last landed": df["last_landed"].map(fmt_time),
        "staleness": df["staleness_s"].map(fmt_duration),
        "usual interval": df["cadence_s"].map(fmt_duration),
    }
    if "normal_silence_s" in df:
        out["longest usual silence at this hour"] = df["normal_silence_s"].map(fmt_duration)
    if "waiting" in df:
        out["changes waiting"] = df["waiting"].map(fmt_int)
    out["status"] = [_fresh_status(s, r) for s, r in zip(df["stale"], reasons)]
    return _strings(pd.DataFrame(out))


@_reading
def read_health(cadence: pd.DataFrame, gaps: pd.DataFrame, freshness: pd.DataFrame, producer: str = "the export") -> str:
    """Usual cadence, the outages and which tables are stale now; ``producer`` (``producer(lake.tables())``)
    names what stopped when several tables stopped together."""
    parts = []
    if cadence is not None and not cadence.empty and cadence["median_interval_s"].notna().any():
        med = cadence["median_interval_s"].dropna()
        if med.max() - med.min() < 60:
            parts.append(f"Every table syncs about every {fmt_duration(med.median())}.")
        else:
            parts.append(f"Tables sync every {fmt_duration(med.min())} to {fmt_duration(med.max())} (median interval per table).")
    if gaps is None or gaps.empty:
        parts.append("No sync gap: no interval was longer than three times a table's usual one.")
    else:
        g = gaps.sort_values(["seconds", "table"], ascending=[False, True], kind="stable").iloc[0]
        tables = gaps["table"].nunique()
        parts.append(
            f"{_plural(len(gaps), 'gap')} in {_plural(tables, 'table')}; the longest: {g['table']} had no sync for "
            f"{fmt_duration(g['seconds'])}, from {fmt_time(g['start'])} to {fmt_time(g['end'])}."
        )
        same = gaps[(gaps["start"] < g["end"]) & (gaps["end"] > g["start"])]["table"].nunique()
        if same > 1:
            outage = {"Synapse Link": "a Synapse Link (or Spark pool) outage", "Fabric Link": "a Fabric Link outage"}
            parts.append(f"{same} tables stopped at the same time: {outage.get(producer, 'an outage of the export')}, "
                         "not a table problem.")
    if freshness is not None and not freshness.empty:
        parts.append(_read_freshness(freshness))
    return " ".join(parts)


def _read_freshness(freshness: pd.DataFrame) -> str:
    """Which tables are stale and why (``freshness``'s ``reason``); nothing alarming when every
    silence is one the table's history shows as usual for that hour of the week."""
    at = fmt_time(freshness["as_of"].iloc[0])
    stale = freshness[freshness["stale"].fillna(False).astype(bool)]
    if stale.empty:
        if freshness["stale"].isna().all():
            return f"At {at} there is too little history to tell a quiet hour from a stopped sync."
        return (f"At {at} no table is stale: every table's silence is within what its own history shows "
                "for that hour of the week (quiet nights and weekends included).")
    reasons = stale["reason"] if "reason" in stale else pd.Series("", index=stale.index)
    waiting = stale[reasons == "waiting_changes"]
    longer = stale[reasons != "waiting_changes"]
    out = []
    if not waiting.empty:
        count = int(waiting["waiting"].sum()) if "waiting" in waiting else 0
        out.append(f"At {at} the sync had stalled for {_join(list(waiting['table']))}: {_plural(count, 'change')} "
                   "modified well before then landed only later.")
    if not longer.empty:
        out.append(f"At {at} {_join(list(longer['table']))} had been silent longer than their history shows for that "
                   "hour of the week: check the link's status for these tables before trusting today's numbers.")
    return " ".join(out)


def anomalies_table(anomalies: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The ``top`` flagged hours with the largest scores."""
    if anomalies is None or anomalies.empty:
        return pd.DataFrame(columns=["table", "hour", "flag", "value", "usual", "score"])
    df = anomalies[anomalies["flag"].notna()].copy()
    if df.empty:
        return pd.DataFrame(columns=["table", "hour", "flag", "value", "usual", "score"])
    df["_abs"] = df["score"].abs()
    df = df.sort_values(["_abs", "table", "hour"], ascending=[False, True, True], kind="stable").head(top)
    latency = str(df["metric"].iloc[0]) == "latency"
    fmt = fmt_duration if latency else fmt_int
    return _strings(pd.DataFrame({
        "table": df["table"],
        "hour": df["hour"].map(fmt_time),
        "flag": df["flag"],
        "value": df["value"].map(fmt),
        "usual": df["baseline"].map(fmt),
        "score": df["score"].map(lambda s: f"{s:+,.1f}"),
        "during a sync gap": df["in_incident"].map(lambda v: "yes" if v is True or v == 1 else ""),
    }))


@_reading
def read_anomalies(anomalies: pd.DataFrame) -> str:
    """How many hours were flagged, how many fall in known gaps, and the largest."""
    if anomalies is None or anomalies.empty:
        return "No hour could be scored (too little history)."
    metric = str(anomalies["metric"].iloc[0])
    flagged = anomalies[anomalies["flag"].notna()]
    scored = anomalies[anomalies["score"].notna()]
    if scored.empty:
        return Reading(
            f"No hour of {metric} could be scored: the {fmt_int(anomalies['hour'].nunique())} hours the kit can measure "
            "exactly give no hour the three comparable hours on other days that a score needs. Volume is exact only "
            "where the change data feed reaches back (see the coverage table); a longer feed retention gives it history."
        )
    if flagged.empty:
        return (f"No unusual hour: all {fmt_int(len(scored))} scored table-hours of {metric} stay within each table's "
                "usual range.")
    spikes = int((flagged["flag"] == "spike").sum())
    drops = int((flagged["flag"] == "drop").sum())
    in_gap = int(flagged["in_incident"].fillna(False).astype(bool).sum())
    top = flagged.assign(_a=flagged["score"].abs()).sort_values(["_a", "table"], ascending=[False, True], kind="stable").iloc[0]
    fmt = fmt_duration if metric == "latency" else fmt_int
    text = (f"{_plural(len(flagged), 'table-hour')} of {metric} flagged ({_plural(spikes, 'spike')}, {_plural(drops, 'drop')}) "
            f"in {_plural(flagged['table'].nunique(), 'table')}")
    text += f"; {in_gap} of them during a known sync gap." if in_gap else "; none during a known sync gap."
    text += (f" The largest: {top['table']} at {fmt_time(top['hour'])}, {fmt(top['value'])} against a usual "
             f"{fmt(top['baseline'])}. Spikes outside gaps are bulk jobs or imports worth knowing about before they "
             "hit a flow; drops outside gaps are syncs that ran but carried less: check the source.")
    if "exact" in anomalies and not anomalies["exact"].fillna(False).astype(bool).all():
        est = "latencies at most" if metric == "latency" else "counts at least"
        text += (f" Estimate: these scores include hours known only from the snapshot ({est}): a flag there "
                 "points at an hour to check, not at a measured figure.")
    return text


# -- the observed window -------------------------------------------------------------------------
def in_window(df: pd.DataFrame, window, column: str = "period") -> pd.DataFrame:
    """The rows of a per-period frame whose period starts inside ``window`` = (start, end)
    (``observed_window``): a period that starts before the initial load is left out, so a
    partial first day does not show as a dip. ``window`` None returns ``df`` unchanged."""
    if df is None or window is None or df.empty or column not in df:
        return df
    start, end = window
    t = pd.to_datetime(df[column], utc=True)
    return df[(t >= pd.Timestamp(start)) & (t <= pd.Timestamp(end))].reset_index(drop=True)


# -- helpers the notebooks and the report share ----------------------------------------------------
def busiest_table(volume: pd.DataFrame) -> str | None:
    """The table with the most changes in a ``change_volume`` frame."""
    if volume is None or volume.empty:
        return None
    s = volume.groupby("table")["total"].sum().sort_values(ascending=False, kind="stable")
    return str(s.index[0])


def outages(gaps: pd.DataFrame) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Sync gaps of several tables that overlap in time, merged: ``[("outage", start, end)]``
    (a link-wide stop rather than one table's), for shading charts."""
    if gaps is None or gaps.empty:
        return []
    spans = []
    for _, g in gaps.sort_values(["start", "table"], kind="stable").iterrows():
        if spans and g["start"] < spans[-1][1]:
            lo, hi, tables = spans[-1]
            spans[-1] = (lo, max(hi, g["end"]), tables | {g["table"]})
        else:
            spans.append((g["start"], g["end"], {g["table"]}))
    return [("outage", pd.Timestamp(lo), pd.Timestamp(hi)) for lo, hi, tables in spans if len(tables) > 1]


def most_flagged(anomalies: pd.DataFrame) -> str | None:
    """The table with the most flagged hours (``anomalies``); None when none is flagged."""
    if anomalies is None or anomalies.empty:
        return None
    flagged = anomalies[anomalies["flag"].notna()]
    if flagged.empty:
        return None
    counts = flagged.groupby("table").size().sort_values(ascending=False, kind="stable")
    return str(counts.index[0])


def published_limits(limits=None) -> pd.DataFrame:
    """The limits ``kit.throughput`` checks (``kit/limits.json`` or ``limits``), for reading."""
    lim = limits_table(limits)
    windows = {1: "1 s", 300: "5 min", 3600: "1 h", 86400: "24 h"}
    return _strings(pd.DataFrame({
        "limit": lim["name"],
        "figure": lim["figure"].map(fmt_int) + " " + lim["unit"],
        "window": lim["window_seconds"].map(lambda s: windows.get(int(s), f"{int(s):,} s")),
        "applies to": lim["applies_to"],
        "source": lim["source"].str.replace("https://", "", regex=False),
        "as of": lim["as_of"],
    }))


def coverage_table(coverages: pd.DataFrame) -> pd.DataFrame:
    """``lake.coverages()`` for reading: per analysed table, how ``lake.changes`` knows its
    changes: the method, from which commit every landed row version is known, and what is known
    before."""
    rows = []
    for c in coverages.to_dict("records"):
        if c["method"] == "unreadable":
            rows.append({"table": c["table"], "method": "unreadable", "every version known from": "", "before that": c["error"]})
            continue
        if c["complete"]:
            since, before = "the first commit", ""
        elif not _missing(c["feed_from_time"]):
            since, before = fmt_time(c["feed_from_time"]), "each record's latest version only (snapshot)"
        else:
            since, before = "never", "each record's latest version only (snapshot)"
        rows.append({"table": c["table"], "method": c["method"].replace("_", " "), "every version known from": since,
                     "before that": before})
    return _strings(pd.DataFrame(rows, columns=["table", "method", "every version known from", "before that"]))
