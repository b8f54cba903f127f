"""Search finds chat messages: an app that lets a test send many."""

import pytest


@pytest.fixture
def app(app_factory):
    return app_factory(RATE_LIMIT_MESSAGES="1000 per 10 seconds")
