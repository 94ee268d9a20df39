"""Plotly figures for the notebooks and the HTML report: one function per figure.

Each function takes the DataFrame an analysis returns (never the lake) and returns a
``plotly.graph_objects.Figure`` with a title, axis titles with units, labelled reference lines
and one colour per table that stays the same across figures (colour-blind-safe palette,
assigned in sorted table order; pass ``colors=table_colors(names)`` to fix it for a whole
lake). Empty input gives a figure that says "no data" instead of raising.

    lat = kit.sync_latency(lake, by=None)
    kit.charts.latency_percentiles(lat).show()

Times are shown in minutes (or hours, when minutes would make long numbers); the axis title
always says which.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..metrics.health import SILENCE_FACTOR
from ..settings import MONTH_END_DAYS

# -- look ---------------------------------------------------------------------------------------
# Okabe-Ito (without its yellow, too pale on white) then Paul Tol's "muted": 12 colours that
# colour-blind readers can tell apart; beyond 12 tables they repeat.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
    "#999933", "#882255", "#000000", "#44AA99", "#332288", "#DDCC77",
)
# Marker symbols that tell lines apart where colours are close (one per table, in table order).
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star", "cross",
           "pentagon", "hexagon", "star-square", "hourglass")
CHANGE_COLORS = {"creates": "#009E73", "updates": "#0072B2", "deletes": "#D55E00"}
PERCENTILE_COLORS = {"p50_s": "#56B4E9", "p90_s": "#0072B2", "p95_s": "#E69F00", "p99_s": "#D55E00"}
FLAG_COLORS = {"spike": "#D55E00", "drop": "#0072B2"}
REFERENCE_COLOR = "#555555"
LIMIT_COLOR = "#B2182B"
FONT = "Segoe UI, Helvetica Neue, Arial, sans-serif"

# The latency targets every latency chart draws (minutes).
LATENCY_TARGETS_MIN = (15, 30, 60)
# The guide's rule of thumb: Power Automate up to 50,000 events a day.
DEFAULT_DAILY_LIMIT = 50_000

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The most cells a time heatmap draws across; beyond, hours are grouped into wider cells.
MAX_HEATMAP_CELLS = 60


# -- exact and estimated periods -------------------------------------------------------------------
#: Legend entries of the estimated (dotted) segments, by what they estimate.
ESTIMATE_LABELS = {
    "latency": "estimate (snapshot): at most",
    "count": "estimate (snapshot): at least",
    "commit_metrics": "estimate (commit log: landings per day, re-landings included)",
}


def exact_rows(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows flagged ``exact`` (an analysis' exact periods); every row of a frame without
    the column."""
    if df is None or "exact" not in df:
        return df
    return df[df["exact"].fillna(False).astype(bool)]


def _is_estimate(part: pd.DataFrame) -> np.ndarray:
    """Per row: an estimated period (``exact`` false); gap fillers (``exact`` missing) are not."""
    if "exact" not in part:
        return np.zeros(len(part), dtype=bool)
    return np.asarray([v is not None and not pd.isna(v) and not bool(v) for v in part["exact"]], dtype=bool)


def _split_exact(part: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(the rows drawn solid, the rows drawn dotted or None): the estimated rows, with the first
    exact row after each run of them, so that the dotted line joins the solid one."""
    est = _is_estimate(part)
    if not est.any():
        return part, None
    bridge = est.copy()
    bridge[1:] |= est[:-1] & ~est[1:]
    return part, part[bridge]


def _estimate_legend(fig: go.Figure, label: str) -> None:
    """One legend entry for every dotted (estimated) segment of the figure."""
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=label, legendgroup="estimate",
                             line={"color": REFERENCE_COLOR, "width": 2, "dash": "dot"}, hoverinfo="skip"))


def _estimate_kind(df: pd.DataFrame, default: str) -> str:
    """Which ``ESTIMATE_LABELS`` entry a frame's estimated rows need."""
    if "method" in df and "exact" in df:
        methods = set(df.loc[_is_estimate(df), "method"].dropna())
        if methods and methods <= {"commit_metrics"}:
            return "commit_metrics"
    return default


def table_colors(tables: Iterable[str]) -> dict[str, str]:
    """A colour per table, assigned in sorted order from ``PALETTE``."""
    names = sorted({str(t) for t in tables})
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _colors(df: pd.DataFrame, colors: dict[str, str] | None) -> dict[str, str]:
    auto = table_colors(df["table"]) if "table" in df else {}
    if colors:
        auto.update(colors)
    return auto


def _layout(fig: go.Figure, title: str, *, height: int = 420, x: str | None = None, y: str | None = None,
            legend: str | bool = "top", subtitle: str | None = None) -> go.Figure:
    """Title (short, so that it reads in a narrow notebook too) at the top left, an optional
    subtitle under it; ``legend``: ``"top"`` (one line between the title and the plot, for a
    few fixed series), ``"right"`` (a column, for one series per table) or False."""
    title_spec = {"text": title, "x": 0.01, "xanchor": "left", "yref": "container", "y": 1, "yanchor": "top",
                  "pad": {"t": 14}, "font": {"size": 17}}
    if subtitle:
        title_spec["subtitle"] = {"text": subtitle, "font": {"size": 12.5, "color": "#555555"}}
    top = (90 if legend == "top" else 60) + (22 if subtitle else 0)
    fig.update_layout(
        template="plotly_white",
        title=title_spec,
        font={"family": FONT, "size": 13, "color": "#222222"},
        height=height + (22 if subtitle else 0),
        margin={"l": 10, "r": 20, "t": top, "b": 50},
        showlegend=bool(legend),
        hoverlabel={"namelength": -1},
    )
    if legend == "top":
        fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
                                  "traceorder": "normal", "title": {"text": ""}, "font": {"size": 12.5}})
    elif legend:
        fig.update_layout(legend={"traceorder": "normal", "title": {"text": ""}, "tracegroupgap": 2})
    fig.update_xaxes(automargin=True, title={"text": x} if x else None)
    fig.update_yaxes(automargin=True, title={"text": y} if y else None)
    return fig


def _pad_categories(fig: go.Figure, n: int, top: float = 0.9) -> None:
    """Room above the top category of a horizontal chart for reference-line labels."""
    fig.update_yaxes(range=[-0.5, n - 0.5 + top])


def empty_figure(title: str, message: str = "no data") -> go.Figure:
    """A figure with a title and a centred message, for empty input."""
    fig = go.Figure()
    _layout(fig, title, height=260, legend=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 16, "color": "#777777"})
    return fig


def _bar_height(n: int, per: int = 26, base: int = 150) -> int:
    return max(300, base + per * n)


def _vline(fig: go.Figure, x: float, label: str, color: str = REFERENCE_COLOR, dash: str = "dot",
           log: bool = False) -> None:
    """A vertical reference line at ``x`` (data units) labelled inside the top of the plot
    (annotations on a log axis take log10 positions; shapes take data values)."""
    fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="paper",
                  line={"color": color, "width": 1.5, "dash": dash}, layer="below")
    fig.add_annotation(x=math.log10(x) if log else x, y=1, xref="x", yref="paper", text=label, showarrow=False,
                       yanchor="top", xanchor="center", font={"size": 11.5, "color": color},
                       bgcolor="rgba(255,255,255,0.85)")


def _hline(fig: go.Figure, y: float, label: str, color: str = REFERENCE_COLOR, dash: str = "dot",
           log: bool = False) -> None:
    """A horizontal reference line at ``y`` (data units) labelled at the left, just above it
    (month-end shading and the latest data sit at the right)."""
    fig.add_shape(type="line", x0=0, x1=1, y0=y, y1=y, xref="paper", yref="y",
                  line={"color": color, "width": 1.5, "dash": dash}, layer="below")
    fig.add_annotation(x=0.005, y=math.log10(y) if log else y, xref="paper", yref="y", text=label, showarrow=False,
                       xanchor="left", yanchor="bottom", font={"size": 11.5, "color": color},
                       bgcolor="rgba(255,255,255,0.85)")


def _span_label(fig: go.Figure, label: str, lo, hi, x_min, x_max) -> None:
    """Label a shaded time span above the plot, on the side where it stays inside the figure:
    from its start rightwards in the left part of the axis, from its end leftwards in the right."""
    right = x_min is not None and x_max is not None and x_max > x_min and (lo - x_min) > 0.6 * (x_max - x_min)
    fig.add_annotation(x=hi if right else lo, y=1, xref="x", yref="paper", text=label, showarrow=False,
                       xanchor="right" if right else "left", yanchor="bottom", font={"size": 11, "color": REFERENCE_COLOR})


def _minutes(seconds) -> np.ndarray:
    return np.asarray(pd.to_numeric(pd.Series(seconds), errors="coerce").astype("float64") / 60.0)


def _duration_unit(max_seconds: float) -> tuple[float, str]:
    """(divisor, unit name) so that the largest value reads well: minutes up to 3 hours,
    hours up to 3 days, days beyond."""
    if not (max_seconds == max_seconds) or max_seconds <= 3 * 3600:
        return 60.0, "minutes"
    if max_seconds <= 3 * 86400:
        return 3600.0, "hours"
    return 86400.0, "days"


def _log_minute_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick values in minutes for a log axis, labelled in minutes (with hours or days beside
    the long ones, so the axis title "minutes" stays true)."""
    candidates = [
        (0.1, "0.1"), (1, "1"), (5, "5"), (15, "15"), (30, "30"), (60, "60 (1 h)"), (240, "240 (4 h)"),
        (1440, "1,440 (1 day)"), (10080, "10,080 (1 week)"),
    ]
    vals = [(v, t) for v, t in candidates if lo / 1.5 <= v <= hi * 1.5]
    return [v for v, _ in vals], [t for _, t in vals]


def _latency_range(values: np.ndarray) -> tuple[float, float]:
    """(low, high) minutes for a log latency axis: the data, and always the 15-60 minute targets."""
    v = values[np.isfinite(values)]
    lo = float(v.min()) if len(v) else 1.0
    hi = float(v.max()) if len(v) else 60.0
    return max(min(lo, 10.0), 0.1), max(hi, 75.0)


def _floor_log(v: np.ndarray, floor: float = 0.1) -> np.ndarray:
    """Values for a log axis: zero or negative latencies sit on the axis floor."""
    out = np.asarray(v, dtype="float64").copy()
    out[out < floor] = floor
    return out


def _table_order(df: pd.DataFrame, by: str, ascending: bool = True) -> list[str]:
    """Tables ordered for a horizontal bar chart: plotly draws the first category at the
    bottom, so the largest value ends up on top when ``ascending``."""
    s = df.groupby("table")[by].sum(min_count=1).fillna(0).sort_values(ascending=ascending, kind="stable")
    return list(s.index)


# -- 01 inventory ---------------------------------------------------------------------------------
def table_rows(tables: pd.DataFrame, colors: dict[str, str] | None = None) -> go.Figure:
    """Rows per table (``lake.tables()``): live rows, soft-deleted rows and, for tables
    without Dataverse columns, plain rows; largest table on top."""
    title = "Rows per table: live and soft-deleted"
    subtitle = "soft-deleted rows (IsDelete true) stay in the table until the purge"
    if tables is None or tables.empty:
        return empty_figure(title)
    df = tables.copy()
    df["rows"] = pd.to_numeric(df["rows"], errors="coerce").fillna(0)
    live = pd.to_numeric(df["live_rows"], errors="coerce")
    deleted = pd.to_numeric(df["deleted_rows"], errors="coerce")
    df["_live"] = live.fillna(0)
    df["_deleted"] = deleted.fillna(0)
    df["_other"] = (df["rows"] - df["_live"] - df["_deleted"]).clip(lower=0)
    order = _table_order(df, "rows")
    df = df.set_index("table").loc[order]
    fig = go.Figure()
    for col, name, color in (
        ("_live", "live rows", CHANGE_COLORS["updates"]),
        ("_deleted", "soft-deleted rows (IsDelete)", CHANGE_COLORS["deletes"]),
        ("_other", "other rows (older versions, non-Dataverse tables)", "#AAAAAA"),
    ):
        if (df[col] > 0).any() or col == "_live":
            fig.add_trace(go.Bar(y=list(df.index), x=df[col].to_numpy(dtype="float64"), name=name, orientation="h",
                                 marker_color=color, hovertemplate="%{y}: %{x:,.0f} " + name + "<extra></extra>"))
    totals = df["rows"].to_numpy(dtype="float64")
    fig.add_trace(go.Scatter(y=list(df.index), x=totals, mode="text", text=[f" {v:,.0f}" for v in totals],
                             textposition="middle right", showlegend=False, hoverinfo="skip", name="total",
                             textfont={"size": 11.5, "color": "#444444"}, cliponaxis=False))
    _layout(fig, title, height=_bar_height(len(df)), x="rows", y=None, subtitle=subtitle)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, float(totals.max()) * 1.12 if len(totals) and totals.max() > 0 else 1])
    fig.update_xaxes(tickformat=",")
    return fig


def table_storage(tables: pd.DataFrame) -> go.Figure:
    """Size on disk of each table's current snapshot (MB), with its file count in the hover."""
    title = "Size on disk per table (current snapshot)"
    if tables is None or tables.empty:
        return empty_figure(title)
    df = tables.copy()
    df["_bytes"] = pd.to_numeric(df["bytes"], errors="coerce").fillna(0).astype("float64")
    biggest = float(df["_bytes"].max())
    unit, div = next(((u, d) for u, d in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)) if biggest >= d), ("KB", 1e3))
    df["_mb"] = df["_bytes"] / div
    order = _table_order(df, "_mb")
    df = df.set_index("table").loc[order]
    files = pd.to_numeric(df["files"], errors="coerce").fillna(0).astype("int64")
    fig = go.Figure(go.Bar(
        y=list(df.index), x=df["_mb"].to_numpy(), orientation="h", marker_color=PALETTE[0], name="size",
        customdata=files.to_numpy(), hovertemplate="%{y}: %{x:,.1f} " + unit + " in %{customdata:,} files<extra></extra>",
    ))
    _layout(fig, title, height=_bar_height(len(df)), x=f"size on disk ({unit})", legend=False)
    fig.update_xaxes(tickformat=",")
    return fig


def commit_timeline(history: pd.DataFrame, colors: dict[str, str] | None = None) -> go.Figure:
    """Every commit of every table over time (``history`` = ``lake.history(t)`` frames
    concatenated with a ``table`` column): syncs as dots, other operations (OPTIMIZE, the purge
    of soft deletes...) as distinct symbols."""
    title = "Commit history: one mark per commit"
    if history is None or history.empty:
        return empty_figure(title)
    df = history.copy()
    # A writer may leave the operation out of its commit (other Delta writers than the links do):
    # such commits show as "unknown", never as a missing value that cannot be sorted.
    ops = df["operation"] if "operation" in df else pd.Series(None, index=df.index, dtype="object")
    df["_kind"] = [str(o).upper() if isinstance(o, str) and o.strip() else "UNKNOWN" for o in ops]
    df["_rows"] = (pd.to_numeric(df.get("rows_inserted"), errors="coerce").fillna(0)
                   + pd.to_numeric(df.get("rows_updated"), errors="coerce").fillna(0)).astype("int64")
    order = sorted(df["table"].unique(), reverse=True)  # alphabetical from the top
    symbols = {"MERGE": "circle", "WRITE": "diamond", "CREATE TABLE": "diamond", "OPTIMIZE": "square-open",
               "DELETE": "x", "UPDATE": "triangle-up", "VACUUM START": "star-open", "VACUUM END": "star"}
    fig = go.Figure()
    for op in sorted(df["_kind"].unique(), key=lambda o: (o != "MERGE", o)):
        part = df[df["_kind"] == op]
        fig.add_trace(go.Scatter(
            x=part["committed_at"], y=part["table"], mode="markers", name=op.lower(),
            marker={"symbol": symbols.get(op, "circle-open"), "size": 6 if op == "MERGE" else 9,
                    "color": PALETTE[0] if op == "MERGE" else "#D55E00" if op == "DELETE" else "#444444",
                    "opacity": 0.6 if op == "MERGE" else 0.9, "line": {"width": 1}},
            customdata=np.stack([part["version"].to_numpy(dtype="int64"), part["_rows"].to_numpy()], axis=1),
            hovertemplate="%{y} v%{customdata[0]} " + op + " %{x|%Y-%m-%d %H:%M} UTC, %{customdata[1]:,} rows<extra></extra>",
        ))
    _layout(fig, title, height=_bar_height(len(order), per=30), x="commit time (UTC)")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    return fig


# -- 02 latency -----------------------------------------------------------------------------------
def latency_percentiles(latency: pd.DataFrame) -> go.Figure:
    """Latency per table (``sync_latency(lake, by=None)``): p50, p90, p95 and p99 as marks on
    one line per table (log scale, minutes), worst p95 on top, targets at 15, 30 and 60
    minutes."""
    title = "Sync latency per table: p50 to p99"
    subtitle = "from modifiedon to the first landing of each change; targets at 15, 30 and 60 minutes"
    df = latency.dropna(subset=["p50_s"]) if latency is not None and not latency.empty else None
    if df is None or df.empty:
        return empty_figure(title)
    df = df.sort_values(["p95_s", "table"], ascending=[True, False], kind="stable")
    tables = list(df["table"])
    cols = [c for c in ("p50_s", "p90_s", "p95_s", "p99_s") if c in df]
    fig = go.Figure()
    # a grey range from p50 to p99, one segment per table
    xs, ys = [], []
    lo_col, hi_col = cols[0], cols[-1]
    for _, r in df.iterrows():
        xs += [r[lo_col] / 60, r[hi_col] / 60, None]
        ys += [r["table"], r["table"], None]
    fig.add_trace(go.Scatter(x=_floor_log(np.array(xs, dtype="float64")), y=ys, mode="lines", showlegend=False,
                             line={"color": "#BBBBBB", "width": 6}, hoverinfo="skip", name="range"))
    symbols = {"p50_s": "circle", "p90_s": "diamond", "p95_s": "square", "p99_s": "triangle-right"}
    changes = pd.to_numeric(df["changes"], errors="coerce").fillna(0).to_numpy(dtype="int64")
    for col in cols:
        minutes = _minutes(df[col])
        fig.add_trace(go.Scatter(
            x=_floor_log(minutes), y=tables, mode="markers", name=col[:-2],
            marker={"color": PERCENTILE_COLORS[col], "size": 11, "symbol": symbols[col], "line": {"width": 1, "color": "white"}},
            customdata=np.stack([minutes, changes], axis=1),
            hovertemplate="%{y} " + col[:-2] + ": %{customdata[0]:,.1f} min over %{customdata[1]:,} changes<extra></extra>",
        ))
    lo, hi = _latency_range(_minutes(df[cols].to_numpy().ravel()))
    for m in LATENCY_TARGETS_MIN:
        _vline(fig, m, f"{m} min", log=True)
    vals, text = _log_minute_ticks(lo, hi)
    _layout(fig, title, height=_bar_height(len(df), per=30), x="latency (minutes, log scale)", subtitle=subtitle)
    fig.update_xaxes(type="log", tickvals=vals, ticktext=text, range=[math.log10(lo / 1.5), math.log10(hi * 1.5)])
    _pad_categories(fig, len(df))
    return fig


def latency_within(latency: pd.DataFrame) -> go.Figure:
    """Share of each table's changes that landed within 15 minutes, 15 to 60 minutes, and
    after more than an hour (``sync_latency(lake, by=None)``); slowest tables on top."""
    title = "How soon changes land"
    subtitle = "share of each table's changes landed within 15 minutes, within an hour, later"
    if latency is None or latency.empty:
        return empty_figure(title)
    df = latency.dropna(subset=["within_15m", "within_60m"]).copy()
    if df.empty:
        return empty_figure(title)
    df["w15"] = df["within_15m"].astype("float64")
    df["w60"] = (df["within_60m"].astype("float64") - df["w15"]).clip(lower=0)
    df["later"] = (1 - df["within_60m"].astype("float64")).clip(lower=0)
    df = df.sort_values(["w15", "table"], ascending=[False, False], kind="stable")
    fig = go.Figure()
    for col, name, color in (("w15", "within 15 min", "#009E73"), ("w60", "15 to 60 min", "#E69F00"),
                             ("later", "over 60 min", "#D55E00")):
        fig.add_trace(go.Bar(y=list(df["table"]), x=df[col].to_numpy() * 100, name=name, orientation="h",
                             marker_color=color, hovertemplate="%{y}: %{x:.1f}% " + name + "<extra></extra>"))
    _layout(fig, title, height=_bar_height(len(df)), x="share of changes (%)", subtitle=subtitle)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    return fig


def _period_step(periods: pd.Series) -> pd.Timedelta | None:
    """The period length of a per-period frame (an hour, a day, a week): the smallest step
    between its distinct periods; None with fewer than two."""
    t = pd.Series(pd.to_datetime(periods, utc=True).dropna().unique()).sort_values()
    steps = t.diff().dropna()
    steps = steps[steps > pd.Timedelta(0)]
    return steps.min() if len(steps) else None


def _with_gaps(part: pd.DataFrame, step: pd.Timedelta | None) -> pd.DataFrame:
    """One table's rows with an empty row at each missing period between its first and last,
    so that its line breaks there instead of joining the periods either side."""
    if step is None or part.empty:
        return part
    periods = pd.to_datetime(part["period"], utc=True)
    full = pd.date_range(periods.min(), periods.max(), freq=step)
    missing = full.difference(pd.DatetimeIndex(periods))
    if missing.empty:
        return part
    filler = pd.DataFrame({"period": missing})
    if "table" in part:
        filler["table"] = part["table"].iloc[0]
    return pd.concat([part.assign(period=periods), filler], ignore_index=True).sort_values("period", kind="stable")


def latency_over_time(latency: pd.DataFrame, table: str | None = None, percentile: str = "p95_s",
                      colors: dict[str, str] | None = None) -> go.Figure:
    """Latency per period (``sync_latency(lake, by="day")``), log scale with targets at 15, 30
    and 60 minutes. Without ``table``: the chosen percentile, one line per table. With
    ``table``: that table's p50, p90, p95 and p99."""
    pname = percentile.removesuffix("_s")
    title = (f"{table}: latency percentiles per period" if table
             else f"{pname} latency per table over time")
    if latency is None or latency.empty or "period" not in latency:
        return empty_figure(title)
    df = latency.dropna(subset=[percentile]).sort_values(["table", "period"], kind="stable")
    if table is not None:
        df = df[df["table"] == table]
    if df.empty:
        return empty_figure(title)
    fig = go.Figure()
    step = _period_step(df["period"])
    if table is None:
        palette = _colors(df, colors)
        for i, (name, part) in enumerate(df.groupby("table", sort=True)):
            part = _with_gaps(part, step)
            solid, dotted = _split_exact(part)
            m = _minutes(part[percentile])
            y = np.where(_is_estimate(part), np.nan, _floor_log(m))
            fig.add_trace(go.Scatter(x=part["period"], y=y, mode="lines+markers", name=name, legendgroup=name,
                                     line={"color": palette[name], "width": 2}, connectgaps=False,
                                     marker={"size": 6, "symbol": SYMBOLS[i % len(SYMBOLS)]},
                                     customdata=m, hovertemplate=name + " %{x|%Y-%m-%d %H:%M}: %{customdata:,.1f} min<extra></extra>"))
            if dotted is not None:
                md = _minutes(dotted[percentile])
                fig.add_trace(go.Scatter(x=dotted["period"], y=_floor_log(md), mode="lines", name=name, legendgroup=name,
                                         showlegend=False, line={"color": palette[name], "width": 1.5, "dash": "dot"},
                                         customdata=md, hovertemplate=name + " %{x|%Y-%m-%d %H:%M}: at most %{customdata:,.1f} min (estimate)<extra></extra>"))
        if _is_estimate(df).any():
            _estimate_legend(fig, ESTIMATE_LABELS["latency"])
        values = _minutes(df[percentile])
    else:
        df = _with_gaps(df, step)
        cols = [c for c in ("p50_s", "p90_s", "p95_s", "p99_s") if c in df]
        _, dotted = _split_exact(df)
        estimated = _is_estimate(df)
        for col in cols:
            m = _minutes(df[col])
            fig.add_trace(go.Scatter(x=df["period"], y=np.where(estimated, np.nan, _floor_log(m)), mode="lines+markers",
                                     name=col[:-2], legendgroup=col,
                                     line={"color": PERCENTILE_COLORS[col], "width": 2}, marker={"size": 4}, connectgaps=False,
                                     customdata=m, hovertemplate=col[:-2] + " %{x|%Y-%m-%d %H:%M}: %{customdata:,.1f} min<extra></extra>"))
            if dotted is not None:
                md = _minutes(dotted[col])
                fig.add_trace(go.Scatter(x=dotted["period"], y=_floor_log(md), mode="lines", name=col[:-2], legendgroup=col,
                                         showlegend=False, line={"color": PERCENTILE_COLORS[col], "width": 1.5, "dash": "dot"},
                                         customdata=md, hovertemplate=col[:-2] + " %{x|%Y-%m-%d %H:%M}: at most %{customdata:,.1f} min (estimate)<extra></extra>"))
        if dotted is not None:
            _estimate_legend(fig, ESTIMATE_LABELS["latency"])
        values = _minutes(df[cols].to_numpy().ravel())
    lo, hi = _latency_range(values)
    for m in LATENCY_TARGETS_MIN:
        _hline(fig, m, f"{m} min", log=True)
    vals, text = _log_minute_ticks(lo, hi)
    _layout(fig, title, height=440, x="period start (UTC)", y=f"{pname if table is None else 'latency'} (minutes, log scale)",
            legend="right" if table is None else "top")
    fig.update_yaxes(type="log", tickvals=vals, ticktext=text, range=[math.log10(lo / 1.5), math.log10(hi * 1.5)])
    return fig


NAIVE_MEASURES = {
    "relanded": ("relanded_naive_p50_s", "relanded_first_p50_s", "median over the rows landed again"),
    "p50": ("naive_p50_s", "first_p50_s", "p50, all rows compared"),
    "p95": ("naive_p95_s", "first_p95_s", "p95, all rows compared"),
    "p99": ("naive_p99_s", "first_p99_s", "p99, all rows compared"),
}


def naive_vs_first_landing(naive: pd.DataFrame, measure: str = "relanded") -> go.Figure:
    """Per table, the naive latency (``SinkModifiedOn - modifiedon`` on the snapshot) beside
    the latency to first landing of the same row versions (``kit.naive.naive_latency``).
    ``measure``: ``"relanded"`` (medians over the rows landed again, where the two differ) or
    ``"p50"`` / ``"p95"`` / ``"p99"`` over all rows compared."""
    nc, fc, words = NAIVE_MEASURES[measure]
    title = "Naive SinkModifiedOn latency vs first landing"
    if naive is None or naive.empty:
        return empty_figure(title)
    df = naive.dropna(subset=[nc, fc]).sort_values([nc, "table"], ascending=[True, False], kind="stable")
    if df.empty:
        return empty_figure(title, "no row was landed again: both measures agree")
    n, f = df[nc].to_numpy(dtype="float64"), df[fc].to_numpy(dtype="float64")
    div, unit = _duration_unit(float(np.nanmax(np.concatenate([n, f]))))
    count_col = "relanded" if measure == "relanded" else "changes"
    counts = pd.to_numeric(df[count_col], errors="coerce").fillna(0).to_numpy(dtype="int64")
    fig = go.Figure()
    fig.add_trace(go.Bar(y=list(df["table"]), x=f / div, name="first landing (what the kit measures)", orientation="h",
                         marker_color="#0072B2", customdata=counts,
                         hovertemplate="%{y}: %{x:,.1f} " + unit + " to first landing (%{customdata:,} rows)<extra></extra>"))
    fig.add_trace(go.Bar(y=list(df["table"]), x=n / div, name="naive: SinkModifiedOn - modifiedon", orientation="h",
                         marker_color="#D55E00", customdata=counts,
                         hovertemplate="%{y}: %{x:,.1f} " + unit + " naive (%{customdata:,} rows)<extra></extra>"))
    _layout(fig, title, height=_bar_height(len(df), per=40), x=f"latency ({unit})", subtitle=words)
    fig.update_layout(barmode="group")
    return fig


def naive_scatter(rows: pd.DataFrame, colors: dict[str, str] | None = None) -> go.Figure:
    """Each row landed again (``kit.naive.relanded_rows``): its latency to first landing (x)
    against the naive ``SinkModifiedOn - modifiedon`` (y), minutes on log scales. On the
    diagonal the two agree; every point above it is time the naive query adds."""
    title = "Rows landed again: naive vs first-landing latency"
    subtitle = "one dot per row; on the diagonal the two measures agree"
    if rows is None or rows.empty:
        return empty_figure(title, "no row was landed again: both measures agree")
    palette = _colors(rows, colors)
    fig = go.Figure()
    for name, part in rows.groupby("table", sort=True):
        fm, nm = _minutes(part["first_s"]), _minutes(part["naive_s"])
        fig.add_trace(go.Scatter(
            x=_floor_log(fm), y=_floor_log(nm), mode="markers", name=name,
            marker={"color": palette[name], "size": 7, "opacity": 0.75, "line": {"width": 0.5, "color": "white"}},
            customdata=np.stack([fm, nm], axis=1),
            hovertemplate=name + ": first landing %{customdata[0]:,.1f} min, naive %{customdata[1]:,.1f} min<extra></extra>",
        ))
    allv = np.concatenate([_minutes(rows["first_s"]), _minutes(rows["naive_s"])])
    lo, hi = _latency_range(allv)
    fig.add_trace(go.Scatter(x=[lo / 1.5, hi * 1.5], y=[lo / 1.5, hi * 1.5], mode="lines", name="naive = first landing",
                             line={"color": REFERENCE_COLOR, "dash": "dot", "width": 1.5}, hoverinfo="skip"))
    vals, text = _log_minute_ticks(lo, hi)
    _layout(fig, title, height=480, x="latency to first landing (minutes, log scale)",
            y="naive latency (minutes, log scale)", legend="right", subtitle=subtitle)
    rng = [math.log10(lo / 1.5), math.log10(hi * 1.5)]
    fig.update_xaxes(type="log", tickvals=vals, ticktext=text, range=rng)
    fig.update_yaxes(type="log", tickvals=vals, ticktext=text, range=rng)
    return fig


# -- 03 volumes -----------------------------------------------------------------------------------
def volume_by_kind(volume: pd.DataFrame, top: int | None = None) -> go.Figure:
    """Creates, updates and deletes per table over the whole period (``change_volume``, any
    ``by``), busiest table on top; ``top`` keeps the busiest N."""
    title = "Changes per table: creates, updates, deletes"
    subtitle = None
    if volume is not None and "exact" in volume and not volume["exact"].all():
        volume = exact_rows(volume)  # never a total mixing exact and estimated periods
        subtitle = "exact periods only (estimated ones, from the snapshot, left out)"
    if volume is None or volume.empty:
        return empty_figure(title)
    sums = volume.groupby("table")[["creates", "updates", "deletes"]].sum()
    sums["total"] = sums.sum(axis=1)
    sums = sums.reset_index().sort_values(["total", "table"], ascending=[False, True], kind="stable")
    if top:
        sums = sums.head(top)
    sums = sums.iloc[::-1]
    fig = go.Figure()
    for col in ("creates", "updates", "deletes"):
        fig.add_trace(go.Bar(y=list(sums["table"]), x=sums[col].to_numpy(dtype="float64"), name=col, orientation="h",
                             marker_color=CHANGE_COLORS[col], hovertemplate="%{y}: %{x:,.0f} " + col + "<extra></extra>"))
    _layout(fig, title + (f" (top {top})" if top else ""), height=_bar_height(len(sums)),
            x="changes (whole period)" if subtitle is None else "changes (exact periods)", subtitle=subtitle)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat=",")
    return fig


def _month_end_days(start: pd.Timestamp, end: pd.Timestamp, last_days: int = MONTH_END_DAYS) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    spans = []
    month = pd.Timestamp(year=start.year, month=start.month, day=1, tz=start.tz)
    while month <= end:
        nxt = month + pd.offsets.MonthBegin(1)
        lo = nxt - pd.Timedelta(days=last_days)
        if lo <= end and nxt >= start:
            spans.append((max(lo, start), min(nxt, end + pd.Timedelta(days=1))))
        month = nxt
    return spans


def volume_over_time(volume: pd.DataFrame, tables: list[str] | None = None, colors: dict[str, str] | None = None,
                     mark_month_end: bool = True, limit_per_day: float | None = None,
                     title: str | None = None, log_y: bool = False, subtitle: str | None = None) -> go.Figure:
    """Total changes per period and table (``change_volume(lake, by="day")``), one line per
    table; the last three days of each month shaded; optionally a daily limit line.
    ``log_y``: a log scale, so that quiet tables show beside a busy one (days without changes
    then leave gaps)."""
    title = title or ("Changes per day and table" + (" (log scale)" if log_y else ""))
    if volume is None or volume.empty:
        return empty_figure(title)
    df = volume if tables is None else volume[volume["table"].isin(tables)]
    if df.empty:
        return empty_figure(title)
    palette = _colors(volume, colors)
    df = df.sort_values(["table", "period"], kind="stable")
    fig = go.Figure()
    # legend order: busiest first
    order = list(df.groupby("table")["total"].sum().sort_values(ascending=False, kind="stable").index)
    for name in order:
        part = df[df["table"] == name]
        _, dotted = _split_exact(part)
        y = np.where(_is_estimate(part), np.nan, part["total"].to_numpy(dtype="float64"))
        fig.add_trace(go.Scatter(x=part["period"], y=y, mode="lines", name=name, legendgroup=name,
                                 line={"color": palette[name], "width": 2},
                                 hovertemplate=name + " %{x|%a %Y-%m-%d}: %{y:,.0f} changes<extra></extra>"))
        if dotted is not None:
            fig.add_trace(go.Scatter(x=dotted["period"], y=dotted["total"].to_numpy(dtype="float64"), mode="lines",
                                     name=name, legendgroup=name, showlegend=False,
                                     line={"color": palette[name], "width": 1.5, "dash": "dot"},
                                     hovertemplate=name + " %{x|%a %Y-%m-%d}: %{y:,.0f} changes (estimate)<extra></extra>"))
    if _is_estimate(df).any():
        _estimate_legend(fig, ESTIMATE_LABELS[_estimate_kind(df, "count")])
    if mark_month_end:
        start, end = pd.Timestamp(df["period"].min()), pd.Timestamp(df["period"].max())
        for i, (lo, hi) in enumerate(_month_end_days(start, end)):
            fig.add_vrect(x0=lo, x1=hi, fillcolor="#999999", opacity=0.15, line_width=0, layer="below")
            fig.add_annotation(x=lo + (hi - lo) / 2, y=1, xref="x", yref="paper", text="month end", showarrow=False,
                               yanchor="bottom", font={"size": 11, "color": REFERENCE_COLOR})
    if limit_per_day:
        _hline(fig, limit_per_day, f"{limit_per_day:,.0f} events/day (Power Automate rule of thumb)", color=LIMIT_COLOR,
               dash="dash", log=log_y)
    _layout(fig, title, height=460, x="day (UTC)", y="changes per day" + (" (log scale)" if log_y else ""), legend="right",
            subtitle=subtitle)
    if log_y:
        for trace in fig.data:
            trace.y = np.where(np.asarray(trace.y, dtype="float64") > 0, trace.y, np.nan)
        fig.update_yaxes(type="log", tickformat=",.0f", dtick=1)
    else:
        fig.update_yaxes(tickformat=",", rangemode="tozero")
    return fig


def hour_of_week(volume: pd.DataFrame, table: str | None = None) -> go.Figure:
    """Average changes per hour of the week (``change_volume(lake, by="hour")``), all tables
    together or one ``table``: rows are weekdays, columns UTC hours. Hours without changes
    count as zero."""
    title = f"When changes happen ({table if table else 'all tables'})"
    subtitle = "average changes in each hour of the week (UTC); hours without changes count as zero"
    if volume is not None and "exact" in volume and not volume["exact"].all():
        # An estimated week would skew its hours: whole exact days only (each table's from the
        # first day all of whose hours are exact).
        volume = exact_rows(volume)
        periods = pd.to_datetime(volume["period"], utc=True)
        first = periods.groupby(volume["table"]).transform("min")
        volume = volume[periods >= first.dt.ceil("D")]
        subtitle = ("average changes in each hour of the week over the exact days (UTC); estimated days left out, "
                    "days of the week without an exact day blank")
    if volume is None or volume.empty:
        return empty_figure(title)
    df = volume if table is None else volume[volume["table"] == table]
    if df.empty:
        return empty_figure(title)
    per_hour = df.groupby("period")["total"].sum()
    idx = pd.DatetimeIndex(per_hour.index)
    full = pd.date_range(idx.min().floor("D"), idx.max().floor("D") + pd.Timedelta(hours=23), freq="h")
    per_hour = per_hour.reindex(full, fill_value=0)
    grid = per_hour.groupby([per_hour.index.day_of_week, per_hour.index.hour]).mean().unstack(fill_value=0)
    # A day of the week the data never reaches is blank, not a row of zeros (a short exact span
    # covers only some days of the week).
    grid = grid.reindex(index=range(7), columns=range(24))
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(dtype="float64"), x=[f"{h:02d}:00" for h in range(24)], y=list(_DAYS),
        colorscale="Viridis", colorbar={"title": {"text": "changes<br>per hour"}, "tickformat": ","},
        hovertemplate="%{y} %{x} UTC: %{z:,.0f} changes per hour on average<extra></extra>", xgap=1, ygap=1,
    ))
    _layout(fig, title, height=380, x="hour of day (UTC)", y=None, legend=False, subtitle=subtitle)
    fig.update_yaxes(autorange="reversed")
    return fig


# -- 04 throughput --------------------------------------------------------------------------------
def daily_vs_limit(volume: pd.DataFrame, throughput: pd.DataFrame | None = None, limit_per_day: float | None = None,
                   tables: list[str] | None = None, colors: dict[str, str] | None = None) -> go.Figure:
    """Daily volume per table against the daily limit: ``limit_per_day``, else the
    ``throughput`` frame's, else 50,000 events a day (a Power Automate Process licence's 250,000
    requests at 5 actions per record). ``volume``: ``kit.throughput.daily_volume(lake)`` (or
    ``change_volume(lake, by="day")``); tables whose ``basis`` is ``commit_metrics`` (their
    change feed was vacuumed, so the volume is rows landed per day from the merge metrics) are
    drawn dotted, and the subtitle says so."""
    if limit_per_day is None:
        ok = throughput is not None and not throughput.empty and throughput["limit_per_day"].notna().any()
        limit_per_day = float(throughput["limit_per_day"].dropna().iloc[0]) if ok else DEFAULT_DAILY_LIMIT
    has_basis = volume is not None and "basis" in volume.columns
    from_log = set(volume.loc[volume["basis"] == "commit_metrics", "table"]) if has_basis else set()
    flagged = volume is not None and "exact" in volume.columns
    fig = volume_over_time(volume, tables=tables, colors=colors, mark_month_end=True, limit_per_day=limit_per_day,
                           title=f"Daily changes against the {limit_per_day:,.0f} events/day limit",
                           subtitle="dotted: rows landed per day, from the commit log (change feed vacuumed)"
                           if from_log else None)
    if not flagged:  # a frame without the exact column: its commit-log tables dotted whole
        for trace in fig.data:
            if trace.name in from_log:
                trace.line.dash = "dot"
    return fig


def utilisation(throughput: pd.DataFrame) -> go.Figure:
    """Peak day as a share of each table's daily limit (``throughput``), line at 100%; bars
    coloured by the recommended pattern."""
    title = "Peak day as a share of the daily limit"
    if throughput is None or throughput.empty:
        return empty_figure(title)
    df = throughput.dropna(subset=["utilisation"]).sort_values(["utilisation", "table"], ascending=[True, False], kind="stable")
    if df.empty:
        return empty_figure(title)
    pattern_colors = {}
    fig = go.Figure()
    patterns = list(dict.fromkeys(df["pattern"].fillna("n/a")))
    for i, p in enumerate(sorted(patterns, key=lambda s: (s != "Power Automate", s))):
        pattern_colors[p] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00"][i % 5]
    for p in sorted(patterns, key=lambda s: (s != "Power Automate", s)):
        part = df[df["pattern"].fillna("n/a") == p]
        pct = part["utilisation"].to_numpy(dtype="float64") * 100
        fig.add_trace(go.Bar(
            y=list(part["table"]), x=pct, name=f"recommended: {p}", orientation="h", marker_color=pattern_colors[p],
            text=[f"{v:,.0f}%" for v in pct], textposition="outside", cliponaxis=False,
            customdata=np.stack([part["peak_day_events"].to_numpy(dtype="float64"),
                                 part["limit_per_day"].to_numpy(dtype="float64")], axis=1),
            hovertemplate="%{y}: peak day %{customdata[0]:,.0f} events = %{x:.0f}% of %{customdata[1]:,.0f}/day<extra></extra>",
        ))
    _vline(fig, 100, "100% of the limit", color=LIMIT_COLOR, dash="dash")
    hi = max(float(df["utilisation"].max()) * 100 * 1.15, 115)
    _layout(fig, title, height=_bar_height(len(df)), x="peak day / daily limit (%)")
    fig.update_yaxes(categoryorder="array", categoryarray=list(df["table"]))
    _pad_categories(fig, len(df))
    fig.update_xaxes(range=[0, hi], ticksuffix="%")
    fig.update_layout(barmode="overlay")
    return fig


def bursts(throughput: pd.DataFrame, window: str = "5min", limits: list[tuple[str, float]] | None = None) -> go.Figure:
    """Peak events in one hour (``window="hour"``) or five minutes (``"5min"``) per table
    (``throughput``), with optional labelled ceilings ``[(label, events), ...]``."""
    col = {"5min": "peak_5min_events", "hour": "peak_hour_events", "day": "peak_day_events"}[window]
    words = {"5min": "5 minutes", "hour": "hour", "day": "day"}[window]
    title = f"Busiest {words} per table"
    if throughput is None or throughput.empty or col not in throughput:
        return empty_figure(title)
    df = throughput.dropna(subset=[col]).sort_values([col, "table"], ascending=[True, False], kind="stable")
    if df.empty:
        return empty_figure(title)
    values = df[col].to_numpy(dtype="float64")
    fig = go.Figure(go.Bar(y=list(df["table"]), x=values, orientation="h", marker_color=PALETTE[0], name=words,
                           text=[f"{v:,.0f}" for v in values], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:,.0f} events in its busiest " + words + "<extra></extra>"))
    hi = float(values.max()) if len(values) else 1.0
    for label, value in limits or []:
        _vline(fig, value, label, color=LIMIT_COLOR, dash="dash")
        hi = max(hi, value)
    _layout(fig, title, height=_bar_height(len(df)), x=f"events in the busiest {words}", legend=False)
    fig.update_xaxes(tickformat=",", range=[0, hi * 1.18])
    if limits:
        _pad_categories(fig, len(df))
    return fig


# -- 05 health ------------------------------------------------------------------------------------
def cadence(cadence: pd.DataFrame) -> go.Figure:
    """Interval between sync commits per table (``sync_cadence``): median, p95 and longest,
    minutes on a log scale."""
    title = "Sync cadence: time between sync commits"
    if cadence is None or cadence.empty:
        return empty_figure(title)
    df = cadence.dropna(subset=["median_interval_s"]).sort_values(["median_interval_s", "table"], ascending=[False, False], kind="stable")
    if df.empty:
        return empty_figure(title)
    fig = go.Figure()
    spec = (("median_interval_s", "median", "circle", "#0072B2"), ("p95_interval_s", "p95", "square", "#E69F00"),
            ("max_interval_s", "longest", "triangle-right", "#D55E00"))
    commits = pd.to_numeric(df["commits"], errors="coerce").fillna(0).to_numpy(dtype="int64")
    for col, name, symbol, color in spec:
        m = _minutes(df[col])
        fig.add_trace(go.Scatter(x=_floor_log(m), y=list(df["table"]), mode="markers", name=name,
                                 marker={"symbol": symbol, "size": 11, "color": color, "line": {"width": 1, "color": "white"}},
                                 customdata=np.stack([m, commits], axis=1),
                                 hovertemplate="%{y} " + name + ": %{customdata[0]:,.1f} min (%{customdata[1]:,} sync commits)<extra></extra>"))
    allv = _minutes(df[["median_interval_s", "p95_interval_s", "max_interval_s"]].to_numpy().ravel())
    allv = allv[np.isfinite(allv)]
    lo, hi = max(float(allv.min()), 0.1), max(float(allv.max()), 60)
    vals, text = _log_minute_ticks(lo, hi)
    _layout(fig, title, height=_bar_height(len(df), per=30), x="interval between sync commits (minutes, log scale)")
    fig.update_xaxes(type="log", tickvals=vals, ticktext=text, range=[math.log10(lo / 1.5), math.log10(hi * 1.5)])
    return fig


def gaps(gaps: pd.DataFrame, tables: list[str] | None = None, start=None, end=None,
         incidents: list[tuple[str, object, object]] | None = None) -> go.Figure:
    """Sync gaps as bars on a timeline (``sync_gaps``): one row per table that had one, from
    the last commit before to the first after. ``tables`` adds rows for tables without gaps;
    ``start``/``end`` fix the time axis; ``incidents`` shades ``[(label, start, end)]``."""
    title = "Sync gaps: intervals longer than 3x the usual cadence"
    names = sorted(set(tables or []) | set(gaps["table"] if gaps is not None and not gaps.empty else []), reverse=True)
    if not names:
        return empty_figure(title)
    fig = go.Figure()
    if gaps is not None and not gaps.empty:
        df = gaps.sort_values(["table", "start"], kind="stable")
        dur_ms = ((pd.to_datetime(df["end"], utc=True) - pd.to_datetime(df["start"], utc=True)).dt.total_seconds() * 1000).to_numpy()
        hours = pd.to_numeric(df["seconds"], errors="coerce").to_numpy(dtype="float64") / 3600
        fig.add_trace(go.Bar(
            y=list(df["table"]), base=pd.to_datetime(df["start"], utc=True), x=dur_ms, orientation="h", name="gap",
            marker_color="#D55E00", customdata=hours, width=0.6,
            hovertemplate="%{y}: no sync for %{customdata:.1f} h from %{base|%Y-%m-%d %H:%M} UTC<extra></extra>",
        ))
    x_min = pd.Timestamp(start) if start is not None else (pd.to_datetime(gaps["start"], utc=True).min() if gaps is not None and not gaps.empty else None)
    x_max = pd.Timestamp(end) if end is not None else (pd.to_datetime(gaps["end"], utc=True).max() if gaps is not None and not gaps.empty else None)
    for label, lo, hi in incidents or []:
        fig.add_vrect(x0=pd.Timestamp(lo), x1=pd.Timestamp(hi), fillcolor="#999999", opacity=0.2, line_width=0, layer="below")
        _span_label(fig, label, pd.Timestamp(lo), pd.Timestamp(hi), x_min, x_max)
    _layout(fig, title, height=_bar_height(len(names), per=28), x="time (UTC)", legend=False)
    fig.update_xaxes(type="date")
    if start is not None and end is not None:
        fig.update_xaxes(range=[pd.Timestamp(start), pd.Timestamp(end)])
    fig.update_yaxes(categoryorder="array", categoryarray=names, type="category", range=[-0.5, len(names) - 0.5])
    if gaps is None or gaps.empty:
        fig.add_annotation(text="no gaps: every table synced at its usual cadence", x=0.5, y=0.5, xref="paper",
                           yref="paper", showarrow=False, font={"size": 14, "color": "#777777"})
    return fig


def freshness(freshness: pd.DataFrame) -> go.Figure:
    """Time since each table's last landed change (``freshness``) beside its stale threshold
    (twice the longest silence its history shows at that hour of the week; 3x its median sync
    interval for a frame without ``normal_silence_s``); stale tables in vermillion."""
    title = "Freshness: time since the last landed change"
    if freshness is None or freshness.empty:
        return empty_figure(title)
    df = freshness.dropna(subset=["staleness_s"]).sort_values(["staleness_s", "table"], ascending=[True, False], kind="stable")
    if df.empty:
        return empty_figure(title)
    stale = df["stale"].fillna(False).astype(bool).to_numpy()
    staleness = df["staleness_s"].to_numpy(dtype="float64")
    if "normal_silence_s" in df:  # freshness's rule: twice the longest silence at that hour of the week
        threshold = pd.to_numeric(df["normal_silence_s"], errors="coerce").to_numpy(dtype="float64") * SILENCE_FACTOR
        marker = "stale after (2x the longest silence at this hour in earlier weeks)"
    else:
        threshold = pd.to_numeric(df["cadence_s"], errors="coerce").to_numpy(dtype="float64") * 3
        marker = "stale after (3x median interval)"
    div, unit = _duration_unit(float(np.nanmax(np.concatenate([staleness, threshold]))))
    fig = go.Figure()
    for flag, name, color in ((False, "fresh", "#0072B2"), (True, "stale", "#D55E00")):
        mask = stale == flag
        if mask.any() or not flag:
            fig.add_trace(go.Bar(y=list(df["table"][mask]), x=staleness[mask] / div, orientation="h", name=name,
                                 marker_color=color, hovertemplate="%{y}: last change landed %{x:,.1f} " + unit + " before as-of<extra></extra>"))
    fig.add_trace(go.Scatter(y=list(df["table"]), x=threshold / div, mode="markers", name=marker,
                             marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": "#222222"}},
                             hovertemplate="%{y}: stale after %{x:,.1f} " + unit + "<extra></extra>"))
    _layout(fig, title, height=_bar_height(len(df)), x=f"time since last landed change ({unit})")
    fig.update_yaxes(categoryorder="array", categoryarray=list(df["table"]))
    fig.update_layout(barmode="overlay")
    return fig


def anomalies_overview(anomalies: pd.DataFrame, incidents: list[tuple[str, object, object]] | None = None,
                       tables: list[str] | None = None, clip: float = 10.0) -> go.Figure:
    """Every scored hour of every table (``anomalies``) as a heatmap of its score: grey is
    usual, red above the usual level (spikes), blue below (drops), blank without a value;
    flagged hours are also marked with triangles. ``incidents`` frames ``[(label, start,
    end)]``. Scores beyond +/-``clip`` share the end colour."""
    metric = str(anomalies["metric"].iloc[0]) if anomalies is not None and not anomalies.empty and "metric" in anomalies else "volume"
    title = f"Anomalies in hourly {metric}"
    subtitle = "each hour's score against the usual level for that hour; triangles: flagged hours"
    if anomalies is None or anomalies.empty:
        return empty_figure(title)
    if anomalies["score"].isna().all():
        return empty_figure(title, "no hour could be scored: too little history")
    df = anomalies.sort_values(["table", "hour"], kind="stable")
    flagged = df[df["flag"].notna()]
    if flagged.empty:
        scored = int(df["score"].notna().sum())
        return empty_figure(title, f"no anomalies: all {scored:,} scored table-hours within their usual range")
    names = sorted(set(tables or []) | set(df["table"]), reverse=True)
    # Cells of several hours when one per hour would be hair-thin (over MAX_HEATMAP_CELLS across):
    # each cell shows its most extreme score, so a spike or a drop never averages away.
    hour = pd.to_datetime(df["hour"], utc=True)
    n_hours = (hour.max() - hour.min()) / pd.Timedelta(hours=1) + 1 if len(hour) else 0
    block = next((b for b in (1, 2, 3, 4, 6, 8, 12, 24) if n_hours / b <= MAX_HEATMAP_CELLS), 24)
    cell = hour.dt.floor(f"{block}h") if block > 1 else hour
    extreme = df.assign(_cell=cell, _abs=df["score"].abs()).sort_values(["_abs"], ascending=False, kind="stable",
                                                                         na_position="last")
    grid = extreme.pivot_table(index="table", columns="_cell", values="score", aggfunc="first", dropna=False)
    grid = grid.reindex(index=names)
    hours = list(grid.columns)
    z = grid.to_numpy(dtype="float64")
    when = "%{x|%Y-%m-%d %H:00}" + (f" + {block} h, most extreme hour" if block > 1 else "")
    fig = go.Figure(go.Heatmap(
        z=np.clip(z, -clip, clip), x=hours, y=names, zmin=-clip, zmax=clip, zmid=0, name="score",
        colorscale=[[0.0, "#2166AC"], [0.325, "#92C5DE"], [0.5, "#DEDEDE"], [0.675, "#F4A582"], [1.0, "#B2182B"]],
        colorbar={"title": {"text": "score<br>(robust z)"}, "tickvals": [-clip, -3.5, 0, 3.5, clip],
                  "ticktext": [f"-{clip:g} drop", "-3.5", "0 usual", "3.5", f"+{clip:g} spike"]},
        customdata=z, hovertemplate="%{y} " + when + ": score %{customdata:.1f}<extra></extra>", hoverongaps=False,
        xgap=1, ygap=2,
    ))
    if block > 1:
        subtitle = f"each {block}-hour cell: its most unusual hour against the usual level for that hour; triangles: flagged hours"
    for flag in ("spike", "drop"):
        part = flagged[flagged["flag"] == flag]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["hour"], y=list(part["table"]), mode="markers", name=flag,
            marker={"color": "#000000", "symbol": "triangle-up" if flag == "spike" else "triangle-down", "size": 7},
            customdata=np.stack([part["value"].to_numpy(dtype="float64"), part["baseline"].to_numpy(dtype="float64"),
                                 part["score"].to_numpy(dtype="float64")], axis=1),
            hovertemplate="%{y} %{x|%Y-%m-%d %H:00}: " + flag + ", %{customdata[0]:,.0f} vs usual %{customdata[1]:,.0f} (score %{customdata[2]:.1f})<extra></extra>",
        ))
    for label, lo, hi in incidents or []:
        fig.add_shape(type="rect", x0=pd.Timestamp(lo), x1=pd.Timestamp(hi), y0=0, y1=1, xref="x", yref="paper",
                      line={"color": "#444444", "width": 1.5, "dash": "dot"}, fillcolor="rgba(0,0,0,0)")
        _span_label(fig, label, pd.Timestamp(lo), pd.Timestamp(hi), min(hours) if hours else None, max(hours) if hours else None)
    _layout(fig, title, height=_bar_height(len(names), per=30), x="hour (UTC)" if block == 1 else f"time (UTC), {block}-hour cells",
            subtitle=subtitle)
    fig.update_yaxes(categoryorder="array", categoryarray=names, type="category")
    fig.update_layout(plot_bgcolor="white")
    return fig


def anomaly_detail(anomalies: pd.DataFrame, table: str) -> go.Figure:
    """One table's hourly values (``anomalies``) against its baseline, flagged hours marked."""
    metric = str(anomalies["metric"].iloc[0]) if anomalies is not None and not anomalies.empty and "metric" in anomalies else "volume"
    unit = "changes per hour" if metric == "volume" else "latency (minutes)"
    title = f"{table}: hourly {metric} against its usual level"
    if anomalies is None or anomalies.empty:
        return empty_figure(title)
    df = anomalies[anomalies["table"] == table].sort_values("hour", kind="stable")
    if df.empty:
        return empty_figure(title)
    scale = 1.0 if metric == "volume" else 1 / 60.0
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=df["hour"], y=df["value"].to_numpy(dtype="float64") * scale, mode="lines+markers", name=metric,
                             line={"color": "#0072B2", "width": 1.5}, marker={"size": 3},
                             hovertemplate="%{x|%Y-%m-%d %H:00}: %{y:,.1f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=df["hour"], y=df["baseline"].to_numpy(dtype="float64") * scale, mode="lines", name="usual level (baseline)",
                             line={"color": "#777777", "width": 1.5, "dash": "dash"},
                             hovertemplate="%{x|%Y-%m-%d %H:00}: usual %{y:,.1f}<extra></extra>"))
    for flag in ("spike", "drop"):
        part = df[df["flag"] == flag]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(x=part["hour"], y=part["value"].to_numpy(dtype="float64") * scale, mode="markers", name=flag,
                                 marker={"color": FLAG_COLORS[flag], "size": 9,
                                         "symbol": "triangle-up" if flag == "spike" else "triangle-down"},
                                 hovertemplate="%{x|%Y-%m-%d %H:00}: " + flag + " %{y:,.1f}<extra></extra>"))
    _layout(fig, title, height=380, x="hour (UTC)", y=unit)
    if metric == "latency":  # a slow day at 3x its usual level stays visible beside an outage at 20x
        values = np.concatenate([df["value"].to_numpy(dtype="float64"), df["baseline"].to_numpy(dtype="float64")]) * scale
        lo, hi = _latency_range(values)
        vals, text = _log_minute_ticks(lo, hi)
        for trace in fig.data:
            trace.y = _floor_log(np.asarray(trace.y, dtype="float64"))
        fig.update_yaxes(type="log", tickvals=vals, ticktext=text, range=[math.log10(lo / 1.5), math.log10(hi * 1.5)],
                         title={"text": "latency (minutes, log scale)"})
    else:
        fig.update_yaxes(tickformat=",", rangemode="tozero")
    return fig
