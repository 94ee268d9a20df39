"""Where exported tables live, and how they are found.

Layouts recognised (FORMAT.md section 1):

- ``synapse_delta``: Azure Synapse Link, Delta option: ``<root>/deltalake/<table>_partitioned/``.
- ``fabric``: Link to Microsoft Fabric: ``<root>/Tables/<table>/`` (optionally one schema level,
  ``Tables/<schema>/<table>/``), or the ``Tables`` folder itself.
- ``delta``: any folder whose subfolders are Delta tables, or a single Delta table.

Discovery only lists folders: no table log is read until the table is used, so listing a
1,000-table lake costs one directory listing (plus one per candidate folder, locally).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..errors import CsvExportError, LakeNotFoundError, NotAFolderError, NotDeltaError
from ..storage import Storage


@dataclass(frozen=True)
class TableLocation:
    """One table found in a lake: its logical name, where it is, and the layout it came from."""

    name: str
    uri: str
    layout: str
    folder: str  # the folder name as found, before normalisation


def logical_name(folder: str) -> str:
    """The Dataverse logical name of a table folder: ``Account_partitioned`` -> ``account``."""
    name = folder.rstrip("/").split("/")[-1]
    name = re.sub(r"_partitioned$", "", name, flags=re.IGNORECASE)
    return name.lower()


@dataclass
class Discovery:
    """The tables found under a location, and the layout that found them."""

    tables: list[TableLocation] = field(default_factory=list)
    duplicates: dict[str, list[str]] = field(default_factory=dict)


def _is_delta(storage: Storage, uri: str) -> bool:
    return storage.is_dir(uri.rstrip("/") + "/_delta_log")


def _children(storage: Storage, uri: str, layout: str, check_delta: bool) -> list[TableLocation]:
    names = [n for n in storage.list_dirs(uri) if not n.startswith((".", "_"))]
    found = [TableLocation(logical_name(n), uri.rstrip("/") + "/" + n, layout, n) for n in names]
    if check_delta:  # remotely one request per folder: made in parallel
        found = [loc for loc, ok in zip(found, storage.map(lambda loc: _is_delta(storage, loc.uri), found)) if ok]
    return found


def discover(storage: Storage) -> Discovery:
    """Find every table under the storage's location; see the module docstring for the rules."""
    root = storage.location.rstrip("/") or "/"
    if not storage.remote and not os.path.exists(root):
        raise LakeNotFoundError(
            f"No lake at {storage.display!r}: the folder does not exist. Pass the folder that holds "
            "'deltalake/' (Synapse Link), 'Tables/' (Fabric Link) or Delta table folders."
        )
    tables: list[TableLocation] = []
    if _is_delta(storage, root):
        tables = [TableLocation(logical_name(root), root, "delta", root.split("/")[-1])]
    else:
        subdirs = storage.list_dirs(root)
        lowered = {d.lower(): d for d in subdirs}
        if "deltalake" in lowered:
            tables += _children(storage, root + "/" + lowered["deltalake"], "synapse_delta", False)
        fabric_root = None
        if "tables" in lowered:
            fabric_root = root + "/" + lowered["tables"]
        elif root.split("/")[-1].lower() == "tables":
            fabric_root = root
        if fabric_root:
            candidates = _children(storage, fabric_root, "fabric", False)
            is_table = storage.map(lambda loc: _is_delta(storage, loc.uri), candidates)
            schemas = [loc for loc, ok in zip(candidates, is_table) if not ok]
            # a lakehouse with schemas: Tables/<schema>/<table>/
            nested = dict(zip([s.uri for s in schemas], storage.map(
                lambda loc: _children(storage, loc.uri, "fabric", True), schemas)))
            for loc, ok in zip(candidates, is_table):
                tables += [loc] if ok else nested[loc.uri]
        if not tables:
            # The 'deltalake' folder of a Synapse Link container, opened directly, is still that
            # layout; any other folder holds plain Delta tables.
            layout = "synapse_delta" if root.split("/")[-1].lower() == "deltalake" else "delta"
            tables = _children(storage, root, layout, True)
    if not tables:
        _raise_why_not(storage, root)
        raise LakeNotFoundError(
            f"No tables found at {storage.display!r}. The kit looks for Synapse Link Delta folders "
            "('deltalake/<table>_partitioned/'), Fabric Link folders ('Tables/<table>/'), "
            "subfolders that are Delta tables (with '_delta_log/'), or a single Delta table. "
            "Check the path points at the container or lakehouse root."
        )
    result = Discovery()
    seen: dict[str, TableLocation] = {}
    for loc in tables:
        if loc.name in seen:
            result.duplicates.setdefault(loc.name, [seen[loc.name].uri]).append(loc.uri)
            continue
        seen[loc.name] = loc
        result.tables.append(loc)
    result.tables.sort(key=lambda t: t.name)
    return result


def _raise_why_not(storage: Storage, root: str) -> None:
    """When no table was found: raise the precise error when the location shows the mistake (a
    file, plain parquet, a CSV export); return otherwise."""
    where = storage.display
    if storage.exists(root) and not storage.is_dir(root):
        raise NotAFolderError(
            f"{where!r} is a file, not a folder. Pass the folder that holds 'deltalake/' (Synapse Link), "
            "'Tables/' (Fabric Link) or Delta table folders."
        )
    files = [name.lower() for name, _, _ in storage.list_files(root)]
    if "model.json" in files:
        raise CsvExportError(
            f"{where!r} is a Synapse Link CSV export (model.json): CSV exports are not read yet. The kit reads "
            "the Delta Lake option of Synapse Link ('deltalake/<table>_partitioned/') and Link to Microsoft Fabric."
        )
    children = [root.rstrip("/") + "/" + d for d in storage.list_dirs(root)[:20]]  # plain parquet tables, or partitions
    if any(f.endswith(".parquet") for f in files) or any(
            name.lower().endswith(".parquet") for child in children for name, _, _ in storage.list_files(child)):
        raise NotDeltaError(
            f"No tables found at {where!r}: it holds parquet files but no Delta log ('_delta_log/'), and plain "
            "parquet is not read. "
            "Pass a Delta table, or the folder that holds 'deltalake/' (Synapse Link), 'Tables/' (Fabric Link) "
            "or Delta table folders."
        )
