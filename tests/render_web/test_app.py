"""Every endpoint and error path of the Flask app, through its test client."""

from __future__ import annotations

import json
import pickle

import pytest
import whisper

from carbon_store.reader import MetricReader
from render_web.app import create_app
from render_web.settings import WebSettings

NOW = 1_700_000_000 - 1_700_000_000 % 3600  # an hour boundary
WINDOW = {"from": str(NOW - 600), "until": str(NOW), "now": str(NOW)}


def make_metric(root, name, values, step=60, method="average"):
    path = root.joinpath(*name.split(".")).with_suffix(".wsp")
    path.parent.mkdir(parents=True, exist_ok=True)
    whisper.create(str(path), [(step, 1440)], aggregationMethod=method)
    points = [(NOW - (len(values) - 1 - i) * step, v) for i, v in enumerate(values)
              if v is not None]
    whisper.update_many(str(path), points, now=NOW)


@pytest.fixture
def storage(tmp_path):
    root = tmp_path / "whisper"
    root.mkdir()
    for host, base in (("web1", 1.0), ("web2", 10.0), ("db1", 100.0)):
        make_metric(root, f"servers.{host}.cpu", [base * i for i in range(1, 11)])
    make_metric(root, "servers.web1.requests", [5.0] * 10, method="sum")
    make_metric(root, "gaps.sparse", [1.0, None, 3.0, None, 5.0, None, 7.0, None, 9.0, 10.0])
    (root / "servers" / "web1" / ".hidden.wsp").write_bytes(b"")
    return root


def app_for(storage, **settings):
    return create_app(WebSettings(storage=str(storage), **settings), clock=lambda: NOW)


@pytest.fixture
def client(storage):
    return app_for(storage).test_client()


def render(client, *targets, method="get", **params):
    query = [("target", t) for t in targets] + list({**WINDOW, **params}.items())
    if method == "post":
        return client.post("/render", data=query)
    return client.get("/render", query_string=query)


def test_render_json_of_a_wildcard_sorted_by_name(client):
    response = render(client, "servers.*.cpu", format="json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert [s["target"] for s in body] == ["servers.db1.cpu", "servers.web1.cpu",
                                           "servers.web2.cpu"]
    web1 = body[1]
    assert web1["tags"] == {"name": "servers.web1.cpu"}
    assert web1["datapoints"][0] == [1.0, NOW - 540]
    assert web1["datapoints"][-1] == [10.0, NOW]
    assert len(web1["datapoints"]) == 10


def test_post_form_and_get_are_merged(client):
    response = client.post("/render?format=json", data={"target": "servers.web1.cpu",
                                                         **WINDOW})
    assert [s["target"] for s in response.get_json()] == ["servers.web1.cpu"]
    both = client.post("/render?format=json&target=servers.web2.cpu",
                       data={"target": "servers.web1.cpu", **WINDOW})
    assert [s["target"] for s in both.get_json()] == ["servers.web2.cpu", "servers.web1.cpu"]


def test_target_brackets_and_several_targets(client):
    response = client.get("/render", query_string=[
        ("target[]", "servers.web1.cpu"), ("target", "servers.db1.cpu"),
        ("format", "json"), *WINDOW.items()])
    assert {s["target"] for s in response.get_json()} == {"servers.web1.cpu",
                                                          "servers.db1.cpu"}


def test_grafana_panel_query(client):
    """The shape Grafana sends: every target wrapped in aliasSub with a refId."""
    response = client.post("/render", data={
        "target": 'aliasSub(sumSeries(servers.*.cpu), "(^.*$)", "\\1 A")',
        "from": "-10min", "until": "now", "format": "json", "maxDataPoints": "3"})
    assert response.status_code == 200, response.data
    (series,) = response.get_json()
    assert series["target"] == "sumSeries(servers.*.cpu) A"
    assert 1 <= len(series["datapoints"]) <= 3


def test_grafana_health_check(client):
    response = client.post("/render", data="format=json&from=1795934340&maxDataPoints=100"
                           "&target=constantLine%28100%29&until=1795937940",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.data
    (series,) = response.get_json()
    assert {p[0] for p in series["datapoints"]} == {100}


def test_max_data_points_uses_the_storage_aggregation(client):
    """On purpose unlike graphite-web: a summed metric stays summed when consolidated."""
    response = render(client, "servers.web1.requests", format="json", maxDataPoints="2")
    values = [v for v, _ in response.get_json()[0]["datapoints"] if v is not None]
    assert all(v % 5 == 0 and v > 5 for v in values)
    averaged = render(client, "consolidateBy(servers.web1.requests,'average')",
                      format="json", maxDataPoints="2")
    assert {v for v, _ in averaged.get_json()[0]["datapoints"] if v is not None} == {5.0}


def test_no_null_points_and_pretty(client):
    response = render(client, "gaps.sparse", format="json", noNullPoints="1")
    points = response.get_json()[0]["datapoints"]
    assert [v for v, _ in points] == [1.0, 3.0, 5.0, 7.0, 9.0, 10.0]
    pretty = render(client, "gaps.sparse", format="json", pretty="1")
    assert b"\n  " in pretty.data
    assert json.loads(pretty.data)[0]["datapoints"][1][0] is None


def test_jsonp_only_with_a_format(client):
    response = render(client, "servers.web1.cpu", format="json", jsonp="cb")
    assert response.mimetype == "text/javascript"
    assert response.data.startswith(b"cb([") and response.data.endswith(b")")
    bad = render(client, "servers.web1.cpu", format="json", jsonp="alert(1);x")
    assert bad.status_code == 400


def test_csv_raw_and_pickle(client):
    csv = render(client, "gaps.sparse", format="csv")
    lines = csv.get_data(as_text=True).splitlines()
    assert csv.mimetype == "text/csv"
    assert lines[0].startswith("gaps.sparse,2023-11-14 ")
    assert lines[1].endswith(",")  # null
    raw = render(client, "gaps.sparse", format="raw")
    assert raw.get_data(as_text=True) == (
        f"gaps.sparse,{NOW - 540},{NOW + 60},60|1.0,None,3.0,None,5.0,None,7.0,None,9.0,10.0\n")
    assert render(client, "gaps.sparse", rawData="true").data == raw.data
    loaded = pickle.loads(render(client, "gaps.sparse", format="pickle").data)
    assert loaded[0]["name"] == "gaps.sparse" and loaded[0]["step"] == 60
    assert loaded[0]["values"][:3] == [1.0, None, 3.0]
    assert loaded[0]["pathExpression"] == "gaps.sparse"


def test_csv_in_the_request_time_zone(client):
    utc = render(client, "servers.web1.cpu", format="csv").get_data(as_text=True)
    berlin = render(client, "servers.web1.cpu", format="csv",
                    tz="Europe/Berlin").get_data(as_text=True)
    assert utc.splitlines()[-1].split(",")[1] == "2023-11-14 22:00:00"
    assert berlin.splitlines()[-1].split(",")[1] == "2023-11-14 23:00:00"


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("svg", b"<?xml"),
                                       ("pdf", b"%PDF")])
def test_images(client, fmt, magic):
    response = render(client, "servers.*.cpu", format=fmt, width="400", height="300")
    assert response.status_code == 200, response.data[:300]
    assert response.data.startswith(magic)


def test_png_is_the_default_format(client):
    assert render(client, "servers.web1.cpu").data.startswith(b"\x89PNG")


def test_empty_answers(client):
    assert render(client, "no.such.metric", format="json").get_json() == []
    assert render(client, format="json").get_json() == []
    assert render(client, "no.such.metric").data.startswith(b"\x89PNG")  # "No Data"


@pytest.mark.parametrize("params,fragment", [
    ({"target": "sumSeries(servers.*.cpu"}, "position"),
    ({"target": "noSuchFunction(servers.web1.cpu)"}, "unknown function"),
    ({"target": "movingAverage(servers.web1.cpu)"}, "windowSize"),
    ({"target": "scale(servers.web1.cpu, 'x')"}, "factor"),
    ({"target": "summarize(servers.web1.cpu, '5m')"}, "Invalid offset unit"),
    ({"target": "servers.web1.cpu", "from": "yesterdayish"}, "Invalid time"),
    ({"target": "servers.web1.cpu", "from": str(NOW), "until": str(NOW)}, "empty time range"),
    ({"target": "servers.web1.cpu", "format": "xml"}, "unknown format"),
    ({"target": "servers.web1.cpu", "maxDataPoints": "many"}, "maxDataPoints"),
    ({"target": "servers.web1.cpu", "maxDataPoints": "0"}, "maxDataPoints"),
    ({"target": "servers.web1.cpu", "format": "png", "width": "wide"}, "width"),
    ({"target": "servers.web1.cpu", "xFilesFactor": "2"}, "xFilesFactor"),
])
def test_bad_requests_are_400_with_a_json_error(client, params, fragment):
    query = {**WINDOW, "format": "json", **params}
    response = client.get("/render", query_string=query)
    assert response.status_code == 400, response.data
    error = response.get_json()["error"]
    assert fragment in error


def test_limits_are_422(storage):
    client = app_for(storage, max_series=2).test_client()
    response = render(client, "servers.*.cpu", format="json")
    assert response.status_code == 422
    assert "max_series" in response.get_json()["error"]
    client = app_for(storage, max_points=15).test_client()
    assert render(client, "servers.*.cpu", format="json").status_code == 422
    client = app_for(storage, max_width=500).test_client()
    response = render(client, "servers.web1.cpu", format="png", width="501")
    assert response.status_code == 422 and "max_width" in response.get_json()["error"]


def test_unknown_paths_are_json_404(client):
    response = client.get("/nowhere")
    assert response.status_code == 404 and "error" in response.get_json()


def test_url_prefix(storage):
    client = app_for(storage, url_prefix="/graphite").test_client()
    assert client.get("/graphite/version").data == b"1.1.10"
    assert render(client, "servers.web1.cpu", format="json").status_code == 404
    response = client.get("/graphite/render", query_string={
        "target": "servers.web1.cpu", "format": "json", **WINDOW})
    assert response.get_json()[0]["target"] == "servers.web1.cpu"
    assert client.get("/graphite/metrics/find?query=*").status_code == 200


# -- /metrics ---------------------------------------------------------------------------

def test_find_treejson(client):
    response = client.get("/metrics/find", query_string={"query": "servers.*"})
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.get_json() == [
        {"text": name, "id": f"servers.{name}", "allowChildren": 1, "expandable": 1,
         "leaf": 0} for name in ("db1", "web1", "web2")]
    leaves = client.get("/metrics/find?query=servers.web1.*").get_json()
    assert leaves == [
        {"text": name, "id": f"servers.web1.{name}", "allowChildren": 0, "expandable": 0,
         "leaf": 1} for name in ("cpu", "requests")]


def test_find_wildcard_in_the_middle_is_one_node(client):
    body = client.get("/metrics/find?query=servers.*.cpu").get_json()
    assert body == [{"text": "cpu", "id": "servers.*.cpu", "allowChildren": 0,
                     "expandable": 0, "leaf": 1}]


def test_find_grafana_raw_post_body(client):
    """Grafana posts `query=<glob>` without URL-encoding it."""
    response = client.post("/metrics/find?from=-6h&until=now", data="query=servers.{web1,db1}",
                           content_type="application/x-www-form-urlencoded")
    assert [n["text"] for n in response.get_json()] == ["db1", "web1"]


def test_find_wildcards_node_and_other_formats(client):
    body = client.get("/metrics/find?query=servers.*&wildcards=1").get_json()
    assert body[0] == {"text": "*", "id": "servers.*", "allowChildren": 1, "expandable": 1,
                       "leaf": 0}
    completer = client.get("/metrics/find?query=servers.web1.c&format=completer").get_json()
    assert completer == {"metrics": [{"path": "servers.web1.cpu", "name": "cpu",
                                      "is_leaf": "1"}]}
    branches = client.get("/metrics/find?query=serv&format=completer").get_json()
    assert branches == {"metrics": [{"path": "servers.", "name": "servers", "is_leaf": "0"}]}
    nodes = client.get("/metrics/find?query=servers.*.*&format=nodelist&position=1").get_json()
    assert nodes == {"nodes": ["db1", "web1", "web2"]}
    as_json = client.get("/metrics/find?query=servers.web1.*&format=json").get_json()
    assert [n["path"] for n in as_json] == ["servers.web1.cpu", "servers.web1.requests"]
    pickled = pickle.loads(client.get("/metrics/find?query=gaps.*&format=pickle").data)
    assert pickled == [{"metric_path": "gaps.sparse", "isLeaf": True, "intervals": []}]


def test_find_errors(client):
    assert client.get("/metrics/find").status_code == 400
    assert client.get("/metrics/find?query=x&format=yaml").status_code == 400
    assert client.get("/metrics/find?query=nothing.here").get_json() == []


def test_find_sees_new_metrics(storage):
    app = app_for(storage, index_refresh=0.000001)
    client = app.test_client()
    assert client.get("/metrics/find?query=fresh.*").get_json() == []
    make_metric(storage, "fresh.metric", [1.0])
    assert [n["id"] for n in client.get("/metrics/find?query=fresh.*").get_json()] == [
        "fresh.metric"]


def test_expand_and_index(client):
    body = client.get("/metrics/expand?query=servers.*.cpu&query=gaps.*").get_json()
    assert body == {"results": ["gaps.sparse", "servers.db1.cpu", "servers.web1.cpu",
                                "servers.web2.cpu"]}
    grouped = client.get("/metrics/expand?query=servers.*&groupByExpr=1&leavesOnly=1")
    assert grouped.get_json() == {"results": {"servers.*": []}}
    assert client.get("/metrics/expand").status_code == 400
    index = client.get("/metrics/index.json").get_json()
    assert index == ["gaps.sparse", "servers.db1.cpu", "servers.web1.cpu",
                     "servers.web1.requests", "servers.web2.cpu"]


# -- the rest -----------------------------------------------------------------------------

def test_functions_is_valid_json_for_grafana(client):
    response = client.get("/functions")
    text = response.get_data(as_text=True)
    assert "Infinity" not in text and "NaN" not in text
    body = json.loads(text)
    average = body["movingAverage"]
    assert average["group"] == "Calculate"
    assert [p["name"] for p in average["params"]] == ["seriesList", "windowSize",
                                                      "xFilesFactor"]
    assert body["keepLastValue"]["params"][1]["default"] == float("inf")
    grouped = client.get("/functions?grouped=1").get_json()
    assert "sumSeries" in grouped["Combine"]
    assert client.get("/functions/sumSeries").get_json()["name"] == "sumSeries"
    assert client.get("/functions/noSuch").status_code == 404


def test_version_tags_and_events(client):
    version = client.get("/version")
    assert version.data == b"1.1.10"
    for path in ("/tags/autoComplete/tags?expr=name%3D~a.*&tagPrefix=na&limit=0",
                 "/tags/autoComplete/values?expr=a%3Db&tag=name&limit=10000",
                 "/events/get_data?from=-6h&until=now&tags=deploy", "/tags"):
        response = client.get(path)
        assert response.status_code == 200 and response.get_json() == [], path


def test_cache_only_points_are_merged(storage):
    class Cache:
        def query_bulk(self, metrics):
            return {m: [(NOW - 60, 42.0)] for m in metrics if m == "cached.only"}

        def find(self, pattern):
            return ["cached.only"] if pattern in ("cached.*", "*") else []

    settings = WebSettings(storage=str(storage))
    reader = MetricReader(storage, Cache())
    client = create_app(settings, reader=reader, clock=lambda: NOW).test_client()
    body = render(client, "cached.*", format="json").get_json()
    assert body[0]["target"] == "cached.only"
    assert [t for v, t in body[0]["datapoints"] if v == 42.0] == [NOW - 60]
    assert client.get("/metrics/find?query=cached.*").get_json()[0]["leaf"] == 1
    assert "cached.only" in client.get("/metrics/index.json").get_json()


def test_template_with_request_values(client):
    response = render(client, "template(servers.$host.cpu, host='web1')", format="json",
                      **{"template[host]": "db1"})
    assert [s["target"] for s in response.get_json()] == ["servers.db1.cpu"]


@pytest.mark.parametrize("target", ["/etc/passwd", "..", "servers/../../x", "~root"])
def test_names_never_escape_the_storage(client, target):
    response = client.get("/render", query_string={"target": target, "format": "json",
                                                   **WINDOW})
    assert response.status_code in (200, 400)
    assert response.status_code == 400 or response.get_json() == []
    assert client.get("/metrics/find", query_string={"query": target}).get_json() in ([], None)


def test_health(storage, tmp_path):
    client = app_for(storage).test_client()
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["storage"]["readable"]
    assert body["cache_query"] is None
    missing = app_for(tmp_path / "nowhere").test_client().get("/health")
    assert missing.status_code == 503 and missing.get_json()["status"] == "degraded"
    from tests.conftest import free_port
    dead = app_for(storage, cache_query=("127.0.0.1", free_port())).test_client()
    response = dead.get("/health")
    assert response.status_code == 503
    assert response.get_json()["cache_query"]["answering"] is False
