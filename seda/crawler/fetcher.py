"""The safe fetcher: the one way seda makes outbound HTTP requests.

Verification checks, admin crawls and unfurling all call `SafeFetcher.fetch`; Web Push delivery
calls `SafeFetcher.post`. It refuses
before connecting anything the policy forbids, pins each connection to a checked address,
re-checks every redirect hop, keeps one total deadline, caps the decoded body, refuses
compression bombs, retries only timeouts and 5xx with jittered backoff, bounds concurrent
requests per host.
"""

import hashlib
import logging
import random
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

import certifi
import gevent
import requests
import urllib3
from gevent import monkey

from seda.common.admission import outside
from seda.crawler.policy import DEFAULT_PORTS, AddressPolicy, Refused, parse_target
from seda.crawler.transport import PinnedAddressAdapter

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0
BOMB_RATIO = 100
PER_HOST_CONCURRENCY = 4
CHUNK = 64 * 1024
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
POOL_PER_ADDRESS = 64  # kept-alive connections to one push service (deliveries run in parallel)


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    truncated: bool

    @property
    def text(self):
        return self.body.decode(_charset(self.content_type), errors="replace")

    @property
    def sha256(self):
        return hashlib.sha256(self.body).hexdigest()


@dataclass
class PostAnswer:
    status: int
    retry_after: str | None


class FetchFailed(Exception):
    """The request was refused or failed; `code` is safe to show (no port-scan oracle)."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code

    @property
    def transient(self):
        """Whether trying again later might succeed: the network failed, or the server answered
        5xx through every retry (not the address, nor what the page said)."""
        return self.code in TRANSIENT_CODES or self.code.startswith("http_5")


TRANSIENT_CODES = {"timeout", "unreachable", "dns_failed"}


class SafeFetcher:
    def __init__(
        self,
        user_agent,
        timeout_ms=30000,
        max_retries=3,
        allowed_networks=(),
        ca_bundle=None,
        resolver=None,
        sleep=time.sleep,
    ):
        self.user_agent = user_agent
        self.deadline_seconds = timeout_ms / 1000
        self.max_retries = max_retries
        self.policy = AddressPolicy(allowed_networks, **({"resolver": resolver} if resolver else {}))
        self.verify = ca_bundle or True
        self._sleep = sleep
        self._host_slots = {}
        self._host_slots_lock = threading.Lock()
        self._posting = None
        self._posting_lock = threading.Lock()

    def check_url(self, url):
        """Refuse at once a URL the fetcher would never request (no network use)."""
        try:
            parse_target(url)
        except Refused as exc:
            raise FetchFailed(exc.code) from exc

    def check_address(self, url):
        """Refuse a URL whose host resolves to an address the fetcher may not reach (a private,
        loopback, link-local… one), without connecting to it."""
        try:
            scheme, host, port = parse_target(url)
            self.policy.resolve(host, port, DEFAULT_PORTS[scheme])
        except Refused as exc:
            raise FetchFailed(exc.code) from exc

    def fetch(self, url):
        """GET `url` and follow redirects safely; raises FetchFailed.

        The whole fetch (DNS, connect, TLS, redirects, retries, body) ends by the deadline: under
        gevent (every server and worker process) a gevent.Timeout interrupts whatever is
        blocking; the body is read one network read at a time with the socket's timeout set to
        what is left, so a page that drips a byte every few seconds cannot outlast it anywhere.
        Never cached: verification and admin crawls must see the page as it is now, and unfurls
        cache the parsed TrackRef themselves."""
        deadline = time.monotonic() + self.deadline_seconds
        with outside(), _interrupt_at(deadline) as timer:
            try:
                return self._fetch_with_retries(url, deadline)
            except gevent.Timeout as exc:
                if exc is not timer:
                    raise
                raise FetchFailed("timeout") from None

    def post(self, url, body, headers):
        """POST `body` to `url` once (no redirects followed, no retries: the caller decides, as a
        push service's answer says) and give its status; raises FetchFailed.

        The address is checked at every call, like every hop of a fetch; connections are kept
        alive between calls (pooled per checked address and host name), since deliveries go to a
        handful of push services many times a second and a TLS handshake each would cost more
        than the delivery."""
        self.check_url(url)
        deadline = time.monotonic() + self.deadline_seconds
        with outside(), _interrupt_at(deadline) as timer:
            try:
                response = self._session_for_posts().post(
                    url,
                    data=body,
                    headers={"User-Agent": self.user_agent, **headers},
                    allow_redirects=False,
                    verify=self.verify,
                    timeout=(min(CONNECT_TIMEOUT, self.deadline_seconds), self.deadline_seconds),
                )
            except Refused as exc:
                raise FetchFailed(exc.code) from exc
            except requests.Timeout as exc:
                raise FetchFailed("timeout") from exc
            except requests.ConnectionError as exc:
                raise FetchFailed("unreachable") from exc
            except requests.RequestException as exc:
                raise FetchFailed("request_failed") from exc
            except gevent.Timeout as exc:
                if exc is not timer:
                    raise
                raise FetchFailed("timeout") from None
        response.close()
        return PostAnswer(response.status_code, response.headers.get("Retry-After"))

    def _session_for_posts(self):
        with self._posting_lock:
            if self._posting is None:
                self._posting = self._pinned_session(pool_maxsize=POOL_PER_ADDRESS)
            return self._posting

    def _pinned_session(self, **adapter_options):
        """A requests session whose every connection goes to an address the policy checked."""
        session = requests.Session()
        session.trust_env = False  # no proxies or .netrc from the environment
        session.mount("http://", PinnedAddressAdapter(self.policy, is_https=False, **adapter_options))
        session.mount("https://", PinnedAddressAdapter(self.policy, is_https=True, **adapter_options))
        return session

    def _fetch_with_retries(self, url, deadline):
        attempt = 0
        while True:
            try:
                return self._follow(url, deadline)
            except _Retryable as exc:
                attempt += 1
                delay = min(8.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
                if attempt > self.max_retries or time.monotonic() + delay >= deadline:
                    raise FetchFailed(exc.code) from exc
                log.info("crawler retry %d for %s after %s", attempt, url, exc.code)
                self._sleep(delay)

    def _follow(self, url, deadline):
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                _scheme, host, _port = parse_target(current)
            except Refused as exc:
                raise FetchFailed(exc.code if current == url else "redirect_blocked") from exc
            with self._slot(host):
                response = self._request(current, deadline, is_redirect=current != url)
                location = response.headers.get("Location") if response.status_code in REDIRECT_STATUSES else None
                if location is None:
                    return self._read(url, current, response, deadline)
                response.close()
            current = urljoin(current, location)
        raise FetchFailed("too_many_redirects")

    def _request(self, url, deadline, is_redirect):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Retryable("timeout")
        session = self._pinned_session()
        headers = {
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        }
        try:
            response = session.get(
                url,
                headers=headers,
                stream=True,
                allow_redirects=False,
                verify=self.verify,
                timeout=(min(CONNECT_TIMEOUT, remaining), remaining),
            )
        except Refused as exc:
            raise FetchFailed("redirect_blocked" if is_redirect else exc.code) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise _Retryable("unreachable") from exc  # timeouts and refusals look alike on purpose
        except requests.RequestException as exc:
            raise FetchFailed("request_failed") from exc
        if response.status_code >= 500:
            response.close()
            raise _Retryable(f"http_{response.status_code}")
        return response

    def _read(self, url, final_url, response, deadline):
        body = bytearray()
        truncated = False
        sock = getattr(response.raw.connection, "sock", None)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Retryable("timeout")
                if sock is not None:
                    sock.settimeout(remaining)
                chunk = response.raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    break
                body.extend(chunk)
                if len(body) > MAX_BODY_BYTES:
                    compressed = response.raw.tell() or 1
                    if response.headers.get("Content-Encoding") and len(body) / compressed > BOMB_RATIO:
                        raise FetchFailed("compression_bomb")
                    del body[MAX_BODY_BYTES:]
                    truncated = True
                    break
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise _Retryable("timeout") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Retryable("unreachable") from exc
        finally:
            response.close()
        return FetchResult(
            url, final_url, response.status_code, response.headers.get("Content-Type", ""), bytes(body), truncated
        )

    def _slot(self, host):
        with self._host_slots_lock:
            slot = self._host_slots.get(host)
            if slot is None:
                slot = self._host_slots[host] = threading.BoundedSemaphore(PER_HOST_CONCURRENCY)
        return slot


class _Retryable(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


@contextmanager
def _interrupt_at(deadline):
    """A gevent.Timeout that fires at `deadline` in a gevent-patched process (servers, workers);
    elsewhere (plain threads in tests, scripts) None, and the per-read timeouts bound the fetch."""
    if not monkey.is_module_patched("socket"):
        yield None
        return
    timer = gevent.Timeout(max(0.0, deadline - time.monotonic()))
    timer.start()
    try:
        yield timer
    finally:
        timer.close()


def _charset(content_type):
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                "".encode(value.strip('"'))
                return value.strip('"')
            except LookupError:
                break
    return "utf-8"


def fetcher_for(app):
    """The app's fetcher, configured from its settings (built once per app)."""
    fetcher = app.extensions.get("seda_fetcher")
    if fetcher is None:
        config = app.config
        fetcher = app.extensions["seda_fetcher"] = SafeFetcher(
            config["CRAWLER_USER_AGENT"],
            config["CRAWLER_TIMEOUT_MS"],
            config["CRAWLER_MAX_RETRIES"],
            config["CRAWLER_ALLOWED_PRIVATE_NETWORKS"],
            _ca_bundle(config["CRAWLER_CA_BUNDLE"]),
        )
    return fetcher


def _ca_bundle(extra):
    """certifi's roots plus the configured extra CA file, in one bundle requests can use."""
    if not extra:
        return None
    with open(certifi.where(), "rb") as roots, open(extra, "rb") as added:
        bundle = roots.read() + b"\n" + added.read()
    with tempfile.NamedTemporaryFile(prefix="seda-ca-", suffix=".pem", delete=False) as handle:
        handle.write(bundle)
    return handle.name
