"""What the benchmarks need around the processes they start: CPU time and memory from /proc,
whether a port listens yet, free ports, the Node load generators' packages."""

import os
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers.servers import free_port, stop_process, wait_until  # noqa: E402, F401  (re-exported)

HERE = Path(__file__).resolve().parent


def ensure_node_client():
    """The Node packages of the load generators and the Node baseline (bench/package.json),
    installed on first use."""
    if not all((HERE / "node_modules" / name).exists() for name in ("socket.io", "socket.io-client", "ws")):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=HERE, check=True)


def children(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def cpu_seconds(pid):
    """User + system CPU of a process and its children."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for each in [pid] + children(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except FileNotFoundError:
            pass
    return total


def rss_kib(*pids):
    """Resident memory of processes and their children."""
    total = 0
    for pid in pids:
        for each in [pid] + children(pid):
            try:
                for line in Path(f"/proc/{each}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                pass
    return total


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False
