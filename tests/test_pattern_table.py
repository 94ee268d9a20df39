"""The pattern table states the daily limit's basis once (its caption), not in every row."""

import pandas as pd

from kit.present import readings

BASIS = "250,000 requests per 24 h at 5 actions per record"


def frame():
    reasons = [f"Peak day 2026-09-30 had {n:,} events, {p} of the 50,000/day Power Automate limit ({BASIS}): {a}."
               for n, p, a in ((55358, "111%", "move to Service Bus + Azure Functions"),
                               (3303, "7%", "Power Automate is enough"), (84, "under 1%", "Power Automate is enough"))]
    return pd.DataFrame({"table": ["email", "incident", "salesline"], "utilisation": [1.1, 0.07, 0.002],
                         "pattern": ["Service Bus + Azure Functions", "Power Automate", "Power Automate"],
                         "reason": reasons})


def test_the_basis_is_said_once():
    assert readings.limit_basis(frame()) == BASIS
    table = readings.pattern_table(frame())
    assert not table["reason"].str.contains("actions per record").any()
    assert table["reason"].iloc[0] == ("Peak day 2026-09-30 had 55,358 events, 111% of the 50,000/day Power Automate "
                                       "limit: move to Service Bus + Azure Functions.")


def test_without_a_basis_the_reasons_stay_whole():
    df = frame().assign(reason="No changes.")
    assert readings.limit_basis(df) == ""
    assert list(readings.pattern_table(df)["reason"]) == ["No changes."] * 3
