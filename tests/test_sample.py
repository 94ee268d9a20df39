"""The sample lake: reproducible from its generator, within budget, and true to its TRUTH.json.

These tests read the lake with deltalake, pyarrow and DuckDB directly (not through kit's reader)
and recompute the truth file's numbers from the change feed and the snapshot.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from deltalake import DeltaTable

import kit
from kit.sample import generator as sample
from kit.sample.schemas import SCHEMAS_FILE

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_lake"
BUDGET_MB, BUDGET_FILES, BUDGET_SECONDS = 25, 4000, 180
DAY_MS = 86_400_000




@pytest.fixture(scope="module")
def committed() -> dict:
    path = SAMPLE / "TRUTH.json"
    assert path.exists(), "sample_lake/TRUTH.json is missing: run `python -m kit sample sample_lake`"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> tuple[Path, float]:
    """`python -m kit sample DEST` with the defaults, as a user runs it; and how long it took."""
    dest = tmp_path_factory.mktemp("regen") / "lake"
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "kit", "sample", str(dest)], cwd=ROOT,
                         capture_output=True, text=True, timeout=BUDGET_SECONDS * 2)
    assert run.returncode == 0, run.stderr[-3000:]
    return dest, time.perf_counter() - started


def data_tables(truth: dict) -> dict:
    return {n: t for n, t in truth["tables"].items() if t["kind"] != "metadata"}


def disk_usage(root: Path) -> tuple[int, int]:
    """(files, MB as `du -sm` counts them: allocated blocks of files and folders, rounded up)."""
    files, blocks = 0, os.lstat(root).st_blocks
    for folder, dirs, names in os.walk(root):
        blocks += sum(os.lstat(os.path.join(folder, d)).st_blocks for d in dirs)
        blocks += sum(os.lstat(os.path.join(folder, n)).st_blocks for n in names)
        files += len(names)
    return files, math.ceil(blocks * 512 / 2**20)


def relative_files(root: Path) -> set[str]:
    return {str(Path(folder, n).relative_to(root)) for folder, _, names in os.walk(root) for n in names}


def feed(path: Path, from_version: int) -> pa.Table:
    dt = DeltaTable(str(path))
    return pa.RecordBatchReader.from_stream(dt.load_cdf(starting_version=from_version)).read_all()


def duck(**tables) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in tables.items():
        con.register(name, table)
    return con


# ------------------------------------------------------------------------- reproducibility
def test_generation_is_fast_enough(regenerated):
    _, seconds = regenerated
    assert seconds < BUDGET_SECONDS, f"generation took {seconds:.0f} s"


def test_regeneration_reproduces_the_committed_truth(regenerated, committed):
    dest, _ = regenerated
    assert json.loads((dest / "TRUTH.json").read_text()) == committed


def test_regeneration_reproduces_files_history_and_rows(regenerated, committed):
    dest, _ = regenerated
    assert relative_files(dest) == relative_files(SAMPLE)
    for name, t in committed["tables"].items():
        ours, theirs = DeltaTable(str(dest / t["path"])), DeltaTable(str(SAMPLE / t["path"]))
        keep = ("version", "timestamp", "operation", "operationMetrics")
        assert [{k: h.get(k) for k in keep} for h in ours.history()] == \
               [{k: h.get(k) for k in keep} for h in theirs.history()], name
        a, b = ours.to_pyarrow_table(), theirs.to_pyarrow_table()
        order = [(c, "ascending") for c in a.column_names if c in ("Id", "versionnumber", "EntityName",
                                                                     "OptionSetName", "Option", "State",
                                                                     "Status", "AttributeName",
                                                                     "ReferencedEntity")]
        assert a.sort_by(order).equals(b.sort_by(order)), name


# ---------------------------------------------------------------------------------- budget
def test_committed_sample_is_within_budget():
    files, mb = disk_usage(SAMPLE)
    assert files <= BUDGET_FILES, files
    assert mb <= BUDGET_MB, mb


def test_regenerated_sample_is_within_budget(regenerated):
    files, mb = disk_usage(regenerated[0])
    assert files <= BUDGET_FILES and mb <= BUDGET_MB, (files, mb)


# ----------------------------------------------------------------------------- Delta logs
def test_every_table_is_listed_with_its_layout_and_kind(committed):
    tables = committed["tables"]
    kinds = Counter(t["kind"] for t in tables.values())
    assert kinds["dataverse"] >= 7 and kinds["finance_operations"] >= 1 and kinds["metadata"] == 5
    for name, t in tables.items():
        assert t["path"] == f"deltalake/{name}_partitioned"
        columns = set(DeltaTable(str(SAMPLE / t["path"])).schema().to_arrow().names)
        dataverse = {"Id", "versionnumber", "modifiedon"} <= columns
        fno = dataverse and bool({"recid", "sysrowversion"} & columns)
        expected = "finance_operations" if fno else "dataverse" if dataverse else t["kind"]
        assert t["kind"] == expected, name
    nn = DeltaTable(str(SAMPLE / tables["accountleads"]["path"])).schema().to_arrow().names
    assert "createdon" not in nn and {"Id", "accountid", "leadid", "versionnumber", "IsDelete"} <= set(nn)


def test_history_spans_28_days_and_has_checkpoints(committed):
    for name, t in data_tables(committed).items():
        path = SAMPLE / t["path"]
        history = DeltaTable(str(path)).history()
        times = [h["timestamp"] for h in history]
        assert (max(times) - min(times)) / DAY_MS >= 28, name
        counts = Counter(h["operation"] for h in history)
        assert counts["WRITE"] == t["commits"]["write"] == 1
        assert counts["MERGE"] == t["commits"]["merge"]
        assert counts["OPTIMIZE"] == t["commits"]["optimize"]
        assert counts["DELETE"] == t["commits"]["purge"]
        assert len(history) == sum(t["commits"][k] for k in ("write", "merge", "optimize", "purge"))
        log = path / "_delta_log"
        assert (log / "_last_checkpoint").exists(), name
        last = json.loads((log / "_last_checkpoint").read_text())["version"]
        assert (log / f"{last:020d}.checkpoint.parquet").exists(), name


def test_commits_carry_spark_merge_metrics_and_simulated_times(committed):
    t = committed["tables"]["email"]
    history = DeltaTable(str(SAMPLE / t["path"])).history()
    merges = [h for h in history if h["operation"] == "MERGE"]
    metrics = merges[0]["operationMetrics"]
    for key in ("numTargetRowsInserted", "numTargetRowsUpdated", "numTargetRowsDeleted",
                "numTargetRowsCopied", "numSourceRows", "numOutputRows"):
        assert isinstance(metrics[key], str), key
    start = np.datetime64(committed["generator"]["start"].rstrip("Z"), "ms").astype(np.int64)
    end = np.datetime64(committed["generator"]["end"].rstrip("Z"), "ms").astype(np.int64)
    assert all(start - 2 * DAY_MS <= h["timestamp"] <= end + DAY_MS for h in history)


# ------------------------------------------------------------------- the truth, recomputed
FIRST_LANDINGS = """
    with landing as (
        select Id, versionnumber, _commit_version as v, _change_type as ct, SinkCreatedOn, IsDelete
               {extra} from feed where _change_type in ('insert', 'update_postimage')),
    first as (
        select Id, versionnumber, arg_min(ct, v) as first_ct, arg_min(SinkCreatedOn, v) as landed_at,
               bool_or(coalesce(IsDelete, false)) as is_delete {extra_agg}
        from landing group by Id, versionnumber)
    select * from first"""


def first_landings(con, has_modifiedon: bool):
    extra = ", modifiedon" if has_modifiedon else ""
    extra_agg = ", any_value(modifiedon) as modifiedon" if has_modifiedon else ""
    return con.sql(FIRST_LANDINGS.format(extra=extra, extra_agg=extra_agg))


def test_change_feed_agrees_with_truth_per_day(committed):
    for name, t in data_tables(committed).items():
        cdf = feed(SAMPLE / t["path"], t["change_feed"]["from_version"])
        has_mod = "modifiedon" in cdf.column_names
        con = duck(feed=cdf)
        first_landings(con, has_mod).create_view("first")
        clock = "modifiedon" if has_mod else "landed_at"
        rows = con.sql(f"""
            select strftime({clock}, '%Y-%m-%d') as d,
                   count(*) filter (where not is_delete and first_ct = 'insert') as creates,
                   count(*) filter (where not is_delete and first_ct <> 'insert') as updates,
                   count(*) filter (where is_delete) as deletes
            from first group by 1 order by 1""").fetchall()
        # Days from complete_from_day on are exact from the feed (DESIGN: days vs days_snapshot).
        complete = t["change_feed"]["complete_from_day"]
        got = {d: {"creates": c, "updates": u, "deletes": x} for d, c, u, x in rows if d >= complete}
        want = {d: {k: v[k] for k in ("creates", "updates", "deletes")}
                for d, v in t["days"].items() if d >= complete}
        assert got == want, name
        # Versions by the day of their first landing, for the whole days the feed covers.
        feed_day = t["change_feed"]["from_time"][:10]
        landed = con.sql("select strftime(landed_at, '%Y-%m-%d'), count(*) from first group by 1").fetchall()
        got = {d: n for d, n in landed if d > feed_day}
        want = {d: v["landed"] for d, v in t["days"].items() if d > feed_day and v["landed"]}
        assert got == want, name


def test_change_feed_latency_agrees_with_truth(committed):
    for name, t in data_tables(committed).items():
        if t["latency_s_feed"] is None:
            continue
        cdf = feed(SAMPLE / t["path"], t["change_feed"]["from_version"])
        con = duck(feed=cdf)
        first_landings(con, True).create_view("first")
        p50, p95, top, n, sentinel, negative = con.sql("""
            with x as (select epoch(landed_at) - epoch(modifiedon) as s, year(modifiedon) < 1901 as sentinel
                       from first)
            select quantile_cont(s, 0.5) filter (where not sentinel and s >= 0),
                   quantile_cont(s, 0.95) filter (where not sentinel and s >= 0),
                   max(s) filter (where not sentinel and s >= 0),
                   count(*) filter (where not sentinel and s >= 0),
                   count(*) filter (where sentinel), count(*) filter (where not sentinel and s < 0)
            from x""").fetchall()[0]
        want = t["latency_s_feed_as_seen"]
        assert (n, sentinel, negative) == (want["changes"], want["excluded_sentinel"], want["excluded_negative"]), name
        assert [p50, p95, top] == pytest.approx([want["p50"], want["p95"], want["max"]], abs=0.01), name
        if t["feed_relanded_before"] == 0:
            assert t["latency_s_feed"] == want, name


def test_snapshot_agrees_with_truth(committed):
    for name, t in data_tables(committed).items():
        snap = DeltaTable(str(SAMPLE / t["path"])).to_pyarrow_table()
        con = duck(snap=snap)
        assert snap.num_rows == t["snapshot_rows"] == len(set(snap.column("Id").to_pylist())), name
        deleted = con.sql("select count(*) from snap where IsDelete").fetchall()[0][0]
        assert (deleted, snap.num_rows - deleted) == (t["deleted_rows"], t["live_rows"]), name
        assert con.sql("select count(*) from snap where IsDelete = false").fetchall()[0][0] == 0
        if "modifiedon" in snap.column_names:
            day, create = "strftime(modifiedon, '%Y-%m-%d')", \
                "date_trunc('second', createdon) = date_trunc('second', modifiedon)"
        else:
            day, create = "strftime(SinkCreatedOn, '%Y-%m-%d')", "true"
        rows = con.sql(f"""
            select {day} as d,
                   count(*) filter (where not coalesce(IsDelete, false) and {create}),
                   count(*) filter (where not coalesce(IsDelete, false) and not ({create})),
                   count(*) filter (where coalesce(IsDelete, false))
            from snap group by 1""").fetchall()
        got = {d: {"creates": c, "updates": u, "deletes": x} for d, c, u, x in rows}
        assert got == t["days_snapshot"], name


def test_the_feed_reaches_back_only_as_far_as_files_remain(committed):
    t = committed["tables"]["account"]
    dt = DeltaTable(str(SAMPLE / t["path"]))
    with pytest.raises(Exception):
        pa.RecordBatchReader.from_stream(dt.load_cdf(starting_version=1)).read_all()
    cutoff = np.datetime64(t["change_feed"]["cutoff"].rstrip("Z"), "ms").astype(np.int64)
    first = {h["version"]: h["timestamp"] for h in dt.history()}[t["change_feed"]["from_version"]]
    assert first >= cutoff


# ------------------------------------------------------------------------------ the story
def test_busy_table_crosses_50k_only_on_peak_days(committed):
    busy = committed["busy_table"]
    t = committed["tables"][busy["table"]]
    assert busy["peak_day_events"] > 50_000 and busy["peak_day"] >= t["change_feed"]["complete_from_day"]
    assert busy["quiet_day_events"] < 50_000
    assert 1 <= len(busy["days_over_limit"]) <= 3
    assert t["interval_minutes"] == 15
    assert busy["peak_day"] == t["peak_day"] and busy["peak_day_events"] == t["peak_day_events"]


def test_trending_table_grows_and_the_rest_stay_far_below(committed):
    trend = committed["trending_table"]
    assert trend["slope_per_day"] > 0 and trend["last_week_mean"] > 2 * trend["first_week_mean"]
    for name, t in data_tables(committed).items():
        if name == trend["table"]:
            assert t["peak_day_events"] < 50_000
        elif name != committed["busy_table"]["table"]:
            assert t["peak_day_events"] < 5_000, name


def test_outage_and_degraded_day_fall_inside_the_feed(committed):
    incidents = committed["incidents"]
    start, end = incidents["outage"]["start"], incidents["outage"]["end"]
    for name, t in data_tables(committed).items():
        assert t["change_feed"]["cutoff"] <= incidents["degraded"]["start"], name
        stamps = [h["timestamp"] for h in DeltaTable(str(SAMPLE / t["path"])).history()
                  if h["operation"] == "MERGE"]
        iso = [str(np.datetime64(s, "ms")) + "Z" for s in stamps]
        assert not [s for s in iso if start <= s < end], name
    email = incidents["outage"]["commits"]["email"]
    assert email["first_after"] >= end and email["last_before"] < start


def test_warts_are_present(committed):
    tables = committed["tables"]
    assert tables["contact"]["latency_s"]["excluded_sentinel"] > 0
    assert tables["lead"]["latency_s"]["excluded_negative"] > 0
    assert sum(t["relandings"] for t in data_tables(committed).values()) > 0
    salesline = DeltaTable(str(SAMPLE / tables["salesline"]["path"])).to_pyarrow_table()
    con = duck(s=salesline)
    assert con.sql("select count(*) from s where PartitionId = '1900'").fetchall()[0][0] > 0
    ids = con.sql("select Id, tableid, recid from s limit 50").fetchall()
    for guid, tableid, recid in ids:
        raw = guid.replace("-", "")
        assert int(raw[:8], 16) == tableid
        assert int.from_bytes(bytes.fromhex(raw[16:]), "little") == recid


def test_labels_cover_every_choice_used(committed):
    tables = committed["tables"]
    labels = {n: DeltaTable(str(SAMPLE / tables[n]["path"])).to_pyarrow_table()
              for n in ("OptionsetMetadata", "GlobalOptionsetMetadata", "StateMetadata", "StatusMetadata")}
    con = duck(**{n.lower(): t for n, t in labels.items()})
    known = set(con.sql("""select EntityName, OptionSetName, Option from optionsetmetadata
                           union select EntityName, OptionSetName, Option from globaloptionsetmetadata
                           union select EntityName, 'statecode', State from statemetadata
                           union select EntityName, 'statuscode', Status from statusmetadata""").fetchall())
    schemas = json.loads(SCHEMAS_FILE.read_text())["tables"]
    for name, schema in schemas.items():
        snap = DeltaTable(str(SAMPLE / tables[name]["path"])).to_pyarrow_table()
        for col in schema["columns"]:
            if col["role"] not in ("choice", "enum", "flag", "state", "status"):
                continue
            used = {int(v) for v in snap.column(col["name"]).to_pylist() if v is not None}
            missing = {(name, col["name"], v) for v in used} - known
            assert not missing, missing


# ------------------------------------------------------------------ options and the CLI
def test_fabric_layout_and_cli(tmp_path, capsys):
    dest = tmp_path / "fabric"
    assert sample.main([str(dest), "--days", "7", "--scale", "0.2", "--layout", "fabric"]) == 0
    assert "sample lake written" in capsys.readouterr().out
    truth = json.loads((dest / "TRUTH.json").read_text())
    assert truth["generator"]["layout"] == "fabric" and truth["generator"]["days"] == 7
    assert (dest / "Tables" / "optionsetmetadata" / "_delta_log").is_dir()
    email = DeltaTable(str(dest / "Tables" / "email"))
    flags = set(email.to_pyarrow_table(columns=["IsDelete"]).column("IsDelete").to_pylist())
    assert flags <= {None, True} and None in flags     # live rows have IsDelete NULL
    times = [h["timestamp"] for h in email.history()]
    assert (max(times) - min(times)) / DAY_MS >= 7


def test_options_change_the_lake_and_bad_ones_are_refused(tmp_path):
    small = sample.generate(tmp_path / "a", days=7, scale=0.2, seed=1)
    assert json.loads((tmp_path / "a" / "TRUTH.json").read_text()) == json.loads(json.dumps(small))
    other = sample.generate(tmp_path / "b", days=7, scale=0.2, seed=2)
    assert small["tables"]["email"]["landed_versions"] != other["tables"]["email"]["landed_versions"]
    again = sample.generate(tmp_path / "a", days=7, scale=0.2, seed=1)     # replaces a sample lake
    assert again == small
    with pytest.raises(kit.KitError, match="layout"):
        sample.generate(tmp_path / "c", layout="csv")
    with pytest.raises(kit.KitError, match="days"):
        sample.generate(tmp_path / "d", days=3)
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "notes.txt").write_text("not a lake")
    with pytest.raises(kit.KitError, match="not empty"):
        sample.generate(tmp_path / "e", days=7, scale=0.2)
    with pytest.raises(SystemExit):
        sample.main([str(tmp_path / "f"), "--layout", "csv"])
