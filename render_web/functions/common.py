"""Machinery the series functions share: lining series up on a common step
(graphite-web's `normalize`), reading intervals, and naming results."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from render_web.functions.registry import InputError
from render_web.series import TimeSeries


def flatten(series_lists: Iterable[Sequence[TimeSeries]]) -> list[TimeSeries]:
    return [series for series_list in series_lists for series in series_list]


def lcm_step(series_list: Sequence[TimeSeries]) -> int:
    step = 1
    for series in series_list:
        step = math.lcm(step, series.step)
    return step


def normalize(series_list: Sequence[TimeSeries]) -> tuple[np.ndarray, int, int]:
    """graphite-web's `normalize`: every series consolidated to the lcm of the steps and
    laid on one time axis from the earliest start. Returns (matrix, start, step), one
    row per series, NaN where a series has no point."""
    if not series_list:
        raise InputError("normalize: no series")
    step = lcm_step(series_list)
    consolidated = [s.consolidate(step // s.step) for s in series_list]
    start = min(s.start for s in consolidated)
    end = max(s.end for s in consolidated)
    end -= (end - start) % step
    width = (end - start) // step
    matrix = np.full((len(consolidated), width), np.nan)
    for row, series in enumerate(consolidated):
        offset = (series.start - start) // step
        values = series.values[:max(0, width - offset)]
        matrix[row, offset:offset + len(values)] = values
    return matrix, start, step


def distinct_expressions(series_list: Sequence[TimeSeries]) -> str:
    """The distinct path expressions in first-seen order, comma-joined: how graphite-web
    names aggregates (`sumSeries(a.*,b.*)`)."""
    return ",".join(dict.fromkeys(s.path_expression for s in series_list))


def format_number(value: float) -> str:
    """Python's `%g`, which graphite-web uses to put numbers into names."""
    return f"{value:g}"
