import marshmallow as ma

from seda.common.schemas import HttpsUrl, PageQuerySchema, Timestamp, Trimmed
from seda.users.models import Role
from seda.users.usernames import problem_with

Length = ma.validate.Length


class ArtistRefSchema(ma.Schema):
    artistName = ma.fields.String(attribute="artist_name")
    verified = ma.fields.Boolean()


class ArtistProfileSchema(ArtistRefSchema):
    bio = ma.fields.String(allow_none=True)
    verifiedAt = Timestamp(attribute="verified_at", allow_none=True)
    websiteUrl = ma.fields.String(attribute="website_url", allow_none=True)
    spotifyUrl = ma.fields.String(attribute="spotify_url", allow_none=True)
    bandcampUrl = ma.fields.String(attribute="bandcamp_url", allow_none=True)
    soundcloudUrl = ma.fields.String(attribute="soundcloud_url", allow_none=True)


# What others see of a deleted account (API.md §12) in place of its name, picture and role.
DELETED_USER_REF = {
    "username": None,
    "displayName": "Deleted user",
    "avatarUrl": None,
    "role": Role.USER.value,
    "artistProfile": None,
    "deleted": True,
}


class UserRefSchema(ma.Schema):
    """A user as others see them: never the email; a deleted account as "Deleted user"."""

    # Whether a deleted account reads as DELETED_USER_REF; its owner's and admins' views do not.
    masks_deleted = True

    id = ma.fields.UUID()
    username = ma.fields.String(
        allow_none=True,
        metadata={"description": "Unique handle, lower-case; addressed as @username (null: a deleted account)"},
    )
    displayName = ma.fields.String(attribute="display_name")
    avatarUrl = ma.fields.String(attribute="avatar_url", allow_none=True)
    role = ma.fields.Enum(Role)
    artistProfile = ma.fields.Nested(ArtistRefSchema, attribute="artist_profile", allow_none=True)
    deleted = ma.fields.Boolean(metadata={"description": "A deleted account (section 12): it reads as Deleted user"})

    @ma.post_dump
    def _deleted_reads_as_deleted_user(self, data, **_kwargs):
        if data.get("deleted") and self.masks_deleted:
            return {"id": data["id"], **DELETED_USER_REF}
        return data


class PublicUserSchema(UserRefSchema):
    bio = ma.fields.String(allow_none=True)
    createdAt = Timestamp(attribute="created_at")


class UserSchema(PublicUserSchema):
    """A user as they and admins see them."""

    masks_deleted = False

    email = ma.fields.String(allow_none=True)
    emailVerified = ma.fields.Boolean(attribute="email_verified")
    pendingEmail = ma.fields.String(attribute="pending_email", allow_none=True)
    twoFactorEnabled = ma.fields.Boolean(attribute="two_factor_enabled")
    banned = ma.fields.Boolean()
    artistProfile = ma.fields.Nested(ArtistProfileSchema, attribute="artist_profile", allow_none=True)


class AdminUserSchema(UserSchema):
    """A user in admin views: a deleted account until its purge, with when it goes."""

    deletedAt = Timestamp(attribute="deleted_at", allow_none=True)
    purgeAt = Timestamp(attribute="purge_at", allow_none=True)


def _valid_username(name):
    problem = problem_with(name)
    if problem is not None:
        raise ma.ValidationError(problem)


class Username(ma.fields.String):
    """3-30 of [A-Za-z0-9_], not all digits, not reserved (API.md section 8); stored lower-case."""

    def __init__(self, metadata=None, **kwargs):
        metadata = {"pattern": "^[A-Za-z0-9_]{3,30}$", **(metadata or {})}
        super().__init__(validate=_valid_username, metadata=metadata, **kwargs)


class UpdateMeSchema(ma.Schema):
    username = Username(
        metadata={
            "description": "Changeable once after signup, then once per 30 days (409 with the date "
            "it can change again); a name given up stays reserved for its last owner for 30 days.",
        }
    )
    displayName = Trimmed(validate=Length(1, 50))
    avatarUrl = HttpsUrl(allow_none=True)
    bio = Trimmed(validate=Length(max=500), allow_none=True)


class ArtistProfileInputSchema(ma.Schema):
    artistName = Trimmed(required=True, validate=Length(1, 50))
    bio = Trimmed(validate=Length(max=500), allow_none=True)
    websiteUrl = HttpsUrl(allow_none=True)
    spotifyUrl = HttpsUrl(allow_none=True)
    bandcampUrl = HttpsUrl(allow_none=True)
    soundcloudUrl = HttpsUrl(allow_none=True)


class UserIdPathSchema(ma.Schema):
    userId = ma.fields.String(required=True)


def _names_something(q):
    if not q.removeprefix("@"):
        raise ma.ValidationError("A name to search for must follow the @.")


class UserSearchQuerySchema(PageQuerySchema):
    q = Trimmed(
        required=True,
        validate=[Length(1, 50), _names_something],
        metadata={"description": "Prefix of a username or display name, case-insensitive; one leading @ is ignored"},
    )
