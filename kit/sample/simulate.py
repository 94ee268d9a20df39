"""The simulation: every version each table's records went through (the organisation's
activity), the conversion job's runs and which run landed each version (the sync), and the warts
of ``modifiedon``."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .arrays import group_cummax, group_starts, positions_in_group
from .clock import DAY, HOUR, MINUTE, is_weekday
from .spec import (DEGRADED, DEGRADED_EXPORT, DEGRADED_RUNTIME_S, END, INITIAL_LOAD_BEFORE, LAUNCH_DAY,
                   OUTAGE, SENTINEL, SENTINEL_TABLE, SKEW_TABLE, WARTS_PER_TABLE, WEEKDAY_HOURS,
                   WEEKEND_HOURS, TableSpec, Window)


# ---------------------------------------------------------------------------------- activity
def month_end_days(day_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(last weekday of its month, the weekday before it), per day: the days of the simulated
    month-end burst. Not ``kit.settings.MONTH_END_DAYS``, the analyses' month-end window (a
    month's last calendar days), though in the default window both burst days fall inside it."""
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


def initial_sink_ms(rng, spec: TableSpec, versions: Versions, v0_ms: int) -> np.ndarray:
    """Version 0's rows keep the Sink time of their earlier landing (before the log begins)."""
    interval = spec.interval_min * MINUTE
    t = versions.t
    landed = (-(-(t + export_delay(rng, t)) // interval) * interval) * 1000 + 40_000
    return np.where(versions.initial, np.minimum(landed, v0_ms - 60_000), 0)


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
