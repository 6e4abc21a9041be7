"""The store's network edge: carbon's framings, handing bytes to the intake.

Plaintext uses Twisted's `LineOnlyReceiver` (a line over the limit drops the connection,
as carbon's does; a bad line is counted and skipped, the connection stays), pickle and
cache queries `Int32StringReceiver` (4-byte big-endian length; a frame over the limit
drops the connection, a bad frame within it is counted and skipped). Every TCP
connection is closed after `idle_timeout` seconds without data, so idle clients cannot
hold sockets forever.
"""

from __future__ import annotations

import pickle

from twisted.internet.protocol import DatagramProtocol, Factory
from twisted.logger import Logger
from twisted.protocols.basic import Int32StringReceiver, LineOnlyReceiver
from twisted.protocols.policies import TimeoutMixin

from carbon_store.intake import Intake
from carbon_store.query import answer
from carbon_store.wire import BadInput, safe_loads

log = Logger()


class _IdleTimeout(TimeoutMixin):
    """Closes the connection after `factory.idle_timeout` seconds without data (0: never).

    The reactor is the factory's, so tests can drive it with a fake clock."""

    factory: Factory

    def start_idle_timer(self) -> None:
        seconds = getattr(self.factory, "idle_timeout", 0)
        if seconds:
            self.setTimeout(seconds)

    def callLater(self, period: float, func: object) -> object:
        reactor = getattr(self.factory, "reactor", None)
        if reactor is None:
            from twisted.internet import reactor
        return reactor.callLater(period, func)

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        super().dataReceived(data)

    def connectionLost(self, reason: object = None) -> None:
        self.setTimeout(None)
        super().connectionLost(reason)


class ReceiverFactory(Factory):
    """Builds receivers and keeps the open connections, for flow control."""

    noisy = False

    def __init__(self, protocol: type, intake: Intake, max_length: int,
                 idle_timeout: float = 0, reactor: object = None) -> None:
        self.protocol = protocol
        self.intake = intake
        self.max_length = max_length
        self.idle_timeout = idle_timeout
        self.reactor = reactor
        self.connections: set = set()
        self.paused = False
        self.orphaned: list = []  # held points of connections that closed meanwhile

    def buildProtocol(self, addr: object):
        receiver = self.protocol()
        receiver.factory = self
        receiver.MAX_LENGTH = self.max_length
        return receiver

    def pause(self) -> None:
        self.paused = True
        for connection in self.connections:
            connection.transport.pauseProducing()

    def resume(self) -> None:
        """Let senders go on; a connection still holding points that do not fit yet
        stays paused until they do."""
        self.paused = False
        self.retry()

    def retry(self) -> None:
        """Offer held points to the cache again (oldest first)."""
        if self.orphaned:
            self.orphaned = self.intake.store(self.orphaned, hold=True)
        for connection in list(self.connections):
            connection.retry_held()

    @property
    def holding(self) -> int:
        return len(self.orphaned) + sum(len(c.held) for c in self.connections)


class _Tracked(_IdleTimeout):
    """Connection bookkeeping and back-pressure without loss: points that arrive when
    the cache is at its hard limit are held by the connection, whose sender is paused,
    until the writer makes room."""

    factory: ReceiverFactory
    held: list = []

    def connectionMade(self) -> None:
        self.held = []
        self.factory.connections.add(self)
        if self.factory.paused:
            self.transport.pauseProducing()
        self.start_idle_timer()

    def timeoutConnection(self) -> None:
        """A sender we paused is silent because of us: it is not idle."""
        if self.held or self.factory.paused:
            self.setTimeout(self.timeOut)  # start a new countdown
            return
        self.transport.loseConnection()

    def connectionLost(self, reason: object = None) -> None:
        self.factory.connections.discard(self)
        if self.held:  # the sender is gone; what it sent still waits for room
            self.factory.orphaned.extend(self.held)
            self.held = []
        super().connectionLost(reason)

    def accept(self, points: list) -> None:
        """Cache what fits; hold the rest (behind anything already held) and pause."""
        rest = points if self.held else self.factory.intake.store(points, hold=True)
        if rest:
            self.held.extend(rest)
            self.transport.pauseProducing()

    def retry_held(self) -> None:
        if self.held:
            self.held = self.factory.intake.store(self.held, hold=True)
            if not self.held and not self.factory.paused:
                self.transport.resumeProducing()
        elif not self.factory.paused:
            self.transport.resumeProducing()


class PlaintextReceiver(_Tracked, LineOnlyReceiver):
    """`path value timestamp` lines; a whole read goes to the intake at once."""

    delimiter = b"\n"

    def dataReceived(self, data: bytes) -> None:
        self._batch: list[bytes] = []
        super().dataReceived(data)
        if self._batch:
            self.accept(self.factory.intake.parse_lines(self._batch))

    def lineReceived(self, line: bytes) -> None:
        self._batch.append(line)

    def lineLengthExceeded(self, line: bytes) -> None:
        self.factory.intake.bad(f"line longer than {self.MAX_LENGTH} bytes; connection "
                                 "dropped", line[:80].decode("utf-8", "replace"))
        super().lineLengthExceeded(line)


class PickleReceiver(_Tracked, Int32StringReceiver):
    """Pickle frames. A frame that is not a list of points (or that names any global)
    is counted and dropped and the connection stays up, as carbon's: its length prefix
    was sound, so the stream is still in step."""

    def stringReceived(self, payload: bytes) -> None:
        self.accept(self.factory.intake.parse_pickle(payload))

    def lengthLimitExceeded(self, length: int) -> None:
        self.factory.intake.bad(f"pickle frame of {length} bytes is over the limit of "
                                 f"{self.MAX_LENGTH}; connection dropped", "")
        super().lengthLimitExceeded(length)


class PlaintextDatagramReceiver(DatagramProtocol):
    noisy = False

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    def datagramReceived(self, data: bytes, addr: object) -> None:
        self.intake.lines(data.splitlines())


class CacheQueryProtocol(_IdleTimeout, Int32StringReceiver):
    """CARBONLINK: one pickled request per frame, one pickled answer per frame."""

    MAX_LENGTH = 1 << 20

    def connectionMade(self) -> None:
        self.start_idle_timer()

    def stringReceived(self, request: bytes) -> None:
        factory: CacheQueryFactory = self.factory
        try:
            decoded = safe_loads(request)
            reply = answer(decoded, factory.cache, factory.whisper_path)
        except BadInput as exc:
            decoded, reply = None, {"error": str(exc)}
        factory.queries += 1
        if isinstance(decoded, dict) and decoded.get("type") == "cache-query-bulk":
            factory.bulk_queries += 1
            factory.bulk_query_metrics += len(reply.get("datapointsByMetric", ()))
        self.sendString(pickle.dumps(reply, protocol=2))


class CacheQueryFactory(Factory):
    noisy = False
    protocol = CacheQueryProtocol

    def __init__(self, cache: object, whisper_path: object, idle_timeout: float = 0,
                 reactor: object = None) -> None:
        self.cache = cache
        self.whisper_path = whisper_path
        self.idle_timeout = idle_timeout
        self.reactor = reactor
        self.queries = 0
        self.bulk_queries = 0
        self.bulk_query_metrics = 0
