"""Sentences name the producer the lake comes from (its tables' layout), never Synapse Link by
default."""

import pandas as pd

from kit.present import readings, report

UTC = "UTC"


def ts(h, m=0):
    return pd.Timestamp(2026, 9, 30, h, m, tz=UTC)


def shared_outage():
    return pd.DataFrame({"table": ["account", "email"], "start": [ts(15, 40), ts(15, 45)],
                         "end": [ts(20, 10), ts(20, 12)], "seconds": [16200.0, 16020.0]})


def test_producer_from_the_layouts():
    assert readings.producer(pd.DataFrame({"layout": ["synapse_delta", "synapse_delta"]})) == "Synapse Link"
    assert readings.producer(pd.DataFrame({"layout": ["fabric"]})) == "Fabric Link"
    assert readings.producer(pd.DataFrame({"layout": ["delta"]})) == "the export"
    assert readings.producer(pd.DataFrame({"layout": ["fabric", "synapse_delta"]})) == "the export"
    assert readings.producer(None) == "the export"


def test_a_shared_outage_names_the_producer():
    fabric = readings.read_health(None, shared_outage(), None, "Fabric Link")
    assert "a Fabric Link outage" in fabric and "Synapse" not in fabric
    synapse = readings.read_health(None, shared_outage(), None, "Synapse Link")
    assert "a Synapse Link (or Spark pool) outage" in synapse
    plain = readings.read_health(None, shared_outage(), None)
    assert "an outage of the export" in plain and "Synapse" not in plain


def test_the_report_says_fabric_link_on_a_fabric_lake():
    data = {"tables": pd.DataFrame({"table": ["account", "email"], "layout": "fabric", "kind": "dataverse"}),
            "gaps": shared_outage(), "producer": "Fabric Link"}
    glance = " ".join(report.at_a_glance(data))
    assert "Fabric Link outage" in glance and "Synapse" not in glance
