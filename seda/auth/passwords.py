"""Argon2id password hashing at OWASP's minimum profile, off the gevent hub.

An Argon2 hash is ~20-40 ms of pure CPU. Inside a gevent process that would stall every other
greenlet (every socket) for that long, so under gevent it runs in the hub's native thread
pool; argon2-cffi releases the GIL while hashing.
"""

import secrets

import gevent
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from gevent import monkey

# OWASP Password Storage Cheat Sheet: Argon2id, m = 19 MiB, t = 2, p = 1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
_dummy_hash = None


def _off_hub(function, *args):
    if monkey.is_module_patched("threading"):
        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)


def hash_password(password):
    return _off_hub(HASHER.hash, password)


def verify_password(password_hash, password):
    """True when `password` matches; a missing hash still costs one verification."""
    return _off_hub(_matches, password_hash or _dummy(), password) and bool(password_hash)


def _matches(password_hash, password):
    # A mismatch is answered in the thread that found it: an exception raised in gevent's thread
    # pool is printed to stderr as a traceback (a wrong password wrote one, outside the JSON log)
    # before the caller sees it.
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    return HASHER.check_needs_rehash(password_hash)


def _dummy():
    """A real hash of a random password: unknown emails cost as much as wrong passwords."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = HASHER.hash(secrets.token_urlsafe(16))
    return _dummy_hash
