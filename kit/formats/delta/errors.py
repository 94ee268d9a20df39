"""Library failures (deltalake, DuckDB, the OS) as the kit's own errors."""

from __future__ import annotations

import re

from ...errors import KitError, UnreadableTableError
from ...storage import redact


def translate_error(table: str, exc: BaseException, secrets=()) -> UnreadableTableError:
    """A clear UnreadableTableError from a deltalake / DuckDB / OS exception."""
    if isinstance(exc, KitError):
        return exc  # type: ignore[return-value]
    inner = re.search(r"(UnreadableTableError|NotDataverseTableError|KitError): (Table .*)", str(exc), re.S)
    if inner:  # our own error, wrapped by DuckDB while it scanned a stream
        return UnreadableTableError.from_message(table, inner.group(2))
    text = redact(re.sub(r"\x1b\[[0-9;]*m", "", str(exc)), secrets)
    name = type(exc).__name__
    # What is shown: the first line only; deltalake appends a native backtrace to some errors.
    short = text.strip().split("\n")[0].strip()
    m = re.search(r"[Ff]eature '([^']+)' is not supported", text) or re.search(
        r"reader features: \{'([^']+)'", text
    )
    if m:
        return UnreadableTableError(
            table,
            f"it uses the Delta feature {m.group(1)!r}, which deltalake cannot read.",
            advice="Read it with an engine that supports the feature.",
            feature=m.group(1),
        )
    if "contiguous commit" in text or "found gap" in text:
        found = re.findall(r'filename: "(\d+)\.json"', text)
        where = f" (between commits {int(found[0])} and {int(found[1])})" if len(found) >= 2 else ""
        return UnreadableTableError(
            table,
            f"its log has a gap: a commit file is missing{where}.",
            advice="Restore the missing commit file, or re-export the table.",
        )
    if "Invalid protocol" in text or "minimum reader version" in text:
        return UnreadableTableError(
            table, f"its protocol action is invalid ({text.split(':')[-1].strip()}).",
            advice="The log was written by a broken or unknown writer.", feature="protocol",
        )
    if "No files in log segment" in text or name == "TableNotFoundError":
        return UnreadableTableError(
            table, "it is not a Delta table: its _delta_log holds no commits.",
            advice="Point the kit at a folder with a Delta log.",
        )
    m = re.search(r"Object at location (\S+) not found", text) or re.search(r"File not found: (\S+)", text)
    if m or isinstance(exc, FileNotFoundError):
        path = m.group(1) if m else str(exc)
        return UnreadableTableError(
            table,
            f"a file the log names is missing: {path}.",
            advice="The table was vacuumed or copied incompletely; restore the file or copy the table again.",
        )
    if "checkpoint" in text.lower():
        return UnreadableTableError(
            table, f"its checkpoint cannot be read ({short[:200]}).",
            advice="Delete the broken checkpoint and _last_checkpoint so readers replay the JSON commits.",
        )
    if re.search(r"json", text, re.I):
        return UnreadableTableError(
            table, f"its log holds a commit that is not valid JSON ({short[:200]}).",
            advice="The log is corrupt; restore the commit file from a backup or re-export the table.",
        )
    return UnreadableTableError(table, f"{name}: {short[:300]}")
