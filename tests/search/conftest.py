"""The chat fixtures (search finds chat messages), on an app that lets a test send many."""

import pytest

from tests.chat.conftest import chat  # noqa: F401


@pytest.fixture
def app(app_factory):
    return app_factory(RATE_LIMIT_MESSAGES="1000 per 10 seconds")
