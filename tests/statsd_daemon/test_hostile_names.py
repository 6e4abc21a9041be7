"""Names that try to leave the storage directory, sent to a real `statsgraph statsd`
flushing into a real `statsgraph carbon`: nothing outside the storage directory is
created or written, through a symbolic link planted in the tree or otherwise."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import whisper

from tests.conftest import wait_for

FAST = ("--flush-interval", "1", "--drain-timeout", "10")
CARBON = ("--max-updates-per-second", "inf", "--carbon-metric-interval", "0")

HOSTILE = [
    "..", "../../outside/made", "..%2F..%2Foutside%2Fmade", "/tmp/made", "a/../../../made",
    "a.b\x00/../made", "\\..\\..\\made", "a." + "x" * 400, ".".join(["x"] * 1500),
    "\u2215tmp\u2215made", "\uff0e\uff0e.outside.made", "\u2024\u2024.made",
    "~/made", "link.made", "made;tag=../../x", "made;../x=1",
]


def listing(folder: Path) -> dict[str, int]:
    out = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(top, name)
            out[os.path.relpath(path, folder)] = os.lstat(path).st_mtime_ns
    return out


def test_hostile_names_through_statsd_stay_inside_the_storage(statsd, carbon_daemon,
                                                               tmp_path):
    storage, outside = tmp_path / "whisper", tmp_path / "outside"
    outside.mkdir()
    whisper.create(str(outside / "made.wsp"), [(60, 1440)])
    # Links planted where statsd's names land (legacy and new namespaces).
    for folder in ("stats", "stats_counts", "stats/counters", "stats/gauges",
                   "stats/timers", "stats/sets"):
        (storage / folder).mkdir(parents=True, exist_ok=True)
        (storage / folder / "link").symlink_to(outside, target_is_directory=True)
    carbon = carbon_daemon(*CARBON, storage=storage)
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
    beside = sorted(p for p in os.listdir(tmp_path) if not p.endswith(".log"))
    before = listing(outside)
    made = (outside / "made.wsp").read_bytes()

    packets = []
    for name in HOSTILE:
        raw = name.encode("utf-8", "surrogatepass")
        packets += [raw + b":1|c", raw + b":5|g", raw + b":20|ms", raw + b":u|s",
                    b"ok:1|c|#" + raw + b":x", raw + b":1|c|#env:" + raw]
    daemon.udp(*packets)
    with socket.create_connection(("127.0.0.1", daemon.port)) as tcp:
        tcp.sendall(b"\n".join(packets) + b"\nafter.hostile:1|c\n")

    after = storage / "stats_counts" / "after" / "hostile.wsp"
    wait_for(lambda: after.exists(), timeout=30, what="a flush written by carbon")
    # The hostile lines went out before `after.hostile` on the same connection; those
    # that carbon took into its cache (the link ones) are dropped by its writer.
    wait_for(lambda: "symbolic link" in carbon.output(), what="the link refused")
    wait_for(lambda: carbon.query({"type": "cache-query", "metric": "stats_counts.link.made"}
                                  )["datapoints"] == [], what="the link points dropped")
    assert sorted(p for p in os.listdir(tmp_path) if not p.endswith(".log")) == beside
    assert listing(outside) == before
    assert (outside / "made.wsp").read_bytes() == made
    for path in storage.rglob("*"):
        assert path.is_symlink() or path.resolve().is_relative_to(storage.resolve())
    assert daemon.proc.poll() is None and carbon.proc.poll() is None
    assert "bad_lines_seen" in daemon.admin("stats")
