"""Logging that a flood of bad input cannot turn into a flood of log lines."""

from __future__ import annotations

from collections.abc import Callable


class RateLimitedLog:
    """Pass at most `burst` messages per `window` seconds to `emit`; the rest are
    counted and reported in one line when the next window opens."""

    def __init__(self, emit: Callable[[str], None], seconds: Callable[[], float],
                 burst: int = 10, window: float = 60.0) -> None:
        self.emit = emit
        self.seconds = seconds
        self.burst = burst
        self.window = window
        self._window_start = float("-inf")
        self._in_window = 0
        self.suppressed = 0
        self.total = 0

    def __call__(self, message: str) -> None:
        self.total += 1
        now = self.seconds()
        if now - self._window_start >= self.window:
            if self.suppressed:
                self.emit(f"({self.suppressed} similar messages not logged in the last "
                          f"{self.window:g} s)")
            self._window_start = now
            self._in_window = 0
            self.suppressed = 0
        if self._in_window < self.burst:
            self._in_window += 1
            self.emit(message)
        else:
            self.suppressed += 1


class TokenBucket:
    """At most `rate` events per second on average, in bursts of up to `capacity`.

    `rate` inf means no limit. `seconds` is the clock (time.monotonic in services).
    """

    def __init__(self, rate: float, seconds: Callable[[], float],
                 capacity: float | None = None) -> None:
        self.seconds = seconds
        self.set_rate(rate, capacity)

    def set_rate(self, rate: float, capacity: float | None = None) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(rate, 1.0)
        self.tokens = self.capacity
        self.stamp = self.seconds()

    def _fill(self) -> None:
        now = self.seconds()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        """Take a token if there is one."""
        if self.rate == float("inf"):
            return True
        self._fill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until a token will be there (0 if one is)."""
        if self.rate == float("inf"):
            return 0.0
        self._fill()
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else float("inf")
