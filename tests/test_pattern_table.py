"""The pattern table states the daily limit's basis once (its caption), not in every row."""

import pandas as pd

from kit.present import readings
from kit.present.advice import pattern_reasons

BASIS = "250,000 requests per 24 h at 5 actions per record"


def frame():
    """Three throughput rows as ``kit.throughput`` returns them (the columns the words need)."""
    return pd.DataFrame({
        "table": ["email", "incident", "salesline"], "utilisation": [55358 / 50000, 3303 / 50000, 84 / 50000],
        "pattern": ["Service Bus + Azure Functions", "Power Automate", "Power Automate"],
        "verdict": ["over_daily_limit", "within_limits", "within_limits"],
        "peak_day": pd.to_datetime(["2026-09-30"] * 3, utc=True), "peak_day_events": [55358, 3303, 84],
        "limit": "power_automate_process_daily", "limit_per_day": 50000.0, "actions_per_record": 5.0,
        "days_to_limit": [0.0, None, None], "trend_per_day": [None] * 3, "premium_limit": [None] * 3,
    })


def test_the_basis_is_said_once():
    assert readings.limit_basis(pattern_reasons(frame())) == BASIS
    table = readings.pattern_table(frame())
    assert not table["reason"].str.contains("actions per record").any()
    assert table["reason"].iloc[0] == ("Peak day 2026-09-30 had 55,358 events, 111% of the 50,000/day Power Automate "
                                       "limit: move to Service Bus + Azure Functions.")


def test_without_a_basis_the_reasons_stay_whole():
    reasons = pd.Series(["No changes."] * 3)
    assert readings.limit_basis(reasons) == ""
