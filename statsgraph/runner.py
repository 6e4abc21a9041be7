"""Running one service tree on the reactor, the way a daemon should behave.

SIGTERM and SIGINT stop the reactor, whose shutdown waits for the service tree's
`stopService` (each daemon flushes what it holds there); SIGHUP calls `reload`.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

from twisted.application.service import IService
from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)

log = Logger()

LEVELS = ("debug", "info", "warn", "error", "critical")


def begin_logging(level: str = "info") -> None:
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.levelWithName(level))
    observer = FilteringLogObserver(textFileLogObserver(sys.stderr), [predicate])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


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
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: reactor.callFromThread(shutdown_once))
        if reload is not None:
            signal.signal(signal.SIGHUP, lambda *_: reactor.callFromThread(reload, service))

    reactor.callWhenRunning(install_signals)
    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", stop)
    reactor.run()
    return state["code"]
