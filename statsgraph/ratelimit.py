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
