"""docker-compose.yml's topology without Docker: the same processes, started directly.

A migration, two gunicorn web processes, one Celery worker, one beat and nginx in front
(deploy/nginx.conf with loopback addresses), against a PostgreSQL and a Redis that already run.
Everything listens on 127.0.0.1, on free ports.

    .venv/bin/python deploy/topology.py            # run until Ctrl-C
    .venv/bin/python deploy/topology.py --check    # start, exercise through the proxy, stop

`--check` exits non-zero when the topology does not work: health (database, Redis, worker) via
the proxy, signup and a room via the proxy, a message posted through the proxy reaching a
socket connected through the proxy and sockets connected straight to each web process, and
beat still running. Without DATABASE_URL it creates a database on SEDA_TEST_PG_ADMIN_URL's
server and drops it afterwards.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("SEDA_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEDA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextmanager
def database():
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    import sqlalchemy as sa

    name = f"seda_topology_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Processes:
    """Started processes, each in its own process group, stopped in reverse order."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.started = []

    def start(self, name, argv, env):
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((name, proc, log))
        return proc

    def alive(self, name):
        return any(n == name and p.poll() is None for n, p, _ in self.started)

    def stop(self):
        for _name, proc, log in reversed(self.started):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
            log.close()


def render_nginx(template, listen, web_ports, temp_dir):
    text = template.read_text()
    servers = "".join(f"        server 127.0.0.1:{port};\n" for port in web_ports)
    text = re.sub(r"(?m)^        server web\d+:3001;\n", "", text)
    text = text.replace("        ip_hash;\n", "        ip_hash;\n" + servers)
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    text = text.replace("/tmp/seda-nginx", str(temp_dir / "nginx"))
    path = temp_dir / "nginx.conf"
    path.write_text(text)
    return path


@contextmanager
def topology(log_dir):
    env_base = {
        **os.environ,
        "APP_ENV": "production",
        "PUBLIC_BASE_URL": "https://seda.test",
        "PUBLIC_API_URL": "https://api.seda.test",
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": f"topology{uuid.uuid4().hex[:8]}",
        "JWT_SECRET": os.environ.get("JWT_SECRET") or uuid.uuid4().hex + uuid.uuid4().hex,
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is needed for the proxy (Debian: apt-get install nginx)")
    with ExitStack() as stack:
        url = stack.enter_context(database())
        env = {**env_base, "DATABASE_URL": url}
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs = Processes(log_dir)
        stack.callback(procs.stop)
        web_ports = [free_port(), free_port()]
        for n, port in enumerate(web_ports, 1):
            procs.start(
                f"web{n}",
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                {**env, "HOST": "127.0.0.1", "PORT": str(port)},
            )
        procs.start(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "celery_worker",
                "worker",
                "-P",
                "gevent",
                "-c",
                "20",
                "-n",
                f"topology-{uuid.uuid4().hex[:6]}@%h",
                "-l",
                "WARNING",
            ],
            env,
        )
        procs.start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "celery_worker",
                "beat",
                "-l",
                "WARNING",
                "-s",
                str(log_dir / "celerybeat-schedule"),
            ],
            env,
        )
        for port in web_ports:
            wait_for(f"http://127.0.0.1:{port}/api/v1/health/live")
        proxy_port = free_port()
        conf = render_nginx(ROOT / "deploy" / "nginx.conf", proxy_port, web_ports, log_dir)
        procs.start("proxy", [nginx, "-c", str(conf), "-g", "daemon off;"], env)
        proxy = f"http://127.0.0.1:{proxy_port}"
        wait_for(f"{proxy}/api/v1/health/live")
        yield proxy, [f"http://127.0.0.1:{port}" for port in web_ports], procs


def check(proxy, webs, procs):
    import socketio

    deadline = time.monotonic() + 60
    while True:  # the worker needs a moment to answer the health check's ping
        health = requests.get(f"{proxy}/api/v1/health", timeout=10).json()
        if health["status"] == "healthy" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert health["status"] == "healthy", health
    print(f"health via proxy: {health['status']} ({', '.join(sorted(health['checks']))})")
    session = requests.post(
        f"{proxy}/api/v1/auth/signup",
        timeout=10,
        json={"email": f"{uuid.uuid4().hex[:10]}@topology.example.com", "password": "long enough password"},
    ).json()
    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    room = requests.post(f"{proxy}/api/v1/chat/rooms", json={"name": "Topology"}, headers=headers, timeout=10).json()
    received = {}
    clients = []
    for label, base in [("proxy", proxy)] + [(f"web{n}", web) for n, web in enumerate(webs, 1)]:
        client = socketio.Client(reconnection=False)
        client.on("message_created", lambda m, label=label: received.setdefault(label, m["text"]), namespace="/chat")
        client.connect(
            base,
            namespaces=["/chat"],
            transports=["websocket"],
            auth={"token": session["accessToken"]},
            wait_timeout=10,
        )
        assert client.call("join_room", room["id"], namespace="/chat", timeout=10)["ok"]
        clients.append(client)
    text = f"across the topology {uuid.uuid4().hex[:6]}"
    response = requests.post(
        f"{proxy}/api/v1/chat/rooms/{room['id']}/messages", json={"text": text}, headers=headers, timeout=10
    )
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 10
    while len(received) < len(clients) and time.monotonic() < deadline:
        time.sleep(0.05)
    for client in clients:
        client.disconnect()
    assert received == dict.fromkeys(received, text) and len(received) == len(clients), received
    print(f"message via proxy reached sockets on: {', '.join(sorted(received))}")
    assert procs.alive("beat") and procs.alive("worker"), "worker or beat exited"
    print("worker and beat running")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exercise the topology, then stop")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="seda-topology-"))
    with topology(log_dir) as (proxy, webs, procs):
        print(f"proxy {proxy}  web {' '.join(webs)}  logs {log_dir}")
        if args.check:
            check(proxy, webs, procs)
            print("topology OK")
            return
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
