"""The landing planner: which files of one pinned Delta snapshot hold which changes.

A ``TablePlan`` is one table at one version, read once. From the log alone (the JSON commit files;
the checkpoint through deltalake for the snapshot's files), never from data, it gives per commit
version still in the log up to the pinned version: its time and the time's source
(``in_commit_timestamp``, ``commit_info`` or ``file_mtime``: see ``log.commit_time_ms``; a
``commitInfo.timestamp`` of 0 or absent is not a time), operation, data_change, and its ``cdc``,
``add`` (with their deletion-vector descriptors) and ``remove`` files. Commits are parsed lazily,
newest first, as far back as a question needs.

It is the one place that knows Delta's rules for which files hold which changes; every engine
reads what it plans and nothing else:

Change data feed (Delta protocol, "Change Data Files"; delta-rs ``determine_files_to_read``)
    A commit with ``cdc`` actions: its changes are the rows of its ``cdc`` files, each typed by
    the file's ``_change_type`` column (``insert``, ``update_preimage``, ``update_postimage``,
    ``delete``). A data-changing commit without ``cdc`` actions (an append, the initial load):
    the files it adds with ``dataChange`` true are inserts (its removed files are deletes, which
    are never changes of a row version). A file removed and added again in the same commit (a
    deletion-vector update) holds rows the table already had: not an insert. A commit whose
    actions all have ``dataChange`` false (OPTIMIZE) holds no change. The feed is complete from
    the earliest version from which every commit file, every planned file, and the feed
    setting (``delta.enableChangeDataFeed``) are present without a break up to the pinned
    version.
Add-file diff (no feed, or a feed that starts late)
    Every file a commit adds with ``dataChange`` true, the first time its path is added (a path
    added again, after a deletion-vector update or a restore, holds rows that landed before).
    The first commit whose added files hold an (Id, versionnumber) landed it; rewrites (a MERGE
    copies untouched rows into its new files) land nothing new. Possible when the log reaches
    back to version 0 without a gap and every such file is still there; a file first added
    with a deletion vector is not planned (its parquet rows alone would include deleted rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from urllib.parse import unquote

from ...errors import UnreadableTableError
from .log import COMMIT_FILE, Commit, feed_enabled_from, parse_commit


@dataclass(frozen=True)
class PlannedFile:
    """One data file an engine reads for the changes, with the commit that wrote it."""

    path: str  # as the log names it (relative and URL-encoded, or an absolute URI)
    version: int
    committed_at: datetime
    #: ``cdc``: a change data file (rows typed by their ``_change_type``); ``add``: an added data
    #: file whose rows are inserts (feed) or candidate landings (add-file diff).
    kind: str
    partition_values: dict


class NotPlannable(Exception):
    """The log does not allow an exact plan of this kind (the reason is the message)."""


def _feed_on(configuration: dict | None) -> bool:
    return str((configuration or {}).get("delta.enableChangeDataFeed", "false")).lower() == "true"


class TablePlan:
    """One Delta table at its pinned ``version``: the commits and the files holding changes."""

    def __init__(self, name: str, uri: str, storage, version: int, configuration: dict):
        self.name = name
        self.uri = uri.rstrip("/")
        self.storage = storage
        self.version = version
        self.configuration = configuration
        self._parsed: dict[int, Commit] = {}

    # -- the commits ---------------------------------------------------------------------------
    @cached_property
    def _entries(self) -> dict[int, tuple[str, float]]:
        """version -> (file name, modification time) of each commit file up to the pinned
        version (later commits, by other writers since the pin, are not this snapshot's)."""
        log = self.uri + "/_delta_log"
        out = {}
        for name, _size, mtime in self.storage.list_files(log):
            m = COMMIT_FILE.match(name)
            if m and int(m.group(1)) <= self.version:
                out[int(m.group(1))] = (name, mtime)
        if not out:
            raise UnreadableTableError(
                self.name,
                f"its log folder {log!r} holds no commit files.",
                advice="Point the kit at a Delta table folder (one with _delta_log/ and commits).",
            )
        return out

    @cached_property
    def versions(self) -> list[int]:
        """The versions whose commit file is still in the log, oldest first."""
        return sorted(self._entries)

    def commit(self, version: int) -> Commit:
        """One commit, parsed on first use."""
        c = self._parsed.get(version)
        if c is None:
            name, mtime = self._entries[version]
            raw = self.storage.read_bytes(self.uri + "/_delta_log/" + name)
            c = self._parsed[version] = parse_commit(self.name, version, raw, mtime)
        return c

    @property
    def commits(self) -> list[Commit]:
        """Every commit still in the log up to the pinned version, oldest first (the files not
        read yet are fetched together: in parallel on remote storage)."""
        missing = [v for v in self.versions if v not in self._parsed]
        if len(missing) > 1:
            raws = self.storage.read_many([self.uri + "/_delta_log/" + self._entries[v][0] for v in missing])
            for v, raw in zip(missing, raws):
                self._parsed[v] = parse_commit(self.name, v, raw, self._entries[v][1])
        return [self.commit(v) for v in self.versions]

    def newest_first(self):
        """The commits newest first, stopping at the first gap in the versions."""
        expected = self.version
        for v in reversed(self.versions):
            if v != expected:
                return
            yield self.commit(v)
            expected -= 1

    @property
    def last(self) -> Commit:
        return self.commit(self.versions[-1])

    @property
    def first(self) -> Commit:
        return self.commit(self.versions[0])

    def file_uri(self, path: str) -> str:
        """The local location (or URI) of a file named by the log."""
        if "://" in path:
            from urllib.parse import urlparse

            parsed = urlparse(path)
            return unquote(parsed.path) if parsed.scheme == "file" else path
        if path.startswith("/"):
            return unquote(path)
        return self.uri + "/" + unquote(path)

    # -- the change data feed ------------------------------------------------------------------
    @staticmethod
    def feed_files_of(c: Commit) -> list[tuple[dict, str]]:
        """(action, kind) of the files holding ``c``'s changes under the feed rule (module
        docstring). NotPlannable when a planned insert file carries a deletion vector."""
        if c.cdcs:
            return [(x, "cdc") for x in c.cdcs]
        removed = {r.get("path") for r in c.removes}
        out = []
        for a in c.adds:
            if not a.get("dataChange", True) or a.get("path") in removed:
                continue
            if a.get("deletionVector"):
                raise NotPlannable(
                    f"commit {c.version} adds {a.get('path')!r} with a deletion vector and writes no change files"
                )
            out.append((a, "add"))
        return out

    def feed_start(self, *, need_removes: bool = False) -> int | None:
        """The earliest version from which the change data feed is complete to the pinned
        version (module docstring); None: no usable feed. ``need_removes``: also require the
        removed files of change-file-less commits (a reader that materialises deletes does)."""
        if not _feed_on(self.configuration):
            return None
        start = None
        window_has_setting = False
        for c in self.newest_first():
            if c.configuration is not None:
                if not _feed_on(c.configuration):
                    break  # turned off here: the feed starts after this commit
                window_has_setting = True
            try:
                needed = [a["path"] for a, _ in self.feed_files_of(c)]
            except NotPlannable:
                break
            if need_removes and not c.cdcs:
                needed += [r["path"] for r in c.removes if r.get("dataChange", True)]
            if not all(self.storage.exists(self.file_uri(p)) for p in needed):
                break
            start = c.version
        if start is None:
            return None
        if window_has_setting:
            # The setting was written inside the window: since when has it been on without a
            # break? (Reads the older commits too; rare.)
            enabled = feed_enabled_from(self.commits)
            if enabled is None or enabled > self.version:
                return None
            start = max(start, enabled)
        return start

    def feed_files(self, start: int) -> list[PlannedFile]:
        """The files holding the feed's changes from ``start`` to the pinned version."""
        out = []
        for v in range(start, self.version + 1):
            c = self.commit(v)
            for action, kind in self.feed_files_of(c):
                out.append(PlannedFile(action["path"], c.version, c.committed_at, kind, action.get("partitionValues") or {}))
        return out

    # -- the add-file diff ---------------------------------------------------------------------
    def add_diff_files(self) -> list[PlannedFile]:
        """The files of the add-file diff (module docstring), oldest first; NotPlannable with
        the reason when the log or the files do not allow it."""
        versions = self.versions
        if versions[0] != 0:
            raise NotPlannable("the log no longer reaches back to the table's creation")
        if versions[-1] != self.version or len(versions) != self.version + 1:
            raise NotPlannable("a commit file is missing from the log")
        seen: set[str] = set()
        out = []
        for v in versions:  # oldest first, parsed as it goes: a vacuumed file stops it early
            c = self.commit(v)
            for a in c.adds:
                path = a.get("path")
                if not a.get("dataChange", True) or path in seen:
                    seen.add(path)
                    continue
                seen.add(path)
                if a.get("deletionVector"):
                    raise NotPlannable(f"commit {c.version} first adds {path!r} with a deletion vector")
                if not self.storage.exists(self.file_uri(path)):
                    raise NotPlannable(f"the data file {path!r} added by commit {c.version} was vacuumed")
                out.append(PlannedFile(path, c.version, c.committed_at, "add", a.get("partitionValues") or {}))
        if not out:
            raise NotPlannable("no commit added data")
        return out
