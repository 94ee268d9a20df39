"""Row-level change events: one row per (Id, versionnumber) that landed in the lake.

The foundation of every analysis (DEFINITIONS.md, "Changes"). Three methods, best first:

``change_feed``
    The Delta change data feed, from the earliest version whose change files still exist.
    Landings are the feed's ``insert`` and ``update_postimage`` rows. ``landed_at`` is the
    ``SinkCreatedOn`` of the earliest landing (the commit time when NULL); ``landings`` counts
    them. ``create`` when the first landing is an ``insert``, ``delete`` when the version has
    IsDelete true, else ``update``. A post-image whose pre-image carries the same versionnumber
    is a re-landing of a version that landed before, not a change. Feed ``delete`` rows (the
    purge of soft-deleted rows) and compactions never appear.
``history``
    No usable feed, but every data file the commits added is still on disk: the first commit
    whose added files hold the (Id, versionnumber) landed it. ``landings`` = distinct
    ``SinkModifiedOn`` values seen for it (each landing stamps a new one; copied rows keep it).
``snapshot``
    Only the current snapshot: each Id's latest version, ``landed_at`` = ``SinkModifiedOn`` (an
    upper bound when the version was landed again later), ``landings`` NULL (unknown),
    ``create`` when ``createdon`` equals ``modifiedon`` to the second (tables without
    ``createdon`` are append-only: ``create``), ``delete`` when IsDelete, else ``update``.

When the feed reaches back only part of the history (vacuumed files), versions first landed
before the feed's first complete version come from the snapshot rule; ``coverage()`` says from
which version and time the feed is complete.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from ...dataverse import column_map, is_deleted_sql, latest_version_sql, require_columns
from ...engines.sql import literal, quote
from ..base import CHANGE_COLUMNS, Coverage
from .source import DeltaSource, FeedFactory

def coverage(source: DeltaSource) -> Coverage:
    """Which method ``changes()`` uses for a table, and from when it is exact."""
    commits = source.commits
    observed = commits[0].committed_at if commits else None
    start = source.feed_start
    if start is not None:
        at = next(c.committed_at for c in commits if c.version == start)
        complete = start == 0
        note = (
            "change data feed complete since the table was created"
            if complete
            else f"change data feed complete from version {start} ({at:%Y-%m-%d %H:%M} UTC); "
            "older versions are known only from the snapshot (latest version per Id)"
        )
        return Coverage(source.name, "change_feed", start, at, complete, note, observed)
    if _history_files(source) is not None:
        return Coverage(source.name, "history", None, None, True,
                        "no change feed: first landings from the commit history's data files", observed)
    reason = "the change data feed is off" if not source.change_feed_enabled else "the change feed's files are gone"
    return Coverage(
        source.name, "snapshot", None, None, False,
        f"{reason} and old data files were vacuumed: only each Id's latest version is known", observed,
    )


def changes_sql(con, source: DeltaSource, view: str) -> str:
    """SQL for ``source``'s changes (registering the streams it reads on ``con``); ``view`` is
    the table's registered view."""
    cols = source.columns
    c = require_columns(source.name, cols, ("Id", "versionnumber", "modifiedon"), "changes()")
    have = column_map(cols)
    opt = {k: have.get(k.lower()) for k in ("IsDelete", "SinkCreatedOn", "SinkModifiedOn", "createdon")}
    cover = coverage(source)
    snapshot = _snapshot_sql(source.name, view, cols, c, opt)
    if cover.method == "change_feed":
        sql = _feed_sql(con, source, c, opt, cover.feed_from_version, snapshot)
    elif cover.method == "history":
        sql = _history_sql(con, source, c, opt)
    else:
        sql = f"select {', '.join(quote(x) for x in CHANGE_COLUMNS)} from ({snapshot}) s"
    return sql


def _expr(col: str | None, cast: str) -> str:
    return f"CAST({quote(col)} AS {cast})" if col else f"CAST(NULL AS {cast})"


def _deleted(col: str | None) -> str:
    return is_deleted_sql(col) if col else "false"


def _snapshot_sql(table: str, view: str, columns: list[str], c: dict, opt: dict) -> str:
    """Each Id's latest version in the snapshot, with the snapshot rule's classification."""
    created = opt["createdon"]
    if created:
        is_create = (
            f"date_trunc('second', CAST({quote(created)} AS TIMESTAMPTZ)) = "
            f"date_trunc('second', CAST({quote(c['modifiedon'])} AS TIMESTAMPTZ))"
        )
    else:
        is_create = "true"
    select = f"""
        {literal(table)} AS "table",
        CAST({quote(c['Id'])} AS VARCHAR) AS id,
        CAST({quote(c['versionnumber'])} AS BIGINT) AS versionnumber,
        case when {_deleted(opt['IsDelete'])} then 'delete'
             when {is_create} then 'create' else 'update' end AS change,
        CAST({quote(c['modifiedon'])} AS TIMESTAMPTZ) AS modifiedon,
        {_expr(opt['SinkModifiedOn'], 'TIMESTAMPTZ')} AS landed_at,
        CAST(NULL AS BIGINT) AS landings,
        'snapshot' AS method"""
    return latest_version_sql(view, columns, select)


def _feed_sql(con, source: DeltaSource, c: dict, opt: dict, start: int, snapshot: str) -> str:
    wanted = [c["Id"], c["versionnumber"], c["modifiedon"]]
    wanted += [opt[k] for k in ("IsDelete", "SinkCreatedOn") if opt[k]]
    wanted += ["_change_type", "_commit_version"]
    name = f"__kit_feed_{abs(hash((source.uri, start)))}"
    con.register(name, FeedFactory(source, wanted, start))
    # Commit times come from the kit's own reading of the log, not the feed's
    # _commit_timestamp: deltalake gives 1970-01-01 for a commit without commitInfo.timestamp,
    # where the log's clock is the commit file's modification time (as in history()).
    times = f"__kit_commit_times_{abs(hash(source.uri))}"
    commits = [c for c in source.commits if c.version >= start]
    con.register(
        times,
        pa.table(
            {
                "commit_version": pa.array([c.version for c in commits], pa.int64()),
                "commit_time": pa.array([c.committed_at for c in commits], pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    table = literal(source.name)
    return f"""
    with feed as (
        select CAST({quote(c['Id'])} AS VARCHAR) AS id,
               CAST({quote(c['versionnumber'])} AS BIGINT) AS versionnumber,
               _change_type AS change_type,
               CAST(f._commit_version AS BIGINT) AS commit_version,
               t.commit_time,
               {_deleted(opt['IsDelete'])} AS is_delete,
               CAST({quote(c['modifiedon'])} AS TIMESTAMPTZ) AS modifiedon,
               {_expr(opt['SinkCreatedOn'], 'TIMESTAMPTZ')} AS sink_created
        from {quote(name)} f
        left join {quote(times)} t on t.commit_version = f._commit_version
        where f._change_type in ('insert', 'update_preimage', 'update_postimage')
    ),
    pre as (
        select id, commit_version, versionnumber AS pre_vn, sink_created AS pre_sink
        from feed where change_type = 'update_preimage'
    ),
    landing as (
        select f.*, p.pre_vn, p.pre_sink
        from feed f left join pre p using (id, commit_version)
        where f.change_type <> 'update_preimage'
    ),
    ranked as (
        select *,
               row_number() over (partition by id, versionnumber order by commit_version) AS nth,
               count(distinct commit_version) over (partition by id, versionnumber) AS landings
        from landing
    ),
    first_landing as (select * from ranked where nth = 1),
    -- A first in-feed landing whose pre-image has the same version landed before the feed.
    genuine as (
        select * from first_landing
        where change_type = 'insert' or pre_vn is null or pre_vn <> versionnumber
    ),
    relanded as (
        select id, versionnumber, min(pre_sink) AS earlier_landing
        from first_landing where change_type = 'update_postimage' and pre_vn = versionnumber
        group by id, versionnumber
    ),
    snap as ({snapshot})
    select {table} AS "table", id, versionnumber,
           case when is_delete then 'delete' when change_type = 'insert' then 'create' else 'update' end AS change,
           modifiedon,
           coalesce(sink_created, commit_time) AS landed_at,
           CAST(landings AS BIGINT) AS landings,
           'change_feed' AS method
    from genuine
    union all
    select s."table", s.id, s.versionnumber, s.change, s.modifiedon,
           least(s.landed_at, r.earlier_landing) AS landed_at,
           s.landings, s.method
    from snap s
    left join relanded r using (id, versionnumber)
    where not exists (select 1 from genuine g where g.id = s.id and g.versionnumber = s.versionnumber)
    """


def _history_files(source: DeltaSource) -> list[tuple[str, int, datetime]] | None:
    """(uri, commit version, commit time) of every data file the commits added, when all are
    still on disk and the log reaches back to version 0; else None."""
    if source.read_path != "parquet":
        return None
    commits = source.commits
    if not commits or commits[0].version != 0:
        return None
    if commits[-1].version != len(commits) - 1:
        return None  # a commit file is missing: its added files, and first landings, are unknown
    from urllib.parse import unquote

    base = source.uri.rstrip("/")
    files = []
    for commit in commits:
        for add in commit.adds:
            if not add.get("dataChange", True):
                continue
            uri = base + "/" + unquote(add["path"])
            if not source.storage.exists(uri):
                return None
            files.append((uri, commit.version, commit.committed_at))
    return files or None


def _history_sql(con, source: DeltaSource, c: dict, opt: dict) -> str:
    files = _history_files(source) or []
    name = f"__kit_hist_{abs(hash(source.uri))}"
    con.register(
        name,
        pa.table(
            {
                "filename": [f[0] for f in files],
                "commit_version": pa.array([f[1] for f in files], pa.int64()),
                "commit_time": pa.array([f[2] for f in files], pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    file_list = "[" + ", ".join(literal(f[0]) for f in files) + "]"
    # The file name goes in a column of its own: Dataverse tables have a 'filename' column
    # (annotation, activitymimeattachment).
    scan = f"read_parquet({file_list}, union_by_name = true, hive_partitioning = false, filename = '__kit_file')"
    # A column of the Delta schema that no data file holds yet (added, never written) is NULL.
    present = {r[0].lower() for r in con.execute(f"describe select * from {scan}").fetchall()}

    def held(column):
        return column if column and column.lower() in present else None

    c = {k: held(v) for k, v in c.items()}
    opt = {k: held(v) for k, v in opt.items()}
    table = literal(source.name)
    return f"""
    with rows as (
        select {_expr(c['Id'], 'VARCHAR')} AS id,
               {_expr(c['versionnumber'], 'BIGINT')} AS versionnumber,
               {_deleted(opt['IsDelete'])} AS is_delete,
               {_expr(c['modifiedon'], 'TIMESTAMPTZ')} AS modifiedon,
               {_expr(opt['SinkCreatedOn'], 'TIMESTAMPTZ')} AS sink_created,
               {_expr(opt['SinkModifiedOn'], 'TIMESTAMPTZ')} AS sink_modified,
               h.commit_version, h.commit_time
        from {scan} d join {quote(name)} h on d.__kit_file = h.filename
    ),
    ranked as (
        select *,
               row_number() over (partition by id, versionnumber order by commit_version) AS nth,
               count(distinct coalesce(sink_modified, commit_time)) over (partition by id, versionnumber) AS landings,
               min(commit_version) over (partition by id) AS id_first_commit
        from rows
    )
    select {table} AS "table", id, versionnumber,
           case when is_delete then 'delete' when commit_version = id_first_commit then 'create' else 'update' end AS change,
           modifiedon,
           coalesce(sink_created, commit_time) AS landed_at,
           CAST(landings AS BIGINT) AS landings,
           'history' AS method
    from ranked where nth = 1
    """
