"""graphite-web's series functions over numpy, and their registry."""

from __future__ import annotations

from types import ModuleType

from render_web.functions.registry import FunctionRegistry


def function_modules() -> list[ModuleType]:
    """Every module that defines series functions."""
    from importlib import import_module

    # One module per graphite-web function group ("Filter Series", "Filter Data" and
    # "Sorting" share filters).
    names = ["combine", "transform", "calculate", "filters", "alias", "graph", "special",
             "queries"]
    return [import_module(f"render_web.functions.{name}") for name in names]


def default_registry() -> FunctionRegistry:
    return FunctionRegistry.collect(function_modules())
