"""Replay of graphite-web 1.1.10's answers (tests/render_web/golden/, recorded by
bench/record_render_golden.py) against our renderer on the same whisper files.

Names, tags, timestamps and null positions must be equal; values equal to 1e-9
(relative), since numpy may add in another order. Where we differ from graphite-web on
purpose, `DEVIATIONS` says how and why and the case checks our behaviour instead.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from render_web.app import create_app
from render_web.settings import WebSettings
from tests.render_web import golden_dataset

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.json") if not p.stem.startswith("_"))

# Case -> (why our answer differs from graphite-web's on purpose, our status code).
DEVIATIONS: dict[str, tuple[str, int]] = {
    "unclosed_call_is_a_path": (
        "graphite-web's grammar reads `sumSeries(a.b` as a metric path and answers []; "
        "we answer 400 with the position where the call is left open", 400),
    "consolidateBy_unknown_accepted": (
        "graphite-web only warns about an unknown consolidation function (its input "
        "validation is off by default); we refuse it with a 400 naming the choices", 400),
    "transformNull_referenceSeries_kw": (
        "graphite-web fetches only the paths of positional arguments, so a series list "
        "passed by keyword (referenceSeries=a.b) silently reads as empty; we fetch it", 200),
    "delay_zero": (
        "graphite-web's delay(x,0) slices series[:-0] and returns an empty series; we "
        "return the series unchanged (named delay(x,0))", 200),
    "exp_overflow": (
        "graphite-web's exp() lets math.exp's OverflowError escape (a 500); we answer the "
        "overflowing points as null", 200),
    "holtWintersConfidenceArea_wildcard": (
        "graphite-web hands all bands to areaBetween, which asserts exactly two series (a "
        "500 for more than one input series); we draw one area per series", 200),
    "holtWintersForecast_default": (
        "a week of bootstrap exceeds the 6h retention, so the forecast is empty in both; "
        "graphite's json writer then answers [] (any() over empty lists), we list the "
        "empty series", 200),
    "timeSlice_default_end_unaligned": (
        "graphite-web reads endSliceAt='now' from the wall clock, ignoring the request's "
        "now=; we use the request's now (the name shows that end)", 200),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("golden")
    golden_dataset.build(root)
    app = create_app(WebSettings(storage=str(root)), clock=lambda: golden_dataset.END)
    return app.test_client()


def load(case: str) -> dict:
    return json.loads((GOLDEN / f"{case}.json").read_text())


def same_number(ours: object, theirs: object) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    if isinstance(ours, str) or isinstance(theirs, str):
        return ours == theirs
    if math.isinf(theirs) or math.isinf(ours):
        return ours == theirs
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)


def assert_same_series(ours: list[dict], theirs: list[dict]) -> None:
    assert [s["target"] for s in ours] == [s["target"] for s in theirs]
    for mine, expected in zip(ours, theirs, strict=True):
        name = expected["target"]
        assert mine.get("tags") == expected.get("tags"), name
        assert [p[1] for p in mine["datapoints"]] == [p[1] for p in expected["datapoints"]], \
            f"timestamps of {name}"
        for (value, ts), (want, _) in zip(mine["datapoints"], expected["datapoints"],
                                          strict=True):
            assert same_number(value, want), f"{name} at {ts}: ours {value}, graphite {want}"


def render_request(client, golden: dict):
    targets = golden["target"] if isinstance(golden["target"], list) else [golden["target"]]
    form = [("target", t) for t in targets]
    form += [("from", str(golden["from"])), ("until", str(golden["until"])),
             ("now", str(golden["now"]))]
    form += list(golden["params"].items())
    return client.post("/render", data=MultiDict(form))


def assert_same_text_rows(ours: str, theirs: str, separator: str) -> None:
    mine_lines, their_lines = ours.splitlines(), theirs.splitlines()
    assert len(mine_lines) == len(their_lines)
    for mine, expected in zip(mine_lines, their_lines, strict=True):
        if mine == expected:
            continue
        head_mine, _, tail_mine = mine.rpartition(separator)
        head_theirs, _, tail_theirs = expected.rpartition(separator)
        assert head_mine == head_theirs
        values = zip(tail_mine.split(","), tail_theirs.split(","), strict=True)
        for a, b in values:
            def parse(t):
                return (None if t in ("", "None") else float(t))
            assert same_number(parse(a), parse(b)), f"{mine!r} vs {expected!r}"


@pytest.mark.parametrize("case", CASES)
def test_golden(client, case):
    golden = load(case)
    if "path" in golden:
        response = client.get(golden["path"], query_string=MultiDict(golden["params"]))
    else:
        response = render_request(client, golden)
    status = golden["status"]
    if case in DEVIATIONS:
        assert response.status_code == DEVIATIONS[case][1], response.data
        if response.status_code >= 400:
            assert "error" in response.get_json()
        return
    if status >= 400:
        assert 400 <= response.status_code < 500, response.data
        assert "error" in response.get_json()
        return
    assert response.status_code == status, response.data
    fmt = golden.get("params", {})
    fmt = fmt.get("format") if isinstance(fmt, dict) else None
    if fmt == "csv":
        assert_same_text_rows(response.get_data(as_text=True), golden["response"], ",")
    elif fmt == "raw":
        assert_same_text_rows(response.get_data(as_text=True), golden["response"], "|")
    elif "path" in golden:
        assert response.get_json() == golden["response"]
    else:
        assert_same_series(response.get_json(), golden["response"])
