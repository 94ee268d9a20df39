"""Write the curated notebooks from the cell lists below, and execute them in place.

    python notebooks/build.py                 # write and execute all five
    python notebooks/build.py 02 04           # only these
    python notebooks/build.py --no-execute    # write without outputs
    python notebooks/build.py --no-images     # execute, but store no static images of the figures

The notebooks are the source users open; this script is how they are kept consistent (one
setup cell, the same wording, deterministic cell ids). Execution runs each notebook from the
``notebooks/`` folder with ``KIT_LAKE`` unset, so ``../sample_lake`` is the lake, exactly as
``pytest --nbval`` re-runs them, and stores the outputs that nbval compares.

Each figure is stored twice: as plotly JSON (``application/vnd.plotly.v1+json``: the interactive
chart JupyterLab shows, and what nbval compares) and as a PNG beside it (``image/png``: what
``jupyter nbconvert --to html`` and GitHub's notebook viewer show, since they cannot draw plotly
JSON). The PNGs are drawn here, after execution, with kaleido and Chromium; nbval ignores images,
so the check stays deterministic and needs neither.
"""

from __future__ import annotations

import os
import sys
import time

import base64
import io
import warnings

import nbformat
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))
PLOTLY_MIME = "application/vnd.plotly.v1+json"
IMAGE_WIDTH = 900  # px: about a notebook's output width in JupyterLab and on GitHub

PARAMETERS = '''import os

# The lake to analyse: a folder, or an abfss:// / OneLake URI (see README.md for credentials).
LAKE = os.environ.get("KIT_LAKE", "../sample_lake")
# The store that `python -m kit collect` fills (README, "Exact history: the store"); None: the lake
# alone, exact only as far back as its change feed. The sample lake's is beside it.
STORE = os.environ.get("KIT_STORE") or ("../sample_store.duckdb" if LAKE == "../sample_lake" else None)'''

SETUP = '''import pandas as pd
import plotly.io as pio

import kit
from kit.present import charts, readings

pio.renderers.default = "plotly_mimetype"    # figures stored as data: same outputs on every run
pd.set_option("display.max_colwidth", None)  # show the sentences in tables whole
readings.show_warnings_as_notes()            # the kit's warnings as one-line notes

lake = kit.open_lake(LAKE, store=STORE)
print(f"Lake {readings.lake_name(LAKE)}: {len(lake)} tables, newest commit {readings.fmt_time(lake.as_of)}")'''


def md(text: str) -> tuple:
    return ("md", text.strip("\n"))


def code(src: str, *tags: str) -> tuple:
    return ("code", src.strip("\n"), tags)


def header(title: str, intro: str) -> list[tuple]:
    return [
        md(f"# {title}\n\n{intro}"),
        code(PARAMETERS, "parameters"),
        code(SETUP),
    ]


NOTEBOOKS: dict[str, list[tuple]] = {}

NOTEBOOKS["01_lake_inventory.ipynb"] = header(
    "01 · Lake inventory",
    """What is in the lake: every table the kit finds, its kind and size, its live and soft-deleted
rows, how fresh it is and how it has been committed. Start here on a new lake: it tells you which
tables the other notebooks will analyse (the Dataverse and finance and operations tables) and
whether any table cannot be read.

The lake is `KIT_LAKE` (default: the sample lake beside this folder). All times are UTC; "now" is
the lake's newest commit, never the clock of the machine running the notebook.""",
) + [
    md("""## The tables

One row per table. **kind** says how the kit understands it: `dataverse` and
`finance_operations` tables carry `Id`, `versionnumber` and `modifiedon` and are analysed by the
next notebooks; `metadata` tables hold the choice labels; `other` tables are listed but not
analysed. An **error** column appears only when a table cannot be read, with the reason."""),
    code("""tables = lake.tables()
readings.inventory_table(tables)"""),
    code("readings.read_inventory(tables, lake.as_of)"),
    md("""## Rows: live and soft-deleted

Synapse Link does not remove a deleted record at once: it lands a new version with `IsDelete`
true and removes it in a later purge. Until then the row is in the table. **Count live rows**
(`lake.live(table)`, or `IsDelete` not true) in every report built on the lake; a large orange
share means the purge is behind or the table churns through deletes."""),
    code("charts.table_rows(tables)"),
    md("""## Size on disk

The snapshot's data files. A table much larger than its row count suggests (many small files, or
files never compacted) costs time on every query: check that the link's maintenance
(OPTIMIZE) runs for it."""),
    code("charts.table_storage(tables)"),
    md("""## Freshness

How long ago each table last landed a change, against three times its usual sync interval. A
table past its mark is **stale**: before trusting today's numbers from it, check the link's
status for that table in the Power Apps maker portal (Azure Synapse Link, or the Fabric link)."""),
    code("""fresh = kit.freshness(lake)
readings.freshness_table(fresh)"""),
    code("charts.freshness(fresh)"),
    md("""## Commit history

Every commit of every table. Syncs (MERGE) should form a steady rhythm; nightly maintenance
(OPTIMIZE, and the DELETE that purges soft-deleted rows) shows as separate marks. A hole in
the rhythm that several tables share is an outage of the link: notebook 05 measures them."""),
    code("""history = lake.history()
charts.commit_timeline(history)"""),
    md("""## Next

- **02 sync latency**: how long changes take to land.
- **03 change volumes**: how much changes, and when.
- **04 throughput and thresholds**: which integrations must move off Power Automate.
- **05 sync health**: cadence, outages, freshness and anomalies."""),
]

NOTEBOOKS["02_sync_latency.ipynb"] = header(
    "02 · Sync latency",
    """How long does a change made in Dataverse take to be readable in the lake? The kit measures
each change from its `modifiedon` to its **first landing** (the first commit that carried that
row version) and summarises per table. The targets drawn on every chart are 15, 30 and 60 minutes:
the intervals Synapse Link and Fabric Link are configured with.""",
) + [
    md("""## Latency per table

p50 is the typical change, p95 the slow one in twenty, p99 the slow one in a hundred. The
**measured from** column says how the kit knew each landing: `change feed` or `add diff` (the
commit log's files): exact, and so are the days a store collected (`STORE`: the sample lake's
`sample_store.duckdb` makes all its days exact). Where the change feed was vacuumed and no store
collected it, only the snapshot knows the older days (each record's latest version; its landing
time an upper bound), so by default the kit measures the **exact days** only and says from when in a note;
`kit.sync_latency(lake, include_estimates=True)` adds the estimated days, flagged `exact` false."""),
    code("""latency = kit.sync_latency(lake, by=None)
readings.latency_table(latency)"""),
    code("readings.read_latency(latency)"),
    md("""Each line spans p50 to p99, on a log scale so that minutes and hours both read. A table
whose p95 mark sits right of the 60-minute line cannot serve a consumer that needs data within an
hour: serve that consumer from Dataverse directly, or shorten the link's interval."""),
    code("charts.latency_percentiles(latency)"),
    code("charts.latency_within(latency)"),
    md("""## Percentiles over time

Daily p95 per table, over the days the lake observed as they happened (the initial load's
backlog is left out). Days known only from the snapshot are drawn dotted: their latencies are
upper bounds ("at most"). A step up that every table shares is the link, not the tables: look
for the same days in notebook 05's gaps and anomalies."""),
    code("""window = lake.observed_window()
daily = readings.in_window(kit.sync_latency(lake, by="day", include_estimates=True), window)
charts.latency_over_time(daily)"""),
    md("The slowest table (highest p95 overall), with all four percentiles per day:"),
    code("charts.latency_over_time(daily, table=readings.worst_latency_table(latency))"),
    md("""## Why not `SinkModifiedOn - modifiedon`?

The query most teams write first takes each row as it is now and subtracts `modifiedon` from
`SinkModifiedOn`. But `SinkModifiedOn` is stamped **every time** the link writes the row,
including when it lands the same row version again (a re-sync, a retried batch). For those rows
the naive query measures the wait until the *last* landing, although the change was readable
from the first. The kit compares both measures on the same rows: the current rows whose first
landing the change feed shows."""),
    code("""from kit.metrics.naive import naive_latency, relanded_rows

naive = naive_latency(lake)
readings.naive_table(naive)"""),
    md("""The medians are over the rows landed again, where the two measures differ; the p99s over
all the rows compared. The reading:"""),
    code("readings.read_naive(naive)"),
    code("charts.naive_vs_first_landing(naive)"),
    md("""Each dot is one row landed again. On the dotted diagonal the two measures would agree;
the height above it is time the naive query adds that no user waited for."""),
    code("charts.naive_scatter(relanded_rows(lake))"),
    md("""## What to do

- Quote latency to first landing (`kit.sync_latency`), with p95 and p99 beside the median.
- Tables above the 60-minute line: check their interval in the link's settings, and their
  share of the link's work (notebook 03); consumers that need them sooner read Dataverse.
- Days when every table slowed down: find the cause in notebook 05."""),
]

NOTEBOOKS["03_change_volumes.ipynb"] = header(
    "03 · Change volumes",
    """How much changes, and when: creates, updates and deletes per table; the hours of the week
that carry the load; and the month-end burst that sizes every integration. Counts are landed row
versions (a version landed twice counts once) on the Dataverse clock, `modifiedon`, over the days
the lake observed as they happened.""",
) + [
    md("""## How exactly the lake knows its changes

Where the change data feed reaches back, or a store collected it before it was vacuumed, every
landed row version is known. Before that only the snapshot is left: each record's latest
version, so a record updated several times in those days counts once and volumes there are a
floor, not a count. The kit never adds the two up: totals, heatmaps and the busiest day use the
exact days only; the estimated days are drawn apart (dotted)."""),
    code("readings.coverage_table(lake.coverages())"),
    code("readings.read_exact_span(kit.exact_spans(lake), lake.as_of)"),
    md("## Changes per table"),
    code("""window = lake.observed_window()
volume = readings.in_window(kit.change_volume(lake, by="day", include_estimates=True), window)
readings.volume_table(volume)"""),
    code("readings.read_volume(volume)"),
    code("charts.volume_by_kind(volume)"),
    md("""## Hour of the week

Average changes in each hour of the week (UTC), over the exact days. Integrations feel the dark
cells, not the daily average: schedule bulk jobs away from them, and size real-time flows for
them. With a short change feed and no store the exact days cover only part of the week: collect
into a store hourly (README, "Exact history: the store") and every week is whole."""),
    code("""hourly = readings.in_window(kit.change_volume(lake, by="hour"), window)
charts.hour_of_week(hourly)"""),
    code("charts.hour_of_week(hourly, table=readings.busiest_table(volume))"),
    md("""## The month-end burst

Orders, invoices and the mail around them pile up in the last days of the month. The shaded band
marks the last three days; the log scale keeps quiet tables visible beside busy ones. Day to day,
the volumes here are `kit.daily_volume`: exact counts where the change feed reaches, and before it
an estimate, drawn dotted: the rows each sync commit landed (from the commit log's merge metrics,
which survive a vacuum; re-landings included), so days compare like with like."""),
    code("""daily = readings.in_window(kit.daily_volume(lake, include_estimates=True), window)
readings.read_month_end(daily)"""),
    code("charts.volume_over_time(daily, log_y=True)"),
    md("""## What to do

- Size every integration for its table's month end, not its average day: notebook 04 checks
  the peaks against the published limits.
- Tables whose deletes are a large share: make sure consumers handle `IsDelete` rows."""),
]

NOTEBOOKS["04_throughput_and_thresholds.ipynb"] = header(
    "04 · Throughput and thresholds",
    """Which integrations can stay on Power Automate, and which must move? The guide's rule of
thumb: **Power Automate under 50,000 events a day, Service Bus + Azure Functions above**. The
50,000 is a Power Automate Process licence's 250,000 Power Platform requests a day at about 5
actions per record; bursts break flows before daily totals do, so the kit also checks the peak
hour and the peak 5 minutes against the 5-minute ceilings. Every figure comes from
`kit/limits.json`, with its source and date; `kit.throughput(lake, limits=..., actions_per_record=...)`
overrides them.""",
) + [
    md("## Daily volume against the limit"),
    code("""throughput = kit.throughput(lake)
readings.read_throughput(throughput)"""),
    md("""The peaks are the exact days' (the change feed's); the days before it are estimates from
the commit log, drawn dotted."""),
    code("""window = lake.observed_window()
daily = readings.in_window(kit.daily_volume(lake, include_estimates=True), window)
charts.daily_vs_limit(daily, throughput)"""),
    md("""The peak day of each table as a share of the limit. Anything above 100% is throttled
on its busiest day; above 80% has no room for growth or a bad month end."""),
    code("charts.utilisation(throughput)"),
    md("""## Bursts: the peak hour and the peak 5 minutes

Power Platform and Dataverse service protection count requests per **5 minutes**. A table far
below 50,000 a day can still trip them if its changes arrive in bursts (a bulk import, a
month-end batch)."""),
    code("""ceilings = readings.burst_ceilings()
readings.read_bursts(throughput, ceilings)"""),
    code("charts.bursts(throughput, \"5min\", limits=ceilings)"),
    code("charts.bursts(throughput, \"hour\")"),
    md("""## Headroom and days to the limit

**headroom** is what is left on the peak day; **days to limit** extends the table's daily trend
(a least-squares line) until it reaches the limit: empty when the table is not growing."""),
    code("readings.throughput_table(throughput)"),
    md("""## The recommended pattern per table

The guide's decision table, made concrete for this lake. Volume decides between Power Automate
and Service Bus + Azure Functions; the other rows of the guide (Logic Apps for orchestration and
B2B, Data Factory + Synapse Link for bulk ETL, dual write for F&O-CRM sync) depend on what the
integration does, which volumes cannot tell.

| scenario | recommended pattern |
|---|---|
| simple event-driven workflows, under 50K records/day | Power Automate |
| high-volume async messaging, over 50K events/day | Service Bus + Azure Functions |
| complex orchestration or B2B (EDI) | Logic Apps |
| bulk data movement or ETL | Data Factory + Synapse Link |
| F&O and CRM real-time bidirectional sync | dual write |"""),
    md("""Each table's reason compares its peak day with the daily limit above: 250,000 requests per 24 h at
5 actions per record (the table's caption in the report states it for other settings)."""),
    code("readings.pattern_table(throughput)"),
    md("The published limits checked, with their sources:"),
    code("readings.published_limits()"),
    md("""## What to do

- Tables recommended for **Service Bus + Azure Functions**: move their event-driven flows now;
  a flow throttled or failing for 14 days is turned off.
- Tables above 80% or with a short *days to limit*: plan the move before the next month end.
- Flows that cost more than 5 actions per record: rerun with `actions_per_record=` set to the
  real number; the limit per day falls with it."""),
]

NOTEBOOKS["05_sync_health.ipynb"] = header(
    "05 · Sync health",
    """Is the sync running as it should? How often each table syncs, the outages between syncs,
how fresh each table is now, and the hours whose latency or volume is unusual for that hour of
the day. Everything here reads the Delta log and the changes; nothing depends on the link's own
monitoring.""",
) + [
    md("""## Cadence

The time between consecutive sync commits (commits that landed rows; maintenance is left out).
The median is the link's interval for that table; a long tail (p95, longest) is waiting.
Quiet tables only commit when they have changes, so nights and weekends stretch their tail."""),
    code("""cadence = kit.sync_cadence(lake)
readings.cadence_table(cadence)"""),
    code("charts.cadence(cadence)"),
    md("""## Gaps and outages

A gap is an interval between syncs longer than three times the table's usual one. The link
commits only when it has rows to land, so quiet nights and weekends are gaps too; the ones that
matter are the gaps that kept changes waiting: the outages, listed here (`outages_only=True`).
Outages that several tables share are an outage of the link (shaded); one in a single table
alone is that table's problem (its entity settings, or an error in its conversion)."""),
    code("""gaps = kit.sync_gaps(lake, outages_only=True)
readings.gaps_table(gaps)"""),
    code("""window = lake.observed_window()
charts.gaps(gaps, tables=lake.dataverse_tables(), start=window[0], end=window[1],
            incidents=readings.outages(gaps))"""),
    md("## Freshness now"),
    code("""fresh = kit.freshness(lake)
readings.read_health(cadence, gaps, fresh, readings.producer(lake.tables()))"""),
    code("charts.freshness(fresh)"),
    md("""## Anomalies

Each hour of each table is scored against the same hour on other days (median and median
absolute deviation, with known gaps left out of the baseline, so one incident cannot hide the
next). Grey is the usual level, red above it, blue below, blank an hour without changes;
triangles mark the flagged hours; a dotted frame marks an outage.

**Latency**: hours whose changes waited unusually long: a slow or degraded link. A baseline needs
the same hour on at least three other days; where the change feed keeps only a day or two and no
store collected it, the exact hours alone cannot give one, so here the estimated hours (from the
snapshot: latencies at most) are included, and every such row says so (`exact` false)."""),
    code("""latency_anomalies = kit.anomalies(lake, metric="latency", include_estimates=True)
readings.read_anomalies(latency_anomalies)"""),
    code("""charts.anomalies_overview(latency_anomalies, incidents=readings.outages(gaps),
                          tables=lake.dataverse_tables())"""),
    code("readings.anomalies_table(latency_anomalies)"),
    code("charts.anomaly_detail(latency_anomalies, readings.most_flagged(latency_anomalies))"),
    md("""**Volume**: hours with unusually many or few changes. Spikes are bulk jobs or imports
worth knowing about before they hit a flow; drops outside gaps are syncs that ran but carried
less than usual."""),
    code("""volume_anomalies = kit.anomalies(lake, metric="volume")
readings.read_anomalies(volume_anomalies)"""),
    code("""charts.anomalies_overview(volume_anomalies, incidents=readings.outages(gaps),
                          tables=lake.dataverse_tables())"""),
    md("""## What to do

- An outage shared by all tables: check the Spark pool (Synapse) or the Fabric capacity, and the
  link's status page, for that window; consumers that ran during it read stale data.
- A stale table now: the link may have dropped it (entity errors in the maker portal).
- Latency spikes without a gap: the link ran but slowly (degraded); if they recur at the same
  hours, the conversion job is short of capacity then."""),
]


def build(name: str, cells: list[tuple]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }
    slug = name.split("_")[0]
    for i, cell in enumerate(cells):
        if cell[0] == "md":
            c = nbformat.v4.new_markdown_cell(cell[1])
        else:
            c = nbformat.v4.new_code_cell(cell[1])
            if cell[2]:
                c.metadata["tags"] = list(cell[2])
        c.id = f"nb{slug}-{i:02d}"
        nb.cells.append(c)
    return nb


def execute(nb: nbformat.NotebookNode) -> float:
    env_lake = os.environ.pop("KIT_LAKE", None)  # the stored outputs are the sample lake's
    env_store = os.environ.pop("KIT_STORE", None)
    if os.environ.get("KIT_LAKE_TRIAL"):
        os.environ["KIT_LAKE"] = os.environ["KIT_LAKE_TRIAL"]
    try:
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": HERE}},
                                record_timing=False)
        started = time.perf_counter()
        client.execute()
        return time.perf_counter() - started
    finally:
        os.environ.pop("KIT_LAKE", None)
        if env_lake is not None:
            os.environ["KIT_LAKE"] = env_lake
        if env_store is not None:
            os.environ["KIT_STORE"] = env_store


def add_images(nb: nbformat.NotebookNode) -> int:
    """Store a PNG beside each plotly figure of the executed notebook (see the module
    docstring); returns how many. Needs kaleido and Chromium: fails with what to install."""
    import plotly.graph_objects as go
    import plotly.io as pio

    try:
        import kaleido
        from PIL import Image

        kaleido.start_sync_server(silence_warnings=True)
    except Exception as exc:  # kaleido or Pillow missing, or no Chrome/Chromium for kaleido to drive
        raise SystemExit(
            f"cannot draw the figures' static images ({type(exc).__name__}: {exc}). Install kaleido and Pillow "
            "(pip install -r requirements.txt) and Chromium (apt-get install chromium), or pass --no-images "
            "(nbconvert's HTML and GitHub then show no charts)."
        ) from None
    n = 0
    try:
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if PLOTLY_MIME not in data:
                    continue
                fig = go.Figure(data[PLOTLY_MIME])
                height = int(fig.layout.height or 450)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # kaleido: "kopts ... ignored if using a server"
                    png = pio.to_image(fig, format="png", width=IMAGE_WIDTH, height=height, scale=1, validate=False)
                # 256 colours, no dithering: a third of the size, the same look for flat charts
                image = Image.open(io.BytesIO(png)).convert("RGB")
                small = io.BytesIO()
                image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
                    small, "PNG", optimize=True)
                data["image/png"] = base64.b64encode(small.getvalue()).decode("ascii")
                n += 1
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
    return n


def main(argv: list[str]) -> int:
    run = "--no-execute" not in argv
    images = run and "--no-images" not in argv
    if "--lake" in argv:  # a trial run on another lake (its outputs are not the ones to commit)
        i = argv.index("--lake")
        os.environ["KIT_LAKE_TRIAL"] = os.path.abspath(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    wanted = [a for a in argv if not a.startswith("--")]
    for name, cells in NOTEBOOKS.items():
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        nb = build(name, cells)
        if run:
            seconds = execute(nb)
            print(f"{name}: executed in {seconds:.1f} s")
        if images:
            started = time.perf_counter()
            count = add_images(nb)
            print(f"{name}: {count} figure images in {time.perf_counter() - started:.1f} s")
        nbformat.validate(nb)
        path = os.path.join(HERE, name)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            nbformat.write(nb, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
