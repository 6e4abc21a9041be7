"""client.timer: a context manager and a decorator of plain and async functions."""

from __future__ import annotations

import asyncio
import threading

import pytest

from client import StatsClient
from client.timer import Timer


class Recorder:
    """A stand-in client that keeps what `timing` was given."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.lock = threading.Lock()

    def timing(self, stat, ms, rate=1, tags=None):
        with self.lock:
            self.calls.append((stat, ms, rate, tags))


def test_context_manager_sends_milliseconds(udp):
    client = StatsClient("127.0.0.1", udp.port)
    with client.timer("block") as timer:
        pass
    packet = udp.packet()
    name, rest = packet.split(b":")
    assert name == b"block" and rest.endswith(b"|ms")
    assert float(rest[:-3]) == timer.ms >= 0
    assert len(rest[:-3].split(b".")[-1]) <= 6  # rounded to 6 decimals


def test_context_manager_sends_even_when_the_block_raises():
    recorder = Recorder()
    with pytest.raises(KeyError), Timer(recorder, "fails"):
        raise KeyError("x")
    assert [call[0] for call in recorder.calls] == ["fails"]


def test_decorator_on_a_plain_function_times_every_call_and_keeps_the_function():
    recorder = Recorder()

    @Timer(recorder, "fn", rate=0.5, tags={"k": "v"})
    def add(a, b=1):
        """Adds."""
        return a + b

    assert add(1, b=2) == 3
    assert add(5) == 6
    assert add.__name__ == "add" and add.__doc__ == "Adds."
    assert [(c[0], c[2], c[3]) for c in recorder.calls] == [("fn", 0.5, {"k": "v"})] * 2
    assert all(c[1] >= 0 for c in recorder.calls)


def test_decorator_on_a_function_that_raises_still_times_it():
    recorder = Recorder()

    @Timer(recorder, "boom")
    def boom():
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        boom()
    assert len(recorder.calls) == 1


def test_decorator_on_an_async_function_times_the_awaited_call():
    recorder = Recorder()
    loop_ran = []

    @Timer(recorder, "coro")
    async def fetch(x):
        await asyncio.sleep(0)
        loop_ran.append(x)
        return x * 2

    assert asyncio.iscoroutinefunction(fetch)
    assert asyncio.run(fetch(21)) == 42
    assert loop_ran == [21]
    assert [c[0] for c in recorder.calls] == ["coro"]


def test_async_context_manager():
    recorder = Recorder()

    async def main():
        async with Timer(recorder, "async.block"):
            await asyncio.sleep(0)

    asyncio.run(main())
    assert [c[0] for c in recorder.calls] == ["async.block"]


def test_decorated_function_is_safe_in_many_threads():
    recorder = Recorder()

    @Timer(recorder, "threaded")
    def work():
        return 1

    threads = [threading.Thread(target=lambda: [work() for _ in range(100)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recorder.calls) == 800


def test_start_stop_send_by_hand():
    recorder = Recorder()
    timer = Timer(recorder, "manual").start()
    timer.stop(send=False)
    assert recorder.calls == []
    timer.send()
    assert recorder.calls == [("manual", timer.ms, 1, None)]
    with pytest.raises(RuntimeError, match="already"):
        timer.send()


def test_misuse_is_reported():
    recorder = Recorder()
    with pytest.raises(RuntimeError, match="not been started"):
        Timer(recorder, "x").stop()
    with pytest.raises(RuntimeError, match="not been stopped"):
        Timer(recorder, "x").send()


def test_client_timer_decorator_through_a_real_socket(udp):
    client = StatsClient("127.0.0.1", udp.port, prefix="app")

    @client.timer("handler", tags=["route:home"])
    def handler():
        return "ok"

    assert handler() == "ok"
    packet = udp.packet()
    assert packet.startswith(b"app.handler:") and packet.endswith(b"|ms|#route:home")
