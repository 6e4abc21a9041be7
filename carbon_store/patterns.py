"""Graphite's path patterns: dot-separated nodes with `*`, `?`, `[...]` and `{a,b}`.

A pattern matches a metric name node by node (a `*` never crosses a dot), as
graphite-web's finders do.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from functools import lru_cache


def expand_braces(node: str) -> list[str]:
    """`a{b,c}d{e,f}` -> `abde abdf acde acdf`; unbalanced braces are literal."""
    start = node.find("{")
    end = node.find("}", start + 1)
    if start < 0 or end < 0:
        return [node]
    head, body, tail = node[:start], node[start + 1:end], node[end + 1:]
    return [head + choice + rest for choice in body.split(",") for rest in expand_braces(tail)]


@lru_cache(maxsize=4096)
def node_regex(node: str) -> re.Pattern[str]:
    alternatives = [fnmatch.translate(part) for part in expand_braces(node)]
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def is_pattern(node: str) -> bool:
    return any(c in node for c in "*?[{")


class PathPattern:
    """A compiled pattern; `matches(name)` for whole names, `node(i, text)` per level."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.nodes = pattern.split(".")

    def node(self, index: int, text: str) -> bool:
        return node_regex(self.nodes[index]).match(text) is not None

    def matches(self, name: str) -> bool:
        parts = name.split(".")
        return len(parts) == len(self.nodes) and all(
            self.node(i, part) for i, part in enumerate(parts))

    def matches_prefix(self, name: str) -> bool:
        """Whether `name` is a branch on the way to a match (for cache-only branches)."""
        parts = name.split(".")
        depth = len(self.nodes)
        return len(parts) > depth and all(self.node(i, parts[i]) for i in range(depth))


def find_cached(names: Iterable[str], pattern: str) -> list[str]:
    """The untagged names matching `pattern`, or lying under a branch that matches it."""
    compiled = PathPattern(pattern)
    return [name for name in names if ";" not in name
            and (compiled.matches(name) or compiled.matches_prefix(name))]
