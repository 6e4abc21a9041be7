"""`statsgraph web` as a Twisted service: the Flask app behind `twisted.web.wsgi` on a
thread pool of its own, and the metric index refreshed on a timer, off the request path.
"""

from __future__ import annotations

from twisted.application import internet
from twisted.application.service import MultiService, Service
from twisted.internet import threads
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool
from twisted.web.server import Site
from twisted.web.wsgi import WSGIResource

from carbon_store.index import MetricIndex
from render_web.app import create_app, make_reader
from render_web.settings import WebSettings

log = Logger(namespace="statsgraph.web")
RULES_CHECK_INTERVAL = 60.0


class ThreadPoolService(Service):
    """Starts the request threads with the service; stopping waits for the requests
    being served to finish."""

    def __init__(self, pool: ThreadPool) -> None:
        self.pool = pool

    def startService(self) -> None:
        super().startService()
        self.pool.start()

    def stopService(self) -> None:
        super().stopService()
        self.pool.stop()


class WebService(MultiService):
    def __init__(self, settings: WebSettings, reactor: object) -> None:
        super().__init__()
        self.settings = settings
        # The timer keeps the tree fresh; a lookup refreshes by itself only if the
        # timer has fallen far behind.
        self.index = MetricIndex(settings.storage, max_age=settings.index_refresh * 5)
        self.reader = make_reader(settings, self.index)
        self.app = create_app(settings, reader=self.reader)
        self.pool = ThreadPool(minthreads=1, maxthreads=settings.threads,
                               name="statsgraph-web")
        ThreadPoolService(self.pool).setServiceParent(self)

        def in_pool(function):
            return lambda: threads.deferToThreadPool(reactor, self.pool, function)

        internet.TimerService(settings.index_refresh, in_pool(self.index.refresh)
                              ).setServiceParent(self)
        internet.TimerService(RULES_CHECK_INTERVAL, self.reader.rules.check
                              ).setServiceParent(self)
        if settings.port:
            site = Site(WSGIResource(reactor, self.pool, self.app))
            site.displayTracebacks = False
            internet.TCPServer(settings.port, site, interface=settings.bind,
                               reactor=reactor).setServiceParent(self)

    def startService(self) -> None:
        self.index.refresh()  # the first listing before the first request
        super().startService()
        log.info("serving graphite's HTTP API on http://{bind}:{port}{prefix}/ from {storage}",
                 bind=self.settings.bind, port=self.settings.port,
                 prefix=self.settings.url_prefix, storage=self.settings.storage)


def makeService(settings: WebSettings, reactor: object | None = None) -> WebService:
    if reactor is None:
        from twisted.internet import reactor as global_reactor
        reactor = global_reactor
    return WebService(settings, reactor)
