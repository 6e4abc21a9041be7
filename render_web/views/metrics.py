"""`/metrics/find`, `/metrics/expand` and `/metrics/index.json`: the namespace."""

from __future__ import annotations

import json
import pickle
from operator import itemgetter

from flask import Blueprint, Response, request

from carbon_store.reader import Node
from render_web.app import state
from render_web.functions.registry import InputError
from render_web.params import RequestParams
from render_web.views.common import dumps, json_response, no_cache

blueprint = Blueprint("metrics", __name__)

FIND_FORMATS = ("treejson", "completer", "nodelist", "json", "pickle")
BRANCH_TAIL = ',"allowChildren":1,"expandable":1,"leaf":0}'
LEAF_TAIL = ',"allowChildren":0,"expandable":0,"leaf":1}'
quote = json.encoder.encode_basestring_ascii  # a JSON string literal, in C


def find_nodes(pattern: str, leaves_only: bool = False) -> list[Node]:
    try:
        nodes = state().reader.find(pattern)
    except ValueError as exc:
        raise InputError(f"bad query {pattern!r}: {exc}") from exc
    return [n for n in nodes if n.is_leaf or not leaves_only]


def node_name(node: Node) -> str:
    return node.path.rsplit(".", 1)[-1]


def tree_json(nodes: list[Node], base: str, wildcards: bool) -> str:
    """graphite-web's treejson: optional `*` node, then branches, then leaves, each
    name once (a name matched under several wildcard branches is one node). Written as
    text directly: a wide level is hundreds of nodes, and this is the tree's hot path."""
    out: list[str] = []
    if wildcards and len(nodes) > 1:
        kind = BRANCH_TAIL if any(not n.is_leaf for n in nodes) else LEAF_TAIL
        out.append(f'{{"text":"*","id":{quote(base + "*")}{kind}')
    seen: set[str] = set()
    branches, leaves = [], []
    for name, node in sorted(((node_name(n), n) for n in nodes), key=itemgetter(0)):
        if name in seen:
            continue
        seen.add(name)
        entry = f'{{"text":{quote(name)},"id":{quote(base + name)}'
        if node.is_leaf:
            leaves.append(entry + LEAF_TAIL)
        else:
            branches.append(entry + BRANCH_TAIL)
    return "[" + ",".join(out + branches + leaves) + "]"


@blueprint.route("/metrics/find", methods=["GET", "POST"])
@blueprint.route("/metrics/find/", methods=["GET", "POST"])
@blueprint.route("/metrics", methods=["GET", "POST"])
def find() -> Response:
    params = RequestParams.of(request)
    query = params.get("query")
    if query is None:
        raise InputError("missing parameter 'query'")
    fmt = params.get("format", "treejson")
    if fmt not in FIND_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FIND_FORMATS)}")
    wildcards = params.flag("wildcards")
    leaves_only = params.flag("leavesOnly")
    base = query.rsplit(".", 1)[0] + "." if "." in query else ""

    if fmt == "completer":
        query = query.replace("..", "*.")
        if not query.endswith("*"):
            query += "*"
        if params.flag("automatic_variants"):
            query = ".".join(f"{{{part}}}" if "," in part and "{" not in part else part
                             for part in query.split("."))
    nodes = find_nodes(query, leaves_only)

    if fmt == "treejson":
        body = tree_json(nodes, base, wildcards)
    elif fmt == "completer":
        metrics = [{"path": n.path + ("" if n.is_leaf else "."), "name": node_name(n),
                    "is_leaf": "1" if n.is_leaf else "0"}
                   for n in sorted(nodes, key=node_name)]
        if wildcards and len(metrics) > 1:
            metrics.append({"name": "*"})
        body = dumps({"metrics": metrics})
    elif fmt == "nodelist":
        position = params.integer("position", -1)
        names = set()
        for node in nodes:
            parts = node.path.split(".")
            try:
                names.add(parts[position])
            except IndexError:
                continue
        body = dumps({"nodes": sorted(names)})
    elif fmt == "json":
        body = dumps([{"path": n.path, "is_leaf": n.is_leaf, "intervals": []}
                      for n in sorted(nodes, key=lambda n: n.path)])
    else:
        payload = pickle.dumps([{"metric_path": n.path, "isLeaf": n.is_leaf,
                                 "intervals": []} for n in sorted(nodes, key=node_name)],
                               protocol=2)
        return no_cache(Response(payload, mimetype="application/pickle"))
    return no_cache(json_response(body, params))


@blueprint.route("/metrics/expand", methods=["GET", "POST"])
@blueprint.route("/metrics/expand/", methods=["GET", "POST"])
def expand() -> Response:
    params = RequestParams.of(request)
    queries = [q for q in params.getlist("query") if q]
    if not queries:
        raise InputError("missing parameter 'query'")
    leaves_only = params.flag("leavesOnly")
    grouped = {q: sorted({n.path for n in find_nodes(q, leaves_only)}) for q in queries}
    if params.flag("groupByExpr"):
        results: object = grouped
    else:
        results = sorted(set().union(*grouped.values()))
    return no_cache(json_response(dumps({"results": results}), params))


@blueprint.route("/metrics/index.json", methods=["GET", "POST"])
def index_json() -> Response:
    params = RequestParams.of(request)
    reader = state().reader
    names = set(reader.index.leaves())
    if reader.cache is not None:
        names.update(n for n in reader.cache.find("*") if ";" not in n)
    return json_response(dumps(sorted(names)), params)
