"""Replay of graphite-web 1.1.10's answers for the tag, event and query functions
(tests/render_web/golden/tags/, recorded by bench/record_tag_golden.py) against our app on
the same dataset, with the same events posted through our own POST /events.

Compared as in test_golden.py: names, tags, timestamps and nulls equal, values to 1e-9;
other endpoints' JSON equal; a graphite error (4xx, or a 5xx from an exception) must be
a 4xx with an error message here. `DEVIATIONS` lists where we differ on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from render_web.app import create_app
from render_web.settings import WebSettings
from tests.render_web import golden_tags_dataset as td
from tests.render_web.test_golden import assert_same_series, render_request

GOLDEN = Path(__file__).parent / "golden" / "tags"
CASES = sorted(p.stem for p in GOLDEN.glob("*.json") if not p.stem.startswith("_"))

# Case -> (why our answer differs from graphite-web's on purpose, our status code).
DEVIATIONS: dict[str, tuple[str, int]] = {
    "groupByTags_missing_tag": (
        "graphite-web names the group of series without the tag `sum;rack=` and then fails "
        "(a 500) parsing that name back into tags, an empty value being invalid; we answer "
        "the group with that name", 200),
    "useSeriesAbove_nulls": (
        "graphite-web takes Python's max() over values holding None, a TypeError (a 500) on "
        "any series with a null; we skip nulls", 200),
}

# graphite-web's default tag DB (a SQL database) adds its row ids to /tags and /tags/<tag>;
# other tag DBs (redis, http) do not, and ours has no rows: the answers are compared
# without them.
WITHOUT_IDS = {"tags_list", "tags_list_filter", "tags_list_limit", "tags_details_dc",
               "tags_details_host", "tags_details_name_filter"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("golden-tags")
    td.build(root)
    app = create_app(WebSettings(storage=str(root)), clock=lambda: td.END)
    test_client = app.test_client()
    for event in td.EVENTS:
        response = test_client.post("/events", data=json.dumps(event),
                                    content_type="application/json")
        assert response.status_code == 200, response.data
    return test_client


def load(case: str) -> dict:
    return json.loads((GOLDEN / f"{case}.json").read_text())


def without_ids(value: object) -> object:
    if isinstance(value, list):
        return [without_ids(item) for item in value]
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "id"}
    return value


def test_every_recorded_case_is_replayed():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES)
def test_tag_golden(client, case):
    golden = load(case)
    if "path" in golden:
        response = client.get(golden["path"], query_string=MultiDict(golden["params"]))
    else:
        response = render_request(client, golden)
    if case in DEVIATIONS:
        assert response.status_code == DEVIATIONS[case][1], response.data
        if response.status_code >= 400:
            assert "error" in response.get_json()
        return
    if golden["status"] >= 400:
        assert 400 <= response.status_code < 500, response.data
        assert "error" in response.get_json()
        return
    assert response.status_code == golden["status"], response.data
    if case in WITHOUT_IDS:
        assert response.get_json() == without_ids(golden["response"])
    elif "path" in golden:
        assert response.get_json() == golden["response"]
    else:
        assert_same_series(response.get_json(), golden["response"])
