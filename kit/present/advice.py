"""The integration advice in words: why a table stays on Power Automate or moves on.

``kit.throughput`` decides (``pattern``, ``verdict`` and the numbers behind them); this module
only words that decision, with the limits' names and figures from the same limits file.
"""

from __future__ import annotations

import math

import pandas as pd

from ..metrics.limits import load_limits

#: Advise planning the move to Service Bus when the growth trend reaches the limit this soon.
TREND_PLAN_DAYS = 90
SERVICE_BUS = "Service Bus + Azure Functions"


def pattern_reason(row, limits=None) -> str:
    """One sentence for one ``throughput`` row: the limit, how close the table is (the peak day
    as a share of the daily limit, or the burst ceiling exceeded), the growth trend when it
    reaches the limit within a year, and planning advice when within 90 days. ``limits``: the
    limits ``throughput`` was given (None: ``kit/limits.json``)."""
    by_id = {e["id"]: e for e in load_limits(limits)}
    binding = by_id[row["limit"]]
    apr = float(row["actions_per_record"])
    utilisation = float(row["utilisation"])
    daily = (
        f"the {float(row['limit_per_day']):,.0f}/day {binding.get('label', binding['name'])} limit "
        f"({binding['figure']:,.0f} {binding['unit']} per {window(binding['window_seconds'])}"
        f"{_cost_text(binding, apr)})"
    )
    verdict = row["verdict"]
    if verdict == "no_changes":
        return f"No changes with a modifiedon to count, so nothing approaches {daily}: stay on Power Automate."
    day = pd.Timestamp(row["peak_day"]).strftime("%Y-%m-%d")
    peak = f"Peak day {day} had {int(row['peak_day_events']):,} events, {pct(utilisation)} of {daily}"
    tail = ""
    if _given(row.get("premium_limit")):
        premium = by_id[row["premium_limit"]]
        tail = (
            f", and its peak {window(premium['window_seconds'])} needs "
            f"{float(row['premium_demand']):,.0f} {premium['unit']}, over the "
            f"{premium['figure']:,.0f} per {window(premium['window_seconds'])} of "
            f"{premium.get('label', premium['name'])} (use Premium)"
        )
    if verdict == "over_daily_limit":
        return f"{peak}: move to Service Bus + Azure Functions{tail}."
    if verdict == "over_burst_limit":
        burst = by_id[row["burst_limit"]]
        return (
            f"Peak {window(burst['window_seconds'])} had {int(row['burst_events']):,} events "
            f"({float(row['burst_demand']):,.0f} {burst['unit']}{_cost_text(burst, apr)}), over the "
            f"{burst.get('label', burst['name'])} limit of {burst['figure']:,.0f} {burst['unit']} per "
            f"{window(burst['window_seconds'])}, although the peak day ({day}) is {pct(utilisation)} of "
            f"{daily}: move to Service Bus + Azure Functions{tail}."
        )
    if verdict == "at_daily_limit":
        return f"{peak}, right at the limit: stay on Power Automate only if volumes do not grow, else move to Service Bus + Azure Functions."
    if verdict == "trend_at_limit":
        return (
            f"{peak}, and its growth trend ({rate(float(row['trend_per_day']))} events/day per day) is already at "
            f"the limit: stay on Power Automate for now and plan for Service Bus + Azure Functions."
        )
    if verdict == "growing_to_limit":
        days_to_limit = float(row["days_to_limit"])
        days = math.ceil(days_to_limit)
        advice = (
            "stay on Power Automate and plan for Service Bus + Azure Functions"
            if days_to_limit <= TREND_PLAN_DAYS
            else "Power Automate is enough for now"
        )
        return (
            f"{peak}, and at its current growth of {rate(float(row['trend_per_day']))} events/day per day "
            f"it reaches the limit in about {days:,} day{'s' if days != 1 else ''}: {advice}."
        )
    return f"{peak}: Power Automate is enough."


def pattern_reasons(throughput: pd.DataFrame, limits=None) -> pd.Series:
    """``pattern_reason`` of every row of a ``throughput`` frame (index kept)."""
    return pd.Series([pattern_reason(r, limits) for r in throughput.to_dict("records")],
                     index=throughput.index, dtype=object)


def _given(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and value is not pd.NA


def _cost_text(entry: dict, apr: float) -> str:
    if entry["cost_per_event"] == "actions_per_record":
        return f" at {apr:g} actions per record"
    cost = float(entry["cost_per_event"])
    return f" at {cost:g} {entry['unit']} per event" if cost != 1 else ""


def window(seconds: int) -> str:
    """A limit's window in words: ``5 minutes``, ``24 h``, ``second``."""
    names = {1: "second", 60: "minute", 300: "5 minutes", 3600: "hour", 86400: "24 h"}
    if seconds in names:
        return names[seconds]
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} s"


def rate(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}"


def pct(fraction: float) -> str:
    if 0 < fraction < 0.01:
        return "under 1%"
    return f"{fraction:.0%}"
