"""Starting seda as the README says: gunicorn says where everything is; `flask run`, which cannot
serve Socket.IO, refuses loudly instead of polling forever."""

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.helpers.servers import NO_ENV_FILE, gunicorn_server, stop_process, wait_until
from tests.helpers.tiers import services_only

ROOT = Path(__file__).resolve().parents[1]


def flask(*args, tmp_path):
    """`flask --app wsgi …` on a SQLite file of the test's own, no env file read."""
    env = {**os.environ, **NO_ENV_FILE, "FLASK_SKIP_DOTENV": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    command = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_flask_run_refuses_and_names_the_command_that_works(tmp_path):
    result = flask("run", "--port", "0", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "not served by `flask run`" in result.stderr
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in result.stderr


def test_other_flask_commands_still_load_the_app(tmp_path):
    result = flask("db", "upgrade", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]


def test_gunicorn_says_where_things_are_in_json_lines_only(server_env, tmp_path, monkeypatch):
    log = tmp_path / "server.log"
    monkeypatch.setenv("SEDA_TEST_SERVER_LOG", str(log))
    with gunicorn_server({**server_env, "LOG_LEVEL": "INFO"}) as base:
        port = base.rsplit(":", 1)[1]
        account = {"email": "ready@example.com", "password": "long enough"}
        assert requests.post(f"{base}/api/v1/auth/signup", json=account, timeout=10).status_code == 201
        wrong = requests.post(f"{base}/api/v1/auth/login", json={**account, "password": "wrong one"}, timeout=10)
        assert wrong.status_code == 401  # expected: logged without a traceback
    lines = log.read_text().splitlines()
    ready = [line for line in lines if "ready: " in line]
    assert len(ready) == 1
    assert [line for line in lines if line.strip() and not _json_object(line)] == []  # one format
    assert not [line for line in lines if "Traceback" in line or "VerifyMismatchError" in line]
    assert (
        f"ready: API at http://localhost:{port}/api/v1, docs at http://localhost:{port}/api/docs,"
        f" console at http://localhost:{port}/console"
    ) in ready[0]


def test_the_env_example_reads_alike_in_a_shell_and_in_seda_and_says_only_defaults():
    from dotenv import dotenv_values

    from config import Config

    shell = subprocess.run(
        ["sh", "-c", "set -a; . ./.env.example; set +a; env -0"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert shell.returncode == 0, shell.stderr
    exported = dict(item.split("=", 1) for item in shell.stdout.split("\0") if "=" in item)
    example = dotenv_values(ROOT / ".env.example")
    assert {name: exported.get(name) for name in example} == example
    assert vars(Config(example)) == vars(Config({}))


def test_gunicorn_reads_the_env_file(server_env, tmp_path):
    env_file = tmp_path / "seda.env"
    env_file.write_text('SEDA_VERSION="9.9.9 from the file"\n')
    with gunicorn_server({**server_env, "SEDA_ENV_FILE": str(env_file)}) as base:
        health = requests.get(f"{base}/api/v1/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["version"] == "9.9.9 from the file"


def test_a_variable_set_in_the_environment_wins_over_the_env_file(tmp_path, monkeypatch):
    from config import config_from_env

    env_file = tmp_path / "seda.env"
    env_file.write_text("SEDA_VERSION=from-the-file\nPORT=4100\n")
    monkeypatch.setenv("SEDA_ENV_FILE", str(env_file))
    monkeypatch.setenv("SEDA_VERSION", "from-the-environment")
    monkeypatch.setenv("PORT", "")  # restored afterwards; the file fills it only when unset
    monkeypatch.delenv("PORT")
    config = config_from_env()
    assert (config.VERSION, config.PORT) == ("from-the-environment", 4100)


def production_command(program):
    """The README's production line that starts `program` (its comment dropped)."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Production", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line.split("#", 1)[0].split() for line in block.splitlines()]
    return next(words for words in lines if words[:4] == ["celery", "-A", "celery_worker", program])


@services_only
def test_the_readmes_beat_command_runs_on_a_fresh_machine(server_env, tmp_path):
    schedule = tmp_path / "not" / "made" / "yet" / "celerybeat-schedule"
    command = production_command("beat")
    celery = Path(sys.executable).with_name("celery")
    env = {**os.environ, **NO_ENV_FILE, **server_env, "CELERY_BEAT_SCHEDULE": str(schedule)}
    proc = subprocess.Popen(
        [str(celery), *command[1:]], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert wait_until(lambda: any(schedule.parent.glob("celerybeat-schedule*")), timeout=30), "no schedule file"
        assert proc.poll() is None  # still running
    finally:
        stop_process(proc, 10)
    lines = proc.stdout.read().splitlines()
    assert len(lines) < 30, lines[:40]


def _json_object(line):
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
