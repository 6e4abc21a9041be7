"""graphite-web's aggregation functions (`functions/aggfuncs.py`) over numpy matrices.

Each takes a 2-D array (one row per group, NaN for null) and reduces along axis 1,
skipping nulls; a row with no value at all gives NaN. `aggregate_rows` adds the
xFilesFactor rule (`nonNull / total >= xff`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Reducer = Callable[[np.ndarray], np.ndarray]


def _masked(matrix: np.ndarray, fill: float) -> np.ndarray:
    return np.where(np.isnan(matrix), fill, matrix)


def _sum(m: np.ndarray) -> np.ndarray:
    return _masked(m, 0.0).sum(axis=1)


def _count(m: np.ndarray) -> np.ndarray:
    return (~np.isnan(m)).sum(axis=1).astype(np.float64)


def _average(m: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return _sum(m) / _count(m)


def _avg_zero(m: np.ndarray) -> np.ndarray:
    return _sum(m) / m.shape[1] if m.shape[1] else np.full(m.shape[0], np.nan)


def _median(m: np.ndarray) -> np.ndarray:
    out = np.full(m.shape[0], np.nan)
    rows = _count(m) > 0
    if rows.any():
        out[rows] = np.nanmedian(m[rows], axis=1)
    return out


def _min(m: np.ndarray) -> np.ndarray:
    return _masked(m, np.inf).min(axis=1, initial=np.inf)


def _max(m: np.ndarray) -> np.ndarray:
    return _masked(m, -np.inf).max(axis=1, initial=-np.inf)


def _diff(m: np.ndarray) -> np.ndarray:
    """The first non-null value minus every later non-null one."""
    present = ~np.isnan(m)
    first_index = np.argmax(present, axis=1)
    first = m[np.arange(m.shape[0]), first_index]
    return first - (_sum(m) - np.where(np.isnan(first), 0.0, first))


def _stddev(m: np.ndarray) -> np.ndarray:
    """Population standard deviation of the non-null values."""
    mean = _average(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        squares = _masked((m - mean[:, None]) ** 2, 0.0).sum(axis=1)
        return np.sqrt(squares / _count(m))


def _range(m: np.ndarray) -> np.ndarray:
    return _max(m) - _min(m)


def _multiply(m: np.ndarray) -> np.ndarray:
    """Null as soon as one factor is null, as graphite-web's `safeMul`."""
    return m.prod(axis=1)


def _last(m: np.ndarray) -> np.ndarray:
    present = ~np.isnan(m)
    index = m.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)
    return m[np.arange(m.shape[0]), index]


AGG_FUNCS: dict[str, Reducer] = {
    "average": _average, "avg": _average, "avg_zero": _avg_zero, "median": _median,
    "sum": _sum, "total": _sum, "min": _min, "max": _max, "diff": _diff,
    "stddev": _stddev, "count": _count, "range": _range, "rangeOf": _range,
    "multiply": _multiply, "last": _last, "current": _last,
}


def get_reducer(name: str) -> Reducer:
    try:
        return AGG_FUNCS[name]
    except KeyError:
        raise KeyError(f"unsupported aggregation function: {name}") from None


def aggregate_rows(matrix: np.ndarray, func: str, x_files_factor: float = 0.0
                   ) -> np.ndarray:
    """One value per row: `func` over its non-null values, NaN where there are none or
    where fewer than `x_files_factor` of the row's values are non-null."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    if matrix.shape[1] == 0:
        return np.full(matrix.shape[0], np.nan)
    count = _count(matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = get_reducer(func)(matrix)
    keep = (count > 0) & (count / matrix.shape[1] >= x_files_factor)
    return np.where(keep, out, np.nan)
