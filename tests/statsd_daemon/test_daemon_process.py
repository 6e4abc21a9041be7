"""`statsgraph statsd` as a real subprocess over real loopback sockets."""

from __future__ import annotations

import os
import random
import signal
import socket
import time

from tests.conftest import CarbonListener, free_port, wait_for

FAST = ("--flush-interval", "1", "--drain-timeout", "10")


def test_udp_tcp_and_carbon(statsd, carbon):
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
    daemon.udp(b"udp.count:1|c\nudp.count:2|c", b"udp.time:320|ms", b"udp.gauge:42|g")
    with socket.create_connection(("127.0.0.1", daemon.port)) as tcp:
        tcp.sendall(b"tcp.count:5|c\ntcp.count:")
        tcp.sendall(b"6|c\ntcp.tagged:1|c|#env:prod\n")
    wait_for(lambda: carbon.total("stats_counts.udp.count") == 3, what="udp counts")
    wait_for(lambda: carbon.total("stats_counts.tcp.count") == 11, what="tcp counts")
    wait_for(lambda: carbon.total("stats_counts.tcp.tagged;env=prod") == 1, what="tags")
    assert 320.0 in carbon.values("stats.timers.udp.time.upper")
    assert 42.0 in carbon.values("stats.gauges.udp.gauge")
    # Every flush lands on a multiple of the interval.
    assert all(ts == int(ts) for _, _, ts in carbon.points)
    assert carbon.connections == 1  # one persistent connection, not one per flush
    assert daemon.stop() == 0


def test_large_datagrams_are_read_whole(statsd, carbon):
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
    packet = b"\n".join([b"big:1|c"] * 8000)  # 64,000 bytes: past Twisted's 8192 default
    assert len(packet) < 65507
    daemon.udp(packet)
    wait_for(lambda: carbon.total("stats_counts.big") == 8000, what="every line counted")
    assert carbon.total("stats_counts.statsd.bad_lines_seen") == 0


def test_admin_interface(statsd):
    daemon = statsd("--carbon", "none", "--flush-interval", "3600")
    daemon.udp(b"a.b:1|c\na.c:2|c\nt:5|ms\ng:7|g\ns:x|s\njunk")
    wait_for(lambda: '"a.b": 1' in daemon.admin("counters"), what="counter visible")
    stats = daemon.admin("stats")
    assert "uptime:" in stats and "messages.bad_lines_seen: 1" in stats
    assert "udp.receive_buffer:" in stats and stats.endswith("END\n\n")
    assert '"t": [\n    5\n  ]' in daemon.admin("timers")
    assert '"g": 7' in daemon.admin("gauges")
    assert '"s": [\n    "x"\n  ]' in daemon.admin("sets")
    assert daemon.admin("delcounters a.*") == "deleted: a.b\ndeleted: a.c\nEND\n\n"
    assert daemon.admin("health down") == "health: down\n"
    assert daemon.admin("health") == "health: down\n"
    assert "flush_interval: 3600.0" in daemon.admin("config")
    assert daemon.admin("what") == "ERROR\n"
    # Several commands in one write are answered in order.
    with socket.create_connection(("127.0.0.1", daemon.admin_port)) as sock:
        sock.sendall(b"health\r\nhealth\nquit\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data == b"health: down\nhealth: down\n"


def test_pickle_protocol(statsd):
    listener = CarbonListener(free_port(), protocol="pickle").start()
    try:
        daemon = statsd("--carbon", f"127.0.0.1:{listener.port}", "--carbon-protocol", "pickle",
                        *FAST)
        daemon.udp(b"p:4|c")
        wait_for(lambda: listener.total("stats_counts.p") == 4, what="pickled counts")
    finally:
        listener.stop()


def test_carbon_down_then_back_loses_nothing(statsd):
    port = free_port()
    daemon = statsd("--carbon", f"127.0.0.1:{port}", *FAST)
    sent = 0
    for _ in range(3):  # three flushes while carbon is away
        daemon.udp(b"queued:1|c")
        sent += 1
        time.sleep(1.0)
    wait_for(lambda: "graphite.last_exception" in daemon.admin("stats"), what="stats")
    listener = CarbonListener(port).start()
    try:
        daemon.udp(b"queued:1|c")
        sent += 1
        wait_for(lambda: listener.total("stats_counts.queued") == sent, timeout=40,
                 what="queued points after reconnect")
        stamps = [ts for path, _, ts in listener.points if path == "stats_counts.queued"]
        assert stamps == sorted(stamps)  # delivered in order
        # Carbon goes away again and comes back: still nothing lost.
        listener.stop()
        daemon.udp(b"queued:1|c")
        sent += 1
        time.sleep(1.5)
        listener.start()
        daemon.udp(b"queued:1|c")
        sent += 1
        wait_for(lambda: listener.total("stats_counts.queued") == sent, timeout=40,
                 what="points after the second outage")
    finally:
        listener.stop()


def test_queue_bound_drops_oldest_and_counts(statsd):
    port = free_port()
    daemon = statsd("--carbon", f"127.0.0.1:{port}", "--max-queue-points", "30", *FAST)
    for i in range(4):
        daemon.udp(b"q%d:1|c" % i)
        time.sleep(1.0)
    stats = wait_for(lambda: (s := daemon.admin("stats")) and
                     "graphite.dropped_points: 0" not in s and s, what="drops counted")
    assert "graphite.queued_points:" in stats
    assert "dropped the oldest" in daemon.output()


def test_sigterm_flushes_what_is_pending(statsd, carbon):
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", "--flush-interval", "3600")
    daemon.udp(b"final:7|c", b"final.t:3|ms")
    wait_for(lambda: '"final": 7' in daemon.admin("counters"), what="received")
    assert daemon.stop() == 0
    wait_for(lambda: carbon.total("stats_counts.final") == 7, what="final flush")
    assert 3.0 in carbon.values("stats.timers.final.t.upper")
    (stamp,) = {ts for path, _, ts in carbon.points if path == "stats_counts.final"}
    assert stamp % 3600 == 0 and stamp > time.time()  # the slot the interval would have had


def test_sigint_is_a_clean_stop_too(statsd, carbon):
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", "--flush-interval", "3600")
    daemon.udp(b"int:2|c")
    wait_for(lambda: '"int": 2' in daemon.admin("counters"), what="received")
    daemon.signal(signal.SIGINT)
    assert daemon.proc.wait(30) == 0
    wait_for(lambda: carbon.total("stats_counts.int") == 2, what="final flush")


def test_sighup_rereads_the_config(statsd, carbon, tmp_path):
    config = tmp_path / "statsgraph.conf"
    config.write_text("[statsd]\nlegacy_namespace = true\n")
    daemon = statsd("--config", str(config), "--carbon", f"127.0.0.1:{carbon.port}", *FAST)
    daemon.udp(b"hup:1|c")
    wait_for(lambda: carbon.total("stats_counts.hup") == 1, what="legacy name")
    config.write_text("[statsd]\nlegacy_namespace = false\nglobal_prefix = reloaded\n")
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: "configuration reloaded" in daemon.output(), what="reload")
    daemon.udp(b"hup:1|c")
    wait_for(lambda: carbon.total("reloaded.counters.hup.count") == 1, what="new names")
    # A broken file is refused and the running settings stay.
    config.write_text("[statsd]\nflush_interval = soon\n")
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: "not reloaded" in daemon.output(), what="refusal")
    assert "statsgraph.conf:2: [statsd] flush_interval:" in daemon.output()
    daemon.udp(b"hup:1|c")
    wait_for(lambda: carbon.total("reloaded.counters.hup.count") == 2, what="still running")


class TestHostileInput:
    def test_garbage_never_crashes_and_is_counted(self, statsd, carbon):
        daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
        rng = random.Random(1234)
        packets = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1400)))
                   for _ in range(300)]
        packets += [b"\x00" * 100, b"a\x00b:1|c", b"\xff\xfe\xfd:1|c", b"x" * 65000,
                    b":" * 5000, b"|" * 5000, b"k:1|", b"k:1|c|@", b"k:", b"_e{", b"_sc",
                    (b"a" * 70000)[:65507]]
        daemon.udp(*packets)
        daemon.udp(b"good:1|c\n\xff\xfe\ngarbage here\ngood:2|c\nk:1|c|@0\ngood:3|c")
        wait_for(lambda: carbon.total("stats_counts.good") == 6, what="good lines of a mix")
        assert daemon.proc.poll() is None
        wait_for(lambda: carbon.total("stats_counts.statsd.bad_lines_seen") >= 300,
                 what="bad lines counted")
        assert "bad line" in daemon.output()
        # Rate-limited: far fewer log lines than bad lines.
        assert daemon.output().count("bad line (") <= 20

    def test_tcp_overlong_line_keeps_connection_and_neighbours(self, statsd, carbon):
        daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
        with socket.create_connection(("127.0.0.1", daemon.port)) as tcp:
            tcp.sendall(b"before:1|c\n" + b"x" * 200_000 + b"\nafter:1|c\n")
            tcp.sendall(b"later:1|c\n")
            wait_for(lambda: carbon.total("stats_counts.later") == 1, what="after overlong")
        assert carbon.total("stats_counts.before") == 1
        assert carbon.total("stats_counts.after") == 1
        assert "longer than" in daemon.output()

    def test_abrupt_tcp_disconnect_mid_line(self, statsd, carbon):
        daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
        tcp = socket.create_connection(("127.0.0.1", daemon.port))
        tcp.sendall(b"whole:1|c\nhalf:1|")
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        tcp.close()  # RST
        daemon.udp(b"next:1|c")
        wait_for(lambda: carbon.total("stats_counts.next") == 1, what="still serving")
        assert carbon.total("stats_counts.whole") == 1


def test_bad_config_is_refused_with_file_line_and_key(tmp_path):
    import subprocess
    import sys
    config = tmp_path / "bad.conf"
    config.write_text("[statsd]\nport = 8125\npercent_threshold = 90, abc\n")
    result = subprocess.run([sys.executable, "-m", "statsgraph", "statsd", "--config",
                             str(config)], capture_output=True, text=True, timeout=60,
                            env={**os.environ})
    assert result.returncode == 2
    assert f"{config}:3: [statsd] percent_threshold: expected a number, got 'abc'" in (
        result.stderr)


def test_port_in_use_fails_to_start(tmp_path):
    import subprocess
    import sys
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "statsgraph", "statsd", "--port", "0",
                                 "--admin-port", str(port), "--carbon", "none"],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot start" in result.stdout  # logs go to standard output
