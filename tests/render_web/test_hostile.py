"""Hostile requests to the renderer: each gets a 4xx with a JSON error, quickly, and the
app keeps answering; names never lead outside the storage directory; corrupt files
are skipped with a clear message, never a 500."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import whisper
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from carbon_store.cache import MetricCache
from carbon_store.reader import LocalCache, MetricReader
from carbon_store.schemas import AggregationRule, SchemaRule, StorageRules
from render_web.app import create_app
from render_web.grammar import MAX_DEPTH, GrammarError, parse_target
from render_web.settings import WebSettings

NOW = 1_700_000_000 - 1_700_000_000 % 3600
WINDOW = {"from": str(NOW - 600), "until": str(NOW), "now": str(NOW)}
REQUEST_TIMEOUT = 30.0  # for the HTTP client only; pytest-timeout catches a hang


def make_metric(root: Path, name: str, archives=((60, 1440),), sparse=False) -> Path:
    path = root.joinpath(*name.split(".")).with_suffix(".wsp")
    path.parent.mkdir(parents=True, exist_ok=True)
    whisper.create(str(path), list(archives), sparse=sparse)
    step = archives[0][0]
    whisper.update_many(str(path), [(NOW - i * step, float(i)) for i in range(5)], now=NOW)
    return path


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    root = tmp_path / "whisper"
    for i in range(20):
        make_metric(root, f"hosts.h{i:02d}.cpu")
    make_metric(root, "good.a")
    return root


def app_for(storage: Path, reader=None, **settings):
    return create_app(WebSettings(storage=str(storage), **settings), reader=reader,
                      clock=lambda: NOW)


@pytest.fixture
def client(storage):
    return app_for(storage, max_series=10).test_client()


def render(client, *targets, method="get", **params):
    query = [("target", t) for t in targets] + list({**WINDOW, "format": "json",
                                                     **params}.items())
    if method == "post":
        return client.post("/render", data=MultiDict(query))
    return client.get("/render", query_string=query)


def assert_refused(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    for word in words:
        assert word in error
    return error


def assert_still_answers(client) -> None:
    response = render(client, "good.a")
    assert response.status_code == 200
    assert [s["target"] for s in response.get_json()] == ["good.a"]


# -- the target grammar ---------------------------------------------------------------

def test_ten_thousand_nested_calls_are_a_grammar_error_not_a_recursion_error():
    target = "scale(" * 10_000 + "a.b" + ",2)" * 10_000
    with pytest.raises(GrammarError, match="nested more than"):
        parse_target(target)


def test_nesting_is_allowed_up_to_the_limit_and_counted_through_pipes():
    parse_target("scale(" * MAX_DEPTH + "a" + ",1)" * MAX_DEPTH)
    parse_target("a" + "|scale(1)" * MAX_DEPTH)
    with pytest.raises(GrammarError, match="nested"):
        parse_target("a" + "|scale(1)" * (MAX_DEPTH + 1))
    with pytest.raises(GrammarError, match="nested"):
        parse_target("scale(" * (MAX_DEPTH + 1) + "a" + ",1)" * (MAX_DEPTH + 1))
    # Siblings are not nesting: many calls side by side are fine.
    parse_target("sumSeries(" + ",".join(["scale(a,1)"] * 2000) + ")")


TARGET_ALPHABET = st.sampled_from([*"abc.*?{},()|'\"\\=-1 0eE_\t[]~;:", "scale(",
                                   "sumSeries(", "true", "inf", "None", "\x00", "é"])


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60),
                 st.lists(TARGET_ALPHABET, max_size=40).map("".join)))
def test_any_text_parses_or_raises_grammar_error(text):
    try:
        parse_target(text)
    except GrammarError as exc:
        assert 0 <= exc.position <= len(text)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.integers(0, 3 * MAX_DEPTH), st.booleans())
def test_any_depth_parses_or_raises_grammar_error(depth, piped):
    text = ("a" + "|f()" * depth) if piped else ("f(" * depth + "a" + ")" * depth)
    try:
        parse_target(text)
        assert depth <= MAX_DEPTH
    except GrammarError:
        assert depth > MAX_DEPTH


# -- /render refusals -----------------------------------------------------------------

def test_deeply_nested_target_is_a_400_and_the_app_keeps_answering(storage):
    # 90,006 characters: the length limit is raised so that the parser meets them.
    client = app_for(storage, max_target_length=100_000).test_client()
    target = "scale(" * 10_000 + "good.a" + ",2)" * 10_000
    assert_refused(render(client, target), 400, "nested more than")
    assert_still_answers(client)


def test_nesting_at_the_limit_evaluates(client):
    # scale(...) 100 times around good.a, whose newest point is 0: still 0, and named
    # with every level (the evaluator's recursion survives the parser's limit).
    target = "scale(" * MAX_DEPTH + "good.a" + ",1)" * MAX_DEPTH
    response = render(client, target)
    assert response.status_code == 200
    (series,) = response.get_json()
    assert series["target"].count("scale(") == MAX_DEPTH
    assert series["datapoints"][-1] == [0.0, NOW]


def test_a_wildcard_over_every_metric_passes_max_series(client):
    # 21 metrics, max_series=10: refused before the 11th series is read.
    assert_refused(render(client, "*.*.*"), 422, "max_series")
    assert_refused(render(client, "sumSeries(hosts.*.cpu)"), 422, "max_series")
    assert_still_answers(client)


def test_a_century_at_ten_seconds_passes_max_points(tmp_path):
    # A sparse file keeping 10 s points for a century (315,360,000 of them): a request
    # for all of it is refused before a byte of its data is read.
    root = tmp_path / "whisper"
    make_metric(root, "good.a")
    make_metric(root, "deep.history", archives=((10, 100 * 365 * 8640),), sparse=True)
    client = app_for(root).test_client()
    assert_refused(render(client, "deep.history", **{"from": "-100y"}), 422, "max_points")
    assert_still_answers(client)


def test_a_century_of_a_cache_only_metric_is_cut_to_its_retention(tmp_path):
    # Only in the cache, with rules keeping 10 s points for a day: a century-long
    # window reads a day (8640 slots), not 315 million NaNs.
    root = tmp_path / "whisper"
    make_metric(root, "good.a")
    cache = MetricCache()
    cache.store_many([("cached.only", NOW - 10, 7.0)])
    rules = StorageRules([SchemaRule("all", re.compile(""), ((10, 8640),))],
                         [AggregationRule("avg", re.compile(""), 0.5, "average")])
    reader = MetricReader(root, LocalCache(cache), lambda: rules)
    client = app_for(root, reader=reader).test_client()
    response = render(client, "cached.only", **{"from": "-100y"})
    assert response.status_code == 200
    (series,) = response.get_json()
    # A day of slots, NOW - 86390 to NOW, as a file of that schema would give.
    assert len(series["datapoints"]) == 8640
    assert series["datapoints"][0][1] == NOW - 86390
    assert [7.0, NOW - 10] in series["datapoints"]
    # Under max_points a window that would allocate more is refused outright.
    strict = app_for(root, reader=MetricReader(root, LocalCache(cache), lambda: rules),
                     max_points=1000).test_client()
    assert_refused(render(strict, "cached.only", **{"from": "-100y"}), 422, "max_points")


def test_an_image_100000_pixels_wide_is_a_422(client):
    assert_refused(render(client, "good.a", format="png", width="100000"), 422,
                   "max_width")
    assert_still_answers(client)


def test_a_one_megabyte_target_is_refused_before_parsing(client):
    target = "a." + "x" * (1 << 20)
    error = assert_refused(render(client, target), 422, "max_target_length")
    assert len(error) < 300  # the message does not echo the megabyte back
    # In a form body, werkzeug's form size bound (500 kB) refuses it first, as JSON.
    assert_refused(render(client, target, method="post"), 413, "exceeds")
    error = assert_refused(render(client, target[:200_000], method="post"), 422,
                           "max_target_length")
    assert_still_answers(client)


def test_max_target_length_is_a_setting(storage):
    client = app_for(storage, max_target_length=10).test_client()
    assert render(client, "good.a").status_code == 200
    assert_refused(render(client, "sumSeries(good.a)"), 422, "at most 10 characters")


def test_unknown_function_and_wrong_argument_types_are_400s(client):
    assert_refused(render(client, "noSuchFunction(good.a)"), 400, "unknown function")
    assert_refused(render(client, "scale(good.a,'ten')"), 400, "scale", "factor")
    assert_refused(render(client, "scale(5,good.a)"), 400, "scale")
    assert_refused(render(client, "movingAverage(good.a,'1 fortnight')"), 400)
    assert_refused(render(client, "alias(good.a,good.a)"), 400, "alias")
    assert_refused(render(client, "sumSeries(good.a"), 400, "expected")
    assert_still_answers(client)


def test_exploding_brace_lists_are_refused(client):
    # 2**30 names in one node: refused without expanding them, on render and find.
    pattern = "hosts." + "{a,b}" * 30 + ".cpu"
    assert_refused(render(client, pattern), 400, "expand to more than")
    response = client.get("/metrics/find", query_string={"query": pattern})
    assert_refused(response, 400, "expand to more than")
    # So are thousands of one-name lists (each would be one level of recursion).
    assert_refused(client.get("/metrics/find", query_string={"query": "{a}" * 5000}),
                   400, "lists")
    assert_still_answers(client)


# -- names that try to leave the storage directory ---------------------------------------

ESCAPES = [
    "..", "../outside/secret", "..%2Foutside%2Fsecret", "good/../../outside/secret",
    "..\\outside\\secret", "good.a\x00.x", "/etc/passwd", "//etc/passwd",
    "%2Fetc%2Fpasswd", "outside.secret", "link.secret", "link.*", "*.secret",
    "good.\u2215etc\u2215passwd", "\uff0e\uff0e.outside.secret", "good.\u2024\u2024.x",
    "a." + "x" * 5000, ".".join(["x"] * 3000), "~/outside", "good.a;tag=../../x",
    "seriesByTag('name=../../outside')",
]


@pytest.fixture
def planted(tmp_path: Path, storage: Path) -> tuple[Path, list[str]]:
    """A folder beside the storage directory holding a .wsp, and a symbolic link to it
    planted in the tree (`link`), plus one to the file itself (`good.alias`)."""
    outside = tmp_path / "outside"
    make_metric(outside.parent, "outside.secret")
    (storage / "link").symlink_to(outside, target_is_directory=True)
    (storage / "good" / "alias.wsp").symlink_to(outside / "secret.wsp")
    return outside, sorted(os.listdir(tmp_path))


def test_render_targets_never_read_outside(storage, planted):
    outside, before = planted
    client = app_for(storage).test_client()
    secret_atime = os.stat(outside / "secret.wsp").st_mtime_ns
    for name in [*ESCAPES, "link.secret", "good.alias", "sumSeries(link.*)"]:
        response = render(client, name)
        assert response.status_code in (200, 400, 422), (name, response.status_code)
        if response.status_code == 200:
            assert response.get_json() == [], name
        else:
            assert "error" in response.get_json()
    assert sorted(os.listdir(outside.parent)) == before
    assert sorted(os.listdir(outside)) == ["secret.wsp"]
    assert os.stat(outside / "secret.wsp").st_mtime_ns == secret_atime
    assert_still_answers(client)


def test_find_never_lists_outside(storage, planted):
    outside, before = planted
    client = app_for(storage).test_client()
    for query in [*ESCAPES, "*", "*.*", "link", "good.*"]:
        response = client.get("/metrics/find", query_string={"query": query,
                                                             "format": "completer"})
        assert response.status_code in (200, 400), (query, response.status_code)
        if response.status_code == 200:
            paths = [m.get("path", "") for m in response.get_json()["metrics"]]
            assert not any("link" in p or "secret" in p or "alias" in p for p in paths), \
                (query, paths)
    tree = client.get("/metrics/find", query_string={"query": "*"}).get_json()
    assert sorted(node["text"] for node in tree) == ["good", "hosts"]
    index = client.get("/metrics/index.json").get_json()
    assert "good.a" in index and not [n for n in index if "secret" in n or "alias" in n]
    expanded = client.get("/metrics/expand", query_string={"query": "*.*"}).get_json()
    assert "link.secret" not in expanded["results"]
    assert sorted(os.listdir(outside.parent)) == before


# -- corrupt and truncated files ------------------------------------------------------

@pytest.fixture
def damaged(storage: Path) -> Path:
    """hosts.h00.cpu is garbage, hosts.h01.cpu cut short after its header."""
    (storage / "hosts" / "h00" / "cpu.wsp").write_bytes(b"\x00garbage" * 3)
    cut = storage / "hosts" / "h01" / "cpu.wsp"
    with open(cut, "r+b") as fh:
        fh.truncate(100)
    return storage


@pytest.mark.parametrize("metric", ["hosts.h00.cpu", "hosts.h01.cpu"])
def test_rendering_only_a_corrupt_file_is_a_4xx_naming_its_metric(damaged, metric):
    client = app_for(damaged).test_client()
    error = assert_refused(render(client, metric), 400, f"cannot read metric {metric!r}")
    assert "corrupt" in error
    assert str(damaged) not in error  # no absolute path is shown to the client
    assert_still_answers(client)


def test_a_wildcard_skips_corrupt_files_with_a_warning(damaged):
    client = app_for(damaged).test_client()
    response = render(client, "hosts.*.cpu")
    assert response.status_code == 200
    names = [s["target"] for s in response.get_json()]
    assert names == [f"hosts.h{i:02d}.cpu" for i in range(2, 20)]
    warning = response.headers["X-Statsgraph-Warning"]
    assert "'hosts.h00.cpu'" in warning and "'hosts.h01.cpu'" in warning
    # An image of the same is drawn too (a 200, not a 500).
    png = render(client, "hosts.*.cpu", format="png")
    assert png.status_code == 200 and png.mimetype == "image/png"


def test_find_of_corrupt_files_answers(damaged):
    # find does not open files: corrupt ones are listed by name, never a 500.
    client = app_for(damaged).test_client()
    response = client.get("/metrics/find", query_string={"query": "hosts.*.cpu",
                                                         "format": "json"})
    assert response.status_code == 200
    assert len(response.get_json()) == 20


# -- the real service -------------------------------------------------------------------

def fetch(url: str, data: bytes | None = None) -> tuple[int, dict | list]:
    try:
        with urllib.request.urlopen(url, data=data, timeout=REQUEST_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_service_refuses_hostile_requests_and_keeps_answering(web_daemon, storage):
    web = web_daemon("--max-series", "10", "--max-target-length", "100000")
    good = web.url("/render?format=json&target=good.a&from=-1y")
    nested = "scale(" * 10_000 + "good.a" + ",2)" * 10_000
    status, body = fetch(web.url("/render"), urllib.parse.urlencode(
        {"target": nested, "format": "json"}).encode())
    assert status == 400 and "nested" in body["error"]
    # A megabyte: refused by the form parser's own bound (413) or by max_target_length.
    status, body = fetch(web.url("/render"), urllib.parse.urlencode(
        {"target": "a." + "x" * (1 << 20), "format": "json"}).encode())
    assert status in (413, 422) and body["error"]
    status, body = fetch(web.url("/render"), urllib.parse.urlencode(
        {"target": "a." + "x" * 200_000, "format": "json"}).encode())
    assert status == 422 and "max_target_length" in body["error"]
    status, body = fetch(web.url("/render?format=json&target=*.*.*"))
    assert status == 422 and "max_series" in body["error"]
    status, body = fetch(web.url("/render?format=png&width=100000&target=good.a"))
    assert status == 422 and "max_width" in body["error"]
    status, body = fetch(web.url("/render?format=json&target=nope(good.a)"))
    assert status == 400 and "unknown function" in body["error"]
    status, body = fetch(web.url("/metrics/find?query=" + "%7Ba,b%7D" * 30))
    assert status == 400 and "expand" in body["error"]
    status, body = fetch(good)
    assert status == 200 and [s["target"] for s in body] == ["good.a"]
