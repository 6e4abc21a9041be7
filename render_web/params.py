"""One accessor over a request's query string and form body, merged as graphite-web
merges GET and POST parameters."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Request
from werkzeug.datastructures import MultiDict

from render_web.functions.registry import InputError


class RequestParams:
    """Render parameters from the request or from elsewhere (a saved graph and its
    overrides), read through the same accessors so that they mean the same."""

    def __init__(self, values: Mapping[str, str] | MultiDict[str, str]) -> None:
        self.values: MultiDict[str, str] = MultiDict(values)

    @classmethod
    def of(cls, request: Request) -> RequestParams:
        """The query string and, for a POST, the form body, merged."""
        merged: MultiDict[str, str] = MultiDict(request.args)
        if request.method == "POST":
            for key, value in request.form.items(multi=True):
                merged.add(key, value)
        return cls(merged)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The last value given for `key` (graphite-web's `request.GET.get` sees the
        last one too); empty means unset."""
        values = self.values.getlist(key)
        return values[-1] if values and values[-1] != "" else default

    def getlist(self, key: str) -> list[str]:
        return self.values.getlist(key)

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.get(key)
        if value is None:
            return default
        return value.strip().lower() in ("1", "true", "yes", "on", "y", "t")

    def integer(self, key: str, default: int | None = None, low: int | None = None
                ) -> int | None:
        value = self.get(key)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise InputError(f"parameter {key!r} must be an integer, got {value!r}") from None
        if low is not None and number < low:
            raise InputError(f"parameter {key!r} must be at least {low}, got {number}")
        return number

    def number(self, key: str, default: float | None = None) -> float | None:
        value = self.get(key)
        if value is None:
            return default
        try:
            number = float(value.strip())
        except ValueError:
            raise InputError(f"parameter {key!r} must be a number, got {value!r}") from None
        if number != number:
            raise InputError(f"parameter {key!r} must be a number, got {value!r}")
        return number

    def single(self) -> dict[str, str]:
        """Every parameter with its last value (the graph options)."""
        return {key: values[-1] for key, values in self.values.lists() if values}
