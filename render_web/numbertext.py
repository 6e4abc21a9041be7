"""`[[value, timestamp], ...]` as JSON text, written by numpy a whole series at a time.

A day of 10-second points is 8,640 pairs; `json.dumps` spends most of a render's time
turning floats into text one by one (about 0.5 us each here). This module lays every
digit into a byte matrix with array operations instead, several times faster.

Values are written with 15 significant digits, which every float64 holds exactly: a
value sent with 15 digits or fewer (everything statsd and carbon parse from text) reads
back bit for bit; a value that needs 16 or 17 digits to round-trip is off by at most 5
in its 16th digit. (graphite-web prints Python's shortest round-trip repr.) Nulls are
`null`, infinities graphite's `1e9999`/`-1e9999`, and magnitudes outside 1e-5..1e16
use Python's repr.
"""

from __future__ import annotations

import numpy as np

SIGNIFICANT = 15
_ZERO, _DOT, _MINUS = ord("0"), ord("."), ord("-")
# The layout of a value: a sign, 16 integer places (10^15 .. 10^0), the point, and 20
# fraction places (10^-1 .. 10^-20): room for 15 digits anywhere in 1e-5 <= |v| < 1e16.
_INT, _FRAC = 16, 20
_POINT = 1 + _INT                       # the point's column
_WIDTH = 1 + _INT + 1 + _FRAC
_LOWEST, _HIGHEST = -5, 15              # decimal exponents written positionally
# Every 4-digit group as four ASCII bytes in one uint32, so that digits come from one
# table lookup per group.
_GROUPS = np.ascontiguousarray(
    (np.arange(10_000)[:, None] // 10 ** np.arange(3, -1, -1) % 10 + _ZERO)
    .astype(np.uint8)).view(np.uint32).ravel()


def _digits16(numbers: np.ndarray) -> np.ndarray:
    """(n, 16) ASCII digits of whole numbers below 10^16 held as float64 (exact: below
    2^53 every step is), zero-padded on the left."""
    high = np.floor(numbers / 1e8)
    low = (numbers - high * 1e8).astype(np.uint32)
    high = high.astype(np.uint32)
    groups = np.empty((len(numbers), 4), np.uint32)
    np.floor_divide(high, 10_000, out=groups[:, 0])
    np.remainder(high, 10_000, out=groups[:, 1])
    np.floor_divide(low, 10_000, out=groups[:, 2])
    np.remainder(low, 10_000, out=groups[:, 3])
    return _GROUPS[groups].view(np.uint8).reshape(len(numbers), 16)


def _special_text(value: float) -> bytes:
    if value != value:
        return b"null"
    if value in (float("inf"), float("-inf")):
        return b"1e9999" if value > 0 else b"-1e9999"
    return repr(value).encode("ascii")


def value_columns(values: np.ndarray) -> np.ndarray:
    """(n, 38) ASCII, one value per row, zero bytes where there is no character."""
    n = len(values)
    out = np.zeros((n, _WIDTH), np.uint8)
    magnitude = np.abs(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(magnitude))
    positional = np.isfinite(exponent) & (exponent >= _LOWEST) & (exponent <= _HIGHEST)
    every = bool(positional.all())
    rows = np.arange(n) if every else np.flatnonzero(positional)
    if len(rows):
        a = magnitude if every else magnitude[rows]
        e = (exponent if every else exponent[rows]).astype(np.int64)
        q = np.rint(a * 10.0 ** (SIGNIFICANT - 1 - e))
        # log10 can land one off near powers of ten, and rounding can carry to 10^15.
        for fix in (q >= 10.0 ** SIGNIFICANT, q < 10.0 ** (SIGNIFICANT - 1)):
            if fix.any():
                e[fix] += np.where(q[fix] >= 10.0 ** SIGNIFICANT, 1, -1)
                q[fix] = np.rint(a[fix] * 10.0 ** (SIGNIFICANT - 1 - e[fix]))
        # Positional rows whose exponent was corrected out of range are written by repr.
        inside = (e >= _LOWEST) & (e <= _HIGHEST)
        if not inside.all():
            every = False
            positional[rows[~inside]] = False
            rows, e, q = rows[inside], e[inside], q[inside]
        digits = _digits16(q)[:, 1:]                      # the 15 significant digits
        m = len(rows)
        # Trailing zeros go (but the first fraction place stays: "5.0"): digit k is
        # dropped past the last non-zero digit and past the units place and the next.
        last_digit = SIGNIFICANT - 1 - np.argmax((digits != _ZERO)[:, ::-1], axis=1)
        digits *= np.arange(SIGNIFICANT)[None, :] <= np.maximum(last_digit, e + 1)[:, None]
        # Digit k has the power e-k: before the point (power >= 0) it sits in column
        # POINT-1-power, after it in column POINT-power, so rows sharing an exponent
        # share a layout. Sorted by exponent, each layout is a run of rows written with
        # slices; a series has few exponents.
        order = np.argsort(e, kind="stable")
        e_sorted = e[order]
        digits_sorted = digits[order]
        body_sorted = np.zeros((m, _WIDTH), np.uint8)
        body_sorted[:, _POINT] = _DOT
        bounds = np.flatnonzero(np.diff(e_sorted)) + 1
        for begin, end in zip([0, *bounds.tolist()], [*bounds.tolist(), m], strict=True):
            exp = int(e_sorted[begin])
            run = body_sorted[begin:end]
            if exp >= 0:
                whole = min(exp + 1, SIGNIFICANT)         # digits before the point
                left = _POINT - 1 - exp
                run[:, left:left + whole] = digits_sorted[begin:end, :whole]
                if whole == SIGNIFICANT:                  # no digit after the point
                    run[:, left + whole:_POINT] = _ZERO   # (10^15 and up: units 0)
                    run[:, _POINT + 1] = _ZERO
                else:
                    run[:, _POINT + 1:_POINT + 1 + SIGNIFICANT - whole] = \
                        digits_sorted[begin:end, whole:]
            else:
                run[:, _POINT - 1] = _ZERO                # "0." and the zeros before
                run[:, _POINT + 1:_POINT - exp] = _ZERO   # the first digit
                run[:, _POINT - exp:_POINT - exp + SIGNIFICANT] = digits_sorted[begin:end]
        body = np.empty_like(body_sorted)
        body[order] = body_sorted
        body[:, 0] = np.where((values if every else values[rows]) < 0, _MINUS, 0)
        if every:
            out = body
        else:
            out[rows] = body
    for mask, text in ((np.isnan(values), b"null"), (magnitude == 0, b"0.0")):
        if mask.any():
            out[mask, :len(text)] = np.frombuffer(text, np.uint8)
            positional |= mask
    special = np.flatnonzero(~positional)
    for row, value in zip(special.tolist(), values[special].tolist(), strict=True):
        text = _special_text(value)
        out[row, :len(text)] = np.frombuffer(text, np.uint8)
    return out


def integer_columns(numbers: np.ndarray) -> np.ndarray:
    """Whole numbers 0 <= x < 10^16 as ASCII rows without leading zeros."""
    numbers = numbers.astype(np.float64)
    digits = _digits16(numbers)
    with np.errstate(divide="ignore"):
        width = np.floor(np.log10(np.maximum(numbers, 1))).astype(np.int64) + 1
    digits *= (np.arange(16)[None, :] >= 16 - width[:, None])
    return digits[:, 16 - int(width.max()):]


def datapoints_json(values: np.ndarray, timestamps: np.ndarray) -> bytes:
    """The JSON array of `[value, timestamp]` pairs, as ASCII bytes."""
    n = len(values)
    if n == 0:
        return b"[]"
    if timestamps.min() < 0 or timestamps.max() >= 10**16:
        pairs = ",".join(f"[{_special_text(v).decode() if not _plain(v) else repr(v)},{t}]"
                         for v, t in zip(values.tolist(), timestamps.tolist(), strict=True))
        return f"[{pairs}]".encode("ascii")
    column = np.zeros((n, 1), np.uint8)
    digits = value_columns(values)
    # Only the columns some value uses: a series' values share a magnitude, and the
    # fewer bytes the final gather walks, the faster.
    used = np.flatnonzero(digits.any(axis=0))
    matrix = np.concatenate([column + ord("["), digits[:, used[0]:used[-1] + 1],
                             column + ord(","), integer_columns(timestamps),
                             column + ord("]"), column + ord(",")], axis=1)
    text = matrix[matrix != 0].tobytes()
    return b"[" + text[:-1] + b"]"


def _plain(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))
