"""The store file: a DuckDB database of first landings, one row per (table, Id, versionnumber).

Why: a lake keeps its change feed a short while (Synapse Link vacuums nightly; Fabric Link keeps
about a day), so one run of the kit is exact only inside that window. ``Lake.collect()`` records
each first landing the feed (or the add-file diff) shows, once, with its kind, ``modifiedon``,
``landed_at`` and method; a later landing of the same version only raises its ``landings``. With
a store, ``Lake.changes()`` is the stored history plus the commits not collected yet: exact as
if the feed had never been vacuumed.

What it holds (schema version 1):

``landings``
    The ``changes`` columns (``table``, ``id``, ``versionnumber``, ``change``, ``modifiedon``,
    ``landed_at``, ``landings``, ``method``) of every collected version.
``collected``
    One row per table: the table's id (``metaData.id``) and the last version collected, its
    commit time, the method, and since when the record is exact (``first_version`` of the
    first table id collected, ``first_time``; ``complete`` when that was the table's creation).
``gaps``
    Commits whose changes no collect saw: vacuumed between two collects (``commits`` lost), or
    a table dropped and created again (``reason`` ``recreated``: what its old id committed after
    the last collect is unknown). ``from_time`` is the last collected commit's time and
    ``to_time`` the last lost commit's (or the new table's first): a change modified between
    them may be missing.
``collects``
    A line per table per collect that read commits: versions read, changes added, landings
    added, when (the wall clock of the collect: the only non-deterministic value, never shown
    in an analysis).

Concurrency: DuckDB lets one process write a database file and refuses every other open
meanwhile. The kit attaches the store for as short a time as it can (reading one table's rows;
merging one table's increment) and retries a busy store until ``KIT_STORE_TIMEOUT`` seconds
(default 120) have passed, then raises ``StoreBusyError``. A merge runs in one transaction that
first checks the table's last collected version is still the one its increment starts from, so
two collects at once never record a landing twice.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from ..engines.sql import literal, quote
from ..errors import KitError, StoreBusyError, StoreError
from ..formats.base import CHANGE_COLUMNS, Coverage

SCHEMA_VERSION = 1
ALIAS = "__kit_store"
_STORE_TIMEOUT_S = 120.0

_DDL = [
    """create table if not exists {s}.kit_store (key VARCHAR, value VARCHAR)""",
    """create table if not exists {s}.landings (
        "table" VARCHAR, id VARCHAR, versionnumber BIGINT, change VARCHAR,
        modifiedon TIMESTAMPTZ, landed_at TIMESTAMPTZ, landings BIGINT, method VARCHAR)""",
    """create table if not exists {s}.collected (
        "table" VARCHAR, table_id VARCHAR, version BIGINT, committed_at TIMESTAMPTZ, method VARCHAR,
        first_table_id VARCHAR, first_version BIGINT, first_time TIMESTAMPTZ, complete BOOLEAN)""",
    """create table if not exists {s}.gaps (
        "table" VARCHAR, table_id VARCHAR, from_version BIGINT, to_version BIGINT,
        from_time TIMESTAMPTZ, to_time TIMESTAMPTZ, commits BIGINT, reason VARCHAR)""",
    """create table if not exists {s}.collects (
        "table" VARCHAR, table_id VARCHAR, from_version BIGINT, to_version BIGINT,
        changes_added BIGINT, landings_added BIGINT, collected_at TIMESTAMPTZ)""",
]


def store_timeout() -> float:
    """Seconds to wait for a busy store (``KIT_STORE_TIMEOUT``, default 120)."""
    raw = os.environ.get("KIT_STORE_TIMEOUT")
    if raw is None:
        return _STORE_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise KitError(f"KIT_STORE_TIMEOUT={raw!r} is not a number of seconds.") from None
    if value < 0:
        raise KitError(f"KIT_STORE_TIMEOUT={raw!r} must be zero or more seconds.")
    return value


@dataclass(frozen=True)
class StoredTable:
    """What the store knows of one table, read in one consistent look."""

    table: str
    table_id: str
    version: int  # the last version collected (of ``table_id``)
    committed_at: datetime
    method: str
    first_version: int  # the first version collected, of the first table id
    first_time: datetime  # its commit time: the record is exact from here
    complete: bool  # collecting began at the table's creation, and no gap since
    gaps: tuple = field(default_factory=tuple)  # dicts: from_version, to_version, from_time, to_time, commits, reason
    rows: str = ""  # the engine's temporary table holding the stored rows


class Store:
    """A store file. ``path`` need not exist: the first collect creates it; reading a store
    that does not exist finds nothing. ``lake_root``: the local lake's folder (a store inside
    it is refused: the kit never writes to a lake)."""

    def __init__(self, path, lake_root: str | None = None, lake_key: str | None = None):
        if isinstance(path, Store):
            path = path.path
        raw = str(path).strip()
        if not raw:
            raise StoreError("store='' names no file: pass the path of the store's DuckDB file (it is created on first collect).")
        if "://" in raw:
            raise StoreError(
                f"store={raw!r} is a URI: the store is a local DuckDB file; give a path on this machine "
                "(in a Fabric or Synapse notebook, a path under the attached lakehouse's /lakehouse/default/Files)."
            )
        self.path = Path(raw).expanduser().resolve()
        if self.path.is_dir():
            raise StoreError(f"store={str(self.path)!r} is a folder: pass the path of a file, e.g. {str(self.path / 'kit_store.duckdb')!r}.")
        #: Which lake this store records: a local lake by its path relative to the store's
        #: folder (a store moved with its lake still matches), a remote one by its URI.
        self.lake_key = lake_key
        if lake_root is not None:
            root = Path(lake_root).expanduser().resolve()
            self.lake_key = os.path.relpath(root, self.path.parent)
            if self.path == root or root in self.path.parents:
                raise StoreError(
                    f"store={str(self.path)!r} is inside the lake {str(root)!r}: the kit never writes to a lake. "
                    "Keep the store beside it, e.g. in the folder above."
                )

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        return self.path.exists()

    # -- attaching ------------------------------------------------------------------------------
    @contextmanager
    def attached(self, con, *, write: bool):
        """The store attached to ``con`` as ``ALIAS`` for the block: read-only, or for writing
        (created with its tables if new). Retries while another process or lake holds it."""
        mode = "" if write else " (READ_ONLY)"
        deadline = time.monotonic() + store_timeout()
        delay = 0.05
        while True:
            try:
                con.execute(f"ATTACH {literal(str(self.path))} AS {quote(ALIAS)}{mode}")
                break
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                busy = "lock" in str(exc).lower() or "conflict" in str(exc).lower()
                if not busy:
                    raise StoreError(f"The store {str(self.path)!r} cannot be opened: {_first_line(exc)}") from None
            except duckdb.Error as exc:
                text = str(exc)
                if "conflict" not in text.lower() and "already attached" not in text.lower():
                    raise StoreError(
                        f"The store {str(self.path)!r} cannot be opened: {_first_line(exc)}. "
                        "Is it a kit store (a DuckDB file written by collect)?"
                    ) from None
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"The store {str(self.path)!r} is busy: another collect or lake holds it. "
                    "Try again later, or raise KIT_STORE_TIMEOUT (seconds; now "
                    f"{store_timeout():g})."
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        try:
            self._check_schema(con, write)
            self._check_lake(con, write)
            yield ALIAS
        finally:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            con.execute(f"DETACH {quote(ALIAS)}")

    def _check_lake(self, con, write: bool) -> None:
        """One store per lake: a store collected from another lake would mix its tables in."""
        if self.lake_key is None:
            return
        s = quote(ALIAS)
        (recorded,) = con.execute(f"select max(value) from {s}.kit_store where key = 'lake'").fetchone()
        if recorded is None:
            if write:
                con.execute(f"insert into {s}.kit_store values ('lake', {literal(self.lake_key)})")
            return
        if recorded != self.lake_key:
            raise StoreError(
                f"The store {str(self.path)!r} records the lake {recorded!r} (relative to the store's folder "
                f"when local), not this one ({self.lake_key!r}): use one store per lake."
            )

    def _check_schema(self, con, write: bool) -> None:
        s = quote(ALIAS)
        tables = {r[0] for r in con.execute(
            f"select table_name from duckdb_tables() where database_name = {literal(ALIAS)}").fetchall()}
        if not tables and write:
            for ddl in _DDL:
                con.execute(ddl.format(s=s))
            con.execute(f"insert into {s}.kit_store values ('schema_version', {literal(str(SCHEMA_VERSION))})")
            return
        if "kit_store" not in tables:
            raise StoreError(
                f"{str(self.path)!r} is a DuckDB file but not a kit store: pass a new path, or the file a collect wrote."
            )
        (version,) = con.execute(f"select max(value) from {s}.kit_store where key = 'schema_version'").fetchone()
        if version != str(SCHEMA_VERSION):
            raise StoreError(
                f"The store {str(self.path)!r} has schema version {version}; this kit reads version {SCHEMA_VERSION}. "
                "Collect into a new store file."
            )

    # -- reading ----------------------------------------------------------------------------------
    def read_table(self, con, table: str, rows_name: str) -> StoredTable | None:
        """What the store knows of ``table``, its rows copied into the temporary table
        ``rows_name`` of ``con`` (the store is held only while copying); None when the store
        has never collected the table (or does not exist yet)."""
        if not self.exists:
            return None
        with self.attached(con, write=False) as alias:
            state = self._state(con, alias, table)
            if state is None:
                return None
            con.execute(f"""create or replace temp table {quote(rows_name)} as
                select "table", id, versionnumber, change, modifiedon, landed_at, landings, method
                from {quote(alias)}.landings where "table" = {literal(table)}""")
            return StoredTable(**{**state.__dict__, "rows": rows_name})

    def _state(self, con, alias: str, table: str) -> StoredTable | None:
        s = quote(alias)
        row = con.execute(f"""select table_id, version, committed_at, method, first_version, first_time, complete
            from {s}.collected where "table" = {literal(table)}""").fetchall()
        if not row:
            return None
        table_id, version, committed_at, method, first_version, first_time, complete = row[0]
        gaps = con.execute(f"""select from_version, to_version, from_time, to_time, commits, reason, table_id
            from {s}.gaps where "table" = {literal(table)} order by coalesce(from_time, to_time), from_version""").fetchall()
        keys = ("from_version", "to_version", "from_time", "to_time", "commits", "reason", "table_id")
        return StoredTable(table, table_id, version, committed_at, method, first_version, first_time,
                           bool(complete) and not gaps, tuple(dict(zip(keys, g)) for g in gaps))

    def read_state(self, con, table: str) -> StoredTable | None:
        """The store's record of ``table`` without its rows (None: never collected)."""
        if not self.exists:
            return None
        with self.attached(con, write=False) as alias:
            return self._state(con, alias, table)

    def tables(self, con) -> list[str]:
        """The tables the store has collected."""
        if not self.exists:
            return []
        with self.attached(con, write=False) as alias:
            return [r[0] for r in con.execute(f'select "table" from {quote(alias)}.collected order by 1').fetchall()]

    # -- writing ----------------------------------------------------------------------------------
    def merge(self, con, table: str, increment, increment_rows: str, expected: tuple | None, now: datetime) -> dict | None:
        """Record ``increment`` (a ``formats`` ``Increment`` whose rows are in the temporary
        table ``increment_rows`` of ``con``) in one transaction. ``expected``: (table id, last
        version) the increment was computed from, or None for a table never collected. Returns
        None when the store moved on meanwhile (another collect): the caller computes the
        increment again; else the counts added."""
        with self.attached(con, write=True) as alias:
            s = quote(alias)
            t = literal(table)
            con.execute("BEGIN TRANSACTION")
            state = self._state(con, alias, table)
            found = None if state is None else (state.table_id, state.version)
            if found != expected:
                con.execute("ROLLBACK")
                return None
            changes_added = landings_added = 0
            if increment.sql is not None:
                # Versions known already: a later landing only raises their count (before the
                # insert, so the new rows are not counted twice).
                (landings_added,) = con.execute(f"""
                    select coalesce(sum(i.landings), 0) from {quote(increment_rows)} i
                    join {s}.landings l on l."table" = {t} and l.id = i.id and l.versionnumber = i.versionnumber""").fetchone()
                con.execute(f"""
                    update {s}.landings l set landings = l.landings + i.landings
                    from {quote(increment_rows)} i
                    where l."table" = {t} and l.id = i.id and l.versionnumber = i.versionnumber""")
                # A version first seen by the feed as an insert whose Id the store knows from an
                # earlier version (a re-created table's initial load) is an update.
                (changes_added,) = con.execute(f"""
                    insert into {s}.landings
                    select {t}, i.id, i.versionnumber,
                           case when i.change = 'create' and i.id in (select id from {s}.landings where "table" = {t})
                                then 'update' else i.change end,
                           i.modifiedon, i.landed_at, i.landings, i.method
                    from {quote(increment_rows)} i
                    where not i.relanding
                      and not exists (select 1 from {s}.landings l
                                      where l."table" = {t} and l.id = i.id and l.versionnumber = i.versionnumber)""").fetchone()
            gap = increment.gap
            if state is not None and state.table_id != increment.table_id:
                con.execute(f"""insert into {s}.gaps values ({t}, {literal(state.table_id)}, {state.version + 1}, NULL,
                    {_ts(state.committed_at)}, {_ts(increment.from_time)}, NULL, 'recreated')""")
            if gap is not None:
                # From the last commit collected: a change modified after it may have landed in
                # the lost commits.
                after = state.committed_at if state is not None else gap.from_time
                con.execute(f"""insert into {s}.gaps values ({t}, {literal(increment.table_id)}, {gap.from_version},
                    {gap.to_version}, {_ts(after)}, {_ts(gap.to_time)}, {gap.commits}, 'vacuumed')""")
            method = increment.method or (state.method if state is not None else None)
            if state is None:
                con.execute(f"""insert into {s}.collected values ({t}, {literal(increment.table_id)}, {increment.to_version},
                    {_ts(increment.to_time)}, {literal(method)}, {literal(increment.table_id)}, {increment.from_version},
                    {_ts(increment.from_time)}, {'true' if increment.from_version == 0 else 'false'})""")
            else:
                con.execute(f"""update {s}.collected set table_id = {literal(increment.table_id)},
                    version = {increment.to_version}, committed_at = {_ts(increment.to_time)}, method = {literal(method)}
                    where "table" = {t}""")
            if increment.from_version <= increment.to_version:
                con.execute(f"""insert into {s}.collects values ({t}, {literal(increment.table_id)}, {increment.from_version},
                    {increment.to_version}, {changes_added}, {landings_added}, {_ts(now)})""")
            con.execute("COMMIT")
            return {"changes_added": int(changes_added), "landings_added": int(landings_added)}


_NO_INCREMENT = (
    'select CAST(NULL AS VARCHAR) AS "table", CAST(NULL AS VARCHAR) AS id, CAST(NULL AS BIGINT) AS versionnumber, '
    "CAST(NULL AS VARCHAR) AS change, CAST(NULL AS TIMESTAMPTZ) AS modifiedon, CAST(NULL AS TIMESTAMPTZ) AS landed_at, "
    "CAST(NULL AS BIGINT) AS landings, CAST(NULL AS VARCHAR) AS method, false AS relanding where false"
)


def merged_changes_sql(stored: StoredTable, increment_sql: str | None, snapshot_sql: str | None) -> str:
    """SQL of a table's ``changes`` with a store: the stored versions (their ``landings``
    raised by the uncollected commits that landed them again), the versions the uncollected
    commits landed first (``increment_sql``: an ``Increment``'s rows), and, when the store is not
    complete, the snapshot rule's rows (``snapshot_sql``) for the versions neither knows."""
    inc = increment_sql or _NO_INCREMENT
    cols = ", ".join(quote(c) for c in CHANGE_COLUMNS)
    sql = f"""
    with stored as (select * from {quote(stored.rows)}),
    inc as ({inc}
    ),
    merged as (
        select s."table", s.id, s.versionnumber, s.change, s.modifiedon, s.landed_at,
               s.landings + coalesce(i.landings, 0) AS landings, s.method
        from stored s left join inc i using (id, versionnumber)
        union all
        -- An insert of an Id the store knows (a re-created table's initial load) is an update.
        select i."table", i.id, i.versionnumber,
               case when i.change = 'create' and i.id in (select id from stored) then 'update' else i.change end,
               i.modifiedon, i.landed_at, i.landings, i.method
        from inc i
        where not i.relanding
          and not exists (select 1 from stored s where s.id = i.id and s.versionnumber = i.versionnumber)
    )"""
    if snapshot_sql is None:
        return sql + f"\n    select {cols} from merged"
    return sql + f"""
    select {cols} from merged
    union all
    select {cols} from ({snapshot_sql}) snap
    where not exists (select 1 from merged m where m.id = snap.id and m.versionnumber = snap.versionnumber)"""


def stored_coverage(stored: StoredTable, lake: Coverage) -> Coverage:
    """The coverage of a table the store collected: exact from the first collected commit."""
    observed = min((t for t in (stored.first_time, lake.observed_from) if t is not None), default=None)
    if stored.complete:
        note = f"exact since the table was created: collected into the store up to version {stored.version}"
    else:
        start = "" if stored.first_version == 0 else (
            f"; versions first landed before {stored.first_time:%Y-%m-%d %H:%M} UTC are known only from the snapshot")
        lost = ""
        if stored.gaps:
            spans = [_gap_text(g) for g in stored.gaps]
            lost = "; not collected: " + "; ".join(spans) + " (changes first landed then are known only from the snapshot)"
        note = (f"exact from {stored.first_time:%Y-%m-%d %H:%M} UTC: collected into the store up to version "
                f"{stored.version}{start}{lost}")
    return Coverage(lake.table, stored.method, stored.first_version, stored.first_time, stored.complete, note,
                    observed, tuple(stored.gaps), collected=True)


def _gap_text(gap: dict) -> str:
    when = lambda t: "?" if t is None else f"{t:%Y-%m-%d %H:%M}"  # noqa: E731
    if gap["reason"] == "recreated":
        return (f"the table was re-created: what it committed after version {gap['from_version']} "
                f"({when(gap['from_time'])} UTC) until the new table began ({when(gap['to_time'])} UTC)")
    n = gap["commits"]
    return (f"{n} commit{'s' if n != 1 else ''} (versions {gap['from_version']}-{gap['to_version']}, "
            f"after {when(gap['from_time'])} until {when(gap['to_time'])} UTC) vacuumed between two collects")


def _ts(value) -> str:
    if value is None:
        return "CAST(NULL AS TIMESTAMPTZ)"
    return f"TIMESTAMPTZ {literal(value.isoformat())}"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
