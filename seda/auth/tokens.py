"""Bearer tokens: seda's own HS256 JWTs, and Supabase access tokens (HS256 secret or JWKS).

The verifier is chosen by the token's issuer and its keys and algorithms come from
configuration only: HS256 with seda's secret for seda, HS256 with the Supabase JWT secret or
ES256/RS256 keys from the configured JWKS for Supabase. Nothing in a token's header can add a
key or an algorithm.
"""

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from seda.common.db import utcnow
from seda.common.errors import TokenExpired, Unauthorized
from seda.common.kept import VersionedCache

SEDA_ISSUER = "seda"
SEDA_AUDIENCE = "seda"
SUPABASE_AUDIENCE = "authenticated"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
LEEWAY_SECONDS = 30
ASYMMETRIC_ALGORITHMS = ("ES256", "RS256")
FORBIDDEN_HEADERS = ("jku", "x5u", "jwk", "x5c")
VERIFIED_CACHE_SIZE = 10_000
VERIFIED = "verified"  # the one version of a verified token's verdict


@dataclass(frozen=True)
class Identity:
    """Who a verified token speaks for."""

    issuer: str  # "seda" or "supabase"
    subject: str
    email: str | None = None
    device: str | None = None  # a seda access token's `sid`: the device it was issued to
    assurance: str | None = None  # a Supabase token's `aal` (aal2: a second factor was used)

    @property
    def rate_limit_key(self):
        return f"{self.issuer}:{self.subject}"


def issue_access_token(secret, user_id, device_id=None, jti=None, now=None):
    """`jti` and `now` given: the very token issued with them before (HS256 is deterministic)."""
    return _encode(secret, user_id, "access", ACCESS_TTL, jti or uuid.uuid4(), device_id, now)


def issue_refresh_token(secret, user_id, jti, now=None):
    return _encode(secret, user_id, "refresh", REFRESH_TTL, jti, now=now)


def _encode(secret, user_id, token_type, ttl, jti, device_id=None, now=None):
    now = (now or utcnow()).replace(microsecond=0)  # the claims hold whole seconds
    claims = {
        "iss": SEDA_ISSUER,
        "aud": SEDA_AUDIENCE,
        "sub": str(user_id),
        "typ": token_type,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(jti),
    }
    if device_id is not None:
        claims["sid"] = str(device_id)
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_seda_token(secret, token, expected_type):
    """Verify a seda token of `expected_type` and return its claims, else raise Unauthorized."""
    header = _header(token)
    if header.get("alg") != "HS256":
        raise Unauthorized()
    try:
        claims = _decode(token, secret, ["HS256"], SEDA_AUDIENCE, SEDA_ISSUER)
    except TokenExpired:
        if expected_type == "access":
            raise  # the client refreshes
        raise Unauthorized() from None  # a refresh token past its exp: nothing to refresh with, sign in
    if claims.get("typ") != expected_type:
        raise Unauthorized()
    return claims


class TokenVerifier:
    """Verifies access tokens of every configured issuer.

    A token verified once is remembered until it expires (at most `verified_cache_size` of them,
    least recently used first out): a client sends the same token with every request, and two
    PyJWT decodes were ~11 % of an authenticated request. A token's verdict cannot change while
    it is valid; bans and roles are read from the database on every request, never from here."""

    def __init__(
        self,
        jwt_secret,
        supabase_url=None,
        supabase_jwt_secret=None,
        jwks=None,
        clock=time.time,
        verified_cache_size=VERIFIED_CACHE_SIZE,
    ):
        self._jwt_secret = jwt_secret
        self._supabase_issuer = f"{supabase_url}/auth/v1" if supabase_url else None
        self._supabase_secret = supabase_jwt_secret
        self._jwks = jwks
        self._clock = clock
        # token -> (identity, expires at): a verdict has no version, only its token's expiry
        self._verified = VersionedCache("verified tokens", max_items=verified_cache_size, max_age=None)

    def verify_access(self, token):
        remembered = self._verified.get(token, VERIFIED)
        if remembered is not None and remembered[1] > self._clock():
            return remembered[0]
        identity, expires_at = self._verify(token)
        self._verified.put(token, VERIFIED, (identity, expires_at))
        return identity

    def _verify(self, token):
        issuer = _unverified_issuer(token)
        if issuer == SEDA_ISSUER:
            claims = decode_seda_token(self._jwt_secret, token, "access")
            return Identity("seda", claims["sub"], device=claims.get("sid")), claims["exp"] + LEEWAY_SECONDS
        if self._supabase_issuer and issuer == self._supabase_issuer:
            claims = self._verify_supabase(token)
            identity = Identity("supabase", claims["sub"], claims.get("email"), assurance=claims.get("aal"))
            return identity, claims["exp"] + LEEWAY_SECONDS
        raise Unauthorized()

    def _verify_supabase(self, token):
        alg = _header(token).get("alg")
        if alg == "HS256" and self._supabase_secret:
            key, algorithms = self._supabase_secret, ["HS256"]
        elif alg in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            signing_key = self._jwks.key_for(_header(token).get("kid"))
            if signing_key is None or signing_key.algorithm_name != alg:
                raise Unauthorized()
            key, algorithms = signing_key.key, [signing_key.algorithm_name]
        else:
            raise Unauthorized()
        claims = _decode(token, key, algorithms, SUPABASE_AUDIENCE, self._supabase_issuer)
        if not claims.get("sub"):
            raise Unauthorized()
        return claims


class JwksKeys:
    """Signing keys from a JWKS URL, kept at the generation of the fetch that found them (a key
    rotated out of the set is never used again), refetched on an unknown `kid` at most once a
    period."""

    def __init__(self, url, refetch_interval=300, timeout=5, clock=time.monotonic):
        self._client = jwt.PyJWKClient(url, cache_keys=False, cache_jwk_set=False, timeout=timeout)
        self._refetch_interval = refetch_interval
        self._clock = clock
        self._keys = VersionedCache("jwks keys", max_items=64, max_age=None)
        self._generation = 0
        self._fetched_at = None
        self._lock = threading.Lock()

    def key_for(self, kid):
        if not kid:
            return None
        with self._lock:
            if self._keys.get(kid, self._generation) is None and self._may_fetch():
                self._fetch()
            return self._keys.get(kid, self._generation)

    def _may_fetch(self):
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._refetch_interval

    def _fetch(self):
        self._fetched_at = self._clock()
        try:
            jwk_set = self._client.get_jwk_set(refresh=True)
        except jwt.PyJWKClientError:
            return
        self._generation += 1
        for key in jwk_set.keys:
            if key.key_id and key.algorithm_name in ASYMMETRIC_ALGORITHMS:
                self._keys.put(key.key_id, self._generation, key)


def _header(token):
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized() from exc
    if any(name in header for name in FORBIDDEN_HEADERS):
        raise Unauthorized()
    return header


def _unverified_issuer(token):
    _header(token)
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthorized() from exc
    return claims.get("iss")


def _decode(token, key, algorithms, audience, issuer):
    try:
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:  # PyJWT checks the signature first: a real token, too old
        raise TokenExpired() from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized() from exc
