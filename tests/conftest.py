"""Shared fixtures: free loopback ports, a real carbon listener, daemon subprocesses."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 right now."""
    while True:
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> object:
    """Poll until `predicate()` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


class CarbonListener:
    """A real TCP carbon receiver (plaintext or pickle) that records every point."""

    def __init__(self, port: int, protocol: str = "text") -> None:
        self.port = port
        self.protocol = protocol
        self.points: list[tuple[str, float, int]] = []
        self.lock = threading.Lock()
        self.server: socketserver.ThreadingTCPServer | None = None
        self.connections = 0

    def start(self) -> CarbonListener:
        listener = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                listener.connections += 1
                reader = self.request.makefile("rb")
                if listener.protocol == "pickle":
                    while header := reader.read(4):
                        (size,) = struct.unpack("!L", header)
                        for path, (ts, value) in pickle.loads(reader.read(size)):
                            listener.add(path, float(value), int(ts))
                else:
                    for line in reader:
                        path, value, ts = line.decode().split()
                        listener.add(path, float(value), int(ts))

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def add(self, path: str, value: float, ts: int) -> None:
        with self.lock:
            self.points.append((path, value, ts))

    def values(self, path: str) -> list[float]:
        with self.lock:
            return [v for p, v, _ in self.points if p == path]

    def total(self, path: str) -> float:
        return sum(self.values(path))


@pytest.fixture
def carbon() -> Iterator[CarbonListener]:
    listener = CarbonListener(free_port()).start()
    yield listener
    listener.stop()


class ServiceProcess:
    """A `python -m statsgraph ...` subprocess, ready once `ready_port` accepts."""

    kind = "service"
    ready_port: int

    def __init__(self, command: list[str], tmp: Path) -> None:
        self.log_path = tmp / f"{self.kind}-{self.ready_port}.log"
        self.command = [sys.executable, "-m", "statsgraph", *command]
        self.proc: subprocess.Popen | None = None

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_for(self._up, what=f"{self.kind} on port {self.ready_port}; log: {self.log_path}")
        return self

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.kind} exited: {self.log_path.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", self.ready_port), timeout=1).close()
            return True
        except OSError:
            return False

    def signal(self, number: int) -> None:
        self.proc.send_signal(number)

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


class Daemon(ServiceProcess):
    """`python -m statsgraph statsd` on free ports."""

    kind = "statsd"

    def __init__(self, args: list[str], tmp: Path) -> None:
        self.port = free_port()
        self.admin_port = self.ready_port = free_port()
        super().__init__(["statsd", "--port", str(self.port), "--admin-port",
                          str(self.admin_port), *args], tmp)

    def udp(self, *packets: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for packet in packets:
                sock.sendto(packet, ("127.0.0.1", self.port))

    def admin(self, command: str) -> str:
        with socket.create_connection(("127.0.0.1", self.admin_port), timeout=5) as sock:
            sock.sendall(command.encode() + b"\nquit\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    """Every service process a test starts; those still running are stopped after it."""
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        if process.proc.poll() is None:
            process.stop()


@pytest.fixture
def statsd(tmp_path: Path, processes: list[ServiceProcess]) -> Callable[..., Daemon]:
    def start(*args: str) -> Daemon:
        daemon = Daemon(list(args), tmp_path).start()
        processes.append(daemon)
        return daemon
    return start


class CarbonDaemon(ServiceProcess):
    """`python -m statsgraph carbon` on free ports."""

    kind = "carbon"

    def __init__(self, args: list[str], tmp: Path, storage: Path) -> None:
        self.port = free_port()
        self.pickle_port = free_port()
        self.query_port = self.ready_port = free_port()
        self.storage = storage
        super().__init__(["carbon", "--storage", str(storage), "--port", str(self.port),
                          "--pickle-port", str(self.pickle_port), "--query-port",
                          str(self.query_port), *args], tmp)

    def send_lines(self, *lines: str) -> None:
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.sendall("".join(line + "\n" for line in lines).encode())

    def send_pickle(self, points: list, protocol: int = 2) -> None:
        payload = pickle.dumps(points, protocol=protocol)
        with socket.create_connection(("127.0.0.1", self.pickle_port)) as sock:
            sock.sendall(struct.pack("!L", len(payload)) + payload)

    def query(self, request: dict) -> dict:
        payload = pickle.dumps(request, protocol=2)
        with socket.create_connection(("127.0.0.1", self.query_port), timeout=5) as sock:
            sock.sendall(struct.pack("!L", len(payload)) + payload)
            reader = sock.makefile("rb")
            (size,) = struct.unpack("!L", reader.read(4))
            return pickle.loads(reader.read(size))

    def path(self, metric: str) -> Path:
        return self.storage / (metric.replace(".", "/") + ".wsp")


@pytest.fixture
def carbon_daemon(tmp_path: Path, processes: list[ServiceProcess]
                  ) -> Callable[..., CarbonDaemon]:
    def start(*args: str, storage: Path | None = None) -> CarbonDaemon:
        daemon = CarbonDaemon(list(args), tmp_path, storage or tmp_path / "whisper").start()
        processes.append(daemon)
        return daemon
    return start


class WebDaemon(ServiceProcess):
    """`python -m statsgraph web` on a free port."""

    kind = "web"

    def __init__(self, args: list[str], tmp: Path, storage: Path) -> None:
        self.port = self.ready_port = free_port()
        self.storage = storage
        super().__init__(["web", "--storage", str(storage), "--port", str(self.port),
                          *args], tmp)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def web_daemon(tmp_path: Path, processes: list[ServiceProcess]) -> Callable[..., WebDaemon]:
    def start(*args: str, storage: Path | None = None) -> WebDaemon:
        daemon = WebDaemon(list(args), tmp_path, storage or tmp_path / "whisper").start()
        processes.append(daemon)
        return daemon
    return start
