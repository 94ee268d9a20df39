"""Faults under the reader (local lakes): files deleted after the lake was opened, truncated or
corrupt checkpoints, odd folder names. Each ends in a KitError that names the file and gives
advice that fits the cause; the other tables' results survive; the CLI prints one line."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import warnings

import pytest

import kit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "sample_lake", "deltalake")


@pytest.fixture
def lake_dir(tmp_path):
    for name in ("account", "contact"):
        shutil.copytree(os.path.join(SAMPLE, f"{name}_partitioned"), tmp_path / "deltalake" / f"{name}_partitioned")
    return tmp_path


def log_dir(root, table="account"):
    return os.path.join(str(root), "deltalake", f"{table}_partitioned", "_delta_log")


def test_data_file_deleted_under_the_reader(lake_dir):
    lake = kit.open_lake(lake_dir)
    expected_contact = kit.sync_latency(lake, tables=["contact"])
    lake = kit.open_lake(lake_dir)
    lake.view("account")  # the table is opened and its view registered...
    victim = lake["account"].file_uris[0]
    os.remove(victim)  # ...then a file disappears (a vacuum, a copy in progress)
    with pytest.raises(kit.UnreadableTableError) as info:
        lake.changes("account").fetchall()
    assert os.path.basename(victim) in str(info.value) and "restore the file" in str(info.value)
    with pytest.warns(UserWarning, match="Skipped table 'account'"):
        got = kit.sync_latency(lake)
    assert set(got["table"]) == {"contact"}
    assert got.reset_index(drop=True).equals(expected_contact.reset_index(drop=True))
    assert "cannot be read" in lake.tables().set_index("table").loc["account", "error"]


def test_log_file_deleted_under_the_reader(lake_dir):
    lake = kit.open_lake(lake_dir)
    lake["account"].commits  # the log was read...
    commits = sorted(glob.glob(os.path.join(log_dir(lake_dir), "*.json")))
    os.remove(commits[-3])  # ...then a commit file is lost
    lake["contact"].commits
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = kit.change_volume(lake, by="day")  # the lake pinned what it read: no raw error
    assert "contact" in set(got["table"]) and len(got)
    if "account" not in set(got["table"]):  # or the table is skipped, with the reason
        assert any("Skipped table 'account'" in str(w.message) for w in caught)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_broken_checkpoint_is_named(lake_dir, damage):
    checkpoint = sorted(glob.glob(os.path.join(log_dir(lake_dir), "*.checkpoint.parquet")))[-1]
    if damage == "truncated":
        with open(checkpoint, "r+b") as fh:
            fh.truncate(100)
    else:
        size = os.path.getsize(checkpoint)
        with open(checkpoint, "wb") as fh:
            fh.write(b"\x00garbage" * (size // 8))
    lake = kit.open_lake(lake_dir)
    with pytest.raises(kit.UnreadableTableError) as info:
        lake.sql("select count(*) from account").fetchall()
    text = str(info.value)
    assert os.path.basename(checkpoint) in text and "copy it again" in text
    assert "Delete" not in text and "\n" not in text
    row = lake.tables().set_index("table")
    assert os.path.basename(checkpoint) in row.loc["account", "error"]
    assert row.loc["contact", "error"] is None or row["error"].isna()["contact"]


def test_folder_with_percent_in_its_name(lake_dir):
    """deltalake reads 'pct%20x' as 'pct x': the error says so, not that a file is missing."""
    os.rename(lake_dir / "deltalake" / "account_partitioned", lake_dir / "deltalake" / "pct%20x")
    lake = kit.open_lake(lake_dir)
    assert "pct%20x" in lake.table_names
    with pytest.raises(kit.UnreadableTableError) as info:
        lake.sql('select count(*) from "pct%20x"').fetchall()
    text = str(info.value)
    assert "'%20'" in text and "Rename the folder" in text and "is missing" not in text
    assert lake.sql("select count(*) from contact").fetchall() == [(2688,)]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(lake_dir):
    lake = kit.open_lake(lake_dir)
    victim = lake["account"].file_uris[0]
    os.chmod(victim, 0)
    try:
        with pytest.raises(kit.KitError, match="ermission"):
            kit.open_lake(lake_dir).changes("account").fetchall()
    finally:
        os.chmod(victim, 0o644)


def test_cli_prints_one_line_for_a_broken_table(lake_dir):
    checkpoint = sorted(glob.glob(os.path.join(log_dir(lake_dir), "*.checkpoint.parquet")))[-1]
    with open(checkpoint, "r+b") as fh:
        fh.truncate(50)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env["PYTHONPATH"] = ROOT
    run = subprocess.run([sys.executable, "-m", "kit", "latency", str(lake_dir), "--table", "account"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("error: ")
    assert os.path.basename(checkpoint) in run.stderr


def test_translate_error_gives_storage_advice_not_checkpoint_advice():
    """A storage that went away while deltalake read _last_checkpoint is a storage fault: the
    advice is about the storage, never to delete checkpoint files."""
    from kit.formats.delta.errors import translate_error

    exc = OSError("Generic MicrosoftAzure error: Error performing GET http://127.0.0.1:1/devstoreaccount1/lake/"
                  "t/_delta_log/_last_checkpoint in 20s - HTTP error: error sending request: operation timed out")
    error = translate_error("t", exc)
    assert "did not answer" in str(error) and "checkpoint" not in str(error).split("answer")[1]
    exc = OSError("Error performing GET ... 403 Forbidden <Code>AuthorizationPermissionMismatch</Code>")
    assert "lacks a permission" in str(translate_error("t", exc))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "refused the credential" in str(translate_error("t", OSError("403 Forbidden AuthenticationFailed")))
