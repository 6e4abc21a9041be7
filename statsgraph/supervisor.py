"""Twisted's `ProcessMonitor`, stopping its children one at a time, in order.

ProcessMonitor restarts a child that dies (with a back-off when it dies young) and
logs each line the child prints. Its own stop signals every child at once and does not
wait; a pipeline must stop upstream first (statsd flushes into carbon, then carbon
writes its cache out), and the parent must not exit before they are done. So `stopService`
here signals the children in `stop_order`, each given `kill_times[name]` seconds before
SIGKILL, and its Deferred fires when the last one has exited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure
from twisted.runner.procmon import LoggingProtocol, ProcessMonitor


class ChildProtocol(LoggingProtocol):
    """Reports the child's exit as soon as the process is gone, not when its output
    pipes close: a grandchild the child left behind may hold them open for good."""

    reported = False

    def processExited(self, reason: Failure) -> None:
        self.reported = True
        self.service._monitoredProcessExited(self.name, reason)

    def processEnded(self, reason: Failure) -> None:
        if not self.reported:
            self.reported = True
            self.service._monitoredProcessExited(self.name, reason)


class Supervisor(ProcessMonitor):
    def __init__(self, reactor: object, stop_order: Sequence[str],
                 kill_times: Mapping[str, float] | None = None) -> None:
        super().__init__(reactor=reactor)
        self.stop_order = list(stop_order)
        self.kill_times = dict(kill_times or {})
        self._exits: dict[str, list[Deferred]] = {}

    def _monitoredProcessExited(self, name: str, reason: Failure | None = None) -> None:
        if self.running:
            self.log.warn("{name} exited; restarting it", name=name)
        super()._monitoredProcessExited(name, reason)
        for waiter in self._exits.pop(name, []):
            waiter.callback(None)

    def startProcess(self, name: str) -> None:
        """ProcessMonitor's, with `ChildProtocol`."""
        if name in self.protocols:
            return
        process = self._processes[name]
        protocol = ChildProtocol()
        protocol.service = self
        protocol.name = name
        self.protocols[name] = protocol
        self.timeStarted[name] = self._clock.seconds()
        try:
            self._reactor.spawnProcess(protocol, process.args[0], process.args,
                                       uid=process.uid, gid=process.gid, env=process.env,
                                       path=process.cwd)
        except OSError:
            self._monitoredProcessExited(name, Failure())

    def stop_and_wait(self, name: str) -> Deferred:
        """Signal `name` to stop; fires when it has exited (at once if not running)."""
        if name not in self.protocols:
            return succeed(None)
        waiter: Deferred = Deferred()
        self._exits.setdefault(name, []).append(waiter)
        self.killTime = self.kill_times.get(name, type(self).killTime)
        self.stopProcess(name)
        return waiter

    def stopService(self) -> Deferred:
        Service.stopService(self)
        for call in list(self.restart.values()):
            if call.active():
                call.cancel()
        names = [n for n in self.stop_order if n in self._processes]
        names += [n for n in self._processes if n not in names]
        done: Deferred = succeed(None)
        for name in names:
            done.addCallback(lambda _, name=name: self.stop_and_wait(name))
        return done
