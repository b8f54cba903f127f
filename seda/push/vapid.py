"""seda's VAPID key (RFC 8292): push services accept a push only with a JWT signed by the key
the browser subscribed with (its `applicationServerKey`).

`VAPID_PRIVATE_KEY` is a P-256 key as PEM (PKCS#8) or as base64url of its 32-byte scalar. Unset
outside production, one is generated into the instance folder, created exclusively so that every
process sharing the folder uses the same one. Unset in production, Web Push is off."""

import base64
import time
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from seda.common.instance_files import generated_once

KEY_FILE = "vapid-private.pem"
JWT_LIFETIME_SECONDS = 12 * 3600  # RFC 8292 allows at most 24 hours


class NoKey(Exception):
    """Web Push is not configured (production without VAPID_PRIVATE_KEY)."""


@dataclass(frozen=True)
class Vapid:
    private_key: ec.EllipticCurvePrivateKey
    public_key: str  # base64url of the uncompressed point: the browser's applicationServerKey
    subject: str

    def authorization(self, endpoint, now=None):
        """The `Authorization` header of a push to `endpoint`: `vapid t=<JWT>, k=<public key>`."""
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(now if now is not None else time.time()) + JWT_LIFETIME_SECONDS,
            "sub": self.subject,
        }
        token = jwt.encode(claims, self.private_key, algorithm="ES256", headers={"typ": "JWT"})
        return f"vapid t={token}, k={self.public_key}"


def init_vapid(app):
    """The app's VAPID key from its settings (or the instance folder), or none: Web Push off."""
    config = app.config
    try:
        key = _configured_key(config["VAPID_PRIVATE_KEY"])
    except ValueError as exc:
        raise ValueError(f"VAPID_PRIVATE_KEY is not a P-256 private key: {exc}") from None
    if key is None and config["APP_ENV"] != "production":
        key = _instance_key(Path(app.instance_path) / KEY_FILE)
    subject = config["VAPID_SUBJECT"] or f"mailto:{parseaddr(config['MAIL_FROM'])[1]}"
    app.extensions["seda_vapid"] = None if key is None else Vapid(key, _public_key(key), subject)


def vapid_configured(app):
    return app.extensions.get("seda_vapid") is not None


def vapid_of(app):
    vapid = app.extensions.get("seda_vapid")
    if vapid is None:
        raise NoKey()
    return vapid


def _configured_key(text):
    if not text:
        return None
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        scalar = _b64url_decode(text)
        if len(scalar) != 32:
            raise ValueError("a raw key is 32 bytes")
        key = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not on P-256")
    return key


def _instance_key(path):
    pem = generated_once(path, _new_pem, "VAPID_PRIVATE_KEY")
    return serialization.load_pem_private_key(pem, password=None)


def _new_pem():
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_key(key):
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(point)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text):
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
