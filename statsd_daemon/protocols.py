"""The daemon's network edge: bytes in, calls into the aggregator and the admin commands.

Nothing here parses metrics; it frames bytes and hands them on. TCP connections (metrics
and admin) are closed after `idle_timeout` seconds without data, so idle clients cannot
hold sockets forever.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from twisted.application import internet
from twisted.internet import udp
from twisted.internet.protocol import DatagramProtocol, Factory, Protocol
from twisted.logger import Logger
from twisted.protocols.basic import LineOnlyReceiver
from twisted.protocols.policies import TimeoutMixin

from statsd_daemon import admin
from statsd_daemon.aggregator import Aggregator
from statsd_daemon.recvmmsg import BatchReceiver

log = Logger()

# Linux's SO_RCVBUFFORCE lets root go past net.core.rmem_max.
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


class Activity:
    """When the last metric arrived (etsy's `messages.last_msg_seen`)."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self.seconds = seconds
        self.last_msg_seen = seconds()


class _IdleTimeout(TimeoutMixin):
    """Closes the connection after `idle_timeout` seconds without data (0: never), on
    the given reactor (a fake clock in tests)."""

    idle_timeout: float = 0
    reactor: object = None

    def connectionMade(self) -> None:
        if self.idle_timeout:
            self.setTimeout(self.idle_timeout)

    def callLater(self, period: float, func: object) -> object:
        reactor = self.reactor
        if reactor is None:
            from twisted.internet import reactor
        return reactor.callLater(period, func)

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        super().dataReceived(data)

    def connectionLost(self, reason: object = None) -> None:
        self.setTimeout(None)
        super().connectionLost(reason)


class StatsdDatagramProtocol(DatagramProtocol):
    """One datagram, any number of newline-separated lines."""

    noisy = False

    def __init__(self, aggregator: Aggregator, activity: Activity) -> None:
        self.aggregator = aggregator
        self.activity = activity

    def datagramReceived(self, data: bytes, addr: object) -> None:
        self.aggregator.ingest(data)
        self.activity.last_msg_seen = self.activity.seconds()


class _StreamFraming(Protocol):
    """Newline-framed metrics over TCP.

    Unlike `LineOnlyReceiver`, an over-long line does not drop the connection (nor the
    good lines after it in the same read): it is skipped up to its newline and counted
    as a bad line. Complete lines go to the aggregator a whole read at a time.
    """

    MAX_LENGTH = 65536

    def __init__(self, aggregator: Aggregator, activity: Activity) -> None:
        self.aggregator = aggregator
        self.activity = activity
        self._partial = b""
        self._skipping = False

    def dataReceived(self, data: bytes) -> None:
        if self._skipping:
            cut = data.find(b"\n")
            if cut < 0:
                return
            data = data[cut + 1:]
            self._skipping = False
        data = self._partial + data
        cut = data.rfind(b"\n")
        if cut < 0:
            block, self._partial = b"", data
        else:
            block, self._partial = data[:cut], data[cut + 1:]
        if block:
            self.aggregator.ingest(block)
            self.activity.last_msg_seen = self.activity.seconds()
        if len(self._partial) > self.MAX_LENGTH:
            self.aggregator.reject(f"line longer than {self.MAX_LENGTH} bytes",
                                   self._partial[:80].decode("utf-8", "replace"))
            self._partial = b""
            self._skipping = True

    def connectionLost(self, reason: object = None) -> None:
        if self._partial.strip() and not self._skipping:
            self.aggregator.ingest(self._partial)  # a last line without its newline
        self._partial = b""


class StatsdStreamProtocol(_IdleTimeout, _StreamFraming):
    """Newline-framed metrics over TCP, closed when idle (see `_StreamFraming`)."""


class StatsdStreamFactory(Factory):
    noisy = False
    def __init__(self, aggregator: Aggregator, activity: Activity,
                 idle_timeout: float = 0, reactor: object = None) -> None:
        self.aggregator = aggregator
        self.activity = activity
        self.idle_timeout = idle_timeout
        self.reactor = reactor

    def buildProtocol(self, addr: object) -> StatsdStreamProtocol:
        protocol = StatsdStreamProtocol(self.aggregator, self.activity)
        protocol.idle_timeout, protocol.reactor = self.idle_timeout, self.reactor
        return protocol


class AdminProtocol(_IdleTimeout, LineOnlyReceiver):
    """etsy's management interface, one command per line."""

    delimiter = b"\n"
    MAX_LENGTH = 4096

    def __init__(self, daemon: admin.Daemon) -> None:
        self.daemon = daemon

    def lineReceived(self, line: bytes) -> None:
        reply = admin.execute(self.daemon, line.decode("utf-8", "replace"))
        if reply.text:
            self.transport.write(reply.text.encode("utf-8"))
        if reply.close:
            self.transport.loseConnection()


class AdminFactory(Factory):
    noisy = False
    def __init__(self, daemon: admin.Daemon, idle_timeout: float = 0,
                 reactor: object = None) -> None:
        self.daemon = daemon
        self.idle_timeout = idle_timeout
        self.reactor = reactor

    def buildProtocol(self, addr: object) -> AdminProtocol:
        protocol = AdminProtocol(self.daemon)
        protocol.idle_timeout, protocol.reactor = self.idle_timeout, self.reactor
        return protocol


class StatsdPort(udp.Port):
    """A UDP port with a leaner read loop for the one job of the statsd listener.

    - Twisted's `doRead` takes the sender's address (`recvfrom`) and calls
      `datagramReceived` per datagram; statsd needs neither. This loop uses `recv` and
      hands each datagram straight to the aggregator.
    - Datagrams up to the UDP maximum are read whole (Twisted's default buffer of 8192
      bytes would cut a large multi-metric packet mid-line).
    - Where Linux's recvmmsg(2) is there (`BatchReceiver`), it takes up to 64 datagrams
      per system call.
    - Once it has emptied the socket it stops reading for `READ_PAUSE` seconds. A busy
      listener then takes datagrams hundreds at a time instead of waking the reactor
      for each one (at 300,000 datagrams a second, the wakeups cost more than the
      metrics); the kernel buffer holds what arrives meanwhile, and a metric waits at
      most a millisecond longer.
    """

    READ_PAUSE = 0.001

    def __init__(self, *args: object, batch: BatchReceiver | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, maxPacketSize=65536, **kwargs)
        self._resume = None
        self._batch = batch if batch is not None and batch.available() else None

    def _read_one(self) -> list[bytes]:
        try:
            return [self.socket.recv(self.maxPacketSize)]
        except BlockingIOError:
            return []

    def doRead(self) -> None:
        protocol: StatsdDatagramProtocol = self.protocol
        ingest = protocol.aggregator.ingest
        if self._batch is not None:
            fd = self.socket.fileno()
            receive = self._batch.receive

            def read_some() -> list[bytes]:
                return receive(fd)
        else:
            read_some = self._read_one
        read = 0
        drained = False
        while read < self.maxThroughput:
            try:
                datagrams = read_some()
            except OSError as exc:
                log.warn("UDP read failed: {why}", why=exc)
                break
            if not datagrams:
                drained = True
                break
            for data in datagrams:
                read += len(data) + 1
                try:
                    ingest(data)
                except Exception:
                    log.failure("datagram not processed: {data!r}", data=data[:200])
        if read:
            protocol.activity.last_msg_seen = protocol.activity.seconds()
        if drained and self.READ_PAUSE and self.connected:
            self.stopReading()
            self._resume = self.reactor.callLater(self.READ_PAUSE, self._resume_reading)

    def _resume_reading(self) -> None:
        self._resume = None
        if self.connected:
            self.startReading()

    def connectionLost(self, reason: object = None) -> None:
        if self._resume is not None and self._resume.active():
            self._resume.cancel()
        self._resume = None
        super().connectionLost(reason)


class StatsdUDPServer(internet.UDPServer):
    """A UDP listener that asks for a large receive buffer, and reads what the kernel
    still holds before it closes, so a clean stop loses no datagram already received."""

    def __init__(self, port: int, protocol: DatagramProtocol, *, interface: str,
                 recv_buffer: int, reactor: object) -> None:
        super().__init__(port, protocol, interface=interface, reactor=reactor)
        self.recv_buffer = recv_buffer
        self.granted_buffer = 0

    def _getPort(self) -> StatsdPort:
        port_number, protocol = self.args
        port = StatsdPort(port_number, protocol, interface=self.kwargs["interface"],
                          reactor=self.reactor, batch=BatchReceiver())
        port.startListening()
        return port

    def startService(self) -> None:
        super().startService()
        sock = self._port.socket
        if self.recv_buffer:
            for option in (socket.SO_RCVBUF, SO_RCVBUFFORCE):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, option, self.recv_buffer)
                except OSError:
                    continue
                # Linux reports twice what was asked (it counts its bookkeeping).
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= self.recv_buffer:
                    break
        self.granted_buffer = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        if self.recv_buffer and self.granted_buffer < self.recv_buffer:
            log.warn("UDP receive buffer: asked for {asked} bytes, the kernel granted "
                     "{granted} (raise net.core.rmem_max)", asked=self.recv_buffer,
                     granted=self.granted_buffer)
        else:
            log.info("UDP receive buffer: {granted} bytes", granted=self.granted_buffer)

    def stopService(self):
        port = getattr(self, "_port", None)
        if port is not None and port.connected:
            # What is queued in the kernel right now: doRead takes up to 256 KiB a call
            # and returns at once when the queue is empty.
            port.READ_PAUSE = 0
            for _ in range(max(1, self.granted_buffer // port.maxThroughput + 1)):
                port.doRead()
        return super().stopService()
