"""The tag index (registry + files + cache names), graphite's tag matching, the /tags
endpoints and seriesByTag through /render."""

from __future__ import annotations

import pytest
import whisper

from carbon_store.names import relative_path
from carbon_store.tagindex import TagExpr, TagIndex, parse_tags, register_tagged
from render_web.app import create_app
from render_web.settings import WebSettings

NOW = 1_700_000_000 - 1_700_000_000 % 3600
NAMES = ["cpu;dc=us-east;host=a", "cpu;dc=eu;host=b", "mem;dc=us-west;host=a"]


def make_tagged(root, name, values):
    path = root / relative_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    whisper.create(str(path), [(60, 1440)])
    whisper.update_many(str(path), [(NOW - (len(values) - 1 - i) * 60, v)
                                    for i, v in enumerate(values)], now=NOW)
    register_tagged(root, name)


@pytest.fixture
def storage(tmp_path):
    root = tmp_path / "whisper"
    root.mkdir()
    for i, name in enumerate(NAMES):
        make_tagged(root, name, [float(i + 1)] * 3)
    register_tagged(root, "gone;dc=us")  # registered, but no file: not listed
    return root


@pytest.fixture
def index(storage):
    return TagIndex(storage, max_age=0)


def test_parse_tags():
    assert parse_tags("cpu;dc=us;host=a") == {"name": "cpu", "dc": "us", "host": "a"}
    assert parse_tags("a.b") == {"name": "a.b"}


@pytest.mark.parametrize(("expr", "value", "expected"), [
    ("dc=us", "us", True), ("dc=us", "us2", False), ("dc=us", "", False),
    ("dc!=us", "us", False), ("dc!=us", "", True),
    ("dc=~us", "us-east", True),  # anchored at the start only
    ("dc=~east", "us-east", False), ("dc=~^.*east$", "us-east", True),
    ("dc!=~us", "us-east", False), ("dc!=~us", "eu", True),
    ("dc=", "", True), ("dc!=", "", False), ("dc!=", "x", True),
])
def test_expression(expr, value, expected):
    assert TagExpr.parse(expr).accepts(value) is expected


def test_bad_expressions():
    with pytest.raises(ValueError, match="Invalid tagspec"):
        TagExpr.parse("dc")
    with pytest.raises(ValueError, match="regular expression"):
        TagExpr.parse("dc=~(")


def test_index_names_from_registry_and_cache(index, storage):
    assert index.names() == sorted(NAMES)  # "gone" has no file
    cached = TagIndex(storage, cache_names=lambda: ["new;z=1", "untagged.x", "x;=bad"],
                      max_age=0)
    assert cached.names() == sorted([*NAMES, "new;z=1"])


def test_registry_is_reread_after_max_age(storage):
    clock = [0.0]
    index = TagIndex(storage, max_age=10, clock=lambda: clock[0])
    assert len(index.names()) == 3
    make_tagged(storage, "disk;dc=eu", [1.0])
    assert len(index.names()) == 3
    clock[0] = 10.0
    assert "disk;dc=eu" in index.names()


def test_find_series(index):
    assert index.find_series(["name=cpu"]) == ["cpu;dc=eu;host=b", "cpu;dc=us-east;host=a"]
    assert index.find_series(["dc=~us", "host!=b"]) == ["cpu;dc=us-east;host=a",
                                                        "mem;dc=us-west;host=a"]
    assert index.find_series(["host=a", "name!=~c"]) == ["mem;dc=us-west;host=a"]
    # missing tag counts as "": `rack=` keeps series without it
    assert index.find_series(["name=mem", "rack="]) == ["mem;dc=us-west;host=a"]
    assert index.find_series(["name=mem", "rack!="]) == []
    with pytest.raises(ValueError, match="At least one tagspec"):
        index.find_series(["rack=", "dc=~.*"])


def test_lists_and_auto_complete(index):
    assert index.list_tags() == ["dc", "host", "name"]
    assert index.list_tags("h") == ["host"]
    assert index.list_tags(limit=2) == ["dc", "host"]
    assert index.list_values("host") == [("a", 2), ("b", 1)]
    assert index.list_values("dc", "us") == [("us-east", 1), ("us-west", 1)]
    assert index.auto_complete_tags([]) == ["dc", "host", "name"]
    assert index.auto_complete_tags([], tag_prefix="n") == ["name"]
    assert index.auto_complete_tags(["name=cpu"]) == ["dc", "host"]
    assert index.auto_complete_tags(["name=cpu"], limit=1) == ["dc"]
    assert index.auto_complete_tags(["name=cpu"], limit="0") == ["dc", "host"]
    assert index.auto_complete_values(["host=a"], "dc") == ["us-east", "us-west"]
    assert index.auto_complete_values(["host=a"], "dc", value_prefix="us-w") == ["us-west"]
    assert index.auto_complete_values([], "name") == ["cpu", "mem"]


@pytest.fixture
def client(storage):
    app = create_app(WebSettings(storage=str(storage)), clock=lambda: NOW)
    app.testing = True
    return app.test_client()


def test_tags_endpoints(client):
    assert client.get("/tags").get_json() == [{"tag": "dc"}, {"tag": "host"}, {"tag": "name"}]
    assert client.get("/tags?filter=d").get_json() == [{"tag": "dc"}]
    assert client.get("/tags/host").get_json() == {
        "tag": "host", "values": [{"value": "a", "count": 2}, {"value": "b", "count": 1}]}
    assert client.get("/tags/nothing").get_json() is None
    assert client.get("/tags/findSeries?expr=name=cpu&expr=dc=eu").get_json() == [
        "cpu;dc=eu;host=b"]
    assert client.post("/tags/findSeries", data={"expr": "host=a"}).get_json() == [
        "cpu;dc=us-east;host=a", "mem;dc=us-west;host=a"]
    assert client.get("/tags/findSeries").status_code == 400
    assert client.get("/tags/findSeries?expr=dc=").status_code == 400
    url = "/tags/autoComplete/tags?expr=name%3D~c.*&tagPrefix=h&limit=0&from=-6h&until=now"
    assert client.get(url).get_json() == ["host"]
    url = "/tags/autoComplete/values?expr=name%3Dcpu&tag=dc&valuePrefix=&limit=10000"
    assert client.get(url).get_json() == ["eu", "us-east"]
    assert client.get("/tags/autoComplete/values").status_code == 400
    assert client.get("/tags/autoComplete/tags?jsonp=cb").data.startswith(b"cb([")


def test_series_by_tag_renders(client):
    target = "seriesByTag('name=cpu','dc=~us')"
    body = client.get(f"/render?target={target}&format=json&from=-3min&until=now"
                      ).get_json()
    assert [s["target"] for s in body] == ["cpu;dc=us-east;host=a"]
    assert body[0]["tags"] == {"name": "cpu", "dc": "us-east", "host": "a"}
    # values 1 at the last three minutes (the first NaN falls before the data)
    assert [v for v, _ in body[0]["datapoints"]][-3:] == [1.0, 1.0, 1.0]
    assert client.get("/render?target=seriesByTag('dc=')&format=json").status_code == 400
    body = client.get("/render?target=sumSeries(seriesByTag('host=a'))&format=json"
                      "&from=-3min").get_json()
    # cpu a = 1, mem a = 3: sum 4
    assert [v for v, _ in body[0]["datapoints"]][-1] == 4.0
