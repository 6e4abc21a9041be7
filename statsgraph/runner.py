"""Running one service tree on the reactor, the way a daemon should behave.

SIGTERM and SIGINT stop the reactor, whose shutdown waits for the service tree's
`stopService` (each daemon flushes what it holds there); SIGHUP calls `reload`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from twisted.application.service import IService
from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
    timeFormatRFC3339,
)
from twisted.python.logfile import LogFile

log = Logger()

LEVELS = ("debug", "info", "warn", "error", "critical")


def begin_logging(level: str = "info", path: str | None = None) -> None:
    """Log events at `level` and above to standard output (what journald collects), or
    to `path`, rotated when it reaches 10 MB (five old files kept)."""
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.levelWithName(level))
    if path:
        target = Path(path).resolve()
        output = LogFile(target.name, str(target.parent), rotateLength=10_000_000,
                         maxRotatedFiles=5)
    else:
        output = sys.stdout
    # Under `statsgraph run` the supervisor stamps each line it passes on.
    time_format = None if supervised() else timeFormatRFC3339
    observer = FilteringLogObserver(textFileLogObserver(output, timeFormat=time_format),
                                    [predicate])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


SUPERVISED = "STATSGRAPH_SUPERVISED"


def supervised() -> bool:
    """Whether this process is a child of `statsgraph run`."""
    return os.environ.get(SUPERVISED) == "1"


class PidFile:
    """`--pidfile`: this process's id, written at start and removed at a clean stop; a
    file naming a process that still runs is refused."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def __enter__(self) -> PidFile:
        try:
            other = int(self.path.read_text().strip())
        except (OSError, ValueError):
            other = None
        if other and other != os.getpid() and _alive(other):
            raise RuntimeError(f"{self.path}: process {other} is running")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{os.getpid()}\n")
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run(make: Callable[[object], IService], reload: Callable[[IService], None] | None = None,
        reactor: object | None = None) -> int:
    """Build the service with `make(reactor)`, run it until signalled; the exit status."""
    if reactor is None:
        from twisted.internet import reactor as global_reactor
        reactor = global_reactor
    service = make(reactor)
    state = {"code": 0, "started": False}

    def start() -> None:
        try:
            service.startService()
        except Exception as exc:  # e.g. a port already in use
            log.critical("cannot start: {why}", why=exc)
            state["code"] = 1
            shutdown_once()
            return
        state["started"] = True

    def stop() -> object:
        if state["started"]:
            return service.stopService()
        return None

    def shutdown_once() -> None:
        if not state.get("stopping"):
            state["stopping"] = True
            log.info("stopping: flushing what is held")
            reactor.stop()

    def install_signals() -> None:
        # Over Twisted's own handlers: a second SIGTERM while stopping must not raise.
        signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(shutdown_once))
        if supervised():
            # Ctrl-C reaches the whole process group; the supervisor alone decides the
            # order in which its children stop (statsd first, to flush into carbon).
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGINT, lambda *_: reactor.callFromThread(shutdown_once))
        if reload is not None:
            signal.signal(signal.SIGHUP, lambda *_: reactor.callFromThread(reload, service))

    reactor.callWhenRunning(install_signals)
    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", stop)
    reactor.run()
    return state["code"]
