"""History under load: `GET …/messages?limit=50` with wrk, seda next to a bare Flask baseline.

Seeds PostgreSQL with 1,000,000 messages over 1,000 rooms (1,000 users, 11 members a room,
two reactions on every third message), starts seda as 2 gevent worker processes
(gunicorn.conf.py, WEB_CONCURRENCY=2) and drives it with wrk at 50 connections, each request
for the newest page of a random room. The baseline is a bare Flask app under the same gunicorn
settings returning the same 50-message JSON from memory. Also counts SQL statements per page.
seda's figure is measured after a warm-up in which the processes build and keep the pages
(chat/history.py); the warm-up's own rate is printed as well.

    .venv/bin/python bench/history_wrk.py [--messages 1000000] [--rooms 1000] [--seconds 15] [--warmup 40]

Needs PostgreSQL, Redis and wrk (Debian: apt-get install wrk).
"""

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from procs import cpu_seconds, free_port, port_open, stop_process, wait_until  # noqa: E402
from seeding import access_token, fresh_database, seed_users, server_env  # noqa: E402

from tests.helpers.servers import gunicorn_server  # noqa: E402

SEED_SQL = """
INSERT INTO rooms (id, name, type, slow_mode_seconds, last_seq, member_count, created_at, updated_at)
SELECT gen_random_uuid(), 'Room ' || r, 'PUBLIC', 0, :per_room, 11, now(), now() FROM generate_series(1, :rooms) r;

CREATE TEMP TABLE bench_rooms AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM rooms;
CREATE TEMP TABLE bench_users AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM users WHERE id <> :reader;

-- Each room: the reader plus 10 users.
INSERT INTO room_memberships (id, room_id, user_id, role, last_read_seq, joined_at)
SELECT gen_random_uuid(), r.id, :reader, 'MEMBER', 0, now() FROM bench_rooms r;
INSERT INTO room_memberships (id, room_id, user_id, role, last_read_seq, joined_at)
SELECT gen_random_uuid(), r.id, u.id, CASE WHEN k = 0 THEN 'OWNER' ELSE 'MEMBER' END, 0, now()
FROM bench_rooms r CROSS JOIN generate_series(0, 9) k
JOIN bench_users u ON u.n = ((r.n * 10 + k) % (SELECT count(*) FROM bench_users)) + 1;

INSERT INTO messages (id, room_id, user_id, seq, type, text, reply_count, created_at, updated_at)
SELECT gen_random_uuid(), r.id, u.id, s, 'TEXT', 'message ' || s || ' in room ' || r.n || ', a few words of chat',
       0, now() - make_interval(secs => (:per_room - s)), now() - make_interval(secs => (:per_room - s))
FROM bench_rooms r CROSS JOIN generate_series(1, :per_room) s
JOIN bench_users u ON u.n = ((r.n * 10 + s % 10) % (SELECT count(*) FROM bench_users)) + 1;

INSERT INTO reactions (id, message_id, user_id, emoji, created_at)
SELECT gen_random_uuid(), m.id, e.user_id, e.emoji, now()
FROM messages m
CROSS JOIN (VALUES (:reader, '🔥'), (:reader, '🎧')) AS e(user_id, emoji)
WHERE m.seq % 3 = 0;
ANALYZE;
"""

BASELINE_APP = """
from pathlib import Path
from flask import Flask, Response

body = Path({body_path!r}).read_bytes()
app = Flask("baseline")


@app.get("/api/v1/chat/rooms/<room_id>/messages")
def page(room_id):
    return Response(body, content_type="application/json")
"""

ME_SCRIPT = """
local headers = {{["Authorization"] = "Bearer {token}"}}
request = function()
  return wrk.format("GET", "/api/v1/users/me", headers)
end
"""

WRK_SCRIPT = """
local rooms = {{{rooms}}}
local headers = {{["Authorization"] = "Bearer {token}"}}
request = function()
  local room = rooms[math.random(#rooms)]
  return wrk.format("GET", "/api/v1/chat/rooms/" .. room .. "/messages?limit=50", headers)
end
"""


def seed(url, messages, rooms):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        users = seed_users(conn, 1000, artists=100)
        reader = users[0]
        for statement in filter(str.strip, SEED_SQL.split(";\n")):
            conn.execute(sa.text(statement), {"rooms": rooms, "per_room": messages // rooms, "reader": reader})
        room_ids = [str(r) for r in conn.execute(sa.text("SELECT id FROM rooms")).scalars()]
    engine.dispose()
    return reader, room_ids


def run_wrk(base, script, seconds, pids):
    cpu0 = sum(cpu_seconds(pid) for pid in pids)
    children0 = _children_cpu()
    started = time.monotonic()
    wrk = subprocess.Popen(
        ["wrk", "-t", "2", "-c", "50", "-d", f"{seconds}s", "--latency", "-s", script, base],
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = wrk.communicate(timeout=seconds + 60)
    wall = time.monotonic() - started
    server_cpu = (sum(cpu_seconds(pid) for pid in pids) - cpu0) / wall * 100
    generator_cpu = (_children_cpu() - children0) / wall * 100
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _latency(out, "50%")
    p99 = _latency(out, "99%")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "serverCpu": server_cpu,
        "generatorCpu": generator_cpu,
        "non2xx": int(errors.group(1)) if errors else 0,
        "raw": out,
    }


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _latency(out, label):
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def sql_per_page(url, token, room):
    from config import TestingConfig
    from seda import create_app
    from tests.helpers.queries import count_queries

    app = create_app(
        TestingConfig(
            {
                "DATABASE_URL": url,
                "JWT_SECRET": __import__("seeding").JWT_SECRET,
                "LOG_LEVEL": "ERROR",
                "RATE_LIMIT_DEFAULT": "1000000/minute",
            }
        )
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/chat/rooms/{room}/messages?limit=50"
    response = client.get(path, headers=headers)
    assert response.status_code == 200 and len(response.get_json()) == 50, response.get_data()[:300]
    with count_queries(app) as statements:
        client.get(path, headers=headers)
    return len(statements), response.get_data()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=40)
    args = parser.parse_args()
    with fresh_database() as url, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        started = time.monotonic()
        reader, rooms = seed(url, args.messages, args.rooms)
        print(f"seeded {args.messages:,} messages over {len(rooms):,} rooms in {time.monotonic() - started:.0f} s")
        token = access_token(reader)
        statements, body = sql_per_page(url, token, rooms[0])
        script = tmp / "history.lua"
        script.write_text(WRK_SCRIPT.format(rooms=", ".join(f'"{r}"' for r in rooms), token=token))
        me_script = tmp / "me.lua"
        me_script.write_text(ME_SCRIPT.format(token=token))

        with gunicorn_server(server_env(url, WEB_CONCURRENCY="2", LOG_LEVEL="ERROR")) as base:
            # Warm-up until each process keeps nearly all of the 1,000 rooms' pages (a random room
            # each time: ~3,500 requests a process ask for 97 % of them); its rate is the cold
            # figure, pages being built. A kept page is rebuilt once a minute (MAX_AGE_SECONDS),
            # which the measured window does not reach.
            cold = run_wrk(base, str(script), args.warmup, [base.process.pid])
            seda = run_wrk(base, str(script), args.seconds, [base.process.pid])
            # seda's floor: an authenticated request reading one row (GET /users/me)
            floor = run_wrk(base, str(me_script), args.seconds, [base.process.pid])

        (tmp / "page.json").write_bytes(body)
        (tmp / "baseline_app.py").write_text(BASELINE_APP.format(body_path=str(tmp / "page.json")))
        port = free_port()
        baseline = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-k",
                "gevent",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--no-control-socket",
                "--log-level",
                "warning",
                "baseline_app:app",
            ],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: port_open(port), 20)
            run_wrk(f"http://127.0.0.1:{port}", str(script), 3, [baseline.pid])
            bare = run_wrk(f"http://127.0.0.1:{port}", str(script), args.seconds, [baseline.pid])
        finally:
            stop_process(baseline)

    for name, r in (("seda", seda), ("baseline", bare), ("seda /me", floor), ("warm-up", cold)):
        print(
            f"{name:<9} {r['rps']:>8,.0f} req/s  p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  "
            f"non-2xx {r['non2xx']}  server CPU {r['serverCpu']:.0f}% (of 200%)  wrk CPU {r['generatorCpu']:.0f}%"
            + ("  [generator above 90% CPU]" if r["generatorCpu"] > 90 else "")
        )
    print(f"SQL statements per page (auth included): {statements}")
    print(
        f"seda / baseline: x{seda['rps'] / bare['rps']:.2f} req/s (target ≥ x0.5, ≤ 3 SQL statements; "
        f"x{cold['rps'] / bare['rps']:.2f} during the warm-up, pages being built); "
        f"an authenticated GET /users/me alone reaches x{floor['rps'] / bare['rps']:.2f} (target ≥ x0.6)"
    )


if __name__ == "__main__":
    main()
