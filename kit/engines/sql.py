"""SQL text shared by every engine: quoting, and the few helpers whose spelling is portable."""

from __future__ import annotations


def quote(identifier: str) -> str:
    """A DuckDB identifier, double-quoted."""
    return '"' + identifier.replace('"', '""') + '"'


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


def truncate(unit: str, expr: str) -> str:
    """``expr`` (TIMESTAMPTZ, the session in UTC) truncated to the start of its ``unit``:
    ``second``, ``hour``, ``day`` or ``week`` (ISO weeks start on Monday)."""
    if unit not in ("second", "minute", "hour", "day", "week"):
        raise ValueError(f"no truncation to {unit!r}")
    return f"date_trunc('{unit}', {expr})"
