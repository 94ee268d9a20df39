"""The store: collected first landings give exact history after the change feed is vacuumed.

The main test replays a simulated lake in daily steps, as a live lake changes between two runs
of a scheduled collect: every morning the lake holds the commits made so far, and the nightly
VACUUM has left only the last day of change data (and removed the data files rewritten more than
a day ago). A collect runs after each step. At the end, the change feed of the lake itself
reaches back one day only, yet the store's changes per day and their latencies equal the truth
the simulation recorded (TRUTH.json), computed from the simulation state, never from the lake.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

import kit
from kit.errors import KitError, StoreError
from kit.sample.generator import generate
from kit.sample.replay import replay

from lakebuilder import SyncTable, record, t

ROOT = Path(__file__).resolve().parent.parent
DAYS = 7
UTC = timezone.utc


def lake_digest(path: Path) -> dict:
    """Every file of a lake with its bytes' hash: the kit must never change one."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def stepped(tmp_path_factory):
    """(lake, store, truth, collects): a 7-day sample replayed day by day with a nightly vacuum
    keeping one day of feed, collected after each step; ``collects`` holds each collect's
    result and whether the lake's files were unchanged by it."""
    base = tmp_path_factory.mktemp("stepped")
    full, lake, store = base / "full", base / "lake", base / "store.duckdb"
    truth = generate(full, days=DAYS, scale=0.5, vacuum=False)
    end = datetime.fromisoformat(truth["generator"]["end"].replace("Z", "+00:00")) if "end" in truth["generator"] else None
    end = end or datetime(2026, 10, 1, tzinfo=UTC)
    step = end - timedelta(days=DAYS + 1)
    collects = []
    while step <= end + timedelta(hours=6):
        replay(full, lake, step, feed_kept=timedelta(days=1))
        before = lake_digest(lake)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kit.SkippedTableWarning)
            result = kit.open_lake(lake, store=store).collect()
        collects.append((step, result, lake_digest(lake) == before))
        step += timedelta(days=1)
    return lake, store, truth, collects


def days_of(volume, name) -> dict:
    """{day: (creates, updates, deletes)} of one table in a ``change_volume(by="day")`` frame."""
    mine = volume[volume["table"] == name]
    return {p.strftime("%Y-%m-%d"): (r.creates, r.updates, r.deletes) for p, r in zip(mine["period"], mine.itertuples())}


def truth_days(t) -> dict:
    """The same from a TRUTH.json table: the days with a change."""
    return {d: (v["creates"], v["updates"], v["deletes"]) for d, v in t["days"].items()
            if v["creates"] + v["updates"] + v["deletes"]}


def truth_tables(truth):
    return {n: t for n, t in truth["tables"].items() if t["kind"] != "metadata" and t.get("day_clock") == "modified"}


def test_the_replayed_lake_keeps_one_day_of_feed(stepped):
    """The premise: without the store, the lake alone is not exact over the week."""
    lake, _store, truth, _ = stepped
    cover = kit.open_lake(lake).coverage("email")
    assert cover.method == "change_feed" and not cover.complete
    assert cover.feed_from_version > 0


def test_every_day_equals_the_truth_with_the_store(stepped):
    lake, store, truth, _ = stepped
    opened = kit.open_lake(lake, store=store)
    tables = truth_tables(truth)
    got = kit.change_volume(opened, list(tables), by="day")
    compared = 0
    for name, t in tables.items():
        want = truth_days(t)
        assert days_of(got, name) == want, name
        assert set(got[got["table"] == name]["method"]) <= {"change_feed"}, name
        compared += len(want)
    assert compared > 50


def test_every_days_latency_is_within_a_second_of_the_truth(stepped):
    lake, store, truth, _ = stepped
    opened = kit.open_lake(lake, store=store)
    tables = {n: t for n, t in truth_tables(truth).items() if t.get("latency_by_day")}
    lat = kit.sync_latency(opened, list(tables), by="day")
    window_start = datetime(2026, 10, 1, tzinfo=UTC) - timedelta(days=DAYS)
    compared = 0
    for name, t in tables.items():
        mine = lat[lat["table"] == name].set_index(lat[lat["table"] == name]["period"].dt.strftime("%Y-%m-%d"))
        for day, want in t["latency_by_day"].items():
            if day < window_start.strftime("%Y-%m-%d"):
                continue  # the initial load's day also holds rows landed by version 0, outside the truth's figure
            row = mine.loc[day]
            assert row["changes"] == want["changes"], (name, day)
            for col, key in (("p50_s", "p50"), ("p95_s", "p95"), ("max_s", "max")):
                assert abs(row[col] - want[key]) <= 1.0, (name, day, col, row[col], want[key])
            compared += 1
    assert compared >= 3 * DAYS


def test_the_store_covers_the_whole_history(stepped):
    lake, store, truth, _ = stepped
    cover = kit.open_lake(lake, store=store).coverage("email")
    assert cover.complete and cover.feed_from_version == 0 and cover.gaps == ()
    assert "exact since the table was created" in cover.note


def test_collects_never_change_the_lake_and_lose_nothing(stepped):
    _lake, _store, _truth, collects = stepped
    assert all(unchanged for _, _, unchanged in collects)
    for step, result, _ in collects:
        assert (result["commits_lost"].fillna(0) == 0).all(), (step, result)


def test_collect_again_adds_nothing(stepped, tmp_path):
    lake, store, _truth, _ = stepped
    copy = store.parent / "copy.duckdb"  # beside the original: a store names its lake relative to its folder
    copy.write_bytes(store.read_bytes())
    opened = kit.open_lake(lake, store=copy)
    before = opened.changes("email").df().sort_values(["id", "versionnumber"]).reset_index(drop=True)
    again = opened.collect()
    assert (again["changes_added"] == 0).all() and (again["landings_added"] == 0).all()
    assert again["from_version"].isna().all()
    after = kit.open_lake(lake, store=copy).changes("email").df().sort_values(["id", "versionnumber"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)


def store_rows(path: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql('select * from landings order by "table", id, versionnumber').df()


def test_two_collects_at_once_leave_the_store_right(tmp_path):
    """Two processes collect the same lake into a new store at the same moment: the store ends
    as one collect alone makes it (no landing twice, none lost)."""
    lake = ROOT / "sample_lake"
    alone, shared = tmp_path / "alone.duckdb", tmp_path / "shared.duckdb"
    code = ("import sys, warnings, kit; warnings.simplefilter('ignore');"
            "print(int(kit.open_lake(sys.argv[1], store=sys.argv[2]).collect()['changes_added'].sum()))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(lake), str(shared)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    added = [int(o[0].strip()) for o in outs]
    subprocess.run([sys.executable, "-c", code, str(lake), str(alone)], env=env, check=True, capture_output=True)
    want, got = store_rows(alone), store_rows(shared)
    assert len(got) == len(want) == sum(added)  # the tables split between them, each once
    pd.testing.assert_frame_equal(got, want)


# -- small hand-built tables: gaps, re-creation, refusals -----------------------------------
def rows(day: int, ids, version: int):
    return [record(i, version, t(1), t(day, 9, n), name=f"{i} v{version}", statecode=0, IsDelete=None)
            for n, i in enumerate(ids)]


def test_commits_vacuumed_between_collects_are_a_gap(tmp_path):
    """Timeline: day 2 initial load of a, b; collect; day 3 sync a v2; day 4 sync b v2; a
    VACUUM removes the change data of days 3-4 and the data files those syncs rewrote; day 5
    sync a v3; collect. The store cannot know a v2 (overwritten, its files gone): a gap of 2
    commits; b v2 is known from the snapshot only."""
    table = SyncTable(str(tmp_path / "lake" / "account"))
    store = tmp_path / "store.duckdb"
    table.initial(rows(2, ["a", "b"], 1), t(2, 10))
    first = kit.open_lake(tmp_path / "lake", store=store).collect()
    assert first["changes_added"].tolist() == [2]
    table.sync(rows(3, ["a"], 2), t(3, 10))
    table.sync(rows(4, ["b"], 2), t(4, 10))
    table.vacuum_change_data()
    from deltalake import DeltaTable

    DeltaTable(table.path).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    table.sync(rows(5, ["a"], 3), t(5, 10))
    lake = kit.open_lake(tmp_path / "lake", store=store)
    second = lake.collect()
    assert second["commits_lost"].tolist() == [2] and second["changes_added"].tolist() == [1]
    lake = kit.open_lake(tmp_path / "lake", store=store)
    cover = lake.coverage("account")
    assert not cover.complete and len(cover.gaps) == 1
    gap = cover.gaps[0]
    assert (gap["from_version"], gap["to_version"], gap["commits"], gap["reason"]) == (1, 2, 2, "vacuumed")
    assert "vacuumed between two collects" in cover.note
    ch = lake.changes("account").df().sort_values(["id", "versionnumber"])
    assert list(zip(ch["id"], ch["versionnumber"], ch["method"])) == [
        ("a", 1, "change_feed"), ("a", 3, "change_feed"), ("b", 1, "change_feed"), ("b", 2, "snapshot")]
    # The days a change may be missing (from the last collect, day 2, to the last lost commit,
    # day 4) are estimates; day 5 is exact again.
    vol = kit.change_volume(lake, "account", by="day", include_estimates=True)
    exact = {p.day: e for p, e in zip(vol["period"], vol["exact"])}
    assert exact == {2: False, 4: False, 5: True}, exact


def test_a_recreated_table_is_followed(tmp_path):
    """Timeline: day 2 initial load of a, b; day 3 sync a v2; collect. The table is dropped and
    created again (Fabric Link relink: new metaData.id, version 0 again) on day 5 with its
    current rows, b having changed meanwhile (b v2). Collect: b v2 is new (an update, first
    landed by the new initial load); a v2 and b... only raise landings; a gap says re-created."""
    path = tmp_path / "lake" / "account"
    store = tmp_path / "store.duckdb"
    table = SyncTable(str(path))
    table.initial(rows(2, ["a", "b"], 1), t(2, 10))
    table.sync(rows(3, ["a"], 2), t(3, 10))
    kit.open_lake(tmp_path / "lake", store=store).collect()
    import shutil

    shutil.rmtree(path)
    SyncTable(str(path)).initial(rows(3, ["a"], 2) + rows(4, ["b"], 2), t(5, 10))
    result = kit.open_lake(tmp_path / "lake", store=store).collect()
    assert result["changes_added"].tolist() == [1] and result["landings_added"].tolist() == [1]
    assert result["commits_lost"].isna().all() and "re-created" in result["note"][0]
    lake = kit.open_lake(tmp_path / "lake", store=store)
    ch = lake.changes("account").df().sort_values(["id", "versionnumber"])
    assert list(zip(ch["id"], ch["versionnumber"], ch["change"], ch["landings"])) == [
        ("a", 1, "create", 1), ("a", 2, "update", 2), ("b", 1, "create", 1), ("b", 2, "update", 1)]
    assert ch.set_index(["id", "versionnumber"]).loc[("b", 2), "landed_at"] == pd.Timestamp(t(5, 10))
    cover = lake.coverage("account")
    assert [g["reason"] for g in cover.gaps] == ["recreated"] and not cover.complete


def test_a_store_inside_the_lake_is_refused(tmp_path):
    SyncTable(str(tmp_path / "lake" / "account")).initial(rows(2, ["a"], 1), t(2, 10))
    with pytest.raises(StoreError, match="inside the lake"):
        kit.open_lake(tmp_path / "lake", store=tmp_path / "lake" / "kit.duckdb")
    with pytest.raises(StoreError, match="is a folder"):
        kit.open_lake(tmp_path / "lake", store=tmp_path)
    other = tmp_path / "other.duckdb"
    import duckdb

    duckdb.connect(str(other)).execute("create table x(a int)").close()
    with pytest.raises(StoreError, match="not a kit store"):
        kit.open_lake(tmp_path / "lake", store=other).collect()
    with pytest.raises(KitError, match="needs a store"):
        kit.open_lake(tmp_path / "lake").collect()


def test_a_table_without_feed_is_collected_by_its_add_file_diff(tmp_path):
    """No change feed: the add-file diff gives the same first landings; a later collect adds
    only the new ones, and counts a copied row as nothing."""
    table = SyncTable(str(tmp_path / "lake" / "account"), change_feed=False)
    store = tmp_path / "store.duckdb"
    table.initial(rows(2, ["a", "b"], 1), t(2, 10))
    first = kit.open_lake(tmp_path / "lake", store=store).collect()
    assert first["method"].tolist() == ["add_diff"] and first["changes_added"].tolist() == [2]
    table.sync(rows(3, ["a"], 2), t(3, 10))  # rewrites the file holding b: b is copied, not landed
    second = kit.open_lake(tmp_path / "lake", store=store).collect()
    assert second["changes_added"].tolist() == [1] and second["landings_added"].tolist() == [0]
    with_store = kit.open_lake(tmp_path / "lake", store=store).changes("account").df()
    alone = kit.open_lake(tmp_path / "lake").changes("account").df()
    key = ["id", "versionnumber"]
    pd.testing.assert_frame_equal(with_store.sort_values(key).reset_index(drop=True),
                                  alone.sort_values(key).reset_index(drop=True))


def test_the_store_is_not_a_uri_and_not_named_in_secrets(tmp_path):
    with pytest.raises(StoreError, match="local DuckDB file"):
        kit.open_lake(ROOT / "sample_lake", store="abfss://c@a.dfs.core.windows.net/store.duckdb")
    assert "store=" in repr(kit.open_lake(ROOT / "sample_lake", store=tmp_path / "s.duckdb"))


# -- the sample lake and its store ----------------------------------------------------------
SAMPLE, SAMPLE_STORE = ROOT / "sample_lake", ROOT / "sample_store.duckdb"


def test_the_sample_store_gives_every_one_of_the_28_days_exactly():
    """``sample_store.duckdb`` (``python -m kit sample sample_lake --store sample_store.duckdb``)
    turns the sample lake, whose feed reaches back two days, into 28 exact days: counts per day
    equal TRUTH.json's, latencies per day within a second."""
    truth = json.loads((SAMPLE / "TRUTH.json").read_text())
    lake = kit.open_lake(SAMPLE, store=SAMPLE_STORE)
    tables = truth_tables(truth)
    vol = kit.change_volume(lake, list(tables), by="day")
    lat = kit.sync_latency(lake, list(tables), by="day")
    start = truth["generator"]["start"][:10]
    days = 0
    for name, t in tables.items():
        assert days_of(vol, name) == truth_days(t), name
        assert set(vol[vol["table"] == name]["method"]) == {"change_feed"}, name
        mine = lat[lat["table"] == name].set_index(lat[lat["table"] == name]["period"].dt.strftime("%Y-%m-%d"))
        for day, w in (t.get("latency_by_day") or {}).items():
            if day < start:
                continue
            row = mine.loc[day]
            assert row["changes"] == w["changes"], (name, day)
            for col, key in (("p50_s", "p50"), ("p95_s", "p95"), ("max_s", "max")):
                assert abs(row[col] - w[key]) <= 1.0, (name, day, col)
            days += 1
    assert days >= 28 * 5


def test_a_store_of_another_lake_is_refused(tmp_path):
    SyncTable(str(tmp_path / "lake" / "account")).initial(rows(2, ["a"], 1), t(2, 10))
    copy = tmp_path / "sample_store.duckdb"
    copy.write_bytes(SAMPLE_STORE.read_bytes())
    with pytest.raises(StoreError, match="use one store per lake"):
        kit.open_lake(tmp_path / "lake", store=copy).changes("account")


def test_kit_sample_writes_the_committed_store(tmp_path):
    """``python -m kit sample DEST --store FILE`` writes the same first landings as the committed
    sample store (and refuses a store file that exists)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    dest, store = tmp_path / "lake", tmp_path / "store.duckdb"
    out = subprocess.run([sys.executable, "-m", "kit", "sample", str(dest), "--store", str(store)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    pd.testing.assert_frame_equal(store_rows(store), store_rows(SAMPLE_STORE))
    again = subprocess.run([sys.executable, "-m", "kit", "sample", str(dest), "--force", "--store", str(store)],
                           env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 2 and "must be a new file" in again.stderr and "Traceback" not in again.stderr


def test_cli_collect_and_store_option(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    store = tmp_path / "s.duckdb"
    run = lambda *a: subprocess.run([sys.executable, "-m", "kit", *a], env=env, capture_output=True, text=True, timeout=600)  # noqa: E731
    out = run("collect", str(SAMPLE), "--store", str(store), "--format", "csv")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(__import__("io").StringIO(out.stdout))
    assert {"table", "from_version", "to_version", "changes_added"} <= set(frame.columns)
    assert frame.set_index("table").loc["email", "changes_added"] > 0
    missing = run("collect", str(SAMPLE))
    assert missing.returncode == 2 and "needs --store" in missing.stderr
    inside = run("volume", str(SAMPLE), "--store", str(SAMPLE / "x.duckdb"))
    assert inside.returncode == 2 and "inside the lake" in inside.stderr and "Traceback" not in inside.stderr
    vol = run("volume", str(SAMPLE), "--store", str(SAMPLE_STORE), "--by", "none", "--format", "csv", "--table", "email")
    assert vol.returncode == 0 and ",310530," in vol.stdout


def test_the_report_with_the_sample_store_shows_the_truths_total_everywhere(tmp_path):
    """``python -m kit report sample_lake --store sample_store.duckdb``: one total of changes,
    the truth's over the 28 days (TRUTH.json, days of the observed window), in every section."""
    import re
    import html as html_lib

    truth = json.loads((SAMPLE / "TRUTH.json").read_text())
    total = sum(c["creates"] + c["updates"] + c["deletes"] for t in truth_tables(truth).values()
                for d, c in t["days"].items() if truth["generator"]["initial_load"][:10] <= d < truth["generator"]["end"][:10])
    out = tmp_path / "r.html"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "kit", "report", str(SAMPLE), "--store", str(SAMPLE_STORE), "-o", str(out)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    text = re.sub(r"<script.*?</script>", "", out.read_text(), flags=re.S)
    text = re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", text)))
    assert f"Across 8 tables and {total:,} changes" in text
    assert f"{total:,} changes over 28 days" in text
    assert "Every figure is exact: the store" in text and "estimate" not in text.split("1. Lake inventory")[0]
