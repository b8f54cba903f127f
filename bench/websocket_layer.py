"""Which websocket layer serves Socket.IO faster under gunicorn here?

Runs the same bare python-socketio echo app (bench/ws_echo_app.py) under
  A. gunicorn -k gevent with simple-websocket (seda's stack), and
  B. gunicorn -k GeventWebSocketWorker with gevent-websocket (in a throwaway venv, because
     merely installing gevent-websocket changes engine.io's driver choice in seda's venv),
drives each with one Node process of websocket clients (bench/ws_echo_load.js) and prints
round trips/s, p50/p99 latency and server/generator CPU, then B relative to A.

    .venv/bin/python bench/websocket_layer.py [--clients 50] [--seconds 5]
"""

import argparse
import json
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GWS_VENV = HERE / ".venv-gevent-websocket"
sys.path.insert(0, str(HERE))
from procs import cpu_seconds, ensure_node_client, free_port, port_open, wait_until  # noqa: E402


def ensure_gevent_websocket_venv():
    python = GWS_VENV / "bin" / "python"
    if not (GWS_VENV / "bin" / "gunicorn").exists():  # not made yet, or its install was cut short
        venv.create(GWS_VENV, with_pip=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(ROOT / "requirements.txt"),
                "gevent-websocket==0.10.1",
            ],
            check=True,
        )
    return GWS_VENV / "bin"


def run_variant(name, bin_dir, worker_class, clients, seconds):
    port = free_port()
    server = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "-k",
            worker_class,
            "-w",
            "1",
            "--worker-connections",
            "2000",
            "-b",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--log-level",
            "warning",
            "ws_echo_app:app",
        ],
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: port_open(port), 20)
        cpu_before = cpu_seconds(server.pid)
        started = time.monotonic()
        load = subprocess.run(
            ["node", "ws_echo_load.js", f"http://127.0.0.1:{port}", str(clients), str(seconds)],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
        elapsed = time.monotonic() - started
        if load.returncode != 0:
            raise RuntimeError(f"{name}: load generator failed: {load.stderr[-500:]}")
        result = json.loads(load.stdout.strip().splitlines()[-1])
        result["serverCpuPercent"] = (cpu_seconds(server.pid) - cpu_before) / elapsed * 100
        result["name"] = name
        return result
    finally:
        server.terminate()
        server.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    ensure_node_client()
    gws_bin = ensure_gevent_websocket_venv()
    results = [
        run_variant("simple-websocket (-k gevent)", Path(sys.executable).parent, "gevent", args.clients, args.seconds),
        run_variant(
            "gevent-websocket (GeventWebSocketWorker)",
            gws_bin,
            "geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
            args.clients,
            args.seconds,
        ),
    ]
    for r in results:
        flag = "  [generator above 90% CPU: figures may be capped]" if r["generatorCpuPercent"] > 90 else ""
        print(
            f"{r['name']:<42} {r['perSecond']:>9.0f} round trips/s  p50 {r['p50ms']:.2f} ms  "
            f"p99 {r['p99ms']:.2f} ms  server CPU {r['serverCpuPercent']:.0f}%  "
            f"generator CPU {r['generatorCpuPercent']:.0f}%{flag}"
        )
    a, b = results
    print(
        f"gevent-websocket / simple-websocket: throughput x{b['perSecond'] / a['perSecond']:.2f}, "
        f"p99 x{b['p99ms'] / a['p99ms']:.2f}"
    )


if __name__ == "__main__":
    main()
