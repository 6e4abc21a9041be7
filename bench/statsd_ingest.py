#!/usr/bin/env python3
"""statsd ingest benchmark: etsy statsd 0.9.0 against our daemon, side by side.

    python bench/statsd_ingest.py [--duration S] [--quick] [--repeats N]
                                  [--only etsy|ours] [--loads single,multi] [--json FILE]

For each daemon and each load it finds the highest send rate (lines/s) at which at
least 99% of the counts sent arrive at carbon, and reports the CPU seconds the
daemon spent per million lines and its peak RSS.

* Daemons: etsy statsd 0.9.0 (bench/etsy/etsy.py, UDP socket with a 4 MiB receive
  buffer, flushInterval 1000 ms) and ours, started as
  `python -m statsgraph statsd --port P --admin-port 0 --carbon 127.0.0.1:C
  --flush-interval 1 --udp-recv-buffer 4194304`.  Each (daemon, load) pair gets a
  fresh process, so its VmHWM is the peak of that load alone.
* Loads: `single` = one metric per datagram; `multi` = newline-separated metrics
  packed into datagrams of up to 1432 bytes.  Counters only: 1,000 distinct keys
  `bench.k0000`..`bench.k0999`, each line `bench.kNNNN:1|c`, so every line sent
  adds exactly 1 to the sum of the `stats_counts.bench.*` values the daemon flushes
  (legacy namespace).  No timers: their delivery would have to be read from
  `stats.timers.*.count`, and counters alone measure the ingest path.
* Delivery: a TCP carbon listener in this process (bench/carbon_sink.py, its own
  threads) parses every plaintext line and sums `stats_counts.bench.*`.  After the
  senders stop, the script waits until two flushes have arrived and one more flush
  has come after the last change of that sum.
* Generator: one sender process by default (--senders), datagrams prebuilt and
  sent with sendmmsg(2) through ctypes (up to 256 per call; a plain send loop where
  that is missing), paced in 1 ms ticks (each tick sends the datagrams due by then,
  then sleeps).  The
  machine has 2 cores, daemon and generator share them; a trial whose generator
  reached < 98% of the requested rate is marked "gen-limited" and the search does
  not go higher than what the generator managed.
* Search: rates double from a start value until a trial fails, then bisect until
  the bracket is within 10% (25% with --quick).  Each further repeat searches
  locally around the previous best (steps of 10%).  Figures are medians over the
  repeats.  CPU per million lines = (utime+stime delta of /proc/PID/stat over the
  best passing trial, drain included) / lines delivered in that trial.

Not a test: never imported by pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH / "etsy"))
sys.path.insert(0, str(BENCH))

from carbon_sink import CarbonSink  # noqa: E402
from etsy import ETSY_VERSION, EtsyStatsd, ensure_installed  # noqa: E402

N_KEYS = 1000
MTU_PAYLOAD = 1432
RECV_BUFFER = 4 * 1024 * 1024
FLUSH_S = 1.0
PASS_RATIO = 0.99
GEN_OK_RATIO = 0.98
COUNT_PREFIX = "stats_counts.bench."
PROBE_NAME = "stats_counts.benchctl.probe"
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGETS = {  # figure -> (load -> target ratio ours/etsy, "higher is better")
    "rate": ({"single": 2.0, "multi": 1.5}, True),
    "cpu_per_mline": ({"single": 0.5, "multi": 0.5}, False),
}


# ----------------------------------------------------------------------------- load
def build_load(load: str) -> tuple[list[bytes], int]:
    """Prebuilt datagrams, and the number of lines in each (the same for all)."""
    lines = [f"bench.k{i:04d}:1|c".encode() for i in range(N_KEYS)]
    if load == "single":
        return lines, 1
    if load != "multi":
        raise ValueError(load)
    datagrams, counts = [], []
    key = 0
    for _ in range(1000):
        parts, size = [], 0
        while True:
            line = lines[key % N_KEYS]
            extra = len(line) + (1 if parts else 0)
            if size + extra > MTU_PAYLOAD:
                break
            parts.append(line)
            size += extra
            key += 1
        datagrams.append(b"\n".join(parts))
        counts.append(len(parts))
    if len(set(counts)) != 1:
        raise AssertionError(f"datagrams of unequal line counts {sorted(set(counts))}")
    return datagrams, counts[0]


class _BatchSender:
    """sendmmsg(2) through ctypes: up to 256 prebuilt datagrams per system call.

    Twice the datagram rate of a socket.send loop on this kind of machine; falls
    back to that loop where sendmmsg is not available."""

    MAX_BATCH = 256

    def __init__(self, sock: socket.socket, datagrams: list[bytes]):
        import ctypes
        self.ctypes = ctypes
        self.fd = sock.fileno()
        self.n = len(datagrams)
        self.send_one = sock.send
        self.datagrams = datagrams
        self.libc = None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            sendmmsg = libc.sendmmsg
        except (OSError, AttributeError):
            return

        class iovec(ctypes.Structure):
            _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]

        class msghdr(ctypes.Structure):
            _fields_ = [("msg_name", ctypes.c_void_p), ("msg_namelen", ctypes.c_uint32),
                        ("msg_iov", ctypes.POINTER(iovec)), ("msg_iovlen", ctypes.c_size_t),
                        ("msg_control", ctypes.c_void_p), ("msg_controllen", ctypes.c_size_t),
                        ("msg_flags", ctypes.c_int)]

        class mmsghdr(ctypes.Structure):
            _fields_ = [("msg_hdr", msghdr), ("msg_len", ctypes.c_uint)]

        sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
        sendmmsg.restype = ctypes.c_int
        self.bufs = [ctypes.create_string_buffer(d, len(d)) for d in datagrams]
        self.iovs = (iovec * self.n)()
        self.msgs = (mmsghdr * self.n)()
        for i, buf in enumerate(self.bufs):
            self.iovs[i].iov_base = ctypes.addressof(buf)
            self.iovs[i].iov_len = len(datagrams[i])
            self.msgs[i].msg_hdr.msg_iov = ctypes.pointer(self.iovs[i])
            self.msgs[i].msg_hdr.msg_iovlen = 1
        self.base = ctypes.addressof(self.msgs)
        self.size = ctypes.sizeof(mmsghdr)
        self.libc = sendmmsg

    def send(self, start: int, count: int) -> tuple[int, int]:
        """Send `count` datagrams from index `start` (cyclic).  -> (sent, errors)."""
        sent = 0
        i = start
        if self.libc is None:
            for _ in range(count):
                try:
                    self.send_one(self.datagrams[i])
                except OSError:
                    return sent, 1
                sent += 1
                i = (i + 1) % self.n
            return sent, 0
        while sent < count:
            k = min(count - sent, self.MAX_BATCH, self.n - i)
            r = self.libc(self.fd, self.base + i * self.size, k, 0)
            if r <= 0:              # ENOBUFS/EAGAIN: give up until the next tick
                return sent, 1
            sent += r
            i = (i + r) % self.n
        return sent, 0


def sender_main(address, datagrams, lines_per_datagram, rate_lines, duration, start_at, offset,
                out):
    """One sender process: pace `rate_lines` lines/s for `duration` seconds, in 1 ms ticks."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    sock.connect(address)
    sender = _BatchSender(sock, datagrams)
    n = len(datagrams)
    i = offset % n
    rate_dgrams = rate_lines / lines_per_datagram
    sent_dgrams = errors = 0
    tick = 0.001
    clock = time.perf_counter
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    t0 = clock()
    while True:
        now = clock() - t0
        if now >= duration:
            break
        due = int(rate_dgrams * min(duration, now + tick))
        if due > sent_dgrams:
            sent, err = sender.send(i, due - sent_dgrams)
            sent_dgrams += sent
            errors += err
            i = (i + sent) % n
        left = tick * (math.floor(now / tick) + 1) - (clock() - t0)
        if left > 0:
            time.sleep(left)
    elapsed = clock() - t0
    sock.close()
    out.put((sent_dgrams * lines_per_datagram, sent_dgrams, errors, elapsed))


# ------------------------------------------------------------------ carbon counting
class Tally:
    """Sums stats_counts.bench.* from the carbon sink and notices flushes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.total = 0.0
        self.last_change = 0.0
        self.seen_ts: set[str] = set()
        self.flush_arrivals: list[float] = []   # arrival time of each new timestamp
        self.probe = 0.0
        self.bad_values = 0

    def on_line(self, name: str, value: str, ts: str) -> None:
        now = time.monotonic()
        with self.lock:
            if ts not in self.seen_ts:
                self.seen_ts.add(ts)
                self.flush_arrivals.append(now)
            if name.startswith(COUNT_PREFIX):
                try:
                    v = float(value)
                except ValueError:
                    self.bad_values += 1
                    return
                if v:
                    self.total += v
                    self.last_change = now
            elif name == PROBE_NAME:
                with contextlib.suppress(ValueError):
                    self.probe += float(value)

    def snapshot(self) -> tuple[float, float, list[float]]:
        with self.lock:
            return self.total, self.last_change, list(self.flush_arrivals)


# ------------------------------------------------------------------------ daemons
def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK   # utime, stime


def machine_cpu_ticks() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    steal = fields[7] if len(fields) > 7 else 0
    return steal, sum(fields[:8])


def proc_status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def free_udp_tcp_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def repo_env() -> dict:
    """The environment with the checkout first on PYTHONPATH (so `-m statsgraph` is ours)."""
    env = dict(os.environ)
    parts = [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


class EtsyDaemon:
    label = f"etsy {ETSY_VERSION}"

    def __init__(self, carbon_port: int):
        self.etsy = EtsyStatsd(carbon_port, {"flushInterval": int(FLUSH_S * 1000)},
                               recv_buffer=RECV_BUFFER)

    def start(self):
        self.etsy.start()
        self.pid = self.etsy.pid
        self.address = self.etsy.udp_address
        self.note = f"rcvbuf granted {self.etsy.recv_buffer_granted} B"

    def alive(self) -> bool:
        return self.etsy.proc is not None and self.etsy.proc.poll() is None

    def stop(self):
        self.etsy.stop()

    def log_tail(self) -> str:
        return self.etsy.log_text()[-2000:]


class OurDaemon:
    label = "ours"

    def __init__(self, carbon_port: int):
        self.carbon_port = carbon_port
        self.proc = None
        self.tmp = Path(tempfile.mkdtemp(prefix="statsgraph-bench-"))

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "statsgraph", "statsd", "--port", str(port),
                "--admin-port", "0", "--carbon", f"127.0.0.1:{self.carbon_port}",
                "--flush-interval", str(int(FLUSH_S)), "--udp-recv-buffer", str(RECV_BUFFER)]

    def start(self):
        port = free_udp_tcp_port()
        env = repo_env()
        self.log_path = self.tmp / "ours.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(port), cwd=str(REPO), env=env,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.address = ("127.0.0.1", port)
        self.note = " ".join(self.command(port)[1:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


# ------------------------------------------------------------------------- trials
@dataclass
class Trial:
    requested: float
    achieved: float          # lines/s the generator really sent
    sent: int
    delivered: float
    ratio: float
    cpu_s: float
    gen_limited: bool
    send_errors: int
    drain_s: float
    drain_timeout: bool

    @property
    def passed(self) -> bool:
        return self.ratio >= PASS_RATIO and not self.drain_timeout

    @property
    def cpu_per_mline(self) -> float:
        return self.cpu_s / self.delivered * 1e6 if self.delivered else float("nan")


class Bench:
    def __init__(self, daemon, tally: Tally, load: str, duration: float, senders: int,
                 verbose: bool = True):
        self.daemon = daemon
        self.tally = tally
        self.load = load
        self.duration = duration
        self.senders = senders
        self.verbose = verbose
        self.datagrams, self.lines_per_datagram = build_load(load)
        self.ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.trials: list[Trial] = []

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.daemon.alive():
                raise RuntimeError(f"{self.daemon.label} exited:\n{self.daemon.log_tail()}")
            self.ctl.sendto(b"benchctl.probe:1|c", self.daemon.address)
            if self.tally.probe > 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.daemon.label}: no flush with the probe counter within "
                           f"{timeout}s:\n{self.daemon.log_tail()}")

    def _drain(self, send_end: float, timeout: float = 20.0) -> tuple[float, bool]:
        """Wait for >= 2 flushes after send_end and 1 flush after the last change."""
        deadline = send_end + timeout
        next_hb = 0.0
        while True:
            now = time.monotonic()
            _, last_change, arrivals = self.tally.snapshot()
            after_end = [a for a in arrivals if a > send_end]
            if len(after_end) >= 2 and any(a > last_change for a in after_end):
                return now - send_end, False
            if now > deadline:
                return now - send_end, True
            if now >= next_hb:   # keeps flushes coming even if idle keys are deleted
                self.ctl.sendto(b"benchctl.hb:1|c", self.daemon.address)
                next_hb = now + 0.25
            time.sleep(0.02)

    def trial(self, rate: float, duration: float | None = None, record: bool = True) -> Trial:
        duration = duration or self.duration
        if not self.daemon.alive():
            raise RuntimeError(f"{self.daemon.label} died:\n{self.daemon.log_tail()}")
        total0, _, _ = self.tally.snapshot()
        cpu0 = proc_cpu_seconds(self.daemon.pid)
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        start_at = time.time() + 0.2
        procs = [ctx.Process(target=sender_main,
                             args=(self.daemon.address, self.datagrams, self.lines_per_datagram,
                                   rate / self.senders, duration, start_at,
                                   k * len(self.datagrams) // self.senders, out))
                 for k in range(self.senders)]
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
        send_end = time.monotonic()
        drain_s, timed_out = self._drain(send_end)
        total1, _, _ = self.tally.snapshot()
        cpu1 = proc_cpu_seconds(self.daemon.pid)
        sent = sum(r[0] for r in results)
        elapsed = max(r[3] for r in results)
        achieved = sent / elapsed if elapsed else 0.0
        delivered = total1 - total0
        t = Trial(requested=rate, achieved=achieved, sent=sent, delivered=delivered,
                  ratio=delivered / sent if sent else 0.0, cpu_s=cpu1 - cpu0,
                  gen_limited=achieved < GEN_OK_RATIO * rate,
                  send_errors=sum(r[2] for r in results), drain_s=drain_s,
                  drain_timeout=timed_out)
        if record:
            self.trials.append(t)
        if self.verbose:
            flags = []
            if t.gen_limited:
                flags.append("gen-limited")
            if t.send_errors:
                flags.append(f"{t.send_errors} send errors")
            if t.drain_timeout:
                flags.append("drain timeout")
            print(f"    {self.daemon.label:<11} {self.load:<6} req {rate:>11,.0f}/s "
                  f"sent {achieved:>11,.0f}/s  delivered {100 * t.ratio:6.2f}%  "
                  f"cpu {t.cpu_s:5.2f}s  {'PASS' if t.passed else 'fail'} {' '.join(flags)}",
                  flush=True)
        return t

    # -- searches ------------------------------------------------------------
    def full_search(self, start: float, cap: float, precision: float) -> Trial | None:
        best: Trial | None = None
        rate = start
        fail_rate = None
        while rate <= cap:
            t = self.trial(rate)
            if t.passed:
                best = t
                if t.gen_limited:       # cannot push harder than the generator
                    return best
                rate *= 2
            else:
                fail_rate = min(rate, t.achieved) if t.gen_limited else rate
                break
        if best is None:
            # even the start rate failed: walk down
            rate = start
            while rate > 100:
                rate /= 2
                t = self.trial(rate)
                if t.passed:
                    best = t
                    fail_rate = rate * 2
                    break
            if best is None:
                return None
        if fail_rate is None:
            return best
        lo, hi = best.requested, fail_rate
        while hi / lo > 1 + precision:
            mid = math.sqrt(lo * hi)
            t = self.trial(mid)
            if t.passed:
                best, lo = (t if t.achieved > best.achieved else best), mid
                if t.gen_limited:
                    break
            else:
                hi = mid
        return best

    def local_search(self, around: float, step: float = 1.1, max_steps: int = 4) -> Trial | None:
        t = self.trial(around)
        if t.passed:
            best = t
            rate = around
            for _ in range(max_steps):
                if best.gen_limited:
                    break
                rate *= step
                t = self.trial(rate)
                if not t.passed:
                    break
                best = t
            return best
        rate = around
        for _ in range(max_steps):
            rate /= step
            t = self.trial(rate)
            if t.passed:
                return t
        return None


@dataclass
class Result:
    daemon: str
    load: str
    rates: list[float] = field(default_factory=list)
    cpu_per_mline: list[float] = field(default_factory=list)
    gen_limited: list[bool] = field(default_factory=list)
    peak_rss_kb: int = 0
    note: str = ""
    error: str = ""

    def median(self, what: str) -> float:
        vals = [v for v in getattr(self, what) if not math.isnan(v)]
        return statistics.median(vals) if vals else float("nan")


def run_pair(daemon_cls, load: str, args) -> Result:
    tally = Tally()
    sink = CarbonSink(on_line=tally.on_line, keep_lines=False).start()
    daemon = daemon_cls(sink.port)
    result = Result(daemon=daemon.label, load=load)
    try:
        daemon.start()
        result.note = daemon.note
        bench = Bench(daemon, tally, load, args.duration, args.senders)
        bench.wait_ready()
        # warm-up: creates every key before anything is measured
        bench.trial(2000 if load == "single" else 20000, duration=1.0, record=False)
        if load == "single":
            start, cap = args.start_single, args.cap_single
        else:
            start, cap = args.start_multi, args.cap_multi
        best = bench.full_search(start, cap, args.precision)
        for rep in range(args.repeats):
            if rep > 0:
                if best is None:
                    break
                best = bench.local_search(best.requested)
            if best is None:
                continue
            result.rates.append(best.achieved)
            result.cpu_per_mline.append(best.cpu_per_mline)
            result.gen_limited.append(best.gen_limited)
        result.peak_rss_kb = proc_status_kb(daemon.pid, "VmHWM")
        if tally.bad_values:
            result.note += f"; {tally.bad_values} unparsable values"
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        print(f"  {daemon.label} {load}: {result.error}", flush=True)
    finally:
        daemon.stop()
        sink.stop()
    return result


# ------------------------------------------------------------------------- report
def fmt(value: float, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "rate":
        return f"{value:,.0f}"
    if kind == "cpu":
        return f"{value:.2f}"
    return f"{value:.1f}"


def _figure(r: Result | None, attr: str | None) -> float:
    if r is None or r.error:
        return float("nan")
    if attr is None:
        return r.peak_rss_kb / 1024 if r.peak_rss_kb else float("nan")
    return r.median(attr)


def _target_text(target_key: str | None, load: str, ratio: float) -> str:
    if not target_key:
        return ""
    goals, higher = TARGETS[target_key]
    goal = goals[load]
    text = f"{'>=' if higher else '<='} {goal:g}x"
    if not math.isnan(ratio):
        met = ratio >= goal if higher else ratio <= goal
        text += "  met" if met else "  NOT met"
    return text


def report(results: list[Result], args) -> str:
    by = {(r.daemon, r.load): r for r in results}
    labels = [f"etsy {ETSY_VERSION}", "ours"]
    lines = [
        f"statsd ingest: {N_KEYS} counter keys, flush {FLUSH_S:g} s, pass = >= "
        f"{PASS_RATIO:.0%} of counts delivered, {args.duration:g} s per trial, "
        f"{args.repeats} repeat(s), medians; {args.senders} sender process(es), "
        f"{os.cpu_count()} cores",
    ]
    head = f"{'load':<7}{'figure':<24}{labels[0]:>14}{labels[1]:>14}{'ours/etsy':>11}  target"
    lines += [head, "-" * (len(head) + 12)]
    rows = [  # title, format kind, Result attribute (None = peak RSS), target key
        ("max rate (lines/s)", "rate", "rates", "rate"),
        ("CPU s per M lines", "cpu", "cpu_per_mline", "cpu_per_mline"),
        ("peak RSS (MiB)", "rss", None, None),
    ]
    for load in args.loads:
        pair = [by.get((label, load)) for label in labels]
        for title, kind, attr, target_key in rows:
            values = [_figure(r, attr) for r in pair]
            cells = []
            for r, v in zip(pair, values, strict=True):
                cell = fmt(v, kind)
                if kind == "rate" and r is not None and any(r.gen_limited):
                    cell = ">=" + cell + "*"
                cells.append(cell)
            ev, ov = values
            ratio = ov / ev if ev and not (math.isnan(ev) or math.isnan(ov)) else float("nan")
            ratio_text = "n/a" if math.isnan(ratio) else f"{ratio:.2f}x"
            lines.append(f"{load:<7}{title:<24}{cells[0]:>14}{cells[1]:>14}{ratio_text:>11}  "
                         f"{_target_text(target_key, load, ratio)}".rstrip())
    lines.append("* = in some repeat the generator could not send faster (gen-limited): "
                 "a lower bound.")
    for r in results:
        if r.error:
            lines.append(f"{r.daemon} {r.load}: not measured ({r.error.splitlines()[0]})")
        else:
            reps = ", ".join(f"{x:,.0f}" for x in r.rates)
            cpus = ", ".join(f"{x:.2f}" for x in r.cpu_per_mline)
            lines.append(f"{r.daemon} {r.load}: best rate per repeat {reps}; "
                         f"CPU s/M lines {cpus}; {r.note}")
    return "\n".join(lines)


def ours_available() -> str | None:
    env = repo_env()
    try:
        p = subprocess.run([sys.executable, "-m", "statsgraph", "statsd", "--help"], cwd=str(REPO),
                           env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if p.returncode != 0 or "--udp-recv-buffer" not in p.stdout:
        tail = (p.stderr or p.stdout).strip().splitlines()
        return tail[-1] if tail else f"exit status {p.returncode}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of sending per trial (default 3, --quick 1.5)")
    parser.add_argument("--quick", action="store_true",
                        help="shorter trials, one repeat, coarser search (about 2-3 minutes)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per daemon and load (default 3, --quick 1)")
    parser.add_argument("--senders", type=int, default=1, help="sender processes (default 1)")
    parser.add_argument("--only", choices=["etsy", "ours"], help="measure one daemon only")
    parser.add_argument("--loads", default="single,multi", help="comma-separated: single,multi")
    parser.add_argument("--start-single", type=float, default=10000)
    parser.add_argument("--start-multi", type=float, default=50000)
    parser.add_argument("--cap-single", type=float, default=1_000_000)
    parser.add_argument("--cap-multi", type=float, default=20_000_000)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    args.duration = args.duration or (1.5 if args.quick else 3.0)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.precision = 0.25 if args.quick else 0.10
    args.loads = [x for x in args.loads.split(",") if x]
    for load in args.loads:
        if load not in ("single", "multi"):
            parser.error(f"unknown load {load!r}")

    daemons = []
    if args.only in (None, "etsy"):
        ensure_installed()
        daemons.append(EtsyDaemon)
    if args.only in (None, "ours"):
        why = ours_available()
        if why:
            print(f"our daemon is not runnable yet ({why}); measuring etsy only", flush=True)
        else:
            daemons.append(OurDaemon)
    results = []
    t0 = time.monotonic()
    steal0, total0 = machine_cpu_ticks()
    for load in args.loads:
        for cls in daemons:
            print(f"== {cls.label} / {load}", flush=True)
            results.append(run_pair(cls, load, args))
    steal1, total1 = machine_cpu_ticks()
    steal_pct = 100 * (steal1 - steal0) / max(1, total1 - total0)
    print(f"\n(total {time.monotonic() - t0:.0f} s; CPU time stolen by the hypervisor "
          f"during the run: {steal_pct:.1f}%)\n")
    print(report(results, args))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0 if not any(r.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
