"""Output schemas: each analysis names its columns once (name, dtype, meaning).

A ``Schema`` types the frame an analysis returns and writes the column list of its docstring,
so the two cannot drift apart:

>>> s = Schema(Column("table", "str", "logical table name."), Column("n", "int64", "changes."))
>>> s.dtypes
{'table': 'str', 'n': 'int64'}
>>> print(s.doc())
- ``table`` (str): logical table name.
- ``n`` (int64): changes.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Column:
    """One output column: its name, pandas dtype and meaning (units and edge cases)."""

    name: str
    dtype: str
    text: str


class Schema:
    """The columns of an analysis' result, in order."""

    def __init__(self, *columns: Column):
        self.columns = columns

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def dtypes(self) -> dict[str, str]:
        return {c.name: c.dtype for c in self.columns}

    def without(self, *names: str) -> "Schema":
        return Schema(*(c for c in self.columns if c.name not in names))

    def frame(self, df: pd.DataFrame | None) -> pd.DataFrame:
        """``df`` with exactly these columns in this order, cast to their dtypes (an empty
        frame with the columns when ``df`` is None)."""
        if df is None:
            return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in self.columns})
        out = df[self.names].copy()
        for c in self.columns:
            if str(out[c.name].dtype) != str(c.dtype):
                out[c.name] = out[c.name].astype(c.dtype)
        return out.reset_index(drop=True)

    def doc(self, indent: int = 0) -> str:
        """The column list for a docstring: one ``- ``name`` (dtype): meaning`` item each."""
        items = []
        for c in self.columns:
            first = f"- ``{c.name}`` ({c.dtype}): "
            body = textwrap.fill(" ".join(c.text.split()), width=96 - indent, initial_indent=first,
                                 subsequent_indent="  ")
            items.append(textwrap.indent(body, " " * indent))
        return "\n".join(items)


def documented(schema: Schema, placeholder: str = "{columns}"):
    """Decorator: put ``schema.doc()`` in place of ``placeholder`` in the function's docstring
    (indented as the placeholder is)."""

    def wrap(func):
        doc = func.__doc__ or ""
        for line in doc.splitlines():
            if line.strip() == placeholder:
                indent = len(line) - len(line.lstrip())
                func.__doc__ = doc.replace(line, schema.doc(indent))
                break
        return func

    return wrap
