"""Thin transports: hand bytes to a socket, never raise, never block.

* `UDPTransport`: one non-blocking UDP socket, connected (so the address is resolved
  once, when the socket is made, and the kernel does no lookup per send). A full
  socket buffer (EAGAIN/ENOBUFS), an ICMP port unreachable reported on a later send
  (ECONNREFUSED), a datagram too large (EMSGSIZE) or a DNS failure: the packet is
  dropped and a debug line logged.
* `StreamTransport`: TCP or a Unix stream socket, non-blocking, newline-framed. The
  connection is started without waiting for it; what cannot be written at once waits
  in a bounded buffer and goes out with the next send (or `flush`). When the buffer is
  full the new data is dropped; when the connection fails the buffer is dropped and
  the next send reconnects.
* `UnixDatagramTransport`: a Unix datagram socket (what the DogStatsD agent listens
  on), dropping like UDP.

A socket that could not be made is retried on a send at least `RETRY_SECONDS` later,
so a daemon that is down costs nothing per call but a clock read. Every transport
forgets its socket in a child process after `os.fork()` (an `os.register_at_fork`
hook), so parent and child never share one: the child makes its own on first use.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import logging
import os
import socket
import threading
import time
import weakref

log = logging.getLogger("statsgraph.client")

RETRY_SECONDS = 1.0
# Errors after which the socket stays usable: the packet alone is lost.
_TRANSIENT = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR,
                        errno.ECONNREFUSED, errno.EMSGSIZE, errno.EHOSTUNREACH,
                        errno.ENETUNREACH})
_NOSIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)


def _forget_in_child(ref: weakref.ref) -> None:
    transport = ref()
    if transport is not None:
        transport._after_fork()


class Transport(abc.ABC):
    """What the clients call: `send(data)`, `flush()`, `close()`."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._retry_at = 0.0
        if hasattr(os, "register_at_fork"):
            # A hook cannot be unregistered: it holds only a weak reference.
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _forget_in_child(ref))

    def _after_fork(self) -> None:
        """In the child: drop the socket inherited from the parent (closing the child's
        copy of the descriptor leaves the parent's connection alone) and take a new
        lock, in case another thread of the parent held this one when it forked."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        self._lock = threading.Lock()
        self._retry_at = 0.0

    @abc.abstractmethod
    def send(self, data: bytes) -> None:
        """Send one packet's bytes, or drop them; never raise, never block."""

    def flush(self) -> None:  # noqa: B027 - a no-op is right for datagrams
        """Push out anything buffered (streams); datagrams are never buffered."""

    def close(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _open(self) -> socket.socket | None:
        """The socket, made (and connected) if needed, or None if it cannot be now."""
        with self._lock:
            if self._sock is not None:
                return self._sock
            now = time.monotonic()
            if now < self._retry_at:
                return None
            try:
                self._sock = self._connect()
            except OSError as exc:  # socket.gaierror (DNS) is an OSError
                self._retry_at = now + RETRY_SECONDS
                log.debug("statsd: cannot open %s: %s; dropping", self.describe(), exc)
                return None
            return self._sock

    @abc.abstractmethod
    def _connect(self) -> socket.socket:
        """A new socket for this transport's address (OSError when it cannot be)."""

    @abc.abstractmethod
    def describe(self) -> str:
        """The address, for the debug log."""


class DatagramTransport(Transport):
    def send(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            sock = self._open()
            if sock is None:
                return
        try:
            sock.send(data)
        except OSError as exc:
            self._failed(exc, len(data))

    def _failed(self, exc: OSError, size: int) -> None:
        log.debug("statsd: %d bytes to %s dropped: %s", size, self.describe(), exc)
        if exc.errno not in _TRANSIENT:
            self.close()


class UDPTransport(DatagramTransport):
    def __init__(self, host: str, port: int, ipv6: bool = False) -> None:
        super().__init__()
        self.host = host
        self.port = int(port)
        self.family = socket.AF_INET6 if ipv6 else socket.AF_INET

    def describe(self) -> str:
        return f"udp {self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        family, kind, proto, _, address = socket.getaddrinfo(
            self.host, self.port, self.family, socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        return sock


class UnixDatagramTransport(DatagramTransport):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def describe(self) -> str:
        return f"unixgram {self.path}"

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        return sock

    def _failed(self, exc: OSError, size: int) -> None:
        log.debug("statsd: %d bytes to %s dropped: %s", size, self.describe(), exc)
        # A Unix listener that went away leaves the socket connected to nothing.
        if exc.errno not in _TRANSIENT or exc.errno == errno.ECONNREFUSED:
            self.close()


class StreamTransport(Transport):
    """Newline-framed lines over a stream socket, never blocking (see the module doc)."""

    def __init__(self, max_buffer: int = 65536) -> None:
        super().__init__()
        self.max_buffer = max_buffer
        self._pending = bytearray()

    def _after_fork(self) -> None:
        super()._after_fork()
        self._pending = bytearray()

    def send(self, data: bytes) -> None:
        with self._lock:
            pending = self._pending
            if len(pending) + len(data) + 1 > self.max_buffer:
                log.debug("statsd: %s buffer full; %d bytes dropped", self.describe(),
                          len(data))
            else:
                pending += data
                pending += b"\n"
            self._write()

    def flush(self) -> None:
        with self._lock:
            self._write()

    def close(self) -> None:
        self.flush()
        super().close()
        self._pending = bytearray()

    def _write(self) -> None:
        """Write what the socket takes now; the lock is held."""
        pending = self._pending
        if not pending:
            return
        sock = self._sock
        if sock is None:
            now = time.monotonic()
            if now < self._retry_at:
                pending.clear()
                return
            try:
                sock = self._sock = self._connect()
            except OSError as exc:
                self._retry_at = now + RETRY_SECONDS
                log.debug("statsd: cannot open %s: %s; %d bytes dropped", self.describe(),
                          exc, len(pending))
                pending.clear()
                return
        try:
            sent = sock.send(pending, _NOSIGNAL)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR):
                return  # not connected yet, or the peer is slow: keep it for later
            log.debug("statsd: %s failed: %s; %d bytes dropped", self.describe(), exc,
                      len(pending))
            # A partly written line may be lost with the connection: what is left
            # could start mid-line, so it goes too, and the next connection starts clean.
            pending.clear()
            self._sock = None
            self._retry_at = time.monotonic() + RETRY_SECONDS
            with contextlib.suppress(OSError):
                sock.close()
            return
        del pending[:sent]

    def _stream(self, family: int, address: object) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            error = sock.connect_ex(address)
            if error not in (0, errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
                raise OSError(error, os.strerror(error))
        except OSError:
            sock.close()
            raise
        return sock


class TCPTransport(StreamTransport):
    def __init__(self, host: str, port: int, ipv6: bool = False,
                 max_buffer: int = 65536) -> None:
        super().__init__(max_buffer)
        self.host = host
        self.port = int(port)
        self.family = socket.AF_INET6 if ipv6 else socket.AF_INET

    def describe(self) -> str:
        return f"tcp {self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        family, _, _, _, address = socket.getaddrinfo(
            self.host, self.port, self.family, socket.SOCK_STREAM)[0]
        sock = self._stream(family, address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


class UnixStreamTransport(StreamTransport):
    def __init__(self, path: str, max_buffer: int = 65536) -> None:
        super().__init__(max_buffer)
        self.path = path

    def describe(self) -> str:
        return f"unix {self.path}"

    def _connect(self) -> socket.socket:
        return self._stream(socket.AF_UNIX, self.path)
