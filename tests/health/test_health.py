import threading

from seda.common.admission import Admission, admission
from tests.helpers.servers import wait_until
from tests.helpers.tiers import services_only


def test_health_reports_each_check(client, tier):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy" if tier == "sqlite" else body["status"] in {"healthy", "degraded"}
    assert body["checks"]["database"] is True
    if tier == "sqlite":
        # embedded default: no Redis, no worker, so those checks are not configured
        assert body["checks"]["redis"] is None and body["checks"]["worker"] is None
    else:
        assert body["checks"]["redis"] is True
    assert body["uptime"] >= 0 and body["timestamp"].endswith("Z") and body["version"]


def test_health_is_503_unhealthy_when_the_database_is_unreachable(app_factory, tier, tmp_path):
    url = (
        f"sqlite:///{tmp_path}/gone/seda.db"
        if tier == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    )
    response = app_factory(DATABASE_URL=url).test_client().get("/api/v1/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy" and body["checks"]["database"] is False


def test_health_is_degraded_when_redis_is_unreachable(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": True, "redis": False, "worker": False, "admission": True}


@services_only
def test_health_sees_a_running_celery_worker(app_factory):
    from celery.contrib.testing.worker import start_worker

    app = app_factory()
    client = app.test_client()
    assert client.get("/api/v1/health").get_json()["checks"]["worker"] is False
    with start_worker(app.extensions["celery"], pool="solo", loglevel="WARNING", perform_ping_check=False):
        assert wait_until(lambda: client.get("/api/v1/health").get_json()["status"] == "healthy", timeout=15)
    assert client.get("/api/v1/health").get_json()["checks"] == {
        "database": True,
        "redis": True,
        "worker": False,
        "admission": True,
    }


def test_liveness_touches_nothing(app_factory, tmp_path):
    app = app_factory(DATABASE_URL=f"sqlite:///{tmp_path}/gone/x.db", REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/api/v1/health/live")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_health_is_not_rate_limited(app_factory):
    client = app_factory(RATE_LIMIT_ANONYMOUS="2/minute").test_client()
    statuses = {client.get("/api/v1/health/live").status_code for _ in range(5)}
    assert statuses == {200}


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_health_is_degraded_only_while_something_has_waited_more_than_5_s_for_a_turn(app):
    clock = FakeClock()
    turns = app.extensions["seda_admission"] = Admission(1, 30, clock=clock)
    holding, waiting_admitted, release = threading.Event(), threading.Event(), threading.Event()

    def hold():
        with app.app_context(), admission().admitted():
            holding.set()
            release.wait(10)

    def wait_for_a_turn():
        with app.app_context(), admission().admitted(who="10.0.0.9"):
            waiting_admitted.set()

    client = app.test_client()
    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    waiter = threading.Thread(target=wait_for_a_turn)
    waiter.start()
    assert wait_until(lambda: turns.state()["waiting"] == 1, timeout=5)
    clock.now += 4.9
    body = client.get("/api/v1/health").get_json()
    assert body["checks"]["admission"] is True and body["admission"]["waiting"] == 1

    clock.now += 0.2
    response = client.get("/api/v1/health")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "degraded" and body["checks"]["admission"] is False
    assert body["admission"] == {"active": 1, "waiting": 1, "longestWaitMs": 5100}

    release.set()
    assert waiting_admitted.wait(5)
    holder.join(5)
    waiter.join(5)
    body = client.get("/api/v1/health").get_json()
    assert body["checks"]["admission"] is True and body["admission"] == {"active": 0, "waiting": 0, "longestWaitMs": 0}
