"""Chat over real sockets, seda next to a bare python-socketio server measured in the same run.

Scenarios (each starts fresh servers on 127.0.0.1 and one Node load generator, bench/chat_load.js):
  fanout     1,000 authenticated sockets in one room, one sender: deliveries/s, server CPU per delivery
  latency    100 members at 100 msg/s and 1,000 members at 20 msg/s: p50/p99 sender → receipt
  store      send_message into a 100-member room, 10 senders flat out: messages/s stored and delivered
  automod    the store scenario with every AutoMod rule on (200 blocked words) next to rules off
  idle       1,000 and 5,000 connected, joined sockets: KiB of server memory per connection
  scaleout   the fan-out on 2 seda processes sharing rooms through Redis: lost messages, deliveries/s

seda runs in its production shape: gunicorn -k gevent (gunicorn.conf.py), PostgreSQL, Redis as
the Socket.IO message queue. The baseline is bench/bare_chat_app.py under the same gunicorn
worker. Needs PostgreSQL and Redis (SEDA_TEST_PG_ADMIN_URL, SEDA_TEST_REDIS_URL) and Node.

    .venv/bin/python bench/chat_sockets.py [--only fanout,latency,...]
"""

import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from procs import (  # noqa: E402
    children,
    cpu_seconds,
    ensure_node_client,
    free_port,
    port_open,
    rss_kib,
    stop_process,
    wait_until,
)
from seeding import REDIS_URL, access_token, fresh_database, seed_room, seed_users, server_env  # noqa: E402

from tests.helpers.servers import gunicorn_server  # noqa: E402

SCENARIOS = ("fanout", "latency", "store", "automod", "search_writes", "idle", "scaleout")
ROWS = []  # (benchmark, seda, baseline, ratio, target)


@contextmanager
def bare_server(store_ms=0, floor_database_url=None):
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    argv = [gunicorn, "-k", "gevent", "-w", "1", "--worker-connections", "8000", "-b", f"127.0.0.1:{port}"]
    argv += ["--no-control-socket", "--log-level", "warning", "bare_chat_app:app"]
    env = {**os.environ, "BARE_STORE_MS": str(store_ms)}
    if floor_database_url:
        env.update(BARE_FLOOR_DATABASE_URL=floor_database_url, BARE_FLOOR_REDIS_URL=REDIS_URL)
    with baseline_process("bare server", argv, port, env) as served:
        yield served


@contextmanager
def node_server():
    """The Node socket.io baseline (node_chat_server.js), one process like the others."""
    ensure_node_client()
    port = free_port()
    with baseline_process("node socket.io server", ["node", "node_chat_server.js", str(port)], port) as served:
        yield served


@contextmanager
def baseline_process(name, argv, port, env=None):
    """Start a baseline server on `port`; ([its url], [its pid]) once it listens."""
    proc = subprocess.Popen(
        argv, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env
    )
    try:
        if not wait_until(lambda: port_open(port), 20):
            raise RuntimeError(f"{name} did not start")
        yield [f"http://127.0.0.1:{port}"], [proc.pid]
    finally:
        stop_process(proc)


@contextmanager
def seda_servers(database_url, count=1):
    env = server_env(database_url, **SERVER_ENV)
    with ExitStack() as stack:
        servers = [stack.enter_context(gunicorn_server(env)) for _ in range(count)]
        yield [str(s) for s in servers], [s.process.pid for s in servers]


def server_cpu(pids):
    return sum(cpu_seconds(pid) for pid in pids)


class Generator:
    """One run of bench/chat_load.js (or another Node script of bench/ taking a JSON plan); reads
    its JSON lines as they come."""

    def __init__(self, plan, timeout=300, script="chat_load.js"):
        self.plan_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
        json.dump(plan, self.plan_file)
        self.plan_file.close()
        self.proc = subprocess.Popen(
            ["node", script, self.plan_file.name],
            cwd=HERE,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.deadline = time.monotonic() + timeout

    def next_event(self):
        line = self.proc.stdout.readline()
        if not line or time.monotonic() > self.deadline:
            self.proc.kill()
            raise RuntimeError(f"load generator stopped: {self.proc.stderr.read()[-800:]}")
        return json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        Path(self.plan_file.name).unlink(missing_ok=True)


SERVER_ENV = {}  # --server-env: extra environment for the seda servers
PROFILE_DIR = None  # --profile: py-spy records each server worker over the measured window


_runs = itertools.count(1)


def drive(plan, pids, label="run"):
    """Run a burst or rate plan; the result plus the servers' CPU over the measured window."""
    generator = Generator(plan)
    profilers = []
    try:
        assert generator.next_event()["event"] == "ready"
        assert generator.next_event()["event"] == "start"
        run = next(_runs)
        profilers = (
            [profile_worker(pid, Path(PROFILE_DIR) / f"{run:02d}-{label}-{n}.txt") for n, pid in enumerate(pids)]
            if PROFILE_DIR
            else []
        )
        profilers = [profiler for profiler in profilers if profiler is not None]
        cpu0, t0 = server_cpu(pids), time.monotonic()
        result = generator.next_event()
        cpu, wall = server_cpu(pids) - cpu0, time.monotonic() - t0
    finally:
        generator.close()
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
    result["serverCpuPercent"] = cpu / wall * 100
    result["serverCpuUsPerDelivery"] = cpu / max(result["deliveries"], 1) * 1e6
    if result["failed"]:
        print(f"  ! {result['failed']} sends failed, e.g. {result['failures'][:2]}")
    return result


def profile_worker(master_pid, out):
    """py-spy on a gunicorn master's worker, raw stacks into `out` until SIGINT (None for a
    server that is not gunicorn, such as Node's)."""
    workers = children(master_pid)
    if not workers:
        return None
    worker = workers[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"  profiling worker {worker} into {out}")
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "-p",
            str(worker),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def idle_memory(plan, pids):
    before = rss_kib(*pids)
    generator = Generator({**plan, "mode": "idle"})
    try:
        assert generator.next_event()["event"] == "ready"
        time.sleep(2)
        after = rss_kib(*pids)
    finally:
        generator.close()
    return (after - before) / len(plan["tokens"]), before, after


def describe(result):
    flag = " [generator >90% CPU]" if result["generatorCpuPercent"] > 90 else ""
    return (
        f"{result['deliveriesPerSecond']:,.0f} deliveries/s, {result['messagesPerSecond']:,.0f} msg/s, "
        f"{result['bytesPerDelivery']:.0f} B/frame, p50 {result['p50ms']:.1f} ms, p99 {result['p99ms']:.1f} ms, "
        f"lost {result['lost']}, "
        f"server CPU {result['serverCpuPercent']:.0f}% ({result['serverCpuUsPerDelivery']:.1f} µs/delivery), "
        f"generator CPU {result['generatorCpuPercent']:.0f}%{flag}"
    )


def row(name, seda, baseline, ratio, target):
    ROWS.append((name, seda, baseline, ratio, target))
    print(f"  -> {name}: seda {seda} | baseline {baseline} | {ratio} | target {target}")


class World:
    """One seeded database: 5,000 users; a 1,000-member room, a 100-member room, 50 rooms of 100."""

    def __init__(self, url):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            self.users = seed_users(conn, 5000)
            self.big_room = str(seed_room(conn, self.users[:1000], "Fan-out"))
            self.small_room = str(seed_room(conn, self.users[1000:1100], "Hundred"))
            self.spread_rooms = [
                str(seed_room(conn, self.users[k : k + 100], f"Idle {k // 100}")) for k in range(0, 5000, 100)
            ]
        engine.dispose()
        self.url = url
        self.tokens = [access_token(u) for u in self.users]

    def plan(self, members, room, **kwargs):
        first = self.users.index(members[0])
        return {
            "urls": [],
            "tokens": self.tokens[first : first + len(members)],
            "rooms": [room] * len(members),
            **kwargs,
        }

    def spread_plan(self, count):
        return {"urls": [], "tokens": self.tokens[:count], "rooms": [self.spread_rooms[k // 100] for k in range(count)]}


def driver_url(url):
    """A SQLAlchemy URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_urls(plan, urls):
    return {**plan, "urls": urls}


def fanout_plan(world, args):
    """1,000 members of one room; socket 0 sends, keeping 8 messages in flight."""
    return world.plan(
        world.users[:1000], world.big_room, mode="burst", senders=[0], messages=args.fanout_messages, window=8
    )


def fanout(world, args):
    plan = fanout_plan(world, args)
    with bare_server() as (urls, pids):
        base = drive(with_urls(plan, urls), pids)
    print("  bare ", describe(base))
    with seda_servers(world.url) as (urls, pids):
        seda = drive(with_urls(plan, urls), pids, "fanout")
    print("  seda ", describe(seda))
    row(
        "Fan-out: 1,000 sockets in one room, one sender",
        f"{seda['deliveriesPerSecond']:,.0f} deliveries/s, {seda['serverCpuUsPerDelivery']:.1f} µs CPU/delivery",
        f"{base['deliveriesPerSecond']:,.0f} deliveries/s, {base['serverCpuUsPerDelivery']:.1f} µs CPU/delivery",
        f"x{seda['deliveriesPerSecond'] / base['deliveriesPerSecond']:.2f}",
        "≥ x1.0",
    )
    with node_server() as (urls, pids):
        node = drive(with_urls(plan, urls), pids)
    print("  node ", describe(node))
    row(
        "Fan-out, against Node socket.io: 1,000 sockets in one room, one sender",
        f"{seda['deliveriesPerSecond']:,.0f} deliveries/s",
        f"Node socket.io {node['deliveriesPerSecond']:,.0f} deliveries/s, "
        f"{node['serverCpuUsPerDelivery']:.1f} µs CPU/delivery",
        f"x{seda['deliveriesPerSecond'] / node['deliveriesPerSecond']:.2f}",
        "≥ x0.8",
    )
    # Diagnostic: the same bare server holding a lock 3 ms before each broadcast, as seda's
    # store does under the room row lock; broadcasts then arrive one by one, as seda's do.
    with bare_server(store_ms=3) as (urls, pids):
        spaced = drive(with_urls(plan, urls), pids)
    print("  bare, one broadcast at a time (3 ms lock) ", describe(spaced))
    row(
        "Fan-out, diagnostic: bare with broadcasts one at a time (3 ms lock before each)",
        f"{seda['deliveriesPerSecond']:,.0f} deliveries/s",
        f"{spaced['deliveriesPerSecond']:,.0f} deliveries/s, {spaced['serverCpuUsPerDelivery']:.1f} µs CPU/delivery",
        f"x{seda['deliveriesPerSecond'] / spaced['deliveriesPerSecond']:.2f}",
        "(explains the gap)",
    )
    return seda


def latency(world, args):
    cases = [
        # The floor only where a send's round trips, not its fan-out, are most of its latency.
        ("100 members at 100 msg/s", world.users[1000:1100], world.small_room, 100, True),
        ("1,000 members at 20 msg/s", world.users[:1000], world.big_room, 20, False),
    ]
    for label, members, room, rate, with_floor in cases:
        plan = world.plan(members, room, mode="rate", senders=list(range(10)), rate=rate, seconds=args.seconds)
        with bare_server() as (urls, pids):
            base = drive(with_urls(plan, urls), pids)
        print("  bare ", describe(base))
        with seda_servers(world.url) as (urls, pids):
            seda = drive(with_urls(plan, urls), pids)
        print("  seda ", describe(seda))
        with node_server() as (urls, pids):
            node = drive(with_urls(plan, urls), pids)
        print("  node ", describe(node))
        row(
            f"Latency, {label}",
            f"p50 {seda['p50ms']:.1f} ms, p99 {seda['p99ms']:.1f} ms",
            f"p50 {base['p50ms']:.1f} ms, p99 {base['p99ms']:.1f} ms",
            f"p99 x{seda['p99ms'] / base['p99ms']:.2f}",
            "p99 ≤ x1.3",
        )
        row(
            f"Latency, {label}, against Node socket.io",
            f"p99 {seda['p99ms']:.1f} ms",
            f"Node socket.io p50 {node['p50ms']:.1f} ms, p99 {node['p99ms']:.1f} ms",
            f"p99 x{seda['p99ms'] / node['p99ms']:.2f}",
            "(second baseline)",
        )
        if with_floor:
            latency_floor(world, plan, label, base, seda)


def latency_floor(world, plan, label, base, seda):
    """The same plan against the bare server doing the two round trips any server that stores
    before it broadcasts must make (bare_chat_app.py, BARE_FLOOR_DATABASE_URL): how much of the
    gap to bare no implementation of the contract can close on this machine."""
    with bare_server(floor_database_url=driver_url(world.url)) as (urls, pids):
        floor = drive(with_urls(plan, urls), pids)
    print("  floor", describe(floor))
    row(
        f"Latency, {label}: floor (bare + a Redis INCR and a committed INSERT per send)",
        f"p99 {seda['p99ms']:.1f} ms",
        f"floor p50 {floor['p50ms']:.1f} ms, p99 {floor['p99ms']:.1f} ms"
        f" (x{floor['p99ms'] / base['p99ms']:.2f} of bare)",
        f"p99 x{seda['p99ms'] / floor['p99ms']:.2f}",
        "(diagnostic)",
    )


def store(world, args):
    seda, stored = store_run(world, args)
    with bare_server() as (urls, pids):
        base = drive(with_urls(store_plan(world, args), urls), pids)
    print("  bare ", describe(base))
    row(
        "Store-then-broadcast: send_message into a 100-member room, PostgreSQL, one process",
        f"{seda['messagesPerSecond']:,.0f} msg/s stored and delivered ({stored} rows, "
        f"{seda['deliveries']:,} deliveries, lost {seda['lost']})",
        f"bare broadcast, nothing stored: {base['messagesPerSecond']:,.0f} msg/s",
        f"x{seda['messagesPerSecond'] / base['messagesPerSecond']:.2f}",
        "≥ 600 msg/s",
    )
    double, stored = store_run(world, args, processes=2)
    row(
        "Store-then-broadcast, the same room on 2 processes (senders and members alternate)",
        f"{double['messagesPerSecond']:,.0f} msg/s stored and delivered ({stored} rows, lost {double['lost']})",
        f"1 process: {seda['messagesPerSecond']:,.0f} msg/s",
        f"x{double['messagesPerSecond'] / seda['messagesPerSecond']:.2f}",
        "≥ 1,000 msg/s",
    )


EVERY_RULE = {
    "blockedWords": [f"blockedword{n}" for n in range(200)],
    "linkPolicy": "MUSIC_ONLY",
    "maxMentions": 5,
    "blockRepeats": True,
    "autoMuteAfter": 3,
}


def automod(world, args):
    """Store-then-broadcast with every AutoMod rule on (none breaks: the texts are unique and clean),
    alternating with rules off twice over, so that the machine's drift hits both alike."""
    engine = sa.create_engine(world.url)
    set_rules = sa.text("UPDATE rooms SET automod = CAST(:rules AS json) WHERE id = :room")
    runs = {"off": [], "on": []}
    for label in ("off", "on", "on", "off"):
        with engine.begin() as conn:
            rules = json.dumps(EVERY_RULE) if label == "on" else None
            conn.execute(set_rules, {"rules": rules, "room": world.small_room})
        result, _stored = store_run(world, args)
        runs[label].append(result)
    with engine.begin() as conn:
        conn.execute(set_rules, {"rules": None, "room": world.small_room})
    engine.dispose()
    off, on = (sum(r["messagesPerSecond"] for r in runs[k]) / len(runs[k]) for k in ("off", "on"))
    refused = sum(r["failed"] for r in runs["on"])
    row(
        "AutoMod: the store-then-broadcast run with every rule on (200 blocked words, MUSIC_ONLY links, "
        "max 5 mentions, repeats, auto-mute), mean of 2 runs alternating with rules off",
        f"{on:,.0f} msg/s, {refused} refused",
        f"rules off: {off:,.0f} msg/s",
        f"x{on / off:.2f}",
        "≥ x0.95",
    )


SEARCH_INDEXES = {
    "ix_messages_search": "CREATE INDEX ix_messages_search ON messages"
    " USING gin (room_id, seda_search_document(text, track_ref)) WHERE deleted_at IS NULL",
    "ix_messages_track_search": "CREATE INDEX ix_messages_track_search ON messages"
    " USING gin (seda_track_document(track_ref)) WHERE type = 'TRACK_CARD' AND deleted_at IS NULL",
}


def search_writes(world, args):
    """Store-then-broadcast with the search indexes (#18) against the same run without them, alternating
    with, without, without, with, so that the machine's drift hits both alike."""
    engine = sa.create_engine(world.url)
    runs = {"with": [], "without": []}
    for label in ("with", "without", "without", "with"):
        with engine.begin() as conn:
            for name, create in SEARCH_INDEXES.items():
                conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
                if label == "with":
                    conn.execute(sa.text(create))
        result, _stored = store_run(world, args)
        runs[label].append(result)
    engine.dispose()
    with_index, without = (sum(r["messagesPerSecond"] for r in runs[k]) / len(runs[k]) for k in ("with", "without"))
    row(
        "Search indexes: the store-then-broadcast run with the full-text indexes against without, mean of 2 runs each",
        f"{with_index:,.0f} msg/s",
        f"no index: {without:,.0f} msg/s",
        f"x{with_index / without:.2f}",
        "≥ x0.9",
    )


def store_plan(world, args):
    return world.plan(
        world.users[1000:1100],
        world.small_room,
        mode="burst",
        senders=list(range(10)),
        messages=args.store_messages,
        window=4,
    )


def store_run(world, args, processes=1):
    """One seda store run: its result and the rows it stored."""
    engine = sa.create_engine(world.url)
    count = sa.text("SELECT count(*) FROM messages WHERE room_id = :room AND text LIKE 'b|%'")
    with engine.connect() as conn:
        stored_before = conn.execute(count, {"room": world.small_room}).scalar_one()
    with seda_servers(world.url, count=processes) as (urls, pids):
        seda = drive(with_urls(store_plan(world, args), urls), pids, f"store-seda-{processes}")
    with engine.connect() as conn:
        stored = conn.execute(count, {"room": world.small_room}).scalar_one() - stored_before
    engine.dispose()
    print("  seda ", describe(seda), f"rows stored {stored}")
    return seda, stored


def idle(world, args):
    for count in (1000, 5000):
        plan = world.spread_plan(count)
        with bare_server() as (urls, pids):
            base, b0, b1 = idle_memory(with_urls(plan, urls), pids)
        with seda_servers(world.url) as (urls, pids):
            seda, s0, s1 = idle_memory(with_urls(plan, urls), pids)
        print(f"  bare RSS {b0:,} → {b1:,} KiB; seda RSS {s0:,} → {s1:,} KiB")
        row(
            f"Idle sockets: {count:,} connected and joined (rooms of 100)",
            f"{seda:.1f} KiB/connection",
            f"{base:.1f} KiB/connection",
            f"x{seda / base:.2f}",
            "≤ x1.2",
        )


def scaleout(world, args, single=None):
    plan = fanout_plan(world, args)
    if single is None:
        with seda_servers(world.url) as (urls, pids):
            single = drive(with_urls(plan, urls), pids)
    with seda_servers(world.url, count=2) as (urls, pids):
        double = drive(with_urls(plan, urls), pids)
    print("  seda x2", describe(double))
    row(
        "Scale-out: the fan-out on 2 processes through Redis (sockets alternate)",
        f"{double['deliveriesPerSecond']:,.0f} deliveries/s, lost {double['lost']} of {double['expected']:,}",
        f"1 process: {single['deliveriesPerSecond']:,.0f} deliveries/s, lost {single['lost']}",
        f"x{double['deliveriesPerSecond'] / single['deliveriesPerSecond']:.2f}",
        "0 lost",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--fanout-messages", type=int, default=200)
    parser.add_argument("--store-messages", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--server-env", default="{}", help='extra seda env as JSON, e.g. \'{"REDIS_URL": ""}\'')
    parser.add_argument("--profile", metavar="DIR", help="py-spy each seda worker (raw stacks into DIR)")
    args = parser.parse_args()
    global PROFILE_DIR
    PROFILE_DIR = args.profile
    SERVER_ENV.update(json.loads(args.server_env))
    chosen = [s for s in args.only.split(",") if s]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    ensure_node_client()
    with fresh_database() as url:
        world = World(url)
        single = None
        for name in chosen:
            print(f"== {name}")
            started = time.monotonic()
            if name == "scaleout":
                scaleout(world, args, single)
            else:
                result = globals()[name](world, args)
                single = result if name == "fanout" else single
            print(f"   ({time.monotonic() - started:.0f} s)")
    print("\n| benchmark | seda | baseline (same run) | ratio | target |\n|---|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
