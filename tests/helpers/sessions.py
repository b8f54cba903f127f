"""Listening sessions: tracks to queue (Spotify links seda recognises without a network call),
members and their queue requests."""

import itertools

_ids = itertools.count(1)


def track(duration=None, title="Windowlicker", **extra):
    provider_id = f"4uLU6hMCjMI75M{next(_ids):08d}"
    return {
        "provider": "spotify",
        "providerId": provider_id,
        "url": f"https://open.spotify.com/track/{provider_id}",
        "title": title,
        "artist": "Aphex Twin",
        "duration": duration,
        **extra,
    }


def member_of(chat, room_id, **kwargs):
    person = chat(**kwargs)
    status, body = person.post(f"/rooms/{room_id}/join")
    assert status in (200, 201), body
    return person


def queue(person, room_id, **body):
    return person.post(f"/rooms/{room_id}/session/queue", json=body)
