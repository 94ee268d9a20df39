"""The README's Python examples count what the report advises: live rows, soft deletes left out."""

import os
import re

import kit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_block() -> list[str]:
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    block = re.search(r"## In Python\n\n```python\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines()]


def test_the_row_count_examples_count_live_rows():
    lake = kit.open_lake(os.path.join(ROOT, "sample_lake"))
    live_rows = int(lake.tables().set_index("table").loc["account", "live_rows"])
    counts = [line for line in python_block() if "count(*)" in line]
    assert counts, "the README lost its counting example"
    for line in counts:
        df = eval(line, {"lake": lake})  # noqa: S307 - the README's own example
        assert int(df.iloc[:, -1].sum()) == live_rows, line
