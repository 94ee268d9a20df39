"""Row-level change events: one row per (Id, versionnumber) that landed in the lake.

The foundation of every analysis (DEFINITIONS.md, "Changes"). The planner (``formats.delta.plan``)
says which files hold which changes; the engine (DuckDB) reads exactly those files, projecting
only the columns the changes need, with each file's commit version and time joined from the
plan. Four methods, best first:

``change_feed``
    The Delta change data feed, from the earliest version whose change files still exist:
    the planned ``_change_data`` files, and the added files of commits that write none (the
    initial load, appends). Landings are the feed's ``insert`` and ``update_postimage`` rows.
    ``landed_at`` is the ``SinkCreatedOn`` of the earliest landing (the commit time when NULL);
    ``landings`` counts the commits that landed it. ``create`` when the first landing is an
    ``insert``, ``delete`` when the version has IsDelete true, else ``update``. A post-image
    whose pre-image carries the same versionnumber is a re-landing of a version that landed
    before, not a change. Feed ``delete`` rows (the purge of soft-deleted rows) and
    compactions never appear.
``add_diff``
    No feed back to the table's creation, but the log reaches back to version 0 and every file
    first added with data still exists: the first commit whose added files hold the (Id,
    versionnumber) landed it (rows re-added by a rewrite or a deletion-vector update are not new
    landings). ``landings`` = distinct ``SinkModifiedOn`` values seen for it (each landing
    stamps a new one; copied rows keep it). ``create`` when that commit is the first to hold
    the Id. Gives the feed's answer on a table that has both.
``history``
    The earlier name of ``add_diff``; no longer produced, still accepted where methods are
    named.
``snapshot``
    Only the current snapshot: each Id's latest version, ``landed_at`` = ``SinkModifiedOn`` (an
    upper bound when the version was landed again later), ``landings`` NULL (unknown),
    ``create`` when ``createdon`` equals ``modifiedon`` to the second (tables without
    ``createdon`` are append-only: ``create``), ``delete`` when IsDelete, else ``update``.

When the feed reaches back only part of the history (vacuumed files) and the add-file diff is
not possible, versions first landed before the feed's first complete version come from the
snapshot rule; ``coverage()`` says from which version and time the feed is complete.

Commit times come from the planner (``commitInfo.inCommitTimestamp``, else a positive
``commitInfo.timestamp``, else the commit file's modification time), never from deltalake's
``_commit_timestamp`` (1970-01-01 for a commit without ``commitInfo.timestamp``).

Tables whose files the engine cannot read itself (remote, column mapping) read the feed through
deltalake's ``load_cdf``, bounded to the pinned version; they have no add-file diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from ...dataverse import column_map, is_deleted_sql, latest_version_sql, require_columns
from ...engines.sql import literal, quote, truncate
from ..base import CHANGE_COLUMNS, Coverage
from .plan import NotPlannable, PlannedFile
from .types import sql_type

if TYPE_CHECKING:
    from .source import DeltaSource


@dataclass(frozen=True)
class Landing:
    """How a table's changes are computed: the coverage and the planned files."""

    coverage: Coverage
    files: list[PlannedFile] | None  # None: the feed through load_cdf, or no files (snapshot)


def landing(source: DeltaSource) -> Landing:
    """Choose the method for ``source`` (once per pinned source) and plan its files."""
    cached = source.__dict__.get("_kit_landing")
    if cached is not None:
        return cached
    plan = source.plan
    observed = plan.first.committed_at
    start = source.feed_start
    result = None
    if start == 0:
        result = _feed_landing(source, 0, observed)
    if result is None and source.reads_files:
        try:
            files = plan.add_diff_files()
        except NotPlannable:
            files = None
        if files is not None:
            note = (
                "first landings from the files each commit added (add-file diff), back to the table's creation"
                + ("" if start is None else f"; the change data feed starts only at version {start}")
            )
            at = None if start is None else plan.commit(start).committed_at
            result = Landing(Coverage(source.name, "add_diff", start, at, True, note, observed), files)
    if result is None and start is not None:
        result = _feed_landing(source, start, observed)
    if result is None:
        reason = "the change data feed is off" if not source.change_feed_enabled else "the change feed's files are gone"
        result = Landing(
            Coverage(
                source.name, "snapshot", None, None, False,
                f"{reason} and old data files were vacuumed: only each Id's latest version is known", observed,
            ),
            None,
        )
    source.__dict__["_kit_landing"] = result
    return result


def _feed_landing(source: DeltaSource, start: int, observed) -> Landing:
    at = source.plan.commit(start).committed_at
    complete = start == 0
    note = (
        "change data feed complete since the table was created"
        if complete
        else f"change data feed complete from version {start} ({at:%Y-%m-%d %H:%M} UTC); "
        "older versions are known only from the snapshot (latest version per Id)"
    )
    files = source.plan.feed_files(start) if source.reads_files else None
    return Landing(Coverage(source.name, "change_feed", start, at, complete, note, observed), files)


def coverage(source: DeltaSource) -> Coverage:
    """Which method ``changes()`` uses for a table, and from when it is exact."""
    return landing(source).coverage


@dataclass(frozen=True)
class Increment:
    """What the commits of a table after an already collected version landed (``kit.store``).

    ``sql``: one row per (Id, versionnumber) landed by a commit from ``from_version`` to
    ``to_version``: the ``changes`` columns (``landings`` counts the landings in those commits
    only) plus ``relanding``, true when the version had landed before ``from_version``. None
    when there is nothing to read. ``gap``: the commits after the collected version that can no
    longer be read (vacuumed), or None (always None on a first collect: what came before it is
    the snapshot's, not a gap)."""

    table_id: str
    from_version: int
    to_version: int
    from_time: object  # datetime of ``from_version``'s commit (None when nothing is read)
    to_time: object  # datetime of ``to_version``'s commit
    method: str | None  # change_feed | add_diff; None: nothing readable
    sql: str | None
    gap: Gap | None


def increment(con, source: DeltaSource, after: int | None, after_table_id: str | None) -> Increment:
    """The ``Increment`` of ``source`` after version ``after`` of the table ``after_table_id``
    (None, or another table id: the table was never collected, or re-created since: every
    commit is new). Reads only the commits after ``after`` with the feed; with the add-file
    diff (no feed), every added file (copies must be told from landings)."""
    c = require_columns(source.name, source.columns, ("Id", "versionnumber", "modifiedon"), "collect()")
    have = column_map(source.columns)
    opt = {k: have.get(k.lower()) for k in ("IsDelete", "SinkCreatedOn", "SinkModifiedOn", "createdon")}
    plan = source.plan
    table_id = source.table_id
    if after_table_id != table_id:
        after = None
    start = 0 if after is None else after + 1
    last = plan.last
    if start > source.version:
        return Increment(table_id, start, source.version, None, last.committed_at, None, None, None)
    first_known = plan.versions[0]
    feed = source.feed_start
    if feed is not None and feed <= max(start, first_known):
        begin = max(start, first_known)
        files = plan.feed_files(begin) if source.reads_files else None
        sql = _feed_sql(con, source, c, opt, begin, files, None, window=True)
        gap = None if after is None else _gap(source, start, begin)
        return Increment(table_id, begin, source.version, plan.commit(begin).committed_at, last.committed_at,
                         "change_feed", sql, gap)
    if source.reads_files:
        try:
            files = plan.add_diff_files()
        except NotPlannable:
            files = None
        if files is not None:
            sql = _add_diff_sql(con, source, c, opt, files, after=start - 1)
            return Increment(table_id, start, source.version, plan.commit(start).committed_at, last.committed_at,
                             "add_diff", sql, None)
    if feed is not None:
        files = plan.feed_files(feed) if source.reads_files else None
        sql = _feed_sql(con, source, c, opt, feed, files, None, window=True)
        return Increment(table_id, feed, source.version, plan.commit(feed).committed_at, last.committed_at,
                         "change_feed", sql, None if after is None else _gap(source, start, feed))
    return Increment(table_id, source.version + 1, source.version, None, last.committed_at, None, None,
                     None if after is None else _gap(source, start, source.version + 1))


@dataclass(frozen=True)
class Gap:
    """Commits of a table that landed changes nobody collected: their files are gone."""

    from_version: int
    to_version: int  # inclusive
    from_time: object  # datetime of the first lost commit when its log entry is known, else None
    to_time: object  # datetime of the last lost commit when known, else None
    commits: int


def _gap(source: DeltaSource, start: int, begin: int) -> Gap | None:
    """The commits ``start`` .. ``begin - 1`` when they held data changes (a gap of OPTIMIZE
    commits only loses nothing); None when none is lost."""
    if begin <= start:
        return None
    plan = source.plan
    in_log = set(plan.versions)
    known = [v for v in range(start, begin) if v in in_log]
    if known and len(known) == begin - start and not any(plan.commit(v).data_change for v in known):
        return None
    lost = [v for v in known if plan.commit(v).data_change] or known
    return Gap(start, begin - 1,
               plan.commit(lost[0]).committed_at if lost else None,
               plan.commit(lost[-1]).committed_at if lost else None,
               begin - start)


def changes_sql(con, source: DeltaSource, view: str, method: str | None = None, methods=None) -> str:
    """SQL for ``source``'s changes (registering what it reads on ``con``); ``view`` is the
    table's registered view. ``method`` forces ``add_diff`` or ``snapshot`` (for comparing
    methods; NotPlannable when the log does not allow it); None chooses the best. ``methods``
    (a list): only the changes of these methods, the others never computed (``history`` is
    read as ``add_diff``, its earlier name); None: all."""
    cols = source.columns
    c = require_columns(source.name, cols, ("Id", "versionnumber", "modifiedon"), "changes()")
    have = column_map(cols)
    opt = {k: have.get(k.lower()) for k in ("IsDelete", "SinkCreatedOn", "SinkModifiedOn", "createdon")}
    snapshot = _snapshot_sql(source.name, view, cols, c, opt)
    if method == "snapshot":
        return f"select {', '.join(quote(x) for x in CHANGE_COLUMNS)} from ({snapshot}) s"
    if method == "add_diff":
        return _add_diff_sql(con, source, c, opt, source.plan.add_diff_files())
    if method is not None:
        raise ValueError(f"method={method!r}: only 'add_diff' or 'snapshot' can be forced")
    chosen = landing(source)
    cover = chosen.coverage
    wanted = None if methods is None else {"add_diff" if m == "history" else m for m in methods}
    if wanted is not None and cover.method not in wanted and not (cover.method == "change_feed" and "snapshot" in wanted):
        return _EMPTY
    if cover.method == "change_feed":
        if cover.complete or (wanted is not None and "snapshot" not in wanted):
            snapshot = None  # a feed-only question never computes the snapshot's rows
        sql = _feed_sql(con, source, c, opt, cover.feed_from_version, chosen.files, snapshot)
        if wanted is not None and "change_feed" not in wanted:
            sql = f"select * from ({sql}) where method = 'snapshot'"
        return sql
    if cover.method == "add_diff":
        return _add_diff_sql(con, source, c, opt, chosen.files)
    return f"select {', '.join(quote(x) for x in CHANGE_COLUMNS)} from ({snapshot}) s"


_EMPTY = (
    'select CAST(NULL AS VARCHAR) AS "table", CAST(NULL AS VARCHAR) AS id, CAST(NULL AS BIGINT) AS versionnumber, '
    "CAST(NULL AS VARCHAR) AS change, CAST(NULL AS TIMESTAMPTZ) AS modifiedon, CAST(NULL AS TIMESTAMPTZ) AS landed_at, "
    "CAST(NULL AS BIGINT) AS landings, CAST(NULL AS VARCHAR) AS method where false"
)


def _expr(col: str | None, cast: str) -> str:
    return f"CAST({quote(col)} AS {cast})" if col else f"CAST(NULL AS {cast})"


def _deleted(col: str | None) -> str:
    return is_deleted_sql(col) if col else "false"


def _snapshot_sql(table: str, view: str, columns: list[str], c: dict, opt: dict) -> str:
    """Each Id's latest version in the snapshot, with the snapshot rule's classification."""
    created = opt["createdon"]
    if created:
        created_at = f"CAST({quote(created)} AS TIMESTAMPTZ)"
        modified_at = f"CAST({quote(c['modifiedon'])} AS TIMESTAMPTZ)"
        is_create = f"{truncate('second', created_at)} = {truncate('second', modified_at)}"
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



def _files_view(con, source: DeltaSource, files: list[PlannedFile], tag: str, columns: dict) -> str:
    """Create the engine view of the planned ``files`` and return its name: one row per row of
    the files, with ``id``, ``versionnumber``, ``change_type`` (the file's ``_change_type``; for
    an added file, ``insert``), ``commit_version`` and ``commit_time`` (joined from the plan),
    ``is_delete``, ``modifiedon``, ``sink_created``, ``sink_modified``. Only the columns a query
    uses are read. A column no planned file holds (added, never written) is NULL; a partition
    column comes from the plan's partition values."""
    if files and getattr(con, "name", None) == "spark":
        from .spark import files_view

        return files_view(con, source, files, tag, columns, planned_rows_view_sql)
    key = abs(hash((source.uri, source.version, tag)))
    name, files_table = f"__kit_{tag}_{key}", f"__kit_{tag}_files_{key}"
    if not files:  # the window holds no change (compactions only)
        con.execute(f"""create or replace view {quote(name)} as
            select CAST(NULL AS VARCHAR) AS id, CAST(NULL AS BIGINT) AS versionnumber, CAST(NULL AS VARCHAR) AS change_type,
                   CAST(NULL AS BIGINT) AS commit_version, CAST(NULL AS TIMESTAMPTZ) AS commit_time,
                   false AS is_delete, CAST(NULL AS TIMESTAMPTZ) AS modifiedon, CAST(NULL AS TIMESTAMPTZ) AS sink_created,
                   CAST(NULL AS TIMESTAMPTZ) AS sink_modified
            where false""")
        return name
    parts = {p.lower() for p in source.partition_columns}
    uris = [source.plan.file_uri(f.path) for f in files]
    data = {
        "filename": pa.array(uris, pa.string()),
        "commit_version": pa.array([f.version for f in files], pa.int64()),
        "commit_time": pa.array([f.committed_at for f in files], pa.timestamp("us", tz="UTC")),
        "file_change": pa.array(["insert" if f.kind == "add" else None for f in files], pa.string()),
    }
    wanted_parts = {k: v for k, v in columns.items() if v and v.lower() in parts}
    for k, col in wanted_parts.items():
        data[f"pv_{k}"] = pa.array([f.partition_values.get(col) for f in files], pa.string())
    con.register(files_table, pa.table(data))
    file_list = "[" + ", ".join(literal(u) for u in dict.fromkeys(uris)) + "]"
    # The file name goes in a column of its own: Dataverse tables have a 'filename' column
    # (annotation, activitymimeattachment).
    scan = f"read_parquet({file_list}, union_by_name = true, hive_partitioning = false, filename = '__kit_file')"
    present = {r[0].lower(): r[0] for r in con.execute(f"describe select * from {scan}").fetchall()}
    con.execute(planned_rows_view_sql(name, source, columns, wanted_parts, present, scan, files_table, "filename"))
    return name


def planned_rows_view_sql(name: str, source: DeltaSource, columns: dict, wanted_parts: dict, present: dict,
                          data: str, files_table: str, file_column: str) -> str:
    """The statement creating ``name``: the rows of ``data`` (the planned files' scan, with a
    ``__kit_file`` column) joined to ``files_table`` (one row per file: its commit, kind and
    partition values) on ``file_column``, as the columns ``_files_view`` promises. ``present``:
    the data's columns by lower-case name. One spelling for every engine."""
    types = {f["name"]: sql_type(f["type"]) for f in source.schema_fields}
    e = {}
    for k, col in columns.items():
        if col and k in wanted_parts:
            e[k] = f"CAST(h.{quote('pv_' + k)} AS {types.get(col) or 'VARCHAR'})"
        elif col and col.lower() in present:
            e[k] = f"d.{quote(present[col.lower()])}"
        else:
            e[k] = None
    change_type = "coalesce(d._change_type, h.file_change)" if "_change_type" in present else "h.file_change"
    return f"""create or replace view {quote(name)} as
        select {_cast(e.get('id'), 'VARCHAR')} AS id,
               {_cast(e.get('vn'), 'BIGINT')} AS versionnumber,
               {change_type} AS change_type,
               h.commit_version, h.commit_time,
               {_deleted_expr(e.get('isdelete'))} AS is_delete,
               {_cast(e.get('modified'), 'TIMESTAMPTZ')} AS modifiedon,
               {_cast(e.get('sink_created'), 'TIMESTAMPTZ')} AS sink_created,
               {_cast(e.get('sink_modified'), 'TIMESTAMPTZ')} AS sink_modified
        from {data} d join {quote(files_table)} h on d.__kit_file = h.{quote(file_column)}"""


def _cast(expr: str | None, typ: str) -> str:
    return f"CAST({expr} AS {typ})" if expr else f"CAST(NULL AS {typ})"


def _deleted_expr(expr: str | None) -> str:
    return f"coalesce(lower(CAST({expr} AS VARCHAR)) in ('true', '1'), false)" if expr else "false"


def _feed_sql(con, source: DeltaSource, c: dict, opt: dict, start: int, files, snapshot: str | None,
              window: bool = False) -> str:
    """The feed's changes from ``start``: from the planned files (``files``), or through
    ``load_cdf`` when the engine cannot read them (``files`` None). ``snapshot``: the snapshot
    rule's rows, for the versions first landed before ``start`` (None when the feed is complete).
    ``window``: every version the commits from ``start`` landed, with ``relanding`` true when
    it had landed before ``start`` (the ``Increment`` of a store)."""
    if files is not None:
        columns = {"id": c["Id"], "vn": c["versionnumber"], "modified": c["modifiedon"],
                   "isdelete": opt["IsDelete"], "sink_created": opt["SinkCreatedOn"]}
        view = _files_view(con, source, files, "feed", columns)
        source_sql = f"""
        select id, versionnumber, change_type, commit_version, commit_time, is_delete, modifiedon, sink_created
        from {quote(view)}
        where change_type in ('insert', 'update_preimage', 'update_postimage')"""
    else:
        wanted = [c["Id"], c["versionnumber"], c["modifiedon"]]
        wanted += [opt[k] for k in ("IsDelete", "SinkCreatedOn") if opt[k]]
        wanted += ["_change_type", "_commit_version"]
        name = f"__kit_feed_{abs(hash((source.uri, source.version, start)))}"
        con.register(name, FeedFactory(source, wanted, start))
        times = f"__kit_commit_times_{abs(hash((source.uri, source.version)))}"
        commits = [source.plan.commit(v) for v in range(start, source.version + 1)]
        con.register(times, pa.table({
            "commit_version": pa.array([x.version for x in commits], pa.int64()),
            "commit_time": pa.array([x.committed_at for x in commits], pa.timestamp("us", tz="UTC")),
        }))
        source_sql = f"""
        select CAST({quote(c['Id'])} AS VARCHAR) AS id,
               CAST({quote(c['versionnumber'])} AS BIGINT) AS versionnumber,
               _change_type AS change_type,
               t.commit_version, t.commit_time,
               {_deleted(opt['IsDelete'])} AS is_delete,
               CAST({quote(c['modifiedon'])} AS TIMESTAMPTZ) AS modifiedon,
               {_expr(opt['SinkCreatedOn'], 'TIMESTAMPTZ')} AS sink_created
        from {quote(name)} f
        join {quote(times)} t on t.commit_version = CAST(f._commit_version AS BIGINT)
        where f._change_type in ('insert', 'update_preimage', 'update_postimage')"""
    table = literal(source.name)
    sql = f"""
    with feed as ({source_sql}
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
    -- Two plain aggregations rather than a DISTINCT count (several times slower in DuckDB):
    -- one row per commit that landed the version, then the first of them and their number.
    per_commit as (
        select id, versionnumber, commit_version,
               any_value(struct_pack(change_type, is_delete, modifiedon, sink_created, commit_time, pre_vn, pre_sink)) AS fl
        from landing group by id, versionnumber, commit_version
    ),
    first_landing as (
        select id, versionnumber, arg_min(fl, commit_version) AS fl, count(*) AS landings
        from per_commit group by id, versionnumber
    ),
    flat as (
        select id, versionnumber, landings,
               struct_extract(fl, 'change_type') AS change_type, struct_extract(fl, 'is_delete') AS is_delete,
               struct_extract(fl, 'modifiedon') AS modifiedon, struct_extract(fl, 'sink_created') AS sink_created,
               struct_extract(fl, 'commit_time') AS commit_time, struct_extract(fl, 'pre_vn') AS pre_vn,
               struct_extract(fl, 'pre_sink') AS pre_sink
        from first_landing
    ),
    -- A first in-feed landing whose pre-image has the same version landed before the feed.
    genuine as (
        select * from flat
        where change_type = 'insert' or pre_vn is null or pre_vn <> versionnumber
    )
    select {table} AS "table", id, versionnumber,
           case when is_delete then 'delete' when change_type = 'insert' then 'create' else 'update' end AS change,
           modifiedon,
           coalesce(sink_created, commit_time) AS landed_at,
           CAST(landings AS BIGINT) AS landings,
           'change_feed' AS method"""
    if window:
        return sql + """,
           not (change_type = 'insert' or pre_vn is null or pre_vn <> versionnumber) AS relanding
    from flat"""
    sql += "\n    from genuine"
    if snapshot is None:
        return sql
    return sql + f"""
    union all
    select s."table", s.id, s.versionnumber, s.change, s.modifiedon,
           least(s.landed_at, r.pre_sink) AS landed_at,
           s.landings, s.method
    from (
        select * from ({snapshot}) s0
        anti join (select id, versionnumber from genuine) g using (id, versionnumber)
    ) s
    left join (
        select id, versionnumber, pre_sink from flat
        where change_type = 'update_postimage' and pre_vn = versionnumber
    ) r using (id, versionnumber)
    """


def _add_diff_sql(con, source: DeltaSource, c: dict, opt: dict, files: list[PlannedFile], after: int | None = None) -> str:
    """The add-file diff's changes over ``files``. ``after`` (a version): the ``Increment`` of a
    store instead: every version with a landing (a new ``SinkModifiedOn`` stamp) in a commit
    after ``after``, ``landings`` counting those new stamps only, ``relanding`` true when the
    version first landed at or before ``after``."""
    columns = {"id": c["Id"], "vn": c["versionnumber"], "modified": c["modifiedon"], "isdelete": opt["IsDelete"],
               "sink_created": opt["SinkCreatedOn"], "sink_modified": opt["SinkModifiedOn"]}
    view = _files_view(con, source, files, "adds", columns)
    table = literal(source.name)
    landings, relanding, where = "f.landings", "", ""
    if after is not None:
        landings = "f.new_landings"
        relanding = f",\n           f.commit_version <= {int(after)} AS relanding"
        where = " where f.new_landings > 0"
    return f"""
    with rows as (
        select id, versionnumber, is_delete, modifiedon, sink_created, sink_modified, commit_version, commit_time
        from {quote(view)}
    ),
    -- Each landing stamps a new SinkModifiedOn (copies keep it): one row per stamp, then the
    -- first landing and the number of stamps (two plain aggregations, no DISTINCT count).
    per_stamp as (
        select id, versionnumber,
               arg_min(struct_pack(is_delete, modifiedon, sink_created, commit_version, commit_time), commit_version) AS fl,
               min(commit_version) AS first_version
        from rows group by id, versionnumber, coalesce(sink_modified, commit_time)
    ),
    firsts as (
        select id, versionnumber, arg_min(fl, first_version) AS fl, count(*) AS landings,
               count(*) filter (where first_version > {-1 if after is None else int(after)}) AS new_landings
        from per_stamp group by id, versionnumber
    ),
    flat as (
        select id, versionnumber, landings, new_landings,
               struct_extract(fl, 'is_delete') AS is_delete, struct_extract(fl, 'modifiedon') AS modifiedon,
               struct_extract(fl, 'sink_created') AS sink_created, struct_extract(fl, 'commit_version') AS commit_version,
               struct_extract(fl, 'commit_time') AS commit_time
        from firsts
    ),
    id_first as (select id, min(commit_version) AS first_version from flat group by id)
    select {table} AS "table", f.id, f.versionnumber,
           case when f.is_delete then 'delete' when f.commit_version = i.first_version then 'create' else 'update' end AS change,
           f.modifiedon,
           coalesce(f.sink_created, f.commit_time) AS landed_at,
           CAST({landings} AS BIGINT) AS landings,
           'add_diff' AS method{relanding}
    from flat f join id_first i using (id){where}
    """


class FeedFactory:
    """An Arrow stream source DuckDB can scan any number of times (as ``source.ScanFactory``), for the change data feed from a version, with chosen columns."""

    def __init__(self, source: DeltaSource, columns: list[str], starting_version: int):
        self._source, self._columns, self._start = source, columns, starting_version

    def __arrow_c_stream__(self, requested_schema=None):
        return self._source.feed_reader(self._columns, self._start).__arrow_c_stream__(requested_schema)
