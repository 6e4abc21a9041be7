"""Every setting of the carbon store: command-line flag and `[carbon]` key in one place.

Key names are carbon.conf's in snake_case (MAX_CACHE_SIZE is `max_cache_size`,
MAX_UPDATES_PER_SECOND is `max_updates_per_second`, ...); `inf` means no limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from carbon_store.cache import STRATEGIES
from statsgraph.options import (
    OptionError,
    choice,
    int_at_least,
    option,
    optional_path,
    parse_bool,
    parse_port,
    parse_str,
)


def non_negative_or_inf(text: str) -> float:
    word = text.strip().lower()
    if word == "inf":
        return math.inf
    try:
        value = float(word)
    except ValueError:
        raise OptionError(f"expected a number or inf, got {text.strip()!r}") from None
    if not value >= 0 or math.isnan(value):
        raise OptionError(f"must be 0 or more, got {text.strip()!r}")
    return value


def positive_or_inf(text: str) -> float:
    value = non_negative_or_inf(text)
    if value == 0:
        raise OptionError("must be greater than 0")
    return value



@dataclass(frozen=True)
class CarbonSettings:
    """Settings of `statsgraph carbon`; see `statsgraph carbon --help`."""

    storage: str = option("data/whisper", parse_str,
                          "directory of the whisper files (one per metric, dots as folders)",
                          metavar="DIR")
    bind: str = option("127.0.0.1", parse_str, "address every listener binds",
                       metavar="ADDRESS")
    port: int = option(2003, parse_port, "plaintext port, TCP and UDP; 0 = do not listen",
                       metavar="PORT")
    pickle_port: int = option(2004, parse_port, "pickle port (TCP); 0 = do not listen",
                              metavar="PORT")
    query_port: int = option(7002, parse_port,
                             "cache query (CARBONLINK) port; 0 = do not listen",
                             metavar="PORT")
    storage_schemas: str | None = option(
        None, optional_path, "storage-schemas.conf to use (default: beside --config, else "
        "the data directory's conf/, else the packaged one)", metavar="FILE")
    storage_aggregation: str | None = option(
        None, optional_path, "storage-aggregation.conf to use (found like storage_schemas)",
        metavar="FILE")
    max_cache_size: float = option(math.inf, positive_or_inf,
                                   "points the cache holds before receivers pause (inf: no "
                                   "bound)", metavar="POINTS")
    use_flow_control: bool = option(True, parse_bool,
                                    "pause receivers when the cache is full (else drop)",
                                    metavar="BOOL")
    cache_write_strategy: str = option("sorted", choice(*STRATEGIES),
                                       "which metric the writer takes next: sorted, max, "
                                       "naive", metavar="STRATEGY")
    max_updates_per_second: float = option(500.0, positive_or_inf,
                                           "whisper update_many calls per second (inf: no "
                                           "limit)", metavar="RATE")
    max_updates_per_second_on_shutdown: float = option(
        math.inf, positive_or_inf, "the same while draining at shutdown", metavar="RATE")
    max_creates_per_minute: float = option(math.inf, positive_or_inf,
                                           "new whisper files per minute; points of metrics "
                                           "waiting for theirs stay cached", metavar="RATE")
    create_processes: int = option(1, int_at_least(1),
                                   "processes creating new whisper files ahead of the writes",
                                   metavar="PROCESSES")
    shutdown_timeout: float = option(60.0, positive_or_inf,
                                     "seconds a clean stop spends writing the cache out; "
                                     "the rest is dumped and reloaded at the next start",
                                     metavar="SECONDS")
    line_max_length: int = option(16384, int_at_least(64),
                                  "longest plaintext line; a longer one drops the connection",
                                  metavar="BYTES")
    pickle_max_length: int = option(1048576, int_at_least(1024),
                                    "largest pickle frame; a larger one drops the connection",
                                    metavar="BYTES")
    idle_timeout: float = option(300.0, non_negative_or_inf,
                                 "seconds a plaintext, pickle or cache query connection may "
                                 "stay silent before it is closed; 0 = never",
                                 metavar="SECONDS")
    whisper_autoflush: bool = option(False, parse_bool, "fsync after every whisper write",
                                     metavar="BOOL")
    whisper_sparse_create: bool = option(False, parse_bool,
                                         "create whisper files sparse", metavar="BOOL")
    whisper_fallocate_create: bool = option(True, parse_bool,
                                            "create whisper files with fallocate",
                                            metavar="BOOL")
    whisper_lock_writes: bool = option(False, parse_bool, "flock whisper files while writing",
                                       metavar="BOOL")
    carbon_metric_prefix: str = option("carbon", parse_str, "prefix of the self-metrics",
                                       metavar="PREFIX")
    carbon_metric_interval: float = option(60.0, non_negative_or_inf,
                                           "seconds between self-metrics; 0 = none",
                                           metavar="SECONDS")
    instance: str = option("", parse_str, "instance name (carbon.agents.<host>-<instance>)",
                           metavar="NAME")

    @property
    def hard_limit(self) -> float:
        """Carbon's: 5% over the high watermark with flow control, the size without."""
        if math.isinf(self.max_cache_size):
            return math.inf
        return self.max_cache_size * (1.05 if self.use_flow_control else 1.0)

    @property
    def low_watermark(self) -> float:
        return self.max_cache_size * 0.95
