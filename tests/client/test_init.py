"""`from client import statsd`: light to import, nothing opened."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_import_is_light_and_opens_nothing():
    code = (
        "import sys, json, socket\n"
        "made = []\n"
        "real = socket.socket.__init__\n"
        "def spy(self, *a, **k):\n"
        "    made.append(1)\n"
        "    real(self, *a, **k)\n"
        "socket.socket.__init__ = spy\n"
        "real_gai = socket.getaddrinfo\n"
        "socket.getaddrinfo = lambda *a, **k: made.append('dns') or real_gai(*a, **k)\n"
        "from client import statsd\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'twisted', 'numpy', "
        "'django', 'flask', 'matplotlib', 'whisper', 'statsd_daemon'})\n"
        "print(json.dumps({'heavy': heavy, 'made': made, 'built': statsd.configured}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert json.loads(result.stdout) == {"heavy": [], "made": [], "built": False}


def test_the_talks_line_works(udp, monkeypatch):
    import client
    from client.lazy import LazyClient
    monkeypatch.setenv("STATSD_HOST", "127.0.0.1")
    monkeypatch.setenv("STATSD_PORT", str(udp.port))
    monkeypatch.setattr(client, "statsd", LazyClient())
    from client import statsd
    endpoint = "users"
    statsd.increment('api.3_0.endpoint_request.' + endpoint)
    assert udp.packet() == b"api.3_0.endpoint_request.users:1|c"


def test_public_names():
    import client
    assert set(client.__all__) == {"LazyClient", "Pipeline", "StatsClient", "StatsClientBase",
                                   "TCPStatsClient", "Timer", "UnixSocketStatsClient",
                                   "from_environment", "statsd"}
    assert isinstance(client.statsd, client.LazyClient)
