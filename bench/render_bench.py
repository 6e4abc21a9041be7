"""Render benchmark: graphite-web 1.1.10 vs statsgraph's renderer on the same whisper files.

    python3.11 bench/render_bench.py --data /tmp/benchdata [-n 20] [--only graphite|ours]

The dataset is bench/render_dataset.py's (made in --data when missing).  Both servers
answer on 127.0.0.1 and get the same requests, one at a time, interleaved case by case and
server by server, so drift on the machine hits both alike.  Every request pins now=END and
absolute from/until (one day: 8,640 points a series).  One unmeasured warm-up request per
case and server comes first; its JSON answers are compared between the servers (same
targets, timestamps, and values within 1e-9 relative, nulls equal).

Configs (the fair pair on this 2-core machine, both serving one request at a time):
- graphite-web: gunicorn 23, 1 sync worker, 1 thread (bench/graphite/server.py); Django's
  dummy cache (no memcache) so nothing is answered from a cache; its own default
  USE_WORKER_POOL thread pool for finds/fetches left on.
- ours: `python -m statsgraph web --storage DIR --port P --bind 127.0.0.1` as it ships.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "graphite"))
sys.path.insert(0, str(ROOT / "bench"))

import render_dataset  # noqa: E402
from server import free_port, graphite_web  # noqa: E402

APP = "stats.timers.app.server_00.api"
ONE = f"{APP}.endpoint_000.mean"
TEN = f"{APP}.endpoint_00*.mean"
HUNDRED = f"{APP}.endpoint_0*.mean"


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    params: tuple[tuple[str, str], ...]
    kind: str = "other"          # "json" answers are compared between the servers


def cases(end: int) -> list[Case]:
    window = (("from", str(end - 86400)), ("until", str(end)), ("now", str(end)))

    def render(name: str, targets: list[str], fmt: str, *extra: tuple[str, str]) -> Case:
        params = tuple(("target", t) for t in targets) + window + (("format", fmt),) + extra
        return Case(name, "/render", params, "json" if fmt == "json" else fmt)

    png = (("width", "800"), ("height", "600"))
    return [
        Case("find wide level (250)", "/metrics/find", (("query", f"{APP}.*"),)),
        Case("find deep wildcard (2,500)", "/metrics/find",
             (("query", "stats.timers.app.*.api.*.mean"),)),
        Case("expand deep wildcard (2,500)", "/metrics/expand",
             (("query", "stats.timers.app.*.api.*.mean"),)),
        render("json 1 series", [ONE], "json"),
        render("json 10 series", [TEN], "json"),
        render("json 100 series", [HUNDRED], "json"),
        render("json sumSeries(100)", [f"sumSeries({HUNDRED})"], "json"),
        render("json summarize(10,1h)", [f'summarize({TEN},"1h","sum")'], "json"),
        render("json movingAverage(10,5min)", [f'movingAverage({TEN},"5min")'], "json"),
        render("json nonNegDeriv(10)",
               [f"nonNegativeDerivative({APP}.endpoint_00*.count)"], "json"),
        render("png 800x600 1 series", [ONE], "png", *png),
        render("png 800x600 10 series", [TEN], "png", *png),
        render("svg 800x600 10 series", [TEN], "svg", *png),
        render("csv 10 series", [TEN], "csv"),
    ]


def get(base: str, case: Case) -> tuple[int, bytes, float]:
    url = f"{base}{case.path}?{urllib.parse.urlencode(case.params)}"
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=300) as r:
            body, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return status, body, time.perf_counter() - started


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _same_number(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def compare_json(a: bytes, b: bytes) -> str | None:
    """None when both answers carry the same series and numbers, else what differs."""
    try:
        left, right = json.loads(a), json.loads(b)
    except ValueError as e:
        return f"not JSON: {e}"
    names_l = [s["target"] for s in left]
    names_r = [s["target"] for s in right]
    if names_l != names_r:
        return f"targets differ: {names_l[:3]}... vs {names_r[:3]}..."
    for sl, sr in zip(left, right, strict=True):
        pl, pr = sl["datapoints"], sr["datapoints"]
        if len(pl) != len(pr):
            return f"{sl['target']}: {len(pl)} vs {len(pr)} points"
        for (vl, tl), (vr, tr) in zip(pl, pr, strict=True):
            if tl != tr or not _same_number(vl, vr):
                return f"{sl['target']} at {tl}/{tr}: {vl} vs {vr}"
    return None


@contextlib.contextmanager
def ours_server(data: Path, python: str) -> Iterator[str]:
    """Our renderer, started the way the brief's CLI says it will be."""
    port = free_port()
    cmd = [python, "-m", "statsgraph", "web", "--storage", str(data), "--port", str(port),
           "--bind", "127.0.0.1"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{' '.join(cmd)} exited ({proc.returncode}):\n"
                                       + log.read().decode(errors="replace")[-3000:])
                try:
                    with urllib.request.urlopen(base + "/metrics/find?query=*", timeout=5):
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        raise RuntimeError("our renderer did not answer within 60s") from None
                    time.sleep(0.2)
            yield base
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def run(servers: dict[str, str], all_cases: list[Case], n: int) -> tuple[dict, list[str]]:
    times: dict[tuple[str, str], list[float]] = {}
    first: dict[tuple[str, str], tuple[int, bytes]] = {}
    for case in all_cases:                       # warm-up, kept for the comparison
        for label, base in servers.items():
            status, body, _ = get(base, case)
            first[(case.name, label)] = (status, body)
            times[(case.name, label)] = []
    for _ in range(n):
        for case in all_cases:
            for label, base in servers.items():
                status, _, seconds = get(base, case)
                times[(case.name, label)].append(seconds)
    problems = []
    for case in all_cases:
        for label in servers:
            status, body = first[(case.name, label)]
            if status != 200:
                problems.append(f"{case.name}: {label} answered {status}: {body[:200]!r}")
        if case.kind == "json" and len(servers) == 2:
            (sa, ba), (sb, bb) = (first[(case.name, label)] for label in servers)
            if sa == sb == 200 and (diff := compare_json(ba, bb)):
                problems.append(f"{case.name}: MISMATCH {diff}")
    sizes = {key: len(body) for key, (_, body) in first.items()}
    return {"times": times, "sizes": sizes}, problems


def report(result: dict, all_cases: list[Case], labels: list[str], n: int) -> str:
    head = f"{'case':32}" + "".join(f"{label + ' p50':>14}{label + ' p95':>14}"
                                     for label in labels)
    if len(labels) == 2:
        head += f"{'ratio p50':>11}{'ratio p95':>11}"
    lines = [f"milliseconds, {n} runs per case and server (after 1 warm-up)", head]
    for case in all_cases:
        row, stats = f"{case.name:32}", []
        for label in labels:
            samples = result["times"][(case.name, label)]
            p50, p95 = percentile(samples, 50) * 1000, percentile(samples, 95) * 1000
            stats.append((p50, p95))
            row += f"{p50:14.1f}{p95:14.1f}"
        if len(labels) == 2:
            (g50, g95), (o50, o95) = stats
            row += f"{o50 / g50:11.2f}{o95 / g95:11.2f}"
        lines.append(row)
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="whisper dir (made if missing)")
    ap.add_argument("-n", type=int, default=20, help="measured runs per case and server")
    ap.add_argument("--only", choices=["graphite", "ours"])
    ap.add_argument("--graphite-workers", type=int, default=1)
    ap.add_argument("--python", default=sys.executable, help="interpreter for our renderer")
    ap.add_argument("--case", help="run only cases whose name contains this")
    ap.add_argument("--out", type=Path, help="also write the table here")
    args = ap.parse_args()

    meta = render_dataset.read_meta(args.data)
    if meta is None:
        meta = render_dataset.build(args.data)
    all_cases = [c for c in cases(meta["END"]) if not args.case or args.case in c.name]
    with contextlib.ExitStack() as stack:
        servers: dict[str, str] = {}
        if args.only != "ours":
            servers["graphite"] = stack.enter_context(
                graphite_web(args.data, workers=args.graphite_workers))
        if args.only != "graphite":
            servers["ours"] = stack.enter_context(ours_server(args.data, args.python))
        result, problems = run(servers, all_cases, args.n)
    text = report(result, all_cases, list(servers), args.n)
    text += "\n\nresponse bytes (warm-up): " + ", ".join(
        f"{name}/{label}={size}" for (name, label), size in result["sizes"].items())
    text += "\n" + ("\n".join(problems) if problems else "no mismatches, every answer 200")
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 1 if any("MISMATCH" in p for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
