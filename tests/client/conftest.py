"""Real listeners on loopback for the client tests: UDP, TCP, Unix stream and datagram."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for


class DatagramReceiver:
    """A bound datagram socket read by a thread; `packets(n)` waits for n datagrams."""

    def __init__(self, family: int = socket.AF_INET, address: object = ("127.0.0.1", 0)
                 ) -> None:
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(address)
        self.address = self.sock.getsockname()
        self.port = self.address[1] if family == socket.AF_INET else None
        self.lock = threading.Lock()
        self.received: list[tuple[bytes, object]] = []
        self.taken = 0
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data, sender = self.sock.recvfrom(65536)
            except OSError:
                return
            if self.closed:
                return
            with self.lock:
                self.received.append((data, sender))

    def count(self) -> int:
        with self.lock:
            return len(self.received) - self.taken

    def take(self, count: int, timeout: float = 5.0) -> list[tuple[bytes, object]]:
        """The next `count` (datagram, sender) pairs, waiting for them."""
        wait_for(lambda: self.count() >= count, timeout, what=f"{count} datagrams")
        with self.lock:
            taken = self.received[self.taken:self.taken + count]
            self.taken += count
        return taken

    def packets(self, count: int, timeout: float = 5.0) -> list[bytes]:
        return [data for data, _ in self.take(count, timeout)]

    def packet(self) -> bytes:
        return self.packets(1)[0]

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):  # wakes the reading thread
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class StreamReceiver:
    """A listening stream socket that accepts connections and keeps every byte."""

    def __init__(self, family: int = socket.AF_INET, address: object = ("127.0.0.1", 0)
                 ) -> None:
        self.server = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET:
            self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(address)
        self.server.listen(16)
        self.address = self.server.getsockname()
        self.port = self.address[1] if family == socket.AF_INET else None
        self.lock = threading.Lock()
        self.chunks: list[bytes] = []
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                self.connections.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.chunks.append(data)

    def data(self) -> bytes:
        with self.lock:
            return b"".join(self.chunks)

    def wait(self, expected: bytes, timeout: float = 5.0) -> bytes:
        wait_for(lambda: len(self.data()) >= len(expected), timeout,
                 what=f"{expected!r}; got {self.data()!r}")
        return self.data()

    def drop_connections(self) -> None:
        with self.lock:
            for conn in self.connections:
                conn.close()
            self.connections.clear()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accepting thread
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.drop_connections()


@pytest.fixture
def udp() -> Iterator[DatagramReceiver]:
    receiver = DatagramReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def tcp() -> Iterator[StreamReceiver]:
    receiver = StreamReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory for Unix socket paths (they are limited to ~107 bytes)."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="sg-") as name:
        yield Path(name)


@pytest.fixture
def unix_stream(short_tmp: Path) -> Iterator[StreamReceiver]:
    receiver = StreamReceiver(socket.AF_UNIX, str(short_tmp / "stream.sock"))
    yield receiver
    receiver.close()


@pytest.fixture
def unix_dgram(short_tmp: Path) -> Iterator[DatagramReceiver]:
    receiver = DatagramReceiver(socket.AF_UNIX, str(short_tmp / "dgram.sock"))
    yield receiver
    receiver.close()
