"""`statsgraph run` end to end, as real processes on free ports: statsd -> carbon ->
whisper -> web, a crash of the store survived, and nothing lost at SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import whisper

from tests.conftest import ServiceProcess, free_port, wait_for

FLUSH = 1


class RunProcess(ServiceProcess):
    kind = "run"

    def __init__(self, data: Path, tmp: Path, *args: str) -> None:
        self.data = data
        self.ports = {name: free_port() for name in
                      ("statsd", "admin", "carbon", "pickle", "query", "web")}
        self.ready_port = self.ports["web"]
        conf = data / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "statsgraph.conf").write_text(
            f"[statsd]\nport = {self.ports['statsd']}\nadmin_port = {self.ports['admin']}\n"
            f"flush_interval = {FLUSH}\n"
            f"[carbon]\nport = {self.ports['carbon']}\npickle_port = {self.ports['pickle']}\n"
            f"query_port = {self.ports['query']}\nmax_updates_per_second = inf\n"
            f"[web]\nport = {self.ports['web']}\n")
        (conf / "storage-schemas.conf").write_text(
            "[statsd]\npattern = ^(stats|stats_counts|statsd)\\.\nretentions = 1s:1h,1m:1d\n"
            "[default]\npattern = .*\nretentions = 60s:1d\n")
        super().__init__(["run", "--data", str(data), *args], tmp)

    def send(self, *lines: str) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto("\n".join(lines).encode(), ("127.0.0.1", self.ports["statsd"]))

    def get(self, path: str) -> bytes:
        url = f"http://127.0.0.1:{self.ports['web']}{path}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read()

    def values(self, target: str) -> list[float]:
        """The non-zero points (etsy statsd keeps flushing zeros for idle counters,
        timers and sets)."""
        body = json.loads(self.get(f"/render?target={target}&format=json&from=-5min"))
        return [v for series in body for v, _ in series["datapoints"] if v]

    def child_pid(self, name: str) -> int:
        out = subprocess.run(["pgrep", "-f", f"statsgraph {name} --config {self.data}"],
                             capture_output=True, text=True, check=False).stdout.split()
        return int(out[0])


@pytest.fixture
def run(tmp_path, processes):
    def start(*args: str) -> RunProcess:
        process = RunProcess(tmp_path / "data", tmp_path, *args).start()
        processes.append(process)
        return process
    return start


def test_the_whole_pipeline(run, tmp_path):
    pipeline = run()
    pipeline.send("e2e.hits:2|c", "e2e.hits:3|c", "e2e.latency:10|ms", "e2e.latency:30|ms",
                  "e2e.queue:42|g", "e2e.users:ann|s", "e2e.users:bob|s", "e2e.users:ann|s")

    def arrived() -> bool:
        return (pipeline.values("stats_counts.e2e.hits") == [5.0]
                and pipeline.values("stats.gauges.e2e.queue")[-1:] == [42.0])
    wait_for(arrived, timeout=FLUSH + 2, what="the values sent, one flush later")
    assert pipeline.values("stats.timers.e2e.latency.upper") == [30.0]
    assert pipeline.values("stats.timers.e2e.latency.mean") == [20.0]
    assert pipeline.values("stats.timers.e2e.latency.count") == [2.0]
    assert pipeline.values("stats.sets.e2e.users.count") == [2.0]
    png = pipeline.get("/render?target=stats.gauges.e2e.queue&from=-5min&width=400&height=300")
    assert png.startswith(b"\x89PNG")
    health = json.loads(pipeline.get("/health"))
    assert health["status"] == "ok" and health["cache_query"]["answering"]

    # The store crashes; the supervisor restarts it and statsd's queue delivers.
    os.kill(pipeline.child_pid("carbon"), signal.SIGKILL)
    pipeline.send("e2e.after_crash:7|c")
    wait_for(lambda: pipeline.values("stats_counts.e2e.after_crash") == [7.0], timeout=30,
             what="a count sent while the store was down")

    pipeline.send("e2e.last:1|c")
    time.sleep(0.2)  # inside the current flush interval: only the final flush carries it
    assert pipeline.stop() == 0
    storage = pipeline.data / "whisper"
    for name, expected in [("stats_counts/e2e/hits", 5.0), ("stats_counts/e2e/after_crash", 7.0),
                           ("stats/gauges/e2e/queue", 42.0), ("stats_counts/e2e/last", 1.0)]:
        # (The final flush is stamped with the interval's end, a moment from now.)
        later = time.time() + 5
        (_, _, _), values = whisper.fetch(str(storage / f"{name}.wsp"), later - 300, later,
                                          later)
        assert sum(v for v in values if v is not None and name.startswith("stats_counts")) \
            == expected or expected in values, name
    output = pipeline.output()
    assert output.index("[statsd]") < output.rindex("[carbon]")


def test_a_flush_interval_finer_than_the_retention_is_refused(tmp_path):
    data = tmp_path / "data"
    conf = data / "conf"
    conf.mkdir(parents=True)
    (conf / "statsgraph.conf").write_text("[statsd]\nflush_interval = 5\n")
    result = subprocess.run(["python3", "-m", "statsgraph", "run", "--data", str(data)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "only the last flush of each 10 s would survive" in result.stderr
    assert "refusing to start" in result.stderr


def test_the_first_run_creates_the_data_directory(run, tmp_path):
    pipeline = run()
    assert (pipeline.data / "whisper").is_dir()
    assert (pipeline.data / "conf" / "storage-aggregation.conf").exists()
    assert "web      http://127.0.0.1:" in pipeline.output()
    dashboard = json.loads(pipeline.get("/api/dashboards/statsgraph"))
    assert "stats.statsd.packets_received" in dashboard["panels"][0]["targets"]
    pipeline.signal(signal.SIGINT)
    assert pipeline.proc.wait(60) == 0


def test_demo_traffic_shows_up(run):
    pipeline = run("--demo")
    wait_for(lambda: json.loads(pipeline.get("/metrics/find?query=stats_counts.web.requests.*")),
             timeout=30, what="the demo's request counts in the tree")
    wait_for(lambda: pipeline.values("stats.timers.web.response_time.home.mean"),
             timeout=30, what="the demo's response times")
    assert pipeline.stop() == 0
