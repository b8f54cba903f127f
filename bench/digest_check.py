"""The email digest check (#37, API.md §13) finds who is due through an index. Target: under
100 ms with 1,000,000 notifications of which 1,000 are due.

A fresh PostgreSQL database: 1,000,000 notifications of 20,000 users, of which 1,000 (one each
for 1,000 users) are unread, in no digest and old enough; the rest were read or mailed already.
Printed: the candidate query of `seda.notifications.digests` (p50 and p99 over `--runs`) with
the partial index `ix_notifications_undigested_recipient`, and the same query in the same run with that
index dropped (the baseline), with the plan PostgreSQL chose for each.

    .venv/bin/python bench/digest_check.py [--runs 50]
"""

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from seeding import fresh_database, seed_users  # noqa: E402

from config import TestingConfig  # noqa: E402
from seda import create_app  # noqa: E402
from seda.extensions import db  # noqa: E402
from seda.notifications import digests  # noqa: E402

TOTAL, DUE, USERS = 1_000_000, 1_000, 20_000
INDEX = "ix_notifications_undigested_recipient"
TARGET = "under 100 ms with 1,000,000 notifications of which 1,000 are due"


def seed(conn, users):
    conn.execute(sa.text("CREATE TEMP TABLE bench_users (n int PRIMARY KEY, id uuid)"))
    conn.execute(sa.text("INSERT INTO bench_users VALUES (:n, :id)"), [{"n": n, "id": u} for n, u in enumerate(users)])
    # Read or mailed already: none of these is due.
    conn.execute(
        sa.text(
            "INSERT INTO notifications (id, recipient_id, type, dedupe_key, created_at, read_at, digested_at) "
            "SELECT gen_random_uuid(), u.id, 'MENTION', 'bench:' || g, now() - interval '2 days', "
            "CASE WHEN g % 2 = 0 THEN now() END, CASE WHEN g % 2 = 1 THEN now() END "
            "FROM generate_series(1, :count) g JOIN bench_users u ON u.n = g % :users"
        ),
        {"count": TOTAL - DUE, "users": len(users)},
    )
    conn.execute(
        sa.text(
            "INSERT INTO notifications (id, recipient_id, type, dedupe_key, created_at) "
            "SELECT gen_random_uuid(), u.id, 'MENTION', 'due:' || u.n, now() - interval '1 hour' "
            "FROM bench_users u WHERE u.n < :due"
        ),
        {"due": DUE},
    )
    conn.execute(sa.text("ANALYZE notifications"))


def timed(runs, old_enough):
    timings, found = [], None
    for _ in range(runs):
        started = time.perf_counter()
        found = digests.candidates(old_enough, None)
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return timings, found


def plan(old_enough):
    query = digests.candidate_query(old_enough, None)
    compiled = query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(sa.text(f"EXPLAIN {compiled}")).scalars().all()
    db.session.rollback()
    return next((row.strip() for row in rows if "Scan" in row), rows[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with fresh_database("seda_bench_digests") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            seed(conn, seed_users(conn, USERS))
        engine.dispose()
        app = create_app(TestingConfig({"DATABASE_URL": url, "LOG_LEVEL": "ERROR"}))
        old_enough = datetime.now(UTC) - timedelta(minutes=15)
        with app.app_context():
            results = {f"with {INDEX}": (timed(args.runs, old_enough), plan(old_enough))}
            db.session.execute(sa.text(f"DROP INDEX {INDEX}"))
            db.session.commit()
            results["without it (baseline)"] = (timed(args.runs, old_enough), plan(old_enough))
            db.engine.dispose()
    print(f"digest candidates among {TOTAL:,} notifications ({DUE:,} due), {args.runs} runs each:")
    for kind, ((timings, found), chosen) in results.items():
        p99 = statistics.quantiles(timings, n=100)[98]
        print(f"  {kind}: {len(found)} users, p50 {statistics.median(timings):.2f} ms, p99 {p99:.2f} ms")
        print(f"    plan: {chosen}")
    print(f"  target: {TARGET}")


if __name__ == "__main__":
    main()
