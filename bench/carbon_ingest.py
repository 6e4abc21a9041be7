#!/usr/bin/env python3
"""carbon ingest benchmark: carbon-cache 1.1.10, our store, and bare whisper, side by side.

    python bench/carbon_ingest.py [--quick] [--json FILE] [--repeats N]
                                  [--only carbon,ours,ceiling] [--modes line,pickle]
                                  [--workloads 10000x60,1000x60] [--no-memory]
                                  [--ours-set KEY=VALUE] [--carbon-set KEY=VALUE]

What runs (each (daemon, workload, mode, repeat) in a fresh process and a fresh
temporary data folder):

* carbon-cache 1.1.10, installed by pip into bench/carbon/.venv (git-ignored; made on
  first use, see bench/carbon/carbon_cache.py), run in the foreground with a
  carbon.conf that is the [cache] section of carbon's carbon.conf.example except for
  the settings printed at the top of the report (MAX_CREATES_PER_MINUTE = inf,
  MAX_UPDATES_PER_SECOND = inf, LOG_UPDATES/LOG_CREATES/LOG_CACHE_HITS = False,
  CARBON_METRIC_INTERVAL = 0, loopback interfaces, free ports, folders in the
  temporary directory).
* ours: `python -m statsgraph carbon --storage DIR --port P --pickle-port Q
  --query-port 0 --config CONF`, CONF's [carbon] section holding
  max_updates_per_second = inf, max_creates_per_minute = inf, carbon_metric_interval = 0.
* the ceiling: bench/carbon/ceiling.py, a bare loop of whisper.update_many (one call per
  metric with all its points), run by the venv's Python in its own process; first with
  whisper.create before each file (fallocate, as carbon.conf.example creates them),
  then over the existing files.
* Both daemons get the same storage-schemas.conf (one rule `.*`, retentions 10s:1d) and
  storage-aggregation.conf (`.*`, average, xFilesFactor 0.5 = whisper's default).

Workloads: N metrics x 60 points at a 10 s step ending at the current 10 s boundary
(bench/carbon/workload.py), sent in flush order (timestamp by timestamp) over one TCP
connection as fast as the server reads: plaintext lines, or pickle frames of 500
datapoints (protocol 2, 4-byte length).  Run 1 creates the files; run 2 sends the same
names again with new timestamps (the next 10 s boundary at least) and new values.

Figures per daemon, workload, mode and run:
* accepted points/s = points / (first byte sent .. sendall returned, write side shut,
  and the server closed the connection, i.e. it had read everything);
* committed points/s = points / (first byte sent .. every point read back from its
  whisper file by whisper.fetch with this run's value); the read-back re-reads only the
  files not yet complete and sleeps as long as each pass took (10-250 ms), so it takes
  at most about half of one core;
* CPU s = utime+stime of the daemon (with its threads and any child processes) from
  the first byte sent to the last point committed; peak RSS = VmHWM after the run.

Memory per cached point: each daemon started with writes held back (carbon-cache
MAX_UPDATES_PER_SECOND = 1, ours max_updates_per_second = 0.001), sent 1,000 metrics x
600 points over plaintext; (VmRSS 1.5 s after the connection closed - VmRSS before) /
points still in the cache (points sent - points already readable from whisper).

Medians over the repeats (3; 1 with --quick), each repeat's figures listed below them.
Targets: ours >= 2x carbon-cache in accepted and committed points/s on both runs; ours
<= 1/3 of carbon-cache's bytes per cached point.  Where even the ceiling commits less
than 2x carbon-cache (run 1, where whisper.create's file system work dominates), the
report says so.  A default run takes about 8 minutes on 2 cores, --quick about 3.
Ctrl-C or SIGTERM stops it: daemons are killed, temporary data removed, and what was
measured is reported.  Not a test: never imported by pytest.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH / "carbon"))

from carbon_cache import (  # noqa: E402
    CARBON_VERSION,
    STORAGE_AGGREGATION,
    STORAGE_SCHEMAS,
    CarbonCache,
    ensure_venv,
    venv_versions,
)
from ours import OUR_SETTINGS, OurStore, ours_available  # noqa: E402
from procstat import cpu_seconds, tree_status_kb  # noqa: E402
from workload import RETENTIONS, STEP, CommitChecker, Workload, aligned_now  # noqa: E402

CARBON = f"carbon-cache {CARBON_VERSION}"
OURS = "ours"
CEILING = "ceiling"
MODES = ("line", "pickle")
MEMORY_WORKLOAD = (1000, 600)
CARBON_HELD_BACK = {"MAX_UPDATES_PER_SECOND": "1"}
OURS_HELD_BACK = {"max_updates_per_second": "0.001"}
SEND_TIMEOUT = 300.0          # whole sendall
CLOSE_TIMEOUT = 60.0          # server closing after our write side is shut
STALL_TIMEOUT = 45.0          # no new point committed for this long: give up
TARGET_RATE = 2.0             # ours/carbon, accepted and committed, both runs
TARGET_MEMORY = 1 / 3         # ours/carbon bytes per cached point

_LIVE: list = []              # daemons to kill whatever happens


def _kill_all() -> None:
    while _LIVE:
        d = _LIVE.pop()
        try:
            d.kill()
        except Exception as exc:
            print(f"could not kill {d.label} (pid {getattr(d.proc, 'pid', '?')}): {exc}",
                  file=sys.stderr)


atexit.register(_kill_all)


def _on_signal(signum, _frame):
    """SIGTERM/SIGHUP: stop like Ctrl-C (daemons killed, what was measured reported)."""
    raise KeyboardInterrupt(f"signal {signum}")


# ---------------------------------------------------------------------- records
@dataclass
class Trial:
    target: str
    mode: str
    workload: str
    run: int                  # 1 = files created, 2 = files exist
    repeat: int
    points: int = 0
    accept_s: float = float("nan")
    commit_s: float = float("nan")
    cpu_s: float = float("nan")
    peak_rss_kb: int = 0
    committed_points: int = 0
    error: str = ""
    note: str = ""

    @property
    def accepted_pps(self) -> float:
        return self.points / self.accept_s if self.accept_s > 0 else float("nan")

    @property
    def committed_pps(self) -> float:
        if self.error or not self.commit_s > 0:
            return float("nan")
        return self.points / self.commit_s


@dataclass
class MemoryTrial:
    target: str
    repeat: int
    points_sent: int = 0
    points_cached: int = 0
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    peak_rss_kb: int = 0
    accept_s: float = float("nan")
    error: str = ""
    note: str = ""

    @property
    def bytes_per_point(self) -> float:
        if self.error or self.points_cached <= 0:
            return float("nan")
        return (self.rss_after_kb - self.rss_before_kb) * 1024 / self.points_cached


@dataclass
class Context:
    args: argparse.Namespace
    venv: Path | None
    tmp_root: Path
    trials: list[Trial] = field(default_factory=list)
    memory: list[MemoryTrial] = field(default_factory=list)
    marker: int = 0
    notes: list[str] = field(default_factory=list)

    def next_workload(self, metrics: int, points: int, after: Workload | None = None
                      ) -> Workload:
        """A new value marker, and the current 10 s boundary as the newest timestamp;
        later than `after`'s (the previous run into the same files), waiting for the
        next boundary when needed."""
        base = aligned_now()
        if after is not None and base <= after.base:
            time.sleep(max(0.0, after.base + STEP - time.time()) + 0.05)
            base = aligned_now()
        self.marker += 1
        return Workload(metrics, points, base, self.marker)


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------- sending
def send_payload(port: int, payload: bytes) -> tuple[float, float, str]:
    """Send payload over one connection; shut our side; wait for the server to close.

    -> (t_first_byte, t_closed) on the monotonic clock, and a note."""
    note = ""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(SEND_TIMEOUT)    # a total budget for sendall (Python >= 3.5)
        t0 = time.monotonic()
        try:
            sock.sendall(payload)
        except TimeoutError as exc:
            raise RuntimeError(f"sendall did not finish within {SEND_TIMEOUT:g} s "
                               "(server stopped reading?)") from exc
        t_sent = time.monotonic()
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(CLOSE_TIMEOUT)
        try:
            while sock.recv(65536):
                pass
            t1 = time.monotonic()
        except ConnectionResetError:
            t1 = time.monotonic()
        except TimeoutError:
            t1 = t_sent
            note = (f"server did not close the connection within {CLOSE_TIMEOUT:g} s of "
                    "our shutdown; accepted time = sendall return")
    finally:
        sock.close()
    return t0, t1, note


def wait_committed(checker: CommitChecker, t0: float, daemon=None,
                   stall_timeout: float = STALL_TIMEOUT) -> float:
    """Read back until every point is there.  -> monotonic time of the last one found.
    Raises RuntimeError on a stall or a dead daemon."""
    last_count, last_progress = -1, time.monotonic()
    while True:
        p0 = time.monotonic()
        done_at = checker.check_pass()
        p1 = time.monotonic()
        if checker.complete:
            return done_at if done_at is not None else p1
        count = checker.committed
        if count > last_count:
            last_count, last_progress = count, p1
        elif p1 - last_progress > stall_timeout:
            raise RuntimeError(
                f"stalled: {count:,} of {checker.w.total:,} points readable after "
                f"{p1 - t0:.0f} s, none new for {stall_timeout:g} s"
                + (f"; fetch errors {checker.errors}" if checker.errors else ""))
        if daemon is not None:
            daemon.check_alive()
        time.sleep(min(0.25, max(0.01, p1 - p0)))


# ---------------------------------------------------------------------- daemons
def make_daemon(ctx: Context, target: str, workdir: Path, held_back: bool = False):
    if target == CARBON:
        over = dict(ctx.args.carbon_set)
        if held_back:
            over.update(CARBON_HELD_BACK)
        return CarbonCache(ctx.venv, workdir, overrides=over, retentions=RETENTIONS)
    extra = dict(ctx.args.ours_set)
    if held_back:
        extra.update(OURS_HELD_BACK)
    return OurStore(workdir, extra=extra, retentions=RETENTIONS)


def run_daemon(ctx: Context, target: str, metrics: int, points: int, mode: str,
               repeat: int) -> list[Trial]:
    wl_name = f"{metrics}x{points}"
    trials = [Trial(target, mode, wl_name, run, repeat) for run in (1, 2)]
    workdir = Path(tempfile.mkdtemp(prefix=f"{target.split()[0]}-", dir=ctx.tmp_root))
    daemon = make_daemon(ctx, target, workdir)
    try:
        _LIVE.append(daemon)
        daemon.start()
        port = daemon.line_port if mode == "line" else daemon.pickle_port
        w = None
        for t in trials:
            w = ctx.next_workload(metrics, points, after=w)
            payload = w.plaintext() if mode == "line" else w.pickle_frames()
            t.points = w.total
            checker = CommitChecker(str(daemon.data_dir), w)
            daemon.check_alive()
            cpu0 = cpu_seconds(daemon.pid)
            try:
                t0, t_closed, t.note = send_payload(port, payload)
                t.accept_s = t_closed - t0
                t_done = wait_committed(checker, t0, daemon)
                t.commit_s = t_done - t0
            except RuntimeError as exc:
                t.error = str(exc).splitlines()[0]
                t.committed_points = checker.committed
                raise
            finally:
                if daemon.alive():
                    t.cpu_s = cpu_seconds(daemon.pid) - cpu0
                    t.peak_rss_kb, nproc = tree_status_kb(daemon.pid, "VmHWM")
                    if nproc > 1:
                        t.note += f" ({nproc} processes: RSS summed)"
            t.committed_points = checker.committed
            _print_trial(t)
    except Exception as exc:
        msg = f"{type(exc).__name__}: {exc}"
        for t in trials:
            if not t.error and math.isnan(t.commit_s):
                t.error = msg.splitlines()[0]
        log(f"    {target} {mode} {wl_name}: FAILED\n" + _indent(msg))
    finally:
        daemon.stop(timeout=5)
        if daemon in _LIVE:
            _LIVE.remove(daemon)
        _remove(workdir)
    return trials


def run_ceiling(ctx: Context, metrics: int, points: int, repeat: int) -> list[Trial]:
    wl_name = f"{metrics}x{points}"
    trials = [Trial(CEILING, "-", wl_name, run, repeat) for run in (1, 2)]
    workdir = Path(tempfile.mkdtemp(prefix="ceiling-", dir=ctx.tmp_root))
    python = str(ctx.venv / "bin" / "python") if ctx.venv else sys.executable
    w = None
    try:
        for t in trials:
            w = ctx.next_workload(metrics, points, after=w)
            t.points = w.total
            cmd = [python, str(BENCH / "carbon" / "ceiling.py"), "--root", str(workdir),
                   "--metrics", str(metrics), "--points", str(points), "--base", str(w.base),
                   "--marker", str(w.marker), "--fallocate"]
            if t.run == 1:
                cmd.append("--create")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
            if p.returncode != 0:
                t.error = f"ceiling.py exited {p.returncode}: {p.stderr.strip()[-500:]}"
                log(f"    ceiling {wl_name} run {t.run}: FAILED\n" + _indent(p.stderr[-3000:]))
                break
            out = json.loads(p.stdout.strip().splitlines()[-1])
            t.commit_s = out["seconds"]
            t.cpu_s = out["cpu_s"]
            t.peak_rss_kb = out["peak_rss_kb"]
            t.note = f"fallocate={out['fallocate']}"
            checker = CommitChecker(str(workdir), w)
            checker.check_pass()
            t.committed_points = checker.committed
            if not checker.complete:
                t.error = (f"read back {checker.committed:,} of {w.total:,} points "
                           f"{checker.errors or ''}")
            _print_trial(t)
    except Exception as exc:
        for t in trials:
            t.error = t.error or f"{type(exc).__name__}: {exc}"
        log(f"    ceiling {wl_name}: FAILED {type(exc).__name__}: {exc}")
    finally:
        _remove(workdir)
    return trials


def run_memory(ctx: Context, target: str, repeat: int) -> MemoryTrial:
    metrics, points = MEMORY_WORKLOAD
    m = MemoryTrial(target, repeat)
    workdir = Path(tempfile.mkdtemp(prefix=f"mem-{target.split()[0]}-", dir=ctx.tmp_root))
    daemon = make_daemon(ctx, target, workdir, held_back=True)
    try:
        _LIVE.append(daemon)
        daemon.start()
        w = ctx.next_workload(metrics, points)
        payload = w.plaintext()
        time.sleep(1.0)
        daemon.check_alive()
        m.rss_before_kb, _ = tree_status_kb(daemon.pid, "VmRSS")
        t0, t1, m.note = send_payload(daemon.line_port, payload)
        m.accept_s = t1 - t0
        del payload
        time.sleep(1.5)
        daemon.check_alive()
        m.rss_after_kb, nproc = tree_status_kb(daemon.pid, "VmRSS")
        m.peak_rss_kb, _ = tree_status_kb(daemon.pid, "VmHWM")
        if nproc > 1:
            m.note += f" ({nproc} processes: RSS summed)"
        checker = CommitChecker(str(daemon.data_dir), w)
        checker.check_pass()
        m.points_sent = w.total
        m.points_cached = w.total - checker.committed
        if checker.committed:
            m.note += f" {checker.committed:,} points already written, not counted"
        log(f"    {target:<20} memory {metrics}x{points}: RSS {m.rss_before_kb / 1024:.1f} -> "
            f"{m.rss_after_kb / 1024:.1f} MiB, {m.points_cached:,} points cached, "
            f"{m.bytes_per_point:.1f} bytes/point")
    except Exception as exc:
        m.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        log(f"    {target} memory: FAILED\n" + _indent(f"{type(exc).__name__}: {exc}"))
    finally:
        daemon.kill()        # its cache is full on purpose: no drain, no dump
        if daemon in _LIVE:
            _LIVE.remove(daemon)
        _remove(workdir)
    return m


def _remove(workdir: Path) -> None:
    """Delete a trial's files and let the file system finish with it (journal, discards)
    before the next trial is timed."""
    shutil.rmtree(workdir, ignore_errors=True)
    os.sync()
    time.sleep(0.5)


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.strip().splitlines())


def _print_trial(t: Trial) -> None:
    acc = "" if math.isnan(t.accepted_pps) else f"accepted {t.accepted_pps:>9,.0f}/s  "
    log(f"    {t.target:<20} {t.mode:<6} {t.workload:<9} run {t.run}: {acc}"
        f"committed {t.committed_pps:>9,.0f}/s  cpu {t.cpu_s:6.2f} s  "
        f"peak RSS {t.peak_rss_kb / 1024:6.1f} MiB"
        + (f"  [{t.note.strip()}]" if t.note.strip() else "")
        + (f"  ERROR {t.error}" if t.error else ""))


# ---------------------------------------------------------------------- report
def _median(values: list[float]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(vals) if vals else float("nan")


def _ratio(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b) or b == 0:
        return float("nan")
    return a / b


def _fmt(v: float, kind: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if kind == "rate":
        return f"{v:,.0f}"
    if kind == "ratio":
        return f"{v:.2f}x"
    if kind == "mib":
        return f"{v / 1024:.1f}"
    if kind == "bytes":
        return f"{v:.1f}"
    return f"{v:.2f}"


def summarize(ctx: Context) -> dict:
    """Medians per (target, mode, workload, run) and per memory target."""
    groups: dict[tuple, list[Trial]] = {}
    for t in ctx.trials:
        groups.setdefault((t.target, t.mode, t.workload, t.run), []).append(t)
    rows = {}
    for key, ts in groups.items():
        rows["|".join(map(str, key))] = {
            "accepted_pps": _median([t.accepted_pps for t in ts if not t.error]),
            "committed_pps": _median([t.committed_pps for t in ts]),
            "cpu_s": _median([t.cpu_s for t in ts if not t.error]),
            "peak_rss_kb": _median([float(t.peak_rss_kb) for t in ts if t.peak_rss_kb]),
            "repeats_ok": sum(1 for t in ts if not t.error),
            "repeats": len(ts),
        }
    mem = {}
    for target in {m.target for m in ctx.memory}:
        ms = [m for m in ctx.memory if m.target == target]
        mem[target] = {
            "bytes_per_point": _median([m.bytes_per_point for m in ms]),
            "rss_growth_kb": _median([float(m.rss_after_kb - m.rss_before_kb)
                                      for m in ms if not m.error]),
            "points_cached": _median([float(m.points_cached) for m in ms if not m.error]),
            "repeats_ok": sum(1 for m in ms if not m.error),
        }
    return {"rows": rows, "memory": mem}


def _target_cell(ratio: float, goal: float, higher: bool) -> str:
    text = f"{'>=' if higher else '<='} {goal:.2g}x"
    if not math.isnan(ratio):
        text += "  met" if (ratio >= goal if higher else ratio <= goal) else "  NOT met"
    return text


def report(ctx: Context, summary: dict, header: list[str]) -> str:
    rows = summary["rows"]
    out = list(header)
    verdicts: list[bool] = []

    def get(target, mode, wl, run, what):
        r = rows.get(f"{target}|{mode}|{wl}|{run}")
        return r[what] if r else float("nan")

    head = (f"{'figure':<22}{'run':<10}{CARBON:>20}{'ours':>12}{'ceiling':>12}"
            f"{'ours/carbon':>13}{'ours/ceil':>11}  target")
    for mode in ctx.args.modes:
        for metrics, points in ctx.args.workloads:
            wl = f"{metrics}x{points}"
            bounds: list[str] = []
            out += ["", f"workload {wl} ({metrics:,} metrics x {points} points), "
                        f"{'plaintext' if mode == 'line' else 'pickle'} over one TCP connection",
                    head, "-" * len(head)]
            for title, what, kind, goal in (
                    ("accepted points/s", "accepted_pps", "rate", TARGET_RATE),
                    ("committed points/s", "committed_pps", "rate", TARGET_RATE),
                    ("CPU s", "cpu_s", "cpu", None),
                    ("peak RSS MiB", "peak_rss_kb", "mib", None)):
                for run, run_name in ((1, "1 create"), (2, "2 exist")):
                    c = get(CARBON, mode, wl, run, what)
                    o = get(OURS, mode, wl, run, what)
                    ceil = get(CEILING, "-", wl, run, what) if what != "accepted_pps" \
                        else float("nan")
                    r_c = _ratio(o, c)
                    r_ceil = _ratio(o, ceil)
                    tgt = ""
                    if goal is not None:
                        tgt = _target_cell(r_c, goal, True)
                        if not math.isnan(r_c):
                            verdicts.append(r_c >= goal)
                    out.append(f"{title:<22}{run_name:<10}{_fmt(c, kind):>20}{_fmt(o, kind):>12}"
                               f"{_fmt(ceil, kind):>12}{_fmt(r_c, 'ratio'):>13}"
                               f"{_fmt(r_ceil, 'ratio'):>11}  {tgt}".rstrip())
                    bound = _ratio(ceil, c)
                    if what == "committed_pps" and not math.isnan(bound) and bound < goal:
                        bounds.append(f"{wl} run {run}: the bare whisper loop itself commits "
                                      f"only {bound:.2f}x carbon-cache's rate")
            if bounds:
                out += [f"  ({'; '.join(bounds)}: out of reach for one writer thread)"]
    mem = summary["memory"]
    if mem:
        mw = f"{MEMORY_WORKLOAD[0]:,} metrics x {MEMORY_WORKLOAD[1]} points"
        out += ["", f"memory per cached point (writes held back; {mw}, plaintext)",
                f"{'figure':<32}{CARBON:>20}{'ours':>12}{'ours/carbon':>13}  target",
                "-" * 90]
        c, o = mem.get(CARBON, {}), mem.get(OURS, {})
        for title, key, kind, goal in (
                ("bytes per cached point", "bytes_per_point", "bytes", TARGET_MEMORY),
                ("RSS growth MiB", "rss_growth_kb", "mib", None),
                ("points cached", "points_cached", "rate", None)):
            cv, ov = c.get(key, float("nan")), o.get(key, float("nan"))
            r = _ratio(ov, cv)
            tgt = ""
            if goal is not None:
                tgt = _target_cell(r, goal, False)
                if not math.isnan(r):
                    verdicts.append(r <= goal)
            out.append(f"{title:<32}{_fmt(cv, kind):>20}{_fmt(ov, kind):>12}"
                       f"{_fmt(r, 'ratio'):>13}  {tgt}".rstrip())
    if ctx.args.repeats > 1:
        out += ["", "per repeat (accepted / committed points/s, CPU s):"]
        groups: dict[tuple, list[Trial]] = {}
        for t in ctx.trials:
            groups.setdefault((t.mode, t.workload, t.run, t.target), []).append(t)
        for (mode, wl, run, target), ts in sorted(groups.items()):
            cells = []
            for t in ts:
                acc = "" if math.isnan(t.accepted_pps) else f"{t.accepted_pps:,.0f} / "
                cells.append(f"{acc}{_fmt(t.committed_pps, 'rate')}, {_fmt(t.cpu_s, 'cpu')}")
            out.append(f"  {mode:<6} {wl:<9} run {run} {target:<20} " + "; ".join(cells))
        for target in sorted({m.target for m in ctx.memory}):
            vals = ", ".join(_fmt(m.bytes_per_point, "bytes") for m in ctx.memory
                             if m.target == target)
            out.append(f"  memory {target:<20} bytes per cached point: {vals}")
    errors = [t for t in ctx.trials if t.error] + [m for m in ctx.memory if m.error]
    if errors:
        out += ["", "failures:"]
        for e in errors:
            where = (f"{e.target} {e.mode} {e.workload} run {e.run} repeat {e.repeat}"
                     if isinstance(e, Trial) else f"{e.target} memory repeat {e.repeat}")
            out.append(f"  {where}: {e.error}")
    notes = sorted({f"{t.target}: {t.note.strip()}" for t in ctx.trials if t.note.strip()}
                   | {f"{m.target} memory: {m.note.strip()}" for m in ctx.memory
                      if m.note.strip()})
    if notes or ctx.notes:
        out += ["", "notes:"] + [f"  {n}" for n in ctx.notes + notes]
    if verdicts:
        out += ["", f"targets met: {sum(verdicts)} of {len(verdicts)}"]
    return "\n".join(out)


def settings_header(ctx: Context, versions: dict, targets: list[str]) -> list[str]:
    a = ctx.args
    lines = [
        f"carbon ingest: {a.repeats} repeat(s), medians; modes {', '.join(a.modes)}; "
        f"{os.cpu_count()} cores; Python {platform.python_version()}; data in {ctx.tmp_root}",
        f"points at a {STEP} s step ending at the current {STEP} s boundary, sent in flush "
        "order; run 1 creates the files, run 2 rewrites them with new timestamps and values",
        "accepted = first byte .. server closed the connection; committed = first byte .. "
        "every point read back with whisper.fetch; CPU from first byte to last commit",
        "schemas (both daemons): storage-schemas.conf [bench] pattern = .* retentions = "
        f"{RETENTIONS}; storage-aggregation.conf .* average xFilesFactor 0.5",
    ]
    if CARBON in targets:
        probe = CarbonCache(ctx.venv, ctx.tmp_root / "unused", overrides=a.carbon_set)
        changed = ", ".join(f"{k} = {v}" for k, v in probe.changed_settings().items())
        lines.append(f"{CARBON} (carbon {versions.get('carbon')}, whisper "
                     f"{versions.get('whisper')}, Twisted {versions.get('twisted')}, Python "
                     f"{versions.get('python')}): carbon.conf.example [cache] except {changed}; "
                     "interfaces 127.0.0.1, free ports, folders in the temporary directory; "
                     "--nodaemon")
        held = ", ".join(f"{k} = {v}" for k, v in CARBON_HELD_BACK.items())
        lines.append(f"  memory test: also {held}")
    if OURS in targets:
        ini = ", ".join(f"{k} = {v}" for k, v in {**OUR_SETTINGS, **a.ours_set}.items())
        lines.append(f"ours: python -m statsgraph carbon --storage DIR --port P --pickle-port Q "
                     f"--query-port 0 --config CONF; [carbon] {ini}")
        held = ", ".join(f"{k} = {v}" for k, v in OURS_HELD_BACK.items())
        lines.append(f"  memory test: also {held}")
    if CEILING in targets:
        lines.append("ceiling: whisper.create (fallocate) + update_many per metric, then "
                     "update_many over existing files; points and paths built before the clock")
    return lines


def machine_steal() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def _no_nan(obj):
    """NaN is not JSON: write null."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _no_nan(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_no_nan(v) for v in obj]
    return obj


# ---------------------------------------------------------------------- main
def parse_workloads(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        n, _, p = part.partition("x")
        out.append((int(n), int(p)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat (about 3 minutes)")
    parser.add_argument("--repeats", type=int, help="repeats (default 3, --quick 1)")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--only", default="carbon,ours,ceiling",
                        help="comma list of carbon, ours, ceiling (default all)")
    parser.add_argument("--modes", default="line,pickle",
                        help="comma list of line, pickle (default both)")
    parser.add_argument("--workloads", default="10000x60,1000x60",
                        help="comma list of METRICSxPOINTS (default 10000x60,1000x60)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory test")
    parser.add_argument("--tmp", type=Path, help="folder for the data (default: system temp)")
    parser.add_argument("--ours-set", action="append", default=[], metavar="KEY=VALUE",
                        help="one more key for ours' [carbon] section (repeatable), e.g. "
                             "max_cache_size=1e9; changes the comparison, and says so")
    parser.add_argument("--carbon-set", action="append", default=[], metavar="KEY=VALUE",
                        help="one more carbon.conf [cache] setting (repeatable), e.g. "
                             "MAX_UPDATES_PER_SECOND=500 (carbon.conf.example's value)")
    args = parser.parse_args(argv)
    for name in ("ours_set", "carbon_set"):
        pairs = {}
        for item in getattr(args, name):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                parser.error(f"--{name.replace('_', '-')} wants KEY=VALUE, not {item!r}")
            pairs[key.strip()] = value.strip()
        setattr(args, name, pairs)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.modes = [m for m in args.modes.split(",") if m]
    for m in args.modes:
        if m not in MODES:
            parser.error(f"unknown mode {m!r}")
    args.workloads = parse_workloads(args.workloads)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    if only - {"carbon", "ours", "ceiling"}:
        parser.error(f"unknown --only {sorted(only - {'carbon', 'ours', 'ceiling'})}")

    try:
        import whisper  # noqa: F401 - the read-back uses this interpreter's whisper
    except ImportError:
        parser.error("this Python has no whisper module (a statsgraph dependency): "
                     "pip install -e . or pip install whisper==1.1.10")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)

    notes: list[str] = []
    venv = None
    versions: dict = {}
    if only & {"carbon", "ceiling"}:
        try:
            venv = ensure_venv()
            versions = venv_versions(venv)
        except Exception as exc:
            notes.append(f"{CARBON} not measured: {exc}".splitlines()[0])
            log(f"carbon-cache could not be installed: {exc}")
    targets = []
    if "carbon" in only and venv:
        targets.append(CARBON)
    if "ours" in only:
        why = ours_available()
        if why:
            notes.append(f"ours not measured: {why}")
            log(f"our store is not runnable: {why}")
        else:
            targets.append(OURS)
    if "ceiling" in only:
        targets.append(CEILING)
        if venv is None:
            notes.append("ceiling run by this Python's whisper (no carbon venv)")

    tmp_root = Path(tempfile.mkdtemp(prefix="carbon-ingest-", dir=args.tmp))
    ctx = Context(args=args, venv=venv, tmp_root=tmp_root, notes=notes)
    daemons = [t for t in (CARBON, OURS) if t in targets]
    t_start = time.monotonic()
    steal0, total0 = machine_steal()
    status = 0
    try:
        for repeat in range(1, args.repeats + 1):
            log(f"== repeat {repeat}/{args.repeats}")
            for metrics, points in args.workloads:
                for mode in args.modes:
                    for target in daemons:
                        ctx.trials += run_daemon(ctx, target, metrics, points, mode, repeat)
                if CEILING in targets:
                    ctx.trials += run_ceiling(ctx, metrics, points, repeat)
            if not args.no_memory:
                for target in daemons:
                    ctx.memory.append(run_memory(ctx, target, repeat))
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured")
        status = 130
    finally:
        _kill_all()
        shutil.rmtree(tmp_root, ignore_errors=True)
    steal1, total1 = machine_steal()
    steal_pct = 100 * (steal1 - steal0) / max(1, total1 - total0)
    summary = summarize(ctx)
    header = settings_header(ctx, versions, targets)
    header.append(f"total {time.monotonic() - t_start:.0f} s; CPU stolen by the hypervisor "
                  f"{steal_pct:.1f}%")
    log("")
    log(report(ctx, summary, header))
    if args.json:
        doc = {
            "settings": header,
            "carbon_versions": versions,
            "carbon_conf_changed": (CarbonCache(venv, tmp_root / "unused",
                                                overrides=args.carbon_set).changed_settings()
                                    if venv else None),
            "ours_conf": {**OUR_SETTINGS, **args.ours_set},
            "storage_schemas": STORAGE_SCHEMAS.format(retentions=RETENTIONS),
            "storage_aggregation": STORAGE_AGGREGATION,
            "trials": [dict(asdict(t), accepted_pps=t.accepted_pps,
                            committed_pps=t.committed_pps) for t in ctx.trials],
            "memory": [dict(asdict(m), bytes_per_point=m.bytes_per_point)
                       for m in ctx.memory],
            "summary": summary,
        }
        args.json.write_text(json.dumps(_no_nan(doc), indent=2, default=str) + "\n")
    if status:
        return status
    return 1 if any(t.error for t in ctx.trials) or any(m.error for m in ctx.memory) else 0


if __name__ == "__main__":
    sys.exit(main())
