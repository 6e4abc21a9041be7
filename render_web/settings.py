"""Every setting of the renderer: command-line flag and `[web]` key in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statsgraph.options import (
    OptionError,
    int_at_least,
    option,
    optional_path,
    parse_host_port,
    parse_port,
    parse_str,
    positive_float,
)


def optional_host_port(text: str) -> tuple[str, int] | None:
    word = text.strip()
    if word.lower() in ("", "none"):
        return None
    return parse_host_port(word)



def url_prefix(text: str) -> str:
    """`/graphite` (no trailing slash) or empty."""
    prefix = text.strip().strip("/")
    if any(c in prefix for c in "?#% "):
        raise OptionError(f"not a URL path: {text.strip()!r}")
    return "/" + prefix if prefix else ""


def time_zone(text: str) -> str:
    name = text.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise OptionError(f"unknown time zone {name!r}") from None
    return name


@dataclass(frozen=True)
class WebSettings:
    """Settings of `statsgraph web`; see `statsgraph web --help`."""

    storage: str = option("data/whisper", parse_str,
                          "directory of the whisper files to read", metavar="DIR")
    bind: str = option("127.0.0.1", parse_str, "address the HTTP server binds",
                       metavar="ADDRESS")
    port: int = option(8080, parse_port, "HTTP port; 0 = do not listen", metavar="PORT")
    cache_query: tuple[str, int] | None = option(
        None, optional_host_port, "a carbon cache query port (ours or a real "
        "carbon-cache's) whose unwritten points are merged in; none = files only",
        metavar="HOST:PORT")
    db: str | None = option(None, optional_path, "SQLite file of saved graphs (default: "
                            "graphs.db beside the storage directory)", metavar="FILE")
    url_prefix: str = option("", url_prefix, "serve under this path, e.g. /graphite",
                             metavar="PATH")
    time_zone: str = option("UTC", time_zone, "default time zone of requests (graphite's "
                            "TIME_ZONE); a request's tz parameter overrides it", metavar="TZ")
    threads: int = option(16, int_at_least(1), "requests served at once", metavar="N")
    trusted_proxies: int = option(
        0, int_at_least(0), "reverse proxies in front whose X-Forwarded-For/-Proto/-Host/"
        "-Prefix headers are believed (0: none; behind one TLS-terminating proxy, 1)",
        metavar="N")
    index_refresh: float = option(2.0, positive_float, "seconds between re-reads of the "
                                  "metric tree (only changed folders are listed again)",
                                  metavar="SECONDS")
    max_series: int = option(10_000, int_at_least(1),
                             "series one request may read", metavar="N")
    max_points: int = option(50_000_000, int_at_least(1),
                             "points one request may read", metavar="N")
    max_seconds: float = option(30.0, positive_float,
                                "seconds one request may spend evaluating", metavar="SECONDS")
    max_target_length: int = option(
        65_536, int_at_least(1), "characters one target may have; a longer one is refused "
        "before it is parsed", metavar="CHARS")
    max_width: int = option(4000, int_at_least(1), "widest image in pixels", metavar="PX")
    max_height: int = option(4000, int_at_least(1), "tallest image in pixels", metavar="PX")
    storage_schemas: str | None = option(
        None, optional_path, "storage-schemas.conf (for metrics only in the cache; found "
        "like [carbon]'s)", metavar="FILE")
    storage_aggregation: str | None = option(
        None, optional_path, "storage-aggregation.conf (found like storage_schemas)",
        metavar="FILE")

    @property
    def db_path(self) -> Path:
        if self.db:
            return Path(self.db)
        return Path(self.storage).resolve().parent / "graphs.db"

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.time_zone)
