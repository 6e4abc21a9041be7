#!/usr/bin/env python3
"""Record golden files of etsy statsd 0.9.0's flushed Graphite output.

    python bench/record_etsy_golden.py [--jobs N] [--only NAME ...] [--out DIR]

For every case in bench/etsy/golden_cases.py this starts a fresh etsy statsd
(flushInterval 2000 ms, its Graphite backend pointed at a local TCP listener that
records every plaintext line), waits for a flush, sends the step's packets over UDP
from one socket one after the other, waits for the next flush, and so on.  etsy
opens one TCP connection per flush, so a flush is exactly one connection (its
graphiteStats.* lines, which describe the previous flush, come in the same
connection).  The result is written to tests/statsd_daemon/golden/<case>.json:

    {"description": ..., "etsy_version": "0.9.0", "config": {...},
     "steps": [{"packets": [...], "flush": {name: value string exactly as sent}}]}

Each step's flush is checked before anything is written: it must come after the
step's packets were sent, carry one timestamp, have no repeated names, report
packets_received/metrics_received equal to what was sent, and match the case's
hand-computed expectations.  A case whose timing check fails is retried.
Needs node and npm (runs `npm install` in bench/etsy when node_modules is missing).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH / "etsy"))
sys.path.insert(0, str(BENCH))

import golden_cases  # noqa: E402
from carbon_sink import CarbonSink  # noqa: E402
from etsy import ETSY_VERSION, EtsyStatsd, ensure_installed  # noqa: E402

REPO = BENCH.parent
DEFAULT_OUT = REPO / "tests" / "statsd_daemon" / "golden"
FLUSH_INTERVAL_MS = 2000
FLUSH_TIMEOUT_S = 3 * FLUSH_INTERVAL_MS / 1000 + 2
SEND_BUDGET_S = 0.5   # packets must be sent well before the next flush is due


class TimingError(Exception):
    """The recording could not be synchronised with the flushes; retry the case."""


class CheckError(Exception):
    """etsy flushed something other than what the case expects."""


def js_number_equal(text: str, expected: float) -> bool:
    try:
        return abs(float(text) - expected) < 1e-9
    except ValueError:
        return False


def internal_counter_names(config: dict, counter: str) -> tuple[str, float]:
    """(name, multiplier) under which an internal counter's raw count can be read.

    The multiplier turns the flushed value back into the count (1 for the count
    line; the interval in seconds when only the rate line is flushed)."""
    graphite = config.get("graphite", {})
    stats_prefix = config.get("prefixStats", "statsd")
    suffix = "." + graphite["globalSuffix"] if "globalSuffix" in graphite else ""
    flush_counts = config.get("flush_counts", True)
    key = f"{stats_prefix}.{counter}"
    if graphite.get("legacyNamespace", True):
        if flush_counts:
            return f"stats_counts.{key}{suffix}", 1.0
        return f"stats.{key}{suffix}", FLUSH_INTERVAL_MS / 1000
    parts = [p for p in (graphite.get("globalPrefix", "stats"),
                         graphite.get("prefixCounter", "counters")) if p]
    base = ".".join([*parts, key])
    if flush_counts:
        return f"{base}.count{suffix}", 1.0
    return f"{base}.rate{suffix}", FLUSH_INTERVAL_MS / 1000


def check_step(case: dict, index: int, packets: list[str], flush: dict, config: dict) -> None:
    problems = []
    n_lines = sum(1 for p in packets for line in p.split("\n") if line)
    for counter, want in (("packets_received", len(packets)), ("metrics_received", n_lines)):
        name, mult = internal_counter_names(config, counter)
        got = flush.get(name)
        if got is None or not js_number_equal(got, want / mult):
            problems.append(f"{name} = {got!r}, want {want} (x1/{mult})")
    for name, want in case.get("expect", {}).get(index, {}).items():
        if flush.get(name) != want:
            problems.append(f"{name} = {flush.get(name)!r}, want {want!r}")
    for name in case.get("absent", {}).get(index, []):
        if name in flush:
            problems.append(f"{name} = {flush[name]!r}, want it absent")
    for name in case.get("present", {}).get(index, []):
        if name not in flush:
            problems.append(f"{name} missing")
    if problems:
        raise CheckError(f"{case['name']} step {index}: " + "; ".join(problems))


def flush_dict(case_name: str, conn) -> dict:
    if conn.malformed:
        raise CheckError(f"{case_name}: malformed carbon lines {conn.malformed[:3]!r}")
    stamps = {ts for _, _, ts in conn.lines}
    if len(stamps) != 1:
        # graphiteStats.* carry the time of the connect, the rest the flush time;
        # both are whole seconds taken a few ms apart right after a flush boundary.
        raise TimingError(f"{case_name}: one flush carries several timestamps {sorted(stamps)}")
    out: dict[str, str] = {}
    for name, value, _ in conn.lines:
        if name in out:
            raise CheckError(f"{case_name}: name {name!r} flushed twice in one flush")
        out[name] = value
    return out


def record_case(case: dict) -> dict:
    config = dict(case["config"])
    config["flushInterval"] = FLUSH_INTERVAL_MS
    steps_in = case["steps"]
    startup = case.get("startup", False)
    if startup and steps_in[0]:
        raise ValueError(f"{case['name']}: a startup case's first step must have no packets")
    steps_out = []
    with CarbonSink() as sink, EtsyStatsd(sink.port, config) as etsy, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect(etsy.udp_address)
        next_conn = 0
        if not startup:
            sink.wait_closed_connection(0, FLUSH_TIMEOUT_S)   # etsy's first flush, dropped
            next_conn = 1
        for index, packets in enumerate(steps_in):
            if startup and index == 0:
                t_sent = 0.0
            else:
                prev = sink.connections[next_conn - 1]
                for packet in packets:
                    udp.send(packet.encode("utf-8"))
                t_sent = time.monotonic()
                if t_sent - prev.closed_at > SEND_BUDGET_S:
                    raise TimingError(f"{case['name']} step {index}: sending took too long "
                                      f"after the flush ({t_sent - prev.closed_at:.3f}s)")
            conn = sink.wait_closed_connection(next_conn, FLUSH_TIMEOUT_S)
            if conn.opened_at < t_sent:
                raise TimingError(f"{case['name']} step {index}: flush began before the "
                                  "packets were all sent")
            next_conn += 1
            flush = flush_dict(case["name"], conn)
            check_step(case, index, packets, flush, config)
            steps_out.append({"packets": list(packets), "flush": flush})
    return {
        "description": case["description"],
        "etsy_version": ETSY_VERSION,
        "config": config,
        "steps": steps_out,
    }


def record_with_retries(case: dict, out_dir: Path, attempts: int, lock: threading.Lock) -> str:
    for attempt in range(1, attempts + 1):
        try:
            golden = record_case(case)
        except TimingError as exc:
            with lock:
                print(f"  retry {case['name']} ({attempt}/{attempts}): {exc}", flush=True)
            continue
        path = out_dir / f"{case['name']}.json"
        path.write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        n = sum(len(s["flush"]) for s in golden["steps"])
        with lock:
            print(f"  {case['name']}: {len(golden['steps'])} steps, {n} lines -> "
                  f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}", flush=True)
        return case["name"]
    raise TimingError(f"{case['name']}: could not be recorded in {attempts} attempts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="record only these cases")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--jobs", type=int, default=4,
                        help="cases recorded at the same time, each with its own etsy (4)")
    parser.add_argument("--attempts", type=int, default=3)
    args = parser.parse_args(argv)

    ensure_installed()
    cases = golden_cases.CASES
    names = [c["name"] for c in cases]
    if len(set(names)) != len(names):
        parser.error("duplicate case names in golden_cases.py")
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            parser.error(f"unknown cases: {sorted(unknown)}")
        cases = [c for c in cases if c["name"] in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"recording {len(cases)} cases from etsy statsd {ETSY_VERSION} "
          f"(flushInterval {FLUSH_INTERVAL_MS} ms, {args.jobs} at a time)", flush=True)
    lock = threading.Lock()
    failures = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(record_with_retries, c, args.out, args.attempts, lock): c["name"]
                   for c in cases}
        for fut, name in futures.items():
            try:
                fut.result()
            except Exception as exc:  # report every failing case, then fail
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    print(f"{len(cases) - len(failures)} recorded, {len(failures)} failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
