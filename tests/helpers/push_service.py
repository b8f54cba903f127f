"""A Web Push service on loopback (the TLS origin of tests/helpers/origin.py) and the browsers
that subscribe to it.

Like a real push service it refuses a push whose VAPID JWT (RFC 8292) does not verify with the
key in its `k=`, or is for another origin, or is out of date; the browser decrypts each body with
its own keys. The decryption is written here from RFC 8291 and RFC 8188, apart from the library
seda encrypts with, so a mistake on either side shows."""

import base64
import json
import os
import re
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from werkzeug import Response

from tests.helpers.origin import origin_url


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf(salt, ikm, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


class Browser:
    """A browser's push subscription: its P-256 key pair and 16-byte auth secret."""

    def __init__(self, service):
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.public = self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.auth = os.urandom(16)
        self.token = uuid.uuid4().hex
        self.endpoint = service.url(self.token)
        service.browsers[self.token] = self

    def subscription(self, expiration_time=None):
        """The body `PushSubscription.toJSON()` gives."""
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(self.public), "auth": b64url(self.auth)},
            "expirationTime": expiration_time,
        }

    def decrypt(self, body):
        """RFC 8291 §3.4 and RFC 8188 §2: the plaintext of one aes128gcm record."""
        salt, record_size, id_length = body[:16], struct.unpack("!I", body[16:20])[0], body[20]
        sender = body[21 : 21 + id_length]
        ciphertext = body[21 + id_length :]
        assert record_size == 4096 and len(ciphertext) <= record_size
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender)
        shared = self._key.exchange(ec.ECDH(), peer)
        ikm = _hkdf(self.auth, shared, b"WebPush: info\x00" + self.public + sender, 32)
        key = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(key).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
        assert padded.endswith(b"\x02"), "the last record ends with delimiter 2"
        return padded[:-1]


@dataclass
class Received:
    token: str
    headers: dict
    payload: dict


@dataclass
class PushService:
    """Answers 201 to a well-signed push unless `answer_next` queued other answers for a browser."""

    server: object
    vapid_public_key: str
    browsers: dict = field(default_factory=dict)
    received: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    attempts: dict = field(default_factory=dict)
    _answers: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.server.expect_request(re.compile(r"^/push/"), method="POST").respond_with_handler(self._handle)

    def url(self, token):
        return origin_url(self.server, f"/push/{token}")

    def answer_next(self, browser, *answers):
        """Answer `browser`'s next pushes with `answers`: a status, (status, headers) or a number
        of seconds to hang first as ("hang", seconds)."""
        self._answers.setdefault(browser.token, []).extend(answers)

    def pushes_to(self, browser):
        return [r for r in self.received if r.token == browser.token]

    def wait_for(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def _handle(self, request):
        token = request.path.rsplit("/", 1)[-1]
        with self._lock:
            self.attempts[token] = self.attempts.get(token, 0) + 1
            queued = self._answers.get(token)
            answer = queued.pop(0) if queued else 201
        if isinstance(answer, tuple) and answer[0] == "hang":
            time.sleep(answer[1])
            answer = 201
        problem = self._vapid_problem(request)
        if problem:
            self.refused.append(problem)
            return Response(problem, status=403)
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        if 200 <= status < 300:
            browser = self.browsers[token]
            payload = json.loads(browser.decrypt(request.get_data()))
            self.received.append(Received(token, dict(request.headers), payload))
        return Response("", status=status, headers=headers)

    def _vapid_problem(self, request):
        scheme, _, params = request.headers.get("Authorization", "").partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if scheme != "vapid" or fields.get("k") != self.vapid_public_key:
            return "not seda's VAPID key"
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        try:
            claims = jwt.decode(
                fields["t"], key, algorithms=["ES256"], audience=origin_url(self.server, "").rstrip("/")
            )
        except jwt.PyJWTError as exc:
            return f"bad JWT: {exc}"
        if claims["exp"] > time.time() + 24 * 3600 or not claims["sub"].startswith(("mailto:", "https:")):
            return "bad claims"
        if request.headers.get("Content-Encoding") != "aes128gcm" or "TTL" not in request.headers:
            return "not an RFC 8030 push"
        return None
