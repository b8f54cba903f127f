"""Real server processes on 127.0.0.1 free ports, for tests across processes."""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


# A developer's .env must not reach the servers a test starts (its env says what they run on).
NO_ENV_FILE = {"SEDA_ENV_FILE": ""}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def stop_process(proc, grace=15):
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class ServerURL(str):
    """The base URL of a started server, with its process at hand (to kill it)."""

    process: subprocess.Popen


@contextmanager
def gunicorn_server(env, startup_timeout=30.0):
    """Start `gunicorn -c gunicorn.conf.py wsgi:app` with `env`; yield its base URL."""
    port = free_port()
    full_env = {**os.environ, **NO_ENV_FILE, **env, "HOST": "127.0.0.1", "PORT": str(port)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # SEDA_TEST_SERVER_LOG=<file> keeps the servers' log lines for debugging a failing test.
    log_path = os.environ.get("SEDA_TEST_SERVER_LOG")
    proc = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=full_env,
        stdout=open(log_path, "a") if log_path else subprocess.DEVNULL,  # noqa: SIM115
        stderr=open(log_path, "a") if log_path else subprocess.DEVNULL,  # noqa: SIM115
        start_new_session=True,  # its own process group: a test can kill master and worker at once
    )
    base = ServerURL(f"http://127.0.0.1:{port}")
    base.process = proc

    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode} (SEDA_TEST_SERVER_LOG keeps its log)")
        try:
            return requests.get(f"{base}/api/v1/health/live", timeout=1).ok
        except requests.RequestException:
            return False

    try:
        if not wait_until(ready, startup_timeout, 0.1):
            raise RuntimeError("gunicorn did not become ready in time")
        yield base
    finally:
        stop_process(proc, 15)


@contextmanager
def celery_worker(env, name="worker"):
    """Start `celery -A celery_worker worker -P gevent` with `env` until the block ends."""
    full_env = {**os.environ, **NO_ENV_FILE, **env}
    celery = Path(sys.executable).with_name("celery")
    proc = subprocess.Popen(
        [
            str(celery),
            "-A",
            "celery_worker",
            "worker",
            "-P",
            "gevent",
            "-c",
            "20",
            "-n",
            f"{name}@%h",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        stop_process(proc, 20)


@contextmanager
def celery_beat(env, schedule_dir):
    """Start `celery -A celery_worker beat` with `env` until the block ends."""
    celery = Path(sys.executable).with_name("celery")
    proc = subprocess.Popen(
        [str(celery), "-A", "celery_worker", "beat", "-s", str(Path(schedule_dir) / "beat-schedule"), "-l", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **NO_ENV_FILE, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        stop_process(proc, 10)


class RedisServer:
    """A Redis of the test's own on a free loopback port, to stop and start at will."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        if not wait_until(lambda: _pings(client), timeout=10):
            raise RuntimeError("redis-server did not start")
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


def _pings(client):
    try:
        return client.ping()
    except Exception:
        return False


class PostgresServer:
    """A PostgreSQL cluster of the test's own (initdb in a temp dir, a free loopback port)."""

    BIN = Path("/usr/lib/postgresql")

    def __init__(self):
        import tempfile

        # Under /tmp directly: the postgres user cannot enter pytest's root-only tmp_path.
        self.dir = Path(tempfile.mkdtemp(prefix="seda-pg-"))
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        versions = sorted(self.BIN.glob("*/bin/pg_ctl"))
        if not versions:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = versions[-1].parent

    def _run(self, *args):
        # The server refuses to run as root; the machine's postgres user runs it then.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            prefix + [str(a) for a in args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def init(self):
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._run(self.bin / "initdb", "-D", self.dir / "data", "-A", "trust", "-U", "postgres")
        return self.start()

    def start(self):
        self._run(
            self.bin / "pg_ctl",
            "-D",
            self.dir / "data",
            "-l",
            self.dir / "log",
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        return self

    def stop(self):
        self._run(self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop")

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


def signup(base):
    """A new account on the server at `base`; its access token and user id."""
    body = requests.post(
        f"{base}/api/v1/auth/signup",
        timeout=10,
        json={"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": "long enough"},
    ).json()
    return body["accessToken"], body["user"]["id"]
