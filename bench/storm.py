"""A reconnect storm: 1,000 clients of a SIGKILLed process reconnect at once to the survivor.

Two seda gunicorn processes (PostgreSQL, Redis) share a 1,000-member room. Every client (the
official socket.io-client, bench/storm.js) connects to the first process and joins; a sender on
the second sends 5 messages/s with acks. The first process is SIGKILLed; each client reconnects
to the survivor (immediately, or with socket.io-client's default backoff), re-joins and
catches up with `after`. Measured: time to re-joined and caught up (p50/p90/p99/100 %), clients
never back, connect attempts left hanging, 5xx answers, seq gaps after catch-up, the sender's
ack latency, /health/live latency on the survivor during the storm, its RSS and CPU.

    .venv/bin/python bench/storm.py [--clients 1000] [--only immediate,default]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import chat_sockets  # noqa: E402
from chat_sockets import seda_servers  # noqa: E402
from procs import cpu_seconds, ensure_node_client, rss_kib  # noqa: E402
from seeding import access_token, fresh_database, seed_room, seed_users  # noqa: E402

TARGETS = "100 % back within 10 s, p99 <= 8 s, 0 hung, 0 5xx, 0 gaps; live p99 <= 100 ms; acks p99 <= 1 s"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else None


class LivePoller(threading.Thread):
    """GET /health/live every 50 ms; keeps the latencies."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base, self.latencies, self.failures, self.stop = base, [], 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                ok = requests.get(f"{self.base}/api/v1/health/live", timeout=5).ok
            except requests.RequestException:
                ok = False
            self.latencies.append((time.monotonic() - started) * 1000)
            self.failures += not ok
            time.sleep(0.05)


def storm(url, users, room, backoff, seconds, profile=None):
    tokens = [access_token(u) for u in users]
    with seda_servers(url, count=2) as (urls, pids):
        doomed, survivor = urls
        plan = {
            "doomed": doomed,
            "survivor": survivor,
            "tokens": tokens[1:],
            "senderToken": tokens[0],
            "room": room,
            "backoff": backoff,
            "rate": 5,
            "seconds": seconds,
            "deadlineSeconds": seconds,
        }
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as plan_file:
            json.dump(plan, plan_file)
        node = subprocess.Popen(
            ["node", "storm.js", plan_file.name],
            cwd=HERE,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            ready = json.loads(node.stdout.readline() or '{"event": "no output"}')
            if ready.get("event") != "ready":
                raise RuntimeError(f"storm.js: {ready} {node.stderr.read()[-500:]}")
            poller = LivePoller(survivor)
            poller.start()
            cpu0, rss0, t0 = cpu_seconds(pids[1]), rss_kib(pids[1]), time.monotonic()
            node_cpu0 = cpu_seconds(node.pid)
            profiler = chat_sockets.profile_worker(pids[1], Path(profile) / f"storm-{backoff}.txt") if profile else None
            os.killpg(pids[0], signal.SIGKILL)
            node.stdin.write("killed\n")
            node.stdin.flush()
            peak_rss = rss0
            result = None
            while result is None:
                line = node.stdout.readline()
                if not line:
                    raise RuntimeError(f"storm.js stopped: {node.stderr.read()[-800:]}")
                event = json.loads(line)
                if event["event"] == "error":
                    raise RuntimeError(event["message"])
                result = event if event["event"] == "result" else None
                peak_rss = max(peak_rss, rss_kib(pids[1]))
            poller.stop.set()
            poller.join(10)
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(30)
            wall = time.monotonic() - t0
            result["survivorCpuPercent"] = (cpu_seconds(pids[1]) - cpu0) / wall * 100
            result["generatorCpuPercent"] = (cpu_seconds(node.pid) - node_cpu0) / wall * 100
            result["survivorRssMiB"] = (rss0 / 1024, max(peak_rss, rss_kib(pids[1])) / 1024)
            result["liveP99ms"] = percentile(poller.latencies, 99)
            result["liveFailures"] = poller.failures
        finally:
            node.kill()
            Path(plan_file.name).unlink(missing_ok=True)
    return result


def describe(backoff, r):
    sender = r["sender"]
    return (
        f"{backoff}: {r['rejoined']}/{r['clients']} back and caught up, p50 {_s(r['p50'])}, p90 {_s(r['p90'])}, "
        f"p99 {_s(r['p99'])}, all {_s(r['max'])}; never {r['never']}, hung {r['hung']}, "
        f"join errors {r['joinErrors']}, connect errors {r['connectErrors']}, REST 5xx {r['rest5xx']}, "
        f"gaps {r['gaps']}; sender acks {sender['acks']} p99 {sender['p99']:.0f} ms failed {sender['failed']}; "
        f"live p99 {r['liveP99ms']:.0f} ms ({r['liveFailures']} failed); survivor CPU "
        f"{r['survivorCpuPercent']:.0f}%, RSS {r['survivorRssMiB'][0]:.0f} -> {r['survivorRssMiB'][1]:.0f} MiB; "
        f"generator CPU {r['generatorCpuPercent']:.0f}%"
    )


def _s(seconds):
    return "-" if seconds is None else f"{seconds:.2f} s"


def met(r):
    five_xx = sum(n for code, n in r["joinErrors"].items() if code.startswith("5")) + r["rest5xx"]
    return (
        r["never"] == 0
        and r["max"] is not None
        and r["max"] <= 10
        and r["p99"] <= 8
        and r["hung"] == 0
        and five_xx == 0
        and r["gaps"] == 0
        and r["liveP99ms"] <= 100
        and r["sender"]["p99"] is not None
        and r["sender"]["p99"] <= 1000
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=30, help="how long the storm is watched")
    parser.add_argument("--only", default="immediate,default")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the survivor during each storm")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    chat_sockets.SERVER_ENV.update(item.split("=", 1) for item in args.server_env)
    ensure_node_client()
    with fresh_database("seda_bench_storm") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            users = seed_users(conn, args.clients + 1)
            room = str(seed_room(conn, users, "Storm"))
        engine.dispose()
        print(f"storm: {args.clients} clients; targets: {TARGETS}")
        for backoff in args.only.split(","):
            result = storm(url, users, room, backoff, args.seconds, args.profile)
            print(f"  {describe(backoff, result)}  [{'met' if met(result) else 'MISSED'}]", flush=True)


if __name__ == "__main__":
    main()
