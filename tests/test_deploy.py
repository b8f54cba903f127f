"""The production deployment: Dockerfile, docker-compose.yml, the nginx proxy and the same
topology run without Docker (deploy/topology.py)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.tiers import services_only

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_SERVICES = os.environ.get("SEDA_REQUIRE_SERVICES") == "1"


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_example_names():
    return set(re.findall(r"(?m)^([A-Z_]+)=", (ROOT / ".env.example").read_text()))


def test_the_image_is_built_in_stages_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"(?m)^FROM ", dockerfile)) == 2
    assert "COPY --from=build /opt/venv /opt/venv" in dockerfile
    user = re.findall(r"(?m)^USER (\S+)", dockerfile)
    assert user == ["seda"]
    assert "gunicorn.conf.py" in dockerfile and "HEALTHCHECK" in dockerfile
    assert ".venv" in (ROOT / ".dockerignore").read_text().split()


def test_compose_runs_the_production_topology():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web1", "web2", "worker", "beat", "proxy"}
    for web in ("web1", "web2"):
        assert services[web]["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
        assert services[web]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["flask", "--app", "wsgi", "db", "upgrade"]
    assert [name for name, s in services.items() if "beat" in s.get("command", [])] == ["beat"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "celery_worker", "worker"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]


def test_compose_sets_only_variables_seda_reads():
    environment = compose()["services"]["web1"]["environment"]
    assert set(environment) <= env_example_names()
    assert environment["APP_ENV"] == "production" and environment["TRUSTED_PROXY_COUNT"] == "1"


def test_the_proxy_is_sticky_and_passes_websocket_upgrades():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream seda_web \{(.+?)\}", conf, re.S).group(1)
    assert "ip_hash;" in upstream and "server web1:3001;" in upstream and "server web2:3001;" in upstream
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_http_version 1.1;" in conf


def test_the_proxy_takes_a_whole_body_before_it_reaches_a_web_process():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_request_buffering on;" in conf and "client_body_timeout 10s;" in conf


def _compose_command():
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_the_compose_file_validates():
    command = _compose_command()
    if command is None:
        if REQUIRE_SERVICES:
            pytest.fail("docker-compose is needed to validate the compose file (apt-get install docker-compose)")
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    env = {
        **os.environ,
        "JWT_SECRET": "x" * 32,
        "PUBLIC_BASE_URL": "https://seda.example",
        "PUBLIC_API_URL": "https://api.seda.example",
    }
    result = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    env.pop("JWT_SECRET")
    missing = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], capture_output=True, text=True, env=env
    )
    assert missing.returncode != 0 and "JWT_SECRET" in missing.stderr


@services_only
def test_the_topology_without_docker_serves_through_the_proxy(tier):
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        if REQUIRE_SERVICES:
            pytest.fail("nginx is needed for the topology test (apt-get install nginx)")
        pytest.skip("nginx is not installed")
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "topology.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "message via proxy reached sockets on: proxy, web1, web2" in result.stdout
    assert "topology OK" in result.stdout
