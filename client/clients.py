"""The clients: `StatsClient` (UDP), `TCPStatsClient`, `UnixSocketStatsClient`, and the
`Pipeline` any of them makes.

Every method formats one line with `client.core` and hands the bytes to the client's
transport (`client.transport`), which never raises and never blocks. Nothing a caller
passes makes a method raise either: a name the daemon would refuse, a value that is
not a number, a NaN or a negative timing is dropped with a debug line in the
`statsgraph.client` log.

Speed: the bytes of an untagged, unsampled line are cached per name (`increment`, per
name and count), so the common call is a dict lookup and a `send`; the caches are
bounded (cleared when they reach `CACHE_LIMIT` entries) and shared with pipelines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from random import random
from typing import Any

from client import core
from client.timer import Timer
from client.transport import (
    TCPTransport,
    Transport,
    UDPTransport,
    UnixDatagramTransport,
    UnixStreamTransport,
)

log = logging.getLogger("statsgraph.client")

CACHE_LIMIT = 10_000
_INF = float("inf")


class StatsClientBase:
    """The metric methods, shared by the clients and `Pipeline`; `_send(bytes)` is the
    one thing a subclass provides."""

    _send: Any  # bytes -> None

    def __init__(self, prefix: str | None = None, max_packet_size: int = 1432,
                 tags: core.Tags = None) -> None:
        self.prefix = core.clean_prefix(prefix)
        self.max_packet_size = int(max_packet_size)
        self.tags = core.normalize_tags(tags)
        self._tag_text = core.format_tags(self.tags)
        self._ms_tail = "|ms" + self._tag_text
        self._g_tail = "|g" + self._tag_text
        # stat -> b"name:1|c..." keyed (stat, count); stat -> "name:"; tags key -> text
        self._counts: dict[Any, bytes] = {}
        self._heads: dict[Any, str] = {}
        self._tag_texts: dict[Any, str] = {}

    # -- the metric methods -------------------------------------------------------------

    def increment(self, stat: str, count: float = 1, rate: float = 1,
                  tags: core.Tags = None) -> None:
        """Add `count` to the counter `stat`."""
        if tags is None and rate == 1:
            try:
                line = self._counts[stat, count]
            except (KeyError, TypeError):
                pass
            else:
                self._send(line)
                return
        self._report(stat, core.COUNTER, count, rate, tags)

    incr = increment

    def decrement(self, stat: str, count: float = 1, rate: float = 1,
                  tags: core.Tags = None) -> None:
        """Subtract `count` from the counter `stat`."""
        try:
            count = -count
        except TypeError:
            log.debug("statsd: dropped %r: count %r is not a number", stat, count)
            return
        self.increment(stat, count, rate, tags)

    decr = decrement

    def timing(self, stat: str, delta: Any, rate: float = 1, tags: core.Tags = None) -> None:
        """A time in milliseconds (a number, or a `datetime.timedelta`)."""
        kind = delta.__class__
        if tags is None and rate == 1 and (kind is float or kind is int) and 0 <= delta < _INF:
            try:
                head = self._heads[stat]
            except (KeyError, TypeError):
                pass
            else:
                self._send((head + repr(delta) + self._ms_tail).encode())
                return
        self._report(stat, core.TIMER, core.milliseconds(delta), rate, tags)

    def timer(self, stat: str, rate: float = 1, tags: core.Tags = None) -> Timer:
        """A `Timer` for `stat`: a context manager, and a decorator of plain and async
        functions."""
        return Timer(self, stat, rate, tags)

    def gauge(self, stat: str, value: float, rate: float = 1, delta: bool = False,
              tags: core.Tags = None) -> None:
        """Set the gauge `stat` to `value`, or change it by `value` with `delta=True`."""
        if tags is None and rate == 1 and not delta:
            kind = value.__class__
            if (kind is float or kind is int) and 0 <= value < _INF:
                try:
                    head = self._heads[stat]
                except (KeyError, TypeError):
                    pass
                else:
                    self._send((head + repr(value) + self._g_tail).encode())
                    return
        try:
            if not self._sampled(rate):
                return
            name = self._name(stat)
            if name is None:
                return
            lines = core.gauge_lines(name, value, delta,
                                     core.format_rate(rate) + self._tags_for(tags))
            if lines is None:
                log.debug("statsd: dropped gauge %r: %r is not a finite number",
                          stat, value)
                return
            self._send(lines.encode())
        except Exception as exc:  # never let a metric break the caller
            log.debug("statsd: dropped gauge %r: %r", stat, exc)
            return
        if tags is None and rate == 1:
            self._remember(stat, name, core.GAUGE, value, b"")

    def set(self, stat: str, value: object, rate: float = 1, tags: core.Tags = None) -> None:
        """Add `value` to the set `stat` (the daemon counts distinct members)."""
        self._report(stat, core.SET, value, rate, tags)

    def histogram(self, stat: str, value: float, rate: float = 1,
                  tags: core.Tags = None) -> None:
        """A DogStatsD histogram sample (`|h`; statsd_daemon treats it as a timer)."""
        self._report(stat, core.HISTOGRAM, value, rate, tags)

    def distribution(self, stat: str, value: float, rate: float = 1,
                     tags: core.Tags = None) -> None:
        """A DogStatsD distribution sample (`|d`; statsd_daemon treats it as a timer)."""
        self._report(stat, core.DISTRIBUTION, value, rate, tags)

    def pipeline(self) -> Pipeline:
        """A `Pipeline` whose packets go out through this client."""
        return Pipeline(self)

    # -- formatting ---------------------------------------------------------------------

    def _report(self, stat: Any, kind: str, value: Any, rate: Any, tags: core.Tags) -> None:
        """Format and send one line (the general path)."""
        try:
            if not self._sampled(rate):
                return
            name = self._name(stat)
            if name is None:
                return
            if kind == core.SET:
                text: str | None = core.format_member(value)
            else:
                text = core.format_number(value)
                if text is not None and kind == core.TIMER and float(text) < 0:
                    text = None
            if text is None:
                log.debug("statsd: dropped %r: %r is not a valid %s value", stat, value, kind)
                return
            line = f"{name}:{text}|{kind}{core.format_rate(rate)}{self._tags_for(tags)}"
            data = line.encode()
            self._send(data)
        except Exception as exc:  # never let a metric break the caller
            log.debug("statsd: dropped %r: %r", stat, exc)
            return
        if tags is None and rate == 1:
            self._remember(stat, name, kind, value, data)

    def _remember(self, stat: Any, name: str, kind: str, value: Any, data: bytes) -> None:
        """Cache what the fast paths of `increment` and `timing` look up."""
        heads = self._heads
        try:
            if stat not in heads:
                if len(heads) >= CACHE_LIMIT:
                    heads.clear()
                heads[stat] = name + ":"
            if kind == core.COUNTER:
                counts = self._counts
                if len(counts) >= CACHE_LIMIT:
                    counts.clear()
                counts[stat, value] = data
        except TypeError:  # an unhashable stat or count: sent, just not cached
            pass

    @staticmethod
    def _sampled(rate: Any) -> bool:
        """The coin flip: True when this call is to be sent."""
        if rate >= 1:
            return True
        return rate > 0 and random() < rate

    def _name(self, stat: Any) -> str | None:
        head = self._heads.get(stat) if isinstance(stat, str) else None
        if head is not None:
            return head[:-1]
        name = core.metric_name(self.prefix, stat)
        if name is None:
            log.debug("statsd: dropped %r: not a valid metric name", stat)
        return name

    def _tags_for(self, tags: core.Tags) -> str:
        """The `|#...` text for these per-call tags merged with the constant ones."""
        if not tags:
            return self._tag_text
        if isinstance(tags, dict):
            key: Any = tuple(tags.items())
        elif isinstance(tags, str):
            key = (tags,)
        else:
            key = tuple(tags)
        try:
            return self._tag_texts[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable tag value
            return core.format_tags(core.merge_tags(self.tags, tags))
        text = core.format_tags(core.merge_tags(self.tags, tags if isinstance(tags, dict)
                                                else key))
        if len(self._tag_texts) >= CACHE_LIMIT:
            self._tag_texts.clear()
        self._tag_texts[key] = text
        return text


class StatsClient(StatsClientBase):
    """A statsd client over UDP: `StatsClient("localhost", 8125, prefix="myapp")`.

    No socket and no DNS lookup until the first metric is sent; the address is resolved
    once, when the socket is made.
    """

    def __init__(self, host: str = "localhost", port: int = 8125, prefix: str | None = None,
                 max_packet_size: int = 1432, ipv6: bool = False,
                 tags: core.Tags = None) -> None:
        super().__init__(prefix, max_packet_size, tags)
        self._transport: Transport = UDPTransport(host, port, ipv6)
        self._send = self._transport.send

    def _send_packets(self, lines: list[bytes]) -> None:
        send = self._transport.send
        for packet in core.pack(lines, self.max_packet_size):
            send(packet)

    def flush(self) -> None:
        """Push out what a stream transport still holds (nothing to do over UDP)."""
        self._transport.flush()

    def close(self) -> None:
        """Close the socket (the next metric opens a new one)."""
        self._transport.close()


class TCPStatsClient(StatsClient):
    """The same over TCP, one line per metric, newline-terminated. The connection is
    made without waiting on the first metric; what the socket cannot take at once waits
    (up to `max_buffer` bytes) for the next metric, `flush()` or `close()`."""

    def __init__(self, host: str = "localhost", port: int = 8125, prefix: str | None = None,
                 max_packet_size: int = 1432, ipv6: bool = False, tags: core.Tags = None,
                 max_buffer: int = 65536) -> None:
        StatsClientBase.__init__(self, prefix, max_packet_size, tags)
        self._transport = TCPTransport(host, port, ipv6, max_buffer)
        self._send = self._transport.send


class UnixSocketStatsClient(StatsClient):
    """The same over a Unix socket: `socket_type="stream"` (newline-framed lines, as
    the `statsd` package's client sends) or `"dgram"` (one packet per datagram, what
    the DogStatsD agent's socket takes)."""

    def __init__(self, socket_path: str, prefix: str | None = None,
                 max_packet_size: int = 8192, tags: core.Tags = None,
                 socket_type: str = "stream", max_buffer: int = 65536) -> None:
        StatsClientBase.__init__(self, prefix, max_packet_size, tags)
        if socket_type == "stream":
            self._transport = UnixStreamTransport(socket_path, max_buffer)
        elif socket_type == "dgram":
            self._transport = UnixDatagramTransport(socket_path)
        else:
            raise ValueError(f"socket_type must be 'stream' or 'dgram', not {socket_type!r}")
        self._send = self._transport.send


class Pipeline(StatsClientBase):
    """Metrics collected and sent together, packed into packets of at most the client's
    `max_packet_size` bytes, when the `with` block ends (even by an exception) or on
    `send()`:

        with statsd.pipeline() as pipe:
            pipe.increment("a")
            pipe.timing("b", 12)

    One pipeline belongs to one thread; the client it came from can be shared.
    """

    def __init__(self, client: StatsClientBase) -> None:
        # Shares the client's settings and caches rather than building its own.
        self._client = client
        self.prefix = client.prefix
        self.max_packet_size = client.max_packet_size
        self.tags = client.tags
        self._tag_text = client._tag_text
        self._ms_tail = client._ms_tail
        self._g_tail = client._g_tail
        self._counts = client._counts
        self._heads = client._heads
        self._tag_texts = client._tag_texts
        self._lines: list[bytes] = []
        self._send = self._lines.append

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.send()

    def __len__(self) -> int:
        return len(self._lines)

    def send(self) -> None:
        """Send what was collected (and start collecting anew)."""
        lines = self._lines
        if not lines:
            return
        self._lines = []
        self._send = self._lines.append
        self._client._send_packets(lines)

    def _send_packets(self, lines: Iterable[bytes]) -> None:
        """A nested pipeline's lines join this one's."""
        self._lines.extend(lines)
