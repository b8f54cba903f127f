"""The device check (#36, API.md §12): a seda access token names its device (`sid`), and every
authenticated request checks that the device is still signed in. Target: at most 1 ms added to
the median of an authenticated request at 1,000 requests/s per process.

One seda process (gunicorn, PostgreSQL, Redis), one user signed in through the API (a token with
a device) and the same user's token without one (as tokens from before devices: no check, the
baseline). Requests to `GET /api/v1/notifications/unread-count` (through Flask: the kept-answer
lane in front of it does not serve it) are started at `--rate` per second for `--seconds`,
alternating the two tokens, by bench/paced.js; printed: each token's median and p99.

    .venv/bin/python bench/device_check.py [--rate 1000] [--seconds 20]
"""

import argparse
import statistics
import sys
from pathlib import Path

import requests
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from paced import measure  # noqa: E402
from seeding import access_token, fresh_database, seed_users, server_env  # noqa: E402

from seda.auth.passwords import hash_password  # noqa: E402
from tests.helpers.servers import gunicorn_server  # noqa: E402

TARGET = "the device check adds <= 1 ms to the median at 1,000 requests/s"
PATH = "/api/v1/users/me"


def p99(values):
    return statistics.quantiles(values, n=100)[98]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--path", default=PATH, help=f"the authenticated GET (default {PATH})")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the seda worker (raw stacks into FILE)")
    args = parser.parse_args()
    with fresh_database("seda_bench_devices") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            [user_id] = seed_users(conn, 1)
            email = conn.execute(sa.text("SELECT email FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
            conn.execute(
                sa.text("UPDATE users SET password_hash = :hash WHERE id = :id"),
                {"hash": hash_password("bench password"), "id": user_id},
            )
        engine.dispose()
        env = server_env(url)
        with gunicorn_server(env) as base:
            login = requests.post(f"{base}/api/v1/auth/login", json={"email": email, "password": "bench password"})
            tokens = {"with a device": login.json()["accessToken"], "without (baseline)": access_token(user_id)}
            kinds = {kind: (args.path, {"Authorization": f"Bearer {token}"}) for kind, token in tokens.items()}
            results, generator_cpu, server_cpu = measure(base, kinds, args.rate, args.seconds, profile=args.profile)
    print(f"GET {args.path} at {args.rate} requests/s for {args.seconds:g} s, one process, tokens alternated:")
    for kind, timings in results.items():
        print(f"  {kind}: {len(timings)} requests, p50 {statistics.median(timings):.3f} ms, p99 {p99(timings):.2f} ms")
    added = statistics.median(results["with a device"]) - statistics.median(results["without (baseline)"])
    print(f"  added to the median by the device check: {added:+.3f} ms")
    print(
        f"  CPU over the run: seda {server_cpu / args.seconds:.0%} of a core,"
        f" the generator {generator_cpu / args.seconds:.0%}"
    )
    print(f"  target: {TARGET}")


if __name__ == "__main__":
    main()
