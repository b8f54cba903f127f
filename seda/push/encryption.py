"""Message encryption for Web Push (RFC 8291): `aes128gcm` (RFC 8188), one record of 4096.

http_ece (the web-push-libs implementation pywebpush uses) does the record format and the key
derivation; seda makes a fresh sender key pair per message, as RFC 8291 requires."""

import base64
import binascii
import string

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec

RECORD_SIZE = 4096
URL_SAFE_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")


def encrypt(plaintext, p256dh, auth):
    """The body of a push carrying `plaintext` to the browser whose keys are `p256dh` and `auth`
    (base64url)."""
    return http_ece.encrypt(
        plaintext,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=decode_key(p256dh),
        auth_secret=decode_key(auth),
        version="aes128gcm",
        rs=RECORD_SIZE,
    )


def decode_key(text):
    """Bytes of a base64url key, padded or not (ValueError when it is not base64url)."""
    text = text.rstrip("=")
    if not text or any(c not in URL_SAFE_ALPHABET for c in text):
        raise ValueError("Not valid base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("Not valid base64url") from None


def check_p256dh(text):
    """A browser's public key: a 65-byte uncompressed point on P-256 (ValueError otherwise)."""
    point = decode_key(text)
    if len(point) != 65 or point[0] != 4:
        raise ValueError("Must be a 65-byte uncompressed P-256 point")
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # ValueError off the curve


def check_auth(text):
    """A browser's auth secret: 16 bytes (ValueError otherwise)."""
    if len(decode_key(text)) != 16:
        raise ValueError("Must be 16 bytes")
