"""The supervisor on a fake reactor: restarts, and the ordered, waited-for stop."""

from __future__ import annotations

from twisted.internet import error
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from statsgraph.supervisor import Supervisor


class FakeProcess:
    def __init__(self, reactor: FakeReactor, protocol, name: str) -> None:
        self.reactor, self.protocol, self.name = reactor, protocol, name
        self.pid = len(reactor.spawned)

    def signalProcess(self, signal: str) -> None:
        self.reactor.signals.append((self.name, signal))
        if signal == "KILL":
            self.exit()
        elif signal == "TERM" and self.name in self.reactor.exit_after:
            self.reactor.callLater(self.reactor.exit_after[self.name], self.exit)

    def exit(self) -> None:
        if self in self.reactor.running:
            self.reactor.running.remove(self)
            self.reactor.exits.append(self.name)
            self.protocol.processEnded(Failure(error.ProcessDone(0)))


class FakeReactor(Clock):
    def __init__(self) -> None:
        super().__init__()
        self.spawned: list[str] = []
        self.running: list[FakeProcess] = []
        self.signals: list[tuple[str, str]] = []
        self.exits: list[str] = []
        self.exit_after: dict[str, float] = {}

    def spawnProcess(self, protocol, executable, args, env=None, path=None, uid=None,
                     gid=None, usePTY=False, childFDs=None):
        name = args[-1]
        process = FakeProcess(self, protocol, name)
        self.spawned.append(name)
        self.running.append(process)
        protocol.makeConnection(process)
        return process

    def process(self, name: str) -> FakeProcess:
        return next(p for p in self.running if p.name == name)


def supervisor(reactor: FakeReactor, names=("carbon", "statsd", "web")) -> Supervisor:
    service = Supervisor(reactor, ["statsd", "carbon", "web"],
                         {"statsd": 20.0, "carbon": 70.0, "web": 5.0})
    for name in names:
        service.addProcess(name, ["python", name])
    return service


def test_a_child_that_dies_is_restarted():
    reactor = FakeReactor()
    service = supervisor(reactor)
    service.startService()
    assert reactor.spawned == ["carbon", "statsd", "web"]
    reactor.advance(30)
    reactor.process("carbon").exit()
    reactor.advance(0)
    assert reactor.spawned.count("carbon") == 2


def test_a_child_dying_young_is_restarted_with_a_growing_delay():
    reactor = FakeReactor()
    service = supervisor(reactor, names=("carbon",))
    service.startService()
    reactor.process("carbon").exit()      # died at once: restart after 1 s
    reactor.advance(0.5)
    assert reactor.spawned == ["carbon"]
    reactor.advance(0.5)
    assert reactor.spawned == ["carbon", "carbon"]
    reactor.process("carbon").exit()      # again: 2 s
    reactor.advance(1.5)
    assert reactor.spawned.count("carbon") == 2
    reactor.advance(0.5)
    assert reactor.spawned.count("carbon") == 3


def test_stop_goes_upstream_first_and_waits_for_each_child():
    reactor = FakeReactor()
    reactor.exit_after = {"statsd": 3.0, "carbon": 10.0, "web": 1.0}
    service = supervisor(reactor)
    service.startService()
    done = service.stopService()
    stopped = []
    done.addCallback(stopped.append)
    assert reactor.signals == [("statsd", "TERM")]     # carbon is still up for statsd
    reactor.advance(3)
    assert reactor.exits == ["statsd"] and reactor.signals[-1] == ("carbon", "TERM")
    reactor.advance(10)
    assert reactor.exits == ["statsd", "carbon"] and reactor.signals[-1] == ("web", "TERM")
    assert not stopped
    reactor.advance(1)
    assert reactor.exits == ["statsd", "carbon", "web"] and stopped == [None]
    reactor.advance(100)
    assert reactor.spawned == ["carbon", "statsd", "web"]   # nothing restarted


def test_a_child_that_does_not_stop_is_killed_after_its_own_time():
    reactor = FakeReactor()
    reactor.exit_after = {"carbon": 1.0, "web": 1.0}   # statsd ignores TERM
    service = supervisor(reactor)
    service.startService()
    service.stopService()
    reactor.advance(19.9)
    assert reactor.signals == [("statsd", "TERM")]
    reactor.advance(0.1)
    assert ("statsd", "KILL") in reactor.signals and reactor.exits[0] == "statsd"


def test_stopping_cancels_a_pending_restart():
    reactor = FakeReactor()
    service = supervisor(reactor, names=("carbon",))
    service.startService()
    reactor.process("carbon").exit()      # restart due in 1 s
    done = service.stopService()
    reactor.advance(5)
    assert reactor.spawned == ["carbon"]
    assert done.called


def test_a_child_is_restarted_when_it_exits_even_if_its_pipes_stay_open():
    """A grandchild holding the child's output open must not delay the restart."""
    reactor = FakeReactor()
    service = supervisor(reactor, names=("carbon",))
    service.startService()
    reactor.advance(30)
    process = reactor.process("carbon")
    reactor.running.remove(process)
    process.protocol.processExited(Failure(error.ProcessTerminated(signal=9)))
    reactor.advance(0)
    assert reactor.spawned == ["carbon", "carbon"]
    process.protocol.processEnded(Failure(error.ProcessTerminated(signal=9)))  # pipes close
    reactor.advance(10)
    assert reactor.spawned == ["carbon", "carbon"]
