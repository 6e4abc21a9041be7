"""A loopback TCP listener that speaks carbon's plaintext protocol, for bench/ scripts.

It records what a statsd daemon flushes: every `name value timestamp` line, per TCP
connection (etsy statsd opens one connection per flush).  Values are kept as the
exact strings sent.  Not part of the test run.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Connection:
    index: int
    opened_at: float
    closed_at: float | None = None
    lines: list[tuple[str, str, str]] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)


class CarbonSink:
    """Threaded plaintext carbon listener on 127.0.0.1.

    on_line(name, value, ts) is called for every well-formed line, from the
    connection's thread.  With keep_lines=False lines are not stored (benchmarks).
    """

    def __init__(self, port: int = 0, on_line: Callable[[str, str, str], None] | None = None,
                 keep_lines: bool = True):
        self.on_line = on_line
        self.keep_lines = keep_lines
        self.connections: list[Connection] = []
        self.cond = threading.Condition()
        self.lines_seen = 0
        sink = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sink._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       name="carbon-sink", daemon=True)

    def start(self) -> CarbonSink:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> CarbonSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _serve(self, sock: socket.socket) -> None:
        with self.cond:
            conn = Connection(index=len(self.connections), opened_at=time.monotonic())
            self.connections.append(conn)
        buf = b""
        try:
            while True:
                chunk = sock.recv(262144)
                if not chunk:
                    break
                buf += chunk
                if b"\n" not in chunk:
                    continue
                complete, _, buf = buf.rpartition(b"\n")
                self._lines(conn, complete.split(b"\n"))
            if buf:
                self._lines(conn, [buf])
        except OSError:
            pass
        finally:
            with self.cond:
                conn.closed_at = time.monotonic()
                self.cond.notify_all()

    def _lines(self, conn: Connection, raw_lines: list[bytes]) -> None:
        on_line = self.on_line
        n = 0
        for raw in raw_lines:
            text = raw.decode("utf-8", errors="surrogateescape")
            parts = text.split(" ")
            if len(parts) != 3:
                if text.strip():
                    conn.malformed.append(text)
                continue
            n += 1
            if self.keep_lines:
                conn.lines.append((parts[0], parts[1], parts[2]))
            if on_line is not None:
                on_line(parts[0], parts[1], parts[2])
        with self.cond:
            self.lines_seen += n
            self.cond.notify_all()

    def wait_closed_connection(self, index: int, timeout: float) -> Connection:
        """Block until connection number `index` (0-based) has been closed."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if index < len(self.connections) and self.connections[index].closed_at is not None:
                    return self.connections[index]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no closed carbon connection #{index} within {timeout}s")
                self.cond.wait(left)
