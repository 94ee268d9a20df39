"""Library failures (deltalake, DuckDB, the OS) as the kit's own errors."""

from __future__ import annotations

import re

from ...errors import KitError, UnreadableTableError
from ...storage import redact
from ...storage.faults import describe

# Text of a failure of the storage itself (network, endpoint, credential), not of the table.
_STORAGE_FAULT = re.compile(
    r"timed out|connection refused|tcp connect error|error trying to connect|error sending request|"
    r"connection reset|dns error|failed to lookup address|\b40[13] (?:Forbidden|Unauthorized)|"
    r"AuthorizationFailure|AuthenticationFailed|AuthorizationPermissionMismatch|"
    r"lacked the necessary privileges|ContainerNotFound|InvalidAuthenticationInfo",
    re.I,
)


CHECKPOINT_ADVICE = (
    "The checkpoint is truncated or corrupt (an interrupted copy or write): copy it again from "
    "the source lake, or re-export the table."
)


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
    if _STORAGE_FAULT.search(text):
        problem, advice, _ = describe(text)
        return UnreadableTableError(table, f"the storage failed: {problem}.", advice=advice)
    if re.search(r"permission denied|os error 13", text, re.I):
        return UnreadableTableError(
            table, f"permission denied ({short[:200]}).",
            advice="Give the user running the kit read access to the table's folder and files.",
        )
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
    m = (re.search(r"Object at location (\S+) not found", text) or re.search(r"File not found: (\S+)", text)
         or re.search(r'No files found that match the pattern "([^"]+)"', text)
         or re.search(r"No such file or directory[^\n]*?:? ['\"]?([^'\"\s]+\.(?:parquet|json))", text))
    if m or isinstance(exc, FileNotFoundError):
        path = m.group(1) if m else str(exc)
        return UnreadableTableError(
            table,
            f"a file the log names is missing: {path}.",
            advice="The table was vacuumed or copied incompletely; restore the file or copy the table again.",
        )
    if "checkpoint" in text.lower() or re.search(r"corrupt footer|invalid parquet file", text, re.I):
        return UnreadableTableError(
            table, f"its checkpoint cannot be read ({short[:200]}).",
            advice=CHECKPOINT_ADVICE,
        )
    if re.search(r"json", text, re.I):
        return UnreadableTableError(
            table, f"its log holds a commit that is not valid JSON ({short[:200]}).",
            advice="The log is corrupt; restore the commit file from a backup or re-export the table.",
        )
    return UnreadableTableError(table, f"{name}: {short[:300]}")


def broken_checkpoint(source) -> UnreadableTableError | None:
    """The error naming the checkpoint file of ``source`` (a DeltaSource) whose parquet footer
    cannot be read, or None when every checkpoint file of the log reads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    storage = source.storage
    log = source.uri.rstrip("/") + "/_delta_log"
    try:
        names = [n for n, _size, _mtime in storage.list_files(log) if ".checkpoint" in n and n.endswith(".parquet")]
        for name in sorted(names, reverse=True):  # newest first: the one readers use
            try:
                pq.read_metadata(pa.BufferReader(storage.read_bytes(log + "/" + name)))
            except KitError:
                raise
            except Exception as exc:
                reason = " ".join(redact(str(exc), storage.secrets()).split())[:120]
                return UnreadableTableError(
                    source.name,
                    f"its checkpoint file {name!r} (in {log!r}) is truncated or corrupt ({reason}).",
                    advice=CHECKPOINT_ADVICE,
                )
    except KitError:
        return None
    return None


def percent_in_path(source) -> UnreadableTableError | None:
    """deltalake decodes a '%XX' sequence in a table's path (a folder named 'pct%20x' is read
    as 'pct x'), so it reports files missing that are there: say so, or None when the path has
    no such sequence."""
    m = re.search(r"%[0-9A-Fa-f]{2}", source.uri)
    if not m:
        return None
    return UnreadableTableError(
        source.name,
        f"its path {source.storage.redact(source.uri)!r} holds {m.group(0)!r}, which deltalake reads "
        f"as an escaped character, so it looks for files that are not there.",
        advice="Rename the folder (or link it under a name) without '%'.",
    )
