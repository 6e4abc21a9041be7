"""What several views share: the request's time window and JSON(P) answers."""

from __future__ import annotations

import json
import re
from datetime import tzinfo

from flask import Response

from render_web.attime import Window, parse_timezone, time_window
from render_web.functions.registry import InputError
from render_web.params import RequestParams

JSONP_CALLBACK = re.compile(r"[A-Za-z_$][\w$.]*")


def request_tz(params: RequestParams, default: tzinfo) -> tzinfo:
    return parse_timezone(params.get("tz"), default)


def request_window(params: RequestParams, default_tz: tzinfo, wall_clock: float) -> Window:
    tz = request_tz(params, default_tz)
    return time_window(params.get("from"), params.get("until"), params.get("now"), tz,
                       wall_clock)


def jsonp_callback(params: RequestParams) -> str | None:
    callback = params.get("jsonp")
    if callback is None:
        return None
    if not JSONP_CALLBACK.fullmatch(callback):
        raise InputError(f"jsonp callback {callback!r} is not a JavaScript name")
    return callback


def json_response(body: str | bytes, params: RequestParams, status: int = 200,
                  jsonp: bool = True) -> Response:
    """`body` (JSON text) as application/json, or wrapped for a jsonp callback."""
    callback = jsonp_callback(params) if jsonp else None
    if callback:
        data = body if isinstance(body, bytes) else body.encode()
        return Response(callback.encode() + b"(" + data + b")", status,
                        mimetype="text/javascript")
    return Response(body, status, mimetype="application/json")


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def no_cache(response: Response) -> Response:
    response.headers["Pragma"] = "no-cache"
    response.headers["Cache-Control"] = "no-cache"
    return response
