"""A message that mentions 500 members of a 1,000-member room (#16): its ack next to the same
send without mentions, and the time until all 500 notifications are stored and pushed.

One seda process in its production shape (gunicorn, PostgreSQL, Redis) and a Celery worker. The
500 mentioned members hold sockets joined to the room (bench/chat_load.js in idle mode counts the
`notification_created` frames per message); the sender (chat_load.js in acks mode: a python-socketio
sender added ~15 ms of its own to the mention ack, reading the larger frame) sends one message at a time and times
its ack, alternating a text of 500 mentions (3,499 characters) and the same text with every `@`
replaced by `-` (same length, no mentions): that plain send, measured in the same run, is the
baseline. Between sends the server goes quiet, so one send's fan-out and notifications never
delay the next one's ack.

    .venv/bin/python bench/mentions.py [--rounds 12]
"""

import argparse
import statistics
import sys
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from chat_sockets import Generator  # noqa: E402
from procs import ensure_node_client  # noqa: E402
from seeding import access_token, fresh_database, seed_room, seed_users, server_env  # noqa: E402

from tests.helpers.servers import celery_worker, gunicorn_server  # noqa: E402

MENTIONED = 500
PAUSE_SECONDS = 2.5


def seed(url):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        users = seed_users(conn, 1000)
        room = str(seed_room(conn, users, "Listening party"))
        # Short names, so that 500 mentions fit in one message (4,000 characters at most).
        conn.execute(
            sa.text("UPDATE users SET username = :name WHERE id = :id"),
            [{"name": f"m{n:04d}", "id": user} for n, user in enumerate(users)],
        )
    engine.dispose()
    return users, room


def notifications_seen(listeners):
    listeners.proc.stdin.write("report\n")
    listeners.proc.stdin.flush()
    while True:
        event = listeners.next_event()
        if event["event"] == "notifications":
            return event["notified"]


def stored_counts(url, message_ids):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT message_id, count(*) FROM notifications WHERE message_id = ANY(:ids) GROUP BY message_id"),
            {"ids": list(message_ids)},
        ).all()
    engine.dispose()
    return {str(message_id): count for message_id, count in rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    ensure_node_client()
    names = " ".join(f"@m{n:04d}" for n in range(1, MENTIONED + 1))
    texts = {"plain": names.replace("@", "-"), "mentions": names}
    with fresh_database("seda_bench_mentions") as url:
        users, room = seed(url)
        env = server_env(url)
        with gunicorn_server(env) as server, celery_worker(env):
            base = str(server)
            listeners = Generator(
                {
                    "urls": [base],
                    "tokens": [access_token(u) for u in users[1 : MENTIONED + 1]],
                    "rooms": [room] * MENTIONED,
                    "mode": "idle",
                }
            )
            assert listeners.next_event()["event"] == "ready"
            sender = Generator(
                {
                    "urls": [base],
                    "tokens": [access_token(users[0])],
                    "rooms": [room],
                    "mode": "acks",
                    "texts": list(texts.values()),
                    "rounds": args.rounds + 1,  # the first round warms up (the worker's first task)
                    "pauseMs": PAUSE_SECONDS * 1000,
                }
            )
            assert sender.next_event()["event"] == "ready"
            timed = sender.next_event()["acks"][len(texts) :]
            sender.close()
            acks = {kind: [ms for k, ms, _id, _at in timed if k == index] for index, kind in enumerate(texts)}
            sent_at = {message_id: at for k, _ms, message_id, at in timed if k == 1}
            seen = notifications_seen(listeners)
            stored = stored_counts(url, sent_at)
            listeners.close()
    plain, mentions = statistics.median(acks["plain"]), statistics.median(acks["mentions"])
    pushed = [seen.get(message_id, {"count": 0, "last": float("inf")}) for message_id in sent_at]
    all_in = [entry["last"] - sent_at[message_id] for message_id, entry in zip(sent_at, pushed, strict=True)]
    complete = sum(1 for entry in pushed if entry["count"] == MENTIONED)
    print(f"mentions: {args.rounds} sends each into a 1,000-member room, one at a time")
    print(f"  ack, no mentions (baseline): median {plain:.1f} ms, max {max(acks['plain']):.1f} ms")
    print(f"  ack, {MENTIONED} mentions:           median {mentions:.1f} ms, max {max(acks['mentions']):.1f} ms")
    print(f"  ratio: x{mentions / plain:.2f} (target <= x1.2)")
    print(f"  notifications stored: {sorted(set(stored.values()))} per message (want [{MENTIONED}])")
    print(f"  messages whose {MENTIONED} notifications all arrived: {complete} of {len(sent_at)}")
    print(
        f"  send -> last of {MENTIONED} notifications received: median {statistics.median(all_in):.0f} ms,"
        f" max {max(all_in):.0f} ms (target <= 2,000 ms)"
    )


if __name__ == "__main__":
    main()
