"""The text and data formats of /render: json, csv, raw and pickle, and the
maxDataPoints consolidation that the json answer applies (graphite-web's
`renderViewJson`, `renderViewCsv`, `renderViewRaw`, `renderViewPickle`)."""

from __future__ import annotations

import json
import math
import pickle
import re
from collections.abc import Sequence
from datetime import datetime, tzinfo

import numpy as np

from render_web import numbertext
from render_web.series import TimeSeries, consolidate

_COMPACT = json.JSONEncoder(separators=(",", ":"), allow_nan=True)


def apply_max_data_points(series_list: Sequence[TimeSeries], max_points: int
                          ) -> list[TimeSeries]:
    """Each series consolidated to at most `max_points` points, with its own
    consolidation function, exactly as graphite-web's json view does it: the start is
    nudged onto a multiple of the bucket width (so a refreshing graph keeps its buckets),
    one value fewer than the nudge is dropped, and points past the original end go."""
    if not series_list:
        return []
    time_range = max(s.end for s in series_list) - min(s.start for s in series_list)
    out = []
    for series in series_list:
        if not len(series):
            out.append(series)
            continue
        if max_points == 1:
            per_point = len(series)
            start = series.start
            values = series.values
        else:
            points = time_range / series.step
            if not max_points < points:
                out.append(series)
                continue
            per_point = math.ceil(points / max_points)
            seconds = per_point * series.step
            nudge = seconds + series.start % series.step - series.start % seconds
            start = series.start + nudge
            values = series.values[max(0, nudge // series.step - 1):]
        step = series.step * per_point
        merged = consolidate(values, per_point, series.consolidation, series.x_files_factor)
        count = len(range(start, series.end + 1, step))
        out.append(series.copy(start=start, step=step, values=merged[:count],
                               values_per_point=series.values_per_point * per_point))
    return out


def datapoints_json(series: TimeSeries, no_null_points: bool = False) -> bytes:
    """`[[value, timestamp], ...]` of one series (see `numbertext` for how numbers are
    written)."""
    values = series.values
    timestamps = series.timestamps()
    if no_null_points:
        keep = ~np.isnan(values)
        values, timestamps = values[keep], timestamps[keep]
    return numbertext.datapoints_json(values, timestamps)


def to_json(series_list: Sequence[TimeSeries], no_null_points: bool = False,
            pretty: bool = False) -> bytes:
    """graphite-web's json, as UTF-8: NaN is null and infinities are 1e9999 (which JSON
    parsers read back as infinity, where a bare `Infinity` would not parse)."""
    items = []
    for series in series_list:
        points = datapoints_json(series, no_null_points)
        if no_null_points and points == b"[]":
            continue
        target = json.dumps(series.name)
        tags = _COMPACT.encode(series.tags)  # graphite keeps the tags' own order
        head = f'{{"target":{target},"tags":{tags},"datapoints":'.encode()
        items.append(head + points + b"}")
    body = b"[" + b",".join(items) + b"]"
    if pretty:
        text = json.dumps(json.loads(body, parse_constant=_refuse), indent=2)
        body = _INFINITY.sub(_spell_infinity, text).encode()
    return body


def _refuse(word: str) -> float:
    raise ValueError(f"unexpected {word} in json")


# A json string (left alone: a target may be named `Infinity`) or an infinite number.
_INFINITY = re.compile(r'"(?:[^"\\]|\\.)*"|-?Infinity')


def _spell_infinity(match: re.Match[str]) -> str:
    word = match.group()
    return word if word.startswith('"') else word.replace("Infinity", "1e9999")


def to_csv(series_list: Sequence[TimeSeries], tz: tzinfo) -> str:
    lines = []
    for series in series_list:
        name = series.name
        if any(c in name for c in ',"\r\n'):
            name = '"' + name.replace('"', '""') + '"'
        for value, timestamp in zip(series.values.tolist(), series.timestamps().tolist(),
                                    strict=True):
            when = datetime.fromtimestamp(timestamp, tz).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"{name},{when},{'' if value != value else repr(value)}")
    return "".join(line + "\r\n" for line in lines)


def to_raw(series_list: Sequence[TimeSeries]) -> str:
    lines = []
    for series in series_list:
        values = ",".join("None" if v != v else repr(v) for v in series.values.tolist())
        lines.append(f"{series.name},{series.start},{series.end},{series.step}|{values}")
    return "".join(line + "\n" for line in lines)


def to_pickle(series_list: Sequence[TimeSeries]) -> bytes:
    """What graphite-web federation (a remote finder) reads."""
    return pickle.dumps([{
        "name": s.name, "start": s.start, "end": s.end, "step": s.step,
        "values": s.to_list(), "pathExpression": s.path_expression,
        "valuesPerPoint": s.values_per_point, "consolidationFunc": s.consolidation,
        "xFilesFactor": s.x_files_factor,
    } for s in series_list], protocol=2)
