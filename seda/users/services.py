"""Users and artist profiles: the rules, with no Flask request in sight."""

import sqlalchemy as sa

from seda.common import audit
from seda.common.db import autocommit_connection, escape_like, parse_uuid, utcnow
from seda.common.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from seda.common.lookup import get_or_404
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.realtime import emits
from seda.users import usernames, versions  # noqa: F401  (versions: user versions move on commit)
from seda.users.kept import kept_users
from seda.users.models import ArtistProfile, Role, User, UserBlock, UsernameHold
from seda.users.schemas import DELETED_USER_REF

PROFILE_FIELDS = {"displayName": "display_name", "avatarUrl": "avatar_url", "bio": "bio"}
ARTIST_FIELDS = {
    "artistName": "artist_name",
    "bio": "bio",
    "websiteUrl": "website_url",
    "spotifyUrl": "spotify_url",
    "bandcampUrl": "bandcamp_url",
    "soundcloudUrl": "soundcloud_url",
}
# Built once: constructing the statement costs more CPU than running it (a socket connect).
_STANDING_BY_ID = sa.select(User.banned, User.deleted_at).where(User.id == sa.bindparam("user_id"))
USER_NOT_FOUND = "User not found"


def get_user(user_id):
    """A user others may find: a deleted account is not found (API.md §12)."""
    user = get_or_404(User, user_id, USER_NOT_FOUND)
    if user.deleted:
        raise NotFound(USER_NOT_FOUND)
    return user


def find_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def default_display_name(email):
    return (email.split("@", 1)[0] or "listener")[:50]


def user_for_identity(identity):
    """The active user a verified token speaks for; Supabase users are created on first sight."""
    if identity.issuer == "seda":
        user_id = claimed_user_id(identity)
        user = kept_users().load(user_id) if user_id is not None else None
    else:
        user = _supabase_user(identity)
    if user is None or user.deleted:
        raise Unauthorized()
    if user.banned:
        raise Forbidden("Account suspended")
    return user


def claimed_user_id(identity):
    """The user id one of seda's own tokens names (None for other issuers or a malformed one)."""
    return parse_uuid(identity.subject) if identity.issuer == "seda" else None


def active_user_id(identity):
    """The id of the active user a verified token speaks for, as `user_for_identity` decides,
    but for seda's own tokens with one statement and no transaction: a socket connect needs
    nothing else, and a reconnect storm makes a thousand of them at once."""
    if identity.issuer != "seda":
        return user_for_identity(identity).id
    user_id = claimed_user_id(identity)
    standing = None
    if user_id is not None:
        with autocommit_connection(db.engine) as connection:
            standing = connection.execute(_STANDING_BY_ID, {"user_id": user_id}).first()
    if standing is None or standing.deleted_at is not None:
        raise Unauthorized()
    if standing.banned:
        raise Forbidden("Account suspended")
    return user_id


def _supabase_user(identity):
    user = db.session.scalar(sa.select(User).where(User.supabase_id == identity.subject))
    if user is not None:
        return user
    email = identity.email.strip().lower() if identity.email else None
    existing = find_by_email(email) if email else None
    if existing is not None and existing.deleted:
        # Waiting for its purge: nobody signs in to it, nor gets a second account with its address.
        return None
    if existing is not None and existing.supabase_id is None:
        # The same person signed up with seda first: link the accounts instead of failing.
        existing.supabase_id = identity.subject
        db.session.commit()
        return existing
    display_name = default_display_name(email or "listener")
    user = User(
        supabase_id=identity.subject,
        email=email if existing is None else None,
        email_verified=True,  # Supabase owns the address
        display_name=display_name,
        username=usernames.derive(display_name),
    )
    db.session.add(user)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # Two first requests raced; the other one created the row.
        db.session.rollback()
        user = db.session.scalar(sa.select(User).where(User.supabase_id == identity.subject))
    return user


def update_profile(user, changes):
    if "username" in changes:
        usernames.change(user, changes["username"])
    for key, column in PROFILE_FIELDS.items():
        if key in changes:
            setattr(user, column, changes[key])
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # Only the username is unique here: someone claimed it between the check and the commit.
        db.session.rollback()
        raise Conflict(usernames.TAKEN) from None
    return user


def put_artist_profile(user, fields):
    profile = user.artist_profile
    if profile is None:
        profile = ArtistProfile(user_id=user.id, artist_name=fields["artistName"])
        db.session.add(profile)
        user.artist_profile = profile
    elif profile.verified and fields["artistName"] != profile.artist_name:
        raise Conflict("A verified artist name cannot be changed")
    for key, column in ARTIST_FIELDS.items():
        # PUT replaces the profile: a field left out is cleared, the name is always given.
        setattr(profile, column, fields.get(key))
    profile.updated_at = utcnow()
    db.session.commit()
    return user


def create_or_promote_admin(email, password_hash, super_admin):
    """Create an admin account, or promote the account that has this email; (user, created).
    An existing account keeps its password unless `password_hash` is given."""
    role = Role.SUPER_ADMIN if super_admin else Role.ADMIN
    user = find_by_email(email)
    created = user is None
    if created:
        display_name = default_display_name(email)
        user = User(email=email.strip().lower(), display_name=display_name, username=usernames.derive(display_name))
        db.session.add(user)
    if password_hash is not None:
        user.password_hash = password_hash
    user.role = role
    user.email_verified = True
    db.session.commit()
    return user, created


def search_users(q, limit, cursor=None):
    """Users whose username or display name starts with `q` (case-insensitive), by username;
    banned users are left out. Returns (users, next cursor: the last user's id).

    Two queries, one per index, merged here: with the two prefixes OR-ed in one query,
    PostgreSQL walks the whole username index in order for a prefix that matches late in the
    alphabet (1.1 s on 1,000,000 users). Usernames are ASCII and compared byte by byte (the
    C collation on PostgreSQL, SQLite's default), so both tiers page in the same order and the
    username index serves both the prefix and the order."""
    prefix = escape_like(q.removeprefix("@").lower()) + "%"
    by_bytes = _byte_order(User.username)
    after = None
    if cursor is not None:
        anchor_id = parse_uuid(cursor)
        after = db.session.scalar(sa.select(User.username).where(User.id == anchor_id)) if anchor_id else None
        if after is None:
            raise ValidationFailed("cursor: Not an item of this list.")
    found = {}
    for match in (by_bytes.like(prefix, escape="\\"), sa.func.lower(User.display_name).like(prefix, escape="\\")):
        query = sa.select(User).where(User.banned.is_(False), User.deleted_at.is_(None), match)
        if after is not None:
            query = query.where(by_bytes > after)
        for user in db.session.scalars(query.order_by(by_bytes).limit(limit + 1)):
            found[user.id] = user
    ordered = sorted(found.values(), key=lambda user: user.username.encode())
    page = ordered[:limit]
    return page, (str(page[-1].id) if len(ordered) > limit else None)


def _byte_order(column):
    return column.collate("C") if db.engine.dialect.name == "postgresql" else column


def get_by_username(name):
    user = db.session.scalar(sa.select(User).where(User.username == name.lower(), User.deleted_at.is_(None)))
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user


# -- admin ------------------------------------------------------------------------------------

ADMIN_ROLES = (Role.ADMIN, Role.SUPER_ADMIN)


def mark_verified_artist(user, when):
    """Make `user` a verified artist (admins keep their role); the caller commits."""
    if user.artist_profile is None:
        user.artist_profile = ArtistProfile(artist_name=user.display_name[:50])
    user.artist_profile.verified = True
    user.artist_profile.verified_at = when
    if not user.role.is_admin:
        user.role = Role.ARTIST


def admin_list_users(limit, cursor=None, q=None, role=None, banned=None):
    """Every account but the purged ones (a deleted one is listed until its purge)."""
    query = sa.select(User).where(User.purged_at.is_(None))
    if q:
        pattern = f"%{escape_like(q).lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(User.email).like(pattern, escape="\\"),
                sa.func.lower(User.display_name).like(pattern, escape="\\"),
            )
        )
    if role is not None:
        query = query.where(User.role == Role(role))
    if banned is not None:
        query = query.where(User.banned.is_(banned))
    return keyset_page(query, (User.created_at,), User.id, cursor, limit)


def set_role(actor, user_id, role):
    """ADMIN sets USER/ARTIST; only SUPER_ADMIN grants or removes admin roles; never one's own."""
    target, role = get_user(user_id), Role(role)
    if actor.user_id == target.id:
        raise Forbidden("You cannot change your own role")
    touches_admin = role in ADMIN_ROLES or target.role in ADMIN_ROLES
    if touches_admin and not actor.is_super_admin:
        raise Forbidden("Only a SUPER_ADMIN grants or removes admin roles")
    if target.role == Role.SUPER_ADMIN and role != Role.SUPER_ADMIN and super_admin_count() == 1:
        raise Conflict("The last SUPER_ADMIN cannot be demoted")
    previous = target.role
    target.role = role
    audit.record(actor, "user.role", "user", target.id, {"from": previous.value, "to": role.value})
    db.session.commit()
    return target


def super_admin_count():
    """SUPER_ADMINs who can act: a deleted one cannot sign in."""
    return db.session.scalar(sa.select(sa.func.count()).where(User.role == Role.SUPER_ADMIN, User.deleted_at.is_(None)))


def ban_user(actor, user_id, reason):
    """Suspend an account: its tokens answer 403 at once and its sockets are disconnected."""
    target = get_user(user_id)
    _refuse_unless_outranks(actor, target)
    target.banned, target.banned_reason, target.banned_at = True, reason, utcnow()
    audit.record(actor, "user.ban", "user", target.id, {"reason": reason})
    db.session.commit()
    emits.disconnect_user(target.id)
    return target


def unban_user(actor, user_id):
    target = get_user(user_id)
    _refuse_unless_outranks(actor, target)
    target.banned, target.banned_reason, target.banned_at = False, None, None
    audit.record(actor, "user.unban", "user", target.id)
    db.session.commit()
    return target


def _refuse_unless_outranks(actor, target):
    if actor.user_id == target.id:
        raise Forbidden("You cannot do this to your own account")
    if target.role in ADMIN_ROLES and not actor.is_super_admin:
        raise Forbidden("Only a SUPER_ADMIN may suspend an admin")


def erase_profile(user):
    """Erase what a purged account told about itself, its blocks both ways and the names it
    held (in the caller's transaction): its email and username are free at once (API.md §12)."""
    user.email = user.pending_email = user.username = user.username_changed_at = None
    user.display_name, user.avatar_url, user.bio = DELETED_USER_REF["displayName"], None, None
    user.email_verified, user.role, user.last_export_at = False, Role.USER, None
    if user.artist_profile is not None:
        db.session.delete(user.artist_profile)
    db.session.execute(
        sa.delete(UserBlock).where(sa.or_(UserBlock.blocker_id == user.id, UserBlock.blocked_id == user.id))
    )
    db.session.execute(sa.delete(UsernameHold).where(UsernameHold.user_id == user.id))
