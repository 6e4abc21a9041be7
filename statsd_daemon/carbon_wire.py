"""Carbon's two ingest formats, encoded: plaintext lines and length-prefixed pickles.

Messages are cut at `MAX_POINTS_PER_MESSAGE` points (carbon's own
MAX_DATAPOINTS_PER_MESSAGE) so that a queue of them can be trimmed, and a reconnect
resumes, at a message boundary.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Callable, Sequence

from statsd_daemon.flush import Point, js_number

MAX_POINTS_PER_MESSAGE = 500

Message = tuple[bytes, int]  # encoded bytes, points in it
Encoder = Callable[[Sequence[Point]], list[Message]]


def plaintext_line(point: Point) -> str:
    path, value, timestamp = point
    return f"{path} {js_number(value)} {timestamp}\n"


def encode_plaintext(points: Sequence[Point]) -> list[Message]:
    messages = []
    for start in range(0, len(points), MAX_POINTS_PER_MESSAGE):
        chunk = points[start:start + MAX_POINTS_PER_MESSAGE]
        text = "".join(map(plaintext_line, chunk))
        messages.append((text.encode("utf-8"), len(chunk)))
    return messages


def encode_pickle(points: Sequence[Point]) -> list[Message]:
    """`[(path, (timestamp, value)), ...]`, pickle protocol 2, 4-byte big-endian length."""
    messages = []
    for start in range(0, len(points), MAX_POINTS_PER_MESSAGE):
        chunk = points[start:start + MAX_POINTS_PER_MESSAGE]
        payload = pickle.dumps([(path, (timestamp, float(value)))
                                for path, value, timestamp in chunk], protocol=2)
        messages.append((struct.pack("!L", len(payload)) + payload, len(chunk)))
    return messages


ENCODERS: dict[str, Encoder] = {"text": encode_plaintext, "pickle": encode_pickle}
