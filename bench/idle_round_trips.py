"""One loopback round trip to PostgreSQL and to Redis, back to back and after an idle gap.

The 100-member latency benchmark sends one message every 10 ms: between two sends every process
on the machine sleeps. A send of seda's makes round trips to Redis and PostgreSQL before its
broadcast (the contract stores a message before anyone is told of it); the bare server makes
none. This prints what one such round trip costs when the processes were asleep, against the
same round trip back to back, so that the latency benchmark's figures can be read against it.

    .venv/bin/python bench/idle_round_trips.py [--rounds 300] [--gap-ms 10]
"""

import argparse
import os
import time

import psycopg
import redis

POSTGRES = os.environ.get("BENCH_POSTGRES", "host=127.0.0.1 user=postgres dbname=test")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")


def timed(call, rounds, gap):
    times = []
    for _ in range(rounds):
        if gap:
            time.sleep(gap)
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return [times[int(len(times) * share)] for share in (0.5, 0.9, 0.99)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--gap-ms", type=float, default=10.0)
    args = parser.parse_args()
    with psycopg.connect(POSTGRES, autocommit=True) as postgres:
        cache = redis.Redis.from_url(REDIS)
        calls = {
            "PostgreSQL SELECT 1": lambda: postgres.execute("SELECT 1").fetchall(),
            "Redis GET": lambda: cache.get("x"),
        }
        for gap in (0.0, args.gap_ms / 1000):
            for name, call in calls.items():
                p50, p90, p99 = timed(call, args.rounds, gap)
                print(f"{name:20s} after {gap * 1000:4.0f} ms idle: p50 {p50:.3f}  p90 {p90:.3f}  p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
