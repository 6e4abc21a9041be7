"""A real `statsgraph web` subprocess answering what Grafana's Graphite data source
sends (../shared/reference/grafana.md), reading files and a real store's cache."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import wait_for
from tests.render_web.golden_dataset import END, build


def fetch(url: str, data: bytes | None = None, content_type: str | None = None):
    request = urllib.request.Request(url, data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def storage(tmp_path):
    root = tmp_path / "whisper"
    build(root)
    return root


def test_grafana_request_shapes(web_daemon, storage):
    web = web_daemon("--url-prefix", "/graphite", storage=storage)
    base = web.url("/graphite")

    status, headers, body = fetch(base + "/version")
    assert (status, body) == (200, b"1.1.10")

    # Panel query: POST form, aliasSub-wrapped targets, maxDataPoints.
    form = urllib.parse.urlencode([
        ("target", 'aliasSub(golden.servers.web1.cpu, "(^.*$)", "\\1 A")'),
        ("target", 'aliasSub(sumSeries(golden.servers.*.cpu), "(^.*$)", "\\1 B")'),
        ("from", str(END - 3600)), ("until", str(END)), ("now", str(END)),
        ("format", "json"), ("maxDataPoints", "100")]).encode()
    status, headers, body = fetch(base + "/render", form, "application/x-www-form-urlencoded")
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    series = json.loads(body)
    assert [s["target"] for s in series] == ["golden.servers.web1.cpu A",
                                             "sumSeries(golden.servers.*.cpu) B"]
    assert all(0 < len(s["datapoints"]) <= 100 for s in series)
    assert all(isinstance(t, int) for s in series for _, t in s["datapoints"])

    # Backend (alerting) query: Go's sorted, fully encoded form.
    status, _, body = fetch(base + "/render", (
        f"format=json&from={END - 3600}&maxDataPoints=100&target=constantLine%28100%29"
        f"&until={END}").encode(), "application/x-www-form-urlencoded")
    assert status == 200 and json.loads(body)[0]["datapoints"][0][0] == 100

    # Tree browsing with a raw body, expand, functions, tags, events.
    status, headers, body = fetch(base + "/metrics/find?from=-6h&until=now",
                                  b"query=golden.servers.*", "application/x-www-form-urlencoded")
    nodes = json.loads(body)
    assert status == 200 and {n["text"] for n in nodes} == {"db1", "web1", "web2", "web3"}
    assert all(n["leaf"] == 0 and n["expandable"] == 1 for n in nodes)
    status, _, body = fetch(base + "/metrics/expand?query=golden.servers.web*.cpu")
    assert json.loads(body) == {"results": [f"golden.servers.web{i}.cpu" for i in (1, 2, 3)]}
    status, _, body = fetch(base + "/functions")
    assert status == 200 and "aliasSub" in json.loads(body)
    for path in ("/tags/autoComplete/tags?expr=name%3D~golden.*&limit=10000",
                 "/events/get_data?from=-6h&until=now&tags=deploy"):
        assert fetch(base + path)[2] == b"[]"

    # An error is a 4xx with a JSON message, and the server carries on.
    status, _, body = fetch(base + "/render?target=sumSeries(golden.*&format=json")
    assert status == 400 and "position" in json.loads(body)["error"]
    status, _, body = fetch(base + "/render?target=golden.servers.web1.cpu&format=png"
                                   f"&from={END - 3600}&until={END}&now={END}")
    assert status == 200 and body.startswith(b"\x89PNG")
    assert web.stop() == 0


def test_points_still_in_a_stores_cache_are_read(web_daemon, carbon_daemon, tmp_path):
    """A point the store holds but has not written yet is in the render (and a metric
    only in the cache is found), read over the cache query port."""
    storage = tmp_path / "whisper"
    carbon = carbon_daemon("--max-updates-per-second", "0.001", storage=storage)
    web = web_daemon("--cache-query", f"127.0.0.1:{carbon.query_port}", storage=storage)
    now = int(time.time())
    carbon.send_lines(f"cached.metric 42 {now - 120}")
    wait_for(lambda: carbon.query({"type": "cache-query", "metric": "cached.metric"})
             .get("datapoints"), what="the point in the store's cache")
    # (A cache query that times out under load is retried after 15 s, as graphite-web.)
    wait_for(lambda: json.loads(fetch(web.url("/metrics/find?query=cached.*"))[2]),
             timeout=40, what="the cache-only metric found")
    status, _, body = fetch(web.url("/render?target=cached.metric&format=json&from=-10min"))
    assert status == 200
    values = [v for v, _ in json.loads(body)[0]["datapoints"] if v is not None]
    assert values == [42.0]
    status, _, body = fetch(web.url("/health"))
    assert status == 200 and json.loads(body)["cache_query"]["answering"] is True


def test_sigterm_stops_cleanly(web_daemon, storage):
    web = web_daemon(storage=storage)
    web.signal(signal.SIGTERM)
    assert web.proc.wait(30) == 0
