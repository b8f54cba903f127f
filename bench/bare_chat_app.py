"""The baseline for the chat benchmarks: bare python-socketio on seda's websocket layer.

Speaks the slice of seda's `/chat` protocol the load generator uses (join_room, send_message →
message_created to the room, acks) with no auth, no database and no Redis: what seda's figures
are measured against.
"""

import itertools
import os
import uuid
from datetime import UTC, datetime

import gevent
import socketio
from gevent.lock import Semaphore

sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*")
app = socketio.WSGIApp(sio)
_seq = itertools.count(1)
# BARE_STORE_MS > 0 holds one lock for that long before each broadcast, like seda's store under
# its room row lock: broadcasts then come one at a time instead of back to back (a diagnostic).
STORE_SECONDS = float(os.environ.get("BARE_STORE_MS", "0")) / 1000
_store_lock = Semaphore()
# BARE_FLOOR_DATABASE_URL (with BARE_FLOOR_REDIS_URL) makes each send do what any server that
# stores before it broadcasts must: count the sender's limit on Redis (a fixed window's INCR and
# EXPIRE, one round trip) and insert the message with a synchronous commit (one autocommitted
# INSERT, the other), then broadcast. The floor under seda's latency on this machine
# (bench/chat_sockets.py --only latency).
FLOOR_DATABASE_URL = os.environ.get("BARE_FLOOR_DATABASE_URL")
_floor = None
USER = {
    "id": str(uuid.uuid4()),
    "displayName": "Bench user",
    "avatarUrl": None,
    "role": "USER",
    "artistName": None,
    "verified": False,
}


@sio.on("join_room", namespace="/chat")
def join_room(sid, room_id):
    sio.enter_room(sid, f"room:{room_id}", namespace="/chat")
    return {"ok": True, "roomId": room_id, "seq": 0}


@sio.on("send_message", namespace="/chat")
def send_message(sid, data):
    if FLOOR_DATABASE_URL:
        _round_trips_of_a_store(sid, data)
    if STORE_SECONDS:
        with _store_lock:
            gevent.sleep(STORE_SECONDS)
            return _broadcast(data)
    return _broadcast(data)


def _round_trips_of_a_store(sid, data):
    global _floor
    if _floor is None:
        import psycopg
        import redis

        database = psycopg.connect(FLOOR_DATABASE_URL, autocommit=True)
        database.execute("CREATE TABLE IF NOT EXISTS floor_messages (id bigserial PRIMARY KEY, text text)")
        _floor = (redis.Redis.from_url(os.environ["BARE_FLOOR_REDIS_URL"]), database, Semaphore())
    limits, database, connection_in_use = _floor
    window = limits.pipeline(transaction=False)  # a fixed window's count: one round trip
    window.incr(f"floor:{sid}").expire(f"floor:{sid}", 10)
    window.execute()
    with connection_in_use:
        database.execute("INSERT INTO floor_messages (text) VALUES (%s)", (data["text"],))


def _broadcast(data):
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message = {
        "id": str(uuid.uuid4()),
        "roomId": data["roomId"],
        "userId": USER["id"],
        "type": "TEXT",
        "text": data["text"],
        "trackRef": None,
        "parentId": None,
        "clientMessageId": None,
        "seq": next(_seq),
        "replyCount": 0,
        "createdAt": now,
        "updatedAt": now,
        "editedAt": None,
        "user": USER,
        "reactions": [],
    }
    sio.emit("message_created", message, to=f"room:{data['roomId']}", namespace="/chat")
    return {"ok": True, "message": message}
