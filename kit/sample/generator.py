"""The sample lake: a simulated Dataverse export to Delta, and the truth about what happened.

``python -m kit sample DEST [--days N] [--scale X] [--seed S] [--layout synapse|fabric]``, or
``generate(dest, days=28, scale=1.0, seed=7, layout="synapse")`` (returns the truth), writes a
lake that looks and behaves like an Azure Synapse Link for Dataverse export in the Delta Lake
format (``layout="fabric"``: like Link to Microsoft Fabric), plus ``DEST/TRUTH.json``: what the
simulated organisation did and what landed when, computed from the simulation state, never by
reading the lake back. The committed ``sample_lake/`` is ``generate("sample_lake")``.
Regenerating gives the same files, rows, versions and commit times: numpy generators seeded from
``seed``, file names and ids drawn from them, no wall clock. (deltalake writes the checkpoints and
leaves out remove tombstones that are expired by the wall clock; on a machine whose clock is
before October 2026 the checkpoint files would list them, which readers ignore.)

The story
---------
A European sales and service organisation; the activity window is ``days`` days ending with
Wednesday 30 September 2026, a month end (``[2026-10-01 - days, 2026-10-01)`` UTC).

- ``email`` is the busy table (tracked mail: created, then sent, tracked and completed in steps
  about 16 minutes apart; 2 % of drafts discarded). Ordinary weekdays land about 11,000 changes;
  the product launch on Wednesday 16 September (52,691) and the month end on Wednesday 30
  September (55,358, the peak) cross 50,000; the degraded Tuesday 29 September is the quietest
  weekday (8,853).
- ``incident`` trends up: weekday volume grows from about 900 to 2,800 changes a day (least
  squares slope 83 a day), far below 50,000 but heading there.
- ``account``, ``contact``, ``lead``, ``opportunity``, ``salesorder`` (Dataverse), ``salesline``
  (finance and operations) and ``accountleads`` (an N:N intersect table) are quiet: tens of
  changes a day, more on month-end and launch days, made in a work block of a few hours on
  weekdays (someone working through a list), so the hourly job commits in consecutive hours and
  the median interval between their syncs is the 60-minute cadence.
- The busy tables follow a Central European business day (08:00-17:00 UTC on weekdays, a
  trickle on weekend mornings, nothing at night), so intervals without changes have no commit,
  as with the real job.
- Incidents, both inside the two days the change feed still covers: the degraded day is Tuesday
  29 September 06:00-22:00 (the export's delay grows up to threefold and each conversion run up
  to 20 minutes longer towards midday, so the 15-minute table skips triggers and latency grows);
  the outage is Wednesday 30 September 15:40-20:10 (no run at all, then a slower backlog run).
- Warts: six ``contact`` versions carry the ``modifiedon`` sentinel 1900-01-01, six ``lead``
  versions carry clock skew (``modifiedon`` minutes after they landed), about 6 % of the
  ``salesline`` rows that existed before the window were created on the 1900-01-01 default
  date (``PartitionId`` '1900'), and 0.3-1 % of landed row versions land again one or two runs
  later (re-landing, as Fabric Link does; the row's Sink columns then show the later landing).

What the lake holds
-------------------
Synapse layout: ``DEST/deltalake/<table>_partitioned/``, Hive-partitioned by ``PartitionId`` (the
year of ``createdon``), the option-set metadata tables beside them (``OptionsetMetadata``,
``GlobalOptionsetMetadata``, ``StateMetadata``, ``StatusMetadata``, ``TargetMetadata``:
unpartitioned, one WRITE each, a label for every choice value used). Fabric layout:
``DEST/Tables/<table>/`` with lowercase names. In both, live rows have ``IsDelete`` NULL.

Columns: ``Id`` (GUID text; Dataverse ids are sequential GUIDs as SQL Server makes them; the F&O
table packs its table id 359 into the first group and the RecId little-endian into the last
eight bytes), ``SinkCreatedOn`` = ``SinkModifiedOn`` = the time of the commit that landed the
row, the table's columns (real names and choice values from ``kit/sample_schemas.json``: taken
from microsoft/CDM under CC-BY-4.0, see ``SAMPLE_SCHEMAS_LICENCE.md``; lookups as the triple
``<col>``, ``<col>_entitytype``, ``<col>name``), ``IsDelete`` and ``PartitionId``. Timestamps are
INT64 microseconds, UTC; Dataverse times have whole seconds. ``accountleads`` has no
``createdon`` and no ``modifiedon`` (intersect tables carry their keys and ``versionnumber``
only), so by DEFINITIONS its kind is ``other``; its ``PartitionId`` is the year of its first
landing (unconfirmed upstream). A soft delete is a new version with ``IsDelete`` true and
``modifiedon`` = the time of the delete; the other columns keep their last values.

The Delta log is written here, not by delta-rs: a real MERGE per interval rewrites files, and
thousands of delta-rs merges blow both the time and the size budget. It is what the Synapse Link
Spark job (Spark 3.4, Delta 2.4) writes:

- version 0, two days before the window: a ``WRITE`` (Overwrite) of the records that existed
  before it. Its rows keep the Sink times of their earlier landing (the log's older history is
  not kept), so rows soft-deleted before the window are purged inside it.
- one ``MERGE`` per run of the conversion job: every 15 minutes for ``email``, 60 for the others,
  and only when new changes are waiting. ``commitInfo.timestamp`` is the simulated time; the
  metrics are Spark's camelCase strings (``numTargetRowsInserted``, ``numTargetRowsUpdated``,
  ``numTargetRowsDeleted``, ``numTargetRowsCopied``, ``numSourceRows``, ``numOutputRows``, ...).
  The MERGE takes the latest version per ``Id`` (earlier versions of the interval never land),
  writes new ``Id`` s into one new file per partition, rewrites every file holding a matched
  row (copy-on-write), and writes change data files (``_change_data/``: ``insert``,
  ``update_preimage``, ``update_postimage``; a re-landing is a pre/post pair with one
  versionnumber).
- the nightly job at 00:05 UTC (02:05 in Central Europe): a ``DELETE`` of rows soft-deleted 28
  days ago (the purge; ``delete`` change rows, not changes of the source), an ``OPTIMIZE``
  (``dataChange`` false) of partitions holding 8 or more small files, and a VACUUM with
  ``delta.deletedFileRetentionDuration`` = 2 days that deletes older removed data files and
  change data files as Spark's VACUUM does (Delta 2.x writes no commit for it). The change feed
  therefore starts at the first commit after 29 September 00:06: ``load_cdf`` from an earlier
  version fails on the missing files, and earlier days are seen only through the snapshot.
- checkpoints every 10 commits (``delta.checkpointInterval``), written by deltalake's
  ``create_checkpoint``; only the latest two per table are kept (as log cleanup eventually
  does) to keep the file budget.
- ``delta.dataSkippingNumIndexedCols`` = 0 (file statistics hold the row count only); Parquet
  files are zstd-compressed, without column statistics, Dataverse times and numbers
  delta-encoded: every Parquet reader reads them, and the sample fits its budget. The size of a
  file the simulated VACUUM deleted (never written) is estimated from the table's written files.

Budget arithmetic (``du -sm`` counts 4 KiB blocks, so each of the ~2,700 files costs at least
4 KiB): one JSON file per commit dominates the file count. A 15-minute table committing in every
interval for 28 days would need 2,688 commits on its own; ``email`` commits only in the business
day's intervals that have changes (about 42 per weekday, a few per weekend day): 884 sync
commits, 20 OPTIMIZE and 3 purges, 3.8 MiB of log. The eight 60-minute tables commit 55 (N:N)
to 274 (``incident``) times each, 917 commits and 3.6 MiB of log in all. Copy-on-write is the
other cost: the removed files of the last two days must stay for the change feed's window, so
``email`` updates reach back at most three runs (about 4.6 rewritten files per MERGE, 3.6 MiB
retained), older records of the busy tables are not updated, and the quiet tables' files are
small (OPTIMIZE targets 600 rows). An ``email`` that committed every 15 minutes around the clock
(2,688 JSON files, 11 MB of log alone) and quiet tables committing every hour would not fit.
Measured for the default run: 2,658 files (1,829 of them commit files), 22.6 MiB (``du -sm``:
23), of which ``email`` 11.0 MiB and TRUTH.json 0.75 MB.

Measured here (2 cores): the default run takes about 5 s (0.5 GB peak memory); ``--scale 20``
takes about 40 s (4.7 GB peak memory, 225 MB and 4,823 files on disk), with ``email`` landing
6.2 million row versions (1.1 million on its peak day). Everything is vectorised with numpy
and pyarrow; Python loops run per commit and per file, never per row.

TRUTH.json
----------
As docs/DESIGN.md specifies, with these decisions and additions:

- Every landed (Id, versionnumber) counts once under the UTC day of its ``modifiedon`` as written
  in the lake (sentinel rows under 1900-01-01), version 0's rows included (their days lie before
  the window). A version is a ``delete`` when ``IsDelete`` is true, else a ``create`` when it is
  the record's first landed version, else an ``update``. ``landed`` counts versions by the UTC day
  of their first landing. Versions superseded within a run never land; ``made_versions`` counts
  every version made in the window.
- ``commits.sync`` counts the WRITE and the MERGEs (DEFINITIONS: sync commits); ``write`` and
  ``merge`` are added.
- ``latency_s`` covers the versions first landed by a MERGE (version 0's rows are left out: their
  landing predates the log). ``latency_s_feed`` covers the versions first landed at or after
  ``change_feed.from_version``. ``latency_s_feed_as_seen`` is what the feed alone shows: every
  version landing in the feed, timed at its earliest landing there (a version first landed
  before the feed and landed again inside it is timed at the re-landing; there are
  ``feed_relanded_before`` of those). Each leaves out sentinel and negative latencies and counts
  them (``excluded_sentinel``, ``excluded_negative``); ``latency_excluded`` is their sum.
- ``change_feed`` adds ``cutoff`` (the last VACUUM's cut-off) and ``complete_from_day``: from this
  UTC day on, every landed version with that ``modifiedon`` day first landed inside the feed, so
  ``days`` is exact from the feed; earlier days are ``days_snapshot`` territory.
- Per table: ``day_clock`` (``modified``; ``landed`` for ``accountleads``, whose ``days`` and
  ``days_snapshot`` are keyed by the day of first landing and of ``SinkCreatedOn``), ``path``
  (relative to DEST), ``made_versions``, ``landings``, ``relandings``, ``snapshot_rows``,
  ``live_rows``, ``deleted_rows``, ``purged_rows``. ``peak_day`` is over ``days`` (creates +
  updates + deletes). Metadata tables: ``kind`` ``metadata``, ``rows``, ``path``, ``commits``.
- ``generator`` adds ``initial_load``, ``nightly_job``, ``vacuum_retention_hours`` and
  ``purge_after_days``. ``busy_table`` adds ``limit_per_day``, ``days_over_limit``, ``quiet_day``
  and ``quiet_day_events`` (its quietest weekday); ``trending_table`` adds ``slope_per_day``
  (least squares over weekdays), ``first_week_mean`` and ``last_week_mean`` (weekdays).
  ``incidents.outage.tables`` lists the tables whose sync the outage visibly interrupted (the
  interval between the syncs around it exceeds three median intervals, DEFINITIONS' gap rule,
  and kept changes waiting); tables that had nothing to land then (quiet tables whose work
  block was over) are left out. ``incidents.outage.commits`` gives, per table, the last sync
  before the outage and the first after it (null when none), ``gap`` and ``waiting`` (changes
  made inside the interval at least two median intervals before its end and landed by the sync
  that ended it). ``incidents.degraded`` lists every table and gives the peak slowdowns.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import InvalidOptionError

__all__ = ["generate", "main"]

# ----------------------------------------------------------------------------------- the clock
# Simulation times are int64 seconds since the epoch (UTC); commit times are milliseconds.
MINUTE, HOUR, DAY = 60, 3600, 86400
END = int(datetime(2026, 10, 1, tzinfo=timezone.utc).timestamp())  # the close of 30 Sep 2026
NIGHTLY_AT = 5 * MINUTE             # the maintenance job starts at 00:05 UTC
RETENTION = 2 * DAY                 # delta.deletedFileRetentionDuration
VACUUM_AFTER_MS = 90_000            # the nightly VACUUM starts this long after the job
PURGE_AFTER = 28 * DAY              # soft-deleted rows are purged 28 days after they landed
INITIAL_LOAD_BEFORE = 2 * DAY - 15 * MINUTE  # version 0 (the initial load) is written this
                                            # long before the window opens: every table's
                                            # history then spans more than `days` days
SENTINEL = int(datetime(1900, 1, 1, tzinfo=timezone.utc).timestamp())
BUSY_LIMIT_PER_DAY = 50_000         # Power Automate rule of thumb (DEFINITIONS)

# Incidents, relative to END so that they fall inside the change feed's two retained days.
DEGRADED = (END - 2 * DAY + 6 * HOUR, END - 2 * DAY + 22 * HOUR)
DEGRADED_RUNTIME_S = 20 * MINUTE    # at its worst (midday) a run takes this much longer ...
DEGRADED_EXPORT = 3.0               # ... and the export's delay is this many times longer
OUTAGE = (END - DAY + 15 * HOUR + 40 * MINUTE, END - DAY + 20 * HOUR + 10 * MINUTE)
LAUNCH_DAY = END - 15 * DAY         # a product launch: a burst of mail and leads

# Share of a day's activity per UTC hour (08:00-17:00 UTC: the Central European business day).
WEEKDAY_HOURS = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0.12, 0.14, 0.14, 0.12, 0.08, 0.11,
                          0.12, 0.10, 0.07, 0, 0, 0, 0, 0, 0, 0])
WEEKEND_HOURS = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0.15, 0.2, 0.2, 0.15, 0.1, 0.1, 0.1, 0, 0,
                          0, 0, 0, 0, 0, 0])

SCHEMAS_FILE = Path(__file__).with_name("schemas.json")
LAYOUTS = ("synapse", "fabric")
METADATA_TABLES = ("OptionsetMetadata", "GlobalOptionsetMetadata", "StateMetadata",
                   "StatusMetadata", "TargetMetadata")


# ------------------------------------------------------------------------------ table specs
@dataclass(frozen=True)
class TableSpec:
    """How one table behaves. Volumes are per day at scale 1, before the trend and bursts."""

    name: str
    kind: str                       # dataverse | finance_operations | other
    interval_min: int               # the conversion job's cadence for this table
    initial_records: int            # records that exist before the window
    initial_deleted: int            # of which soft-deleted shortly before the window
    creates_weekday: float
    creates_weekend: float
    followups: float = 0.0          # mean updates a created record gets soon after
    followup_median_s: float = 180  # their typical delay (lognormal, capped)
    followup_sigma: float = 0.7
    followup_cap_s: float = 2 * HOUR
    followup_spacing_s: float = 0.0  # if set: up to followup_max follow-ups, this far apart
    followup_max: int = 3
    delete_new: float = 0.0         # share of created records deleted soon after
    touches_weekday: float = 0.0    # updates of records that existed before the window
    touches_weekend: float = 0.0
    delete_touch: float = 0.0       # share of those touches that delete the record
    growth: float = 1.0             # volume at the end of the window / at its start
    month_end: float = 1.0          # volume factor on the last weekday of a month
    month_end_eve: float = 1.0      # ... and on the weekday before it
    launch: float = 1.0             # volume factor on the launch day
    session: float = 1.0            # mean changes per user session (clustering in time)
    block_hours: tuple | None = None  # quiet tables: changes come in a work block of this many
                                      # hours on weekdays (a user working through a list)
    history_days: float = 700       # mean age of the records that existed before the window
    deleted_days: tuple = (1, 27)   # soft deletes before version 0: this many days before it
    rows_per_file: int = 600        # OPTIMIZE's target file size, in rows
    initial_rows_per_file: int = 150  # the initial load's files (Spark writes several per partition)
    relanding: float = 0.005        # share of landed versions that land again later
    primary_name: str | None = None  # the column lookups to this table show as <col>name


TABLES = (
    TableSpec("account", "dataverse", 60, 1500, 10, 4, 0, followups=0.5, touches_weekday=10,
              delete_touch=0.03, block_hours=(2, 4), history_days=500, primary_name="name"),
    TableSpec("contact", "dataverse", 60, 2500, 12, 10, 0, followups=0.5, touches_weekday=16,
              delete_touch=0.03, block_hours=(2, 4), history_days=500, primary_name="fullname"),
    TableSpec("lead", "dataverse", 60, 1800, 12, 12, 0, followups=1.0, touches_weekday=12,
              delete_touch=0.05, block_hours=(2, 4), history_days=200, launch=2.0,
              primary_name="fullname"),
    TableSpec("opportunity", "dataverse", 60, 1200, 10, 6, 0, followups=1.0, touches_weekday=20,
              delete_touch=0.02, month_end=2.0, month_end_eve=2.0, block_hours=(2, 4),
              history_days=250, primary_name="name"),
    TableSpec("incident", "dataverse", 60, 3000, 30, 380, 0.5, followups=1.2,
              followup_spacing_s=65 * MINUTE, followup_max=2, delete_new=0.01, growth=4.0,
              session=2, history_days=200, deleted_days=(20, 23), rows_per_file=4_000,
              primary_name="title"),
    TableSpec("salesorder", "dataverse", 60, 1500, 10, 10, 0, followups=1.5, touches_weekday=6,
              delete_touch=0.02, month_end=3.0, month_end_eve=2.0, block_hours=(2, 4),
              history_days=300, primary_name="name"),
    TableSpec("email", "dataverse", 15, 8000, 80, 3300, 3, followups=2.3,
              followup_spacing_s=16 * MINUTE, followup_max=3, delete_new=0.02, month_end=5.35,
              launch=4.85, growth=1.1, history_days=120, deleted_days=(20, 23),
              rows_per_file=20_000, initial_rows_per_file=4_000, relanding=0.003,
              primary_name="subject"),
    TableSpec("salesline", "finance_operations", 60, 3000, 12, 25, 0, followups=0.8,
              touches_weekday=6, delete_touch=0.02, month_end=3.0, month_end_eve=2.0,
              block_hours=(2, 4), history_days=400, relanding=0.01),
    TableSpec("accountleads", "other", 60, 600, 0, 6, 0, block_hours=(1, 3), history_days=400,
              relanding=0.0),
)
BUSY_TABLE, TRENDING_TABLE = "email", "incident"
SENTINEL_TABLE, SKEW_TABLE, LEGACY_DATE_TABLE = "contact", "lead", "salesline"
WARTS_PER_TABLE = 6                 # sentinel rows, skewed rows


# ----------------------------------------------------------------------------- small helpers
def iso(t_s: int | float) -> str:
    """ISO 8601 UTC text of a time in seconds, e.g. 2026-09-30T08:40:00Z."""
    return datetime.fromtimestamp(int(t_s), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(t_ms: int) -> str:
    """ISO 8601 UTC text with milliseconds, as Spark writes timestamps in file statistics."""
    dt = datetime.fromtimestamp(t_ms // 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{t_ms % 1000:03d}Z"


def day_keys(t_s: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD' of each time in seconds (UTC), vectorised."""
    return np.asarray(t_s, dtype="int64").astype("datetime64[s]").astype("datetime64[D]").astype(str)


def year_of(t_s: np.ndarray) -> np.ndarray:
    return np.asarray(t_s, dtype="int64").astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970


def group_starts(keys: np.ndarray) -> np.ndarray:
    """True where a run of equal keys starts (keys sorted)."""
    start = np.ones(len(keys), dtype=bool)
    start[1:] = keys[1:] != keys[:-1]
    return start


def group_cummax(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running maximum of values within runs of equal (sorted) group ids."""
    if len(values) == 0:
        return values.copy()
    base = values.min()
    span = int(values.max() - base) + 1
    first = np.flatnonzero(group_starts(groups))
    rank = np.zeros(len(values), dtype=np.int64)
    rank[first] = 1
    rank = np.cumsum(rank)  # 1, 1, 2, 2, 2, 3 ...: dense group number, increasing
    if rank[-1] * span >= 2**62:
        raise OverflowError("group_cummax: value span too large")
    shifted = rank * span + (values - base)
    return np.maximum.accumulate(shifted) - rank * span + base


def positions_in_group(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... within each run of equal (sorted) group ids."""
    idx = np.arange(len(groups))
    starts = np.where(group_starts(groups), idx, 0)
    return idx - np.maximum.accumulate(starts)


def uuid_texts(rng: np.random.Generator, n: int) -> list[str]:
    """Random version-4 UUID texts drawn from rng (file names, txn ids): reproducible."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    out = []
    for row in raw:
        h = row.tobytes().hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex_columns(values: np.ndarray, nbytes: int, little_endian: bool) -> np.ndarray:
    """(n, 2*nbytes) ASCII hex digits of the low nbytes of each value."""
    v = np.asarray(values, dtype=np.uint64)
    shifts = np.arange(nbytes, dtype=np.uint64) * np.uint64(8)
    if not little_endian:
        shifts = shifts[::-1]
    octets = ((v[:, None] >> shifts[None, :]) & np.uint64(0xFF)).astype(np.uint8)
    out = np.empty((len(v), 2 * nbytes), dtype=np.uint8)
    out[:, 0::2] = _HEX[octets >> 4]
    out[:, 1::2] = _HEX[octets & 0x0F]
    return out


def take_strings(vocabulary: list[str], idx: np.ndarray) -> pa.Array:
    return pc.take(pa.array(vocabulary, pa.string()), pa.array(np.asarray(idx, dtype=np.int64)))


def decimal_array(cents: np.ndarray) -> pa.Array:
    """decimal(38,2) from integer cents, through the 128-bit buffer (fast for millions)."""
    c = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(c), 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = c >> 63
    return pa.Array.from_buffers(pa.decimal128(38, 2), len(c), [None, pa.py_buffer(words.tobytes())])


def timestamps(t_s: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(t_s, dtype=np.int64) * 1_000_000, pa.timestamp("us", tz="UTC"))


# ------------------------------------------------------------------------------ vocabularies
FIRST = ("Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Katrin Lukas Maria Nils Olga Paul "
         "Rosa Simon Tanja Uwe Vera Walter Yara Zoe Ahmed Bea Carlos Dana Eric Fatima Gabriel "
         "Hanna Ivan Julia Karim Lea Marco Nora Omar Petra").split()
LAST = ("Schmidt Meyer Novak Rossi Garcia Dubois Jansen Nielsen Kowalski Silva Berg Larsen Moreau "
        "Fischer Weber Bianchi Lopez Horvat Svoboda Virtanen Andersen Costa Keller Wagner Romano "
        "Martin Lambert Vos Peeters Olsen").split()
COMPANY_A = ("Contoso Fabrikam Northwind Tailspin Wingtip Adventure Litware Proseware Fourth "
             "Alpine Coho Woodgrove Lucerne Margie Trey Blue Yonder Humongous Wide").split()
COMPANY_B = ("Pharmaceuticals Logistics Retail Energy Bank Foods Systems Travel Insurance Motors "
             "Textiles Media Health Robotics Furniture Chemicals").split()
CITIES = ("Amsterdam Berlin Brussels Copenhagen Dublin Hamburg Lisbon Lyon Madrid Milan Munich "
          "Oslo Paris Prague Rotterdam Stockholm Vienna Warsaw Zurich Antwerp").split()
JOBS = ("Buyer;Purchasing Manager;CFO;IT Director;Office Manager;Sales Director;Engineer;"
        "Project Lead;CEO;Controller").split(";")
TOPICS = ("Fleet renewal;Cloud migration;Service contract;Spare parts;Office furniture;"
          "Annual licences;Training package;Warehouse robots;Support upgrade;New site fit-out;"
          "Marketing campaign;Data platform").split(";")
CASES = ("Cannot log in;Invoice incorrect;Delivery delayed;Device not starting;Refund request;"
         "Password reset;Order missing items;Firmware update failed;Billing address change;"
         "Warranty claim;App crashes on start;Slow performance").split(";")
MAIL = ("RE: Quote;Meeting follow-up;Order confirmation;Invoice;RE: Delivery date;Proposal;"
        "Case update;Welcome;RE: Contract renewal;Price list;FW: Specs;Reminder").split(";")
PRODUCTS = ("Desk chair;Monitor arm;Laptop stand;Docking station;Headset;Webcam;Keyboard;"
            "Standing desk;Cable kit;Printer toner").split(";")
USERS = [f"{f} {l}" for f, l in zip(FIRST[:24], LAST[:24])]  # the system users owning records


# Index into FIRST, LAST, and the person/email vocabularies, from one person number.
PERSON_PARTS = {"first": lambda p: p // len(LAST), "last": lambda p: p % len(LAST),
                "person": lambda p: p, "email": lambda p: p}


def vocabulary(kind: str) -> list[str]:
    """The value list of a text column kind (from sample_schemas.json roles)."""
    if kind == "company":
        return [f"{a} {b}" for a in COMPANY_A for b in COMPANY_B]
    if kind == "person":
        return [f"{f} {l}" for f in FIRST for l in LAST]
    table = {"first": FIRST, "last": LAST, "city": CITIES, "job": JOBS, "topic": TOPICS,
             "case": CASES, "mail": MAIL, "product": PRODUCTS, "order": [f"Order {t}" for t in TOPICS],
             "item": [f"D{n:04d}" for n in range(1, 61)], "currency": ["EUR", "EUR", "EUR", "USD", "GBP"],
             "custaccount": [f"DE-{n:03d}" for n in range(1, 121)],
             "email": [f"{f.lower()}.{l.lower()}@example.com" for f in FIRST for l in LAST]}
    return table[kind]


# ---------------------------------------------------------------------------- the simulation
@dataclass
class Window:
    start: int
    end: int
    days: int

    @property
    def day_starts(self) -> np.ndarray:
        return self.start + DAY * np.arange(self.days, dtype=np.int64)


def is_weekday(day_start: np.ndarray) -> np.ndarray:
    # 1970-01-01 was a Thursday: (days + 3) % 7 gives Monday = 0.
    return ((day_start // DAY + 3) % 7) < 5


def month_end_days(day_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(last weekday of its month, the weekday before it), per day."""
    last = np.zeros(len(day_starts), dtype=bool)
    eve = np.zeros(len(day_starts), dtype=bool)
    months = day_starts.astype("datetime64[s]").astype("datetime64[M]")
    for m in np.unique(months):
        # The whole month counts (the window may end before the month does).
        days = np.arange(m.astype("datetime64[D]"), (m + 1).astype("datetime64[D]"))
        secs = days.astype("datetime64[s]").astype(np.int64)
        weekdays = secs[is_weekday(secs)]
        last |= day_starts == weekdays[-1]
        eve |= day_starts == weekdays[-2]
    return last, eve


def day_factors(spec: TableSpec, window: Window) -> np.ndarray:
    """Trend, month-end burst and launch-day burst, per day of the window."""
    starts = window.day_starts
    d = np.arange(window.days)
    trend = spec.growth ** (d / max(window.days - 1, 1))
    last, eve = month_end_days(starts)
    burst = np.where(last, spec.month_end, np.where(eve, spec.month_end_eve, 1.0))
    launch = np.where(starts == LAUNCH_DAY, spec.launch, 1.0)
    return trend * burst * launch


def session_times(rng: np.random.Generator, window: Window, weekday_volume: float,
                  weekend_volume: float, factors: np.ndarray, session: float) -> np.ndarray:
    """Times (s) of changes: hourly Poisson sessions following the business-day profile."""
    starts = window.day_starts
    weekday = is_weekday(starts)
    volume = np.where(weekday, weekday_volume, weekend_volume) * factors
    profile = np.where(weekday[:, None], WEEKDAY_HOURS / WEEKDAY_HOURS.sum(),
                       WEEKEND_HOURS / WEEKEND_HOURS.sum())
    expected_sessions = (volume[:, None] * profile / session).ravel()
    n_sessions = rng.poisson(expected_sessions)
    hour_start = (starts[:, None] + HOUR * np.arange(24)[None, :]).ravel()
    s_start = np.repeat(hour_start, n_sessions) + rng.integers(0, HOUR, n_sessions.sum())
    if session <= 1:
        return np.sort(s_start)
    size = 1 + rng.poisson(session - 1, len(s_start))
    t = np.repeat(s_start, size)
    gaps = rng.exponential(70.0, len(t)).astype(np.int64) + 5
    group = np.repeat(np.arange(len(s_start)), size)
    first = group_starts(group)
    gaps[first] = 0
    csum = np.cumsum(gaps)
    t = t + csum - np.repeat(csum[first], size)
    return np.sort(t)


def work_blocks(rng, spec: TableSpec, window: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, day index) of the weekday work blocks of a quiet table: one a day, a second
    on some days; each starts between 07:30 and 14:00 and lasts block_hours."""
    days = np.flatnonzero(is_weekday(window.day_starts))
    days = np.concatenate([days, days[rng.random(len(days)) < 0.15]])
    lo, hi = spec.block_hours
    start = window.day_starts[days] + 7 * HOUR + 30 * MINUTE + rng.integers(0, int(6.5 * HOUR), len(days))
    end = np.minimum(start + rng.integers(lo * HOUR, hi * HOUR + 1, len(days)), window.day_starts[days] + 17 * HOUR)
    return start, end, days


def block_times(rng, blocks, weekday_volume: float, factors: np.ndarray) -> np.ndarray:
    """Times (s) of changes spread evenly over the work blocks (a day's volume shared by its
    blocks by length), so the hourly job finds changes in each hour of a block."""
    start, end, day = blocks
    length = (end - start).astype(np.float64)
    per_day = np.bincount(day, weights=length, minlength=len(factors))
    expected = weekday_volume * factors[day] * length / np.maximum(per_day[day], 1.0)
    count = rng.poisson(expected)
    t = np.repeat(start, count) + (rng.random(count.sum()) * np.repeat(end - start, count)).astype(np.int64)
    return np.sort(t)


def change_times(rng, spec: TableSpec, window: Window, weekday_volume: float, weekend_volume: float,
                 factors: np.ndarray, blocks) -> np.ndarray:
    if spec.block_hours:
        return block_times(rng, blocks, weekday_volume, factors)
    return session_times(rng, window, weekday_volume, weekend_volume, factors, spec.session)


@dataclass
class Versions:
    """Every version a table's records went through, sorted by (record, time)."""

    rec: np.ndarray          # record index
    t: np.ndarray            # true time of the change (s)
    is_delete: np.ndarray    # the version is a (soft) delete
    initial: np.ndarray      # the record's state before the window (landed by version 0)
    ordinal: np.ndarray      # 0, 1, ... within the record
    count: np.ndarray        # versions of its record
    vn: np.ndarray = field(default=None)        # versionnumber (set globally)
    modified: np.ndarray = field(default=None)  # modifiedon as written (warts applied)

    def __len__(self) -> int:
        return len(self.rec)


@dataclass
class Records:
    created: np.ndarray      # createdon (s)
    n_initial: int

    def __len__(self) -> int:
        return len(self.created)


def simulate_initial(rng: np.random.Generator, spec: TableSpec, window: Window, scale: float):
    """Records that exist before the window: creation times, and their last change and
    soft-delete state when version 0 is written."""
    n = max(int(round(spec.initial_records * scale)), 1)
    n_deleted = min(int(round(spec.initial_deleted * scale)), n // 4)
    latest = window.start - INITIAL_LOAD_BEFORE - 2 * HOUR
    # Ages follow an exponential law truncated at six years (the org's first records).
    scale_s, oldest = spec.history_days * DAY, 6 * 365 * DAY
    age = -scale_s * np.log1p(-rng.uniform(0, 1 - np.exp(-oldest / scale_s), n))
    created = np.sort(latest - 60 - age.astype(np.int64))
    # Half never changed after their creation; the rest last changed some time later.
    changed = rng.random(n) < 0.5
    last = created + (rng.random(n) ** 2 * (latest - created)).astype(np.int64)
    last = np.where(changed, np.maximum(last, created + 1), created)
    deleted = np.zeros(n, dtype=bool)
    lo, hi = spec.deleted_days
    old_enough = np.flatnonzero(created < latest - hi * DAY)
    n_deleted = min(n_deleted, len(old_enough))
    if n_deleted:
        victims = rng.choice(old_enough, n_deleted, replace=False)
        deleted[victims] = True
        # Deleted shortly before the window, so the 28-day purge removes them inside it.
        last[victims] = latest - rng.integers(lo * DAY, hi * DAY, n_deleted)
    return created, last, deleted


def simulate_creates(rng, spec: TableSpec, window: Window, scale: float, factors: np.ndarray, blocks):
    """Records created in the window, their follow-up updates and deletes."""
    t0 = change_times(rng, spec, window, spec.creates_weekday * scale, spec.creates_weekend * scale,
                      factors, blocks)
    n = len(t0)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, np.zeros(0, bool)
    if spec.followup_spacing_s:
        # A fixed rhythm (an email is sent, tracked, completed): at most followup_max updates,
        # one spacing apart; a deleted record's delete takes the next step.
        k = rng.binomial(spec.followup_max, spec.followups / spec.followup_max, n)
        deleted = (rng.random(n) < spec.delete_new) & (k < spec.followup_max)
    else:
        k = rng.poisson(spec.followups, n) if spec.followups else np.zeros(n, dtype=np.int64)
        deleted = rng.random(n) < spec.delete_new
    per_record = 1 + k + deleted
    rec = np.repeat(np.arange(n), per_record)
    pos = positions_in_group(rec)
    first = group_starts(rec)
    last = np.r_[first[1:], True]
    if spec.followup_spacing_s:
        jitter = rng.uniform(-0.25, 0.25, len(rec)) * spec.followup_spacing_s
        offset = (pos * spec.followup_spacing_s + np.where(pos > 0, jitter, 0)).astype(np.int64)
        t = np.repeat(t0, per_record) + offset
    else:
        # A chain of follow-ups, each some (lognormal, capped) time after the previous one.
        delays = rng.lognormal(np.log(spec.followup_median_s), spec.followup_sigma, len(rec))
        delays = np.clip(delays, 20, spec.followup_cap_s).astype(np.int64)
        delays[pos == 0] = 0
        csum = np.cumsum(delays)
        t = np.repeat(t0, per_record) + csum - np.repeat(csum[first], per_record)
    is_delete = np.zeros(len(rec), dtype=bool)
    is_delete[last] = np.repeat(deleted, per_record)[last]
    keep = t < window.end
    return t0, rec[keep], t[keep], is_delete[keep]


def simulate_touches(rng, spec: TableSpec, window: Window, scale: float, factors: np.ndarray,
                     live: np.ndarray, blocks):
    """Updates (and some deletes) of records that existed before the window."""
    t = change_times(rng, spec, window, spec.touches_weekday * scale, spec.touches_weekend * scale,
                     factors, blocks)
    candidates = np.flatnonzero(live)
    if len(t) == 0 or len(candidates) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool)
    # Recently created records are touched far more often than old ones.
    back = np.minimum(rng.exponential(len(candidates) / 15, len(t)).astype(np.int64),
                      len(candidates) - 1)
    rec = candidates[len(candidates) - 1 - back]
    is_delete = rng.random(len(t)) < spec.delete_touch
    order = np.lexsort((t, rec))
    rec, t, is_delete = rec[order], t[order], is_delete[order]
    # Nothing happens to a record after it is deleted.
    dead = np.cumsum(is_delete)
    dead_before = dead - is_delete
    first = group_starts(rec)
    dead_before = dead_before - np.repeat(dead_before[first], np.diff(np.r_[np.flatnonzero(first), len(rec)]))
    keep = dead_before == 0
    return rec[keep], t[keep], is_delete[keep]


def simulate_table(rng, spec: TableSpec, window: Window, scale: float):
    """All versions of one table's records, sorted by (record, time)."""
    factors = day_factors(spec, window)
    created0, last0, deleted0 = simulate_initial(rng, spec, window, scale)
    n0 = len(created0)
    blocks = work_blocks(rng, spec, window) if spec.block_hours else None
    t_new, rec_new, t_c, del_c = simulate_creates(rng, spec, window, scale, factors, blocks)
    rec_t, t_t, del_t = simulate_touches(rng, spec, window, scale, factors, ~deleted0, blocks)
    rec = np.concatenate([np.arange(n0), rec_new + n0, rec_t])
    t = np.concatenate([last0, t_c, t_t])
    is_delete = np.concatenate([deleted0, del_c, del_t])
    initial = np.zeros(len(rec), dtype=bool)
    initial[:n0] = True
    order = np.lexsort((t, rec))
    rec, t, is_delete, initial = rec[order], t[order], is_delete[order], initial[order]
    # Two versions of one record never share a second (versionnumber order = time order).
    pos = positions_in_group(rec)
    t = group_cummax(t - pos, rec) + pos
    count = np.bincount(rec, minlength=n0 + len(t_new))[rec]
    versions = Versions(rec=rec, t=t, is_delete=is_delete, initial=initial, ordinal=pos, count=count)
    records = Records(created=np.concatenate([created0, t_new]), n_initial=n0)
    return versions, records


def assign_versionnumbers(rng, all_versions: list[Versions]) -> None:
    """One increasing counter over every table, like Dataverse's row version."""
    t = np.concatenate([v.t for v in all_versions])
    order = np.argsort(t, kind="stable")
    gaps = 1 + rng.poisson(2.0, len(t))
    vn = np.empty(len(t), dtype=np.int64)
    vn[order] = 4_200_000_000 + np.cumsum(gaps)
    cut = np.cumsum([0] + [len(v) for v in all_versions])
    for v, a, b in zip(all_versions, cut[:-1], cut[1:]):
        v.vn = vn[a:b]


# -------------------------------------------------------------------------------- landing
def degradation(t) -> np.ndarray:
    """0 outside the degraded day; rising to 1 by midday, back to 0 by its end."""
    t = np.asarray(t, dtype=np.float64)
    a, b = DEGRADED
    rise_end, fall_start = a + 6 * HOUR, b - 6 * HOUR
    up = np.clip((t - a) / (rise_end - a), 0, 1)
    down = np.clip((b - t) / (b - fall_start), 0, 1)
    return np.where((t >= a) & (t < b), np.minimum(up, down), 0.0)


def export_delay(rng, t: np.ndarray) -> np.ndarray:
    """Seconds from a change in Dataverse to its availability for the conversion job: about a
    minute, a few percent much later, a few per mille hours later; slower on the degraded day."""
    n = len(t)
    delay = rng.lognormal(np.log(75.0), 0.7, n) * (1.0 + (DEGRADED_EXPORT - 1.0) * degradation(t))
    tail = rng.random(n)
    delay += np.where(tail < 0.004, rng.exponential(30 * MINUTE, n), 0.0)
    delay += np.where(tail < 0.001, rng.uniform(HOUR, 3 * HOUR, n), 0.0)
    return delay.astype(np.int64)


@dataclass
class Landing:
    """Which run (commit) first landed each version, and the sync commits of the table."""

    lands: np.ndarray         # per version: it is the latest of its record in that run
    run_starts: np.ndarray    # the sync commits' run start times (s), sorted
    commit_ms: np.ndarray     # their commit times (ms)
    first_commit: np.ndarray      # per version: index of the sync commit that landed it, -1
    relanded_version: np.ndarray  # re-landings: version index
    relanded_commit: np.ndarray   # re-landings: sync commit index


def run_schedule(rng, avail_sorted: np.ndarray, interval: int, slot: int) -> tuple[np.ndarray, np.ndarray]:
    """The conversion job's runs: one per trigger that finds new changes, none during the outage,
    none while the previous run is still busy (on the degraded day runs take up to 20 minutes
    longer, so a 15-minute table skips triggers). Returns run starts (s) and commit times (ms)."""
    if len(avail_sorted) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first = (avail_sorted[0] // interval) * interval
    grid = np.arange(first, avail_sorted[-1] + 4 * interval + (OUTAGE[1] - OUTAGE[0]), interval)
    pending = np.searchsorted(avail_sorted, grid, side="right")   # changes available by each trigger
    starts, commits = [], []
    busy_until, taken, backlog = -1, 0, False
    for trig, avail in zip(grid.tolist(), pending.tolist()):
        if OUTAGE[0] <= trig < OUTAGE[1]:
            backlog = True
            continue
        if trig * 1000 < busy_until or avail == taken:
            continue
        runtime = 30_000 + slot * 12_000 + rng.exponential(15_000)
        runtime += DEGRADED_RUNTIME_S * 1000 * float(degradation(trig))
        if backlog and trig >= OUTAGE[1]:
            runtime += 7 * 60_000      # the first run after the outage lands the backlog
            backlog = False
        starts.append(trig)
        commits.append(trig * 1000 + int(runtime))
        busy_until, taken = commits[-1], avail
    return np.array(starts, dtype=np.int64), np.array(commits, dtype=np.int64)


def schedule_landings(rng, spec: TableSpec, versions: Versions, slot: int) -> Landing:
    interval = spec.interval_min * MINUTE
    window_v = ~versions.initial
    avail = versions.t + export_delay(rng, versions.t)
    # The export is ordered per record: a version is never available before an earlier one.
    avail = group_cummax(avail, versions.rec)
    run_starts, commit_ms = run_schedule(rng, np.sort(avail[window_v]), interval, slot)
    run = np.full(len(versions), -1, dtype=np.int64)
    run[window_v] = np.searchsorted(run_starts, avail[window_v], side="left")
    # Only the latest version of a record in a run lands (the MERGE source is deduplicated).
    nxt_same = np.r_[(versions.rec[1:] == versions.rec[:-1]) & (run[1:] == run[:-1]), False]
    lands = window_v & ~nxt_same
    first_commit = np.where(lands, run, -1)
    rv, rc = pick_relandings(rng, spec, versions, lands, first_commit, len(run_starts))
    return Landing(lands, run_starts, commit_ms, first_commit, rv, rc)


def pick_relandings(rng, spec, versions: Versions, lands, first_commit, n_commits):
    """Some landed versions land again a few commits later, before the record's next version."""
    idx = np.flatnonzero(lands)
    if spec.relanding <= 0 or len(idx) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    c = first_commit[idx]
    same_next = np.r_[versions.rec[idx][1:] == versions.rec[idx][:-1], False]
    nxt = np.where(same_next, np.r_[c[1:], 0], n_commits)
    room = np.minimum(nxt - c - 1, 2)   # re-sent soon: within the next two runs
    chosen = (rng.random(len(idx)) < spec.relanding) & (room >= 1)
    again = c + 1 + (rng.random(len(idx)) * np.maximum(room, 1)).astype(np.int64)
    return idx[chosen], again[chosen]


# ---------------------------------------------------------------------------------- warts
def apply_warts(rng, spec: TableSpec, versions: Versions, landing: Landing) -> None:
    """modifiedon as written: the true time, except sentinel and clock-skew rows."""
    versions.modified = versions.t.copy()
    if spec.name not in (SENTINEL_TABLE, SKEW_TABLE):
        return
    # Landed updates that are not landed again; half of them inside the feed's days.
    plain = landing.lands & (versions.ordinal > 0) & ~versions.is_delete
    plain[landing.relanded_version] = False
    recent = versions.t >= END - 2 * DAY + HOUR
    half = WARTS_PER_TABLE // 2
    picks = []
    for pool in (np.flatnonzero(plain & recent), np.flatnonzero(plain & ~recent)):
        picks.append(rng.choice(pool, min(half, len(pool)), replace=False))
    picks = np.sort(np.concatenate(picks))
    if spec.name == SENTINEL_TABLE:
        versions.modified[picks] = SENTINEL
    else:
        landed_s = landing.commit_ms[landing.first_commit[picks]] // 1000
        versions.modified[picks] = landed_s + rng.integers(30, 300, len(picks))


# -------------------------------------------------------------------------------- columns
DELTA_TYPES = {"string": "string", "guid": "string", "int32": "integer", "int64": "long",
               "boolean": "boolean", "datetime": "timestamp", "decimal": "decimal(38,2)",
               "double": "double"}
ARROW_TYPES = {"string": pa.string(), "guid": pa.string(), "int32": pa.int32(), "int64": pa.int64(),
               "boolean": pa.bool_(), "datetime": pa.timestamp("us", tz="UTC"),
               "decimal": pa.decimal128(38, 2), "double": pa.float64()}
FO_PARTITION = 5637144576            # F&O's default partition key (also the first RecId)
FO_COMPANIES = ["usmf", "usmf", "usmf", "demf", "gbsi"]
FO_USERS = ["Admin", "batchjob", "jonas.f", "maria.r", "dual-write"]
NODES = np.array([0x8409000D3A4A1C2B, 0x9A7F6045BD0069AA, 0xB3D4000D3AB5E1F7, 0x7C2E6045BDE4A1D0],
                 dtype=np.uint64)


def dataverse_ids(counter: np.ndarray, created: np.ndarray) -> pa.Array:
    """Sequential GUIDs as Dataverse (SQL Server) makes them: the first bytes count up, the
    third group marks the era, the last eight bytes name the server."""
    counter = np.asarray(counter, dtype=np.uint64)
    year = np.clip(year_of(created), 2019, 2030).astype(np.uint64)
    era = (np.uint64(0xE9) + (year - np.uint64(2019))) << np.uint64(8) | np.uint64(0x11)
    node = NODES[(counter >> np.uint64(28)) % np.uint64(len(NODES))]  # one server per table
    n = len(counter)
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    tail = _hex_columns(node, 8, little_endian=False)
    day = (np.asarray(created, dtype=np.int64) // DAY).astype(np.uint64)
    second = (counter >> np.uint64(32)) ^ (day * np.uint64(0x9E37) & np.uint64(0xFFFF))
    parts = [_hex_columns(counter, 4, True), dash, _hex_columns(second, 2, True),
             dash, _hex_columns(era, 2, False), dash, tail[:, :4], dash, tail[:, 4:]]
    return _ascii_strings(np.concatenate(parts, axis=1))


def fo_ids(tableid: int, recid: np.ndarray) -> pa.Array:
    """F&O row ids: table id in hex in the first group, RecId little-endian in the last 8 bytes."""
    n = len(recid)
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    zeros = np.full((n, 4), ord("0"), dtype=np.uint8)
    tail = _hex_columns(np.asarray(recid, dtype=np.uint64), 8, little_endian=True)
    parts = [_hex_columns(np.full(n, tableid, dtype=np.uint64), 4, False), dash, zeros, dash, zeros,
             dash, tail[:, :4], dash, tail[:, 4:]]
    return _ascii_strings(np.concatenate(parts, axis=1))


def _ascii_strings(matrix: np.ndarray) -> pa.Array:
    n, width = matrix.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(matrix.tobytes()))


def skewed_choice(rng, n: int, k: int) -> np.ndarray:
    """Indices 0..k-1, the first ones more frequent (real choice columns are skewed)."""
    w = 1.0 / (np.arange(k) + 1.0)
    return rng.choice(k, n, p=w / w.sum())


def code_texts(pattern: str, numbers: np.ndarray) -> pa.Array:
    """'ACC-{:06d}'-style codes, vectorised with pyarrow string kernels."""
    prefix, rest = pattern.split("{", 1)
    width = int(rest.split(":", 1)[1].split("d", 1)[0]) if ":" in rest.split("}")[0] else 0
    suffix = rest.split("}", 1)[1]
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, suffix, "")


@dataclass
class TableData:
    """Everything known about one table: spec, schema, simulation, landing, columns."""

    no: int
    spec: TableSpec
    schema: dict
    versions: Versions
    records: Records
    landing: Landing = None
    ids: pa.Array = None                 # per record
    primary: pa.Array = None             # per record: the primary name (for lookups)
    partition: np.ndarray = None         # per record: index into partitions
    partitions: list = None              # partition values ('2026', '1900', ...)
    created_written: np.ndarray = None   # per record: createdon as written (F&O legacy 1900)
    person: np.ndarray = None            # per record: the person its name columns describe
    states: np.ndarray = None            # per version: statecode (statuscode follows it)
    sink0: np.ndarray = None             # per version: Sink time (ms) of version 0's rows
    v0_ms: int = 0                       # when version 0 (the initial load) was committed
    record_cols: dict = None             # name -> per-record array
    version_cols: dict = None            # name -> per-version array
    columns: list = None                 # [(name, delta type, arrow type)] in file order

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def has_modifiedon(self) -> bool:
        return any(c["role"] == "modified" for c in self.schema["columns"])


def record_basics(rng, table: TableData) -> None:
    """Ids, primary names, createdon as written, partitions: what other tables' lookups need."""
    spec, recs = table.spec, table.records
    n = len(recs)
    created = recs.created.copy()
    if spec.name == LEGACY_DATE_TABLE:
        # Legacy F&O rows created before createddatetime was enabled carry the default date.
        legacy = np.zeros(n, dtype=bool)
        legacy[: recs.n_initial] = rng.random(recs.n_initial) < 0.06
        created[legacy] = SENTINEL
    table.created_written = created
    if spec.kind == "finance_operations":
        table.ids = fo_ids(table.schema["tableid"], FO_PARTITION + 1000 + np.arange(n))
    else:
        table.ids = dataverse_ids((table.no + 1) * 0x10000000 + np.arange(n) * 3 + 0x1A2B, recs.created)
    # One person per record: first name, last name, full name and e-mail address agree.
    table.person = rng.integers(0, len(FIRST) * len(LAST), n)
    if spec.primary_name:
        col = next(c for c in table.schema["columns"] if c["name"] == spec.primary_name)
        vocab = vocabulary(col["arg"])
        pick = table.person if col["arg"] == "person" else rng.integers(0, len(vocab), n)
        table.primary = take_strings(vocab, pick)


def assign_partitions(table: TableData) -> None:
    """PartitionId: the year of createdon; for tables without createdon, of the first landing."""
    if table.has_modifiedon:
        years = year_of(table.created_written)
    else:
        v = table.versions
        first_ms = table.sink0.copy()
        landed = table.landing.first_commit >= 0
        first_ms[landed] = table.landing.commit_ms[table.landing.first_commit[landed]]
        firsts = group_starts(v.rec)
        years = year_of(first_ms[firsts] // 1000)
    table.partitions = [str(y) for y in np.unique(years)]
    table.partition = np.searchsorted(np.unique(years), years)


RECORD, VERSION = "record", "version"   # whether a column's values belong to the record or the version


def build_columns(rng, table: TableData, tables: dict) -> None:
    """Per-record and per-version column arrays, and the columns in the export's order."""
    v = table.versions
    timestamp = ARROW_TYPES["datetime"]
    rc, vc = {"Id": table.ids}, {}
    columns = [("Id", "string", pa.string()), ("SinkCreatedOn", "timestamp", timestamp),
               ("SinkModifiedOn", "timestamp", timestamp)]
    for col in table.schema["columns"]:
        if col["role"] == "lookup":
            triple = lookup_columns(rng, col, len(table.records), tables)
            rc.update(triple)
            columns += [(name, "string", pa.string()) for name in triple]
            continue
        builder = COLUMN_BUILDERS.get(col["role"])
        if builder is None:
            raise ValueError(f"unknown column role {col['role']!r} in {table.name}.{col['name']}")
        level, values = builder(rng, table, col, tables)
        (rc if level == RECORD else vc)[col["name"]] = values
        columns.append((col["name"], DELTA_TYPES[col["type"]], ARROW_TYPES[col["type"]]))
    columns.append(("IsDelete", "boolean", pa.bool_()))
    vc["IsDelete"] = pa.array(np.where(v.is_delete, True, None), pa.bool_())
    table.record_cols, table.version_cols, table.columns = rc, vc, columns


def text_column(rng, table: TableData, col: dict, tables) -> tuple:
    """Names from a vocabulary; a record's person columns describe one person."""
    kind, n = col["arg"], len(table.records)
    if col["name"] == table.spec.primary_name:
        return RECORD, table.primary
    if kind in PERSON_PARTS:
        return RECORD, take_strings(vocabulary(kind), PERSON_PARTS[kind](table.person))
    vocab = vocabulary(kind)
    return RECORD, take_strings(vocab, rng.integers(0, len(vocab), n))


def choice_column(rng, table: TableData, col: dict, tables) -> tuple:
    """Codes of a choice (skewed to the first options); volatile ones change with each version."""
    level = VERSION if col.get("volatile") else RECORD
    count = len(table.versions) if level == VERSION else len(table.records)
    options = np.asarray([o[0] for o in col["options"]])
    return level, pa.array(options[skewed_choice(rng, count, len(options))], ARROW_TYPES[col["type"]])


def number_column(rng, table: TableData, col: dict, tables) -> tuple:
    """Amounts and counts, log-uniform between low and high; money keeps its cents."""
    level = VERSION if col.get("volatile") else RECORD
    count = len(table.versions) if level == VERSION else len(table.records)
    x = np.exp(rng.uniform(np.log(max(col["low"], 1.0)), np.log(col["high"]), count))
    if col["type"] == "decimal":
        cents = np.round(x * 100) if col["role"] == "money" else np.round(x) * 100
        return level, decimal_array(cents.astype(np.int64))
    return level, pa.array(np.round(x).astype(np.int32 if col["type"] == "int32" else np.int64))


def state_column(rng, table: TableData, col: dict, tables) -> tuple:
    table.states = state_per_version(rng, col, table.versions)
    return VERSION, pa.array(table.states, pa.int32())


def reference_column(rng, table: TableData, col: dict, tables) -> tuple:
    """A key of a record of another table (the intersect table's two keys)."""
    target = tables[col["arg"]]
    pick = rng.integers(0, target.records.n_initial, len(table.records))
    return RECORD, pc.take(target.ids, pa.array(pick))


def constant(table: TableData, value, dtype) -> pa.Array:
    return pa.array(np.full(len(table.records), value, dtype))


COLUMN_BUILDERS = {
    "pk": lambda rng, t, col, tables: (RECORD, t.ids),
    "created": lambda rng, t, col, tables: (RECORD, timestamps(t.created_written)),
    "modified": lambda rng, t, col, tables: (VERSION, timestamps(t.versions.modified)),
    "version": lambda rng, t, col, tables: (VERSION, pa.array(t.versions.vn)),
    "text": text_column,
    "code": lambda rng, t, col, tables: (RECORD, code_texts(col["arg"], np.arange(len(t.records)) + 1001)),
    "choice": choice_column,
    "enum": choice_column,
    "flag": lambda rng, t, col, tables: (RECORD, pa.array(rng.random(len(t.records)) < 0.45)),
    "money": number_column,
    "int": number_column,
    "date": lambda rng, t, col, tables: (
        RECORD, timestamps((t.records.created // DAY + rng.integers(10, 120, len(t.records))) * DAY)),
    "ref": reference_column,
    "state": state_column,
    "status": lambda rng, t, col, tables: (VERSION, pa.array(status_for(rng, col, t.states), pa.int32())),
    # The system columns every F&O table exports.
    "fo_datastate": lambda rng, t, col, tables: (RECORD, constant(t, 0, np.int64)),
    "fo_modified": lambda rng, t, col, tables: (VERSION, timestamps(t.versions.modified)),
    "fo_created": lambda rng, t, col, tables: (RECORD, timestamps(t.created_written)),
    "fo_user": lambda rng, t, col, tables: (
        RECORD, take_strings(FO_USERS, skewed_choice(rng, len(t.records), len(FO_USERS)))),
    "fo_transaction": lambda rng, t, col, tables: (VERSION, pa.array(5_637_000_000 + t.versions.vn // 7)),
    "fo_company": lambda rng, t, col, tables: (
        RECORD, take_strings(FO_COMPANIES, rng.integers(0, len(FO_COMPANIES), len(t.records)))),
    "fo_recversion": lambda rng, t, col, tables: (   # 1 when inserted, a random number on update
        VERSION, pa.array(np.where(t.versions.ordinal == 0, 1, rng.integers(2, 2**31 - 1, len(t.versions))))),
    "fo_partition": lambda rng, t, col, tables: (RECORD, constant(t, FO_PARTITION, np.int64)),
    "fo_recid": lambda rng, t, col, tables: (
        RECORD, pa.array(FO_PARTITION + 1000 + np.arange(len(t.records), dtype=np.int64))),
    "fo_tableid": lambda rng, t, col, tables: (RECORD, constant(t, t.schema["tableid"], np.int64)),
    "partition_year": lambda rng, t, col, tables: (RECORD, take_strings(t.partitions, t.partition)),
}


def lookup_columns(rng, col: dict, n: int, tables: dict) -> dict:
    """<col>, <col>_entitytype, <col>name: a reference to a record of one of the targets."""
    name = col["name"]
    targets = col["arg"].split(",")
    if targets == ["systemuser"]:
        user = rng.integers(0, len(USERS), n)
        return {name: dataverse_ids(0x0F000000 + user * 5, np.full(n, END - 900 * DAY)),
                f"{name}_entitytype": take_strings(["systemuser"], np.zeros(n, np.int64)),
                f"{name}name": take_strings(USERS, user)}
    which = rng.integers(0, len(targets), n)
    ids, names = [], []
    for target in targets:
        t = tables[target]
        pick = pa.array(rng.integers(0, t.records.n_initial, n))
        ids.append(pc.take(t.ids, pick))
        names.append(pc.take(t.primary, pick))
    choose = pa.array(which.astype(np.int8))
    return {name: pc.choose(choose, *ids) if len(ids) > 1 else ids[0],
            f"{name}_entitytype": take_strings(targets, which),
            f"{name}name": pc.choose(choose, *names) if len(names) > 1 else names[0]}


def state_per_version(rng, col: dict, v: Versions) -> np.ndarray:
    """Open when created; a record's last version (and a share of old records) may be closed."""
    codes = np.array([o[0] for o in col["options"]])
    closed = codes[codes != codes.min()]
    close_draw = closed[skewed_choice(rng, len(v), len(closed))] if len(closed) else codes.min()
    last = v.ordinal == v.count - 1
    p_closed = np.where(v.initial, 0.25, np.where(last & (v.ordinal > 0), 0.45, 0.0))
    return np.where(rng.random(len(v)) < p_closed, close_draw, codes.min())


def status_for(rng, col: dict, states: np.ndarray) -> np.ndarray:
    """A status reason that belongs to the state (StatusMetadata's State column)."""
    out = np.empty(len(states), dtype=np.int64)
    for state in np.unique(states):
        options = [o[0] for o in col["options"] if o[2] == state]
        mask = states == state
        out[mask] = np.asarray(options)[skewed_choice(rng, int(mask.sum()), len(options))]
    return out


def initial_sink_ms(rng, spec: TableSpec, versions: Versions, v0_ms: int) -> np.ndarray:
    """Version 0's rows keep the Sink time of their earlier landing (before the log begins)."""
    interval = spec.interval_min * MINUTE
    t = versions.t
    landed = (-(-(t + export_delay(rng, t)) // interval) * interval) * 1000 + 40_000
    return np.where(versions.initial, np.minimum(landed, v0_ms - 60_000), 0)


# --------------------------------------------------------------------- the Delta log, simulated
INSERT, PREIMAGE, POSTIMAGE, DELETE = 0, 1, 2, 3
CHANGE_TYPES = ["insert", "update_preimage", "update_postimage", "delete"]
OPTIMIZE_MIN_FILES = 8              # the nightly job compacts a partition from this many small files


@dataclass
class DataFile:
    path: str
    partition: int
    rows: int
    stats: str
    added_ms: int
    vers: np.ndarray | None          # version index per row (dropped once known to be vacuumed)
    sink: np.ndarray | None          # Sink time (ms) per row
    removed_ms: int | None = None
    size: int = 0


@dataclass
class ChangeFile:
    path: str
    partition: int
    rows: int
    commit_ms: int
    vers: np.ndarray | None
    sink: np.ndarray | None
    change: np.ndarray | None
    size: int = 0


@dataclass
class Commit:
    version: int
    ms: int
    kind: str                        # write | merge | purge | optimize
    metrics: dict
    adds: list = field(default_factory=list)
    removes: list = field(default_factory=list)
    cdcs: list = field(default_factory=list)


class LogSim:
    """Replays a table's landings as the Spark conversion job writes them to the Delta log."""

    def __init__(self, table: TableData, rng: np.random.Generator, vacuum_cutoff_ms: int):
        self.t = table
        self.rng = rng
        self.cutoff = vacuum_cutoff_ms
        n = len(table.records)
        self.loc = np.full(n, -1, dtype=np.int64)     # the data file holding the record's row
        self.cur = np.full(n, -1, dtype=np.int64)     # the version in the table
        self.sink = np.zeros(n, dtype=np.int64)       # its Sink time (ms)
        self.files: list[DataFile] = []
        self.changes: list[ChangeFile] = []
        self.commits: list[Commit] = []
        self.live: dict[int, list[int]] = {}          # partition -> live data file ids, oldest first
        self.sync_version = np.full(len(table.landing.commit_ms), -1, dtype=np.int64)
        self.purged = 0
        self.pending = np.full(n, -1, dtype=np.int64)
        self.rec = table.versions.rec

    # -- files
    def _name(self, prefix: str) -> str:
        (u,) = uuid_texts(self.rng, 1)
        return f"{prefix}-{self.rng.integers(0, 200):05d}-{u}.c000.zstd.parquet"

    def _partition_dir(self, p: int) -> str:
        return f"PartitionId={self.t.partitions[p]}"

    @staticmethod
    def _stats(vers: np.ndarray) -> str:
        # delta.dataSkippingNumIndexedCols = 0: Spark then records only the row count.
        return json.dumps({"numRecords": len(vers)}, separators=(",", ":"))

    def _add_file(self, p: int, vers: np.ndarray, sink: np.ndarray, ms: int) -> int:
        order = np.argsort(self.rec[vers], kind="stable")   # rows in record (≈ Id) order
        vers, sink = vers[order], sink[order]
        f = DataFile(f"{self._partition_dir(p)}/{self._name('part')}", p, len(vers),
                     self._stats(vers), ms, vers, sink)
        self.files.append(f)
        fid = len(self.files) - 1
        self.live.setdefault(p, []).append(fid)
        self.loc[self.rec[vers]] = fid
        return fid

    def _remove_file(self, fid: int, ms: int) -> None:
        f = self.files[fid]
        f.removed_ms = ms
        self.live[f.partition].remove(fid)
        if ms < self.cutoff:               # the final vacuum deletes it: its rows are not needed
            f.vers = f.sink = None

    def _add_changes(self, ms: int, vers, sink, change) -> list[int]:
        """One change data file per partition, as Spark writes them."""
        ids = []
        part = self.t.partition[self.rec[vers]]
        for p in np.unique(part):
            m = part == p
            keep = ms >= self.cutoff
            cf = ChangeFile(f"_change_data/{self._partition_dir(p)}/{self._name('cdc')}", int(p),
                            int(m.sum()), ms, vers[m] if keep else None, sink[m] if keep else None,
                            change[m] if keep else None)
            self.changes.append(cf)
            ids.append(len(self.changes) - 1)
        return ids

    def _commit(self, ms: int, kind: str, metrics: dict, adds=(), removes=(), cdcs=()) -> Commit:
        c = Commit(len(self.commits), ms, kind, metrics, list(adds), list(removes), list(cdcs))
        self.commits.append(c)
        return c

    # -- operations
    def write_initial(self, ms: int) -> None:
        v = self.t.versions
        vers = np.flatnonzero(v.initial)
        sink = self.t.sink0[vers]
        self.cur[self.rec[vers]] = vers
        self.sink[self.rec[vers]] = sink
        part = self.t.partition[self.rec[vers]]
        adds = []
        for p in np.unique(part):
            idx = np.flatnonzero(part == p)
            for chunk in np.array_split(idx, max(1, -(-len(idx) // self.t.spec.initial_rows_per_file))):
                adds.append(self._add_file(int(p), vers[chunk], sink[chunk], ms))
        self._commit(ms, "write", {"numFiles": len(adds), "numOutputRows": len(vers)}, adds=adds)

    def merge(self, ms: int, vers: np.ndarray, sync_index: int) -> None:
        recs = self.rec[vers]
        old = self.cur[recs]
        matched = old >= 0
        adds, removes = [], []
        # New Ids: one new file per partition.
        ins = vers[~matched]
        ins_part = self.t.partition[self.rec[ins]]
        for p in np.unique(ins_part):
            m = ins_part == p
            adds.append(self._add_file(int(p), ins[m], np.full(m.sum(), ms), ms))
        # Matched Ids: every file holding one is rewritten with the new versions (copy-on-write).
        copied = 0
        self.pending[recs[matched]] = vers[matched]
        for fid in np.unique(self.loc[recs[matched]]):
            f = self.files[fid]
            new = self.pending[self.rec[f.vers]]
            hit = new >= 0
            copied += int((~hit).sum())
            nv = np.where(hit, new, f.vers)
            ns = np.where(hit, ms, f.sink)
            removes.append(int(fid))
            self._remove_file(int(fid), ms)
            adds.append(self._add_file(f.partition, nv, ns, ms))
        self.pending[recs[matched]] = -1
        # Change data: inserts, and a pre/post image pair per matched Id.
        mv, mo = vers[matched], old[matched]
        cvers = np.concatenate([ins, mo, mv])
        csink = np.concatenate([np.full(len(ins), ms), self.sink[recs[matched]], np.full(len(mv), ms)])
        ctype = np.concatenate([np.full(len(ins), INSERT), np.full(len(mo), PREIMAGE), np.full(len(mv), POSTIMAGE)])
        order = np.lexsort((ctype, self.rec[cvers]))
        cdcs = self._add_changes(ms, cvers[order], csink[order], ctype[order].astype(np.int8))
        self.cur[recs] = vers
        self.sink[recs] = ms
        c = self._commit(ms, "merge", {"numSourceRows": len(vers), "numTargetRowsInserted": len(ins),
                                       "numTargetRowsUpdated": int(matched.sum()), "numTargetRowsDeleted": 0,
                                       "numTargetRowsCopied": copied,
                                       "numOutputRows": len(vers) + copied}, adds, removes, cdcs)
        self.sync_version[sync_index] = c.version

    def purge(self, ms: int) -> None:
        """The 28-day purge: rows soft-deleted (landed) 28 days ago are physically deleted."""
        cutoff = ms - PURGE_AFTER * 1000
        in_table = self.cur >= 0
        deleted = np.zeros(len(self.cur), dtype=bool)
        deleted[in_table] = self.t.versions.is_delete[self.cur[in_table]]
        victims = np.flatnonzero(deleted & (self.sink <= cutoff))
        if len(victims) == 0:
            return
        adds, removes, copied = [], [], 0
        gone = np.zeros(len(self.cur), dtype=bool)
        gone[victims] = True
        for fid in np.unique(self.loc[victims]):
            f = self.files[fid]
            keep = ~gone[self.rec[f.vers]]
            kept_vers, kept_sink = f.vers[keep], f.sink[keep]
            removes.append(int(fid))
            self._remove_file(int(fid), ms)
            if keep.any():
                copied += int(keep.sum())
                adds.append(self._add_file(f.partition, kept_vers, kept_sink, ms))
        vers = self.cur[victims]
        cdcs = self._add_changes(ms, vers, self.sink[victims], np.full(len(vers), DELETE, np.int8))
        self.cur[victims] = -1
        self.loc[victims] = -1
        self.purged += len(victims)
        self._commit(ms, "purge", {"numDeletedRows": len(victims), "numCopiedRows": copied,
                                   "cutoff_ms": cutoff}, adds, removes, cdcs)

    def optimize(self, ms: int) -> None:
        """Bin-pack small files of a partition into files of about rows_per_file rows."""
        target = self.t.spec.rows_per_file
        adds, removes = [], []
        for p in sorted(self.live):
            small = [fid for fid in self.live[p] if self.files[fid].rows < target // 2]
            if len(small) < OPTIMIZE_MIN_FILES:
                continue
            bins, current, rows = [], [], 0
            for fid in small:
                current.append(fid)
                rows += self.files[fid].rows
                if rows >= target:
                    bins.append(current)
                    current, rows = [], 0
            bins.append(current)
            for group in (b for b in bins if len(b) > 1):
                vers = np.concatenate([self.files[fid].vers for fid in group])
                sink = np.concatenate([self.files[fid].sink for fid in group])
                for fid in group:
                    removes.append(fid)
                    self._remove_file(fid, ms)
                adds.append(self._add_file(p, vers, sink, ms))
        if adds:
            self._commit(ms, "optimize", {"numRemovedFiles": len(removes), "numAddedFiles": len(adds)},
                         adds, removes)


def run_log(table: TableData, rng, window: Window, v0_ms: int) -> LogSim:
    """The table's commits in time order: version 0, the syncs, the nightly jobs."""
    slot_ms = table.no * 20_000
    nights = [(window.start + d * DAY + NIGHTLY_AT) * 1000 + slot_ms for d in range(1, window.days + 1)]
    # The last night's VACUUM runs after its purge and OPTIMIZE (at +0 s and +40 s).
    sim = LogSim(table, rng, vacuum_cutoff_ms=nights[-1] + VACUUM_AFTER_MS - RETENTION * 1000)
    sim.write_initial(v0_ms)
    batches = landing_batches(table)
    events = [(int(ms), 0, i) for i, ms in enumerate(table.landing.commit_ms)]
    events += [(ms, 1, -1) for ms in nights]
    for ms, what, i in sorted(events):
        if what == 0:
            sim.merge(ms, batches[i], i)
        else:
            sim.purge(ms)
            sim.optimize(ms + 40_000)
    return sim


def landing_batches(table: TableData) -> list[np.ndarray]:
    """Per sync commit: the versions it lands (first landings and re-landings)."""
    lg = table.landing
    first = np.flatnonzero(lg.lands)
    commit = np.concatenate([lg.first_commit[first], lg.relanded_commit])
    vers = np.concatenate([first, lg.relanded_version])
    order = np.lexsort((vers, commit))
    commit, vers = commit[order], vers[order]
    bounds = np.searchsorted(commit, np.arange(len(lg.commit_ms) + 1))
    return [vers[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


# ------------------------------------------------------------------------------ writing files
ENGINE = {"synapse": "Apache-Spark/3.4.1 Delta-Lake/2.4.0", "fabric": "Apache-Spark/3.5.1 Delta-Lake/3.2.0"}
TABLE_PROPERTIES = {
    "delta.enableChangeDataFeed": "true",
    "delta.checkpointInterval": "10",
    "delta.deletedFileRetentionDuration": "interval 2 days",
    "delta.logRetentionDuration": "interval 30 days",
    "delta.dataSkippingNumIndexedCols": "0",
}
KEEP_CHECKPOINTS = 2


def table_dir(layout: str, name: str) -> str:
    """Where a table lives under DEST, per layout."""
    if layout == "fabric":
        return f"Tables/{name.lower()}"
    return f"deltalake/{name}_partitioned"


def rows_table(table: TableData, vers: np.ndarray, sink_ms: np.ndarray, change=None) -> pa.Table:
    """The rows of one file: record columns, version columns and the Sink times of its landing."""
    ridx = pa.array(table.versions.rec[vers])
    vidx = pa.array(vers)
    sink = pa.array(np.asarray(sink_ms, dtype=np.int64) * 1000, pa.timestamp("us", tz="UTC"))
    arrays, fields = [], []
    for name, _, atype in table.columns:
        if name in ("SinkCreatedOn", "SinkModifiedOn"):
            arr = sink
        elif name in table.record_cols:
            arr = table.record_cols[name].take(ridx)
        else:
            arr = table.version_cols[name].take(vidx)
        arrays.append(arr)
        fields.append(pa.field(name, atype))
    if change is not None:
        arrays.append(take_strings(CHANGE_TYPES, change))
        fields.append(pa.field("_change_type", pa.string()))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(path: Path, tbl: pa.Table) -> int:
    """zstd, delta-encoded times and numbers, no Arrow schema in the footer (Spark writes none):
    the encodings any Parquet reader reads, chosen to keep the sample within its size budget."""
    path.parent.mkdir(parents=True, exist_ok=True)
    delta = [f.name for f in tbl.schema
             if (pa.types.is_timestamp(f.type) and not f.name.startswith("Sink")) or pa.types.is_int64(f.type)]
    # Dictionaries only pay off in files of some size; column statistics are left out (each
    # file's footer would otherwise double for the small files most commits write).
    dictionary = [n for n in tbl.column_names if n not in delta] if tbl.num_rows >= 200 else False
    pq.write_table(tbl, path, compression="zstd", store_schema=False, write_statistics=False,
                   use_dictionary=dictionary, column_encoding={n: "DELTA_BINARY_PACKED" for n in delta})
    return path.stat().st_size


def size_model(sizes: list[tuple[int, int]]) -> tuple[float, float]:
    """bytes ~ a + b * rows, fitted on written files: sizes of vacuumed files are estimated."""
    if len(sizes) < 2:
        return 2500.0, 20.0
    rows, size = np.array(sizes, dtype=float).T
    b, a = np.polyfit(rows, size, 1) if np.ptp(rows) > 0 else (0.0, size.mean())
    return max(a, 500.0), max(b, 1.0)


def write_table_files(table: TableData, sim: LogSim, tdir: Path) -> None:
    """Write the data and change files that survive the final vacuum; size the others."""
    data_sizes, change_sizes = [], []
    for f in sim.files:
        if f.vers is not None and (f.removed_ms is None or f.removed_ms >= sim.cutoff):
            f.size = write_parquet(tdir / f.path, rows_table(table, f.vers, f.sink))
            data_sizes.append((f.rows, f.size))
    for cf in sim.changes:
        if cf.vers is not None:
            cf.size = write_parquet(tdir / cf.path, rows_table(table, cf.vers, cf.sink, cf.change))
            change_sizes.append((cf.rows, cf.size))
    a, b = size_model(data_sizes)
    for f in sim.files:
        if not f.size:
            f.size = int(a + b * f.rows)
    a, b = size_model(change_sizes)
    for cf in sim.changes:
        if not cf.size:
            cf.size = int(a + b * cf.rows)


def schema_string(columns: list) -> str:
    fields = [{"name": n, "type": t, "nullable": True, "metadata": {}} for n, t, _ in columns]
    return json.dumps({"type": "struct", "fields": fields}, separators=(",", ":"))


def commit_info(c: Commit, sim: LogSim | None, layout: str, txn: str) -> dict:
    """commitInfo as Spark writes it: camelCase operation metrics as strings."""
    added = sum(sim.files[i].size for i in c.adds) if sim else 0
    removed = sum(sim.files[i].size for i in c.removes) if sim else 0
    m = c.metrics
    if c.kind == "write":
        op, params = "WRITE", {"mode": "Overwrite", "partitionBy": json.dumps(m.get("partitionBy", ["PartitionId"]))}
        metrics = {"numFiles": m["numFiles"], "numOutputRows": m["numOutputRows"],
                   "numOutputBytes": m.get("numOutputBytes", added)}
    elif c.kind == "merge":
        op = "MERGE"
        params = {"predicate": '["(Id#1 = Id#2)"]', "matchedPredicates": '[{"actionType":"update"}]',
                  "notMatchedPredicates": '[{"actionType":"insert"}]'}
        metrics = dict(m, numTargetFilesAdded=len(c.adds), numTargetFilesRemoved=len(c.removes),
                       numTargetChangeFilesAdded=len(c.cdcs), numTargetBytesAdded=added,
                       numTargetBytesRemoved=removed, executionTimeMs=int(sim.rng.integers(3000, 40000)))
    elif c.kind == "purge":
        op = "DELETE"
        params = {"predicate": f'["((IsDelete#3 = true) AND (SinkModifiedOn#2 <= {iso_ms(m["cutoff_ms"])}))"]'}
        metrics = {"numRemovedFiles": len(c.removes), "numAddedFiles": len(c.adds),
                   "numAddedChangeFiles": len(c.cdcs), "numDeletedRows": m["numDeletedRows"],
                   "numCopiedRows": m["numCopiedRows"], "numRemovedBytes": removed, "numAddedBytes": added}
    else:
        op, params = "OPTIMIZE", {"predicate": "[]", "zOrderBy": "[]"}
        metrics = {"numRemovedFiles": len(c.removes), "numAddedFiles": len(c.adds),
                   "numRemovedBytes": removed, "numAddedBytes": added}
    info = {"timestamp": c.ms, "operation": op, "operationParameters": params}
    if c.version > 0:
        info["readVersion"] = c.version - 1
    info.update({"isolationLevel": "SnapshotIsolation" if op == "OPTIMIZE" else "Serializable",
                 "isBlindAppend": False, "operationMetrics": {k: str(v) for k, v in metrics.items()},
                 "engineInfo": ENGINE[layout], "txnId": txn})
    return {"commitInfo": info}


def log_lines(c: Commit, sim: LogSim, partitioned: bool) -> list[dict]:
    """add / remove / cdc actions of a commit."""
    data_change = c.kind != "optimize"

    def pv(p):
        return {"PartitionId": sim.t.partitions[p]} if partitioned else {}

    out = []
    for i in c.adds:
        f = sim.files[i]
        out.append({"add": {"path": f.path, "partitionValues": pv(f.partition), "size": f.size,
                            "modificationTime": f.added_ms, "dataChange": data_change, "stats": f.stats}})
    for i in c.removes:
        f = sim.files[i]
        out.append({"remove": {"path": f.path, "deletionTimestamp": c.ms, "dataChange": data_change,
                               "extendedFileMetadata": True, "partitionValues": pv(f.partition),
                               "size": f.size}})
    for i in c.cdcs:
        cf = sim.changes[i]
        out.append({"cdc": {"path": cf.path, "partitionValues": pv(cf.partition), "size": cf.size,
                            "dataChange": False}})
    return out


def table_header(rng, columns: list, partitioned: bool, created_ms: int, properties: dict) -> list[dict]:
    (table_id,) = uuid_texts(rng, 1)
    return [{"protocol": {"minReaderVersion": 1, "minWriterVersion": 4 if properties else 2}},
            {"metaData": {"id": table_id, "format": {"provider": "parquet", "options": {}},
                          "schemaString": schema_string(columns),
                          "partitionColumns": ["PartitionId"] if partitioned else [],
                          "configuration": properties, "createdTime": created_ms}}]


def write_json(path: Path, actions: list[dict], ms: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(a, separators=(",", ":")) + "\n" for a in actions))
    os.utime(path, (ms / 1000, ms / 1000))


def write_log(table: TableData, sim: LogSim, tdir: Path, layout: str) -> None:
    log = tdir / "_delta_log"
    columns = table.columns + [("PartitionId", "string", pa.string())]
    txns = uuid_texts(sim.rng, len(sim.commits))
    for c in sim.commits:
        actions = [commit_info(c, sim, layout, txns[c.version])]
        if c.version == 0:
            actions += table_header(sim.rng, columns, True, c.ms, TABLE_PROPERTIES)
        actions += log_lines(c, sim, partitioned=True)
        write_json(log / f"{c.version:020d}.json", actions, c.ms)


def write_checkpoints(tdir: Path, commits_ms: list[int]) -> list[int]:
    """The latest checkpoints (every 10 commits), written by deltalake from the log."""
    from deltalake import DeltaTable

    last = len(commits_ms) - 1
    versions = [v for v in range(10, last + 1, 10)][-KEEP_CHECKPOINTS:]
    for v in versions:
        DeltaTable(str(tdir), version=v).create_checkpoint()
    log = tdir / "_delta_log"
    for v in versions:
        for p in log.glob(f"{v:020d}.checkpoint*.parquet"):
            os.utime(p, (commits_ms[v] / 1000,) * 2)
    if versions:
        os.utime(log / "_last_checkpoint", (commits_ms[versions[-1]] / 1000,) * 2)
    return versions


def set_file_times(sim: LogSim, tdir: Path) -> None:
    for f in sim.files:
        p = tdir / f.path
        if p.exists():
            os.utime(p, (f.added_ms / 1000,) * 2)
    for cf in sim.changes:
        p = tdir / cf.path
        if p.exists():
            os.utime(p, (cf.commit_ms / 1000,) * 2)


# --------------------------------------------------------------------------- metadata tables
def label_rows(tables: dict[str, TableData]) -> dict[str, list[dict]]:
    """Rows of the option-set metadata tables: a label for every choice the sample uses."""
    out = {name: [] for name in METADATA_TABLES}
    label = {"IsUserLocalizedLabel": False, "LocalizedLabelLanguageCode": 1033}
    for t in tables.values():
        for col in t.schema["columns"]:
            role, name = col["role"], col["name"]
            if role in ("choice", "flag") and not col.get("global"):
                out["OptionsetMetadata"] += [{"EntityName": t.name, "OptionSetName": name, "Option": o[0],
                                              **label, "LocalizedLabel": o[1]} for o in col["options"]]
            elif role in ("choice", "enum"):
                out["GlobalOptionsetMetadata"] += [
                    {"OptionSetName": name, "Option": o[0], **label, "LocalizedLabel": o[1],
                     "GlobalOptionSetName": col.get("enum", name), "EntityName": t.name,
                     "ExternalValue": o[2] if role == "enum" else None} for o in col["options"]]
            elif role == "state":
                out["StateMetadata"] += [{"EntityName": t.name, "State": o[0], **label, "LocalizedLabel": o[1]}
                                         for o in col["options"]]
            elif role == "status":
                out["StatusMetadata"] += [{"EntityName": t.name, "State": o[2], "Status": o[0], **label,
                                           "LocalizedLabel": o[1]} for o in col["options"]]
            elif role in ("lookup", "ref"):
                for target in col["arg"].split(","):
                    out["TargetMetadata"].append({"EntityName": t.name, "AttributeName": name,
                                                  "ReferencedEntity": target,
                                                  "ReferencedAttribute": f"{target}id"})
    return out


METADATA_COLUMNS = {
    "OptionsetMetadata": [("EntityName", "string"), ("OptionSetName", "string"), ("Option", "integer"),
                          ("IsUserLocalizedLabel", "boolean"), ("LocalizedLabelLanguageCode", "integer"),
                          ("LocalizedLabel", "string")],
    "GlobalOptionsetMetadata": [("OptionSetName", "string"), ("Option", "integer"),
                                ("IsUserLocalizedLabel", "boolean"), ("LocalizedLabelLanguageCode", "integer"),
                                ("LocalizedLabel", "string"), ("GlobalOptionSetName", "string"),
                                ("EntityName", "string"), ("ExternalValue", "string")],
    "StateMetadata": [("EntityName", "string"), ("State", "integer"), ("IsUserLocalizedLabel", "boolean"),
                      ("LocalizedLabelLanguageCode", "integer"), ("LocalizedLabel", "string")],
    "StatusMetadata": [("EntityName", "string"), ("State", "integer"), ("Status", "integer"),
                       ("IsUserLocalizedLabel", "boolean"), ("LocalizedLabelLanguageCode", "integer"),
                       ("LocalizedLabel", "string")],
    "TargetMetadata": [("EntityName", "string"), ("AttributeName", "string"), ("ReferencedEntity", "string"),
                       ("ReferencedAttribute", "string")],
}
_ARROW_OF_DELTA = {"string": pa.string(), "integer": pa.int32(), "boolean": pa.bool_()}


def write_metadata_table(dest: Path, layout: str, name: str, rows: list[dict], rng, ms: int) -> dict:
    """A metadata table: one WRITE (Overwrite) commit, unpartitioned, one file."""
    tdir = dest / table_dir(layout, name)
    cols = METADATA_COLUMNS[name]
    schema = pa.schema([pa.field(c, _ARROW_OF_DELTA[t]) for c, t in cols])
    tbl = pa.Table.from_pylist(rows, schema=schema)
    (u,) = uuid_texts(rng, 1)
    path = f"part-00000-{u}.c000.zstd.parquet"
    size = write_parquet(tdir / path, tbl)
    os.utime(tdir / path, (ms / 1000,) * 2)
    (txn,) = uuid_texts(rng, 1)
    info = {"commitInfo": {"timestamp": ms, "operation": "WRITE",
                           "operationParameters": {"mode": "Overwrite", "partitionBy": "[]"},
                           "isolationLevel": "Serializable", "isBlindAppend": False,
                           "operationMetrics": {"numFiles": "1", "numOutputRows": str(len(rows)),
                                                "numOutputBytes": str(size)},
                           "engineInfo": ENGINE[layout], "txnId": txn}}
    add = {"add": {"path": path, "partitionValues": {}, "size": size, "modificationTime": ms,
                   "dataChange": True, "stats": json.dumps({"numRecords": len(rows)})}}
    columns = [(c, t, None) for c, t in cols]
    write_json(tdir / "_delta_log" / f"{0:020d}.json", [info] + table_header(rng, columns, False, ms, {}) + [add], ms)
    return {"kind": "metadata", "path": table_dir(layout, name), "rows": len(rows),
            "commits": {"sync": 1, "write": 1, "merge": 0, "optimize": 0, "purge": 0}}


# ------------------------------------------------------------------------------------ truth
def percentiles(x: np.ndarray) -> dict:
    if len(x) == 0:
        return {"p50": None, "p95": None, "max": None, "changes": 0}
    return {"p50": round(float(np.percentile(x, 50)), 3), "p95": round(float(np.percentile(x, 95)), 3),
            "max": round(float(x.max()), 3), "changes": int(len(x))}


def count_by_day(keys: np.ndarray, kinds: np.ndarray, names: tuple) -> dict:
    """{day: {names[0]: n, ...}} from a day key and a kind index (into names) per item."""
    out = {}
    if len(keys) == 0:
        return out
    days, day_idx = np.unique(keys, return_inverse=True)
    counts = np.zeros((len(days), len(names)), dtype=np.int64)
    np.add.at(counts, (day_idx, kinds), 1)
    for d, row in zip(days, counts):
        out[str(d)] = {n: int(c) for n, c in zip(names, row)}
    return out


def latency_stats(lat: np.ndarray, sentinel: np.ndarray) -> dict:
    ok = ~sentinel & (lat >= 0)
    stats = percentiles(lat[ok])
    stats["excluded_sentinel"] = int(sentinel.sum())
    stats["excluded_negative"] = int((~sentinel & (lat < 0)).sum())
    return stats


def table_truth(table: TableData, sim: LogSim) -> dict:
    """What happened to one table, from the simulation state (never from the lake)."""
    v, lg = table.versions, table.landing
    landed = v.initial | lg.lands
    first_version = np.full(len(v), -1, dtype=np.int64)
    first_ms = np.zeros(len(v), dtype=np.int64)
    first_version[v.initial], first_ms[v.initial] = 0, table.sink0[v.initial]
    w = lg.lands
    first_version[w] = sim.sync_version[lg.first_commit[w]]
    first_ms[w] = lg.commit_ms[lg.first_commit[w]]

    idx = np.flatnonzero(landed)                   # landed versions, in (record, time) order
    is_first = group_starts(v.rec[idx])
    kind = np.where(v.is_delete[idx], 2, np.where(is_first, 0, 1))
    landed_day = day_keys(first_ms[idx] // 1000)
    day = day_keys(v.modified[idx]) if table.has_modifiedon else landed_day
    days = count_by_day(day, kind, ("creates", "updates", "deletes"))
    for d, n in zip(*np.unique(landed_day, return_counts=True)):
        days.setdefault(str(d), {"creates": 0, "updates": 0, "deletes": 0})["landed"] = int(n)
    for d in days.values():
        d.setdefault("landed", 0)
    days = dict(sorted(days.items()))

    # The feed starts at the first commit whose change files the final vacuum kept (none kept:
    # it would start at the next version, and has no time yet).
    feed_commit = next((c for c in sim.commits if c.ms >= sim.cutoff), None)
    from_version = feed_commit.version if feed_commit else len(sim.commits)
    before_feed = idx[first_version[idx] < from_version]
    last_day = (v.modified if table.has_modifiedon else first_ms // 1000)[before_feed].max()
    complete_from = day_keys(np.array([(last_day // DAY + 1) * DAY]))[0]

    # The snapshot: each Id's row still in the table.
    in_table = np.flatnonzero(sim.cur >= 0)
    snap_v = sim.cur[in_table]
    if table.has_modifiedon:
        snap_day = day_keys(v.modified[snap_v])
        is_create = table.created_written[in_table] == v.modified[snap_v]
    else:
        snap_day = day_keys(sim.sink[in_table] // 1000)
        is_create = np.ones(len(in_table), dtype=bool)
    snap_kind = np.where(v.is_delete[snap_v], 2, np.where(is_create, 0, 1))
    days_snapshot = count_by_day(snap_day, snap_kind, ("creates", "updates", "deletes"))

    counts = {k: sum(1 for c in sim.commits if c.kind == k) for k in ("write", "merge", "optimize", "purge")}
    out = {"kind": table.spec.kind, "path": None, "interval_minutes": table.spec.interval_min,
           "commits": {"sync": counts["write"] + counts["merge"], **counts},
           "change_feed": {"from_version": from_version,
                           "from_time": iso(feed_commit.ms // 1000) if feed_commit else None,
                           "cutoff": iso(sim.cutoff // 1000), "complete_from_day": complete_from},
           "day_clock": "modified" if table.has_modifiedon else "landed",
           "days": days, "days_snapshot": days_snapshot,
           "landed_versions": int(len(idx)), "made_versions": int(len(v) - v.initial.sum()),
           "landings": int(len(idx) + len(lg.relanded_version)), "relandings": int(len(lg.relanded_version)),
           "snapshot_rows": int(len(in_table)), "deleted_rows": int(v.is_delete[snap_v].sum()),
           "live_rows": int(len(in_table) - v.is_delete[snap_v].sum()), "purged_rows": int(sim.purged)}
    if table.has_modifiedon:
        sync = idx[~v.initial[idx]]
        lat = first_ms[sync] / 1000.0 - v.modified[sync]
        sentinel = v.modified[sync] < SENTINEL + 366 * DAY
        feed = first_version[sync] >= from_version
        out["latency_s"] = latency_stats(lat, sentinel)
        out["latency_s_feed"] = latency_stats(lat[feed], sentinel[feed])
        # What the feed alone shows: a version first landed before the feed and landed again in
        # it looks, to a reader of the feed, as if it first landed at that later landing.
        seen_ms = feed_first_landing_ms(table, sim, first_version, first_ms, from_version)
        seen = idx[(seen_ms[idx] > 0) & ~v.initial[idx]]
        lat_seen = seen_ms[seen] / 1000.0 - v.modified[seen]
        out["latency_s_feed_as_seen"] = latency_stats(lat_seen, v.modified[seen] < SENTINEL + 366 * DAY)
        out["feed_relanded_before"] = int(((seen_ms[idx] > 0) & (first_version[idx] < from_version)).sum())
        out["latency_excluded"] = out["latency_s"]["excluded_sentinel"] + out["latency_s"]["excluded_negative"]
    else:
        out["latency_s"] = out["latency_s_feed"] = out["latency_s_feed_as_seen"] = None
        out["latency_excluded"] = out["feed_relanded_before"] = 0
    totals = {d: c["creates"] + c["updates"] + c["deletes"] for d, c in days.items()}
    peak = max(totals, key=lambda d: (totals[d], d))
    out["peak_day"], out["peak_day_events"] = peak, totals[peak]
    return out


def truth_text(truth: dict) -> str:
    """JSON, indented, with each flat object (a day's counts, a percentile set) on one line."""
    def fmt(value, indent: int) -> str:
        flat = isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values())
        if not isinstance(value, dict) or not value or flat:
            return json.dumps(value, separators=(",", ":"))
        pad = " " * (indent + 1)
        items = [f"{pad}{json.dumps(k)}: {fmt(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return fmt(truth, 0) + "\n"


def feed_first_landing_ms(table: TableData, sim: LogSim, first_version, first_ms, from_version) -> np.ndarray:
    """Per version: its earliest landing at or after from_version (ms), 0 if none."""
    out = np.where(first_version >= from_version, first_ms, 0)
    lg = table.landing
    later = sim.sync_version[lg.relanded_commit] >= from_version
    rv, ms = lg.relanded_version[later], lg.commit_ms[lg.relanded_commit[later]]
    missing = out[rv] == 0
    order = np.argsort(ms[missing], kind="stable")[::-1]      # earliest written last: it wins
    out[rv[missing][order]] = ms[missing][order]
    return out


def window_day_totals(truth: dict, window: Window, weekdays_only: bool) -> tuple[list, list]:
    keys = day_keys(window.day_starts)
    wd = is_weekday(window.day_starts)
    days, totals = [], []
    for k, is_wd in zip(keys, wd):
        if weekdays_only and not is_wd:
            continue
        c = truth["days"].get(str(k), {"creates": 0, "updates": 0, "deletes": 0})
        days.append(str(k))
        totals.append(c["creates"] + c["updates"] + c["deletes"])
    return days, totals


def incidents_truth(tables: dict[str, TableData]) -> dict:
    """The outage and the degraded day. The outage lists the tables whose sync it visibly
    interrupted: the interval between the syncs around it is longer than three median intervals
    (DEFINITIONS' gap rule) and kept changes waiting (made inside it, at least two median
    intervals before its end, and landed by the sync that ended it)."""
    outage = {"start": iso(OUTAGE[0]), "end": iso(OUTAGE[1]), "tables": [], "commits": {}}
    for name, t in tables.items():
        gap = outage_gap(t)
        outage["commits"][name] = gap
        if gap["gap"] and gap["waiting"]:
            outage["tables"].append(name)
    degraded = {"start": iso(DEGRADED[0]), "end": iso(DEGRADED[1]), "tables": sorted(tables),
                "peak_extra_runtime_s": DEGRADED_RUNTIME_S, "peak_export_delay_factor": DEGRADED_EXPORT}
    return {"outage": outage, "degraded": degraded}


def outage_gap(t: TableData) -> dict:
    """The syncs around the outage, and whether the interval between them is a gap."""
    lg, v = t.landing, t.versions
    syncs = np.concatenate([[t.v0_ms], lg.commit_ms])
    before, after = syncs[syncs < OUTAGE[0] * 1000], syncs[syncs >= OUTAGE[1] * 1000]
    out = {"last_before": iso(before.max() // 1000) if len(before) else None,
           "first_after": iso(after.min() // 1000) if len(after) else None, "gap": False, "waiting": 0}
    if not (len(before) and len(after)) or len(syncs) < 3:
        return out
    median_s = float(np.median(np.diff(syncs))) / 1000
    start_s, end_s = before.max() / 1000, after.min() / 1000
    ending = np.searchsorted(lg.commit_ms, after.min())          # the sync that ended it
    waited = (lg.first_commit == ending) & (v.modified > start_s) & (v.modified <= end_s - 2 * median_s)
    out["gap"] = bool(end_s - start_s > 3 * median_s)
    out["waiting"] = int(waited.sum())
    return out


# ---------------------------------------------------------------------------------- generate
def prepare_dest(dest: Path) -> None:
    """An empty folder, or a previous sample (recognised by its TRUTH.json) to replace."""
    if dest.exists() and any(dest.iterdir()):
        if not (dest / "TRUTH.json").exists():
            raise InvalidOptionError(f"{dest} is not empty and holds no sample lake (no TRUTH.json): "
                                     "choose an empty or new folder.")
        for part in ("deltalake", "Tables", "TRUTH.json"):
            p = dest / part
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
    dest.mkdir(parents=True, exist_ok=True)


def generate(dest, *, days: int = 28, scale: float = 1.0, seed: int = 7, layout: str = "synapse") -> dict:
    """Write the sample lake to dest and return its truth (also written as dest/TRUTH.json)."""
    if layout not in LAYOUTS:
        raise InvalidOptionError(f"layout must be one of {LAYOUTS}, not {layout!r}.")
    if not 7 <= int(days) <= 366:
        raise InvalidOptionError(f"days must be between 7 and 366, not {days}.")
    if not 0 < scale <= 1000:
        raise InvalidOptionError(f"scale must be positive (and at most 1000), not {scale}.")
    dest = Path(dest)
    prepare_dest(dest)
    window = Window(END - int(days) * DAY, END, int(days))
    schemas = json.loads(SCHEMAS_FILE.read_text())["tables"]
    tables = simulate_all(window, scale, seed, schemas)
    truth_tables = {}
    for t in tables.values():
        sim = run_log(t, np.random.default_rng([seed, t.no, 5]), window, t.v0_ms)
        tdir = dest / table_dir(layout, t.name)
        write_table_files(t, sim, tdir)
        write_log(t, sim, tdir, layout)
        write_checkpoints(tdir, [c.ms for c in sim.commits])
        set_file_times(sim, tdir)
        truth_tables[t.name] = table_truth(t, sim)
        truth_tables[t.name]["path"] = table_dir(layout, t.name)
        t.record_cols = t.version_cols = None      # written: free the columns (big at --scale)
    meta_rng = np.random.default_rng([seed, 98])
    meta_ms = (window.start - INITIAL_LOAD_BEFORE - 5 * MINUTE) * 1000
    for name, rows in label_rows(tables).items():
        truth_tables[name] = write_metadata_table(dest, layout, name, rows, meta_rng, meta_ms)
    truth = assemble_truth(truth_tables, tables, window, days, scale, seed, layout)
    path = dest / "TRUTH.json"
    path.write_text(truth_text(truth))
    os.utime(path, (END + DAY // 2,) * 2)
    return truth


def simulate_all(window: Window, scale: float, seed: int, schemas: dict) -> dict[str, TableData]:
    """Activity, versionnumbers, landings, warts and columns of every table."""
    tables = {}
    for no, spec in enumerate(TABLES):
        versions, records = simulate_table(np.random.default_rng([seed, no, 1]), spec, window, scale)
        tables[spec.name] = TableData(no, spec, schemas[spec.name], versions, records)
    assign_versionnumbers(np.random.default_rng([seed, 99]), [t.versions for t in tables.values()])
    for t in tables.values():
        rng = np.random.default_rng([seed, t.no, 2])
        t.landing = schedule_landings(rng, t.spec, t.versions, t.no)
        t.v0_ms = (window.start - INITIAL_LOAD_BEFORE) * 1000 + t.no * 20_000
        t.sink0 = initial_sink_ms(rng, t.spec, t.versions, t.v0_ms)
        apply_warts(rng, t.spec, t.versions, t.landing)
    for t in tables.values():
        record_basics(np.random.default_rng([seed, t.no, 3]), t)
    for t in tables.values():
        assign_partitions(t)
        build_columns(np.random.default_rng([seed, t.no, 4]), t, tables)
    return tables


def assemble_truth(truth_tables: dict, tables: dict, window: Window, days, scale, seed, layout) -> dict:
    busy = truth_tables[BUSY_TABLE]
    wd_days, wd_totals = window_day_totals(busy, window, weekdays_only=True)
    quiet = int(np.argmin(wd_totals))
    _, all_totals = window_day_totals(busy, window, weekdays_only=False)
    all_days = [str(k) for k in day_keys(window.day_starts)]
    trend_days, trend_totals = window_day_totals(truth_tables[TRENDING_TABLE], window, weekdays_only=True)
    x = np.array([(np.datetime64(d) - np.datetime64(trend_days[0])).astype(int) for d in trend_days])
    slope = float(np.polyfit(x, np.array(trend_totals, dtype=float), 1)[0])
    return {
        "schema_version": 1,
        "generator": {"days": int(days), "scale": scale, "seed": seed, "layout": layout,
                      "start": iso(window.start), "end": iso(window.end),
                      "initial_load": iso(window.start - INITIAL_LOAD_BEFORE),
                      "nightly_job": "00:05Z", "vacuum_retention_hours": RETENTION // HOUR,
                      "purge_after_days": PURGE_AFTER // DAY},
        "tables": truth_tables,
        "incidents": incidents_truth(tables),
        "busy_table": {"table": BUSY_TABLE, "peak_day": busy["peak_day"],
                       "peak_day_events": busy["peak_day_events"], "limit_per_day": BUSY_LIMIT_PER_DAY,
                       "days_over_limit": [d for d, n in zip(all_days, all_totals) if n > BUSY_LIMIT_PER_DAY],
                       "quiet_day": wd_days[quiet], "quiet_day_events": wd_totals[quiet]},
        "trending_table": {"table": TRENDING_TABLE, "slope_per_day": round(slope, 3),
                           "first_week_mean": round(float(np.mean(trend_totals[:5])), 1),
                           "last_week_mean": round(float(np.mean(trend_totals[-5:])), 1)},
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m kit sample DEST ...``: argv holds the arguments after ``sample``."""
    parser = argparse.ArgumentParser(prog="python -m kit sample",
                                     description="Write the simulated Dataverse lake and its TRUTH.json.")
    parser.add_argument("dest", help="folder to write (empty, new, or a previous sample lake)")
    parser.add_argument("--days", type=int, default=28, help="days of activity (default 28)")
    parser.add_argument("--scale", type=float, default=1.0, help="activity multiplier (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--layout", choices=LAYOUTS, default="synapse", help="lake layout (default synapse)")
    args = parser.parse_args(argv)
    truth = generate(args.dest, days=args.days, scale=args.scale, seed=args.seed, layout=args.layout)
    busy = truth["busy_table"]
    print(f"sample lake written to {args.dest}: {len(truth['tables'])} tables; busiest "
          f"{busy['table']} peaks at {busy['peak_day_events']:,} changes on {busy['peak_day']}")
    return 0
