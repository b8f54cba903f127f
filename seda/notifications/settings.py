"""Notification settings (API.md §13): per type, whether a notification may also go out as a
push or in an email digest; how often digests come; quiet hours in the user's own time zone.
The inbox always gets everything: these steer only push and email."""

from datetime import time
from zoneinfo import ZoneInfo

from seda.extensions import db
from seda.notifications.models import EmailDigest, NotificationSettings, NotificationType

EMAILED_BY_DEFAULT = {NotificationType.MENTION, NotificationType.REPLY, NotificationType.DIRECT_MESSAGE}


def defaults_for(kind):
    return {"push": True, "email": kind in EMAILED_BY_DEFAULT}


def settings_of(user_id):
    """The user's settings as the contract shows them (the defaults where nothing is stored)."""
    return shown(db.session.get(NotificationSettings, user_id))


def change(user_id, changes):
    """Apply a validated PATCH: only what it names changes; returns the settings shown."""
    stored = db.session.get(NotificationSettings, user_id)
    if stored is None:
        stored = NotificationSettings(user_id=user_id, types={}, email_digest=EmailDigest.HOURLY, time_zone="UTC")
        db.session.add(stored)
    if "types" in changes:
        types = {kind: dict(channels) for kind, channels in (stored.types or {}).items()}
        for kind, channels in changes["types"].items():
            types.setdefault(kind, {}).update(channels)
        stored.types = types
    if "emailDigest" in changes:
        stored.email_digest = EmailDigest(changes["emailDigest"])
    if "quietHours" in changes:
        hours = changes["quietHours"]
        stored.quiet_start, stored.quiet_end = (hours["start"], hours["end"]) if hours else (None, None)
    if "timeZone" in changes:
        stored.time_zone = changes["timeZone"]
    db.session.commit()
    return shown(stored)


def is_quiet(shown, moment):
    """Whether `moment` (aware) falls in the quiet hours of `shown` settings: wall-clock times in
    their time zone, so daylight saving moves them with the clocks; over midnight when start > end."""
    hours = shown["quietHours"]
    if hours is None:
        return False
    local = moment.astimezone(ZoneInfo(shown["timeZone"])).time().replace(second=0, microsecond=0, tzinfo=None)
    start, end = _clock(hours["start"]), _clock(hours["end"])
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _clock(text):
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def shown(stored):
    """The settings as the contract shows them from the stored row (None: the defaults)."""
    overrides = (stored.types or {}) if stored is not None else {}
    types = {kind.value: {**defaults_for(kind), **overrides.get(kind.value, {})} for kind in NotificationType}
    quiet = None
    if stored is not None and stored.quiet_start is not None:
        quiet = {"start": stored.quiet_start, "end": stored.quiet_end}
    return {
        "types": types,
        "emailDigest": (stored.email_digest if stored is not None else EmailDigest.HOURLY).value,
        "quietHours": quiet,
        "timeZone": stored.time_zone if stored is not None else "UTC",
    }
