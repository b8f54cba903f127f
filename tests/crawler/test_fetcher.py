"""The safe fetcher against a local TLS origin, a trap, and a stub resolver."""

import gzip
import socket
import time

import pytest
from werkzeug import Response

from seda.crawler.fetcher import MAX_BODY_BYTES, FetchFailed, SafeFetcher
from tests.helpers.origin import ORIGIN_IP, dripping_page, origin_url

UA = "Mozilla/5.0 (compatible; SedaBot/1.0)"


class StubResolver:
    """Maps test names to addresses; a list of lists answers successive lookups in turn."""

    def __init__(self, names):
        self.names, self.calls = names, []

    def __call__(self, host, port, family=0, type=0, *args):
        self.calls.append(host)
        answer = self.names.get(host)
        if answer is None:
            return socket.getaddrinfo(host, port, family, type)
        if isinstance(answer[0], list):
            answer = answer[0] if len(answer) == 1 else answer.pop(0)
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answer
        ]


@pytest.fixture
def resolver():
    return StubResolver(
        {
            "origin.test": [ORIGIN_IP],
            "evil.test": ["127.0.0.1"],
            "metadata.test": ["169.254.169.254"],
            "mixed.test": [ORIGIN_IP, "127.0.0.1"],
            "rebind.test": [[ORIGIN_IP], ["127.0.0.1"]],
            "public.test": ["93.184.216.34"],
        }
    )


@pytest.fixture
def fetcher(ca_file, resolver):
    return SafeFetcher(
        UA,
        timeout_ms=3000,
        max_retries=2,
        allowed_networks=[f"{ORIGIN_IP}/32"],
        ca_bundle=ca_file,
        resolver=resolver,
        sleep=lambda _s: None,
    )


def test_fetches_a_page_with_the_configured_user_agent_and_no_cookies(fetcher, origin):
    origin.expect_request("/page").respond_with_data("<p>hello</p>", content_type="text/html; charset=utf-8")
    result = fetcher.fetch(origin_url(origin, "/page"))
    assert (result.status, result.text, result.truncated) == (200, "<p>hello</p>", False)
    request = origin.log[0][0]
    assert request.headers["User-Agent"] == UA
    assert "Cookie" not in request.headers and "Authorization" not in request.headers
    assert request.headers["Host"] == f"{ORIGIN_IP}:{origin.port}"


def test_names_resolve_once_and_tls_checks_the_name(fetcher, origin, resolver):
    origin.expect_request("/").respond_with_data("ok")
    result = fetcher.fetch(f"https://origin.test:{origin.port}/")
    assert result.status == 200 and resolver.calls == ["origin.test"]
    assert origin.log[0][0].headers["Host"] == f"origin.test:{origin.port}"


def ssrf_cases(trap_port):
    t = trap_port
    return [
        f"https://127.0.0.1:{t}/",
        f"http://127.0.0.1:{t}/",
        f"http://localhost:{t}/",
        f"http://LOCALHOST:{t}/",
        f"http://localhost.:{t}/",
        "http://169.254.169.254/latest/meta-data/",
        f"http://[::1]:{t}/",
        f"http://[::ffff:127.0.0.1]:{t}/",
        f"http://[::ffff:7f00:1]:{t}/",
        f"http://[64:ff9b::7f00:1]:{t}/",
        f"http://2130706433:{t}/",
        f"http://0x7f000001:{t}/",
        f"http://0177.0.0.1:{t}/",
        f"http://127.1:{t}/",
        f"http://0:{t}/",
        "http://10.0.0.1/",
        "http://100.64.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        f"http://evil.test:{t}/",
        "http://metadata.test/",
        f"http://mixed.test:{t}/",
        "http://public.test:6379/",
        f"ftp://127.0.0.1:{t}/",
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{t}/_INFO",
        f"dict://127.0.0.1:{t}/",
        "data:text/html,<p>x</p>",
        "javascript:alert(1)",
        f"http://origin.test@127.0.0.1:{t}/",
        f"http://user:pw@origin.test:{t}/",
        f"http://127.0.0.1:{t}#@origin.test/",
        f"http://origin.test\\@127.0.0.1:{t}/",
    ]


def test_every_ssrf_form_is_refused_before_any_connection(fetcher, trap):
    cases = ssrf_cases(trap.port)
    assert len(cases) >= 19
    for url in cases:
        with pytest.raises(FetchFailed) as refused:
            fetcher.fetch(url)
        assert refused.value.code in {"url_not_allowed", "address_not_allowed", "port_not_allowed", "dns_failed"}, url
    assert trap.connections == 0


def test_redirects_are_rechecked_at_every_hop(fetcher, origin, trap):
    origin.expect_request("/away").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{trap.port}/"}
    )
    origin.expect_request("/scheme").respond_with_data("", status=302, headers={"Location": "file:///etc/passwd"})
    for path in ("/away", "/scheme"):
        with pytest.raises(FetchFailed) as refused:
            fetcher.fetch(origin_url(origin, path))
        assert refused.value.code == "redirect_blocked"
    assert trap.connections == 0


def test_relative_redirects_are_followed_up_to_five_hops(fetcher, origin):
    for n in range(6):
        origin.expect_request(f"/hop{n}").respond_with_data("", status=301, headers={"Location": f"/hop{n + 1}"})
    origin.expect_request("/hop6").respond_with_data("arrived")
    assert fetcher.fetch(origin_url(origin, "/hop1")).final_url.endswith("/hop6")
    with pytest.raises(FetchFailed) as too_many:
        fetcher.fetch(origin_url(origin, "/hop0"))
    assert too_many.value.code == "too_many_redirects"


def test_dns_rebinding_cannot_redirect_the_connection(fetcher, origin, resolver, trap):
    origin.expect_request("/").respond_with_data("first answer wins")
    result = fetcher.fetch(f"https://rebind.test:{origin.port}/")
    assert result.text == "first answer wins"
    assert resolver.calls.count("rebind.test") == 1 and trap.connections == 0


def test_bodies_are_truncated_at_two_mebibytes(fetcher, origin):
    def stream():
        for _ in range(160):
            yield b"x" * 65536  # 10 MiB, no Content-Length

    origin.expect_request("/big").respond_with_handler(lambda r: Response(stream(), content_type="text/html"))
    result = fetcher.fetch(origin_url(origin, "/big"))
    assert result.truncated is True and len(result.body) == MAX_BODY_BYTES


def test_compression_bombs_are_refused(fetcher, origin):
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024))
    origin.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchFailed) as refused:
        fetcher.fetch(origin_url(origin, "/bomb"))
    assert refused.value.code == "compression_bomb"


def test_a_slow_trickle_ends_at_the_deadline(ca_file, resolver, origin):
    def trickle():
        for _ in range(20):
            time.sleep(0.4)
            yield b"."

    origin.expect_request("/slow").respond_with_handler(lambda r: Response(trickle(), content_type="text/html"))
    fetcher = SafeFetcher(
        UA, timeout_ms=1500, max_retries=0, allowed_networks=[f"{ORIGIN_IP}/32"], ca_bundle=ca_file, resolver=resolver
    )
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        fetcher.fetch(origin_url(origin, "/slow"))
    assert failed.value.code == "timeout" and time.monotonic() - started < 2.5


def test_timeouts_and_5xx_are_retried_4xx_are_not(fetcher, origin):
    answers = iter([("", 503), ("", 502), ("fine", 200)])
    origin.expect_request("/flaky").respond_with_handler(lambda r: Response(*next(answers)))
    assert fetcher.fetch(origin_url(origin, "/flaky")).text == "fine"
    assert len(origin.log) == 3
    origin.clear()
    origin.expect_request("/gone").respond_with_data("", status=404)
    assert fetcher.fetch(origin_url(origin, "/gone")).status == 404
    assert len(origin.log) == 1
    origin.clear()
    origin.expect_request("/down").respond_with_data("", status=500)
    with pytest.raises(FetchFailed) as failed:
        fetcher.fetch(origin_url(origin, "/down"))
    assert failed.value.code == "http_500" and len(origin.log) == 3  # 1 + max_retries


def test_untrusted_certificates_fail(resolver, origin):
    strict = SafeFetcher(UA, allowed_networks=[f"{ORIGIN_IP}/32"], resolver=resolver, max_retries=0)
    origin.expect_request("/").respond_with_data("ok")
    with pytest.raises(FetchFailed):
        strict.fetch(origin_url(origin, "/"))


def test_a_page_that_drips_a_byte_at_a_time_ends_at_the_whole_fetch_deadline(ca_file, resolver, origin):
    origin.expect_request("/drip").respond_with_handler(dripping_page(0.3, 30))
    fetcher = SafeFetcher(
        UA, timeout_ms=1500, max_retries=0, allowed_networks=[f"{ORIGIN_IP}/32"], ca_bundle=ca_file, resolver=resolver
    )
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failure:
        fetcher.fetch(origin_url(origin, "/drip"))
    assert failure.value.code == "timeout"
    assert time.monotonic() - started < 2.5  # the page alone would take 9 s
