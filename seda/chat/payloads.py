"""Chat payloads in the contract's shapes, built by hand: broadcasts and history pages dump
thousands a second and marshmallow took ~90 µs per message. The schemas in `seda.chat.schemas`
document the same shapes and tests/chat/test_payloads.py keeps the two equal."""

from seda.chat.schemas import ReactionSchema
from seda.common.db import iso_utc
from seda.users.schemas import DELETED_USER_REF

_reaction_schema = ReactionSchema()


def serialize_message(message):
    """The contract's Message from a stored Message and its loaded author and reactions."""
    return message_payload(message, user_ref_of(message.user), [reaction_ref(r) for r in message.reactions])


def user_ref_of(user):
    """The UserRef of a loaded User (its artist profile loaded with it)."""
    profile = user.artist_profile
    return user_ref(
        user.id,
        user.username,
        user.display_name,
        user.avatar_url,
        user.role,
        profile.artist_name if profile else None,
        profile.verified if profile else None,
        user.deleted_at,
    )


def message_payload(m, user_ref, reactions):
    """`m` is a Message or a history row: both carry the message columns by name."""
    return {
        "id": str(m.id),
        "roomId": str(m.room_id),
        "userId": str(m.user_id),
        "type": m.type.name,
        "text": m.text,
        "trackRef": m.track_ref,
        "parentId": _str_or_none(m.parent_id),
        "clientMessageId": m.client_message_id,
        "seq": m.seq,
        "replyCount": m.reply_count,
        "createdAt": iso_utc(m.created_at),
        "updatedAt": iso_utc(m.updated_at),
        "editedAt": iso_utc(m.edited_at) if m.edited_at else None,
        "user": user_ref,
        "reactions": reactions,
        "mentions": m.mentions or [],
        "unfurl": m.unfurl,
    }


def user_ref(user_id, username, display_name, avatar_url, role, artist_name, verified, deleted_at):
    if deleted_at is not None:
        return {"id": str(user_id), **DELETED_USER_REF}
    return {
        "id": str(user_id),
        "username": username,
        "displayName": display_name,
        "avatarUrl": avatar_url,
        "role": role.name,
        "artistProfile": None if artist_name is None else {"artistName": artist_name, "verified": verified},
        "deleted": False,
    }


def user_ref_columns(users, profiles):
    """The columns `joined_user_ref` reads, for a Core query joined to users and artist_profiles."""
    return (
        users.c.username,
        users.c.display_name,
        users.c.avatar_url,
        users.c.role,
        profiles.c.artist_name,
        profiles.c.verified,
        # Labelled: a message has its own deleted_at, selected alongside.
        users.c.deleted_at.label("author_deleted_at"),
    )


def joined_user_ref(user_id, row):
    """The UserRef of `user_id` from the `user_ref_columns` in `row`."""
    return user_ref(
        user_id,
        row.username,
        row.display_name,
        row.avatar_url,
        row.role,
        row.artist_name,
        row.verified,
        row.author_deleted_at,
    )


def reaction_ref(r):
    return reaction_payload(r.id, r.emoji, r.user_id, r.created_at)


def reaction_payload(reaction_id, emoji, user_id, created_at):
    return {"id": str(reaction_id), "emoji": emoji, "userId": str(user_id), "createdAt": iso_utc(created_at)}


def _str_or_none(value):
    return None if value is None else str(value)


def serialize_reaction(reaction):
    return _reaction_schema.dump(reaction)
