"""A data export of a heavy account (#36, API.md §12): 100,000 messages by one user over 100
rooms (a third with reactions), built as the task builds it. Targets: READY within 2 minutes
on this 2-core machine, and the building process grows by less than 200 MiB (the zip is
streamed, never held). Printed: the build's time, the process's peak RSS growth, the zip's size
and the messages it holds. Baseline: the same user's messages read and encoded to JSON alone,
with no zip (what building cannot go below), in the same run.

    .venv/bin/python bench/export_build.py [--messages 100000]
"""

import argparse
import io
import json
import os
import resource
import sys
import time
import zipfile
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from seeding import fresh_database, seed_users, server_env  # noqa: E402

SEED_SQL = """
INSERT INTO rooms (id, name, type, slow_mode_seconds, last_seq, history_revision, member_count, created_at, updated_at)
SELECT gen_random_uuid(), 'Room ' || n, 'PUBLIC', 0, :per_room, 0, 1, now(), now() FROM generate_series(1, 100) n;
INSERT INTO room_memberships (id, room_id, user_id, role, last_read_seq, joined_at)
SELECT gen_random_uuid(), r.id, :user, 'MEMBER', 0, now() FROM rooms r;
INSERT INTO messages (id, room_id, user_id, seq, type, text, reply_count, mentions, created_at, updated_at)
SELECT gen_random_uuid(), r.id, :user, s, 'TEXT', 'message ' || s || ', a few words of chat about the record', 0,
       '[]', now() - make_interval(secs => (:per_room - s)), now() - make_interval(secs => (:per_room - s))
FROM rooms r CROSS JOIN generate_series(1, :per_room) s;
INSERT INTO reactions (id, message_id, user_id, emoji, created_at)
SELECT gen_random_uuid(), m.id, :user, '🔥', now() FROM messages m WHERE m.seq % 3 = 0;
ANALYZE
"""


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    with fresh_database("seda_bench_export") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            [user_id] = seed_users(conn, 1)
            for statement in SEED_SQL.split(";\n"):
                conn.execute(sa.text(statement), {"user": user_id, "per_room": args.messages // 100})
        engine.dispose()
        os.environ.update(server_env(url, EXPORT_DIR=f"/tmp/seda-bench-exports-{os.getpid()}"))
        from seda import create_app
        from seda.exports import services
        from seda.exports.models import DataExport
        from seda.extensions import db

        app = create_app()
        with app.app_context():
            started = time.perf_counter()
            encoded = sum(len(json.dumps(row._asdict(), default=str)) for row in _messages(db, user_id))
            baseline = time.perf_counter() - started
            export = DataExport(user_id=user_id)
            db.session.add(export)
            db.session.commit()
            before = peak_rss_mib()
            started = time.perf_counter()
            services.build(export.id)
            built = time.perf_counter() - started
            grown = peak_rss_mib() - before
            export = db.session.get(DataExport, export.id)
            path = Path(app.config["EXPORT_DIR"]) / f"{export.id}.zip"
            with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
                exported = len(json.loads(archive.read("messages.json")))
            path.unlink()
    print(f"export of one user's {args.messages:,} messages (100 rooms, a third with a reaction), PostgreSQL:")
    size = export.size_bytes / 2**20
    print(f"  status {export.status.name}, {exported:,} messages in messages.json, zip {size:.1f} MiB")
    print(f"  built in {built:.1f} s; the process's peak RSS grew by {grown:.0f} MiB while building")
    print(
        f"  baseline: the messages read and encoded alone, no zip: {baseline:.1f} s ({encoded / 2**20:.0f} MiB of JSON)"
    )
    print("  targets: READY within 2 minutes; less than 200 MiB of growth")


def _messages(db, user_id):
    with db.engine.connect() as connection:
        query = sa.text("SELECT * FROM messages WHERE user_id = :user ORDER BY created_at, seq, id")
        yield from connection.execution_options(stream_results=True, yield_per=1000).execute(query, {"user": user_id})


if __name__ == "__main__":
    main()
