"""`client.timer(stat)`: time a block or a function and send it as a `timing`.

    with statsd.timer("db.query"):
        ...

    @statsd.timer("api.handler")
    def handler(request): ...

    @statsd.timer("api.fetch")
    async def fetch(url): ...

As a decorator each call is timed on its own (the start time is local to the call),
so one decorated function can run in many threads or tasks at once. As a context
manager the `Timer` object holds the start time: use a new one per block (as
`with statsd.timer(...)` does). The time is measured with `time.perf_counter` and
sent in milliseconds rounded to 6 decimals (to the nanosecond).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from time import perf_counter
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Timer:
    """A context manager and decorator around `client.timing(stat, ms, rate, tags)`."""

    def __init__(self, client: Any, stat: str, rate: float = 1, tags: Any = None) -> None:
        self.client = client
        self.stat = stat
        self.rate = rate
        self.tags = tags
        self.ms: float | None = None
        self._start: float | None = None
        self._sent = False

    def __call__(self, function: F) -> F:
        client, stat, rate, tags = self.client, self.stat, self.rate, self.tags
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
                start = perf_counter()
                try:
                    return await function(*args, **kwargs)
                finally:
                    client.timing(stat, round((perf_counter() - start) * 1000.0, 6),
                                  rate, tags)
            return timed_coroutine  # type: ignore[return-value]

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                client.timing(stat, round((perf_counter() - start) * 1000.0, 6), rate, tags)
        return timed  # type: ignore[return-value]

    def __enter__(self) -> Timer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> Timer:
        return self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> Timer:
        self.ms = None
        self._sent = False
        self._start = perf_counter()
        return self

    def stop(self, send: bool = True) -> Timer:
        """Stop the clock; `ms` holds the time. With `send=False`, call `send()` later
        (for instance only when the operation succeeded)."""
        if self._start is None:
            raise RuntimeError("the timer has not been started")
        self.ms = round((perf_counter() - self._start) * 1000.0, 6)
        if send:
            self.send()
        return self

    def send(self) -> None:
        if self.ms is None:
            raise RuntimeError("the timer has not been stopped")
        if self._sent:
            raise RuntimeError("the time has already been sent")
        self._sent = True
        self.client.timing(self.stat, self.ms, self.rate, self.tags)
