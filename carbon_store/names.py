"""Metric names: Graphite 1.1 tag normalization, validation, and where a name lives on disk.

A name is checked before it can become a path, so that no input can reach a file
outside the storage directory: no empty node, no `..` node, no `/`, no NUL, no node or
whole path longer than the filesystem takes. Untagged `a.b.c` is stored at `a/b/c.wsp`;
a tagged series `name;k=v` (tags sorted, as carbon normalizes them) at
`_tagged/<sha256[0:3]>/<sha256[3:6]>/<sha256>.wsp`, where graphite-web looks for it
(carbon's TAG_HASH_FILENAMES default).
"""

from __future__ import annotations

import hashlib
import os

MAX_NODE_BYTES = 255 - len(".wsp")  # NAME_MAX, less the extension
MAX_NAME_BYTES = 4096 - 512  # PATH_MAX, less room for the storage directory


class BadName(ValueError):
    """A metric name that cannot be stored; the message says why."""


def _check_tags(pairs: list[tuple[str, str]]) -> None:
    for tag, value in pairs:
        if not tag or any(c in tag for c in ";!^="):
            raise BadName(f"invalid tag name {tag!r}")
        if not value or ";" in value or value.startswith("~"):
            raise BadName(f"invalid value {value!r} for tag {tag!r}")


def normalize(name: str) -> str:
    """The canonical form of a metric name: tags sorted by tag name (last value wins,
    as carbon's TaggedSeries keeps them in a dict). Raises BadName."""
    if not name:
        raise BadName("empty name")
    if "\x00" in name:
        raise BadName("NUL in name")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise BadName("name too long")
    if ";" not in name:
        _check_path(name)
        return name
    metric, *tags = name.split(";")
    pairs: dict[str, str] = {}
    for tag in tags:
        key, sep, value = tag.partition("=")
        if not sep:
            raise BadName(f"tag without a value: {tag!r}")
        pairs[key] = value
    _check_tags(list(pairs.items()))
    metric = metric.lstrip("~")
    if not metric:
        raise BadName("tagged series without a name")
    return metric + "".join(f";{k}={pairs[k]}" for k in sorted(pairs))


def _check_path(name: str) -> None:
    if "/" in name:
        raise BadName("'/' in name")
    for node in name.split("."):
        if not node:
            raise BadName("empty node in name")
        if node == "..":  # unreachable after the empty-node check, kept for clarity
            raise BadName("'..' node in name")
        if len(node.encode("utf-8", "surrogatepass")) > MAX_NODE_BYTES:
            raise BadName("node too long for a file name")


def relative_path(name: str) -> str:
    """The path of a normalized name's whisper file under the storage directory."""
    if ";" in name:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
        return os.path.join("_tagged", digest[0:3], digest[3:6], digest + ".wsp")
    return os.path.join(*name.split(".")) + ".wsp"


def metric_of(relative: str) -> str | None:
    """The metric name of an untagged whisper file's relative path (None for tagged
    series, whose name is not in their path)."""
    if not relative.endswith(".wsp") or relative.startswith("_tagged" + os.sep):
        return None
    return relative[: -len(".wsp")].replace(os.sep, ".")
