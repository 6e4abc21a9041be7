"""Datapoints written as JSON text by numpy: exact for up to 15 digits, within 5e-15
beyond, and parsed back by json.loads to the same pairs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from render_web.numbertext import datapoints_json, integer_columns, value_columns


def text(value: float) -> str:
    row = value_columns(np.array([value]))[0]
    return bytes(row[row != 0]).decode()


@pytest.mark.parametrize("value,expected", [
    (0.0, "0.0"), (-0.0, "0.0"), (1.0, "1.0"), (5.0, "5.0"), (10.0, "10.0"),
    (100.0, "100.0"), (0.1, "0.1"), (0.3, "0.3"), (1.5, "1.5"), (-2.25, "-2.25"),
    (123.456, "123.456"), (1e15, "1000000000000000.0"),
    (9.99999999999999e15, "9999999999999990.0"), (1e-5, "0.00001"),
    (1.23e-5, "0.0000123"), (12.333333333333334, "12.3333333333333"),
    (99.99999999999999, "100.0"), (1 / 3, "0.333333333333333"), (100000.0, "100000.0"),
    (123456789012345.0, "123456789012345.0"), (-0.5, "-0.5"), (7e-5, "0.00007"),
    (float("nan"), "null"), (float("inf"), "1e9999"), (float("-inf"), "-1e9999"),
    (1e16, "1e+16"), (1e300, "1e+300"), (9.9e-6, "9.9e-06"), (-3e-7, "-3e-07"),
])
def test_values(value, expected):
    assert text(value) == expected


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1000.0, 1e12, 1e15])
def test_round_trip(scale):
    rng = np.random.default_rng(int(scale * 7) % 1000)
    values = rng.random(20_000) * scale * rng.choice([-1, 1], 20_000)
    values[::13] = np.nan
    values[::17] = 0.0
    values[::19] = np.round(values[::19], 3)
    stamps = 1_699_990_000 + 10 * np.arange(len(values))
    pairs = json.loads(datapoints_json(values, stamps))
    assert [t for _, t in pairs] == stamps.tolist()
    for (got, _), want in zip(pairs, values.tolist(), strict=True):
        if math.isnan(want):
            assert got is None
        elif len(repr(want).lstrip("-").replace(".", "").strip("0")) <= 15:
            assert got == want
        else:
            assert math.isclose(got, want, rel_tol=5.1e-15)


def test_timestamps_of_any_width():
    rows = integer_columns(np.array([0, 7, 10, 99, 100, 1_699_999_200, 10**15]))
    assert [bytes(r[r != 0]).decode() for r in rows] == [
        "0", "7", "10", "99", "100", "1699999200", "1000000000000000"]


def test_empty_and_unusual_times():
    assert datapoints_json(np.array([]), np.array([], dtype=np.int64)) == b"[]"
    assert json.loads(datapoints_json(np.array([1.5, np.nan]), np.array([-10, 0]))) == [
        [1.5, -10], [None, 0]]
