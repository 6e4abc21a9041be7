"""client.clients: every method's bytes on a real socket, pipelines, never raising, and
the client's packets through a real `statsgraph statsd` into carbon."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

import pytest

from client import clients as clients_module
from client.clients import (
    Pipeline,
    StatsClient,
    TCPStatsClient,
    UnixSocketStatsClient,
)
from tests.conftest import free_port, wait_for


@pytest.fixture
def client(udp):
    made = StatsClient("127.0.0.1", udp.port)
    yield made
    made.close()


@pytest.mark.parametrize(("call", "wire"), [
    (lambda c: c.increment("hits"), b"hits:1|c"),
    (lambda c: c.incr("hits", 5), b"hits:5|c"),
    (lambda c: c.increment("hits", 2.5), b"hits:2.5|c"),
    (lambda c: c.decrement("hits"), b"hits:-1|c"),
    (lambda c: c.decr("hits", 3), b"hits:-3|c"),
    (lambda c: c.gauge("load", 0.75), b"load:0.75|g"),
    (lambda c: c.gauge("load", 12), b"load:12|g"),
    (lambda c: c.gauge("load", -4), b"load:0|g\nload:-4|g"),
    (lambda c: c.gauge("load", 4, delta=True), b"load:+4|g"),
    (lambda c: c.gauge("load", -4, delta=True), b"load:-4|g"),
    (lambda c: c.gauge("load", 0, delta=True), b"load:+0|g"),
    (lambda c: c.timing("t", 320), b"t:320|ms"),
    (lambda c: c.timing("t", 12.5), b"t:12.5|ms"),
    (lambda c: c.timing("t", 0.0), b"t:0.0|ms"),
    (lambda c: c.timing("t", timedelta(milliseconds=320)), b"t:320.0|ms"),
    (lambda c: c.timing("t", timedelta(seconds=2, microseconds=1)), b"t:2000.001|ms"),
    (lambda c: c.set("users", "alice"), b"users:alice|s"),
    (lambda c: c.set("users", 42), b"users:42|s"),
    (lambda c: c.set("users", "a:b|c"), b"users:a_b_c|s"),
    (lambda c: c.set("users", "zoë"), "users:zoë|s".encode()),
    (lambda c: c.histogram("size", 512), b"size:512|h"),
    (lambda c: c.histogram("delta", -3.5), b"delta:-3.5|h"),
    (lambda c: c.distribution("latency", 7.25), b"latency:7.25|d"),
    (lambda c: c.increment("api.3_0.endpoint_request." + "users"),
     b"api.3_0.endpoint_request.users:1|c"),
    (lambda c: c.increment("my metric/name:x"), b"my_metric-namex:1|c"),
])
def test_each_method_sends_exactly(client, udp, call, wire):
    call(client)
    call(client)  # the second call takes the cached path where there is one
    assert udp.packets(2) == [wire, wire]


def test_prefix_and_constant_tags(udp):
    client = StatsClient("127.0.0.1", udp.port, prefix="myapp", tags={"env": "prod"})
    client.increment("hits")
    client.timing("t", 1.5)
    client.gauge("g", -1)
    client.increment("hits", tags=["host:web1"])
    client.increment("hits", tags={"env": "dev"})
    client.set("s", "x", tags=["bare"])
    assert udp.packets(6) == [
        b"myapp.hits:1|c|#env:prod",
        b"myapp.t:1.5|ms|#env:prod",
        b"myapp.g:0|g|#env:prod\nmyapp.g:-1|g|#env:prod",
        b"myapp.hits:1|c|#env:prod,host:web1",
        b"myapp.hits:1|c|#env:dev",
        b"myapp.s:x|s|#env:prod,bare",
    ]


def test_tags_as_list_dict_and_are_cleaned(client, udp):
    client.increment("a", tags=["k:v", "b=c", "flag"])
    client.increment("a", tags={"k": "v w", "n": 1, "flag": None})
    client.increment("a", tags=["é:x", "path:/a/b"])
    client.increment("a", tags=iter(["gen:1"]))  # any iterable, read once
    client.increment("a", tags=["gen:1"])
    assert udp.packets(5) == [b"a:1|c|#k:v,b:c,flag", b"a:1|c|#k:v_w,n:1,flag",
                              b"a:1|c|#path:-a-b", b"a:1|c|#gen:1", b"a:1|c|#gen:1"]


def test_sampling_flips_a_coin_and_marks_the_rate(client, udp, monkeypatch):
    draws = iter([0.05, 0.5, 0.099, 0.1])
    monkeypatch.setattr(clients_module, "random", lambda: next(draws))
    client.increment("s", rate=0.1)  # 0.05 < 0.1: sent
    client.timing("t", 5, rate=0.1)  # 0.5: not sent
    client.gauge("g", 3, rate=0.1)  # 0.099: sent
    client.histogram("h", 1, rate=0.1, tags=["k:v"])  # 0.1: not sent
    client.increment("after")
    assert udp.packets(3) == [b"s:1|c|@0.1", b"g:3|g|@0.1", b"after:1|c"]


def test_rate_of_zero_or_less_sends_nothing_and_above_one_sends_plainly(client, udp):
    client.increment("never", rate=0)
    client.increment("never", rate=-1)
    client.increment("always", rate=2)
    assert udp.packets(1) == [b"always:1|c"]


def test_sampling_is_a_real_coin(client, udp):
    for _ in range(2000):
        client.increment("coin", rate=0.5)
    client.increment("end")
    count = 0
    while udp.packet() != b"end:1|c":
        count += 1
    assert 700 < count < 1300  # binomial(2000, 0.5): 13 standard deviations each way


@pytest.mark.parametrize("call", [
    lambda c: c.increment(""),
    lambda c: c.increment("a..b"),
    lambda c: c.increment("é"),
    lambda c: c.increment(".leading"),
    lambda c: c.increment("x", "not a number"),
    lambda c: c.increment("x", float("nan")),
    lambda c: c.increment(None),
    lambda c: c.increment(["unhashable"]),
    lambda c: c.increment("x", [1]),
    lambda c: c.decrement("x", "nope"),
    lambda c: c.timing("t", -1),
    lambda c: c.timing("t", float("inf")),
    lambda c: c.timing("t", "slow"),
    lambda c: c.timing("t", None),
    lambda c: c.gauge("g", None),
    lambda c: c.gauge("g", float("nan"), delta=True),
    lambda c: c.histogram("h", "x"),
    lambda c: c.increment("x", rate=None),
    lambda c: c.increment("x", rate="half"),
    lambda c: c.gauge("g", 1, rate="half"),
    lambda c: c.increment("x", tags=5),
])
def test_bad_input_is_dropped_without_raising(client, udp, call, caplog):
    with caplog.at_level(logging.DEBUG, logger="statsgraph.client"):
        call(client)
    client.increment("sentinel")
    assert udp.packet() == b"sentinel:1|c"  # nothing was sent before it
    assert "dropped" in caplog.text


def test_unhashable_tag_values_are_sent(client, udp):
    client.increment("x", tags={"k": ["a"]})
    assert udp.packet() == b"x:1|c|#k:a"


def test_nothing_listening_never_raises():
    client = StatsClient("127.0.0.1", free_port())
    for _ in range(100):
        client.increment("x")
        client.timing("t", 3)
        with client.pipeline() as pipe:
            pipe.increment("y")
    client.close()


def test_unresolvable_host_never_raises():
    client = StatsClient("no-such-host.invalid", 8125)
    client.increment("x")
    client.gauge("g", -1)
    with client.pipeline() as pipe:
        pipe.timing("t", 1)


def test_caches_are_bounded(client, udp, monkeypatch):
    monkeypatch.setattr(clients_module, "CACHE_LIMIT", 10)
    for i in range(50):
        client.increment(f"m{i}")
        client.timing(f"t{i}", 1.5)
        client.increment("tagged", tags=[f"k:{i}"])
    udp.packets(150)
    assert len(client._counts) <= 10
    assert len(client._heads) <= 10
    assert len(client._tag_texts) <= 10


def test_the_cache_does_not_mix_counts(client, udp):
    client.increment("x", 1)
    client.increment("x", 2)
    client.increment("x", 1.0)
    client.increment("x", True)
    client.decrement("x", 1)
    assert udp.packets(5) == [b"x:1|c", b"x:2|c", b"x:1|c", b"x:1|c", b"x:-1|c"]


def test_pipeline_packs_into_packets_of_at_most_max_packet_size(udp):
    client = StatsClient("127.0.0.1", udp.port, max_packet_size=64)
    with client.pipeline() as pipe:
        for i in range(40):
            pipe.increment(f"metric.{i:02d}")  # 13 bytes each
        assert len(pipe) == 40
    expected_lines = [f"metric.{i:02d}:1|c".encode() for i in range(40)]
    # 4 lines are 4*13 + 3 = 55 bytes; a 5th would make 69.
    packets = udp.packets(10)
    assert all(len(packet) <= 64 for packet in packets)
    assert [len(packet) for packet in packets] == [55] * 10
    assert b"\n".join(packets).split(b"\n") == expected_lines


def test_pipeline_default_size_is_1432_bytes(client, udp):
    with client.pipeline() as pipe:
        for i in range(500):
            pipe.timing(f"some.longer.metric.name.{i:03d}", i + 0.5)
    lines = [f"some.longer.metric.name.{i:03d}:{i + 0.5}|ms".encode() for i in range(500)]
    total = sum(len(line) for line in lines) + len(lines) - 1
    packets = []
    while sum(len(p) for p in packets) + len(packets) - 1 < total:
        packets.append(udp.packet())
    assert all(len(packet) <= 1432 for packet in packets)
    assert all(len(packet) > 1432 - 45 for packet in packets[:-1])  # filled up
    assert b"\n".join(packets).split(b"\n") == lines


def test_pipeline_keeps_a_negative_gauge_in_one_packet(udp):
    client = StatsClient("127.0.0.1", udp.port, max_packet_size=20)
    with client.pipeline() as pipe:
        pipe.increment("abcdefgh")  # 12 bytes
        pipe.gauge("g", -5)  # g:0|g\ng:-5|g, 12 bytes
    assert udp.packets(2) == [b"abcdefgh:1|c", b"g:0|g\ng:-5|g"]


def test_pipeline_sends_on_exception_and_can_be_reused(client, udp):
    with pytest.raises(ZeroDivisionError), client.pipeline() as pipe:
        pipe.increment("before")
        1 / 0  # noqa: B018
    assert udp.packet() == b"before:1|c"
    pipe.increment("again")
    pipe.send()
    pipe.send()  # nothing left: no empty packet
    client.increment("sentinel")
    assert udp.packets(2) == [b"again:1|c", b"sentinel:1|c"]


def test_nested_pipeline_goes_out_with_the_outer_one(client, udp):
    with client.pipeline() as outer:
        outer.increment("a")
        with outer.pipeline() as inner:
            inner.increment("b")
        assert len(outer) == 2
        outer.increment("c")
    assert udp.packet() == b"a:1|c\nb:1|c\nc:1|c"


def test_pipeline_has_every_method(client, udp):
    with client.pipeline() as pipe:
        assert isinstance(pipe, Pipeline)
        pipe.incr("a")
        pipe.decr("a")
        pipe.gauge("g", 1, delta=True)
        pipe.set("s", "x")
        pipe.histogram("h", 1)
        pipe.distribution("d", 2)
        pipe.timing("t", timedelta(milliseconds=3))
        with pipe.timer("timed"):
            pass
    lines = udp.packet().split(b"\n")
    assert lines[:7] == [b"a:1|c", b"a:-1|c", b"g:+1|g", b"s:x|s", b"h:1|h", b"d:2|d",
                         b"t:3.0|ms"]
    assert lines[7].startswith(b"timed:") and lines[7].endswith(b"|ms")


def test_client_is_thread_safe(client, udp):
    def work(n: int) -> None:
        for i in range(200):
            client.increment(f"thread.{n}")
            client.timing(f"time.{n}", float(i))
            with client.pipeline() as pipe:
                pipe.increment(f"pipe.{n}")
                pipe.increment(f"pipe.{n}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    packets = udp.packets(6 * 200 * 3, timeout=15)
    for n in range(6):
        assert packets.count(f"thread.{n}:1|c".encode()) == 200
        assert packets.count(f"pipe.{n}:1|c\npipe.{n}:1|c".encode()) == 200
        times = {p for p in packets if p.startswith(f"time.{n}:".encode())}
        assert times == {f"time.{n}:{float(i)}|ms".encode() for i in range(200)}


def test_client_after_fork_sends_from_a_new_socket(client, udp):
    client.increment("parent")
    pid = os.fork()
    if pid == 0:
        try:
            client.increment("child")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    client.increment("parent")
    received = udp.take(3)
    parent = {sender for data, sender in received if data == b"parent:1|c"}
    child = {sender for data, sender in received if data == b"child:1|c"}
    assert len(parent) == 1 and len(child) == 1  # the parent kept its socket
    assert parent != child


def test_tcp_client(tcp):
    client = TCPStatsClient("127.0.0.1", tcp.port, prefix="p")
    client.increment("a")
    client.gauge("g", -1)
    with client.pipeline() as pipe:
        pipe.increment("b")
        pipe.timing("t", 2)
    expected = b"p.a:1|c\np.g:0|g\np.g:-1|g\np.b:1|c\np.t:2|ms\n"
    assert tcp.wait(expected) == expected
    client.close()


def test_tcp_client_with_nothing_listening_never_raises():
    client = TCPStatsClient("127.0.0.1", free_port())
    for _ in range(50):
        client.increment("x")
    client.flush()
    client.close()


def test_unix_stream_client(unix_stream):
    client = UnixSocketStatsClient(unix_stream.address, tags=["k:v"])
    client.increment("a")
    client.set("s", 1)
    expected = b"a:1|c|#k:v\ns:1|s|#k:v\n"
    assert unix_stream.wait(expected) == expected
    client.close()


def test_unix_datagram_client(unix_dgram):
    client = UnixSocketStatsClient(unix_dgram.address, socket_type="dgram")
    client.distribution("d", 1)
    with client.pipeline() as pipe:
        pipe.increment("a")
        pipe.increment("b")
    assert unix_dgram.packets(2) == [b"d:1|d", b"a:1|c\nb:1|c"]
    client.close()


def test_unix_client_rejects_an_unknown_socket_type():
    with pytest.raises(ValueError, match="socket_type"):
        UnixSocketStatsClient("/nowhere", socket_type="seqpacket")


def test_unix_client_with_no_socket_never_raises(short_tmp):
    for kind in ("stream", "dgram"):
        client = UnixSocketStatsClient(str(short_tmp / "none.sock"), socket_type=kind)
        client.increment("x")
        client.close()


def test_no_socket_until_the_first_metric(udp):
    client = StatsClient("127.0.0.1", udp.port)
    assert client._transport._sock is None
    client.increment("x")
    assert isinstance(client._transport._sock, socket.socket)
    udp.take(1)


# -- end to end: the client into `statsgraph statsd`, flushed into a carbon listener ----

FAST = ("--flush-interval", "1", "--drain-timeout", "10")


def test_end_to_end_through_the_daemon(statsd, carbon):
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
    client = StatsClient("127.0.0.1", daemon.port, prefix="e2e")
    tcp_client = TCPStatsClient("127.0.0.1", daemon.port, prefix="e2e.tcp")
    for _ in range(7):
        client.increment("hits")
    client.decrement("hits", 2)
    client.increment("api.3_0.endpoint_request." + "users")
    client.increment("weird name/with:chars")
    client.gauge("temperature", -12.5)
    client.gauge("queue", 10)
    client.gauge("queue", -3, delta=True)
    for value in (100, 200, 300, 400):
        client.timing("latency", value)
    client.timing("latency.td", timedelta(milliseconds=250))
    client.set("visitors", "alice")
    client.set("visitors", "bob")
    client.set("visitors", "alice")
    client.histogram("payload", 5)
    client.distribution("payload.d", 9)
    client.increment("tagged", 3, tags={"env": "prod", "dc": "eu"})
    with client.pipeline() as pipe:
        for _ in range(100):
            pipe.increment("piped")
    tcp_client.increment("count", 4)
    tcp_client.flush()

    def flushed(path, value):
        return lambda: value in carbon.values(path)

    wait_for(lambda: carbon.total("stats_counts.e2e.hits") == 5, what="counter")
    wait_for(lambda: carbon.total("stats_counts.e2e.piped") == 100, what="pipelined")
    wait_for(lambda: carbon.total("stats_counts.e2e.tcp.count") == 4, what="tcp")
    assert carbon.total("stats_counts.e2e.api.3_0.endpoint_request.users") == 1
    assert carbon.total("stats_counts.e2e.weird_name-withchars") == 1
    assert carbon.total("stats_counts.e2e.tagged;dc=eu;env=prod") == 3
    wait_for(flushed("stats.gauges.e2e.temperature", -12.5), what="negative gauge")
    wait_for(flushed("stats.gauges.e2e.queue", 7.0), what="gauge delta")
    wait_for(flushed("stats.timers.e2e.latency.upper", 400.0), what="timer")
    assert flushed("stats.timers.e2e.latency.lower", 100.0)()
    assert flushed("stats.timers.e2e.latency.sum", 1000.0)()
    assert flushed("stats.timers.e2e.latency.count", 4.0)()
    assert flushed("stats.timers.e2e.latency.td.upper", 250.0)()
    assert flushed("stats.sets.e2e.visitors.count", 2.0)()
    assert flushed("stats.timers.e2e.payload.upper", 5.0)()
    assert flushed("stats.timers.e2e.payload.d.upper", 9.0)()
    assert carbon.total("stats_counts.statsd.bad_lines_seen") == 0
    client.close()
    tcp_client.close()
    assert daemon.stop() == 0


def test_end_to_end_sampled_counts_are_scaled(statsd, carbon, monkeypatch):
    draws = iter([0.0, 0.9] * 50)
    monkeypatch.setattr(clients_module, "random", lambda: next(draws))
    daemon = statsd("--carbon", f"127.0.0.1:{carbon.port}", *FAST)
    client = StatsClient("127.0.0.1", daemon.port)
    for _ in range(100):  # every other one sent, each as 1/0.5 = 2
        client.increment("sampled", rate=0.5)
    wait_for(lambda: carbon.total("stats_counts.sampled") == 100, what="scaled count")
    client.close()
