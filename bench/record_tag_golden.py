"""Record graphite-web 1.1.10's answers for the tag, event and query functions into
tests/render_web/golden/tags/ (replayed by tests/render_web/test_tag_golden.py).

    python3.11 bench/record_tag_golden.py [--only NAME_SUBSTRING] [--keep-data DIR]

Builds tests/render_web/golden_tags_dataset.py in a temp folder, serves it with graphite-web,
registers the tagged series in graphite-web's tag DB (POST /tags/tagMultiSeries), posts the
dataset's events (POST /events/), then writes one <case>.json per case in the same format as
bench/record_render_golden.py.  graphite-web keeps its tag DB and events in the bench venv's
graphite.db, which is copied aside first and put back afterwards, so recordings start from
an empty database and leave nothing behind.  Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "graphite"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from install import ensure_installed, storage_dir, versions  # noqa: E402
from record_render_golden import decode_body, dumps, fetch, render_pairs  # noqa: E402
from server import graphite_web  # noqa: E402

from tests.render_web import golden_tags_dataset as td  # noqa: E402

OUT = ROOT / "tests" / "render_web" / "golden" / "tags"
END = td.END
H1 = END - 3600
M10 = END - 600

CPU = "seriesByTag('name=cpu.usage')"
ALL = "seriesByTag('name=~[cd]')"


def render_cases() -> list[dict]:
    cases: list[dict] = []

    def add(name: str, target: str | list[str], frm: int = H1, until: int = END,
            **params: str) -> None:
        cases.append({"name": name, "target": target, "from": frm, "until": until,
                      "params": params})

    add("seriesByTag_eq", CPU)
    add("seriesByTag_double_quotes", 'seriesByTag("name=disk.used")')
    add("seriesByTag_two_exprs", "seriesByTag('name=cpu.usage','dc=us')")
    add("seriesByTag_ne", "seriesByTag('name=disk.used','dc!=us')")
    add("seriesByTag_regex", "seriesByTag('name=~cpu.*','host=~[ab]')")
    add("seriesByTag_not_regex", "seriesByTag('name=~.+','host!=~a')")
    add("seriesByTag_regex_matching_empty", "seriesByTag('name=~.*')")
    add("seriesByTag_regex_unanchored_end", "seriesByTag('name=~disk')")
    add("seriesByTag_tag_only_on_some", "seriesByTag('rack=r1')")
    add("seriesByTag_empty_value_means_absent", "seriesByTag('name=disk.used','rack=')")
    add("seriesByTag_no_match", "seriesByTag('name=nope')")
    add("seriesByTag_only_empty_matching", "seriesByTag('rack=')")
    add("seriesByTag_all", ALL)
    add("seriesByTag_in_sumSeries", f"sumSeries({CPU})")
    add("seriesByTag_pipe_alias", f"{CPU}|aliasByTags('host')")
    add("seriesByTag_maxDataPoints", CPU, maxDataPoints="10")
    add("groupByTags_sum_dc", f"groupByTags({CPU},'sum','dc')")
    add("groupByTags_max_name_dc", f"groupByTags({ALL},'max','name','dc')")
    add("groupByTags_average_host", f"groupByTags({ALL},'average','host')")
    add("groupByTags_series_func", f"groupByTags({CPU},'sumSeries','dc')")
    add("groupByTags_missing_tag", f"groupByTags({ALL},'sum','rack')")
    add("aliasByTags_host_dc", f"aliasByTags({CPU},'host','dc')")
    add("aliasByTags_node_and_tag", f"aliasByTags({ALL},1,'host')")
    add("aliasByTags_name", f"aliasByTags({ALL},'name')")
    add("aliasByTags_missing_tag", f"aliasByTags({ALL},'rack')")
    add("aliasByTags_after_sum", f"aliasByTags(sumSeries({CPU}),'name','dc')")
    add("events_one_tag", 'events("deploy")', M10)
    add("events_two_tags", 'events("deploy","api")', M10)
    add("events_star", 'events("*")', M10)
    add("events_unknown_tag", 'events("nope")', M10)
    add("events_other_tag", 'events("db")', M10)
    add("aliasQuery", r'aliasQuery(servers.*.cpu,"\.cpu$",".limit","limit %d")')
    add("aliasQuery_float", r'aliasQuery(servers.*.cpu,"cpu","limit","%.1f")')
    add("aliasQuery_no_series", r'aliasQuery(servers.*.cpu,"cpu","nope","%d")')
    add("applyByNode_sum", 'applyByNode(servers.*.*,1,"sumSeries(%.*)")')
    add("applyByNode_newName", 'applyByNode(servers.*.*,1,"sumSeries(%.*)","%.total")')
    add("applyByNode_divide", 'applyByNode(servers.*.cpu,1,"divideSeries(%.cpu,%.limit)",'
        '"%.ratio")')
    add("applyByNode_node0", 'applyByNode(servers.*.cpu,0,"maxSeries(%.*.limit)")')
    add("useSeriesAbove", 'useSeriesAbove(servers.*.limit,40,"limit","cpu")')
    add("useSeriesAbove_none", 'useSeriesAbove(servers.*.limit,1000,"limit","cpu")')
    add("useSeriesAbove_all", 'useSeriesAbove(servers.*.limit,0,"limit","cpu")')
    add("useSeriesAbove_nulls", 'useSeriesAbove(servers.*.cpu,0,"cpu","limit")')
    return cases


def other_cases() -> list[dict]:
    def c(name: str, path: str, *pairs: tuple[str, str]) -> dict:
        return {"name": name, "path": path, "params": list(pairs)}

    return [
        c("tags_list", "/tags"),
        c("tags_list_filter", "/tags", ("filter", "^d")),
        c("tags_list_limit", "/tags", ("limit", "2")),
        c("tags_details_dc", "/tags/dc"),
        c("tags_details_host", "/tags/host"),
        c("tags_details_name_filter", "/tags/name", ("filter", "cpu")),
        c("tags_details_unknown", "/tags/nope"),
        c("findSeries_one", "/tags/findSeries", ("expr", "name=cpu.usage")),
        c("findSeries_two", "/tags/findSeries", ("expr", "name=cpu.usage"), ("expr", "dc=us")),
        c("findSeries_regex", "/tags/findSeries", ("expr", "name=~.+"), ("expr", "host!=a")),
        c("findSeries_absent", "/tags/findSeries", ("expr", "name=~d"), ("expr", "rack=")),
        c("findSeries_regex_matching_empty", "/tags/findSeries", ("expr", "name=~.*")),
        c("findSeries_none", "/tags/findSeries", ("expr", "name=nope")),
        c("findSeries_only_empty", "/tags/findSeries", ("expr", "rack=")),
        c("findSeries_no_expr", "/tags/findSeries"),
        c("autoComplete_tags", "/tags/autoComplete/tags"),
        c("autoComplete_tags_prefix", "/tags/autoComplete/tags", ("tagPrefix", "h")),
        c("autoComplete_tags_expr", "/tags/autoComplete/tags", ("expr", "name=disk.used")),
        c("autoComplete_tags_expr_prefix", "/tags/autoComplete/tags", ("expr", "dc=eu"),
          ("tagPrefix", "r")),
        c("autoComplete_tags_limit", "/tags/autoComplete/tags", ("limit", "2")),
        c("autoComplete_values_dc", "/tags/autoComplete/values", ("tag", "dc")),
        c("autoComplete_values_prefix", "/tags/autoComplete/values", ("tag", "name"),
          ("valuePrefix", "d")),
        c("autoComplete_values_expr", "/tags/autoComplete/values", ("tag", "host"),
          ("expr", "dc=eu")),
        c("autoComplete_values_limit", "/tags/autoComplete/values", ("tag", "host"),
          ("limit", "1")),
        c("autoComplete_values_unknown", "/tags/autoComplete/values", ("tag", "nope")),
        c("autoComplete_values_no_tag", "/tags/autoComplete/values"),
        c("events_get_data", "/events/get_data", ("from", str(H1)), ("until", str(END))),
        c("events_get_data_tags", "/events/get_data", ("from", str(H1)), ("until", str(END)),
          ("tags", "deploy")),
        c("events_get_data_union", "/events/get_data", ("from", str(H1)),
          ("until", str(END)), ("tags", "api db"), ("set", "union")),
    ]


def post(base: str, path: str, data: bytes, content_type: str) -> tuple[int, str]:
    req = urllib.request.Request(base + path, data=data, method="POST",
                                 headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def seed(base: str) -> None:
    """Tag the series and post the events, failing loudly if graphite-web refuses."""
    form = urllib.parse.urlencode([("path", name) for name in td.TAGGED]).encode()
    status, body = post(base, "/tags/tagMultiSeries", form,
                        "application/x-www-form-urlencoded")
    if status != 200:
        raise RuntimeError(f"tagMultiSeries: {status} {body[:500]}")
    for event in td.EVENTS:
        status, body = post(base, "/events/", json.dumps(event).encode(), "application/json")
        if status != 200:
            raise RuntimeError(f"POST /events/: {status} {body[:500]}")


def record(base: str, only: str | None) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    count = 0
    for case in render_cases():
        if only and only not in case["name"]:
            continue
        pairs = render_pairs(case)
        status, ctype, body = fetch(base, "/render", pairs)
        doc = {"target": case["target"], "from": case["from"], "until": case["until"],
               "now": END,
               "params": {k: v for k, v in pairs if k not in ("target", "from", "until", "now")},
               "status": status, "response": decode_body(ctype, body, status)}
        write(case["name"], doc)
        count += 1
    for case in other_cases():
        if only and only not in case["name"]:
            continue
        status, ctype, body = fetch(base, case["path"], case["params"])
        doc = {"path": case["path"], "params": case["params"], "status": status,
               "content_type": ctype.split(";")[0], "response": decode_body(ctype, body, status)}
        write(case["name"], doc)
        count += 1
    return count


def write(name: str, doc: dict) -> None:
    (OUT / f"{name}.json").write_text(dumps(doc))
    flag = "" if doc["status"] == 200 else f"  [{doc['status']}]"
    print(f"{name}{flag}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="record only cases whose name contains this")
    ap.add_argument("--keep-data", type=Path, help="build the dataset here and keep it")
    args = ap.parse_args()
    venv = ensure_installed(quiet=True)
    db = storage_dir(venv) / "graphite.db"
    with tempfile.TemporaryDirectory(prefix="golden-tags-") as tmp:
        saved = Path(tmp) / "graphite.db.saved"
        shutil.copy2(db, saved)
        try:
            _empty_tables(db)
            data = args.keep_data or Path(tmp) / "whisper"
            td.build(data)
            with graphite_web(data) as base:
                seed(base)
                n = record(base, args.only)
        finally:
            shutil.copy2(saved, db)
        if not args.only:
            meta = {"graphite_web": versions(), "END": END, "dataset": "golden_tags_dataset.py",
                    "tagged": td.TAGGED, "plain": td.PLAIN, "events": td.EVENTS, "cases": n}
            (OUT / "_meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{n} cases written to {OUT}")
    return 0


def _empty_tables(db: Path) -> None:
    """Start from no tags and no events (ids then count from 1, as in a fresh store)."""
    import sqlite3

    con = sqlite3.connect(db)
    try:
        for table in ("tags_seriestag", "tags_series", "tags_tagvalue", "tags_tag",
                      "tagging_taggeditem", "tagging_tag", "events_event"):
            con.execute(f"DELETE FROM {table}")
        con.execute("DELETE FROM sqlite_sequence WHERE name IN "
                    "('events_event','tags_series','tags_tag','tags_tagvalue')")
        con.commit()
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(main())
