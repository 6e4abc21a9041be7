"""Saved graphs and dashboards in SQLite: the composer's memory.

Each object is one row keyed by its name, its body kept as JSON text, so the stored shape
is exactly what the JSON API answers. Every operation opens its own connection (sqlite3
connections must not cross threads, and opening one costs far less than a render), runs
in one transaction, and closes it. The file and its directory are made on first use,
not when the store is built, so an app that never saves anything leaves no file behind.

Bodies are checked here, field by field, so a script and the page get the same 400
naming what is wrong; what a body *means* (targets parse, options read) is the web
layer's business.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from render_web.functions.registry import InputError

SCHEMA_VERSION = 1
KINDS = ("graphs", "dashboards")

MAX_NAME = 200
MAX_TITLE = 1000
MAX_TARGETS = 100
MAX_TARGET = 10_000
MAX_PARAMS = 100
MAX_PARAM = 10_000
MAX_PANELS = 100
MAX_REFRESH = 86_400
DEFAULT_FROM = "-1h"
DEFAULT_UNTIL = "now"

# Answered by the API but set by the store (or the URL): a client echoing an object back
# as the body of a PUT may include them, and they are ignored.
READ_ONLY = frozenset({"name", "created", "updated", "url", "image"})
# The URL carries the name; these are the render request itself, not saved options.
NOT_PARAMS = frozenset({"target", "target[]", "format"})

Record = dict[str, Any]


class NotFoundError(LookupError):
    """No graph or dashboard of that name."""


class NameTakenError(Exception):
    """A rename onto a name already in use."""


# -- validation ---------------------------------------------------------------------------


def check_name(name: object, field: str = "name", *, graph: bool = False) -> str:
    """A name is one URL path segment: any text but `/` and control characters. The
    segments `.` and `..` are refused because browsers resolve them even percent-encoded,
    and a graph name ending in `.png` would make its page's URL its neighbour's image."""
    if not isinstance(name, str):
        raise InputError(f"{field}: must be a string")
    if not 1 <= len(name) <= MAX_NAME:
        raise InputError(f"{field}: must be 1 to {MAX_NAME} characters long")
    if "/" in name:
        raise InputError(f"{field}: must not contain '/'")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise InputError(f"{field}: must not contain control characters")
    if not name.strip():
        raise InputError(f"{field}: must not be blank")
    if name in (".", ".."):
        raise InputError(f"{field}: {name!r} cannot be a name")
    if graph and name.lower().endswith(".png"):
        raise InputError(f"{field}: a graph name must not end in '.png'")
    return name


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InputError(f"{field}: must be a string")
    if len(value) > limit:
        raise InputError(f"{field}: must be at most {limit} characters long")
    return value


def _object(body: object, field: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise InputError(f"{field}: must be a JSON object")
    return body


def _no_unknown(body: Mapping[str, Any], known: set[str], field: str) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise InputError(f"{field}: unknown field {unknown[0]!r}")


def check_targets(value: object, field: str = "targets") -> list[str]:
    if value is None:
        raise InputError(f"{field}: required (a list of target expressions)")
    if not isinstance(value, list):
        raise InputError(f"{field}: must be a list of strings")
    if not value:
        raise InputError(f"{field}: must hold at least one target")
    if len(value) > MAX_TARGETS:
        raise InputError(f"{field}: at most {MAX_TARGETS} targets")
    targets = [_text(target, f"{field}[{i}]", MAX_TARGET) for i, target in enumerate(value)]
    for i, target in enumerate(targets):
        if not target.strip():
            raise InputError(f"{field}[{i}]: must not be blank")
    return targets


def check_params(value: object, field: str = "params") -> dict[str, str]:
    """Render parameters as strings, as a query string would carry them."""
    if value is None:
        return {}
    params = _object(value, field)
    if len(params) > MAX_PARAMS:
        raise InputError(f"{field}: at most {MAX_PARAMS} parameters")
    checked: dict[str, str] = {}
    for key, text in params.items():
        if not key or len(key) > MAX_NAME:
            raise InputError(f"{field}: a parameter name must be 1 to {MAX_NAME} characters")
        if key in NOT_PARAMS:
            raise InputError(f"{field}.{key}: not a saved parameter (targets are 'targets'; "
                             "the image format is chosen by the URL)")
        checked[key] = _text(text, f"{field}.{key}", MAX_PARAM)
    return checked


def _title(body: Mapping[str, Any], field: str = "title") -> str:
    value = body.get("title")
    return "" if value is None else _text(value, field, MAX_TITLE)


def check_graph(body: object) -> Record:
    """The stored part of a graph (`title`, `targets`, `params`) from a request body."""
    graph = _object(body, "body")
    _no_unknown(graph, {"title", "targets", "params"} | READ_ONLY, "body")
    return {"title": _title(graph), "targets": check_targets(graph.get("targets")),
            "params": check_params(graph.get("params"))}


def check_panel(value: object, field: str) -> Record:
    """Either a saved graph by name or an ad-hoc graph of its own."""
    panel = _object(value, field)
    if "graph" in panel:
        _no_unknown(panel, {"graph"}, field)
        return {"graph": check_name(panel["graph"], f"{field}.graph", graph=True)}
    _no_unknown(panel, {"title", "targets", "params"}, field)
    return {"title": _title(panel, f"{field}.title"),
            "targets": check_targets(panel.get("targets"), f"{field}.targets"),
            "params": check_params(panel.get("params"), f"{field}.params")}


def check_dashboard(body: object) -> Record:
    dashboard = _object(body, "body")
    _no_unknown(dashboard, {"title", "from", "until", "refresh", "panels"} | READ_ONLY,
                "body")
    times = {}
    for key, default in (("from", DEFAULT_FROM), ("until", DEFAULT_UNTIL)):
        value = dashboard.get(key)
        times[key] = default if value is None else _text(value, key, MAX_PARAM)
        if not times[key].strip():
            raise InputError(f"{key}: must not be blank")
    refresh = dashboard.get("refresh")
    if refresh is None:
        refresh = 0
    # bool is an int in Python, but `true` is no number of seconds.
    if isinstance(refresh, bool) or not isinstance(refresh, int):
        raise InputError("refresh: must be a whole number of seconds (0 = off)")
    if not 0 <= refresh <= MAX_REFRESH:
        raise InputError(f"refresh: must be between 0 and {MAX_REFRESH} seconds")
    panels = dashboard.get("panels")
    if panels is None:
        panels = []
    if not isinstance(panels, list):
        raise InputError("panels: must be a list")
    if len(panels) > MAX_PANELS:
        raise InputError(f"panels: at most {MAX_PANELS} panels")
    return {"title": _title(dashboard), "from": times["from"], "until": times["until"],
            "refresh": refresh,
            "panels": [check_panel(p, f"panels[{i}]") for i, p in enumerate(panels)]}


CHECKS: dict[str, Callable[[object], Record]] = {"graphs": check_graph,
                                                 "dashboards": check_dashboard}


# -- storage ------------------------------------------------------------------------------


class GraphStore:
    """Graphs and dashboards in the SQLite file at `path`; safe to share between threads.

    `kind` is `"graphs"` or `"dashboards"` in every method; records are plain dicts in the
    API's shape (`name`, the body's fields, `created`, `updated`)."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time,
                 timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.clock = clock
        self.timeout = timeout
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    # connections and schema

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun explicitly below, so each
        # operation takes the write lock up front instead of upgrading mid-way (which
        # fails at once with "database is locked" instead of waiting).
        connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        self._ensure_schema()
        connection = self._open()
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            connection.close()

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                self._create_schema()
                self._schema_ready = True

    def _create_schema(self) -> None:
        """Make the file, WAL mode (persistent in the file) and the tables if missing; a
        file from a newer statsgraph is refused rather than misread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = self._open()
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute("CREATE TABLE IF NOT EXISTS schema_version "
                                   "(version INTEGER NOT NULL)")
                row = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
                version = row[0]
                if version is not None and version > SCHEMA_VERSION:
                    raise RuntimeError(f"{self.path} has schema version {version}; this "
                                       f"statsgraph reads up to {SCHEMA_VERSION}")
                for kind in KINDS:
                    connection.execute(
                        f"CREATE TABLE IF NOT EXISTS {kind} (name TEXT PRIMARY KEY, "
                        "body TEXT NOT NULL, created INTEGER NOT NULL, "
                        "updated INTEGER NOT NULL)")
                if version is None:
                    connection.execute("INSERT INTO schema_version VALUES (?)",
                                       (SCHEMA_VERSION,))
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            connection.close()

    def _now(self) -> int:
        return int(self.clock())

    # reading

    def list_all(self, kind: str) -> list[Record]:
        """Every object of `kind`, sorted by name (code point order)."""
        table = _table(kind)
        with self._transaction(write=False) as db:
            rows = db.execute(f"SELECT name, body, created, updated FROM {table} "
                              "ORDER BY name").fetchall()
        return [_record(*row) for row in rows]

    def get(self, kind: str, name: str) -> Record:
        table = _table(kind)
        with self._transaction(write=False) as db:
            row = _row(db, table, name)
        if row is None:
            raise NotFoundError(f"no {_singular(kind)} named {name!r}")
        return _record(*row)

    # writing

    def put(self, kind: str, name: str, body: object) -> tuple[Record, bool]:
        """Create or replace `name` from a request body; returns the record and whether
        it was created. Replacing keeps the creation time."""
        table = _table(kind)
        check_name(name, graph=kind == "graphs")
        stored = CHECKS[kind](body)
        text = json.dumps(stored, ensure_ascii=False, separators=(",", ":"))
        now = self._now()
        with self._transaction(write=True) as db:
            row = _row(db, table, name)
            created = now if row is None else row[2]
            db.execute(f"INSERT OR REPLACE INTO {table} (name, body, created, updated) "
                       "VALUES (?, ?, ?, ?)", (name, text, created, now))
        return _record(name, text, created, now), row is None

    def delete(self, kind: str, name: str) -> None:
        table = _table(kind)
        with self._transaction(write=True) as db:
            gone = db.execute(f"DELETE FROM {table} WHERE name = ?", (name,)).rowcount
        if not gone:
            raise NotFoundError(f"no {_singular(kind)} named {name!r}")

    def rename(self, kind: str, name: str, new_name: object) -> Record:
        """Move `name` to `new_name`. Renaming a graph also renames the dashboard panels
        that show it, in the same transaction, so no dashboard loses it."""
        table = _table(kind)
        new_name = check_name(new_name, graph=kind == "graphs")
        now = self._now()
        with self._transaction(write=True) as db:
            row = _row(db, table, name)
            if row is None:
                raise NotFoundError(f"no {_singular(kind)} named {name!r}")
            if new_name == name:
                return _record(*row)
            if _row(db, table, new_name) is not None:
                raise NameTakenError(f"a {_singular(kind)} named {new_name!r} exists already")
            db.execute(f"UPDATE {table} SET name = ?, updated = ? WHERE name = ?",
                       (new_name, now, name))
            if kind == "graphs":
                _repoint_panels(db, name, new_name)
        return _record(new_name, row[1], row[2], now)


def _table(kind: str) -> str:
    """The table of `kind`; also what keeps table names in SQL text to known words."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return kind


def _singular(kind: str) -> str:
    return kind[:-1]


def _row(db: sqlite3.Connection, table: str, name: str) -> tuple[str, str, int, int] | None:
    return db.execute(f"SELECT name, body, created, updated FROM {table} WHERE name = ?",
                      (name,)).fetchone()


def _record(name: str, body: str, created: int, updated: int) -> Record:
    return {"name": name, **json.loads(body), "created": created, "updated": updated}


def _repoint_panels(db: sqlite3.Connection, old: str, new: str) -> None:
    rows = db.execute("SELECT name, body FROM dashboards").fetchall()
    for name, text in rows:
        body = json.loads(text)
        hits = [p for p in body["panels"] if p.get("graph") == old]
        if hits:
            for panel in hits:
                panel["graph"] = new
            db.execute("UPDATE dashboards SET body = ? WHERE name = ?",
                       (json.dumps(body, ensure_ascii=False, separators=(",", ":")), name))
