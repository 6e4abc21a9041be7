#!/usr/bin/env python3
"""Client overhead: microseconds per call of our client against the `statsd` 4.0.1 PyPI
client (jsocol/pystatsd) and DogStatsD's `datadog` client, side by side in one run.

    python bench/client_overhead.py [--runs N] [--calls N] [--batch N] [--output FILE]

* Cases: `increment` (`incr("api.3_0.endpoint_request.users")`), `timing`
  (`timing(name, 12.3456789)`), and a pipelined `increment` (a pipeline of `--batch`
  increments, made and sent, per call: our and statsd's `pipeline()`, datadog's
  buffered `with client:` block). `increment, tagged` (DogStatsD tags, ours and
  datadog only) and the lazy default client `client.statsd` are shown besides.
* Every client sends over UDP to the same bound socket on 127.0.0.1 that nobody
  reads (the kernel drops what overflows it): every client pays the same syscall.
  Each client is built with its defaults (datadog: unbuffered, its telemetry on).
* A run times `--calls` calls of each client in turn (the order rotates between
  runs); the figure is the median of `--runs` runs. The ratio is ours over the
  fastest of the two peers; the target is a ratio of at most 1.00 on every case.
* The peers are never project dependencies: when they cannot be imported, the script
  makes bench/client/.venv (git-ignored), installs `statsd==4.0.1` and `datadog`
  there with pip, and runs itself again with that interpreter. Our client needs
  only the standard library, and is imported from this checkout.

Writes the table to bench/results/client_overhead.txt. Not a test: never imported
by pytest.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / "client" / ".venv"
PEERS = ["statsd==4.0.1", "datadog"]
NAME = "api.3_0.endpoint_request.users"
VALUE = 12.3456789


def ensure_peers() -> None:
    """Run again inside bench/client/.venv (made on first use) if the peers are missing."""
    try:
        import datadog  # noqa: F401
        import statsd  # noqa: F401
        return
    except ImportError:
        pass
    python = VENV / "bin" / "python"
    if os.environ.get("CLIENT_BENCH_REEXEC"):
        sys.exit(f"the peers are not importable even in {VENV}")
    if not python.exists():
        print(f"making {VENV} with {' '.join(PEERS)} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEERS], check=True)
    env = {**os.environ, "CLIENT_BENCH_REEXEC": "1"}
    os.execve(str(python), [str(python), __file__, *sys.argv[1:]], env)


def timed(loop: Callable[[int], None], calls: int) -> float:
    """Microseconds per call of `loop(calls)`."""
    start = time.perf_counter_ns()
    loop(calls)
    return (time.perf_counter_ns() - start) / calls / 1000.0


def per_call(method: Callable, *args: object, **kwargs: object) -> Callable[[int], None]:
    if kwargs:
        def loop(n: int) -> None:
            for _ in range(n):
                method(*args, **kwargs)
    else:
        def loop(n: int) -> None:
            for _ in range(n):
                method(*args)
    return loop


def pipelined(make: Callable, batch: int, name: str = NAME) -> Callable[[int], None]:
    """`make()` gives a context manager whose value has `increment` or `incr`."""
    def loop(n: int) -> None:
        for _ in range(n // batch):
            with make() as pipe:
                incr = getattr(pipe, "increment", None) or pipe.incr
                for _ in range(batch):
                    incr(name)
    return loop


def build(port: int, batch: int) -> dict[str, dict[str, Callable[[int], None]]]:
    import datadog
    import statsd as pystatsd

    sys.path.insert(0, str(ROOT))
    from client import StatsClient
    from client.lazy import LazyClient

    ours = StatsClient("127.0.0.1", port)
    lazy = LazyClient(lambda: StatsClient("127.0.0.1", port))
    peer = pystatsd.StatsClient("127.0.0.1", port, maxudpsize=1432)
    dog = datadog.DogStatsd(host="127.0.0.1", port=port)

    class DogBatch:
        def __enter__(self):
            dog.open_buffer()
            return dog

        def __exit__(self, *exc):
            dog.close_buffer()

    tags = ["env:prod", "route:users"]
    return {
        "increment": {
            "ours": per_call(ours.increment, NAME),
            "statsd 4.0.1": per_call(peer.incr, NAME),
            "datadog": per_call(dog.increment, NAME),
            "ours, lazy `statsd`": per_call(lazy.increment, NAME),
        },
        "timing": {
            "ours": per_call(ours.timing, NAME, VALUE),
            "statsd 4.0.1": per_call(peer.timing, NAME, VALUE),
            "datadog": per_call(dog.timing, NAME, VALUE),
        },
        f"pipelined increment ({batch}/pipeline)": {
            "ours": pipelined(ours.pipeline, batch),
            "statsd 4.0.1": pipelined(peer.pipeline, batch),
            "datadog": pipelined(DogBatch, batch),
        },
        "increment, tagged": {
            "ours": per_call(ours.increment, NAME, tags=tags),
            "datadog": per_call(dog.increment, NAME, tags=tags),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--output", type=Path,
                        default=ROOT / "bench" / "results" / "client_overhead.txt")
    args = parser.parse_args()
    ensure_peers()
    from importlib.metadata import version

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    cases = build(sink.getsockname()[1], args.batch)
    calls = args.calls - args.calls % args.batch

    results: dict[str, dict[str, float]] = {}
    for case, clients in cases.items():
        samples: dict[str, list[float]] = {name: [] for name in clients}
        names = list(clients)
        for loop in clients.values():  # warm up: sockets, caches
            loop(min(calls, 2000))
        for run in range(args.runs):
            shift = run % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(timed(clients[name], calls))
        results[case] = {name: statistics.median(values) for name, values in samples.items()}
        print(case, {k: round(v, 3) for k, v in results[case].items()}, file=sys.stderr)

    lines = [
        "client overhead: microseconds per call, median of "
        f"{args.runs} runs of {calls:,} calls (bench/client_overhead.py)",
        f"python {platform.python_version()}, statsd {version('statsd')}, "
        f"datadog {version('datadog')}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d')}",
        "UDP to one unread socket on 127.0.0.1; ratio = ours / fastest peer "
        "(target <= 1.00)",
        "",
        f"{'case':<34}{'ours':>9}{'statsd 4.0.1':>14}{'datadog':>10}{'ratio':>8}  verdict",
    ]
    for case, figures in results.items():
        peers = [figures[p] for p in ("statsd 4.0.1", "datadog") if p in figures]
        ratio = figures["ours"] / min(peers)
        peer_cells = "".join(
            f"{figures[p]:>{w}.3f}" if p in figures else f"{'-':>{w}}"
            for p, w in (("statsd 4.0.1", 14), ("datadog", 10)))
        lines.append(f"{case:<34}{figures['ours']:>9.3f}{peer_cells}{ratio:>8.2f}  "
                     f"{'PASS' if ratio <= 1.0 else 'slower'}")
        for extra in figures:
            if extra.startswith("ours, "):
                lines.append(f"  {extra:<32}{figures[extra]:>9.3f}{'':>24}"
                             f"{figures[extra] / min(peers):>8.2f}")
    text = "\n".join(lines) + "\n"
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
