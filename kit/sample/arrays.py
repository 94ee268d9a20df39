"""Vectorised helpers over numpy and pyarrow arrays: runs of sorted keys, reproducible UUID
texts, Arrow arrays from numpy values."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


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
