"""A room with a listening session."""

import pytest


@pytest.fixture
def room(chat):
    """A public room with its owner, and a session the owner hosts: (owner, room id)."""
    owner = chat()
    room_id = owner.room()["id"]
    status, body = owner.post(f"/rooms/{room_id}/session")
    assert status == 201, body
    return owner, room_id
