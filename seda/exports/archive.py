"""The export's zip: UTF-8 JSON files in the API's own shapes, each array written item by item
from statements read in batches, so the worker holds one batch, never the whole history."""

import json
import zipfile

import sqlalchemy as sa

from seda.auth.models import Device
from seda.chat.models import Message, Reaction, Room, RoomMembership
from seda.chat.payloads import message_payload, reaction_payload, user_ref_of
from seda.chat.schemas import ReactionSchema
from seda.common.db import iso_utc
from seda.extensions import db
from seda.invites import invitations
from seda.invites.schemas import InvitationSchema
from seda.notifications.services import inbox
from seda.notifications.settings import settings_of
from seda.push import subscriptions as push_subscriptions
from seda.push.schemas import PushSubscriptionSchema
from seda.sessions.models import ItemState, QueueItem
from seda.sessions.payloads import item_payload
from seda.users.blocks import blocked_users
from seda.users.schemas import UserRefSchema, UserSchema
from seda.verification.models import VerificationRequest
from seda.verification.schemas import VerificationRequestSchema

FORMAT = "seda-export/1"
BATCH = 1000


def write(path, user, created_at):
    """Write `user`'s export into the zip at `path`."""
    files = {
        "profile.json": lambda: {**UserSchema().dump(user), "notificationSettings": settings_of(user.id)},
        "messages.json": lambda: _messages(user),
        "rooms.json": lambda: _rooms(user),
        "reactions.json": lambda: _reactions(user),
        "notifications.json": lambda: _notifications(user),
        "blocks.json": lambda: _blocks(user),
        "devices.json": lambda: _devices(user),
        "verification-requests.json": lambda: _verification_requests(user),
        "queue-items.json": lambda: _queue_items(user),
        "invitations.json": lambda: _invitations(user),
        "push-subscriptions.json": lambda: PushSubscriptionSchema(many=True).dump(push_subscriptions.listed(user.id)),
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        manifest = {"format": FORMAT, "userId": str(user.id), "createdAt": iso_utc(created_at), "files": list(files)}
        _write_json(archive, "manifest.json", manifest)
        for name, content in files.items():
            _write_json(archive, name, content())


def _invitations(user):
    """Invitations I sent and received, oldest first, as the API shows them."""
    schema = InvitationSchema()
    return (schema.dump(view) for view in invitations.sent_or_received(user.id))


def _write_json(archive, name, value):
    with archive.open(name, "w") as file:
        if isinstance(value, dict):
            file.write(_encode(value))
            return
        file.write(b"[")
        for index, item in enumerate(value):
            file.write((b",\n" if index else b"\n") + _encode(item))
        file.write(b"\n]")


def _encode(value):
    return json.dumps(value, ensure_ascii=False).encode()


def _batched(query):
    """The rows of `query`, fetched BATCH at a time on a connection of their own."""
    with db.engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        yield from result


def _messages(user):
    """Every message I wrote that is not deleted, in any room (rooms I left too), oldest first."""
    m, r, rx = Message.__table__, Room.__table__, Reaction.__table__
    author = user_ref_of(user)
    rows = _batched(
        sa.select(m, r.c.name.label("room_name"))
        .join(r, r.c.id == m.c.room_id)
        .where(m.c.user_id == user.id, m.c.deleted_at.is_(None))
        .order_by(m.c.created_at, m.c.seq, m.c.id)
    )
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield from _with_reactions(batch, author, rx)
            batch = []
    yield from _with_reactions(batch, author, rx)


def _with_reactions(batch, author, rx):
    if not batch:
        return
    reactions = {}
    found = db.session.execute(
        sa.select(rx).where(rx.c.message_id.in_([row.id for row in batch])).order_by(rx.c.created_at, rx.c.id)
    )
    for reaction in found:
        reactions.setdefault(reaction.message_id, []).append(
            reaction_payload(reaction.id, reaction.emoji, reaction.user_id, reaction.created_at)
        )
    for row in batch:
        yield {**message_payload(row, author, reactions.get(row.id, [])), "roomName": row.room_name}


def _rooms(user):
    rows = db.session.execute(
        sa.select(Room.id, Room.name, Room.type, RoomMembership.role, RoomMembership.joined_at)
        .join(RoomMembership, RoomMembership.room_id == Room.id)
        .where(RoomMembership.user_id == user.id)
        .order_by(RoomMembership.joined_at)
    )
    for row in rows:
        yield {
            "roomId": str(row.id),
            "name": row.name,
            "type": row.type.name,
            "role": row.role.name,
            "joinedAt": iso_utc(row.joined_at),
        }


def _reactions(user):
    schema = ReactionSchema()
    query = sa.select(Reaction).where(Reaction.user_id == user.id).order_by(Reaction.created_at, Reaction.id)
    for reaction in db.session.scalars(query.execution_options(yield_per=BATCH)):
        yield schema.dump(reaction)


def _notifications(user):
    """My notifications, without their excerpts: those are other people's messages."""
    cursor = None
    while True:
        page, cursor = inbox(user, 100, cursor)
        yield from ({**notification, "excerpt": None} for notification in page)
        if cursor is None:
            return


def _blocks(user):
    schema, cursor = UserRefSchema(), None
    while True:
        page, cursor = blocked_users(user, 100, cursor)
        yield from (schema.dump(blocked) for blocked in page)
        if cursor is None:
            return


def _devices(user):
    for device in db.session.scalars(sa.select(Device).where(Device.user_id == user.id).order_by(Device.created_at)):
        yield {
            "id": str(device.id),
            "createdAt": iso_utc(device.created_at),
            "lastUsedAt": iso_utc(device.last_used_at),
            "userAgent": device.user_agent,
            "ipAddress": device.ip_address,
            "current": False,
        }


def _verification_requests(user):
    schema = VerificationRequestSchema()  # the claimant's shape: never the evidence
    query = sa.select(VerificationRequest).where(VerificationRequest.user_id == user.id)
    for request in db.session.scalars(query.order_by(VerificationRequest.created_at)):
        yield schema.dump(request)


def _queue_items(user):
    query = sa.select(QueueItem).where(QueueItem.added_by == user.id).order_by(QueueItem.added_at, QueueItem.id)
    for item in db.session.scalars(query.execution_options(yield_per=BATCH)):
        yield {
            **item_payload(item),
            "roomId": str(item.room_id),
            "startedAt": iso_utc(item.started_at) if item.started_at else None,
            "endedAt": iso_utc(item.ended_at) if item.ended_at else None,
            "skipped": item.state == ItemState.SKIPPED,
        }
