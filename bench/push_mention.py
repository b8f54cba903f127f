"""Web Push at scale (#37): a message mentioning 500 offline members who each have a push
subscription, against the same send without mentions; then a stream of 50 single mentions a
second; then the mentions again while the push service hangs (last: its backlog stays behind).

One seda process (gunicorn, gevent) with PostgreSQL and Redis, and one Celery worker. The push
service is bench/push_service.js over HTTPS on 127.0.0.2 (a trustme CA the server is told to
trust), answering each POST after 50 ms; the safe fetcher is allowed 127.0.0.2 as a test network,
which production refuses, so seda runs with APP_ENV=development here. One more mentioned member
is online (chat_load.js idle mode): their `notification_created` times how fast notifications go
while pushes are slow. The sender (chat_load.js acks mode) sends one message at a time, alternating
500 mentions and the same text with every `@` replaced by `-` (the baseline, same run).

Targets: every push of a mention POSTed within 10 s of the send; the mention's ack within x1.2 of
the plain send's; with the push service hanging, acks still within x1.2 and notifications as fast;
at least 200 pushes/s from the one worker; at 50 notifications/s, each one's push within 2 s.

    .venv/bin/python bench/push_mention.py [--rounds 4]
"""

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from chat_sockets import Generator  # noqa: E402
from procs import ensure_node_client, free_port  # noqa: E402
from seeding import access_token, fresh_database, seed_room, seed_users, server_env  # noqa: E402

from tests.helpers.servers import celery_worker, gunicorn_server  # noqa: E402

OFFLINE = 500
PAUSE_SECONDS = 6
STREAM = 250
STREAM_PAUSE_MS = 12
SERVICE_IP = "127.0.0.2"


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def seed(url, port):
    """1,002 users in one room: the sender, one online listener, 500 offline with a subscription each."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        users = seed_users(conn, OFFLINE + 2)
        room = str(seed_room(conn, users, "Listening party"))
        conn.execute(
            sa.text("UPDATE users SET username = :name WHERE id = :id"),
            [{"name": f"m{n:04d}", "id": user} for n, user in enumerate(users)],
        )
        conn.execute(
            sa.text(
                "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at, failures_in_a_row)"
                " VALUES (:id, :user, :endpoint, :p256dh, :auth, now(), 0)"
            ),
            [
                {
                    "id": uuid.uuid4(),
                    "user": user,
                    "endpoint": f"https://{SERVICE_IP}:{port}/push/m{n:04d}",
                    "p256dh": b64url(point),
                    "auth": b64url(os.urandom(16)),
                }
                for n, user in enumerate(users)
                if n >= 2
            ],
        )
    engine.dispose()
    return users, room


def push_service(folder, port):
    ca = trustme.CA()
    cert = ca.issue_cert(SERVICE_IP)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    plan = {"port": port, "key": str(folder / "key.pem"), "cert": str(folder / "cert.pem"), "delayMs": 50}
    service = Generator(plan, timeout=900, script="push_service.js")
    assert service.next_event()["event"] == "ready"
    return service, str(folder / "ca.pem")


def command(generator, line):
    generator.proc.stdin.write(line + "\n")
    generator.proc.stdin.flush()


def ask(generator, line, event):
    """Send `line` to a Node helper and read its answer, the JSON line of `event`."""
    command(generator, line)
    while True:
        answer = generator.next_event()
        if answer["event"] == event:
            return answer


def arrivals(service):
    return ask(service, "report", "report")["arrivals"]


def notified(listener):
    return ask(listener, "report", "notifications")["notified"]


def send_rounds(base, token, room, texts, rounds, pause_ms):
    sender = Generator(
        {
            "urls": [base],
            "tokens": [token],
            "rooms": [room],
            "mode": "acks",
            "texts": texts,
            "rounds": rounds,
            "pauseMs": pause_ms,
        },
        timeout=900,
    )
    assert sender.next_event()["event"] == "ready"
    timed = sender.next_event()["acks"]
    sender.close()
    return timed


def mention_phase(base, token, room, texts, rounds, service, listener):
    """Acks of both texts (the first round warms up), and per mention: pushes received, how long
    until the last, and the online member's notification_created delay."""
    timed = send_rounds(base, token, room, texts, rounds + 1, PAUSE_SECONDS * 1000)[len(texts) :]
    acks = {k: [ms for kind, ms, _id, _at in timed if kind == k] for k in (0, 1)}
    seen, got = arrivals(service), notified(listener)
    rows = []
    mention_sends = [(message_id, at) for kind, _ms, message_id, at in timed if kind == 1]
    for index, (message_id, sent_at) in enumerate(mention_sends):
        until = mention_sends[index + 1][1] if index + 1 < len(mention_sends) else float("inf")
        times = sorted(at for _token, at in seen if sent_at <= at < until)
        note = got.get(message_id, {}).get("last")
        rows.append(
            {
                "pushes": len(times),
                "last": times[-1] - sent_at if times else None,
                "rate": (len(times) - 1) / ((times[-1] - times[0]) / 1000) if len(times) > 1 else None,
                "notification": None if note is None else note - sent_at,
            }
        )
    return acks, rows


def report_mentions(title, acks, rows):
    plain, mentions = statistics.median(acks[0]), statistics.median(acks[1])
    print(title)
    print(f"  ack, no mentions (baseline): median {plain:.1f} ms; {OFFLINE + 1} mentions: median {mentions:.1f} ms")
    print(f"  ratio x{mentions / plain:.2f} (target <= x1.2); mention acks {[round(a, 1) for a in acks[1]]}")
    print(f"  online member's notification_created after the send: {[_ms(r['notification']) for r in rows]} ms")
    print(f"  pushes POSTed per mention: {[r['pushes'] for r in rows]} (of {OFFLINE})")
    print(f"  send -> last push POSTed: {[_ms(r['last']) for r in rows]} ms (target <= 10,000)")
    print(f"  pushes/s (first to last POST): {[_ms(r['rate']) for r in rows]} (target >= 200)")


def _ms(value):
    return None if value is None else round(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    ensure_node_client()
    port = free_port()
    vapid = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    names = " ".join(f"@m{n:04d}" for n in range(1, OFFLINE + 2))
    texts = [names.replace("@", "-"), names]
    with tempfile.TemporaryDirectory() as folder, fresh_database("seda_bench_push") as url:
        service, ca_file = push_service(Path(folder), port)
        users, room = seed(url, port)
        env = server_env(
            url,
            APP_ENV="development",
            VAPID_PRIVATE_KEY=vapid.decode(),
            CRAWLER_ALLOWED_PRIVATE_NETWORKS=f"{SERVICE_IP}/32",
            CRAWLER_CA_BUNDLE=ca_file,
        )
        with gunicorn_server(env) as server, celery_worker(env):
            base = str(server)
            listener = Generator(
                {"urls": [base], "tokens": [access_token(users[1])], "rooms": [room], "mode": "idle"}, timeout=900
            )
            assert listener.next_event()["event"] == "ready"
            token = access_token(users[0])
            acks, rows = mention_phase(base, token, room, texts, args.rounds, service, listener)
            report_mentions(f"push service answering in 50 ms, {args.rounds} sends of each", acks, rows)
            stream = [f"@m{n:04d} now" for n in range(2, STREAM + 2)]
            timed = send_rounds(base, token, room, stream, 1, STREAM_PAUSE_MS)
            time.sleep(5)  # the last pushes are still on their way
            seen = dict(arrivals(service))
            delays = [seen.get(f"m{n + 2:04d}", float("inf")) - at for n, (_k, _ms, _id, at) in enumerate(timed)]
            rate = len(timed) / ((timed[-1][3] - timed[0][3]) / 1000)
            print(f"a stream of {STREAM} single mentions at {rate:.0f}/s (target 50/s)")
            print(
                f"  send -> its push POSTed: p50 {statistics.median(delays):.0f} ms,"
                f" p99 {sorted(delays)[int(len(delays) * 0.99) - 1]:.0f} ms, max {max(delays):.0f} ms"
                f" (target <= 2,000 ms); {sum(d != float('inf') for d in delays)} of {len(delays)} arrived"
            )
            command(service, "hang")
            acks, rows = mention_phase(base, token, room, texts, args.rounds, service, listener)
            report_mentions("push service hanging (never answers)", acks, rows)
            listener.close()
        service.close()


if __name__ == "__main__":
    main()
