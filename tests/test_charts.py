"""kit.charts on hand-built DataFrames: titles, axis titles with units, traces, reference lines,
and that the plotted numbers are the input's."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from kit.present import charts

UTC = "UTC"
TABLES = [f"table{i:02d}" for i in range(10)]  # ten tables: labels must not collide


def day(d, h=0):
    return pd.Timestamp(2026, 1, d, h, tz=UTC)


def titles(fig):
    return fig.layout.title.text, fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


def shape_values(fig, axis):
    return sorted({round(float(getattr(s, axis + "0")), 6) for s in fig.layout.shapes if s.type == "line"})


def annotation_texts(fig):
    return [a.text for a in fig.layout.annotations]


def latency_frame():
    return pd.DataFrame({
        "table": TABLES,
        "changes": [100 * (i + 1) for i in range(10)],
        "p50_s": [60.0 * (i + 1) for i in range(10)],
        "p90_s": [120.0 * (i + 1) for i in range(10)],
        "p95_s": [180.0 * (i + 1) for i in range(10)],
        "p99_s": [600.0 * (i + 1) for i in range(10)],
        "max_s": [900.0 * (i + 1) for i in range(10)],
        "within_15m": [0.9 - 0.05 * i for i in range(10)],
        "within_60m": [1.0 - 0.01 * i for i in range(10)],
        "method": "change_feed",
        "excluded": 0,
    })


# -- the "no data" rule: every chart takes an empty frame --------------------------------------
EMPTY_CALLS = [
    lambda: charts.table_rows(pd.DataFrame(columns=["table", "rows", "live_rows", "deleted_rows"])),
    lambda: charts.table_storage(pd.DataFrame(columns=["table", "bytes", "files"])),
    lambda: charts.commit_timeline(pd.DataFrame(columns=["table", "version", "committed_at", "operation"])),
    lambda: charts.latency_percentiles(pd.DataFrame(columns=["table", "changes", "p50_s", "p95_s"])),
    lambda: charts.latency_within(pd.DataFrame(columns=["table", "within_15m", "within_60m"])),
    lambda: charts.latency_over_time(pd.DataFrame(columns=["table", "period", "p95_s"])),
    lambda: charts.latency_over_time(pd.DataFrame(columns=["table", "period", "p95_s"]), table="x"),
    lambda: charts.naive_vs_first_landing(pd.DataFrame(columns=["table", "relanded_naive_p50_s", "relanded_first_p50_s"])),
    lambda: charts.naive_scatter(pd.DataFrame(columns=["table", "first_s", "naive_s"])),
    lambda: charts.volume_by_kind(pd.DataFrame(columns=["table", "period", "creates", "updates", "deletes", "total"])),
    lambda: charts.volume_over_time(pd.DataFrame(columns=["table", "period", "total"])),
    lambda: charts.hour_of_week(pd.DataFrame(columns=["table", "period", "total"])),
    lambda: charts.daily_vs_limit(pd.DataFrame(columns=["table", "period", "total"])),
    lambda: charts.utilisation(pd.DataFrame(columns=["table", "utilisation", "pattern"])),
    lambda: charts.bursts(pd.DataFrame(columns=["table", "peak_5min_events"])),
    lambda: charts.cadence(pd.DataFrame(columns=["table", "commits", "median_interval_s"])),
    lambda: charts.gaps(pd.DataFrame(columns=["table", "start", "end", "seconds"])),
    lambda: charts.freshness(pd.DataFrame(columns=["table", "staleness_s", "cadence_s", "stale"])),
    lambda: charts.anomalies_overview(pd.DataFrame(columns=["table", "hour", "metric", "value", "baseline", "score", "flag"])),
    lambda: charts.anomaly_detail(pd.DataFrame(columns=["table", "hour", "metric", "value", "baseline", "flag"]), "x"),
]


@pytest.mark.parametrize("call", EMPTY_CALLS)
def test_empty_input_gives_a_no_data_figure(call):
    fig = call()
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert len(fig.data) == 0
    assert any("no data" in t or "agree" in t for t in annotation_texts(fig))


def test_none_input_gives_a_no_data_figure():
    assert "no data" in annotation_texts(charts.latency_percentiles(None))[0]


# -- palette ---------------------------------------------------------------------------------------
def test_table_colors_are_stable_and_distinct_for_ten_tables():
    colors = charts.table_colors(reversed(TABLES))
    assert list(colors) == TABLES
    assert len(set(colors.values())) == 10
    assert charts.table_colors(TABLES) == colors


# -- 01 --------------------------------------------------------------------------------------------
def test_table_rows_stacks_live_and_deleted_and_keeps_numbers():
    df = pd.DataFrame({
        "table": ["account", "contact", "optionsetmetadata"],
        "rows": pd.array([120, 50, 7], dtype="Int64"),
        "live_rows": pd.array([100, 50, None], dtype="Int64"),
        "deleted_rows": pd.array([20, 0, None], dtype="Int64"),
    })
    fig = charts.table_rows(df)
    title, x, _ = titles(fig)
    assert "Rows per table" in title and x == "rows"
    assert [t.name for t in fig.data] == ["live rows", "soft-deleted rows (IsDelete)",
                                          "other rows (older versions, non-Dataverse tables)", "total"]
    assert list(fig.data[3].text) == [" 7", " 50", " 120"]  # totals printed beside the bars
    # sorted ascending: plotly draws the first category at the bottom, so the biggest is on top
    assert list(fig.data[0].y) == ["optionsetmetadata", "contact", "account"]
    assert list(fig.data[0].x) == [0, 50, 100]
    assert list(fig.data[1].x) == [0, 0, 20]
    assert list(fig.data[2].x) == [7, 0, 0]
    assert fig.layout.barmode == "stack"


def test_table_storage_in_megabytes():
    df = pd.DataFrame({"table": ["a", "b"], "bytes": pd.array([2_000_000, 500_000], dtype="Int64"),
                       "files": pd.array([3, 1], dtype="Int64")})
    fig = charts.table_storage(df)
    assert "(MB)" in fig.layout.xaxis.title.text
    assert list(fig.data[0].y) == ["b", "a"]
    assert list(fig.data[0].x) == [0.5, 2.0]


def test_commit_timeline_one_trace_per_operation():
    df = pd.DataFrame({
        "table": ["a", "a", "b", "b"],
        "version": [0, 1, 0, 1],
        "committed_at": [day(1), day(2), day(1), day(3)],
        "operation": ["WRITE", "MERGE", "MERGE", "OPTIMIZE"],
        "rows_inserted": [5, 1, 2, None],
        "rows_updated": [0, 3, 0, None],
    })
    fig = charts.commit_timeline(df)
    assert [t.name for t in fig.data] == ["merge", "optimize", "write"]
    assert list(fig.data[0].y) == ["a", "b"]
    assert "UTC" in fig.layout.xaxis.title.text
    assert list(fig.layout.yaxis.categoryarray) == ["b", "a"]


def test_commit_timeline_commits_without_an_operation():
    """Other Delta writers may leave commitInfo.operation out: those commits show as unknown."""
    df = pd.DataFrame({
        "table": ["a", "a", "b"],
        "version": [0, 1, 0],
        "committed_at": [day(1), day(2), day(1)],
        "operation": ["WRITE", None, np.nan],
        "rows_inserted": [5, None, None],
        "rows_updated": [0, None, None],
    })
    fig = charts.commit_timeline(df)
    assert [t.name for t in fig.data] == ["unknown", "write"]
    assert list(fig.data[0].y) == ["a", "b"]


# -- 02 --------------------------------------------------------------------------------------------
def test_latency_percentiles_minutes_and_targets():
    fig = charts.latency_percentiles(latency_frame())
    title, x, _ = titles(fig)
    assert "latency" in title.lower()
    assert x == "latency (minutes, log scale)"
    assert fig.layout.xaxis.type == "log"
    names = [t.name for t in fig.data]
    assert names == ["range", "p50", "p90", "p95", "p99"]
    p95 = fig.data[3]
    # worst p95 on top = last category
    assert p95.y[-1] == "table09" and p95.y[0] == "table00"
    np.testing.assert_allclose(p95.x, [3.0 * (i + 1) for i in range(10)])
    assert shape_values(fig, "x") == [15, 30, 60]
    assert {"15 min", "30 min", "60 min"} <= set(annotation_texts(fig))
    assert fig.layout.height >= 30 * 10  # room for ten labels


def test_reference_labels_sit_on_their_lines_on_log_axes():
    # plotly places annotations on a log axis by log10 of the value, shapes by the value
    fig = charts.latency_percentiles(latency_frame())
    labels = {a.text: a.x for a in fig.layout.annotations}
    assert labels["15 min"] == pytest.approx(np.log10(15))
    assert labels["60 min"] == pytest.approx(np.log10(60))
    over = charts.latency_over_time(pd.DataFrame({"table": ["a"], "period": [day(5)], "p95_s": [600.0]}))
    assert {a.text: a.y for a in over.layout.annotations}["30 min"] == pytest.approx(np.log10(30))
    # the targets stay in view even when every latency is above them
    lo = over.layout.yaxis.range[0]
    assert 10 ** lo < 15


def test_latency_percentiles_zero_latency_sits_on_the_axis_floor():
    df = latency_frame().head(1).assign(p50_s=0.0)
    fig = charts.latency_percentiles(df)
    assert fig.data[1].x[0] == pytest.approx(0.1)
    assert fig.data[1].customdata[0][0] == 0.0  # hover shows the true value


def test_latency_within_shares_add_up_to_100():
    fig = charts.latency_within(latency_frame())
    assert fig.layout.xaxis.title.text == "share of changes (%)"
    assert [t.name for t in fig.data] == ["within 15 min", "15 to 60 min", "over 60 min"]
    total = np.array(fig.data[0].x) + np.array(fig.data[1].x) + np.array(fig.data[2].x)
    np.testing.assert_allclose(total, 100)
    i = list(fig.data[0].y).index("table00")
    assert fig.data[0].x[i] == pytest.approx(90)
    assert fig.data[1].x[i] == pytest.approx(10)


def test_latency_over_time_all_tables_and_one_table():
    rows = []
    for t in TABLES:
        for d in (5, 6, 7):
            rows.append({"table": t, "period": day(d), "p50_s": 60.0 * d, "p90_s": 90.0 * d,
                         "p95_s": 120.0 * d, "p99_s": 300.0 * d})
    df = pd.DataFrame(rows)
    fig = charts.latency_over_time(df)
    assert len(fig.data) == 10
    assert fig.layout.yaxis.type == "log"
    assert "minutes" in fig.layout.yaxis.title.text and "UTC" in fig.layout.xaxis.title.text
    np.testing.assert_allclose(fig.data[0].y, [10, 12, 14])
    assert shape_values(fig, "y") == [15, 30, 60]
    # one colour per table
    assert len({t.line.color for t in fig.data}) == 10
    one = charts.latency_over_time(df, table="table03")
    assert [t.name for t in one.data] == ["p50", "p90", "p95", "p99"]
    np.testing.assert_allclose(one.data[3].y, [25, 30, 35])
    assert "table03" in one.layout.title.text


def naive_frame():
    return pd.DataFrame({"table": ["a", "b"], "changes": [10, 20], "relanded": [2, 0],
                         "naive_p50_s": [700.0, 300.0], "first_p50_s": [600.0, 300.0],
                         "naive_p95_s": [3600.0, 600.0], "first_p95_s": [600.0, 300.0],
                         "naive_p99_s": [36000.0, 600.0], "first_p99_s": [3600.0, 300.0],
                         "relanded_naive_p50_s": [7200.0, None], "relanded_first_p50_s": [600.0, None]})


def test_naive_vs_first_landing_grouped_bars():
    fig = charts.naive_vs_first_landing(naive_frame(), "p95")
    assert fig.layout.barmode == "group"
    assert fig.layout.xaxis.title.text == "latency (minutes)"
    assert "p95" in fig.layout.title.subtitle.text
    assert list(fig.data[0].y) == ["b", "a"]
    np.testing.assert_allclose(fig.data[0].x, [5, 10])
    np.testing.assert_allclose(fig.data[1].x, [10, 60])


def test_naive_vs_first_landing_relanded_rows_only_and_hours():
    fig = charts.naive_vs_first_landing(naive_frame())  # medians over the rows landed again
    assert "landed again" in fig.layout.title.subtitle.text
    assert list(fig.data[0].y) == ["a"]  # b has none
    np.testing.assert_allclose(fig.data[1].x, [120])
    p99 = charts.naive_vs_first_landing(naive_frame(), "p99")
    assert p99.layout.xaxis.title.text == "latency (hours)"
    np.testing.assert_allclose(p99.data[1].x, [10 / 60, 10])


def test_naive_scatter_points_and_diagonal():
    rows = pd.DataFrame({"table": ["a", "a", "b"], "first_s": [60.0, 600.0, 1200.0], "naive_s": [3600.0, 4200.0, 7200.0]})
    fig = charts.naive_scatter(rows)
    assert [t.name for t in fig.data] == ["a", "b", "naive = first landing"]
    np.testing.assert_allclose(fig.data[0].x, [1, 10])
    np.testing.assert_allclose(fig.data[0].y, [60, 70])
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert "minutes" in fig.layout.xaxis.title.text and "minutes" in fig.layout.yaxis.title.text
    diag = fig.data[2]
    assert list(diag.x) == list(diag.y)


# -- 03 --------------------------------------------------------------------------------------------
def volume_frame(days=range(1, 32), tables=TABLES):
    rows = []
    for i, t in enumerate(tables):
        for d in days:
            rows.append({"table": t, "period": day(d), "creates": i, "updates": 2 * i + d, "deletes": 1,
                         "total": i + 2 * i + d + 1})
    return pd.DataFrame(rows)


def test_volume_by_kind_sums_per_table():
    df = volume_frame(days=[1, 2])
    fig = charts.volume_by_kind(df)
    assert [t.name for t in fig.data] == ["creates", "updates", "deletes"]
    assert fig.data[0].y[-1] == "table09"  # busiest on top
    i = list(fig.data[1].y).index("table02")
    assert fig.data[1].x[i] == (4 + 1) + (4 + 2)
    assert fig.layout.xaxis.title.text == "changes (whole period)"
    top = charts.volume_by_kind(df, top=3)
    assert list(top.data[0].y) == ["table07", "table08", "table09"]


def test_volume_over_time_lines_month_end_and_limit():
    df = volume_frame()
    fig = charts.volume_over_time(df, limit_per_day=50_000)
    assert len(fig.data) == 10
    assert fig.layout.yaxis.title.text == "changes per day"
    assert fig.data[0].name == "table09"  # legend: busiest first
    np.testing.assert_allclose(fig.data[-1].y, df[df.table == "table00"]["total"])
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 1 and pd.Timestamp(rects[0].x0) == day(29)
    assert shape_values(fig, "y") == [50_000]
    assert any("50,000 events/day" in t for t in annotation_texts(fig))


def test_daily_vs_limit_draws_the_limit():
    fig = charts.daily_vs_limit(volume_frame(days=[1, 2, 3]), limit_per_day=40_000)
    assert "40,000" in fig.layout.title.text
    assert shape_values(fig, "y") == [40_000]


def test_daily_vs_limit_draws_commit_metric_tables_dotted_and_says_why():
    df = volume_frame(days=[1, 2, 3])
    tables = sorted(df["table"].unique())
    df["basis"] = np.where(df["table"] == tables[0], "commit_metrics", "changes")
    fig = charts.daily_vs_limit(df, limit_per_day=40_000)
    dash = {trace.name: trace.line.dash for trace in fig.data}
    assert dash[tables[0]] == "dot"
    assert all(dash[name] is None for name in tables[1:])
    assert "commit log" in fig.layout.title.subtitle.text


def test_hour_of_week_heatmap_averages_over_weeks_with_zero_hours():
    # Monday 2026-01-05 09:00 has 10 changes in week 1 and 30 in week 2; nothing else.
    df = pd.DataFrame({"table": ["a", "a"], "period": [day(5, 9), day(12, 9)], "total": [10, 30],
                       "creates": 0, "updates": [10, 30], "deletes": 0})
    fig = charts.hour_of_week(df)
    z = np.array(fig.data[0].z)
    assert z.shape == (7, 24)
    assert list(fig.data[0].y)[0] == "Mon"
    assert z[0, 9] == pytest.approx(20)
    assert z.sum() == pytest.approx(20)
    assert fig.layout.xaxis.title.text == "hour of day (UTC)"


# -- 04 --------------------------------------------------------------------------------------------
def throughput_frame():
    util = [0.1 * (i + 1) + (0.4 if i == 9 else 0) for i in range(10)]
    return pd.DataFrame({
        "table": TABLES,
        "peak_day_events": [u * 50_000 for u in util],
        "peak_hour_events": [1000 * (i + 1) for i in range(10)],
        "peak_5min_events": [200 * (i + 1) for i in range(10)],
        "limit_per_day": 50_000.0,
        "utilisation": util,
        "pattern": ["Power Automate"] * 9 + ["Service Bus + Azure Functions"],
    })


def test_utilisation_percent_and_limit_line():
    fig = charts.utilisation(throughput_frame())
    assert fig.layout.xaxis.title.text == "peak day / daily limit (%)"
    assert [t.name for t in fig.data] == ["recommended: Power Automate", "recommended: Service Bus + Azure Functions"]
    assert shape_values(fig, "x") == [100]
    np.testing.assert_allclose(fig.data[1].x, [140])
    assert fig.data[1].text[0] == "140%"
    assert fig.layout.xaxis.range[1] >= 140


def test_bursts_with_ceilings():
    fig = charts.bursts(throughput_frame(), "5min", limits=[("Dataverse: 6,000 per 5 min", 6000.0)])
    assert fig.layout.xaxis.title.text == "events in the busiest 5 minutes"
    np.testing.assert_allclose(sorted(fig.data[0].x), [200 * (i + 1) for i in range(10)])
    assert shape_values(fig, "x") == [6000]
    hour = charts.bursts(throughput_frame(), "hour")
    assert hour.layout.xaxis.title.text == "events in the busiest hour"
    assert max(hour.data[0].x) == 10_000


# -- 05 --------------------------------------------------------------------------------------------
def test_cadence_minutes():
    df = pd.DataFrame({"table": ["a", "b"], "commits": [10, 20], "median_interval_s": [900.0, 3600.0],
                       "p95_interval_s": [1200.0, 3700.0], "max_interval_s": [7200.0, 3800.0]})
    fig = charts.cadence(df)
    assert "minutes" in fig.layout.xaxis.title.text
    assert [t.name for t in fig.data] == ["median", "p95", "longest"]
    np.testing.assert_allclose(fig.data[0].x, [60, 15])  # longest median first = bottom row
    assert list(fig.data[0].y) == ["b", "a"]


def test_gaps_timeline_bars_and_tables_without_gaps():
    df = pd.DataFrame({"table": ["a"], "start": [day(3, 1)], "end": [day(3, 7)], "seconds": [6 * 3600.0]})
    fig = charts.gaps(df, tables=["a", "b"], incidents=[("outage", day(3, 1), day(3, 7))])
    assert fig.data[0].x[0] == 6 * 3600 * 1000  # milliseconds on a date axis
    np.testing.assert_allclose(fig.data[0].customdata, [6.0])
    assert list(fig.layout.yaxis.categoryarray) == ["b", "a"]
    assert "UTC" in fig.layout.xaxis.title.text
    assert "outage" in annotation_texts(fig)
    none = charts.gaps(df.iloc[0:0], tables=["a"])
    assert any("no gaps" in t for t in annotation_texts(none))


def test_freshness_units_and_stale_colours():
    df = pd.DataFrame({"table": ["a", "b"], "staleness_s": [1800.0, 36000.0], "cadence_s": [900.0, 3600.0],
                       "stale": [False, True]})
    fig = charts.freshness(df)
    assert fig.layout.xaxis.title.text == "time since last landed change (hours)"
    assert [t.name for t in fig.data] == ["fresh", "stale", "stale after (3x median interval)"]
    np.testing.assert_allclose(fig.data[0].x, [0.5])
    np.testing.assert_allclose(fig.data[1].x, [10])
    np.testing.assert_allclose(fig.data[2].x, [0.75, 3])


def anomaly_frame():
    hours = pd.date_range(day(5), periods=48, freq="h")
    rows = []
    for t in ("a", "b"):
        for i, h in enumerate(hours):
            v = 10.0
            flag = None
            if t == "a" and i == 10:
                v, flag = 100.0, "spike"
            if t == "b" and i == 20:
                v, flag = 0.0, "drop"
            rows.append({"table": t, "hour": h, "metric": "volume", "value": v, "baseline": 10.0, "mad": 1.0,
                         "score": 0.6745 * (v - 10), "flag": flag, "in_incident": False})
    return pd.DataFrame(rows)


def test_anomalies_overview_heatmap_of_scores_with_flags_marked():
    fig = charts.anomalies_overview(anomaly_frame(), incidents=[("outage", day(5, 8), day(5, 12))])
    assert [t.name for t in fig.data] == ["score", "spike", "drop"]
    heat = fig.data[0]
    assert list(heat.y) == ["b", "a"]  # a on top
    z = np.array(heat.z)
    assert z.shape == (2, 48)
    assert z[1, 10] == pytest.approx(10)  # a's spike (score 60.7) clipped to the end colour
    assert heat.customdata[1][10] == pytest.approx(0.6745 * 90)  # the hover keeps the true score
    assert z[0, 20] == pytest.approx(-6.745)
    assert list(fig.data[1].y) == ["a"] and list(fig.data[2].y) == ["b"]
    assert fig.data[1].customdata[0][0] == 100
    assert "UTC" in fig.layout.xaxis.title.text
    assert "outage" in annotation_texts(fig)


def test_anomalies_overview_without_flags_says_so():
    df = anomaly_frame().assign(flag=None)
    assert any("no anomalies" in t for t in annotation_texts(charts.anomalies_overview(df)))


def test_anomalies_overview_when_no_hour_could_be_scored():
    df = anomaly_frame().assign(score=np.nan, flag=None)
    fig = charts.anomalies_overview(df)
    assert len(fig.data) == 0
    assert any("could be scored" in t for t in annotation_texts(fig))


def test_anomaly_detail_latency_on_a_log_scale_in_minutes():
    df = anomaly_frame().assign(metric="latency", value=lambda d: d["value"] * 60, baseline=600.0)
    fig = charts.anomaly_detail(df, "a")
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.title.text == "latency (minutes, log scale)"
    np.testing.assert_allclose(fig.data[1].y[:3], [10, 10, 10])
    assert fig.data[2].y[0] == 100


def test_anomaly_detail_one_table():
    fig = charts.anomaly_detail(anomaly_frame(), "a")
    assert [t.name for t in fig.data] == ["volume", "usual level (baseline)", "spike"]
    assert fig.layout.yaxis.title.text == "changes per hour"
    assert len(fig.data[0].y) == 48 and fig.data[2].y[0] == 100


def test_figures_serialise_to_json():
    for fig in (charts.latency_percentiles(latency_frame()), charts.volume_over_time(volume_frame()),
                charts.utilisation(throughput_frame())):
        assert fig.to_json()


def test_volume_over_time_log_scale_leaves_zero_days_out():
    df = volume_frame(days=[1, 2], tables=["a"]).assign(total=[0, 100])
    fig = charts.volume_over_time(df, log_y=True)
    assert fig.layout.yaxis.type == "log"
    assert "log scale" in fig.layout.yaxis.title.text
    y = np.array(fig.data[0].y, dtype="float64")
    assert np.isnan(y[0]) and y[1] == 100


def test_daily_vs_limit_takes_the_limit_from_throughput():
    tp = throughput_frame().assign(limit_per_day=25_000.0)  # e.g. 10 actions per record
    fig = charts.daily_vs_limit(volume_frame(days=[1, 2]), tp)
    assert shape_values(fig, "y") == [25_000]
    assert "25,000" in fig.layout.title.text


@pytest.mark.parametrize("make", [
    lambda: charts.latency_percentiles(latency_frame()),
    lambda: charts.latency_within(latency_frame()),
    lambda: charts.volume_by_kind(volume_frame(days=[1])),
    lambda: charts.utilisation(throughput_frame()),
    lambda: charts.bursts(throughput_frame(), "hour"),
    lambda: charts.table_rows(pd.DataFrame({"table": TABLES, "rows": range(10), "live_rows": range(10),
                                            "deleted_rows": [0] * 10})),
])
def test_ten_tables_get_room_for_their_labels(make):
    fig = make()
    plot_height = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    assert plot_height / 10 >= 20  # pixels per table row: labels at 13 px do not touch


def test_titles_are_short_enough_for_a_narrow_notebook():
    # the modebar sits at the top right: a title over ~55 characters runs under it at 700 px
    figs = [
        charts.latency_percentiles(latency_frame()), charts.latency_within(latency_frame()),
        charts.latency_over_time(pd.DataFrame({"table": ["a"], "period": [day(5)], "p95_s": [600.0]})),
        charts.naive_vs_first_landing(naive_frame()), charts.volume_by_kind(volume_frame(days=[1])),
        charts.volume_over_time(volume_frame(days=[1, 2])), charts.hour_of_week(volume_frame(days=[5])),
        charts.daily_vs_limit(volume_frame(days=[1])), charts.utilisation(throughput_frame()),
        charts.bursts(throughput_frame()), charts.anomalies_overview(anomaly_frame()),
        charts.table_rows(pd.DataFrame({"table": ["a"], "rows": [1], "live_rows": [1], "deleted_rows": [0]})),
    ]
    for fig in figs:
        assert len(fig.layout.title.text) <= 55, fig.layout.title.text


def test_outage_label_near_the_right_edge_stays_inside():
    gaps = pd.DataFrame({"table": ["a"], "start": [day(30, 8)], "end": [day(30, 14)], "seconds": [21600.0]})
    fig = charts.gaps(gaps, start=day(1), end=day(31), incidents=[("outage", day(30, 8), day(30, 14))])
    label = next(a for a in fig.layout.annotations if a.text == "outage")
    assert label.xanchor == "right" and pd.Timestamp(label.x) == day(30, 14)


# -- readable at a glance ------------------------------------------------------------------------
def test_latency_over_time_breaks_lines_over_missing_periods():
    df = pd.DataFrame({"table": ["a", "a", "a", "b", "b", "b", "b"],
                       "period": [day(5), day(6), day(8), day(5), day(6), day(7), day(8)],
                       "p95_s": [600.0, 600.0, 1200.0, 60.0, 120.0, 180.0, 240.0]})
    fig = charts.latency_over_time(df)
    a = fig.data[0]
    assert a.connectgaps is False
    assert len(a.x) == 4 and np.isnan(np.asarray(a.y, dtype="float64")[2])  # no point across the missing day
    assert pd.Timestamp(a.x[2]) == day(7).tz_localize(None)
    assert len(fig.data[1].x) == 4 and not np.isnan(np.asarray(fig.data[1].y, dtype="float64")).any()
    one = charts.latency_over_time(df, table="a")
    assert np.isnan(np.asarray(one.data[0].y, dtype="float64")[2])


def test_latency_over_time_eight_tables_differ_in_colour_and_symbol():
    rows = [{"table": f"t{i}", "period": day(d), "p95_s": 60.0 * (i + d)} for i in range(8) for d in (5, 6)]
    fig = charts.latency_over_time(pd.DataFrame(rows))
    assert len({t.line.color for t in fig.data}) == 8
    assert len({t.marker.symbol for t in fig.data}) == 8
    blues = {"#0072B2", "#56B4E9", "#332288"}
    assert len(blues & {t.line.color for t in fig.data}) <= 2


def test_anomalies_overview_groups_a_month_of_hours_into_wider_cells():
    hours = pd.date_range(day(1), periods=28 * 24, freq="h")
    rows = []
    for t in ("a", "b"):
        for i, h in enumerate(hours):
            spike = t == "a" and i == 301
            rows.append({"table": t, "hour": h, "metric": "volume", "value": 100.0 if spike else 10.0, "baseline": 10.0,
                         "score": 60.0 if spike else (-2.0 if i % 7 == 0 else 0.5),
                         "flag": "spike" if spike else None, "in_incident": False})
    fig = charts.anomalies_overview(pd.DataFrame(rows))
    z = np.array(fig.data[0].z, dtype="float64")
    assert z.shape[1] <= charts.MAX_HEATMAP_CELLS and z.shape[1] == 28 * 24 // 12
    assert fig.data[0].customdata[1][301 // 12] == pytest.approx(60.0)  # the most extreme hour of its cell
    assert fig.data[0].customdata[0][0] == pytest.approx(-2.0)  # a drop is not averaged away either
    assert "12-hour cells" in fig.layout.xaxis.title.text
    assert fig.data[1].name == "spike" and pd.Timestamp(fig.data[1].x[0]) == hours[301].tz_localize(None)


def test_anomalies_overview_without_flags_is_not_an_empty_box():
    df = anomaly_frame().assign(flag=None)
    fig = charts.anomalies_overview(df)
    assert len(fig.data) == 0
    assert annotation_texts(fig) == [f"no anomalies: all {df['score'].notna().sum():,} scored table-hours within their usual range"]
