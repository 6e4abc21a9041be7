"""A time series as the renderer computes with it: evenly spaced float64 values.

`None` of graphite-web is NaN here, so that every function is numpy arithmetic; the
formats turn NaN back into null. Points are at `start + i*step` for `i < len(values)`,
and `end` is exclusive (`start + len(values)*step`), as in graphite-web's TimeSeries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

# How a group of points becomes one when a series is consolidated (maxDataPoints, pixels).
CONSOLIDATIONS = ("sum", "average", "avg", "avg_zero", "max", "min", "first", "last")

# Whisper's aggregation methods, as the consolidation that keeps their meaning.
STORAGE_CONSOLIDATION = {
    "average": "average", "sum": "sum", "last": "last", "max": "max", "min": "min",
    "avg_zero": "avg_zero", "absmax": "max", "absmin": "min",
}


@dataclass
class TimeSeries:
    name: str
    start: int
    step: int
    values: np.ndarray
    path_expression: str = ""
    consolidation: str = "average"
    x_files_factor: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)
    # Graph options set by functions (color, lineWidth, dashed, stacked, secondYAxis,
    # drawAsInfinite, ...), read by the image renderer.
    options: dict[str, Any] = field(default_factory=dict)
    values_per_point: int = 1

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        if not self.path_expression:
            self.path_expression = self.name
        if not self.tags:
            self.tags = {"name": self.name}

    @classmethod
    def from_list(cls, name: str, start: int, step: int, values: list[float | None],
                  **kwargs: Any) -> TimeSeries:
        array = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
        return cls(name, start, step, array, **kwargs)

    @property
    def end(self) -> int:
        return self.start + len(self.values) * self.step

    def __len__(self) -> int:
        return len(self.values)

    def timestamps(self) -> np.ndarray:
        return self.start + self.step * np.arange(len(self.values), dtype=np.int64)

    def to_list(self) -> list[float | None]:
        """The values with NaN as None (graphite's null)."""
        return [None if v != v else v for v in self.values.tolist()]

    def copy(self, **changes: Any) -> TimeSeries:
        """A new series sharing nothing mutable with this one. A new `name=` leaves the
        tags alone, as graphite-web's renaming functions do (its json shows the
        original `name` tag)."""
        changes.setdefault("values", self.values.copy())
        changes.setdefault("tags", dict(self.tags))
        changes.setdefault("options", dict(self.options))
        return replace(self, **changes)

    def renamed(self, name: str, **changes: Any) -> TimeSeries:
        """A copy with a new name (and path expression, and `name` tag)."""
        tags = dict(self.tags)
        tags["name"] = name
        return self.copy(name=name, path_expression=name, tags=tags, **changes)

    def consolidate(self, values_per_point: int) -> TimeSeries:
        """A coarser copy: groups of `values_per_point` made one by `self.consolidation`,
        null unless the group's non-null share reaches `x_files_factor`."""
        if values_per_point <= 1:
            return self
        return self.copy(values=consolidate(self.values, values_per_point,
                                            self.consolidation, self.x_files_factor),
                         step=self.step * values_per_point,
                         values_per_point=self.values_per_point * values_per_point)


def consolidate(values: np.ndarray, n: int, how: str, x_files_factor: float = 0.0
                ) -> np.ndarray:
    """`values` in groups of `n` (the last one may be partial), each made one point."""
    if n <= 1 or len(values) == 0:
        return values.copy()
    groups = -(-len(values) // n)
    padded = np.full(groups * n, np.nan)
    padded[:len(values)] = values
    matrix = padded.reshape(groups, n)
    present = ~np.isnan(matrix)
    counts = present.sum(axis=1)
    # The trailing partial group counts only the points it really has.
    sizes = np.full(groups, n)
    sizes[-1] = len(values) - (groups - 1) * n
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "sum":
            out = np.where(present, matrix, 0.0).sum(axis=1)
        elif how in ("average", "avg"):
            out = np.where(present, matrix, 0.0).sum(axis=1) / counts
        elif how == "avg_zero":
            out = np.where(present, matrix, 0.0).sum(axis=1) / sizes
        elif how == "max":
            out = np.where(present, matrix, -np.inf).max(axis=1)
        elif how == "min":
            out = np.where(present, matrix, np.inf).min(axis=1)
        elif how == "first":
            index = np.argmax(present, axis=1)
            out = matrix[np.arange(groups), index]
        elif how == "last":
            index = n - 1 - np.argmax(present[:, ::-1], axis=1)
            out = matrix[np.arange(groups), index]
        else:
            raise ValueError(f"unknown consolidation function {how!r}")
        # graphite-web measures every group, the short last one too, against `n`.
        keep = (counts > 0) & (counts / n >= x_files_factor)
    return np.where(keep, out, np.nan)
