"""Behind a reverse proxy: `trusted_proxies` makes the browser's own origin the one the
same-origin check of writes compares with."""

from __future__ import annotations

import json

from render_web.app import create_app
from render_web.settings import WebSettings

BODY = json.dumps({"targets": ["a.b"]})
BEHIND_TLS = {"Origin": "https://metrics.example.org", "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "metrics.example.org", "X-Forwarded-For": "10.0.0.7"}


def client(tmp_path, proxies: int):
    settings = WebSettings(storage=str(tmp_path / "whisper"), db=str(tmp_path / "g.db"),
                           trusted_proxies=proxies)
    return create_app(settings).test_client()


def test_without_trusting_the_proxy_a_write_from_the_proxied_origin_is_refused(tmp_path):
    response = client(tmp_path, 0).put("/api/graphs/g", data=BODY, headers=BEHIND_TLS,
                                       content_type="application/json")
    assert response.status_code == 403


def test_trusting_one_proxy_accepts_it_and_hands_out_its_urls(tmp_path):
    response = client(tmp_path, 1).put("/api/graphs/g", data=BODY, headers=BEHIND_TLS,
                                       content_type="application/json")
    assert response.status_code == 201, response.data
    foreign = dict(BEHIND_TLS, Origin="https://evil.example.com")
    refused = client(tmp_path, 1).put("/api/graphs/h", data=BODY, headers=foreign,
                                      content_type="application/json")
    assert refused.status_code == 403
