"""The shareable report's page: one self-contained HTML file with every chart and key table,
laid out from the analyses' results (``kit.report`` runs them; this module never sees a lake).

Sections mirror the notebooks: 1 inventory, 2 sync latency, 3 change volumes, 4 throughput and
thresholds, 5 sync health. plotly.js is inlined once in the page head, so the file opens
offline; chart ids are fixed and nothing depends on the wall clock, so the same lake gives the
same file byte for byte. The lake's location is shown with any credential in it masked.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from . import charts, readings
from .advice import pattern_reasons
from ..errors import KitError

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


@dataclass
class Section:
    key: str
    title: str
    intro: str
    blocks: list = field(default_factory=list)  # ("p", text) | ("chart", fig) | ("table", caption, df)


# -- sections ------------------------------------------------------------------------------------
def build_sections(data: dict) -> list[Section]:
    tables = data.get("tables")
    dataverse = [] if tables is None else sorted(tables.loc[tables["kind"].isin(["dataverse", "finance_operations"]), "table"])
    colors = charts.table_colors(dataverse)

    inv = Section("inventory", "1. Lake inventory",
                  "What the lake holds: every table, its kind and size, live and soft-deleted rows, and its commits.")
    inv.blocks += [("p", readings.read_inventory(tables, data.get("as_of"))),
                   ("chart", charts.table_rows(tables)),
                   ("chart", charts.table_storage(tables)),
                   ("table", "Tables", readings.inventory_table(tables)),
                   ("chart", charts.commit_timeline(data.get("history")))]
    if tables is not None and not dataverse:  # nothing to measure: say so once, not in 20 empty charts
        return [inv]

    lat, lat_day, naive = data.get("latency"), data.get("latency_day"), data.get("naive")
    worst = readings.worst_latency_table(lat)
    la = Section("latency", "2. Sync latency",
                 "How long a change made in Dataverse takes to land in the lake: from modifiedon to its first "
                 "landing. Targets drawn at 15, 30 and 60 minutes.")
    la.blocks += [("p", readings.read_latency(lat)),
                  ("chart", charts.latency_percentiles(lat)),
                  ("chart", charts.latency_within(lat)),
                  ("table", "Latency per table, worst p95 first", readings.latency_table(lat)),
                  ("chart", charts.latency_over_time(lat_day, colors=colors))]
    if worst:
        la.blocks.append(("chart", charts.latency_over_time(lat_day, table=worst)))
    la.blocks += [("p", readings.read_naive(naive)),
                  ("chart", charts.naive_vs_first_landing(naive, "relanded")),
                  ("chart", charts.naive_scatter(data.get("relanded"), colors=colors)),
                  ("table", "Naive SinkModifiedOn latency against first landing, same rows (medians: rows landed again; p99: all)", readings.naive_table(naive))]

    vol_day, vol_hour = data.get("volume_day"), data.get("volume_hour")
    vo = Section("volume", "3. Change volumes",
                 "How much changes: creates, updates and deletes per table, when in the week, and the month-end burst.")
    exact_days = readings.exact_span_text(data.get("spans"), data.get("as_of"))
    vo.blocks += [("p", readings.read_volume(vol_day)),
                  ("chart", charts.volume_by_kind(vol_day)),
                  ("table", "Changes per table" + (" (exact days only)" if _has_estimates(vol_day) else ""),
                   readings.volume_table(vol_day)),
                  ("p", exact_days or readings.read_exact_span(data.get("spans"))),
                  ("table", "How exactly the lake knows each table's changes", data.get("coverage")),
                  ("chart", charts.hour_of_week(vol_hour)),
                  ("chart", charts.hour_of_week(vol_hour, table=readings.busiest_table(vol_day))),
                  ("p", readings.read_month_end(data.get("daily"))),
                  ("chart", charts.volume_over_time(data.get("daily"), colors=colors, log_y=True))]

    tp = data.get("throughput")
    limit = float(tp["limit_per_day"].iloc[0]) if tp is not None and not tp.empty else charts.DEFAULT_DAILY_LIMIT
    try:
        ceilings = readings.burst_ceilings()
    except KitError:
        ceilings = []
    th = Section("throughput", "4. Throughput and thresholds",
                 f"Daily volume against {limit:,.0f} events a day (a Power Automate Process licence's 250,000 requests "
                 "a day at 5 actions per record), peak hours and 5-minute bursts against the published ceilings, "
                 "and the integration pattern each table calls for.")
    basis = readings.limit_basis(pattern_reasons(tp)) if tp is not None and not tp.empty else ""
    th.blocks += [("p", readings.read_throughput(tp)),
                  ("chart", charts.daily_vs_limit(data.get("daily"), throughput=tp, colors=colors)),
                  ("chart", charts.utilisation(tp)),
                  ("table", "Recommended pattern per table" + (f" (the daily limit: {basis})" if basis else ""),
                   readings.pattern_table(tp)),
                  ("p", readings.read_bursts(tp, ceilings)),
                  ("chart", charts.bursts(tp, "5min", limits=ceilings)),
                  ("chart", charts.bursts(tp, "hour")),
                  ("table", "Throughput per table", readings.throughput_table(tp))]
    if data.get("limits") is not None:
        th.blocks.append(("table", "Published limits checked", readings.published_limits()))

    cad, gaps, fresh, anom = data.get("cadence"), data.get("gaps"), data.get("freshness"), data.get("anomalies")
    incidents = readings.outages(gaps)
    he = Section("health", "5. Sync health",
                 "Is the sync running? How often each table syncs, the outages between syncs, how fresh each table "
                 "is now, and hours whose latency or volume is unusual for that hour.")
    anom_lat = data.get("anomalies_latency")
    window = data.get("window")
    start, end = window if window else (None, None)
    he.blocks += [("p", readings.read_health(cad, gaps, fresh, data.get("producer", "the export"))),
                  ("chart", charts.cadence(cad)),
                  ("chart", charts.gaps(gaps, tables=dataverse, start=start, end=end, incidents=incidents)),
                  ("table", "Sync gaps, longest first", readings.gaps_table(gaps)),
                  ("chart", charts.freshness(fresh)),
                  ("table", "Freshness", readings.freshness_table(fresh)),
                  ("p", readings.read_anomalies(anom_lat)),
                  ("chart", charts.anomalies_overview(anom_lat, incidents=incidents, tables=dataverse))]
    top = readings.most_flagged(anom_lat)
    if top:
        he.blocks.append(("chart", charts.anomaly_detail(anom_lat, top)))
    he.blocks += [("table", "Largest latency anomalies", readings.anomalies_table(anom_lat)),
                  ("p", readings.read_anomalies(anom)),
                  ("chart", charts.anomalies_overview(anom, incidents=incidents, tables=dataverse)),
                  ("table", "Largest volume anomalies", readings.anomalies_table(anom))]
    return [inv, la, vo, th, he]


def _has_estimates(df) -> bool:
    return df is not None and "exact" in df and not df["exact"].all()


# -- HTML ----------------------------------------------------------------------------------------
CSS = """
:root { --ink: #222; --muted: #666; --rule: #ddd; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       background: #f6f6f4; line-height: 1.5; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
header h1 { margin: 0 0 4px; font-size: 28px; }
header .meta { color: var(--muted); margin: 0 0 12px; }
header .meta code { background: #f0f0f0; padding: 1px 5px; border-radius: 3px; }
nav ol { display: flex; flex-wrap: wrap; gap: 6px 22px; padding: 0; margin: 8px 0 0; list-style: none; }
nav a { color: var(--accent); text-decoration: none; }
section { border-top: 2px solid var(--rule); margin-top: 28px; padding-top: 8px; }
h2 { font-size: 22px; margin: 10px 0 4px; }
p.intro { color: var(--muted); margin-top: 0; }
p.reading { font-size: 15.5px; background: #f3f8fc; border-left: 4px solid var(--accent); padding: 10px 14px;
            margin: 14px 0; }
.chart { margin: 14px 0 6px; border: 1px solid #eee; border-radius: 4px; }
.table-wrap { overflow-x: auto; margin: 10px 0 18px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
table.data { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
table.data .num { text-align: right; }
table.data .text { white-space: normal; min-width: 220px; }
table.data thead th { border-bottom: 2px solid #ccc; background: #fafafa; }
ul.notes { color: var(--muted); font-size: 13px; }
ul.glance { font-size: 15.5px; padding-left: 22px; }
ul.glance li { margin: 6px 0; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 36px; border-top: 1px solid var(--rule); padding-top: 8px; }
"""

_NUMERIC = re.compile(r"^[-+]?[\d,.]+\s*(%|x|s|min|h|days?|KB|MB|GB|B|UTC)?$|^$|^(already over|not growing|> 10 years)$")


def _is_numeric(values) -> bool:
    """Right-align a column when its values read as numbers, percentages or durations."""
    return all(_NUMERIC.match(str(v)) for v in values)


def table_html(df: pd.DataFrame, caption: str) -> str:
    """A formatted DataFrame of strings as an HTML table (escaped): numbers right-aligned,
    text left-aligned and wrapped when long."""
    if df is None or df.empty:
        return f'<p class="intro">{html.escape(caption)}: none.</p>'
    df = readings.table_rows(df)
    cols = list(df.columns)
    classes = []
    for c in cols:
        values = [v for v in df[c].tolist() if v is not None]
        if _is_numeric(values) or str(c) in ("last commit", "last landed", "from", "to", "hour"):
            classes.append("num")
        elif max((len(str(v)) for v in values), default=0) > 40:
            classes.append("text")
        else:
            classes.append("")
    attr = [f' class="{k}"' if k else "" for k in classes]
    head = "".join(f"<th{a}>{html.escape(str(c))}</th>" for c, a in zip(cols, attr))
    rows = []
    for rec in df.itertuples(index=False):
        cells = "".join(f"<td{a}>{html.escape('' if v is None else str(v))}</td>" for v, a in zip(rec, attr))
        rows.append(f"<tr>{cells}</tr>")
    return (f'<div class="table-wrap"><table class="data"><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def no_dataverse_tables(tables: pd.DataFrame) -> str:
    """The one sentence of a report on a lake without Dataverse tables."""
    n = len(tables)
    return (f"No Dataverse table in this lake: none of its {n} table{'s' if n != 1 else ''} has the columns Id, "
            "versionnumber and modifiedon that Synapse Link and Fabric Link export, so there is no latency, volume, "
            "throughput or sync health to report; the inventory below lists what the lake holds.")


def at_a_glance(data: dict) -> list[str]:
    """The first sentence or two of the readings that decide something: which integrations
    must move, how late data lands, the month end, and whether the sync is healthy."""
    def first(text: str, n: int = 1) -> str:
        parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", str(text).strip())
        return " ".join(parts[:n])

    tables = data.get("tables")
    if tables is not None and not tables["kind"].isin(["dataverse", "finance_operations"]).any():
        return [no_dataverse_tables(tables)]
    span = readings.exact_span_text(data.get("spans"), data.get("as_of"))
    return ([span] if span else []) + [
        first(readings.read_throughput(data.get("throughput")), 2),
        first(readings.read_latency(data.get("latency")), 2),
        first(readings.read_month_end(data.get("daily"))),
        first(readings.read_health(data.get("cadence"), data.get("gaps"), data.get("freshness"),
                                   data.get("producer", "the export")), 3),
    ]


def render(data: dict, location: str) -> str:
    """The report's HTML as a string, from the analyses' results (``kit.report.collect``) and
    the lake's location as shown to people (credentials masked)."""
    sections = build_sections(data)
    as_of = readings.fmt_time(data.get("as_of")) or "unknown"
    body = []
    n_chart = 0
    for s in sections:
        parts = [f'<section id="{s.key}"><h2>{html.escape(s.title)}</h2><p class="intro">{html.escape(s.intro)}</p>']
        for block in s.blocks:
            kind = block[0]
            if kind == "p":
                parts.append(f'<p class="reading">{html.escape(block[1])}</p>')
            elif kind == "chart":
                n_chart += 1
                div = pio.to_html(block[1], full_html=False, include_plotlyjs=False, div_id=f"chart-{s.key}-{n_chart}",
                                  config=PLOTLY_CONFIG, validate=False)
                parts.append(f'<div class="chart">{div}</div>')
            elif kind == "table":
                parts.append(table_html(block[2], block[1]))
        parts.append("</section>")
        body.append("\n".join(parts))
    notes = ""
    if data.get("notes"):
        items = "".join(f"<li>{html.escape(n)}</li>" for n in data["notes"])
        notes = f'<section id="notes"><h2>Notes</h2><ul class="notes">{items}</ul></section>'
    nav = "".join(f'<li><a href="#{s.key}">{html.escape(s.title)}</a></li>' for s in sections)
    glance = "".join(f"<li>{html.escape(text)}</li>" for text in at_a_glance(data))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dataverse lake report: {html.escape(location)}</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<main>
<header>
<h1>Dataverse lake report</h1>
<p class="meta">Lake <code>{html.escape(location)}</code> &middot; as of {html.escape(as_of)} (its newest commit)
&middot; {n_chart} charts. All times UTC.</p>
<nav><ol>{nav}</ol></nav>
</header>
<section id="glance"><h2>At a glance</h2><ul class="glance">{glance}</ul></section>
{chr(10).join(body)}
{notes}
<footer>Written by <code>python -m kit report</code> (dataverse-lake-kit). Latency is measured to each change's
first landing; volumes and throughput count each landed row version once, on the Dataverse modifiedon clock.
Totals, percentiles, heatmaps and peaks use exactly measured days only; estimates (dotted) say whether they are
lower ("at least") or upper ("at most") bounds.
Limits as published by Microsoft (see the limits table); the 50,000 events/day rule of thumb assumes 5 flow
actions per record.</footer>
</main>
</body>
</html>
"""
