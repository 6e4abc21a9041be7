"""client.django_middleware under a real Django, driven by its test Client.

Settings are configured by a fixture (never at import), with this module as the URLconf.
"""

from __future__ import annotations

import pytest

django = pytest.importorskip("django")

from django.http import HttpResponse, HttpResponseNotFound  # noqa: E402
from django.urls import path  # noqa: E402
from django.views import View  # noqa: E402

from client import StatsClient  # noqa: E402


def index(request):
    return HttpResponse("ok")


def missing(request):
    return HttpResponseNotFound("no")


def broken(request):
    raise ValueError("boom")


class Things(View):
    def get(self, request):
        return HttpResponse("things")

    def post(self, request):
        return HttpResponse("made", status=201)


urlpatterns = [
    path("", index),
    path("missing", missing),
    path("broken", broken),
    path("things", Things.as_view()),
]

MIDDLEWARE = ["client.django_middleware.StatsdMiddleware"]


@pytest.fixture(scope="module")
def django_settings():
    from django.conf import settings
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="test",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=MIDDLEWARE,
            INSTALLED_APPS=[],
            DATABASES={},
            LOGGING_CONFIG=None,
        )
        django.setup()
    return settings


@pytest.fixture
def client(udp, django_settings):
    from django.test.utils import override_settings
    made = StatsClient("127.0.0.1", udp.port)
    with override_settings(STATSD_CLIENT=made, ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE):
        yield made
    made.close()


def browser(**kwargs):
    from django.test import Client
    return Client(**kwargs)


def lines(packet: bytes) -> list[bytes]:
    """The packet's lines with the timing value blanked out."""
    out = []
    for line in packet.split(b"\n"):
        if line.endswith(b"|ms"):
            name, value = line[:-3].split(b":")
            assert float(value) >= 0
            line = name + b":*|ms"
        out.append(line)
    return out


MODULE = __name__.encode()


def test_a_view_is_timed_and_counted_by_name(client, udp):
    response = browser().get("/")
    assert response.status_code == 200 and response.content == b"ok"
    assert lines(udp.packet()) == [
        b"response.200:1|c",
        b"view." + MODULE + b".index.GET.requests:1|c",
        b"view." + MODULE + b".index.GET:*|ms",
    ]


def test_class_based_view_is_named_by_its_class_and_method(client, udp):
    assert browser().post("/things").status_code == 201
    assert lines(udp.packet()) == [
        b"response.201:1|c",
        b"view." + MODULE + b".Things.POST.requests:1|c",
        b"view." + MODULE + b".Things.POST:*|ms",
    ]


def test_status_codes_are_counted(client, udp):
    browser().get("/missing")
    assert lines(udp.packet())[0] == b"response.404:1|c"
    browser().get("/no/such/url")  # no view at all: only the status
    assert lines(udp.packet()) == [b"response.404:1|c"]


def test_exceptions_are_counted(client, udp):
    response = browser(raise_request_exception=False).get("/broken")
    assert response.status_code == 500
    exception = udp.packet()
    assert exception.split(b"\n") == [
        b"exception.builtins.ValueError:1|c",
        b"view." + MODULE + b".broken.GET.exceptions:1|c",
    ]
    assert lines(udp.packet()) == [
        b"response.500:1|c",
        b"view." + MODULE + b".broken.GET.requests:1|c",
        b"view." + MODULE + b".broken.GET:*|ms",
    ]


def test_prefix_setting(client, udp):
    from django.test.utils import override_settings
    with override_settings(STATSD_MIDDLEWARE_PREFIX="site"):
        browser().get("/")
    assert lines(udp.packet())[0] == b"site.response.200:1|c"


def test_client_from_host_port_prefix_settings(udp, django_settings):
    from django.test.utils import override_settings
    with override_settings(STATSD_HOST="127.0.0.1", STATSD_PORT=udp.port,
                           STATSD_PREFIX="dj", ROOT_URLCONF=__name__,
                           MIDDLEWARE=MIDDLEWARE):
        browser().get("/")
    assert lines(udp.packet())[0] == b"dj.response.200:1|c"


def test_nothing_listening_does_not_disturb_django(django_settings):
    from django.test.utils import override_settings

    from tests.conftest import free_port
    made = StatsClient("127.0.0.1", free_port())
    with override_settings(STATSD_CLIENT=made, ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE):
        for _ in range(10):
            assert browser().get("/").status_code == 200


def test_view_name():
    import functools

    from client.django_middleware import view_name
    assert view_name(index) == f"{__name__}.index"
    assert view_name(Things.as_view()) == f"{__name__}.Things"
    assert view_name(functools.partial(index)) == f"{__name__}.index"
    assert view_name(lambda request: None) == f"{__name__}.test_view_name.locals.lambda"

    class Callable:
        def __call__(self, request):
            return None

    assert view_name(Callable()).endswith("test_view_name.<locals>.Callable".replace(
        "<", "").replace(">", ""))


def test_the_client_package_does_not_import_django():
    import subprocess
    import sys

    from tests.conftest import ROOT
    code = ("import sys, client, client.clients, client.wsgi; "
            "print('django' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "False"
