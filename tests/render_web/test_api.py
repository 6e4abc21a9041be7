"""The composer's JSON API (/api/graphs, /api/dashboards), its cross-site refusals, and
the saved-graph image (/graphs/<name>.png), through the Flask test client."""

from __future__ import annotations

import json
import struct
from urllib.parse import quote

import pytest
import whisper

from render_web.app import _optional_views, create_app
from render_web.settings import WebSettings

NOW = 1_700_000_000 - 1_700_000_000 % 3600
HOSTILE = "<img src=x onerror=alert(1)>"
JSON = "application/json"


def make_metric(root, name, values, step=60):
    path = root.joinpath(*name.split(".")).with_suffix(".wsp")
    path.parent.mkdir(parents=True, exist_ok=True)
    whisper.create(str(path), [(step, 1440)])
    whisper.update_many(str(path), [(NOW - (len(values) - 1 - i) * step, v)
                                    for i, v in enumerate(values)], now=NOW)


@pytest.fixture
def storage(tmp_path):
    root = tmp_path / "whisper"
    root.mkdir()
    make_metric(root, "servers.web1.cpu", [float(i) for i in range(1, 31)])
    make_metric(root, "servers.web2.cpu", [float(i) * 2 for i in range(1, 31)])
    return root


def app_for(storage, **settings):
    app = create_app(WebSettings(storage=str(storage), **settings), clock=lambda: NOW)
    app.testing = True
    return app


@pytest.fixture
def client(storage):
    return app_for(storage).test_client()


def path(kind, name, suffix=""):
    return f"/api/{kind}/{quote(name, safe='')}{suffix}"


def put(client, kind, name, body, **headers):
    return client.put(path(kind, name), data=json.dumps(body),
                      headers={"Content-Type": JSON, **headers})


def post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), headers={"Content-Type": JSON, **headers})


def delete(client, kind, name, **headers):
    return client.delete(path(kind, name), headers={"Content-Type": JSON, **headers})


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == JSON
    return response.get_json()["error"]


def png_size(data: bytes) -> tuple[int, int]:
    # PNG: 8-byte signature, then the IHDR chunk (length, type, width, height).
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


GRAPH = {"title": "CPU", "targets": ["servers.*.cpu", "sumSeries(servers.*.cpu)"],
         "params": {"from": "-30min", "until": "now", "areaMode": "stacked"}}


# -- graphs -------------------------------------------------------------------------------


def test_empty_lists(client):
    for kind in ("graphs", "dashboards"):
        response = client.get(f"/api/{kind}")
        assert response.status_code == 200 and response.get_json() == []
        assert response.headers["Cache-Control"] == "no-cache"


def test_graph_create_get_replace_list(client):
    created = put(client, "graphs", "cpu", GRAPH)
    assert created.status_code == 201
    assert created.headers["Location"].endswith("/api/graphs/cpu")
    expected = {"name": "cpu", **GRAPH, "created": NOW, "updated": NOW,
                "url": "/graphs/cpu", "image": "/graphs/cpu.png"}
    assert created.get_json() == expected
    assert client.get("/api/graphs/cpu").get_json() == expected

    replaced = put(client, "graphs", "cpu", {"targets": ["servers.web1.cpu"]})
    assert replaced.status_code == 200 and "Location" not in replaced.headers
    assert replaced.get_json()["targets"] == ["servers.web1.cpu"]
    assert replaced.get_json()["params"] == {} and replaced.get_json()["title"] == ""

    put(client, "graphs", "a first", GRAPH)
    listed = client.get("/api/graphs").get_json()
    assert [g["name"] for g in listed] == ["a first", "cpu"]
    assert listed[0]["url"] == "/graphs/a%20first"
    assert listed[0]["image"] == "/graphs/a%20first.png"


def test_echoing_a_graph_back_replaces_it(client):
    graph = put(client, "graphs", "cpu", GRAPH).get_json()
    graph["title"] = "changed"
    response = put(client, "graphs", "cpu", graph)
    assert response.status_code == 200 and response.get_json()["title"] == "changed"


def test_hostile_and_unicode_names_round_trip_encoded(client):
    for name in (HOSTILE, "ünï ☃", "it's \"quoted\"", "50% & more?#"):
        assert put(client, "graphs", name, GRAPH).status_code == 201
        got = client.get(path("graphs", name)).get_json()
        assert got["name"] == name
        assert got["url"] == "/graphs/" + quote(name, safe="")
    assert client.get(path("graphs", HOSTILE)).get_json()["name"] == HOSTILE


def test_get_missing_is_404(client):
    assert error_of(client.get("/api/graphs/nope"), 404) == "no graph named 'nope'"
    assert error_of(client.get("/api/dashboards/nope"), 404) == "no dashboard named 'nope'"
    assert error_of(client.get("/api/widgets"), 404)


@pytest.mark.parametrize(("body", "message"), [
    ({}, "targets: required (a list of target expressions)"),
    ({"targets": "a.b"}, "targets: must be a list of strings"),
    ({"targets": ["a.b"], "params": {"width": 300}}, "params.width: must be a string"),
    ({"targets": ["a.b"], "params": {"target": "x"}}, "params.target: not a saved parameter"),
    ({"targets": ["sumSeries(a.b"]}, "targets[0]: expected ',' or ')'"),
    ({"targets": ["a.b"], "params": {"width": "wide"}}, "params: width: 'wide' is not"),
    ({"targets": ["a.b"], "params": {"areaMode": "sideways"}}, "params: areaMode: "),
    ({"targets": ["a.b"], "params": {"from": "yesterdayish"}}, "params: Invalid time"),
    ({"targets": ["a.b"], "params": {"from": "-1h", "until": "-1h"}},
     "params: Invalid empty time range"),
    ({"targets": ["a.b"], "params": {"xFilesFactor": "2"}}, "params: parameter 'xFilesFactor'"),
    ({"targets": ["a.b"], "params": {"width": "5000"}}, "params: an image may be at most"),
    ({"targets": ["a.b"], "extra": 1}, "body: unknown field 'extra'"),
    ([1, 2], "body: must be a JSON object"),
])
def test_put_graph_bad_bodies_are_400_naming_the_field(client, body, message):
    assert error_of(put(client, "graphs", "g", body), 400).startswith(message)
    assert client.get("/api/graphs").get_json() == []


def test_put_body_that_is_not_json_is_400(client):
    response = client.put("/api/graphs/g", data="{not json", content_type=JSON)
    assert error_of(response, 400) == "body: must be a JSON object"
    response = client.put("/api/graphs/g", data="", content_type=JSON)
    assert error_of(response, 400) == "body: must be a JSON object"


@pytest.mark.parametrize(("name", "message"), [
    ("g.png", "name: a graph name must not end in '.png'"),
    ("x" * 201, "name: must be 1 to 200 characters long"),
    ("new\nline", "name: must not contain control characters"),
    ("  ", "name: must not be blank"),
])
def test_put_graph_bad_names_are_400(client, name, message):
    assert error_of(put(client, "graphs", name, GRAPH), 400) == message


def test_slash_in_name_does_not_route(client):
    assert put(client, "graphs", "a", GRAPH).status_code == 201
    response = client.put("/api/graphs/a/b", data=json.dumps(GRAPH), content_type=JSON)
    assert response.status_code in (404, 405)
    assert response.mimetype == JSON


def test_body_too_large_is_413(client):
    body = {"targets": ["a.b"], "title": "x" * (1024 * 1024)}
    assert error_of(put(client, "graphs", "big", body), 413)


def test_wrong_method_is_405_json(client):
    response = client.post("/api/graphs/x", data="{}", content_type=JSON)
    assert error_of(response, 405)
    assert error_of(client.patch("/api/graphs/x", data="{}", content_type=JSON), 405)


def test_delete_graph(client):
    put(client, "graphs", "cpu", GRAPH)
    response = delete(client, "graphs", "cpu")
    assert response.status_code == 204 and response.get_data() == b""
    assert error_of(client.get("/api/graphs/cpu"), 404)
    assert error_of(delete(client, "graphs", "cpu"), 404) == "no graph named 'cpu'"


def test_rename_graph(client):
    put(client, "graphs", "old", GRAPH)
    put(client, "graphs", "taken", GRAPH)
    response = post(client, path("graphs", "old", "/rename"), {"name": HOSTILE})
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == HOSTILE and body["targets"] == GRAPH["targets"]
    assert body["url"] == "/graphs/" + quote(HOSTILE, safe="")
    assert error_of(client.get("/api/graphs/old"), 404)

    taken = post(client, path("graphs", HOSTILE, "/rename"), {"name": "taken"})
    assert error_of(taken, 409) == "a graph named 'taken' exists already"
    missing = post(client, "/api/graphs/nope/rename", {"name": "x"})
    assert error_of(missing, 404) == "no graph named 'nope'"
    same = post(client, "/api/graphs/taken/rename", {"name": "taken"})
    assert same.status_code == 200 and same.get_json()["name"] == "taken"


@pytest.mark.parametrize(("body", "message"), [
    ({}, "name: required (the new name)"),
    ({"name": None}, "name: required (the new name)"),
    ({"name": 3}, "name: must be a string"),
    ({"name": "a/b"}, "name: must not contain '/'"),
    ({"name": "x.png"}, "name: a graph name must not end in '.png'"),
    ({"name": "x", "title": "t"}, "body: unknown field 'title'"),
    (["x"], "body: must be a JSON object"),
])
def test_rename_bad_bodies_are_400(client, body, message):
    put(client, "graphs", "g", GRAPH)
    assert error_of(post(client, "/api/graphs/g/rename", body), 400) == message
    assert client.get("/api/graphs/g").status_code == 200


# -- dashboards ---------------------------------------------------------------------------


DASHBOARD = {"title": "Ops", "from": "-6h", "until": "now", "refresh": 30,
             "panels": [{"graph": "cpu"}, {"graph": "not saved yet"},
                        {"title": "adhoc", "targets": ["servers.web1.cpu"],
                         "params": {"areaMode": "all"}}]}


def test_dashboard_create_get_replace_list_delete(client):
    created = put(client, "dashboards", "ops", DASHBOARD)
    assert created.status_code == 201
    expected = {"name": "ops", **DASHBOARD, "created": NOW, "updated": NOW,
                "url": "/dashboards/ops"}
    assert created.get_json() == expected
    assert client.get("/api/dashboards/ops").get_json() == expected
    assert client.get("/api/dashboards").get_json() == [expected]

    replaced = put(client, "dashboards", "ops", {"panels": []})
    assert replaced.status_code == 200
    assert {k: replaced.get_json()[k] for k in ("from", "until", "refresh", "panels")} == {
        "from": "-1h", "until": "now", "refresh": 0, "panels": []}

    assert delete(client, "dashboards", "ops").status_code == 204
    assert error_of(delete(client, "dashboards", "ops"), 404) == "no dashboard named 'ops'"


@pytest.mark.parametrize(("body", "message"), [
    ({"from": "whenever"}, "from/until: Invalid time"),
    ({"from": "-1h", "until": "-1h"}, "from/until: Invalid empty time range"),
    ({"refresh": "30"}, "refresh: must be a whole number of seconds"),
    ({"panels": [{"graph": "a/b"}]}, "panels[0].graph: must not contain '/'"),
    ({"panels": [{"targets": ["f("]}]}, "panels[0].targets[0]: "),
    ({"panels": [{"targets": ["a"], "params": {"width": "-3"}}]}, "panels[0].params: width"),
    ({"panels": "cpu"}, "panels: must be a list"),
])
def test_put_dashboard_bad_bodies_are_400(client, body, message):
    assert error_of(put(client, "dashboards", "d", body), 400).startswith(message)
    assert client.get("/api/dashboards").get_json() == []


def test_rename_dashboard(client):
    put(client, "dashboards", "a", DASHBOARD)
    put(client, "dashboards", "b", {})
    renamed = post(client, "/api/dashboards/a/rename", {"name": "a.png"})
    assert renamed.status_code == 200 and renamed.get_json()["url"] == "/dashboards/a.png"
    assert error_of(post(client, "/api/dashboards/b/rename", {"name": "a.png"}), 409)
    assert error_of(post(client, "/api/dashboards/a/rename", {"name": "c"}), 404)


def test_renaming_a_graph_keeps_dashboards_showing_it(client):
    put(client, "graphs", "cpu", GRAPH)
    put(client, "dashboards", "ops", DASHBOARD)
    post(client, "/api/graphs/cpu/rename", {"name": "processor"})
    panels = client.get("/api/dashboards/ops").get_json()["panels"]
    assert panels[:2] == [{"graph": "processor"}, {"graph": "not saved yet"}]


# -- cross-site refusals ------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [
    None, "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "text/plain", "application/jsonp",
])
def test_writes_need_json_content_type(client, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    data = json.dumps(GRAPH)
    assert error_of(client.put("/api/graphs/g", data=data, headers=headers), 403) == (
        "state-changing requests must be sent as application/json")
    put(client, "graphs", "g", GRAPH)
    assert error_of(client.delete("/api/graphs/g", headers=headers), 403)
    assert error_of(client.post("/api/graphs/g/rename", data='{"name": "h"}',
                                headers=headers), 403)
    assert client.get("/api/graphs/g").get_json()["name"] == "g"


def test_json_with_charset_passes(client):
    response = client.put("/api/graphs/g", data=json.dumps(GRAPH),
                          headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201


@pytest.mark.parametrize("origin", [
    "http://evil.example", "https://localhost", "http://localhost:8080", "null",
    "http://localhost.evil.example", "garbage", "",
])
def test_foreign_origins_are_refused(client, origin):
    response = put(client, "graphs", "g", GRAPH, Origin=origin)
    assert "cross-origin request refused" in error_of(response, 403)
    put(client, "graphs", "g", GRAPH)
    assert error_of(delete(client, "graphs", "g", Origin=origin), 403)
    assert error_of(post(client, "/api/graphs/g/rename", {"name": "h"}, Origin=origin), 403)
    assert client.get("/api/graphs/g").status_code == 200


@pytest.mark.parametrize("origin", ["http://localhost", "http://LOCALHOST:80"])
def test_own_origin_passes(client, origin):
    assert put(client, "graphs", "g", GRAPH, Origin=origin).status_code == 201
    assert delete(client, "graphs", "g", Origin=origin).status_code == 204


def test_own_origin_on_another_host_and_port(client):
    headers = {"Origin": "https://graphs.example:8443", "Host": "graphs.example:8443"}
    response = client.put("/api/graphs/g", data=json.dumps(GRAPH), content_type=JSON,
                          headers=headers, base_url="https://graphs.example:8443")
    assert response.status_code == 201


def test_reads_ignore_origin(client):
    response = client.get("/api/graphs", headers={"Origin": "http://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


# -- the saved-graph image ----------------------------------------------------------------


def test_image_of_a_saved_graph_with_its_size(client):
    put(client, "graphs", "cpu", {**GRAPH, "params": {**GRAPH["params"], "width": "400",
                                                      "height": "200"}})
    response = client.get("/graphs/cpu.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert png_size(response.data) == (400, 200)
    assert response.headers["Cache-Control"] == "no-cache"


def test_image_default_size_is_graphites(client):
    put(client, "graphs", "cpu", GRAPH)
    assert png_size(client.get("/graphs/cpu.png").data) == (330, 250)


def test_image_query_overrides_saved_params(client):
    put(client, "graphs", "cpu", {**GRAPH, "params": {"width": "400", "height": "200",
                                                      "from": "-10min"}})
    response = client.get("/graphs/cpu.png?width=123&from=-20min&until=-1min&hideLegend=1")
    assert png_size(response.data) == (123, 200)
    assert png_size(client.get("/graphs/cpu.png?height=77").data) == (400, 77)


def test_image_is_the_same_picture_as_render(client):
    put(client, "graphs", "cpu", {"targets": ["servers.web1.cpu"],
                                  "params": {"from": "-20min", "width": "300"}})
    saved = client.get("/graphs/cpu.png").data
    direct = client.get("/render?target=servers.web1.cpu&from=-20min&width=300").data
    assert saved == direct
    # Neither targets nor the format can be changed through the image URL.
    assert client.get("/graphs/cpu.png?target=servers.web2.cpu&format=svg").data == saved


def test_image_of_missing_graph_is_404_json(client):
    assert error_of(client.get("/graphs/nope.png"), 404) == "no graph named 'nope'"


def test_image_bad_override_is_400_and_too_big_is_422(client):
    put(client, "graphs", "cpu", GRAPH)
    assert error_of(client.get("/graphs/cpu.png?width=wide"), 400).startswith("width:")
    assert error_of(client.get("/graphs/cpu.png?width=9000"), 422).startswith(
        "an image may be at most")


def test_image_of_a_hostile_name(client):
    put(client, "graphs", HOSTILE, GRAPH)
    response = client.get("/graphs/" + quote(HOSTILE, safe="") + ".png")
    assert response.status_code == 200 and png_size(response.data) == (330, 250)


# -- prefix, file location, app assembly --------------------------------------------------


def test_everything_under_the_url_prefix(storage):
    app = app_for(storage, url_prefix="/graphite")
    client = app.test_client()
    created = client.put("/graphite/api/graphs/cpu", data=json.dumps(GRAPH), content_type=JSON)
    assert created.status_code == 201
    assert created.get_json()["url"] == "/graphite/graphs/cpu"
    assert created.get_json()["image"] == "/graphite/graphs/cpu.png"
    assert created.headers["Location"].endswith("/graphite/api/graphs/cpu")
    assert client.get("/graphite/graphs/cpu.png").status_code == 200
    assert client.get("/api/graphs").status_code == 404
    with app.test_request_context():
        from flask import url_for
        assert url_for("static", filename="app.js") == "/graphite/static/app.js"


def test_db_file_from_settings_made_on_first_write(storage, tmp_path):
    db = tmp_path / "not" / "yet" / "graphs.db"
    client = app_for(storage, db=str(db)).test_client()
    assert not db.exists()
    put(client, "graphs", "cpu", GRAPH)
    assert db.is_file()
    # Another app over the same file sees it.
    assert app_for(storage, db=str(db)).test_client().get("/api/graphs/cpu").status_code == 200


def test_default_db_is_beside_the_storage_directory(storage):
    put(app_for(storage).test_client(), "graphs", "cpu", GRAPH)
    assert (storage.parent / "graphs.db").is_file()


def test_missing_optional_views_are_skipped():
    assert _optional_views("no_such_view_module") == []
