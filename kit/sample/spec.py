"""The story the sample tells, as parameters: its dates, the conversion job's schedule, the
incidents, how each table behaves (``TableSpec``: volumes at ``scale`` 1) and the window of a run
(``days``).

The story
---------
A European sales and service organisation; the activity window is ``days`` days ending with
Wednesday 30 September 2026, a month end (``[2026-10-01 - days, 2026-10-01)`` UTC). The
simulated month-end burst falls on a month's last weekday and the weekday before it
(``TableSpec.month_end``, ``month_end_eve``), a different concept from the analyses' month-end
window of ``kit.settings.MONTH_END_DAYS`` calendar days (29 and 30 September lie in both).

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
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from .clock import DAY, HOUR, MINUTE

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


# ------------------------------------------------------------------------------- the window
@dataclass
class Window:
    start: int
    end: int
    days: int

    @property
    def day_starts(self) -> np.ndarray:
        return self.start + DAY * np.arange(self.days, dtype=np.int64)
