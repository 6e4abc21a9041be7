"""CPU time and memory of a process (and its children) from /proc, and a helper to
start and stop daemons for benchmarks.  Linux only.  Not part of the test run."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """Every live descendant of pid."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent_of[int(entry)] = int(_stat_fields(int(entry))[1])
            except (OSError, IndexError, ValueError):
                continue
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent_of.items() if pp == p]
        out += kids
        frontier += kids
    return out


def cpu_seconds(pid: int, tree: bool = True) -> float:
    """utime+stime of pid (all its threads), plus reaped children's (cutime+cstime),
    plus, with tree, every live descendant's."""
    fields = _stat_fields(pid)
    ticks = sum(int(x) for x in fields[11:15])    # utime stime cutime cstime
    if tree:
        for c in children(pid):
            with contextlib.suppress(OSError):
                ticks += sum(int(x) for x in _stat_fields(c)[11:13])
    return ticks / CLK_TCK


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def tree_status_kb(pid: int, key: str) -> tuple[int, int]:
    """(sum of `key` over pid and its live descendants, number of processes)."""
    pids = [pid, *children(pid)]
    total = 0
    for p in pids:
        with contextlib.suppress(OSError):
            total += status_kb(p, key)
    return total, len(pids)


def free_port(kind: int = socket.SOCK_STREAM, also_udp: bool = False) -> int:
    """A currently free loopback port (for TCP, and for UDP too with also_udp)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not also_udp:
            return port
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port found")


def port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


class DaemonProcess:
    """A daemon run in the foreground under this process, output to a log file.

    Subclasses set `label`, build `command()` / `env()` and the work folder.  start()
    waits until every port in `ready_ports` accepts a TCP connection; a daemon that
    exits first, or is not ready in time, raises RuntimeError with its log's tail."""

    label = "daemon"
    startup_timeout = 60.0

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.log_path = workdir / "daemon.log"
        self.proc: subprocess.Popen | None = None
        self.ready_ports: list[int] = []

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict:
        return dict(os.environ)

    def cwd(self) -> str:
        return str(self.workdir)

    def extra_log_text(self) -> str:
        return ""

    def start(self) -> DaemonProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(), cwd=self.cwd(), env=self.env(),
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        pending = list(self.ready_ports)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.label} exited with status {self.proc.returncode} at start "
                    f"(command: {' '.join(self.command())}):\n{self.log_tail()}")
            pending = [p for p in pending if not port_open(p)]
            if not pending:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.label} did not listen on port(s) {pending} within "
                           f"{self.startup_timeout:g} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            code = self.proc.returncode if self.proc is not None else None
            raise RuntimeError(f"{self.label} died (status {code}):\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds (0: SIGKILL at once)."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            if timeout > 0:
                proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout)
            if proc.poll() is None:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
        self._kill_leftovers(proc.pid)
        self.proc = None

    def kill(self) -> None:
        self.stop(timeout=0)

    @staticmethod
    def _kill_leftovers(pid: int) -> None:
        """Kill what is left of the process group this daemon was started in (its
        own session, so nothing else is in it)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            text = ""
        extra = self.extra_log_text()
        if extra:
            text += "\n" + extra
        return text[-chars:].strip() or "(no output)"
