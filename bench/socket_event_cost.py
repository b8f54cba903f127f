"""Server CPU of one cheap socket event (ping, typing_start): the socket's user kept between
events (chat's `ChatNamespace.load_user`, users/kept.py) next to the user loaded on every event (the
baseline, the code before), alternated in one run.

In process, through Flask-SocketIO's test client (its overhead is in both figures), with
PostgreSQL and Redis as in production (the Socket.IO message queue off: the test client
cannot use one).

    .venv/bin/python bench/socket_event_cost.py [--events 600] [--rounds 3]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from seeding import access_token, fresh_database, seed_room, seed_users, server_env  # noqa: E402


def per_event_loader():
    """The socket's user as it was loaded before: one query on every event."""
    from seda.extensions import db
    from seda.users.models import User

    def load(_namespace, user_id):
        return db.session.get(User, user_id)

    return load


def cpu_ms_per_event(sock, event, payload, count):
    started = time.process_time()
    for _ in range(count):
        ack = sock.emit(event, payload, namespace="/chat", callback=True)
        assert ack["ok"], ack
    sock.get_received("/chat")
    return (time.process_time() - started) * 1000 / count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with fresh_database("seda_bench_socket_events") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            users = seed_users(conn, 2)
            room = str(seed_room(conn, users, "Events"))
        engine.dispose()
        os.environ.update(server_env(url))
        from config import config_from_env
        from seda import create_app
        from seda.chat.events import ChatNamespace
        from seda.extensions import socketio

        config = config_from_env()
        config.SOCKETIO_MESSAGE_QUEUE = None
        app = create_app(config)
        loaders = {"seda (user kept)": ChatNamespace.load_user, "baseline (per event)": per_event_loader()}
        sock = socketio.test_client(app, namespace="/chat", auth={"token": access_token(users[1])})
        assert sock.emit("join_room", room, namespace="/chat", callback=True)["ok"]
        figures = {(name, event): [] for name in loaders for event in ("ping", "typing_start")}
        for _ in range(args.rounds):
            for name, loader in loaders.items():
                ChatNamespace.load_user = loader
                for event, payload in (("ping", None), ("typing_start", room)):
                    figures[(name, event)].append(cpu_ms_per_event(sock, event, payload, args.events))
        sock.disconnect("/chat")
    print(f"server CPU per socket event, median of {args.rounds} rounds of {args.events}:")
    for (name, event), values in figures.items():
        print(f"  {name:28s} {event:13s} {sorted(values)[len(values) // 2]:.3f} ms")


if __name__ == "__main__":
    main()
