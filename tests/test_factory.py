import logging
import runpy
import secrets
from pathlib import Path

import pytest

from config import ConfigError, TestingConfig, config_from_env
from seda import create_app

PUBLIC_ORIGINS = {"PUBLIC_BASE_URL": "https://seda.example", "PUBLIC_API_URL": "https://api.seda.example"}


def test_no_environment_gives_the_embedded_default():
    config = config_from_env({})
    assert config.APP_ENV == "development"
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert config.SQLALCHEMY_DATABASE_URI.endswith("instance/seda.db")
    assert config.REDIS_URL is None
    assert config.RATELIMIT_STORAGE_URI == "memory://"
    assert config.CELERY["task_always_eager"] is True
    assert config.EMBEDDED_SCHEDULER is True
    assert config.PORT == 3001
    assert config.API_PREFIX == "/api/v1"
    assert config.CORS_ORIGINS == ["http://localhost:3000"]
    assert config.CRAWLER_USER_AGENT == "Mozilla/5.0 (compatible; SedaBot/1.0)"
    assert (config.CRAWLER_TIMEOUT_MS, config.CRAWLER_MAX_RETRIES) == (30000, 3)
    assert (config.VERIFICATION_CODE_LENGTH, config.VERIFICATION_CODE_EXPIRY_DAYS) == (8, 7)
    assert config.RATE_LIMIT_VERIFICATION_PER_DAY == 3
    assert config.RATE_LIMIT_WINDOW_MS == 86_400_000


def test_production_mode_uses_postgres_and_redis_from_the_environment():
    config = config_from_env(
        {
            "APP_ENV": "production",
            "JWT_SECRET": "s" * 32,
            **PUBLIC_ORIGINS,
            "DATABASE_URL": "postgres://u:p@db:5432/seda",
            "REDIS_URL": "redis://cache:6379/0",
        }
    )
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:p@db:5432/seda"
    assert "pool_pre_ping" not in config.SQLALCHEMY_ENGINE_OPTIONS  # idle connections are pinged instead
    assert config.RATELIMIT_STORAGE_URI == "redis://cache:6379/0"
    assert config.SOCKETIO_MESSAGE_QUEUE == "redis://cache:6379/0"
    assert config.CACHE_TYPE == "RedisCache"
    assert config.CELERY["broker_url"] == "redis://cache:6379/0"
    assert config.CELERY["task_always_eager"] is False
    assert config.CELERY["accept_content"] == ["json"]
    assert config.CELERY["task_acks_late"] is True
    assert config.CELERY["worker_prefetch_multiplier"] == 1
    assert config.EMBEDDED_SCHEDULER is False
    assert config.API_DOCS_ENABLED is False


@pytest.mark.parametrize("secret", [None, "", "short", "x" * 31])
def test_production_refuses_a_weak_jwt_secret(secret):
    env = {"APP_ENV": "production"}
    if secret is not None:
        env["JWT_SECRET"] = secret
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        config_from_env(env)


@pytest.mark.parametrize("name", ["PUBLIC_BASE_URL", "PUBLIC_API_URL"])
@pytest.mark.parametrize("value", [None, "http://seda.example"])
def test_production_refuses_public_origins_that_are_unset_or_not_https(name, value):
    env = {"APP_ENV": "production", "JWT_SECRET": "s" * 40, **PUBLIC_ORIGINS}
    env.pop(name)
    if value is not None:
        env[name] = value
    with pytest.raises(ConfigError, match=name):
        config_from_env(env)


def test_production_refuses_test_only_crawler_networks():
    env = {
        "APP_ENV": "production",
        "JWT_SECRET": "s" * 40,
        "CRAWLER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        **PUBLIC_ORIGINS,
    }
    with pytest.raises(ConfigError, match="CRAWLER_ALLOWED_PRIVATE_NETWORKS"):
        config_from_env(env)


def test_unknown_app_env_and_bad_numbers_are_refused():
    with pytest.raises(ConfigError, match="APP_ENV"):
        config_from_env({"APP_ENV": "staging"})
    with pytest.raises(ConfigError, match="PORT"):
        config_from_env({"PORT": "eighty"})
    with pytest.raises(ConfigError, match="TRACKS_OEMBED_ENDPOINTS"):
        config_from_env({"TRACKS_OEMBED_ENDPOINTS": "[1]"})


def test_production_process_exits_non_zero_with_a_weak_secret(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        env={"APP_ENV": "production", "JWT_SECRET": "short", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]),
    )
    assert proc.returncode != 0
    assert b"JWT_SECRET" in proc.stderr


def test_create_app_binds_every_extension(tmp_path):
    app = create_app(TestingConfig({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}))
    for name in ("sqlalchemy", "migrate", "limiter", "cache", "socketio", "celery"):
        assert name in app.extensions, name


def test_without_jwt_secret_outside_production_a_random_one_is_kept_in_the_instance(tmp_path, caplog):
    from seda.common.instance_files import generated_once

    def kept(path):
        return generated_once(path, lambda: secrets.token_bytes(48), "JWT_SECRET")

    path = tmp_path / "jwt-secret"
    with caplog.at_level(logging.WARNING, logger="seda"):
        first = kept(path)
    assert len(first) == 48 and path.stat().st_mode & 0o777 == 0o600
    assert "JWT_SECRET is not set: generated one in" in caplog.text
    assert kept(path) == first  # every process of the instance signs alike
    assert kept(tmp_path / "other") != first


def test_the_app_signs_with_the_instance_secret_when_none_is_configured(app_factory):
    app = app_factory(JWT_SECRET="")
    secret_file = Path(app.instance_path) / "jwt-secret"
    assert app.config["JWT_SECRET"] == secret_file.read_text().strip()
    assert config_from_env({}).JWT_SECRET is None


@pytest.mark.parametrize(
    ("env", "bind"),
    [
        ({}, "127.0.0.1:3001"),
        ({"PORT": "4000"}, "127.0.0.1:4000"),
        ({"HOST": "0.0.0.0", "PORT": "8000"}, "0.0.0.0:8000"),
        ({"BIND": "unix:/run/seda.sock", "HOST": "0.0.0.0"}, "unix:/run/seda.sock"),
    ],
)
def test_gunicorn_listens_on_loopback_unless_told_otherwise(monkeypatch, env, bind):
    for name in ("BIND", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    assert settings["bind"] == bind
