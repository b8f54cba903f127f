"""The hand-built message payloads (broadcasts and acks from objects, history from rows) are
exactly what MessageSchema, which documents them in the OpenAPI spec, would give."""

import uuid

import sqlalchemy as sa

from seda.chat.models import Message
from seda.chat.payloads import serialize_message
from seda.chat.schemas import MessageSchema
from seda.extensions import db
from seda.users.models import Role

CARD = {
    "provider": "youtube",
    "providerId": "dQw4w9WgXcQ",
    "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "title": "Mine",
    "artist": None,
    "artwork": None,
    "duration": None,
}


def test_every_kind_of_message_serialises_as_the_schema_says(app, chat, users):
    artist = chat(users.make(role=Role.ARTIST, artist_name="Nils", display_name="Nils F."))
    fan = chat()
    room = artist.room()
    fan.post(f"/rooms/{room['id']}/join")
    plain = artist.send(room["id"], "plain")
    reply = fan.send(room["id"], "a reply", parentId=plain["id"], clientMessageId="c-1")
    card = fan.send(room["id"], "with a card", trackRef=CARD)
    artist.patch(f"/messages/{plain['id']}", json={"text": "plain, edited"})
    for emoji in ("🔥", "🎧"):
        fan.post(f"/messages/{plain['id']}/reactions", json={"emoji": emoji})
    with app.app_context():
        stored = db.session.scalars(sa.select(Message).where(Message.room_id == uuid.UUID(room["id"]))).unique().all()
        assert {str(m.id) for m in stored} >= {plain["id"], reply["id"], card["id"]}
        for message in stored:
            assert serialize_message(message) == MessageSchema().dump(message)
        by_id = {str(m.id): serialize_message(m) for m in stored}
        edited = next(m for m in stored if str(m.id) == plain["id"])
        payload = serialize_message(edited)
        assert payload["editedAt"] and len(payload["reactions"]) == 2
        assert payload["user"]["artistProfile"] == {"artistName": "Nils", "verified": False}
    # History builds the same payloads from rows, without the ORM.
    for query in ("", f"&parentId={plain['id']}", f"&after={plain['id']}"):
        status, page = fan.get(f"/rooms/{room['id']}/messages?limit=50{query}")
        assert status == 200 and page
        assert [by_id[item["id"]] for item in page] == page
