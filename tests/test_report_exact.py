"""The report on the sample lake (no store: a 2-day change feed over 28 days) says which days
are exact, quotes one total of changes everywhere (the truth's, over the exact days), and labels
every estimate with the direction of its bias."""

import html
import json
import os
import re

import pytest

import kit
from kit import report
from kit.present.report import at_a_glance, render

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.environ.get("KIT_SAMPLE_LAKE") or os.path.join(ROOT, "sample_lake")


@pytest.fixture(scope="module")
def truth():
    with open(os.path.join(SAMPLE, "TRUTH.json")) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def data():
    return report.collect(kit.open_lake(SAMPLE))


@pytest.fixture(scope="module")
def raw(data):
    return render(data, "sample_lake")


@pytest.fixture(scope="module")
def page(raw):
    return html.unescape(re.sub(r"<script.*?</script>", "", raw, flags=re.S))


def readings(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", p) for p in re.findall(r'<p class="reading">(.*?)</p>', page, re.S)]


def exact_total(truth) -> int:
    total = 0
    for t in truth["tables"].values():
        if t["kind"] not in ("dataverse", "finance_operations"):
            continue
        first = t["change_feed"]["complete_from_day"]
        total += sum(c["creates"] + c["updates"] + c["deletes"] for d, c in t["days"].items() if d >= first)
    return total


def test_the_report_says_which_days_are_exact(data, page, truth):
    days = {t["change_feed"]["complete_from_day"] for t in truth["tables"].values() if t.get("change_feed")}
    assert len(days) == 1
    first = days.pop()
    glance = at_a_glance(data)
    assert glance[0].startswith(f"Exact from {first} to ")
    assert "days before are estimates from the snapshot" in glance[0]
    assert any(r.startswith(f"Exact from {first}") for r in readings(page))  # in the volume section too


def test_one_total_of_changes_everywhere(data, page, truth):
    total = f"{exact_total(truth):,}"
    quoted = []
    for text in readings(page) + list(at_a_glance(data)):
        quoted += re.findall(r"Across \d+ tables and ([\d,]+) changes", text)
        quoted += re.findall(r"^([\d,]+) changes over", text)
    assert len(quoted) >= 3  # latency, volume, and the latency line at a glance
    assert set(quoted) == {total}, (quoted, total)


def test_estimates_are_labelled_with_their_direction(data, page, raw, truth):
    texts = readings(page)
    month_end = next(t for t in texts if "last 3 days of the month" in t)
    assert month_end.startswith("Estimated") and "at most" in month_end
    busy = truth["busy_table"]
    throughput = next(t for t in texts if "outgrow" in t)
    assert f"{busy['table']} peaked at {busy['peak_day_events']:,} events" in throughput and "(exact)" in throughput
    assert "an estimate" in throughput  # the growth line runs through the commit log
    # the charts draw the estimated days dotted, with a legend that says what they are
    assert "estimate (snapshot): at most" in raw
    assert "estimate (commit log" in raw
    # no mixed total of the old kind: nothing counts changes over the whole 28 days
    assert not any(re.search(r"changes over 2[0-9] days", t) for t in texts)
