"""The command line: output formats, one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest
from lakebuilder import SyncTable, record, t


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    table = SyncTable(str(root / "deltalake" / "account_partitioned"))
    table.initial([record("a", 1, t(5, 8), t(5, 8, 10))], t(5, 9))
    table.sync([record("a", 2, t(5, 8), t(5, 9, 30)), record("b", 3, t(5, 9, 40), t(5, 9, 40))], t(5, 10))
    return str(root)


def test_tables_json_lists_the_table(lake):
    out = run("tables", lake, "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["table"] for r in rows] == ["account"]
    assert rows[0]["layout"] == "synapse_delta" and rows[0]["kind"] == "dataverse"
    assert rows[0]["rows"] == 2 and rows[0]["version"] == 1


def test_tables_csv_has_a_header_and_one_row(lake):
    out = run("tables", lake, "--format", "csv")
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("table,layout,kind,version,last_commit")
    assert len(lines) == 2


def test_missing_lake_is_one_line_on_stderr_and_exit_2(tmp_path):
    out = run("tables", str(tmp_path / "nowhere"))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: No lake at")


def test_bad_option_is_one_line_and_exit_2(lake):
    out = run("volume", lake, "--by", "month")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "--by" in out.stderr


def test_unknown_table_suggests_the_close_name(lake):
    out = run("volume", lake, "--table", "acount")
    assert out.returncode == 2
    assert "Did you mean 'account'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_volume_by_day_counts_the_changes(lake):
    out = run("volume", lake, "--by", "day", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    # a: created (v1) and updated (v2); b: created (v3); all modified on 2026-01-05.
    assert rows == [
        {
            "table": "account", "period": "2026-01-05T00:00:00.000Z",
            "creates": 2, "updates": 1, "deletes": 0, "total": 3, "method": "change_feed", "exact": True,
        }
    ]


def test_a_report_path_that_cannot_be_written_is_one_line(lake, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    out = run("report", lake, "-o", str(tmp_path / "a-file" / "report.html"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "a-file" in lines[0], out.stderr


def test_bad_sample_options_are_one_line(tmp_path):
    out = run("sample", str(tmp_path / "s"), "--days", "3")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == ["error: days must be between 7 and 366, not 3."]


def test_a_corrupt_data_file_spoils_only_its_table(tmp_path):
    """The footer survives, the pages do not: DuckDB fails only when it reads the data."""
    import glob
    import os

    for name in ("account", "contact"):
        table = SyncTable(str(tmp_path / "deltalake" / f"{name}_partitioned"))
        table.initial([record(f"{name}-a", 1, t(5, 8), t(5, 8, 10))], t(5, 9))
    path = glob.glob(str(tmp_path / "deltalake" / "account_partitioned" / "**" / "*.parquet"), recursive=True)[0]
    data = bytearray(open(path, "rb").read())
    for i in range(4, len(data) // 2):
        data[i] = 0xFF
    open(path, "wb").write(bytes(data))
    os.utime(path)
    out = run("tables", str(tmp_path), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = {r["table"]: r for r in json.loads(out.stdout)}
    assert rows["contact"]["error"] is None and rows["contact"]["rows"] == 1
    assert rows["account"]["error"].startswith("Table 'account' cannot be read")
    out = run("volume", str(tmp_path), "--table", "account")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_anomalies_lists_the_flagged_hours_unless_all():
    import os

    sample = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_lake")
    # The sample's exact span (two days) is too short for baselines: with the estimated hours.
    flagged = json.loads(run("anomalies", sample, "--metric", "latency", "--include-estimates", "--format", "json").stdout)
    every = json.loads(run("anomalies", sample, "--metric", "latency", "--all", "--include-estimates", "--format", "json").stdout)
    assert all(r["exact"] is False for r in every)
    assert flagged and all(r["flag"] in ("spike", "drop") for r in flagged)
    assert len(every) > 10 * len(flagged)
    assert {(r["table"], r["hour"]) for r in flagged} <= {(r["table"], r["hour"]) for r in every}


# -- help, defaults and the lake argument ----------------------------------------------------------
def test_help_describes_each_command_in_words():
    out = run("--help")
    assert out.returncode == 0
    for func in ("sync_latency()", "change_volume()", "throughput()", "sync_cadence()", "anomalies()"):
        assert func not in out.stdout
    assert "sync latency per table and period" in out.stdout


@pytest.mark.parametrize("command, options", [
    ("latency", ["--by", "--when", "--all-periods", "--include-estimates", "--format"]),
    ("volume", ["--by", "--when", "--include-estimates", "--format"]),
    ("throughput", ["--actions-per-record", "--include-estimates", "--format"]),
    ("anomalies", ["--metric", "--all", "--include-estimates"]),
    ("sample", ["--days", "--scale", "--seed", "--layout"]),
    ("report", ["--output"]),
])
def test_every_option_has_help_and_its_default(command, options):
    text = " ".join(run(command, "--help").stdout.split())
    for option in options:
        start = text.index(option, text.index("options:"))
        assert "(default" in text[start:start + 400] or "default:" in text[start:start + 400], (command, option)
    if command == "throughput":
        assert "excluded" in text and "not in the numbers above" in text


def test_report_needs_the_lake(tmp_path):
    out = run("report", "-o", str(tmp_path / "x.html"))
    assert out.returncode == 2 and "LAKE" in out.stderr
    assert not (tmp_path / "x.html").exists()


def test_an_analysis_without_a_lake_says_it_is_the_sample():
    out = run("freshness")
    assert out.returncode == 0, out.stderr
    assert "note: no LAKE given: this is the bundled sample lake" in out.stderr


def test_sample_refuses_to_replace_an_earlier_sample_without_force(tmp_path):
    dest = tmp_path / "lake"
    dest.mkdir()
    (dest / "TRUTH.json").write_text("{}")
    out = run("sample", str(dest))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: {dest} already holds a sample lake (TRUTH.json): pass --force to replace it, or choose another folder."]
    assert (dest / "TRUTH.json").read_text() == "{}"
    forced = run("sample", str(dest), "--force", "--days", "3")  # past the check, stopped by the option
    assert forced.stderr.strip() == "error: days must be between 7 and 366, not 3."


# -- readable output ---------------------------------------------------------------------------
def test_table_format_prints_durations_readably(lake):
    out = run("cadence", lake)
    assert out.returncode == 0, out.stderr
    header, row = out.stdout.splitlines()[:2]
    assert "median_interval" in header and "median_interval_s" not in header
    assert "min" in row or " h" in row
    raw = json.loads(run("cadence", lake, "--format", "json").stdout)
    assert isinstance(raw[0]["median_interval_s"], float)  # machine formats keep seconds


def test_an_empty_result_is_a_sentence(lake):
    out = run("gaps", lake, "--outages-only")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "No outages: no sync gap kept changes waiting.\n"
    assert json.loads(run("gaps", lake, "--outages-only", "--format", "json").stdout) == []


def test_a_lake_without_dataverse_tables_says_so_in_one_line(tmp_path):
    from lakebuilder import plain_table

    plain_table(tmp_path / "lake" / "notes", t(5, 1))
    for command in ("latency", "volume", "throughput", "cadence", "gaps", "freshness", "anomalies"):
        out = run(command, str(tmp_path / "lake"))
        assert out.returncode == 2, (command, out.stdout)
        assert "Empty DataFrame" not in out.stdout
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: No Dataverse table in"), (command, out.stderr)


SAMPLE = __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.dirname(
    __import__("os").path.abspath(__file__))), "sample_lake")


def test_latency_and_volume_default_to_the_observed_periods():
    # No week of the sample is exact (its exact span starts on Monday 2026-09-28 afternoon):
    # the weeks come with the estimates, flagged.
    assert json.loads(run("volume", SAMPLE, "--by", "week", "--format", "json").stdout) == []
    observed = json.loads(run("volume", SAMPLE, "--by", "week", "--include-estimates", "--format", "json").stdout)
    assert not any(r["exact"] for r in observed)
    every = run("volume", SAMPLE, "--by", "week", "--all-periods", "--include-estimates", "--format", "json")
    everything = json.loads(every.stdout)
    assert min(r["period"] for r in observed) >= "2026-08-31"  # the sample's first sync: 2026-09-01
    assert min(r["period"] for r in everything) < "2025-01-01"  # the initial load's backlog
    assert len(everything) > len(observed)
    out = run("volume", SAMPLE, "--by", "week", "--include-estimates")
    assert "--all-periods shows them" in out.stderr
    exact = run("volume", SAMPLE, "--by", "day")
    assert "Exact figures only (UTC)" in exact.stderr and "--include-estimates" in exact.stderr


# -- progress ------------------------------------------------------------------------------------
def test_no_progress_bar_when_stderr_is_not_a_terminal(lake, tmp_path):
    out = run("report", lake, "-o", str(tmp_path / "r.html"))
    assert out.returncode == 0, out.stderr
    assert "\r" not in out.stderr and "analysing" not in out.stderr
    assert out.stdout == f"wrote {tmp_path / 'r.html'}\n"


def test_a_progress_bar_on_a_terminal(lake, tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "kit", "report", lake, "-o", str(tmp_path / "r.html")],
                            stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0
    text = seen.decode(errors="replace")
    assert "reading tables" in text and "analysing" in text and "/17 [" in text
    assert text.rstrip(" ").endswith("\r")  # the bar clears itself: the terminal keeps only "wrote ..."
