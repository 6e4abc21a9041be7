#!/usr/bin/env python3
"""Coverage-guided fuzzing (atheris) of the statsd and carbon parsers.

    python3 bench/fuzz_parsers.py {statsd,carbon-lines,carbon-pickle}
                                  [--seconds N] [--corpus DIR] [libFuzzer args...]

Targets, each fed the raw bytes a socket would deliver:

* statsd: a datagram through `Aggregator.ingest` (twice, so the second pass goes
  through the parsed-line cache), then a flush;
* carbon-lines: plaintext through `Intake.parse_lines`, split the way the TCP receiver
  (`\\n`) and the UDP receiver (`splitlines`) split it, twice (fast path for known
  names on the second pass);
* carbon-pickle: one pickle frame through `wire.parse_pickle` and `Intake.parse_pickle`.

The properties live in the `check_*` functions below (also replayed over the kept
corpus by tests/test_fuzz_corpus.py, which must not need atheris, so atheris is only
imported by `main`). Any exception escaping a check is a finding. Extra arguments go to
libFuzzer unchanged, e.g. `-merge=1 NEW_DIR OLD_DIR` to minimise a corpus.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = 1_700_000_000.5
TARGETS = ("statsd", "carbon-lines", "carbon-pickle")
_PLAIN_TYPES = (list, tuple, dict, set, frozenset, str, bytes, bytearray, int, float,
                bool, type(None))


# -- properties -------------------------------------------------------------------------

def _finite(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def check_statsd(data: bytes) -> None:
    """Ingest never raises; every count is non-negative; the cache changes nothing."""
    from statsd_daemon.aggregator import Aggregator
    from statsd_daemon.parser import decode, parse_line
    from statsd_daemon.settings import StatsdSettings

    bad: list[tuple[str, str]] = []
    agg = Aggregator(StatsdSettings(), on_bad_line=lambda why, text: bad.append((why, text)))
    agg.ingest(data)
    once = agg.bad_lines_seen
    lines = sum(1 for line in data.split(b"\n") if line)
    assert agg.packets_received == 1
    assert agg.metrics_received == lines
    assert 0 <= once == len(bad)
    assert all(isinstance(why, str) and isinstance(text, str) for why, text in bad)
    agg.ingest(data)  # every line is cached now
    assert agg.bad_lines_seen == 2 * once
    assert agg.metrics_received == 2 * lines
    for counter in ("events_received", "service_checks_received"):
        assert getattr(agg, counter) >= 0
    snap = agg.flush()
    for table in (snap.counters, snap.timers, snap.timer_counters, snap.gauges, snap.sets):
        assert all(isinstance(key, str) and key for key in table)
    assert all(isinstance(v, float) for v in snap.counters.values())
    assert all(_finite(v) and v >= 0 for v in snap.timer_counters.values())
    assert all(_finite(v) for values in snap.timers.values() for v in values)
    assert set(snap.timers) == set(snap.timer_counters)
    assert all(_finite(v) for v in snap.gauges.values())
    assert all(isinstance(n, int) and n >= 1 for n in snap.sets.values())
    assert agg.packets_total == 2 and agg.bad_lines_total == 2 * once
    for line in data.split(b"\n"):
        if line:
            _check_ops(parse_line(decode(line)))


def _check_ops(ops: tuple) -> None:
    """One line's ops: every number finite (a sample rate must not overflow a count)."""
    from statsd_daemon.parser import BAD, COUNTER, GAUGE, GAUGE_DELTA, SET, TIMER

    assert ops
    for kind, key, value, weight in ops:
        assert isinstance(key, str)
        if kind in (COUNTER, TIMER, GAUGE, GAUGE_DELTA):
            assert key and _finite(value), (kind, key, value)
        if kind == TIMER:
            assert _finite(weight) and weight >= 1.0, weight
        elif kind == SET:
            assert key and isinstance(value, str)
        elif kind == BAD:
            assert isinstance(value, str)


def _check_points(points: list, bad: int, named: bool = True) -> None:
    """Finite values, timestamps in range; names non-empty once normalized (`named`)."""
    assert bad >= 0
    for name, stamp, value in points:
        assert isinstance(name, str) and (name or not named)
        name.encode("utf-8")
        assert _finite(stamp) and 0 <= stamp < 2**32
        assert _finite(value)


def check_carbon_lines(data: bytes) -> None:
    """Plaintext never raises; each non-blank line is one point or one refusal; the fast
    path (second pass) gives exactly what the full parser gave."""
    from carbon_store.cache import MetricCache
    from carbon_store.intake import Intake

    for lines in (data.split(b"\n"), data.splitlines()):
        reasons: list[str] = []
        intake = Intake(MetricCache(), lambda: NOW, on_bad=lambda why, _t, out=reasons:
                        out.append(why))
        first = intake.parse_lines(lines)
        bad = intake.bad_lines
        _check_points(first, bad)
        assert bad == len(reasons)
        assert 0 <= intake.bad_names <= bad
        assert intake.received == len(first)
        assert len(first) + bad == sum(1 for line in lines if line.split())
        second = intake.parse_lines(lines)
        assert second == first
        assert intake.bad_lines == 2 * bad
        assert intake.received == 2 * len(first)


class _GlobalResolved(AssertionError):
    pass


def _walk(root: object, builders: set[int]) -> None:
    """Only plain data in what was unpickled (and, pushed without being called, the
    bytes builders themselves: harmless, they only make bytes)."""
    seen: set[int] = set(builders)
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        assert type(obj) in _PLAIN_TYPES, type(obj)
        if isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())


def check_carbon_pickle(data: bytes) -> None:
    """The unpickler resolves no global (only the two bytes builders), returns only
    plain data or raises BadInput; parse_pickle and the intake never raise otherwise."""
    from carbon_store import wire
    from carbon_store.cache import MetricCache
    from carbon_store.intake import Intake

    allowed = set(map(id, wire._ALLOWED.values()))
    original = wire.SafeUnpickler.find_class

    def watched(self: object, module: str, name: str) -> object:
        found = original(self, module, name)
        if id(found) not in allowed:
            raise _GlobalResolved(f"{module}.{name} resolved to {found!r}")
        return found

    wire.SafeUnpickler.find_class = watched  # type: ignore[method-assign]
    try:
        try:
            loaded = wire.safe_loads(data)
        except wire.BadInput:
            loaded = None
        else:
            _walk(loaded, allowed)
        try:
            points, refused = wire.parse_pickle(data, lambda: NOW)
        except wire.BadInput:
            assert not isinstance(loaded, list | tuple)
            points, refused = None, []
        else:
            assert isinstance(loaded, list | tuple)
            assert len(points) + len(refused) == len(loaded)
            assert all(isinstance(why, str) for why in refused)
            _check_points(points, len(refused), named=False)
        reasons: list[str] = []
        intake = Intake(MetricCache(), lambda: NOW, on_bad=lambda why, _t: reasons.append(why))
        named = intake.parse_pickle(data)
        _check_points(named, intake.bad_lines)
        assert intake.bad_lines == len(reasons)
        assert intake.received == len(named)
        if points is None:
            assert named == [] and intake.bad_lines == 1
        else:
            assert len(named) + intake.bad_names == len(points)
            assert intake.bad_lines == len(refused) + intake.bad_names
    finally:
        wire.SafeUnpickler.find_class = original  # type: ignore[method-assign]


CHECKS: dict[str, Callable[[bytes], None]] = {
    "statsd": check_statsd,
    "carbon-lines": check_carbon_lines,
    "carbon-pickle": check_carbon_pickle,
}


# -- seeds ----------------------------------------------------------------------------

def seeds(target: str) -> list[bytes]:
    """A few valid inputs, so the fuzzer starts from the formats' interesting corners."""
    if target == "statsd":
        return [b"a.b:1|c", b"a:1|c|@0.5\nb:2|ms\nc:+3|g\nd:-1|g\ne:x|s",
                b"a:1|c:2|ms:3|g", b"a.b:1|c|#env:prod,x=y,bare", b"a;k=v;z=1:5|h|@0.1",
                b"a:1|d|c:abc|T1700000000|@0.5", b"_e{1,1}:a|b", b"_sc|x|0",
                b"bad line\n:1|c\na..b:1|c\na:1|q\na:1|c|@2\na:nan|g"]
    if target == "carbon-lines":
        return [b"a.b 1 1700000000", b"a.b 1.5 -1\nc;k=v 2 1700000000\r\n",
                b"a 1\n\n a b c\nx.y inf 1\nx.y 1 1e20\n\xff 1 2", b"a.b;z=1;a=2 3e2 17"]
    import pickle

    seeds_out = []
    for proto in range(6):
        seeds_out.append(pickle.dumps([("a.b", (1700000000, 1.5)), (b"c", (-1, 2)),
                                       ("bad", "x"), ("d", ("1", "nan"))], protocol=proto))
        seeds_out.append(pickle.dumps(({"a": (1, 2)}, b"", [None, True]), protocol=proto))
    return seeds_out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        usage="%(prog)s {statsd,carbon-lines,carbon-pickle} [--seconds N] [--corpus DIR] "
              "[libFuzzer args...]")
    # How the target reaches the processes libFuzzer starts itself (-merge, -fork):
    # it passes `--` flags through verbatim and ignores them.
    parser.add_argument("--fuzz-target", choices=TARGETS, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, default=None,
                        help="stop after this many seconds (libFuzzer -max_total_time)")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="corpus directory, read and grown (seeded if empty)")
    args, extra = parser.parse_known_args(argv[1:])
    # The target is taken out by hand: any other positional (a corpus directory given
    # to -merge=1) belongs to libFuzzer.
    target = args.fuzz_target
    if target is None:
        if not extra or extra[0] not in TARGETS:
            parser.error(f"the first argument must be one of {', '.join(TARGETS)}")
        target = extra.pop(0)

    import atheris

    with atheris.instrument_imports():
        import carbon_store.intake
        import carbon_store.names
        import carbon_store.wire  # noqa: F401
        import statsd_daemon.aggregator
        import statsd_daemon.parser  # noqa: F401

    # libFuzzer runs its child processes through the shell from argv[0].
    libfuzzer = [f"{sys.executable} {Path(__file__).resolve()}", f"--fuzz-target={target}",
                 *extra]
    if args.seconds is not None:
        libfuzzer.append(f"-max_total_time={args.seconds}")
    if args.corpus is not None:
        args.corpus.mkdir(parents=True, exist_ok=True)
        if not any(args.corpus.iterdir()):
            for i, seed in enumerate(seeds(target)):
                (args.corpus / f"seed-{i:02d}").write_bytes(seed)
        libfuzzer.append(str(args.corpus))
    atheris.Setup(libfuzzer, CHECKS[target])
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
