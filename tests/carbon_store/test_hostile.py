"""Hostile input to the store: names that try to leave the storage directory (through
every receiver, the cache query, and symbolic links planted in the tree), pickles built
to run a command, and corrupt or truncated whisper files."""

from __future__ import annotations

import os
import pickle
import re
import socket
import struct
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
import whisper

from carbon_store.cache import MetricCache
from carbon_store.index import MetricIndex
from carbon_store.reader import MetricReader
from carbon_store.schemas import AggregationRule, SchemaRule, StorageRules
from carbon_store.settings import CarbonSettings
from carbon_store.writer import Writer
from tests.conftest import wait_for

FAST = ("--max-updates-per-second", "inf", "--carbon-metric-interval", "0")
NOW = 1_700_000_000 - 1_700_000_000 % 3600

# Every way a name might try to leave the storage directory.
ESCAPES = [
    "..", "...", "../outside/made", "a/../../outside/made", "..%2F..%2Foutside%2Fmade",
    "%2Ftmp%2Fmade", "a.b\x00.c", "/tmp/made", "/", "a.../made", "\\..\\outside\\made",
    "outside.made", "a." + "x" * 300, ".".join(["x"] * 2000), "a.\u2215tmp\u2215made",
    "\uff0e\uff0e.outside.made", "\u2024\u2024.outside.made", "a.\u2025.made",
    "~/made", "made;tag=../../x", "made;../x=1", "link.made", "link.secret",
]


def listing(folder: Path) -> dict[str, list[str]]:
    """Every file and folder under `folder` (not following links), with its mtime."""
    out = {}
    for top, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            path = os.path.join(top, name)
            out[os.path.relpath(path, folder)] = os.lstat(path).st_mtime_ns
    return out


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path]:
    """A storage directory with a link `link` to a folder beside it holding secret.wsp."""
    storage, outside = tmp_path / "whisper", tmp_path / "outside"
    storage.mkdir()
    outside.mkdir()
    whisper.create(str(outside / "secret.wsp"), [(60, 1440)])
    whisper.update_many(str(outside / "secret.wsp"), [(NOW, 42.0)], now=NOW)
    (storage / "link").symlink_to(outside, target_is_directory=True)
    return storage, outside


# -- the index, the reader and the writer against planted links ------------------------

def test_the_index_follows_no_symbolic_link(planted):
    storage, outside = planted
    (storage / "real").mkdir()
    whisper.create(str(storage / "real" / "m.wsp"), [(60, 10)])
    (storage / "real" / "alias.wsp").symlink_to(outside / "secret.wsp")
    (storage / "real" / "loop").symlink_to(storage, target_is_directory=True)
    index = MetricIndex(storage)
    assert index.find("*") == [("real", False)]
    assert index.find("*.*") == [("real.m", True)]
    assert index.leaves() == ["real.m"]


def test_the_reader_reads_nothing_through_a_link_out(planted):
    storage, outside = planted
    (storage / "inside").mkdir()
    (storage / "inside" / "alias.wsp").symlink_to(outside / "secret.wsp")
    reader = MetricReader(storage)
    assert reader.fetch_many(["link.secret", "inside.alias"], NOW - 600, NOW, NOW) == {}
    # A link that stays inside the tree is still read.
    whisper.create(str(storage / "inside" / "real.wsp"), [(60, 1440)])
    whisper.update_many(str(storage / "inside" / "real.wsp"), [(NOW, 1.0)], now=NOW)
    (storage / "inside" / "same.wsp").symlink_to(storage / "inside" / "real.wsp")
    assert reader.fetch("inside.same", NOW - 600, NOW, NOW).to_list()[-1] == 1.0


def make_writer(storage: Path) -> tuple[Writer, MetricCache]:
    rules = StorageRules([SchemaRule("all", re.compile(""), ((60, 1440),))],
                         [AggregationRule("avg", re.compile(""), 0.5, "average")])
    config = replace(CarbonSettings(), storage=str(storage), max_updates_per_second=1e9)
    cache = MetricCache()
    return Writer(cache, lambda: rules, config), cache


def drain(writer: Writer) -> None:
    writer.stop(timeout=30)
    writer.run()


def test_the_writer_creates_and_writes_nothing_through_a_link_out(planted):
    storage, outside = planted
    before = listing(outside)
    secret = (outside / "secret.wsp").read_bytes()
    writer, cache = make_writer(storage)
    t = int(time.time()) // 60 * 60  # the writer writes as of the wall clock
    cache.store_many([("link.made", t, 1.0), ("link.secret", t, 2.0),
                      ("fine.metric", t, 3.0)])
    drain(writer)
    assert listing(outside) == before
    assert (outside / "secret.wsp").read_bytes() == secret
    # Both points through the link were dropped and counted; the other was written.
    assert writer.stats.errors == 2
    assert cache.size == 0
    assert points_in(storage / "fine" / "metric.wsp", t - 600) == [3.0]


@pytest.mark.parametrize("damage", ["garbage", "truncated header", "truncated data"])
def test_the_writer_leaves_a_corrupt_file_alone_and_counts_it(tmp_path, damage):
    storage = tmp_path / "whisper"
    path = storage / "bad" / "file.wsp"
    path.parent.mkdir(parents=True)
    whisper.create(str(path), [(60, 1440), (600, 1000)])
    if damage == "garbage":
        path.write_bytes(b"\x00garbage" * 3)
    else:
        with open(path, "r+b") as fh:
            fh.truncate(20 if damage == "truncated header" else 200)
    damaged = path.read_bytes()
    writer, cache = make_writer(storage)
    cache.store_many([("bad.file", NOW, 1.0)])
    assert writer.write("bad.file") is False
    assert path.read_bytes() == damaged  # not a byte written
    assert writer.stats.errors == 1
    assert cache.get("bad.file") == [(NOW, 1.0)]  # kept for when the file is mended
    writer._creator.shutdown(wait=True)


def test_a_whole_file_is_still_written_after_a_damaged_one(tmp_path):
    # The size of whole files is remembered; a damaged one of another size is caught.
    storage = tmp_path / "whisper"
    writer, cache = make_writer(storage)
    (storage / "a").mkdir(parents=True)
    for name in ("one", "two"):
        whisper.create(str(storage / "a" / f"{name}.wsp"), [(60, 1440)])
    with open(storage / "a" / "two.wsp", "r+b") as fh:
        fh.truncate(1000)
    cache.store_many([("a.one", NOW, 1.0), ("a.two", NOW, 2.0)])
    assert writer.write("a.one") is True
    assert writer.write("a.two") is False
    assert os.path.getsize(storage / "a" / "two.wsp") == 1000
    assert writer.stats.errors == 1 and writer.stats.committed_points == 1
    writer._creator.shutdown(wait=True)


def test_the_reader_refuses_a_truncated_file_and_names_it(tmp_path):
    storage = tmp_path / "whisper"
    (storage / "cut").mkdir(parents=True)
    path = storage / "cut" / "short.wsp"
    whisper.create(str(path), [(60, 1440)])
    whisper.update_many(str(path), [(NOW, 5.0)], now=NOW)
    with open(path, "r+b") as fh:
        fh.truncate(200)  # header whole, most of the data gone
    reader = MetricReader(storage)
    with reader.scope() as scope:
        assert reader.fetch("cut.short", NOW - 3600, NOW, NOW) is None
    assert list(scope.unreadable) == ["cut.short"]
    assert "truncated" in scope.unreadable["cut.short"]


# -- the real daemon ------------------------------------------------------------------

def points_in(path: Path, since: int) -> list[float]:
    if not path.exists():
        return []
    result = whisper.fetch(str(path), since)
    return [v for v in result[1] if v is not None] if result else []


def frame(payload: bytes) -> bytes:
    return struct.pack("!L", len(payload)) + payload


def test_escaping_names_through_every_receiver_stay_inside(carbon_daemon, planted, tmp_path):
    storage, outside = planted
    carbon = carbon_daemon(*FAST, storage=storage)
    beside = sorted(p for p in os.listdir(tmp_path) if not p.endswith(".log"))
    before = listing(outside)
    secret = (outside / "secret.wsp").read_bytes()
    t = int(time.time()) // 60 * 60
    carbon.send_lines(*[f"{name.replace(chr(0), '')} 1 {t}" for name in ESCAPES
                        if name.strip() and " " not in name])
    with socket.create_connection(("127.0.0.1", carbon.port)) as sock:
        sock.sendall(b"a.b\x00/../../x 1 " + str(t).encode() + b"\n")
    carbon.send_pickle([(name, (t, 1.0)) for name in ESCAPES])
    carbon.send_pickle([(name.encode("utf-8", "surrogatepass"), (t, 1.0))
                        for name in ESCAPES])
    for name in ESCAPES:
        reply = carbon.query({"type": "cache-query", "metric": name})
        assert set(reply) <= {"datapoints", "error"}
    carbon.query({"type": "cache-query-bulk", "metrics": ESCAPES})
    carbon.query({"type": "cache-find", "pattern": "../*"})
    carbon.send_lines(f"last.one 1 {t}")
    wait_for(lambda: points_in(carbon.path("last.one"), t - 600) == [1.0], what="written")
    wait_for(lambda: carbon.query({"type": "cache-query", "metric": "outside.made"}
                                  )["datapoints"] == [], what="cache drained")
    assert sorted(p for p in os.listdir(tmp_path) if not p.endswith(".log")) == beside
    assert listing(outside) == before
    assert (outside / "secret.wsp").read_bytes() == secret
    for path in storage.rglob("*"):  # everything made is inside, and is no link
        assert path.resolve().is_relative_to(storage.resolve()) or path == storage / "link"
    assert "symbolic link" in carbon.output()
    assert carbon.proc.poll() is None


def test_get_metadata_does_not_read_through_a_link_out(carbon_daemon, planted):
    storage, _ = planted
    carbon = carbon_daemon(*FAST, storage=storage)
    reply = carbon.query({"type": "get-metadata", "metric": "link.secret",
                          "key": "aggregationMethod"})
    assert "value" not in reply and "outside the storage" in reply["error"]
    exploding = carbon.query({"type": "cache-find", "pattern": "{a,b}" * 30})
    assert "expand to more than" in exploding["error"]
    assert "metrics" in carbon.query({"type": "cache-find", "pattern": "*"})


class RunsCommand:
    """Unpickles into a call of `function(*args)`."""

    def __init__(self, function, *args) -> None:
        self.function = function
        self.args = args

    def __reduce__(self):
        return self.function, self.args


def evil_pickles(marker: Path) -> list[bytes]:
    command = f"touch {marker}"
    objects = [
        RunsCommand(os.system, command),
        RunsCommand(subprocess.call, ["touch", str(marker)]),
        RunsCommand(subprocess.Popen, ["touch", str(marker)]),
        RunsCommand(eval, f"__import__('os').system({command!r})"),
        RunsCommand(exec, f"open({str(marker)!r}, 'w')"),
    ]
    out = []
    for obj in objects:
        for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
            out.append(pickle.dumps(obj, protocol=protocol))
            out.append(pickle.dumps([("a.b", (1, obj))], protocol=protocol))
            out.append(pickle.dumps({"type": "cache-query", "metric": obj},
                                    protocol=protocol))
    # Hand-written: GLOBAL + REDUCE, and INST, as protocol 0 spells them.
    out.append(b"cos\nsystem\n(S'" + command.encode() + b"'\ntR.")
    out.append(b"(S'" + command.encode() + b"'\nios\nsystem\n.")
    out.append(b"cbuiltins\neval\n(S'__import__(\"os\").system(\"" + command.encode()
               + b"\")'\ntR.")
    return out


def test_a_pickle_that_runs_a_command_is_refused_on_every_pickle_port(carbon_daemon,
                                                                       tmp_path):
    carbon = carbon_daemon(*FAST)
    marker = tmp_path / "pwned"
    payloads = evil_pickles(marker)
    for port in (carbon.pickle_port, carbon.query_port):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"".join(frame(p) for p in payloads))
            if port == carbon.query_port:  # one answer per request, each an error
                reader = sock.makefile("rb")
                for _ in payloads:
                    (size,) = struct.unpack("!L", reader.read(4))
                    reply = pickle.loads(reader.read(size))
                    assert "error" in reply and "datapoints" not in reply, reply
    t = int(time.time()) // 60 * 60
    carbon.send_pickle([("after.evil", (t, 1.0))])
    wait_for(lambda: points_in(carbon.path("after.evil"), t - 600) == [1.0], what="served")
    assert not marker.exists()
    assert "is not allowed" in carbon.output()
    assert carbon.proc.poll() is None
