"""Three different mistakes, three different errors: a file, plain parquet, a CSV export."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import kit
from kit.errors import CsvExportError, LakeNotFoundError, NotAFolderError, NotDeltaError


def test_a_file_is_not_a_folder(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("<html></html>")
    with pytest.raises(NotAFolderError, match="is a file, not a folder"):
        kit.open_lake(str(path))


def test_plain_parquet_is_not_delta(tmp_path):
    (tmp_path / "account").mkdir()
    pq.write_table(pa.table({"Id": ["a"]}), tmp_path / "account" / "part-0.parquet")
    with pytest.raises(NotDeltaError, match="no Delta log"):
        kit.open_lake(str(tmp_path))
    with pytest.raises(NotDeltaError):
        kit.open_lake(str(tmp_path / "account"))


def test_a_synapse_link_csv_export_is_not_read_yet(tmp_path):
    (tmp_path / "model.json").write_text(json.dumps({"name": "cdm", "entities": []}))
    (tmp_path / "account").mkdir()
    (tmp_path / "account" / "2026-09.csv").write_text("a,b\n")
    with pytest.raises(CsvExportError, match="CSV exports are not read yet"):
        kit.open_lake(str(tmp_path))


def test_an_empty_folder_keeps_the_general_message(tmp_path):
    with pytest.raises(LakeNotFoundError, match="No tables found") as err:
        kit.open_lake(str(tmp_path))
    assert type(err.value) is LakeNotFoundError


def test_the_cli_says_which_mistake_in_one_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "model.json").write_text("{}")
    out = subprocess.run([sys.executable, "-m", "kit", "tables", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "CSV exports are not read yet" in lines[0]
