"""`statsgraph run --demo`: a small web application's metrics, so a newcomer sees live
graphs within a minute.

`DemoTraffic` is the model (plain and seeded: requests per endpoint and status with a
daily-ish swell, response times that grow with load, a queue that fills and drains,
returning users); `DemoService` sends one tick of it every `interval` seconds through the
application client, in one pipeline.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from twisted.application.internet import TimerService

from client import StatsClient

ENDPOINTS = {"home": 0.4, "search": 0.25, "login": 0.1, "checkout": 0.05, "api_items": 0.2}
STATUSES = ((200, 0.93), (302, 0.03), (404, 0.025), (500, 0.015))


@dataclass
class DemoTraffic:
    seed: int = 8125
    requests_per_second: float = 40.0
    rng: random.Random = field(init=False)
    queue: float = field(init=False, default=0.0)
    users: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.users = [f"user{n:04d}" for n in range(500)]

    def load(self, now: float) -> float:
        """Traffic swells and ebbs over ten minutes, so graphs move."""
        return 1.0 + 0.6 * math.sin(2 * math.pi * now / 600.0)

    def tick(self, now: float, seconds: float) -> list[tuple[str, str, object]]:
        """(kind, name, value) of what the app would have sent over `seconds`."""
        out: list[tuple[str, str, object]] = []
        load = self.load(now)
        count = self.rng.uniform(0.8, 1.2) * self.requests_per_second * seconds * load
        for endpoint, share in ENDPOINTS.items():
            for _ in range(round(count * share)):
                status = self.rng.choices([s for s, _ in STATUSES],
                                          [w for _, w in STATUSES])[0]
                out.append(("c", f"web.requests.{endpoint}.{status}", 1))
                base = 40 if endpoint != "checkout" else 180
                out.append(("ms", f"web.response_time.{endpoint}",
                            round(self.rng.lognormvariate(math.log(base * load), 0.35), 1)))
                out.append(("s", "web.unique_users", self.rng.choice(self.users)))
        self.queue = max(0.0, self.queue + self.rng.uniform(-5, 5.5) * load)
        out.append(("g", "worker.queue_depth", round(self.queue)))
        out.append(("g", "worker.busy", self.rng.randint(2, 8)))
        return out


def send(client: StatsClient, metrics: list[tuple[str, str, object]]) -> None:
    with client.pipeline() as pipe:
        for kind, name, value in metrics:
            if kind == "c":
                pipe.increment(name, value)
            elif kind == "ms":
                pipe.timing(name, value)
            elif kind == "g":
                pipe.gauge(name, value)
            else:
                pipe.set(name, value)


class DemoService(TimerService):
    def __init__(self, host: str, port: int, reactor: object, interval: float = 0.5,
                 traffic: DemoTraffic | None = None) -> None:
        self.client = StatsClient(host, port)
        self.traffic = traffic or DemoTraffic()
        self.reactor = reactor
        self.interval_seconds = interval
        super().__init__(interval, self._tick)
        self.clock = reactor

    def _tick(self) -> None:
        send(self.client, self.traffic.tick(self.reactor.seconds(), self.interval_seconds))

    def stopService(self):
        result = super().stopService()
        self.client.close()
        return result
