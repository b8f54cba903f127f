"""Slow readers: sockets that stop reading while a busy room keeps talking, then resume.

One seda process (gunicorn, PostgreSQL, Redis). A room gets `--rate` messages/s of 3 KB for
`--seconds`; 10 raw websocket clients with 4 KiB receive buffers join and stop reading; 20
python-socketio listeners keep reading and time every delivery (the text carries the send
time). Then the slow ones resume. The sender and the listeners run in processes of their own
(4 of 5 listeners each): sharing this one, they fell behind the room and their p99 was the
generator's, not the server's. Measured: frames that do not parse (corrupt streams), whether
the slow sockets were disconnected by the queue limit, the server's RSS growth per slow
socket, and the listeners' p50/p99 delivery latency throughout.

    .venv/bin/python bench/slow_readers.py [--seconds 90] [--rate 50]
"""

import argparse
import json
import multiprocessing
import socket
import sys
import time
from pathlib import Path

import socketio
import sqlalchemy as sa
import websocket

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from chat_sockets import seda_servers  # noqa: E402
from procs import rss_kib  # noqa: E402
from seeding import access_token, fresh_database, seed_room, seed_users  # noqa: E402

TARGETS = "0 corrupt streams, slow sockets cut by the queue limit, <= 1 MiB per slow socket, others' p99 <= 50 ms"
SLOW, LISTENERS, LISTENER_PROCESSES = 10, 20, 4


class StalledReader:
    def __init__(self, base, token, room_id):
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=10, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
        self.ws.recv()
        self.ws.send("40/chat," + json.dumps({"token": token}))
        self.ws.recv()
        self.ws.send(f'42/chat,1["join_room","{room_id}"]')
        while not self.ws.recv().startswith("43/chat,1"):
            pass

    def resume(self):
        """Read until the server closes or goes quiet; (frames, corrupt frames, closed)."""
        frames = corrupt = 0
        self.ws.settimeout(3)
        while True:
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                return frames, corrupt, False
            except (websocket.WebSocketException, ConnectionError, OSError):
                return frames, corrupt, True
            if frame == "":
                return frames, corrupt, True
            frames += 1
            if frame.startswith("42/chat,"):
                try:
                    json.loads(frame[len("42/chat,") :])
                except ValueError:
                    corrupt += 1
            elif frame not in ("2",) and not frame.startswith("43/chat,"):
                corrupt += 1


class Listener:
    def __init__(self, base, token, room_id):
        self.latencies = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("message_created", self.received, namespace="/chat")
        self.client.connect(base, namespaces=["/chat"], auth={"token": token}, transports=["websocket"])
        self.client.call("join_room", room_id, namespace="/chat", timeout=10)

    def received(self, message):
        sent = float(message["text"].split("|", 1)[0])
        self.latencies.append((time.time() - sent) * 1000)


def listen(base, tokens, room_id, ready, stop, results):
    """A listener process: its clients join, read until `stop`, then report every latency."""
    listeners = [Listener(base, token, room_id) for token in tokens]
    ready.release()
    stop.wait(3600)
    for listener in listeners:
        listener.client.disconnect()
    results.put([value for listener in listeners for value in listener.latencies])


def send(base, token, room_id, rate, seconds, results):
    """The sender process: `rate` messages of 3 KB a second for `seconds`; reports (sent, acked)."""
    sender = socketio.Client(reconnection=False)
    sender.connect(base, namespaces=["/chat"], auth={"token": token}, transports=["websocket"])
    sender.call("join_room", room_id, namespace="/chat", timeout=10)
    padding, sent, acks = "x" * 3000, 0, []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        tick = time.monotonic()
        payload = {"roomId": room_id, "text": f"{time.time()}|{padding}"}
        sender.emit("send_message", payload, namespace="/chat", callback=lambda ack: acks.append(ack["ok"]))
        sent += 1
        time.sleep(max(0.0, 1 / rate - (time.monotonic() - tick)))
    time.sleep(2)
    sender.disconnect()
    results.put((sent, sum(acks)))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--rate", type=int, default=50)
    args = parser.parse_args()
    with fresh_database("seda_bench_slow") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            users = seed_users(conn, 1 + SLOW + LISTENERS)
            room = str(seed_room(conn, users, "Slow readers"))
        engine.dispose()
        tokens = [access_token(u) for u in users]
        spawn = multiprocessing.get_context("spawn")
        ready, stop, results = spawn.Semaphore(0), spawn.Event(), spawn.Queue()
        with seda_servers(url) as (urls, pids):
            base = urls[0]
            listening = tokens[1 + SLOW :]
            groups = [listening[i::LISTENER_PROCESSES] for i in range(LISTENER_PROCESSES)]
            listeners = [spawn.Process(target=listen, args=(base, g, room, ready, stop, results)) for g in groups]
            for process in listeners:
                process.start()
            for _ in listeners:
                if not ready.acquire(timeout=60):
                    raise SystemExit("a listener process did not join the room within 60 s")
            rss_before = rss_kib(pids[0])
            slow = [StalledReader(base, t, room) for t in tokens[1 : 1 + SLOW]]
            sender_results = spawn.Queue()
            sender = spawn.Process(target=send, args=(base, tokens[0], room, args.rate, args.seconds, sender_results))
            sender.start()
            peak_rss = rss_before
            while sender.is_alive():
                peak_rss = max(peak_rss, rss_kib(pids[0]))
                sender.join(1)
            sent, acked = sender_results.get(timeout=30)
            resumed = [reader.resume() for reader in slow]
            stop.set()
            latencies = [value for _ in listeners for value in results.get(timeout=60)]
            for process in listeners:
                process.join(30)
    failed = sent - acked
    corrupt = sum(c for _f, c, _closed in resumed)
    cut = sum(1 for _f, _c, closed in resumed if closed)
    per_slow = (peak_rss - rss_before) / SLOW / 1024
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(f"slow readers: {args.rate} msg/s of 3 KB for {args.seconds} s, {SLOW} slow, {LISTENERS} listening")
    print(f"  targets: {TARGETS}")
    print(
        f"  sent {sent} ({failed} failed); slow sockets cut off {cut}/{SLOW}, corrupt frames {corrupt}, "
        f"frames they got {[f for f, _c, _x in resumed]}; server RSS {rss_before / 1024:.0f} -> "
        f"{peak_rss / 1024:.0f} MiB ({per_slow:.2f} MiB per slow socket at most); listeners got "
        f"{len(latencies)} of {sent * LISTENERS}, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    met = corrupt == 0 and cut == SLOW and per_slow <= 1 and p99 is not None and p99 <= 50
    print(f"  [{'met' if met else 'MISSED'}]")


if __name__ == "__main__":
    main()
