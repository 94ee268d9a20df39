"""The kit's SQL, as the Spark engine runs it: DuckDB SQL transpiled to Spark SQL.

The analyses and the formats write their SQL once, in DuckDB's dialect, with the spellings that
differ between engines routed through ``engines.sql`` (quoting, timestamps, seconds between two
times, exact quantiles, truncation). ``to_spark`` turns such a text into Spark SQL with sqlglot
(``ErrorLevel.RAISE``: a construct sqlglot cannot express fails the query, never a silent
change) plus the rewrites below, which sqlglot either leaves untranslated (DuckDB functions it
does not know) or translates with a meaning that differs from DuckDB's:

=================================  =========================================================
DuckDB                             Spark
=================================  =========================================================
``epoch_us(t)``                    ``unix_micros(t)``
``make_timestamptz(us)``           ``timestamp_micros(us)``
``epoch(t)`` (seconds, DOUBLE)     ``unix_micros(t) / 1e6`` (sqlglot: ``unix_timestamp``,
                                   whole seconds); ``epoch(a - b)`` of an interval:
                                   ``(unix_micros(a) - unix_micros(b)) / 1e6``
``quantile_cont(x, q)``            the sorted values' two closest ranks, interpolated as
``median(x)`` (q = 0.5)            DuckDB does, bit for bit (``_quantile``); exact, never
                                   ``percentile_approx``
``isodow(t)`` (Monday 1)           ``weekday(t) + 1`` (sqlglot's spelling is off by a day)
``time_bucket(to_seconds(n), t)``  ``timestamp_micros`` of the epoch microseconds floored to
                                   ``n`` seconds from DuckDB's origin (2000-01-03, a Monday)
``first(x ORDER BY k DESC, j)``    ``min_by(x, struct(-k, j))`` (numeric DESC keys only)
``TIMESTAMPTZ '...+00'``           ``TIMESTAMP '...'`` read in the UTC session
``string_agg(DISTINCT x, s         ``nullif(array_join(array_sort(collect_set(x)), s), '')``
ORDER BY x)`` (the methods label)  (Spark 4.3's LISTAGG DISTINCT ... WITHIN GROUP fails in the
                                   optimizer beside another aggregate: a ClassCastException in
                                   RewriteDistinctAggregates); a FILTER stays on collect_set
=================================  =========================================================

``check_functions`` lists the functions a transpiled text calls that Spark does not have
(``SPARK_FUNCTIONS``); the tests run it over every SQL text the kit produces.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ErrorLevel
from sqlglot.generators.spark import SparkGenerator

from ..errors import KitError

# DuckDB's default origin for time_bucket with a sub-month width: Monday 2000-01-03 00:00 UTC.
_BUCKET_ORIGIN_US = 946_857_600_000_000

#: Functions Spark 4 has that the transpiled SQL may call (lower case). A function outside this
#: list in a transpiled text is a DuckDB function left untranslated: ``check_functions`` names it.
SPARK_FUNCTIONS = frozenset("""
abs any_value array_join array_sort avg collect_set bool_and bool_or cardinality cast ceil coalesce collect_list concat
count count_if date_add date_trunc datediff dayofweek element_at exp explode first floor greatest
hour if ifnull last lag lead least length listagg ln log lower lpad ltrim max max_by min min_by
named_struct nullif nvl percentile power reflect array_sort collect_list element_at size regexp_extract regexp_replace regr_intercept regr_slope
replace round row_number rtrim sequence sqrt stddev stddev_pop stddev_samp string_agg struct
substr substring sum timestamp_micros to_timestamp trim try_cast unix_micros upper var_pop
var_samp variance weekday year month day minute second dense_rank rank ntile percent_rank
cume_dist sign split_part conv hex unhex instr locate to_date not
""".split())


class _Generator(SparkGenerator):
    # Spark 3+ reads a WITH inside a subquery (the inner names win); hoisting them to the top
    # level, as for Hive, makes two tables' CTEs of the same name collide.
    EXPRESSIONS_WITHOUT_NESTED_CTES: set = set()


class KitSpark(Spark):
    """Spark SQL as sqlglot writes it, with nested CTEs kept in place."""

    Generator = _Generator


def _micros(node: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="UNIX_MICROS", expressions=[node])


def _seconds(node: exp.Expression) -> exp.Expression:
    """DuckDB ``epoch(node)``: seconds as DOUBLE, of a timestamp or of a difference of two."""
    inner = node.unnest() if isinstance(node, exp.Paren) else node
    if isinstance(inner, exp.Sub):
        diff = exp.Sub(this=_micros(inner.this), expression=_micros(inner.expression))
        return exp.Paren(this=exp.Div(this=exp.Paren(this=diff), expression=exp.Literal.number("1e6")))
    return exp.Paren(this=exp.Div(this=_micros(node), expression=exp.Literal.number("1e6")))


def _distinct_sorted_join(node: exp.Expression) -> exp.Expression | None:
    """``string_agg(DISTINCT x, sep ORDER BY x)`` (optionally under a FILTER) as a sorted set
    joined, NULL when empty as DuckDB's; None when ``node`` is not that."""
    where = None
    agg = node
    if isinstance(node, exp.GroupConcat) and isinstance(node.parent, exp.Filter):
        return None  # rewritten with its FILTER, when the walk reaches the parent
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.GroupConcat):
        agg, where = node.this, node.expression
    if not isinstance(agg, exp.GroupConcat) or not isinstance(agg.this, exp.Order):
        return None
    order = agg.this
    if not isinstance(order.this, exp.Distinct) or len(order.this.expressions) != 1 or len(order.expressions) != 1:
        return None
    value = order.this.expressions[0]
    if order.expressions[0].this != value or order.expressions[0].args.get("desc"):
        return None
    collected: exp.Expression = exp.Anonymous(this="COLLECT_SET", expressions=[value.copy()])
    if where is not None:
        collected = exp.Filter(this=collected, expression=where.copy())
    sep = agg.args.get("separator") or exp.Literal.string(",")
    joined = exp.Anonymous(this="ARRAY_JOIN", expressions=[exp.Anonymous(this="ARRAY_SORT", expressions=[collected]), sep.copy()])
    return exp.Nullif(this=joined, expression=exp.Literal.string(""))


def _rewrite(node: exp.Expression) -> exp.Expression:
    """One DuckDB construct to its Spark equivalent (see the module docstring); others as is."""
    joined = _distinct_sorted_join(node)
    if joined is not None:
        return joined
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "epoch_us":
            return _micros(node.expressions[0])
        if name == "make_timestamptz" and len(node.expressions) == 1:
            return exp.Anonymous(this="TIMESTAMP_MICROS", expressions=[node.expressions[0]])
        return node
    if isinstance(node, exp.TimeToUnix):
        return _seconds(node.this)
    if isinstance(node, exp.Filter) and isinstance(node.this, (exp.PercentileCont, exp.Median)):
        return _quantile(node.this, node.expression.this)
    if isinstance(node, (exp.PercentileCont, exp.Median)) and not isinstance(node.parent, exp.Filter):
        return _quantile(node, None)
    if isinstance(node, exp.DayOfWeekIso):
        return exp.Paren(this=exp.Add(this=exp.Anonymous(this="WEEKDAY", expressions=[node.this]),
                                      expression=exp.Literal.number(1)))
    if isinstance(node, exp.DateBin):
        return _time_bucket(node)
    if isinstance(node, exp.First) and isinstance(node.this, exp.Order):
        return _first_ordered(node)
    return node


def _quantile(node: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
    """DuckDB's ``quantile_cont(x, q)`` (``median``: q = 0.5), optionally ``FILTER (WHERE
    condition)``, as Spark computes the same double bit for bit: the group's values sorted
    (``array_sort(collect_list(...))``, NULLs skipped), ``RN = (n - 1) * q``, ``lo``/``hi`` the
    values at ``floor``/``ceil(RN)``, and DuckDB's interpolation ``lo * (1 - d) + hi * d`` with
    ``d = RN - floor(RN)``, which DuckDB's build computes as one fused multiply-add
    (``fma(lo, 1 - d, hi * d)``: ``java.lang.Math.fma`` here). Spark's ``percentile`` is exact
    too, but interpolates as ``(ceil - RN) * lo + (RN - floor) * hi``: the last bit differs."""
    if isinstance(node, exp.Median):
        value, q = node.this, "0.5"
    else:
        if node.expression is None:
            raise KitError(f"quantile_cont without a fraction has no Spark spelling: {node.sql('duckdb')}")
        value, q = node.this, node.expression.sql("spark")
    x = value.sql("spark")
    where = f" FILTER (WHERE {condition.sql('spark')})" if condition is not None else ""
    s = f"ARRAY_SORT(COLLECT_LIST(CAST({x} AS DOUBLE)){where})"
    rn = f"(CAST(SIZE({s}) - 1 AS DOUBLE) * CAST({q} AS DOUBLE))"
    lo = f"ELEMENT_AT({s}, CAST(FLOOR({rn}) AS INT) + 1)"
    hi = f"ELEMENT_AT({s}, CAST(CEIL({rn}) AS INT) + 1)"
    d = f"({rn} - FLOOR({rn}))"
    text = (f"CASE WHEN SIZE({s}) = 0 THEN CAST(NULL AS DOUBLE) WHEN FLOOR({rn}) = CEIL({rn}) THEN {lo} "
            f"ELSE CAST(REFLECT('java.lang.Math', 'fma', {lo}, 1.0D - {d}, {hi} * {d}) AS DOUBLE) END")
    return sqlglot.parse_one(text, read="spark")


def _time_bucket(node: exp.DateBin) -> exp.Expression:
    width = node.this
    if not (isinstance(width, exp.Anonymous) and width.name.lower() == "to_seconds"):
        raise KitError(f"time_bucket with a width other than to_seconds(n) has no Spark spelling yet: {node.sql('duckdb')}")
    seconds = width.expressions[0].sql("spark")
    ts = node.expression.sql("spark")
    o = _BUCKET_ORIGIN_US
    w = f"(CAST({seconds} AS BIGINT) * 1000000)"
    text = f"TIMESTAMP_MICROS(CAST(FLOOR((UNIX_MICROS({ts}) - {o}) / {w}) AS BIGINT) * {w} + {o})"
    return sqlglot.parse_one(text, read="spark")


def _first_ordered(node: exp.First) -> exp.Expression:
    order: exp.Order = node.this
    value = order.this
    keys = []
    for o in order.expressions:
        key = o.this
        if o.args.get("desc"):
            key = exp.Neg(this=exp.Paren(this=key))
        keys.append(key)
    return exp.Anonymous(this="MIN_BY", expressions=[value, exp.Anonymous(this="STRUCT", expressions=keys)])


def _timestamp_literals(node: exp.Expression) -> exp.Expression:
    """``CAST('...+00' AS TIMESTAMPTZ)`` (a DuckDB TIMESTAMPTZ literal): Spark reads offsets
    written ``+00:00`` but not ``+00``. A CTE's ``MATERIALIZED`` hint (DuckDB's; Spark does not
    parse it) is dropped: it changes how a query runs, never what it computes."""
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        if node.to.this in (exp.DataType.Type.TIMESTAMPTZ,):
            text = node.this.this
            if len(text) >= 3 and text[-3] in "+-" and text[-2:].isdigit():
                node.this.set("this", text + ":00")
    return node


def _post_order(tree: exp.Expression, fn) -> exp.Expression:
    """``tree`` with ``fn`` applied to every node, children before their parent."""
    for node in reversed(list(tree.walk(bfs=False))):
        new = fn(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


@lru_cache(maxsize=4096)
def to_spark(sql: str) -> str:
    """``sql`` (the kit's DuckDB SQL) as Spark SQL. KitError when a construct has no Spark
    spelling (sqlglot's unsupported-construct error, with the reason)."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
        out = []
        for tree in trees:
            if tree is None:
                continue
            tree = _post_order(_post_order(tree, _timestamp_literals), _rewrite)
            out.append(tree.sql(dialect=KitSpark, unsupported_level=ErrorLevel.RAISE))
    except sqlglot.errors.SqlglotError as exc:
        raise KitError(f"This SQL has no Spark spelling yet ({exc}): {sql.strip()[:300]}") from None
    return ";\n".join(out)


def check_functions(spark_sql: str) -> set[str]:
    """The functions ``spark_sql`` (a transpiled text) calls that are not in
    ``SPARK_FUNCTIONS``: a non-empty answer is a DuckDB function left untranslated."""
    unknown = set()
    for tree in sqlglot.parse(spark_sql, read="spark"):
        if tree is None:
            continue
        for node in tree.find_all(exp.Func):
            if isinstance(node, exp.Anonymous):
                name = node.name.lower()
            else:
                name = node.sql("spark").split("(", 1)[0].strip().lower()
                if not name or not name.replace("_", "").isalpha():
                    continue
            if name not in SPARK_FUNCTIONS:
                unknown.add(name)
    return unknown
