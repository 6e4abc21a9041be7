"""Start and stop etsy statsd 0.9.0 (installed by npm in this folder) for benchmarks
and golden-file recording.  Not part of the test run.

    from etsy import EtsyStatsd          # with bench/etsy on sys.path
    with EtsyStatsd(graphite_port=2003, config={"flushInterval": 1000}) as etsy:
        send_udp(("127.0.0.1", etsy.udp_port), b"gorets:1|c")

The process runs `node node_modules/statsd/stats.js CONFIG.js` with a config file
written into a temporary directory.  Its UDP listener is ./udp_bigbuf.js (our own
server module, which asks for a large kernel receive buffer), bound to 127.0.0.1 on
the given port (0 = let the kernel choose; the chosen port is read back from the
module's "listening" line).  Flushes go to graphiteHost 127.0.0.1:graphite_port over
the plaintext protocol.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
STATS_JS = NODE_MODULES / "statsd" / "stats.js"
UDP_SERVER_JS = HERE / "udp_bigbuf.js"
ETSY_VERSION = "0.9.0"
DEFAULT_RECV_BUFFER = 4 * 1024 * 1024

# Config keys that only wire the process to its sockets; everything else is semantics.
HARNESS_KEYS = frozenset({
    "port", "address", "mgmt_port", "mgmt_address", "graphiteHost", "graphitePort",
    "servers", "backends", "automaticConfigReload",
})

_LISTENING_RE = re.compile(r"udp_bigbuf: listening (\S+):(\d+) rcvbuf=(\d+)")


def ensure_installed(quiet: bool = False) -> None:
    """Run `npm install` here if etsy statsd is not installed yet."""
    if STATS_JS.exists():
        return
    if shutil.which("npm") is None:
        raise RuntimeError("npm not found: etsy statsd cannot be installed")
    cmd = ["npm", "install", "--no-audit", "--no-fund"]
    if not quiet:
        print("installing etsy statsd:", " ".join(cmd), "in", HERE, flush=True)
    subprocess.run(cmd, cwd=HERE, check=True,
                   stdout=subprocess.DEVNULL if quiet else None)
    if not STATS_JS.exists():
        raise RuntimeError(f"npm install did not produce {STATS_JS}")
    installed = json.loads((NODE_MODULES / "statsd" / "package.json").read_text())
    if installed.get("version") != ETSY_VERSION:
        raise RuntimeError(f"expected statsd {ETSY_VERSION}, got {installed.get('version')}")


def free_tcp_port() -> int:
    """A currently free loopback TCP port (small race window; fine for a bench)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_js_literal(config: dict) -> str:
    """JSON is a valid JS object literal; etsy `eval`s the file (lib/config.js)."""
    return json.dumps(config, indent=2) + "\n"


class EtsyStatsd:
    """One etsy statsd process.  Use as a context manager or call start()/stop()."""

    def __init__(self, graphite_port: int, config: dict | None = None, *,
                 udp_port: int = 0, mgmt_port: int | None = None,
                 graphite_host: str = "127.0.0.1",
                 recv_buffer: int = DEFAULT_RECV_BUFFER,
                 workdir: str | os.PathLike | None = None,
                 startup_timeout: float = 20.0):
        self.graphite_host = graphite_host
        self.graphite_port = graphite_port
        self.semantic_config = dict(config or {})
        self.requested_udp_port = udp_port
        self.mgmt_port = mgmt_port if mgmt_port else free_tcp_port()
        self.recv_buffer = recv_buffer
        self.startup_timeout = startup_timeout
        self._own_tmp = workdir is None
        self.workdir = Path(workdir) if workdir else None
        self.proc: subprocess.Popen | None = None
        self.udp_port: int | None = None
        self.recv_buffer_granted: int | None = None
        self.log_path: Path | None = None
        self.config_path: Path | None = None

    # -- config ---------------------------------------------------------------
    def full_config(self) -> dict:
        cfg = {
            "address": "127.0.0.1",
            "port": self.requested_udp_port,
            "mgmt_address": "127.0.0.1",
            "mgmt_port": self.mgmt_port,
            "graphiteHost": self.graphite_host,
            "graphitePort": self.graphite_port,
            "backends": ["./backends/graphite"],
            "servers": [{
                "server": str(UDP_SERVER_JS),
                "address": "127.0.0.1",
                "port": self.requested_udp_port,
                "recvBufferSize": self.recv_buffer,
            }],
            "automaticConfigReload": False,
        }
        for key, value in self.semantic_config.items():
            if key in HARNESS_KEYS:
                raise ValueError(f"config key {key!r} is set by the harness")
            cfg[key] = value
        return cfg

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> EtsyStatsd:
        ensure_installed()
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="etsy-statsd-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "config.js"
        self.config_path.write_text(to_js_literal(self.full_config()))
        self.log_path = self.workdir / "etsy.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                ["node", str(STATS_JS), str(self.config_path)],
                cwd=str(STATS_JS.parent), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"etsy statsd exited with {self.proc.returncode}:\n"
                                   + self.log_text()[-4000:])
            if self.udp_port is None:
                m = _LISTENING_RE.search(self.log_text())
                if m:
                    self.udp_port = int(m.group(2))
                    self.recv_buffer_granted = int(m.group(3))
            if self.udp_port is not None and self._mgmt_up():
                return
            time.sleep(0.02)
        raise RuntimeError("etsy statsd did not come up:\n" + self.log_text()[-4000:])

    def _mgmt_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.mgmt_port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._own_tmp and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> EtsyStatsd:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers --------------------------------------------------------------
    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def udp_address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.udp_port)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace") if self.log_path else ""
        except FileNotFoundError:
            return ""

    def mgmt(self, command: str, timeout: float = 2.0, end_marker: bytes | None = None) -> str:
        """Send one management command and return what came back.

        etsy treats every TCP chunk as one command and never closes the
        connection itself (except for `quit`), so we read until `end_marker`
        (default: "END\\n\\n" for the commands that print it) or a short silence.
        """
        with socket.create_connection(("127.0.0.1", self.mgmt_port), timeout=timeout) as s:
            s.sendall(command.encode())
            data = b""
            s.settimeout(0.3)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if end_marker and data.endswith(end_marker):
                    break
                try:
                    chunk = s.recv(65536)
                except TimeoutError:
                    if data:
                        break
                    continue
                if not chunk:
                    break
                data += chunk
            return data.decode(errors="replace")
