"""Argon2id cost, and what it does to the other greenlets of a gevent process.

Measures seda's hasher (m=19456 KiB, t=2, p=1): the time of one hash and one verify, then,
while a heartbeat greenlet ticks every 5 ms, the worst heartbeat delay during 20 hashes run
(a) inline on the hub, the baseline, and (b) in gevent's native thread pool, as seda does.

    .venv/bin/python bench/password_hashing.py
"""

from gevent import monkey

monkey.patch_all()

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from seda.auth.passwords import HASHER, hash_password  # noqa: E402

ROUNDS = 20


def timed(function, *args):
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def worst_heartbeat_delay(hash_fn):
    delays, running = [], [True]

    def heartbeat():
        while running[0]:
            expected = time.perf_counter() + 0.005
            gevent.sleep(0.005)
            delays.append(time.perf_counter() - expected)

    beat = gevent.spawn(heartbeat)
    gevent.sleep(0.05)
    hashers = [gevent.spawn(hash_fn, "correct horse battery") for _ in range(ROUNDS)]
    gevent.joinall(hashers)
    running[0] = False
    beat.join()
    return max(delays) * 1000, statistics.median(delays) * 1000


def main():
    stored = HASHER.hash("correct horse battery")
    hash_ms = statistics.median(timed(HASHER.hash, "correct horse battery") for _ in range(ROUNDS)) * 1000
    verify_ms = statistics.median(timed(HASHER.verify, stored, "correct horse battery") for _ in range(ROUNDS)) * 1000
    print(f"argon2id m=19456 t=2 p=1: hash {hash_ms:.1f} ms, verify {verify_ms:.1f} ms (median of {ROUNDS})")
    inline_max, inline_med = worst_heartbeat_delay(HASHER.hash)
    pool_max, pool_med = worst_heartbeat_delay(hash_password)
    print(
        f"heartbeat delay during {ROUNDS} concurrent hashes: inline on the hub (baseline) "
        f"max {inline_max:.1f} ms, median {inline_med:.2f} ms"
    )
    print(
        f"heartbeat delay during {ROUNDS} concurrent hashes: gevent thread pool (seda)  "
        f"max {pool_max:.1f} ms, median {pool_med:.2f} ms  (x{pool_max / inline_max:.2f} of baseline)"
    )


if __name__ == "__main__":
    main()
