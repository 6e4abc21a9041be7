"""Where flushed points go: carbon destinations (queued, reconnecting) and the log.

Unlike etsy's graphite backend, which opens a new connection per flush and loses the
interval when carbon is down, a `CarbonSink` keeps one connection (Twisted's
`ClientService` reconnects with exponential backoff) and holds points in a bounded queue
while the destination is away. It delivers them in order when it returns; past
`max_queue_points` the oldest messages are dropped and counted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer, IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from zope.interface import implementer

from statsd_daemon.carbon_wire import Encoder, Message, plaintext_line
from statsd_daemon.flush import Point

log = Logger()


@implementer(IPushProducer)
class CarbonClientProtocol(Protocol):
    """One connection to carbon. It only writes; it stops taking messages when the
    transport's buffer is full (push producer), so the sink's queue is the only buffer."""

    def __init__(self, sink: CarbonSink) -> None:
        self.sink = sink
        self.paused = False

    def connectionMade(self) -> None:
        self.transport.registerProducer(self, True)
        self.sink.connected(self)

    def connectionLost(self, reason: object = None) -> None:
        self.sink.disconnected(self)

    def dataReceived(self, data: bytes) -> None:
        pass  # carbon never answers on these ports

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.sink.pump()

    def stopProducing(self) -> None:
        self.paused = True


@implementer(IStreamClientEndpoint)
class _ObservedEndpoint:
    """Wraps an endpoint to learn about failed attempts, which ClientService keeps to
    itself; the sink reports them as `last_exception`."""

    def __init__(self, endpoint: IStreamClientEndpoint, sink: CarbonSink) -> None:
        self.endpoint = endpoint
        self.sink = sink

    def connect(self, factory: Factory) -> defer.Deferred:
        attempt = self.endpoint.connect(factory)
        attempt.addErrback(self.sink.connection_failed)
        return attempt


class CarbonSink(Service):
    """A carbon destination with its queue."""

    def __init__(self, name: str, endpoint: IStreamClientEndpoint, encoder: Encoder, *,
                 max_queue_points: int, drain_timeout: float, clock: object) -> None:
        self.name = name
        self.encoder = encoder
        self.max_queue_points = max_queue_points
        self.drain_timeout = drain_timeout
        self.clock = clock
        self.queue: deque[Message] = deque()
        self.queued_points = 0
        self.sent_points = 0
        self.dropped_points = 0
        self.failures = 0
        # etsy's graphiteStats, for the admin `stats` command and the flushed metrics.
        self.last_flush = 0.0
        self.last_exception = 0.0
        self.flush_time = 0.0
        self.flush_length = 0
        self._protocol: CarbonClientProtocol | None = None
        self._drained: list[defer.Deferred] = []
        factory = Factory.forProtocol(lambda: CarbonClientProtocol(self))
        factory.noisy = False
        self._client = ClientService(_ObservedEndpoint(endpoint, self), factory,
                                     retryPolicy=backoffPolicy(0.5, 30.0), clock=clock)

    def startService(self) -> None:
        super().startService()
        self._client.startService()

    def send(self, points: Sequence[Point]) -> None:
        """Queue one flush's points and write what the connection takes."""
        for message in self.encoder(points):
            self.queue.append(message)
            self.queued_points += message[1]
        lost = 0
        while self.queued_points > self.max_queue_points and self.queue:
            _, count = self.queue.popleft()
            self.queued_points -= count
            lost += count
        if lost:
            self.dropped_points += lost
            log.warn("carbon {name}: queue full, dropped the oldest {lost} points "
                     "({total} dropped in all)", name=self.name, lost=lost,
                     total=self.dropped_points)
        self.pump()

    def pump(self) -> None:
        protocol = self._protocol
        if protocol is None:
            return
        written = 0
        started = self.clock.seconds()
        while self.queue and not protocol.paused and self._protocol is protocol:
            data, count = self.queue.popleft()
            self.queued_points -= count
            self.sent_points += count
            written += len(data)
            protocol.transport.write(data)
        if written:
            now = self.clock.seconds()
            self.last_flush = now
            self.flush_time = (now - started) * 1000.0
            self.flush_length = written
        if not self.queue:
            waiting, self._drained = self._drained, []
            for d in waiting:
                if not d.called:  # a timed-out wait is already done
                    d.callback(None)

    def connected(self, protocol: CarbonClientProtocol) -> None:
        if self.failures:
            log.info("carbon {name}: connected after {n} failed attempts; "
                     "{queued} points queued", name=self.name, n=self.failures,
                     queued=self.queued_points)
        self.failures = 0
        self._protocol = protocol
        self.pump()

    def disconnected(self, protocol: CarbonClientProtocol) -> None:
        if self._protocol is protocol:
            self._protocol = None
            if self.running:
                log.warn("carbon {name}: connection lost; queueing", name=self.name)

    def connection_failed(self, failure: object) -> object:
        self.last_exception = self.clock.seconds()
        self.failures += 1
        if self.failures == 1:
            log.warn("carbon {name}: cannot connect ({why}); queueing and retrying",
                     name=self.name, why=getattr(failure, "getErrorMessage", str)())
        return failure

    def drained(self) -> defer.Deferred:
        """Fires when the queue is empty (at once if it is)."""
        if not self.queue:
            return defer.succeed(None)
        d: defer.Deferred = defer.Deferred()
        self._drained.append(d)
        return d

    @defer.inlineCallbacks
    def stopService(self):
        """Wait (up to drain_timeout) for the queue to go out, then close."""
        super().stopService()
        if self.queue:
            waiting = self.drained()
            waiting.addTimeout(self.drain_timeout, self.clock)
            try:
                yield waiting
            except defer.TimeoutError:
                log.error("carbon {name}: stopping with {n} points undelivered after "
                          "{t} s", name=self.name, n=self.queued_points, t=self.drain_timeout)
        yield self._client.stopService()


class ConsoleSink(Service):
    """Logs every point in carbon's plaintext form; for debugging."""

    name = "console"

    def send(self, points: Sequence[Point]) -> None:
        for point in points:
            log.info("{line}", line=plaintext_line(point).rstrip("\n"))
