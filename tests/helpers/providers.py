"""(pytest plugin) A local HTTPS fake of the music providers: their oEmbed endpoints and pages, on 127.0.0.2.

The app's fetcher gets a resolver that sends every provider host name to this server, so the
requests go through the real safe fetcher, TLS included, exactly as they would in production.
"""

import json
import socket
import ssl

import pytest
from pytest_httpserver import HTTPServer

from seda.crawler.fetcher import SafeFetcher
from tests.helpers.origin import ORIGIN_IP

PROVIDER_HOSTS = [
    "open.spotify.com",
    "music.apple.com",
    "www.youtube.com",
    "soundcloud.com",
    "oembed.tidal.com",
    "api.deezer.com",
    "radiohead.bandcamp.com",
    "*.bandcamp.com",
]


@pytest.fixture(scope="session")
def provider_server(ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*PROVIDER_HOSTS).configure_cert(context)
    server = HTTPServer(host=ORIGIN_IP, port=0, ssl_context=context, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def providers(provider_server):
    from seda.common.tasks import wait_for_in_process_tasks

    # An unfurl still running from an earlier test must not land in this test's request log.
    wait_for_in_process_tasks()
    provider_server.clear()
    yield provider_server
    wait_for_in_process_tasks()
    provider_server.clear()


def point_fetcher_at(app, server, ca_file, timeout_ms=10_000):
    """The app's fetcher reaches every provider host at `server`. The deadline is long: a test that
    wants a timeout sets its own, and one that expects an answer must not fail because a loaded CI
    machine took 3 s to serve a loopback request (it did, once)."""

    def resolver(host, port, *_args):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ORIGIN_IP, server.port))]

    app.extensions["seda_fetcher"] = SafeFetcher(
        "SedaBot/test",
        timeout_ms=timeout_ms,
        max_retries=0,
        allowed_networks=[f"{ORIGIN_IP}/32"],
        ca_bundle=ca_file,
        resolver=resolver,
    )


@pytest.fixture
def tracks_app(app_factory, provider_server, ca_file):
    app = app_factory(RATE_LIMIT_UNFURL="100/minute")
    point_fetcher_at(app, provider_server, ca_file)
    return app


def oembed(server, path, **body):
    server.expect_request(path).respond_with_data(json.dumps(body), content_type="application/json")
