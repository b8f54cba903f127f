"""The chat fixtures: notifications are about chat messages."""

from tests.chat.conftest import chat, socket_for  # noqa: F401
