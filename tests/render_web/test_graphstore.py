"""The SQLite store of saved graphs and dashboards: validation, storage, renames,
threads, the schema."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from render_web.functions.registry import InputError
from render_web.graphstore import (
    MAX_NAME,
    MAX_PANELS,
    MAX_PARAMS,
    MAX_REFRESH,
    MAX_TARGETS,
    MAX_TITLE,
    SCHEMA_VERSION,
    GraphStore,
    NameTakenError,
    NotFoundError,
    check_dashboard,
    check_graph,
    check_name,
)

HOSTILE = "<img src=x onerror=alert(1)>"


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    return GraphStore(tmp_path / "graphs.db", clock=clock)


def graph(*targets: str, **params: str) -> dict:
    return {"targets": list(targets) or ["a.b"], "params": params}


# -- names --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "cpu", "a", "x" * MAX_NAME, HOSTILE, "with space", "dots.in.name", "ünïcødé ☃ 图表",
    "quote's \"double\"", "back\\slash", "?query#frag&amp;", "%2F", "...", ".hidden",
    "trailing ", "emoji 📈",
])
def test_valid_names(name):
    assert check_name(name) == name
    assert check_name(name, graph=True) == name


@pytest.mark.parametrize(("name", "message"), [
    ("", "name: must be 1 to 200 characters long"),
    ("x" * (MAX_NAME + 1), "name: must be 1 to 200 characters long"),
    ("a/b", "name: must not contain '/'"),
    ("/", "name: must not contain '/'"),
    ("tab\there", "name: must not contain control characters"),
    ("new\nline", "name: must not contain control characters"),
    ("nul\x00", "name: must not contain control characters"),
    ("del\x7f", "name: must not contain control characters"),
    ("c1\x85", "name: must not contain control characters"),
    ("   ", "name: must not be blank"),
    (".", "name: '.' cannot be a name"),
    ("..", "name: '..' cannot be a name"),
    (None, "name: must be a string"),
    (12, "name: must be a string"),
])
def test_invalid_names(name, message):
    with pytest.raises(InputError) as caught:
        check_name(name)
    assert str(caught.value) == message


def test_a_graph_name_may_not_end_in_png_but_a_dashboard_name_may():
    with pytest.raises(InputError, match=r"name: a graph name must not end in '\.png'"):
        check_name("cpu.PNG", graph=True)
    assert check_name("cpu.png") == "cpu.png"


# -- graph bodies -------------------------------------------------------------------------


def test_graph_body_defaults_and_read_only_fields_ignored():
    assert check_graph({"targets": ["a.b"]}) == {"title": "", "targets": ["a.b"],
                                                 "params": {}}
    echoed = {"name": "other", "created": 1, "updated": 2, "url": "/x", "image": "/x.png",
              "title": "T", "targets": ["a", "b"], "params": {"from": "-1h"}}
    assert check_graph(echoed) == {"title": "T", "targets": ["a", "b"],
                                   "params": {"from": "-1h"}}
    assert check_graph({"targets": ["a"], "title": None, "params": None})["params"] == {}


@pytest.mark.parametrize(("body", "message"), [
    ([], "body: must be a JSON object"),
    ("x", "body: must be a JSON object"),
    (None, "body: must be a JSON object"),
    ({}, "targets: required (a list of target expressions)"),
    ({"targets": "a.b"}, "targets: must be a list of strings"),
    ({"targets": []}, "targets: must hold at least one target"),
    ({"targets": ["a"] * (MAX_TARGETS + 1)}, f"targets: at most {MAX_TARGETS} targets"),
    ({"targets": ["a", 3]}, "targets[1]: must be a string"),
    ({"targets": ["a", "  "]}, "targets[1]: must not be blank"),
    ({"targets": ["x" * 10_001]}, "targets[0]: must be at most 10000 characters long"),
    ({"targets": ["a"], "title": 5}, "title: must be a string"),
    ({"targets": ["a"], "title": "t" * (MAX_TITLE + 1)},
     f"title: must be at most {MAX_TITLE} characters long"),
    ({"targets": ["a"], "params": []}, "params: must be a JSON object"),
    ({"targets": ["a"], "params": {"width": 800}}, "params.width: must be a string"),
    ({"targets": ["a"], "params": {"hideLegend": True}}, "params.hideLegend: must be a string"),
    ({"targets": ["a"], "params": {"": "x"}},
     "params: a parameter name must be 1 to 200 characters"),
    ({"targets": ["a"], "params": {f"k{i}": "v" for i in range(MAX_PARAMS + 1)}},
     f"params: at most {MAX_PARAMS} parameters"),
    ({"targets": ["a"], "params": {"title": "t" * 10_001}},
     "params.title: must be at most 10000 characters long"),
    ({"targets": ["a"], "tragets": ["b"]}, "body: unknown field 'tragets'"),
])
def test_graph_body_errors_name_the_field(body, message):
    with pytest.raises(InputError) as caught:
        check_graph(body)
    assert str(caught.value) == message


@pytest.mark.parametrize("key", ["target", "target[]", "format"])
def test_targets_and_format_are_not_params(key):
    with pytest.raises(InputError, match=rf"params\.{key[:6]}.*not a saved parameter"):
        check_graph({"targets": ["a"], "params": {key: "x"}})


# -- dashboard bodies ---------------------------------------------------------------------


def test_dashboard_body_defaults():
    assert check_dashboard({}) == {"title": "", "from": "-1h", "until": "now", "refresh": 0,
                                   "panels": []}


def test_dashboard_panels_saved_and_ad_hoc():
    body = {"title": "Ops", "from": "-6h", "until": "-1h", "refresh": 60, "name": "ignored",
            "panels": [{"graph": "cpu"}, {"targets": ["a.b"]},
                       {"title": "T", "targets": ["c"], "params": {"areaMode": "stacked"}}]}
    assert check_dashboard(body) == {
        "title": "Ops", "from": "-6h", "until": "-1h", "refresh": 60,
        "panels": [{"graph": "cpu"}, {"title": "", "targets": ["a.b"], "params": {}},
                   {"title": "T", "targets": ["c"], "params": {"areaMode": "stacked"}}]}


@pytest.mark.parametrize(("body", "message"), [
    ([], "body: must be a JSON object"),
    ({"from": 5}, "from: must be a string"),
    ({"until": ""}, "until: must not be blank"),
    ({"from": " "}, "from: must not be blank"),
    ({"refresh": "30"}, "refresh: must be a whole number of seconds (0 = off)"),
    ({"refresh": 1.5}, "refresh: must be a whole number of seconds (0 = off)"),
    ({"refresh": True}, "refresh: must be a whole number of seconds (0 = off)"),
    ({"refresh": -1}, f"refresh: must be between 0 and {MAX_REFRESH} seconds"),
    ({"refresh": MAX_REFRESH + 1}, f"refresh: must be between 0 and {MAX_REFRESH} seconds"),
    ({"panels": {}}, "panels: must be a list"),
    ({"panels": [{"graph": "g"}] * (MAX_PANELS + 1)}, f"panels: at most {MAX_PANELS} panels"),
    ({"panels": ["g"]}, "panels[0]: must be a JSON object"),
    ({"panels": [{"graph": "a/b"}]}, "panels[0].graph: must not contain '/'"),
    ({"panels": [{"graph": "g.png"}]}, "panels[0].graph: a graph name must not end in '.png'"),
    ({"panels": [{"graph": "g", "targets": ["a"]}]}, "panels[0]: unknown field 'targets'"),
    ({"panels": [{"graph": "g"}, {}]},
     "panels[1].targets: required (a list of target expressions)"),
    ({"panels": [{"targets": [""]}]}, "panels[0].targets[0]: must not be blank"),
    ({"panels": [{"targets": ["a"], "title": 1}]}, "panels[0].title: must be a string"),
    ({"panels": [{"targets": ["a"], "params": {"w": 1}}]}, "panels[0].params.w: must be a string"),
    ({"panels": [{"targets": ["a"], "colour": "red"}]}, "panels[0]: unknown field 'colour'"),
    ({"panel": []}, "body: unknown field 'panel'"),
])
def test_dashboard_body_errors_name_the_field(body, message):
    with pytest.raises(InputError) as caught:
        check_dashboard(body)
    assert str(caught.value) == message


# -- storing ------------------------------------------------------------------------------


def test_put_creates_then_replaces_keeping_created(store, clock):
    record, created = store.put("graphs", "cpu", graph("a.b", "c.d", **{"from": "-2h"}))
    assert created is True
    assert record == {"name": "cpu", "title": "", "targets": ["a.b", "c.d"],
                      "params": {"from": "-2h"}, "created": 1000, "updated": 1000}
    clock.now = 1500.7
    record, created = store.put("graphs", "cpu", {"title": "CPU", "targets": ["x"]})
    assert created is False
    assert record == {"name": "cpu", "title": "CPU", "targets": ["x"], "params": {},
                      "created": 1000, "updated": 1500}
    assert store.get("graphs", "cpu") == record


def test_list_is_sorted_by_code_point_and_kinds_are_separate(store):
    for name in ("b", "B", "a", "é", "a b"):
        store.put("graphs", name, graph())
    store.put("dashboards", "b", {})
    assert [g["name"] for g in store.list_all("graphs")] == ["B", "a", "a b", "b", "é"]
    assert [d["name"] for d in store.list_all("dashboards")] == ["b"]
    assert store.get("dashboards", "b")["panels"] == []


def test_empty_store_lists_nothing(store):
    assert store.list_all("graphs") == []
    assert store.list_all("dashboards") == []


def test_unicode_and_hostile_names_and_values_round_trip(store):
    body = {"title": HOSTILE, "targets": ['sumSeries("a.\'b\'.c")', "ünï.☃"],
            "params": {"vtitle": "</script><script>alert(1)</script>"}}
    for name in (HOSTILE, "ünïcødé ☃ 图表", "quote's \"double\"", "'; DROP TABLE graphs; --"):
        store.put("graphs", name, body)
        got = store.get("graphs", name)
        assert got["name"] == name
        assert {k: got[k] for k in body} == body
    assert len(store.list_all("graphs")) == 4


def test_missing_objects(store):
    with pytest.raises(NotFoundError, match="no graph named 'nope'"):
        store.get("graphs", "nope")
    with pytest.raises(NotFoundError, match="no dashboard named 'nope'"):
        store.delete("dashboards", "nope")
    with pytest.raises(NotFoundError, match="no graph named 'nope'"):
        store.rename("graphs", "nope", "other")


def test_delete(store):
    store.put("graphs", "cpu", graph())
    store.delete("graphs", "cpu")
    assert store.list_all("graphs") == []
    with pytest.raises(NotFoundError):
        store.get("graphs", "cpu")


def test_put_validates_name_and_body_and_writes_nothing_on_error(store):
    with pytest.raises(InputError, match="name: must not contain '/'"):
        store.put("graphs", "a/b", graph())
    with pytest.raises(InputError, match="name: a graph name must not end"):
        store.put("graphs", "a.png", graph())
    with pytest.raises(InputError, match="targets: required"):
        store.put("graphs", "cpu", {})
    assert store.list_all("graphs") == []
    # A dashboard may be called x.png: its page and image do not collide.
    store.put("dashboards", "x.png", {})


def test_unknown_kind_is_a_bug_not_sql(store):
    with pytest.raises(ValueError, match="unknown kind"):
        store.list_all("graphs; DROP TABLE graphs")


# -- renames ------------------------------------------------------------------------------


def test_rename_moves_and_keeps_created(store, clock):
    store.put("graphs", "old", graph("a.b"))
    clock.now = 2000
    record = store.rename("graphs", "old", "new ☃")
    assert record == {"name": "new ☃", "title": "", "targets": ["a.b"], "params": {},
                      "created": 1000, "updated": 2000}
    assert store.get("graphs", "new ☃") == record
    with pytest.raises(NotFoundError):
        store.get("graphs", "old")


def test_rename_onto_a_taken_name_changes_nothing(store):
    store.put("graphs", "a", graph("one"))
    store.put("graphs", "b", graph("two"))
    with pytest.raises(NameTakenError, match="a graph named 'b' exists already"):
        store.rename("graphs", "a", "b")
    assert store.get("graphs", "a")["targets"] == ["one"]
    assert store.get("graphs", "b")["targets"] == ["two"]


def test_rename_to_itself_is_a_no_op(store, clock):
    store.put("dashboards", "d", {})
    clock.now = 5000
    assert store.rename("dashboards", "d", "d")["updated"] == 1000


def test_rename_validates_the_new_name(store):
    store.put("graphs", "a", graph())
    for bad, message in (("x/y", "must not contain '/'"), ("", "must be 1 to"),
                         (None, "must be a string"), ("g.png", "must not end in '.png'")):
        with pytest.raises(InputError, match=message):
            store.rename("graphs", "a", bad)
    assert [g["name"] for g in store.list_all("graphs")] == ["a"]


def test_renaming_a_graph_repoints_dashboard_panels(store):
    store.put("graphs", "cpu", graph())
    store.put("dashboards", "ops", {"panels": [{"graph": "cpu"}, {"graph": "mem"},
                                               {"targets": ["cpu"]}, {"graph": "cpu"}]})
    store.put("dashboards", "other", {"panels": [{"graph": "mem"}]})
    store.rename("graphs", "cpu", "processor")
    assert store.get("dashboards", "ops")["panels"] == [
        {"graph": "processor"}, {"graph": "mem"},
        {"title": "", "targets": ["cpu"], "params": {}}, {"graph": "processor"}]
    assert store.get("dashboards", "other")["panels"] == [{"graph": "mem"}]


def test_renaming_a_dashboard_leaves_graph_panels_alone(store):
    store.put("dashboards", "cpu", {"panels": [{"graph": "cpu"}]})
    store.rename("dashboards", "cpu", "ops")
    assert store.get("dashboards", "ops")["panels"] == [{"graph": "cpu"}]


def test_deleting_a_graph_leaves_dashboard_panels_naming_it(store):
    store.put("graphs", "cpu", graph())
    store.put("dashboards", "ops", {"panels": [{"graph": "cpu"}]})
    store.delete("graphs", "cpu")
    assert store.get("dashboards", "ops")["panels"] == [{"graph": "cpu"}]


# -- the file and its schema --------------------------------------------------------------


def test_nothing_is_created_until_first_use(tmp_path):
    path = tmp_path / "deep" / "er" / "graphs.db"
    store = GraphStore(path)
    assert not path.parent.exists()
    assert store.list_all("graphs") == []
    assert path.is_file()


def test_schema_once_with_version_wal_and_survives_reopening(tmp_path):
    path = tmp_path / "graphs.db"
    GraphStore(path).put("graphs", "cpu", graph())
    again = GraphStore(path)
    again.put("dashboards", "ops", {})
    assert again.get("graphs", "cpu")["targets"] == ["a.b"]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [
            (SCHEMA_VERSION,)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master "
                                               "WHERE type = 'table'")}
    assert tables == {"schema_version", "graphs", "dashboards"}


def test_schema_is_made_once_per_store_even_from_many_threads(tmp_path, monkeypatch):
    store = GraphStore(tmp_path / "graphs.db")
    calls = []
    original = GraphStore._create_schema

    def counting(self):
        calls.append(1)
        original(self)

    monkeypatch.setattr(GraphStore, "_create_schema", counting)
    barrier = threading.Barrier(8)

    def use():
        barrier.wait()
        store.list_all("graphs")

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.put("graphs", "x", graph())
    assert len(calls) == 1


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "graphs.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    db.close()
    with pytest.raises(RuntimeError, match="schema version 2"):
        GraphStore(path).list_all("graphs")


def test_concurrent_writers_all_land(tmp_path):
    """Eight threads, each with the store shared, writing their own graphs and
    overwriting one common graph: every write waits its turn instead of failing."""
    store = GraphStore(tmp_path / "graphs.db")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(15):
                store.put("graphs", f"t{n}-{i}", graph(f"a.{n}.{i}"))
                store.put("graphs", "shared", graph(f"from.{n}"))
                store.put("dashboards", f"d{n}", {"panels": [{"graph": f"t{n}-{i}"}]})
            store.rename("graphs", f"t{n}-0", f"renamed-{n}")
            store.delete("graphs", f"t{n}-1")
        except BaseException as exc:  # collected: an assert in a thread is lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = {g["name"] for g in store.list_all("graphs")}
    # 8 * 15 own graphs, less one deleted each, plus "shared".
    assert len(names) == 8 * 14 + 1
    assert {f"renamed-{n}" for n in range(8)} <= names
    assert store.get("graphs", "shared")["targets"][0].startswith("from.")
    assert len(store.list_all("dashboards")) == 8


def test_concurrent_renames_onto_one_name_only_one_wins(tmp_path):
    store = GraphStore(tmp_path / "graphs.db")
    for n in range(6):
        store.put("graphs", f"g{n}", graph(f"t{n}"))
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def rename(n: int) -> None:
        barrier.wait()
        try:
            store.rename("graphs", f"g{n}", "winner")
            outcomes.append("ok")
        except NameTakenError:
            outcomes.append("taken")

    threads = [threading.Thread(target=rename, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["taken"] * 5
    assert len(store.list_all("graphs")) == 6
