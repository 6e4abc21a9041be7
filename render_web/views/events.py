"""`/events`: post and list graphite's events, and `/events/get_data`, the list Grafana's
annotation query reads.

A post changes state, so it follows the same cross-site rule as `/api`: sent as
`application/json`, and from this very origin when the browser names one.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, request
from werkzeug.exceptions import Forbidden

from render_web.app import state
from render_web.attime import parse_attime
from render_web.functions.registry import InputError
from render_web.params import RequestParams
from render_web.views.api import origin_key
from render_web.views.common import dumps, json_response, no_cache, request_tz

blueprint = Blueprint("events", __name__)

MAX_BODY = 1024 * 1024


def _refuse_cross_site() -> None:
    if request.mimetype != "application/json":
        raise Forbidden("state-changing requests must be sent as application/json")
    origin = request.headers.get("Origin")
    if origin is not None:
        own = origin_key(f"{request.scheme}://{request.host}")
        if origin_key(origin) is None or origin_key(origin) != own:
            raise Forbidden(f"cross-origin request refused (Origin {origin!r} is not "
                            f"{request.scheme}://{request.host})")


def _fetch(params: RequestParams) -> list[dict]:
    """graphite's reading: `from` defaults to the epoch, `until` to now, `tags` is
    space-separated, `set` is union or intersection (all tags, the default)."""
    web = state()
    tz = request_tz(params, web.settings.tz)
    now = datetime.fromtimestamp(web.clock(), tz)
    from_text, until_text = params.get("from"), params.get("until")
    start = parse_attime(from_text, tz, now).timestamp() if from_text else 0.0
    end = parse_attime(until_text, tz, now).timestamp() if until_text else now.timestamp()
    tags = params.get("tags")
    wanted = tags.split() if tags else None
    return web.events.find(start, end, tags=wanted, set_operation=params.get("set"))


@blueprint.route("/events", methods=["GET", "POST"])
@blueprint.route("/events/", methods=["GET", "POST"])
def events() -> Response:
    if request.method == "GET":
        params = RequestParams.of(request)
        return no_cache(json_response(dumps(_fetch(params)), params))
    _refuse_cross_site()
    request.max_content_length = MAX_BODY
    try:
        body = json.loads(request.get_data(as_text=True))
    except ValueError as exc:
        raise InputError(f"the body is not JSON: {exc}") from None
    event = state().events.add(body)
    return Response(dumps(event), 200, mimetype="application/json")


@blueprint.route("/events/get_data", methods=["GET", "POST"])
def get_data() -> Response:
    params = RequestParams.of(request)
    return no_cache(json_response(dumps(_fetch(params)), params))
