"""Every benchmark in one run, one after the other (they share the machine, never run at once).

    .venv/bin/python bench/run_all.py [--quick]

Prints each benchmark's figures and keeps the whole output in bench/results/<UTC time>.txt.
--quick shrinks the loads for a smoke run; the figures in bench/README.md come from a full run.
"""

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL = [
    ["websocket_layer.py", "--clients", "50", "--seconds", "8"],
    ["chat_sockets.py"],
    ["history_wrk.py"],
    ["crawler_pool.py"],
    ["password_hashing.py"],
    ["reconnect_cost.py"],
    ["socket_event_cost.py"],
    ["storm.py"],
    ["slow_readers.py"],
    ["slow_bodies.py"],
    ["mentions.py"],
    ["automod_check.py"],
    ["search.py"],
    ["forgot_password.py"],
    ["device_check.py", "--rate", "600"],
    ["export_build.py"],
]
QUICK = [
    ["websocket_layer.py", "--clients", "20", "--seconds", "3"],
    ["chat_sockets.py", "--fanout-messages", "50", "--store-messages", "300", "--seconds", "3"],
    ["history_wrk.py", "--messages", "100000", "--rooms", "100", "--seconds", "5"],
    ["crawler_pool.py", "--checks", "100"],
    ["password_hashing.py"],
    ["reconnect_cost.py", "--clients", "30"],
    ["socket_event_cost.py", "--events", "100", "--rounds", "1"],
    ["storm.py", "--clients", "100", "--seconds", "15"],
    ["slow_readers.py", "--seconds", "10"],
    ["slow_bodies.py", "--tricklers", "20", "--requests", "100"],
    ["mentions.py", "--rounds", "3"],
    ["automod_check.py", "--runs", "2000"],
    ["search.py", "--messages", "50000", "--requests", "30"],
    ["forgot_password.py", "--tries", "30"],
    ["device_check.py", "--rate", "300", "--seconds", "3"],
    ["export_build.py", "--messages", "10000"],
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    out_path = results / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
    failed = []
    with out_path.open("w") as out:
        for argv in QUICK if args.quick else FULL:
            header = f"\n=== {' '.join(argv)} ({datetime.now(UTC):%H:%M:%S} UTC)\n"
            print(header, end="", flush=True)
            out.write(header)
            started = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, str(HERE / argv[0]), *argv[1:]],
                cwd=HERE.parent,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for line in proc.stdout:
                if line.startswith(("INFO  [alembic", "WARNING: Location")):
                    continue  # migration and pip index chatter
                print(line, end="", flush=True)
                out.write(line)
            if proc.wait() != 0:
                failed.append(argv[0])
            out.write(f"({time.monotonic() - started:.0f} s)\n")
    print(f"\nfull output: {out_path}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
