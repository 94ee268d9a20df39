"""kit.naive on a tiny lake whose answers are worked out here.

Table ``account`` (change feed on), Monday 2026-01-05:

    v0  00:00 WRITE  a v1 (modified 4 Jan 23:50)                        first landing 00:00
    v1  01:00 MERGE  b v1 (modified 00:50), c v1 (modified 00:40)       first landing 01:00
    v2  02:00 MERGE  d v1 (modified 01:30)                              first landing 02:00
    v3  05:00 MERGE  b v1 again (a re-landing: same version)            SinkModifiedOn 05:00
    v4  06:00 MERGE  c v2 (modified 05:45)                              first landing 06:00

Current rows: a v1, b v1, c v2, d v1.
    first landing latency:  a 600 s, b 600 s, c 900 s, d 1800 s
    naive (SinkModifiedOn): a 600 s, b 15,000 s (05:00 - 00:50), c 900 s, d 1800 s
Only b was landed again: naive - first = 14,400 s.
"""

from __future__ import annotations

import numpy as np
import pytest

import kit
from kit.metrics.naive import naive_latency, relanded_rows
from lakebuilder import SyncTable, plain_table, record, t


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("naive_lake")
    account = SyncTable(root / "account")
    account.initial([record("a", 1, t(4, 23, 50), t(4, 23, 50))], t(5, 0))
    account.sync([record("b", 1, t(5, 0, 50), t(5, 0, 50)), record("c", 1, t(5, 0, 40), t(5, 0, 40))], t(5, 1))
    account.sync([record("d", 1, t(5, 1, 30), t(5, 1, 30))], t(5, 2))
    account.sync([record("b", 1, t(5, 0, 50), t(5, 0, 50))], t(5, 5))
    account.sync([record("c", 2, t(5, 0, 40), t(5, 5, 45))], t(5, 6))
    plain_table(root / "plain", t(5, 1))
    return kit.open_lake(str(root))


def test_naive_latency_against_first_landing(lake):
    df = naive_latency(lake, "account")
    assert list(df["table"]) == ["account"]
    row = df.iloc[0]
    assert row["changes"] == 4
    assert row["snapshot_only"] == 0
    first = np.array([600.0, 600.0, 900.0, 1800.0])
    naive = np.array([600.0, 15000.0, 900.0, 1800.0])
    for p in (50, 95, 99):
        assert row[f"first_p{p}_s"] == pytest.approx(np.percentile(first, p))
        assert row[f"naive_p{p}_s"] == pytest.approx(np.percentile(naive, p))
    assert row["relanded"] == 1
    assert row["relanded_share"] == pytest.approx(0.25)
    assert row["relanded_naive_p50_s"] == pytest.approx(15000.0)
    assert row["relanded_first_p50_s"] == pytest.approx(600.0)


def test_relanded_rows_lists_the_row_landed_again(lake):
    rows = relanded_rows(lake, ["account"])
    assert len(rows) == 1
    r = rows.iloc[0]
    assert (r["table"], r["id"], r["versionnumber"]) == ("account", "b", 1)
    assert r["first_s"] == pytest.approx(600.0)
    assert r["naive_s"] == pytest.approx(15000.0)
    assert r["first_landed"] == t(5, 1) and r["sink_modified"] == t(5, 5)


def test_tables_without_the_columns_are_skipped_with_a_warning(lake):
    with pytest.warns(UserWarning, match="plain"):
        df = naive_latency(lake)
    assert list(df["table"]) == ["account"]


def test_naming_a_table_without_the_columns_raises(lake):
    with pytest.raises(kit.NotDataverseTableError):
        naive_latency(lake, "plain")
