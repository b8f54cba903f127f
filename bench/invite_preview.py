"""The public invite preview (#37, API.md §13): `GET /invites/{code}` shows anyone the room, who
is online, what it plays now and who invited. Target: p95 under 20 ms at 200 requests/s on the
2-core machine.

One seda process (gunicorn with gevent, PostgreSQL, Redis); a public room of 200 members whose
listening session plays a track, and an invite link of its owner. Anonymous requests are started
at `--rate` per second for `--seconds`, alternating the preview with `GET /api/v1/health/live`
(the same stack without the preview's work: the baseline of the same run), by
bench/paced.js; printed: each one's p50 and p95.

    .venv/bin/python bench/invite_preview.py [--rate 200] [--seconds 20]
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
from seeding import access_token, fresh_database, seed_room, seed_users, server_env  # noqa: E402

from tests.helpers.chat import TRACK  # noqa: E402
from tests.helpers.servers import gunicorn_server  # noqa: E402

TARGET = "p95 < 20 ms at 200 requests/s"


def pct(values, n):
    return statistics.quantiles(values, n=100)[n - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--profile", metavar="FILE", help="py-spy the seda worker (raw stacks into FILE)")
    args = parser.parse_args()
    with fresh_database("seda_bench_invites") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            members = seed_users(conn, 200)
            room = seed_room(conn, members, name="Preview bench")
        engine.dispose()
        env = server_env(url, RATE_LIMIT_ANONYMOUS="10000000/minute", RATE_LIMIT_INVITES="1000/hour")
        with gunicorn_server(env) as base:
            owner = {"Authorization": f"Bearer {access_token(members[0])}"}
            api = f"{base}/api/v1/chat/rooms/{room}"
            assert requests.post(f"{api}/session", headers=owner, timeout=10).status_code == 201
            queued = requests.post(f"{api}/session/queue", json={"trackRef": TRACK}, headers=owner, timeout=10)
            assert queued.status_code == 201, queued.text
            code = requests.post(f"{api}/invites", json={}, headers=owner, timeout=10).json()["code"]
            paths = {"preview": f"/api/v1/invites/{code}", "health (baseline)": "/api/v1/health/live"}
            shown = requests.get(f"{base}{paths['preview']}", timeout=10).json()
            assert shown["nowPlaying"] is not None and shown["room"]["memberCount"] == 200
            kinds = {kind: (path, {}) for kind, path in paths.items()}
            results, generator_cpu, server_cpu = measure(base, kinds, args.rate, args.seconds, profile=args.profile)
    print(f"GET at {args.rate} requests/s for {args.seconds:g} s, one process, anonymous, alternated:")
    for kind, timings in results.items():
        print(
            f"  {kind}: {len(timings)} requests, p50 {statistics.median(timings):.2f} ms, p95 {pct(timings, 95):.2f} ms"
        )
    print(
        f"  CPU over the run: seda {server_cpu / args.seconds:.0%} of a core,"
        f" the generator {generator_cpu / args.seconds:.0%}"
    )
    print(f"  target: {TARGET}")


if __name__ == "__main__":
    main()
