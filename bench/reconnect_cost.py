"""The server CPU one reconnecting client costs, the budget behind storm.py.

One client at a time (python-socketio over websocket) connects, joins a room and, on seda,
catches up with GET …/messages; the worker's CPU time over N clients is divided by N. The
baseline is bare python-socketio (bench/bare_chat_app.py) doing connect + join under the same
gunicorn worker, measured in the same run. A storm of 1,000 clients onto one process needs at
least 1,000 times seda's figure of CPU, so storm.py's 10 s target needs it under ~8 ms.

    .venv/bin/python bench/reconnect_cost.py [--clients 150]
"""

import argparse
import sys
import time
from pathlib import Path

import requests
import socketio
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from chat_sockets import bare_server, seda_servers  # noqa: E402
from procs import cpu_seconds  # noqa: E402
from seeding import access_token, fresh_database, seed_room, seed_users  # noqa: E402


def worker_pid(master_pid, timeout=10.0):
    """The gunicorn worker's pid (the master may still be forking it when the server answers)."""
    deadline = time.monotonic() + timeout
    while True:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        if children or time.monotonic() > deadline:
            return int(children[0])
        time.sleep(0.1)


def per_client(base, pid, tokens, room, catch_up):
    """(server CPU ms, wall ms) per client: connect, join, catch up, disconnect."""
    cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
    for token in tokens:
        client = socketio.Client()
        client.connect(base, namespaces=["/chat"], transports=["websocket"], auth={"token": token})
        ack = client.call("join_room", room, namespace="/chat", timeout=10)
        assert ack.get("ok"), ack
        if catch_up:
            page = requests.get(
                f"{base}/api/v1/chat/rooms/{room}/messages?limit=100",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert page.status_code == 200, page.text
        client.disconnect()
    count = len(tokens)
    return (cpu_seconds(pid) - cpu0) * 1000 / count, (time.perf_counter() - wall0) * 1000 / count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=150)
    args = parser.parse_args()
    with fresh_database("seda_bench_reconnect") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            users = seed_users(conn, args.clients)
            room = str(seed_room(conn, users, "Reconnect"))
        engine.dispose()
        tokens = [access_token(u) for u in users]
        with seda_servers(url) as (urls, pids):
            pid = worker_pid(pids[0])
            per_client(urls[0], pid, tokens[:10], room, catch_up=True)  # warm-up
            seda_cpu, seda_wall = per_client(urls[0], pid, tokens, room, catch_up=True)
            seda_no_get, _ = per_client(urls[0], pid, tokens, room, catch_up=False)
        with bare_server() as (urls, pids):
            pid = worker_pid(pids[0])
            per_client(urls[0], pid, tokens[:10], room, catch_up=False)
            bare_cpu, bare_wall = per_client(urls[0], pid, tokens, room, catch_up=False)
    print(f"reconnect cost, {args.clients} clients one at a time (server CPU per client):")
    print(f"  seda connect + join + catch-up GET: {seda_cpu:.1f} ms CPU ({seda_wall:.1f} ms wall)")
    print(f"  seda connect + join:                {seda_no_get:.1f} ms CPU")
    print(f"  bare python-socketio connect + join: {bare_cpu:.1f} ms CPU ({bare_wall:.1f} ms wall)")
    print(f"  ratio (connect + join): x{seda_no_get / bare_cpu:.1f}")
    print(f"  a 1,000-client storm onto one process needs >= {seda_cpu:.1f} s of its CPU")


if __name__ == "__main__":
    main()
