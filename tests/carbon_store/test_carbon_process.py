"""`statsgraph carbon` as a real subprocess: sockets in, whisper files out."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import whisper

from tests.conftest import wait_for

FAST = ("--max-updates-per-second", "inf", "--carbon-metric-interval", "0")


def now10() -> int:
    return int(time.time()) // 60 * 60


def points_in(path, since) -> list[float]:
    if not path.exists():
        return []
    result = whisper.fetch(str(path), since)
    return [v for v in result[1] if v is not None] if result else []


def test_plaintext_tcp_udp_and_pickle_into_whisper(carbon_daemon):
    carbon = carbon_daemon(*FAST)
    t = now10()
    carbon.send_lines(f"tcp.a 1.5 {t - 120}", f"tcp.a 2.5 {t - 60}", "bad line",
                      f"tcp.a..b 1 {t}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(f"udp.a 7 {t - 60}\nudp.b 8 {t - 60}\n".encode(), ("127.0.0.1", carbon.port))
    carbon.send_pickle([("pickled.a", (t - 60, 9.0)), ("pickled.b", (t - 60, "10"))])
    wait_for(lambda: points_in(carbon.path("tcp.a"), t - 600) == [1.5, 2.5], what="tcp")
    wait_for(lambda: points_in(carbon.path("udp.b"), t - 600) == [8.0], what="udp")
    wait_for(lambda: points_in(carbon.path("pickled.b"), t - 600) == [10.0], what="pickle")
    assert points_in(carbon.path("udp.a"), t - 600) == [7.0]
    assert points_in(carbon.path("pickled.a"), t - 600) == [9.0]
    assert "expected 3 fields" in carbon.output()
    assert "empty node in name" in carbon.output()
    assert not (carbon.storage / "tcp" / "a" / "b.wsp").exists()
    # The files are plain whisper: the whisper package's own script reads them.
    script = os.path.join(os.path.dirname(sys.executable), "whisper-fetch.py")
    fetched = subprocess.run([sys.executable, script, "--from", str(t - 600),
                              str(carbon.path("tcp.a"))], capture_output=True, text=True)
    assert fetched.returncode == 0, fetched.stderr
    values = [line.split()[1] for line in fetched.stdout.splitlines()]
    assert "1.500000" in values and "2.500000" in values


def test_tagged_series_and_the_cache_query(carbon_daemon, tmp_path):
    carbon = carbon_daemon("--max-updates-per-second", "0.001", "--carbon-metric-interval", "0")
    t = now10()
    carbon.send_lines(f"cpu;host=a;dc=x 42 {t}", f"cpu;dc=x;host=a 43 {t}")
    reply = wait_for(lambda: (r := carbon.query({"type": "cache-query",
                                                 "metric": "cpu;host=a;dc=x"}))
                     and r["datapoints"] and r, what="cached")
    assert reply == {"datapoints": [(t, 43.0)]}  # normalized name; the re-sent value wins
    bulk = carbon.query({"type": "cache-query-bulk", "metrics": ["cpu;dc=x;host=a", "nope"]})
    assert bulk == {"datapointsByMetric": {"cpu;dc=x;host=a": [(t, 43.0)], "nope": []}}
    assert "error" in carbon.query({"type": "what"})


def test_a_pickle_that_runs_code_is_refused(carbon_daemon, tmp_path):
    carbon = carbon_daemon(*FAST)
    marker = tmp_path / "pwned"
    evil = (b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    import struct
    with socket.create_connection(("127.0.0.1", carbon.pickle_port)) as sock:
        sock.sendall(struct.pack("!L", len(evil)) + evil)
        t = now10()
        good = __import__("pickle").dumps([("after.evil", (t, 1.0))], protocol=2)
        sock.sendall(struct.pack("!L", len(good)) + good)  # same connection survives
    wait_for(lambda: points_in(carbon.path("after.evil"), t - 600) == [1.0], what="good frame")
    assert not marker.exists()
    assert "unsafe or broken pickle" in carbon.output()


def test_oversized_frames_and_lines_drop_only_that_connection(carbon_daemon):
    carbon = carbon_daemon(*FAST, "--line-max-length", "100", "--pickle-max-length", "2048")
    import struct
    with socket.create_connection(("127.0.0.1", carbon.pickle_port)) as sock:
        sock.sendall(struct.pack("!L", 10_000_000))
        assert wait_for(lambda: sock.recv(1) == b"", what="pickle connection dropped") is True
    with socket.create_connection(("127.0.0.1", carbon.port)) as sock:
        sock.sendall(b"x" * 500)
        assert wait_for(lambda: sock.recv(1) == b"", what="line connection dropped") is True
    t = now10()
    carbon.send_lines(f"still.up 1 {t}")
    wait_for(lambda: points_in(carbon.path("still.up"), t - 600) == [1.0], what="still serving")


def test_a_corrupt_file_does_not_stop_other_writes(carbon_daemon, tmp_path):
    storage = tmp_path / "whisper"
    (storage / "broken").mkdir(parents=True)
    (storage / "broken" / "file.wsp").write_bytes(b"\x00garbage" * 3)
    carbon = carbon_daemon(*FAST, storage=storage)
    t = now10()
    carbon.send_lines(f"broken.file 1 {t}", f"fine.file 2 {t}")
    wait_for(lambda: points_in(carbon.path("fine.file"), t - 600) == [2.0], what="other write")
    wait_for(lambda: "cannot write 'broken.file'" in carbon.output(), what="error logged")
    assert carbon.proc.poll() is None


def test_sigterm_under_load_loses_nothing(carbon_daemon, tmp_path):
    storage = tmp_path / "whisper"
    # Writes slowed to a crawl: most points are still cached at SIGTERM, and the
    # shutdown drain is given too little time, so the rest goes to the dump.
    carbon = carbon_daemon("--max-updates-per-second", "5", "--carbon-metric-interval", "0",
                           "--max-updates-per-second-on-shutdown", "20",
                           "--shutdown-timeout", "1", storage=storage)
    t = now10()
    metrics = [f"load.m{i:03d}" for i in range(200)]
    lines = [f"{m} {j} {t - 600 + 60 * j}" for m in metrics for j in range(10)]
    carbon.send_lines(*lines)
    wait_for(lambda: "dropped" not in carbon.output() and carbon.query(
        {"type": "cache-query", "metric": metrics[-1]})["datapoints"], what="all received")
    assert carbon.stop() == 0
    assert (storage / "carbon-cache.dump").exists()
    assert "dumped to" in carbon.output()
    # The next start loads the dump and writes it.
    again = carbon_daemon(*FAST, storage=storage)
    wait_for(lambda: all(points_in(again.path(m), t - 3600) == [float(j) for j in range(10)]
                         for m in metrics), timeout=60, what="every point on disk")
    assert not (storage / "carbon-cache.dump").exists()
    assert again.stop() == 0


def test_clean_stop_writes_the_cache(carbon_daemon):
    carbon = carbon_daemon("--max-updates-per-second", "0.001", "--carbon-metric-interval", "0")
    t = now10()
    carbon.send_lines(*[f"held.m{i} {i} {t}" for i in range(20)])
    wait_for(lambda: carbon.query({"type": "cache-query", "metric": "held.m19"})["datapoints"],
             what="cached")
    assert not carbon.path("held.m19").exists()
    carbon.proc.send_signal(signal.SIGINT)
    assert carbon.proc.wait(60) == 0
    assert all(points_in(carbon.path(f"held.m{i}"), t - 600) == [float(i)] for i in range(20))


def test_flow_control_pauses_and_resumes(carbon_daemon):
    carbon = carbon_daemon("--max-cache-size", "50", "--carbon-metric-interval", "0",
                           "--max-updates-per-second", "20")
    t = now10()
    carbon.send_lines(*[f"flow.m{i} 1 {t}" for i in range(300)])
    wait_for(lambda: "pausing receivers" in carbon.output(), what="paused")
    wait_for(lambda: "resuming" in carbon.output(), timeout=60, what="resumed")
    wait_for(lambda: all(points_in(carbon.path(f"flow.m{i}"), t - 600) == [1.0]
                         for i in range(300)), timeout=60, what="nothing lost")


def test_self_metrics(carbon_daemon):
    carbon = carbon_daemon("--carbon-metric-interval", "1", "--max-updates-per-second", "inf")
    host = socket.gethostname().split(".")[0]
    path = carbon.storage / "carbon" / "agents" / host / "metricsReceived.wsp"
    wait_for(path.exists, what="carbon.agents.<host>.metricsReceived")
    for name in ("cache/size.wsp", "committedPoints.wsp", "creates.wsp", "errors.wsp"):
        wait_for((path.parent / name).exists, what=name)


def test_bad_storage_rules_are_refused_at_start(tmp_path):
    (tmp_path / "storage-schemas.conf").write_text("[x]\npattern = .*\nretentions = 60s\n")
    config = tmp_path / "statsgraph.conf"
    config.write_text("[carbon]\n")
    result = subprocess.run([sys.executable, "-m", "statsgraph", "carbon", "--config",
                             str(config), "--storage", str(tmp_path / "w")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{tmp_path / 'storage-schemas.conf'}:3: [x] retentions:" in result.stderr


def test_bad_carbon_config_names_file_line_key(tmp_path):
    config = tmp_path / "statsgraph.conf"
    config.write_text("[carbon]\nmax_cache_size = lots\n")
    result = subprocess.run([sys.executable, "-m", "statsgraph", "carbon", "--config",
                             str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{config}:2: [carbon] max_cache_size: expected a number or inf" in result.stderr


def test_a_tagged_series_is_found_by_its_tags(carbon_daemon, tmp_path):
    """The store records each tagged name it creates, so the tag index can list it."""
    from carbon_store.tagindex import TagIndex

    carbon = carbon_daemon("--max-updates-per-second", "inf")
    carbon.send_lines(f"disk.used;dc=us;host=a 5 {int(time.time())}")
    index = TagIndex(carbon.storage, max_age=0)
    wait_for(lambda: index.find_series(["dc=us"]), timeout=30,
             what="the tagged series in the tag index")
    assert index.find_series(["dc=us"]) == ["disk.used;dc=us;host=a"]
