"""SQL text shared by every engine: quoting, and the few helpers whose spelling is portable."""

from __future__ import annotations


def quote(identifier: str) -> str:
    """A DuckDB identifier, double-quoted."""
    return '"' + identifier.replace('"', '""') + '"'


_UNIT_US = {"second": 1_000_000, "minute": 60_000_000, "hour": 3_600_000_000, "day": 86_400_000_000,
            "week": 604_800_000_000}
# Weeks start on Monday; the epoch (1970-01-01) is a Thursday, 1970-01-05 a Monday.
_WEEK_OFFSET_US = 4 * 86_400_000_000


def truncate(unit: str, column: str) -> str:
    """SQL truncating a TIMESTAMPTZ to the start of its UTC second, minute, hour, day or week
    (Monday), as ``date_trunc`` does in a UTC session, by integer arithmetic on the epoch
    microseconds (``date_trunc`` on a TIMESTAMPTZ goes through calendar conversion: 10-15 times
    slower). NULL stays NULL; times before 1970 (sentinels) truncate downwards too."""
    if unit not in _UNIT_US:
        raise ValueError(f"no truncation to {unit!r}")
    n = _UNIT_US[unit]
    offset = _WEEK_OFFSET_US if unit == "week" else 0
    return f"make_timestamptz(CAST(floor((epoch_us({column}) - {offset}) / {n}) AS BIGINT) * {n} + {offset})"


def literal(value: str) -> str:
    """A DuckDB string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def timestamp(value) -> str:
    """A TIMESTAMPTZ literal from a datetime or ``pd.Timestamp`` (ISO form, offset kept)."""
    return f"TIMESTAMPTZ {literal(value.isoformat())}"


def seconds_between(later: str, earlier: str) -> str:
    """``later - earlier`` in seconds (DOUBLE, microsecond precision) for two TIMESTAMPTZ
    expressions: epoch arithmetic, which engines agree on and which is cheap."""
    return f"((epoch_us({later}) - epoch_us({earlier})) / 1e6)"


def quantile(expr: str, q: float) -> str:
    """The exact ``q`` quantile of ``expr``, linear interpolation between closest ranks (numpy's
    default): DuckDB ``quantile_cont``, Spark ``percentile``. Never an approximation."""
    return f"quantile_cont({expr}, {float(q)!r})"


def timestamp_or_null(value) -> str:
    """``timestamp(value)``, or a NULL of the TIMESTAMPTZ type when ``value`` is None (a typed
    NULL, so a VALUES list whose first row has none still has a timestamp column)."""
    return "CAST(NULL AS TIMESTAMPTZ)" if value is None else timestamp(value)
