"""graphite's events (annotations) in the same SQLite file as the saved graphs.

An event is a moment (`when`, epoch seconds), a one-line `what`, free `data` and a list
of tags. Like the graph store, every operation opens its own connection and the file is
made on first use.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from render_web.functions.registry import InputError

MAX_WHAT = 255  # graphite's column width
MAX_DATA = 100_000
MAX_TAGS = 100
SET_OPERATIONS = ("union", "intersection")

Event = dict[str, Any]


def _tag_list(tags: object) -> list[str]:
    """Tags as a list: a JSON array or a space-separated string, as graphite takes."""
    if tags is None:
        return []
    if isinstance(tags, str):
        words = tags.split()
    elif isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        words = [word for t in tags for word in t.split()]
    else:
        raise InputError('"tags" must be an array or space-separated string')
    words = list(dict.fromkeys(words))
    if len(words) > MAX_TAGS:
        raise InputError(f'"tags": at most {MAX_TAGS} tags')
    return words


def check_event(body: object, now: float) -> tuple[int, str, str, list[str]]:
    """(when, what, data, tags) of a posted event, or an InputError naming the field."""
    if not isinstance(body, dict):
        raise InputError("an event must be a JSON object")
    what = body.get("what")
    if not isinstance(what, str) or not what:
        raise InputError('"what" must be a non-empty string')
    if len(what) > MAX_WHAT:
        raise InputError(f'"what" must be at most {MAX_WHAT} characters long')
    data = body.get("data", "")
    if data is None:
        data = ""
    if not isinstance(data, str) or len(data) > MAX_DATA:
        raise InputError(f'"data" must be a string of at most {MAX_DATA} characters')
    when = body.get("when", now)
    if isinstance(when, bool) or not isinstance(when, int | float) \
            or not math.isfinite(when) or not 0 <= when < 2**41:
        raise InputError('"when" must be a time in epoch seconds')
    return int(when), what, data, _tag_list(body.get("tags"))


class EventStore:
    """The `events` table of the graphs database."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time,
                 timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.clock = clock
        self.timeout = timeout
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    @contextmanager
    def _connection(self, create: bool) -> Iterator[sqlite3.Connection | None]:
        if not create and not self.path.exists():
            yield None
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            with self._schema_lock:
                if not self._schema_ready:
                    connection.execute(
                        "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY "
                        "AUTOINCREMENT, happened INTEGER NOT NULL, what TEXT NOT NULL, "
                        "data TEXT NOT NULL, tags TEXT NOT NULL)")
                    connection.execute("CREATE INDEX IF NOT EXISTS events_happened "
                                       "ON events (happened)")
                    self._schema_ready = True
            yield connection
        finally:
            connection.close()

    def add(self, body: object) -> Event:
        """Store a posted event (checked by `check_event`) and answer it as listed."""
        when, what, data, tags = check_event(body, self.clock())
        with self._connection(create=True) as connection:
            assert connection is not None
            cursor = connection.execute(
                "INSERT INTO events (happened, what, data, tags) VALUES (?, ?, ?, ?)",
                (when, what, data, " ".join(tags)))
            event_id = cursor.lastrowid
        return {"when": when, "what": what, "data": data, "tags": tags, "id": event_id}

    def find(self, start: float | None = None, end: float | None = None,
             tags: Sequence[str] | None = None, set_operation: str | None = None
             ) -> list[Event]:
        """Events with start <= when <= end, oldest first. With `tags`, those carrying
        all of them (or any of them for set_operation='union')."""
        sql = "SELECT id, happened, what, data, tags FROM events"
        where, args = [], []
        if start is not None:
            where.append("happened >= ?")
            args.append(math.ceil(start))
        if end is not None:
            where.append("happened <= ?")
            args.append(math.floor(end))
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY happened, id"
        with self._connection(create=False) as connection:
            rows = connection.execute(sql, args).fetchall() if connection else []
        wanted = set(tags) if tags else None
        out = []
        for event_id, when, what, data, tag_text in rows:
            own = tag_text.split()
            if wanted is not None:
                common = wanted & set(own)
                if not (common if set_operation == "union" else common == wanted):
                    continue
            out.append({"when": when, "what": what, "data": data, "tags": own,
                        "id": event_id})
        return out
