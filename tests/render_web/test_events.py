"""The event store, /events, /events/get_data and the events() series function."""

from __future__ import annotations

import json

import pytest

from render_web.app import create_app
from render_web.eventstore import EventStore
from render_web.functions.registry import InputError
from render_web.settings import WebSettings

NOW = 1_700_000_000 - 1_700_000_000 % 3600
JSON = "application/json"


def test_store_add_and_find(tmp_path):
    store = EventStore(tmp_path / "db" / "graphs.db", clock=lambda: NOW)
    assert store.find() == []  # no file made by a read
    assert not (tmp_path / "db").exists()
    first = store.add({"what": "deploy", "tags": ["deploy", "api"], "when": NOW - 10})
    store.add({"what": "restart", "tags": "api db", "data": "x"})  # when = now
    assert first == {"when": NOW - 10, "what": "deploy", "data": "", "tags": ["deploy", "api"],
                     "id": 1}
    assert [e["what"] for e in store.find()] == ["deploy", "restart"]
    assert [e["what"] for e in store.find(NOW - 5, NOW)] == ["restart"]
    assert [e["what"] for e in store.find(tags=["api", "db"])] == ["restart"]
    assert [e["what"] for e in store.find(tags=["deploy", "db"], set_operation="union")
            ] == ["deploy", "restart"]


@pytest.mark.parametrize("body", [[], {"what": ""}, {"what": "x", "tags": 5},
                                  {"what": "x", "when": "now"}, {"what": "x", "data": 1}])
def test_store_refuses_bad_events(tmp_path, body):
    with pytest.raises(InputError):
        EventStore(tmp_path / "g.db").add(body)


@pytest.fixture
def client(tmp_path):
    storage = tmp_path / "whisper"
    storage.mkdir()
    app = create_app(WebSettings(storage=str(storage)), clock=lambda: NOW)
    app.testing = True
    return app.test_client()


def post(client, body, **headers):
    return client.post("/events", data=json.dumps(body), content_type=JSON, headers=headers)


def test_post_list_and_get_data(client):
    assert client.get("/events/get_data").get_json() == []
    assert post(client, {"what": "deploy", "tags": ["deploy"], "when": NOW - 60}
                ).status_code == 200
    assert post(client, {"what": "other", "when": NOW - 7200}).status_code == 200
    listed = client.get("/events").get_json()
    assert [e["what"] for e in listed] == ["other", "deploy"]
    data = client.get("/events/get_data?from=-1h&until=now&tags=deploy").get_json()
    assert data == [{"when": NOW - 60, "what": "deploy", "data": "", "tags": ["deploy"],
                     "id": 1}]
    assert client.get("/events/get_data?from=-1h&tags=nope").get_json() == []


def test_post_refuses_cross_site_and_bad_bodies(client):
    form = client.post("/events", data={"what": "x"})
    assert form.status_code == 403
    assert post(client, {"what": "x"}, Origin="http://evil.example").status_code == 403
    assert post(client, {"what": "x"}, Origin="http://localhost").status_code == 200
    bad = client.post("/events", data="{", content_type=JSON)
    assert bad.status_code == 400
    assert post(client, {"tags": ["a"]}).status_code == 400


def test_events_series(client):
    for when in (NOW - 3, NOW - 3, NOW - 1):
        post(client, {"what": "d", "tags": ["deploy"], "when": when})
    post(client, {"what": "o", "tags": ["other"], "when": NOW - 2})
    url = f"/render?target=events('deploy')&format=json&from={NOW - 4}&until={NOW}"
    [series] = client.get(url).get_json()
    assert series["target"] == 'events("deploy")'
    # one point a second over [NOW-4, NOW): two at NOW-3, one at NOW-1
    assert series["datapoints"] == [[None, NOW - 4], [2.0, NOW - 3], [None, NOW - 2],
                                    [1.0, NOW - 1]]
    url = f"/render?target=events('*')&format=json&from={NOW - 4}&until={NOW}"
    [series] = client.get(url).get_json()
    assert [v for v, _ in series["datapoints"]] == [None, 2.0, 1.0, 1.0]
