"""Schemathesis over the OpenAPI document, in process, as a user and as an admin.

CI runs a bounded number of examples per operation; a longer run is documented in the
README: SEDA_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/test_fuzz.py
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

# Trimming, email and URL rules are stricter than OpenAPI can say, so "schema-valid" bodies such
# as a blank name are rightly refused; every other default check applies.
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config import TestingConfig
from seda import create_app
from seda.users.models import Role
from tests.helpers.fixtures import UserFactory

EXAMPLES = int(os.environ.get("SEDA_FUZZ_EXAMPLES", "8"))


@pytest.fixture(params=["USER", "ADMIN"])
def caller(request):
    return request.param


@pytest.fixture
def fuzz_target(app_factory, caller):
    app = app_factory(
        RATE_LIMIT_DEFAULT="100000/minute",
        RATE_LIMIT_ANONYMOUS="100000/minute",
        RATE_LIMIT_SIGNUP="100000/hour",
        RATE_LIMIT_LOGIN_ACCOUNT="100000/minute",
        RATE_LIMIT_LOGIN_IP="100000/minute",
        RATE_LIMIT_MESSAGES="100000 per 10 seconds",
        RATE_LIMIT_UNFURL="100000/minute",
        RATE_LIMIT_VERIFICATION_PER_DAY="100000",
    )
    user = UserFactory(app).make(role=Role(caller))
    return app, user


# The document only; every test case is sent to its own test's app (`app=` below).
schema = schemathesis.openapi.from_wsgi(
    "/api/docs/openapi.json", create_app(TestingConfig({"DATABASE_URL": "sqlite://", "LOG_LEVEL": "ERROR"}))
)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_promises(case, fuzz_target):
    app, user = fuzz_target
    case.call_and_validate(
        app=app, headers={"Authorization": f"Bearer {user.token}"}, excluded_checks=[positive_data_acceptance]
    )
