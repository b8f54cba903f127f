"""The loopback harness of the crawler tests: a TLS origin on 127.0.0.2 and a trap on 127.0.0.1.

Linux routes all of 127/8 to loopback, so the origin is "another host" that tests allow through
CRAWLER_ALLOWED_PRIVATE_NETWORKS=127.0.0.2/32, while the trap counts every connection that
reaches 127.0.0.1: the fetcher must never make one.
"""

import socket
import threading
import time

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Response

ORIGIN_IP = "127.0.0.2"


class Trap:
    def __init__(self):
        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(50)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self._sock.close()


@pytest.fixture(scope="session")
def ca():
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def origin_server(ca):
    cert = ca.issue_cert(ORIGIN_IP, "origin.test", "rebind.test", "mixed.test")
    context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = HTTPServer(host=ORIGIN_IP, port=0, ssl_context=context, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def origin(origin_server):
    origin_server.clear()
    yield origin_server
    origin_server.clear()


@pytest.fixture
def trap():
    trap = Trap()
    yield trap
    trap.close()


def origin_url(server, path="/"):
    return f"https://{ORIGIN_IP}:{server.port}{path}"


def dripping_page(seconds_per_byte, count):
    """A page that sends a byte every `seconds_per_byte`: each read is quick, the page is not."""

    def handler(_request):
        def body():
            yield b"<html>"
            for _ in range(count):
                time.sleep(seconds_per_byte)
                yield b"x"

        return Response(body(), content_type="text/html")

    return handler
