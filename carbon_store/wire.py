"""Carbon's ingest formats decoded: plaintext lines and pickled lists, safely.

Plaintext is `path value timestamp` (exactly three whitespace-separated fields, both
numbers as floats, timestamp -1 meaning now). Pickle payloads are
`[(path, (timestamp, value)), ...]`, unpickled by `SafeUnpickler`, which refuses every
global: only lists, tuples, strings, bytes and numbers can come out of it, so no payload
can run code. Anything else is a `BadInput` with the reason.
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Callable

Point = tuple[str, float, float]  # name, timestamp, value


class BadInput(ValueError):
    """A line, frame or tuple that is dropped; the message says why."""


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """What pickle protocol 2 calls to rebuild a `bytes` (`_codecs.encode`), and no more."""
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError("only latin1 bytes may be rebuilt")
    return text.encode("latin1")


def _empty_bytes(*args: object) -> bytes:
    """What protocols 0-2 call to rebuild `b""` (`bytes()`): no argument, so no size."""
    if args:
        raise pickle.UnpicklingError("only empty bytes may be rebuilt")
    return b""


_ALLOWED = {
    ("_codecs", "encode"): _latin1_bytes,
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves no global but the two protocols 0-2 need for `bytes`,
    each replaced by a function that only builds bytes (carbon's SafeUnpickler,
    stricter): nothing it returns can run code."""

    def find_class(self, module: str, name: str) -> object:
        allowed = _ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")

    def persistent_load(self, pid: object) -> object:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def safe_loads(data: bytes) -> object:
    try:
        return SafeUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as exc:
        raise BadInput(f"unsafe or broken pickle: {exc}") from None
    except Exception as exc:  # truncated or garbage bytes raise all sorts of things
        raise BadInput(f"broken pickle: {type(exc).__name__}") from None


def _number(value: object, what: str) -> float:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadInput(f"{what} is not a number")
    try:
        return float(value)
    except (ValueError, OverflowError):  # OverflowError: an int past the float range
        raise BadInput(f"{what} is not a number") from None


def check_point(name: object, timestamp: object, value: object,
                now: Callable[[], float]) -> Point:
    """One datapoint made safe to cache; the name still needs `names.normalize`."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    if not isinstance(name, str):
        raise BadInput("metric name is not a string")
    try:
        name.encode("utf-8")  # a pickled str may hold lone surrogates: no file name has them
    except UnicodeEncodeError:
        raise BadInput("metric name is not valid UTF-8") from None
    stamp = _number(timestamp, "timestamp")
    number = _number(value, "value")
    if not math.isfinite(number):
        raise BadInput("value is not finite")
    if stamp == -1:
        stamp = float(int(now()))
    if not math.isfinite(stamp) or stamp < 0 or stamp >= 2**32:
        raise BadInput("timestamp out of range")
    return name, stamp, number


def parse_line(line: bytes, now: Callable[[], float]) -> Point:
    """One plaintext line (without its newline)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("line is not UTF-8") from None
    fields = text.split()
    if len(fields) != 3:
        raise BadInput(f"expected 3 fields, got {len(fields)}")
    return check_point(fields[0], fields[2], fields[1], now)


def parse_pickle(payload: bytes, now: Callable[[], float]
                 ) -> tuple[list[Point], list[str]]:
    """The points of one pickle frame and the reasons for every tuple refused.

    A frame that does not unpickle into a list is refused whole (BadInput).
    """
    data = safe_loads(payload)
    if not isinstance(data, list | tuple):
        raise BadInput("pickle payload is not a list")
    points: list[Point] = []
    bad: list[str] = []
    for item in data:
        try:
            name, (timestamp, value) = item
            points.append(check_point(name, timestamp, value, now))
        except (TypeError, ValueError) as exc:
            bad.append(str(exc) if isinstance(exc, BadInput) else "not (path, (ts, value))")
    return points, bad
