"""The HTML report (kit.report) and the readings it is built from (kit.readings).

The report is written for a tiny lake built here (two Dataverse tables synced every two hours for
four days with a shared outage and a re-landing, and a table without Dataverse columns), so the
test stays fast; the sample lake's report is checked by hand (docs/report.png).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
import pytest
from plotly.io.json import to_json_plotly
from plotly.offline import get_plotlyjs

import kit
from kit import report
from kit.present import readings
from kit.cli import run
from lakebuilder import SyncTable, plain_table, record, t

SECTION_TITLES = ["1. Lake inventory", "2. Sync latency", "3. Change volumes", "4. Throughput and thresholds", "5. Sync health"]
CHART_TITLES = [
    "Rows per table: live and soft-deleted",
    "Size on disk per table (current snapshot)",
    "Commit history: one mark per commit",
    "Sync latency per table: p50 to p99",
    "How soon changes land",
    "p95 latency per table over time",
    "latency percentiles per period",
    "Naive SinkModifiedOn latency vs first landing",
    "Rows landed again: naive vs first-landing latency",
    "Changes per table: creates, updates, deletes",
    "When changes happen (all tables)",
    "Changes per day and table",
    "Daily changes against the 50,000 events/day limit",
    "Peak day as a share of the daily limit",
    "Busiest 5 minutes per table",
    "Busiest hour per table",
    "Sync cadence: time between sync commits",
    "Sync gaps: intervals longer than 3x the usual cadence",
    "Freshness: time since the last landed change",
    "Anomalies in hourly latency",
    "Anomalies in hourly volume",
]
TABLE_CAPTIONS = ["Tables", "Latency per table, worst p95 first", "Changes per table", "Recommended pattern per table",
                  "Throughput per table", "Published limits checked", "Sync gaps, longest first", "Freshness"]


def build_lake(root) -> str:
    """account and contact: a sync every 2 hours from Mon 5 Jan 2026 00:00 to Thu 8 Jan 22:00,
    none from Tue 6 Jan 10:00 to 16:00 (an outage of both: the 18:00 sync lands the backlog);
    each interval has 2 changes modified 20 and 50 minutes before its sync (account: 3 on
    Wednesday). account lands the 08:00 rows of Wednesday again at 10:00."""
    for name in ("account", "contact"):
        table = SyncTable(root / name)
        table.initial([record(f"{name}-0", 1, t(4, 12), t(4, 12))], t(5, 0))
        n = 0
        at = t(5, 2)
        backlog = []
        while at <= t(8, 22):
            k = 3 if (name == "account" and at.day == 7) else 2
            rows = []
            for j in range(k):
                n += 1
                mod = at - timedelta(minutes=20 + 30 * (j % 2))
                rows.append(record(f"{name}-{n}", 1, mod, mod, IsDelete=(n % 7 == 0)))
            if t(6, 10) <= at <= t(6, 16):  # the outage: the changes wait for the next sync
                backlog += rows
            else:
                table.sync(backlog + rows, at)
                backlog = []
                if name == "account" and at == t(7, 8):
                    relanded = rows
                if name == "account" and at == t(7, 10):
                    table.sync(rows + relanded, at)  # lands the 08:00 rows again (same versions)
            at += timedelta(hours=2)
    plain_table(root / "notes", t(5, 1))
    return str(root)


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    return build_lake(tmp_path_factory.mktemp("report_lake"))


@pytest.fixture(scope="module")
def written(lake_dir, tmp_path_factory):
    """The report written by ``write_report``, and again by the command line (the same lake
    opened afresh: the two files must be equal)."""
    out = tmp_path_factory.mktemp("report_out")
    first = report.write_report(kit.open_lake(lake_dir), out / "report.html")
    second = out / "sub" / "cli.html"
    assert run(["report", lake_dir, "-o", str(second)]) == 0
    return out, first, str(second)


def test_one_self_contained_file(written):
    out, first, _ = written
    assert first == str(out / "report.html")
    text = open(first, encoding="utf-8").read()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    js = get_plotlyjs()
    assert text.count(js) == 1  # plotly.js inlined once
    rest = text.replace(js, "")
    assert "cdn.plot.ly" not in rest
    assert not re.search(r"<script[^>]+src=", rest)  # no external script
    assert not re.search(r"<link[^>]+href=[\"']https?:", rest)  # no external stylesheet


def test_every_section_chart_and_table(written):
    text = open(written[1], encoding="utf-8").read()
    for title in SECTION_TITLES + TABLE_CAPTIONS:
        assert title in text, title
    for title in CHART_TITLES:  # inside the figures' JSON, as plotly escapes it ("/" -> "\u002f")
        assert to_json_plotly(title)[1:-1] in text, title
    ids = re.findall(r'<div id="(chart-[a-z]+-\d+)" class="plotly-graph-div"', text)
    assert len(ids) == len(set(ids)) >= len(CHART_TITLES)
    assert text.count("Plotly.newPlot(") == len(ids)
    assert f"{len(ids)} charts" in text


def test_same_lake_same_file(written):
    _, first, second = written
    assert open(first, encoding="utf-8").read() == open(second, encoding="utf-8").read()


def test_readings_are_in_the_report(written, lake_dir):
    text = open(written[1], encoding="utf-8").read()
    assert "The lake holds 3 tables (2 Dataverse, 1 other)" in text
    assert "as of 2026-01-08 22:00 UTC" in text
    # the shared outage: 10:00 and 16:00 syncs skipped, so no sync from 08:00 to 18:00
    assert "no sync for 10.0 h, from 2026-01-06 08:00 UTC to 2026-01-06 18:00 UTC" in text
    assert "2 tables stopped at the same time" in text
    # the table without Dataverse columns is named in the notes, not silently dropped
    assert re.search(r"Skipped tables without the Dataverse columns[^<]*notes", text)


def test_cli_writes_the_report(written):
    _, _, path = written
    assert "Dataverse lake report" in open(path, encoding="utf-8").read()


def test_location_never_shows_credentials():
    class Stub:
        location = "abfss://c@acct.dfs.core.windows.net/lake?sv=2024&sig=SECRET"
        storage = None

    from kit.storage import Storage

    stub = Stub()
    stub.storage = Storage(stub.location, {"azure_storage_account_key": "KEY"})
    shown = report.display_location(stub)
    assert "SECRET" not in shown and "KEY" not in shown
    assert shown.startswith("abfss://c@acct.dfs.core.windows.net/lake")
    assert "SECRET" not in readings.lake_name(stub.location)


def test_lake_without_dataverse_tables_still_gives_a_report(tmp_path):
    plain_table(tmp_path / "lake" / "notes", t(5, 1))
    path = report.write_report(kit.open_lake(str(tmp_path / "lake")), tmp_path / "r.html")
    text = open(path, encoding="utf-8").read()
    # one plain sentence instead of a section of empty charts per analysis
    assert "No Dataverse table in this lake" in text
    assert SECTION_TITLES[0] in text
    for title in SECTION_TITLES[1:]:
        assert title not in text
    assert text.count("no data") == 0


# -- readings ----------------------------------------------------------------------------------
def test_formats():
    assert readings.fmt_int(1234567.4) == "1,234,567"
    assert readings.fmt_int(None) == ""
    assert readings.fmt_pct(0.1234) == "12.3%"
    assert readings.fmt_pct(1.2234) == "122%"
    assert readings.fmt_duration(42) == "42 s"
    assert readings.fmt_duration(750) == "12.5 min"
    assert readings.fmt_duration(3 * 3600) == "3.0 h"
    assert readings.fmt_duration(3 * 86400) == "3.0 days"
    assert readings.fmt_time(pd.Timestamp("2026-10-30 14:05:59", tz="UTC")) == "2026-10-30 14:05 UTC"
    assert readings.fmt_days(None) == "not growing" and readings.fmt_days(0) == "already over"


def test_reading_displays_as_markdown():
    r = readings.read_volume(pd.DataFrame(columns=["table", "period", "creates", "updates", "deletes", "total"]))
    assert isinstance(r, str) and r._repr_markdown_() == str(r)


def throughput_frame(peaks, patterns, days_to_limit=None):
    n = len(peaks)
    return pd.DataFrame({
        "table": [f"t{i}" for i in range(n)],
        "peak_day": [pd.Timestamp("2026-10-30", tz="UTC")] * n,
        "peak_day_events": peaks,
        "peak_hour_events": [p / 10 for p in peaks],
        "peak_5min_events": [p / 100 for p in peaks],
        "limit_per_day": 50_000.0,
        "utilisation": [p / 50_000 for p in peaks],
        "headroom": [1 - p / 50_000 for p in peaks],
        "days_to_limit": days_to_limit or [None] * n,
        "mean_per_day": peaks, "p95_per_day": peaks,
        "pattern": patterns,
        "verdict": ["over_daily_limit" if p > 50_000 else "within_limits" for p in peaks],
    })


def test_read_throughput_names_the_table_over_the_limit():
    tp = throughput_frame([61_234, 20_000], ["Service Bus + Azure Functions", "Power Automate"], [0.0, 12.3])
    text = readings.read_throughput(tp)
    assert "t0 peaked at 61,234 events on Fri 2026-10-30, 122% of the 50,000 events/day limit" in text
    assert "Closest under the limit: t1 at 40.0%" in text and "about 12 days" in text
    table = readings.throughput_table(tp)
    assert list(table.index) == ["t0", "t1"]  # the table names as the index, not 0, 1
    assert list(table["% of daily limit"]) == ["122%", "40.0%"]
    assert list(readings.table_rows(table).columns[:2]) == ["table", "p95 / day"]
    assert list(table["days to limit"]) == ["already over", "12 days"]


def test_read_throughput_all_under():
    text = readings.read_throughput(throughput_frame([100], ["Power Automate"]))
    assert text.startswith("Every table stays under 50,000 events a day")


def test_read_month_end_compares_the_last_days():
    days = pd.date_range("2026-09-10", "2026-09-30", freq="D", tz="UTC")
    vol = pd.DataFrame({"table": "orders", "period": days, "creates": 0, "deletes": 0,
                        "updates": [100 if d.day >= 28 else 10 for d in days]})
    vol["total"] = vol["updates"]
    text = readings.read_month_end(vol)
    assert "averaged 100 changes a day, 10.0x the 10 of the other days" in text
    assert "sharpest in orders (10.0x" in text
    early = vol[vol["period"].dt.day < 20]
    assert "include no month end" in readings.read_month_end(early)


def test_in_window_drops_periods_before_the_start():
    df = pd.DataFrame({"period": pd.to_datetime(["2026-01-04", "2026-01-05", "2026-01-06"], utc=True), "x": [1, 2, 3]})
    window = (pd.Timestamp("2026-01-04 23:40", tz="UTC"), pd.Timestamp("2026-01-06 12:00", tz="UTC"))
    assert list(readings.in_window(df, window)["x"]) == [2, 3]
    assert readings.in_window(df, None) is df


def test_outages_merge_overlapping_gaps_of_several_tables():
    ts = lambda h: pd.Timestamp("2026-01-06", tz="UTC") + pd.Timedelta(hours=h)  # noqa: E731
    gaps = pd.DataFrame({"table": ["a", "b", "c"], "start": [ts(8), ts(9), ts(20)], "end": [ts(18), ts(17), ts(23)],
                         "seconds": [36000.0, 28800.0, 10800.0]})
    assert readings.outages(gaps) == [("outage", ts(8), ts(18))]  # c's gap alone is not an outage


def test_read_anomalies_says_when_nothing_could_be_scored():
    df = pd.DataFrame({"table": "a", "hour": pd.date_range("2026-01-05", periods=5, freq="h", tz="UTC"),
                       "metric": "volume", "value": 1.0, "baseline": float("nan"), "score": float("nan"), "flag": None,
                       "in_incident": False})
    assert readings.read_anomalies(df).startswith("No hour of volume could be scored")
    scored = df.assign(score=0.5, baseline=1.0)
    assert readings.read_anomalies(scored).startswith("No unusual hour: all 5 scored table-hours")


def test_show_warnings_as_notes_prints_each_message_once(capsys):
    import warnings

    saved = warnings.showwarning
    try:
        readings.show_warnings_as_notes()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = warnings.showwarning  # keep ours inside the context
            for _ in range(2):
                warnings.warn("Skipped tables without the Dataverse columns: x", stacklevel=1)
    finally:
        warnings.showwarning = saved
    assert capsys.readouterr().out == "note: Skipped tables without the Dataverse columns: x\n"


def test_sharing_changes_gives_the_same_numbers_and_leaves_nothing_behind(lake_dir):
    """Inside ``lake.sharing_changes()`` each table's changes are computed once into a temporary
    table; the analyses give the same frames as without, and the tables are dropped after."""
    lake = kit.open_lake(lake_dir)
    plain = kit.sync_latency(lake, by="day"), kit.change_volume(lake, by="hour")
    with lake.sharing_changes():
        shared = kit.sync_latency(lake, by="day"), kit.change_volume(lake, by="hour")
        kept = dict(lake._changes_tables)
        assert kept  # computed once, kept for the block
    assert all(a.equals(b) for a, b in zip(plain, shared))
    assert not lake._changes_tables
    names = {r[0] for r in lake.connection.sql("select table_name from duckdb_tables() where temporary").fetchall()}
    assert not names & set(kept.values())
