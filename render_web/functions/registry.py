"""Series functions with their parameter metadata, collected into an explicit registry.

A function is a plain callable `f(ctx, *args)` marked with `@series_function(...)`; the
mark only attaches a `FunctionSpec` to it, so importing a module changes no state.
`FunctionRegistry.collect(modules)` gathers the marked callables; the evaluator checks
and converts arguments against `params` and `/functions` publishes the same metadata in
graphite-web's shape (what Grafana's function editor reads).
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from render_web.grammar import Node
    from render_web.series import TimeSeries

SeriesList = list["TimeSeries"]


class InputError(ValueError):
    """A target that cannot be evaluated as written: answered with a 400 and this text."""


class ParamType(enum.StrEnum):
    AGG_FUNC = "aggFunc"
    AGG_OR_SERIES_FUNC = "aggOrSeriesFunc"
    ANY = "any"
    BOOLEAN = "boolean"
    DATE = "date"
    FLOAT = "float"
    INT_OR_INF = "intOrInf"
    INT_OR_INTERVAL = "intOrInterval"
    INTEGER = "integer"
    INTERVAL = "interval"
    NODE = "node"
    NODE_OR_TAG = "nodeOrTag"
    SERIES = "series"
    SERIES_LIST = "seriesList"
    SERIES_LISTS = "seriesLists"
    STRING = "string"
    TAG = "tag"


_NO_DEFAULT = object()


@dataclass(frozen=True)
class Param:
    name: str
    type: ParamType
    required: bool = False
    default: Any = _NO_DEFAULT
    options: tuple | None = None
    multiple: bool = False
    suggestions: tuple | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    def metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": str(self.type)}
        if self.required:
            out["required"] = True
        if self.has_default and self.default is not None:
            out["default"] = self.default
        if self.options is not None:
            out["options"] = list(self.options)
        if self.multiple:
            out["multiple"] = True
        if self.suggestions is not None:
            out["suggestions"] = list(self.suggestions)
        return out


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    func: Callable[..., Any]
    group: str
    params: tuple[Param, ...]
    aliases: tuple[str, ...] = ()
    # Functions that combine many series into one (`sumSeries`); marks them for
    # `aggOrSeriesFunc` callbacks such as groupByNode's.
    aggregator: bool = False
    pie: bool = False

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    def signature(self) -> str:
        parts = []
        for param in self.params:
            if param.multiple:
                parts.append(f"*{param.name}")
            elif param.has_default:
                parts.append(f"{param.name}={param.default!r}")
            else:
                parts.append(param.name)
        return f"{self.name}({', '.join(parts)})"

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "function": self.signature(),
            "description": self.description,
            "module": self.func.__module__,
            "group": self.group,
            "params": [p.metadata() for p in self.params],
        }


def series_function(name: str, group: str, params: Sequence[Param], *,
                    aliases: Sequence[str] = (), aggregator: bool = False,
                    pie: bool = False) -> Callable[[Callable], Callable]:
    """Mark `func` as the series function `name` (a graphite-web name)."""
    def mark(func: Callable) -> Callable:
        func.series_function = FunctionSpec(name, func, group, tuple(params),
                                            tuple(aliases), aggregator, pie)
        return func
    return mark


class FunctionRegistry:
    def __init__(self, specs: Iterable[FunctionSpec] = ()) -> None:
        self._specs: dict[str, FunctionSpec] = {}
        self._by_alias: dict[str, FunctionSpec] = {}
        for spec in specs:
            self.add(spec)

    @classmethod
    def collect(cls, modules: Iterable[ModuleType]) -> FunctionRegistry:
        registry = cls()
        for module in modules:
            for value in vars(module).values():
                spec = getattr(value, "series_function", None)
                if isinstance(spec, FunctionSpec) and spec.func is value:
                    registry.add(spec)
        return registry

    def add(self, spec: FunctionSpec) -> None:
        for key in (spec.name, *spec.aliases):
            if key in self._by_alias:
                raise ValueError(f"series function {key!r} registered twice")
            self._by_alias[key] = spec
        self._specs[spec.name] = spec

    def get(self, name: str) -> FunctionSpec | None:
        return self._by_alias.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._by_alias

    def names(self) -> list[str]:
        return sorted(self._by_alias)

    def specs(self) -> list[FunctionSpec]:
        return [self._specs[name] for name in sorted(self._specs)]

    def metadata(self, grouped: bool = False) -> dict[str, Any]:
        """graphite-web's `/functions` answer: name -> metadata (every alias too), or
        group -> name -> metadata."""
        out: dict[str, Any] = {}
        for name in self.names():
            spec = self._by_alias[name]
            entry = spec.metadata()
            entry["name"] = name
            if grouped:
                out.setdefault(spec.group, {})[name] = entry
            else:
                out[name] = entry
        return out


@dataclass(frozen=True)
class Context:
    """What a function knows of the request: the time window, the clock, the time zone,
    and how to evaluate its own arguments again over another window (for functions that
    need history before `start`, such as movingAverage and timeShift)."""

    start: int
    end: int
    now: int
    tz: tzinfo
    x_files_factor: float = 0.0
    # The unevaluated argument nodes of the call being evaluated.
    args: tuple[Node | Any, ...] = ()
    # The current call as written (seriesByTag's series keep it as path expression).
    call_text: str = ""
    evaluator: Callable[[Context, Node], SeriesList] | None = field(default=None,
                                                                    compare=False)
    registry: FunctionRegistry | None = field(default=None, compare=False)
    # Shared by every call of one request (stacked()'s running totals, for instance).
    state: dict[str, Any] = field(default_factory=dict, compare=False)
    # Evaluates a new target string (aliasQuery, applyByNode) within the same limits.
    target_evaluator: Callable[[Context, str], SeriesList] | None = field(default=None,
                                                                          compare=False)
    # Fetches exact series names (seriesByTag's matches) within the same limits.
    name_fetcher: Callable[[Context, list[str]], SeriesList] | None = field(default=None,
                                                                            compare=False)
    # carbon_store.tagindex.TagIndex and render_web.eventstore.EventStore, when present.
    tag_index: Any = field(default=None, compare=False)
    event_store: Any = field(default=None, compare=False)

    def with_window(self, start: int, end: int) -> Context:
        return replace(self, start=int(start), end=int(end))

    def evaluate(self, node: Node, start: int | None = None, end: int | None = None
                 ) -> SeriesList:
        """Evaluate an expression node, by default over this context's window."""
        if self.evaluator is None:
            raise InputError("this context cannot evaluate expressions")
        context = self.with_window(self.start if start is None else start,
                                   self.end if end is None else end)
        return self.evaluator(context, node)

    def evaluate_target(self, text: str, start: int | None = None, end: int | None = None
                        ) -> SeriesList:
        """A target string evaluated as a whole new target, by default over this window."""
        if self.target_evaluator is None:
            raise InputError("this context cannot evaluate targets")
        context = self.with_window(self.start if start is None else start,
                                   self.end if end is None else end)
        return self.target_evaluator(context, text)

    def fetch_names(self, names: list[str]) -> SeriesList:
        """The series of exact metric names over this window (missing ones left out)."""
        if self.name_fetcher is None:
            raise InputError("this context cannot fetch series")
        return self.name_fetcher(self, names)

    def refetch(self, index: int, start: int, end: int) -> SeriesList:
        """Argument `index` of the current call, evaluated again over (start, end]."""
        return self.evaluate(self.args[index], start, end)

    def call(self, name: str, *args: Any) -> Any:
        """Apply another registered function to already evaluated arguments
        (groupByNode's callback, for instance)."""
        spec = self.registry.get(name) if self.registry else None
        if spec is None:
            raise InputError(f"unknown function {name!r}")
        return spec.func(self, *args)
