"""Simulation time: int64 seconds since the epoch (UTC); commit times are milliseconds.

Units, ISO texts, UTC day keys and years, weekdays.
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

MINUTE, HOUR, DAY = 60, 3600, 86400


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


def is_weekday(day_start: np.ndarray) -> np.ndarray:
    # 1970-01-01 was a Thursday: (days + 3) % 7 gives Monday = 0.
    return ((day_start // DAY + 3) % 7) < 5
