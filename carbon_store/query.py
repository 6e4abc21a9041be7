"""Carbon's cache query protocol (CARBONLINK), answered from the cache.

A request is a pickled dict in a 4-byte length frame; so is the answer (pickle protocol
2, as carbon sends). `answer` is the pure part; requests are unpickled with the same
safe unpickler as the pickle receiver.
"""

from __future__ import annotations

from collections.abc import Callable

import whisper

from carbon_store.cache import MetricCache
from carbon_store.index import PatternTooComplex, check_pattern
from carbon_store.names import BadName, normalize
from carbon_store.patterns import find_cached


def _points(cache: MetricCache, metric: str) -> list[tuple[int, float]]:
    return [(int(ts), value) for ts, value in cache.get(metric)]


def answer(request: object, cache: MetricCache, whisper_path: Callable[[str], str]) -> dict:
    """The reply to one request dict; errors are replies too, as in carbon."""
    if not isinstance(request, dict):
        return {"error": "request is not a dict"}
    kind = request.get("type")
    try:
        if kind == "cache-query":
            metric = normalize(str(request["metric"]))
            return {"datapoints": _points(cache, metric)}
        if kind == "cache-query-bulk":
            metrics = [normalize(str(m)) for m in request["metrics"]]
            return {"datapointsByMetric": {m: _points(cache, m) for m in metrics}}
        if kind == "cache-find":  # ours: names held only in the cache, for `find`
            pattern = str(request["pattern"])
            check_pattern(pattern)  # an exploding {a,b} list would stall the reactor
            return {"metrics": find_cached(cache.names(), pattern)}
        if kind == "get-metadata":
            metric = normalize(str(request["metric"]))
            key = request.get("key")
            if key != "aggregationMethod":
                return {"error": f"Unsupported metadata key {key!r}"}
            info = whisper.info(whisper_path(metric))  # None when there is no file
            if info is None:
                return {"error": f"no whisper file for {metric!r}"}
            return {"value": info["aggregationMethod"]}
    except KeyError as exc:
        return {"error": f"missing {exc.args[0]!r} in request"}
    except BadName as exc:
        return {"error": f"bad metric name: {exc}"}
    except PatternTooComplex as exc:
        return {"error": str(exc)}
    except (OSError, whisper.WhisperException) as exc:
        return {"error": f"cannot read metadata: {exc}"}
    return {"error": f'Invalid request type "{kind}"'}
