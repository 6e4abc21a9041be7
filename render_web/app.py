"""`create_app(settings)`: the Flask application of the renderer, built from parts.

Nothing happens at import: the factory makes the reader (index, cache query client,
storage rules), the function registry and the evaluator, keeps them on the app, and
registers one blueprint per part of graphite-web's API under the configured prefix.
Every error leaves as JSON `{"error": ...}` with a 4xx; a 500 means a bug, and even then
the body is JSON without a traceback (the traceback goes to the log).
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from flask import Flask, current_app, jsonify
from twisted.logger import Logger
from twisted.python.failure import Failure
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from carbon_store.index import MetricIndex
from carbon_store.reader import LocalCache, MetricReader
from carbon_store.tagindex import TagIndex
from render_web.datastore import StoreSource, ThreadLocalCache
from render_web.evaluator import Evaluator, LimitError, Limits
from render_web.eventstore import EventStore
from render_web.functions import default_registry
from render_web.functions.registry import FunctionRegistry, InputError
from render_web.graph import GraphRenderer
from render_web.graphstore import GraphStore, NameTakenError, NotFoundError
from render_web.settings import WebSettings

log = Logger(namespace="statsgraph.web")
EXTENSION = "statsgraph.web"


@dataclass
class WebState:
    """What the views share, kept on the app (never in a module global)."""

    settings: WebSettings
    reader: MetricReader
    source: StoreSource
    registry: FunctionRegistry
    evaluator: Evaluator
    clock: Callable[[], float]
    graphs: GraphRenderer
    store: GraphStore
    tags: TagIndex | None = None
    events: EventStore | None = None


def state() -> WebState:
    return current_app.extensions[EXTENSION]


def make_reader(settings: WebSettings, index: MetricIndex | None = None) -> MetricReader:
    from carbon_store.reader import CarbonLinkClient
    from carbon_store.service import RulesSource, rules_files

    cache = None
    if settings.cache_query is not None:
        host, port = settings.cache_query
        cache = ThreadLocalCache(lambda: CarbonLinkClient(host, port))
    rules = RulesSource(*rules_files(settings, None))
    if index is None:
        index = MetricIndex(settings.storage, max_age=settings.index_refresh)
    return MetricReader(settings.storage, cache, rules, index)


def make_tag_index(settings: WebSettings, reader: MetricReader) -> TagIndex:
    """The tag index of the reader's storage; the cache's tagged names are seen only
    when the cache is in this process (the cache query protocol lists untagged names)."""
    cache = reader.cache
    names = cache.cache.names if isinstance(cache, LocalCache) else None
    return TagIndex(reader.root, cache_names=names,
                    max_age=settings.index_refresh or 0.0)


def create_app(settings: WebSettings, *, reader: MetricReader | None = None,
               registry: FunctionRegistry | None = None,
               clock: Callable[[], float] = time.time) -> Flask:
    from render_web.views import (
        api,
        events,
        functions,
        health,
        images,
        metrics,
        render,
        tags,
        version,
    )

    # Static files live under the prefix too, like every other path of the app.
    app = Flask(__name__, static_url_path=f"{settings.url_prefix}/static")
    app.json.sort_keys = False
    reader = reader if reader is not None else make_reader(settings)
    registry = registry if registry is not None else default_registry()
    source = StoreSource(reader)
    limits = Limits(settings.max_series, settings.max_points, settings.max_seconds)
    tag_index = make_tag_index(settings, reader)
    event_store = EventStore(settings.db_path, clock=clock)
    evaluator = Evaluator(registry, source, limits, tag_index=tag_index,
                          event_store=event_store)
    app.extensions[EXTENSION] = WebState(settings, reader, source, registry, evaluator,
                                         clock, GraphRenderer(),
                                         GraphStore(settings.db_path, clock=clock),
                                         tag_index, event_store)
    modules = [render, metrics, functions, tags, events, version, health, api, images]
    modules.extend(_optional_views("pages"))
    for module in modules:
        app.register_blueprint(module.blueprint, url_prefix=settings.url_prefix or None)
    app.register_error_handler(LimitError, _limit_error)
    app.register_error_handler(InputError, _input_error)
    app.register_error_handler(NotFoundError, _not_found)
    app.register_error_handler(NameTakenError, _name_taken)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _bug)
    if settings.trusted_proxies:
        # The scheme, host and prefix the browser used, as the proxy reports them: the
        # same-origin check of writes and the URLs we hand out depend on them.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)
    return app


def _optional_views(*names: str) -> list[ModuleType]:
    """The view modules among `names` that exist. Only absence is tolerated: a module
    that exists but fails to import raises as any other would."""
    found = []
    for name in names:
        qualified = f"render_web.views.{name}"
        if importlib.util.find_spec(qualified) is not None:
            found.append(importlib.import_module(qualified))
    return found


def error_response(message: str, status: int):
    response = jsonify(error=message)
    response.status_code = status
    return response


def _input_error(exc: InputError):
    return error_response(str(exc), 400)


def _not_found(exc: NotFoundError):
    return error_response(str(exc), 404)


def _name_taken(exc: NameTakenError):
    return error_response(str(exc), 409)


def _limit_error(exc: LimitError):
    return error_response(str(exc), 422)


def _http_error(exc: HTTPException):
    return error_response(exc.description or exc.name, exc.code or 400)


def _bug(exc: Exception):
    log.failure("unexpected error serving a request",
                Failure(exc, type(exc), exc.__traceback__))
    return error_response(f"internal error: {type(exc).__name__}", 500)
