"""The HTML report of a lake: run every analysis once, then lay the results out.

    kit.report.write_report(lake, "report.html")

The analyses run here (``collect``); ``kit.present.report`` turns their results into the page.
"""

from __future__ import annotations

import os
import warnings

from .errors import KitError
from .metrics.anomalies import anomalies
from .metrics.exactness import exact_spans
from .metrics.health import freshness, sync_cadence, sync_gaps
from .metrics.latency import sync_latency
from .metrics.naive import naive_latency, relanded_rows
from .metrics.throughput import daily_volume, limits_table, throughput
from .metrics.volume import change_volume
from .present import readings
from .present.report import render


def collect(lake, progress=None) -> dict:
    """Run every analysis the report shows, once. Warnings (skipped tables...) are kept as
    notes for the report instead of being printed. ``progress(key)``, when given, is called
    after each analysis (the command line's progress bar)."""
    data: dict = {"notes": []}

    def run(key, func, *args, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                data[key] = func(*args, **kwargs)
            except KitError as exc:
                data[key] = None
                data["notes"].append(f"{key}: {exc}")
        for w in caught:
            msg = str(w.message)
            if msg not in data["notes"]:
                data["notes"].append(msg)
        if progress is not None:
            progress(key)

    with lake.sharing_changes():  # 16 analyses over the same changes: computed once
        run("tables", lake.tables)
        data["producer"] = readings.producer(data["tables"])
        try:
            data["as_of"] = lake.as_of
        except KitError:
            data["as_of"] = None
        history = lake.history()
        data["history"] = None if history.empty else history
        data["window"] = lake.observed_window()
        run("coverage", lambda: readings.coverage_table(lake.coverages()))
        run("spans", exact_spans, lake)
        # Headline figures are exact (the analyses' default); the per-period frames keep the
        # estimated periods, flagged exact=False, for the charts to draw apart.
        # Over the observed days, as the volume's total: one number of changes in the report.
        start = None if data["window"] is None else data["window"][0].ceil("D")
        run("latency", sync_latency, lake, by=None, since=start)
        run("latency_day", sync_latency, lake, by="day", include_estimates=True)
        run("naive", naive_latency, lake)
        run("relanded", relanded_rows, lake)
        run("volume_day", change_volume, lake, by="day", include_estimates=True)
        run("volume_hour", change_volume, lake, by="hour")
        run("throughput", throughput, lake)
        run("daily", daily_volume, lake, include_estimates=True)
        run("limits", limits_table)
        run("cadence", sync_cadence, lake)
        run("gaps", sync_gaps, lake, outages_only=True)
        run("freshness", freshness, lake)
        run("anomalies", anomalies, lake, metric="volume")
        run("anomalies_latency", anomalies, lake, metric="latency")
    for key in ("latency_day", "volume_day", "volume_hour", "daily"):
        data[key] = readings.in_window(data[key], data["window"])
    return data


def display_location(lake) -> str:
    """The lake's location for people: credentials masked; a local folder relative to the
    current directory when it is inside it."""
    storage = lake.storage
    where = storage.display
    if not storage.remote:
        try:
            rel = os.path.relpath(where)
            if not rel.startswith(".."):
                return rel
        except ValueError:
            pass
    return where


def write_report(lake, path, data: dict | None = None) -> str:
    """Write the report of ``lake`` (a ``kit.Lake`` or a location) to ``path``; return the
    path written. ``data``: what ``collect(lake)`` returned, when already run."""
    if not hasattr(lake, "tables"):
        from .lake import open_lake

        lake = open_lake(lake)
    text = render(collect(lake) if data is None else data, display_location(lake))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path
