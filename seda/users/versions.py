"""Every committed change to a user or their artist profile moves the user's counter in
common/user_versions, whichever code made it (routes, Celery tasks, the CLI), and a bulk
UPDATE or DELETE of either table moves everyone's: what other processes keep about a user (a
socket's user, a history page with their name) is then reloaded at its next use."""

from seda.common.kept import track
from seda.common.user_versions import EVERYONE, users_changed
from seda.users.models import ArtistProfile, User


def _changed_user(instance, added):
    # A new user is in nothing kept yet: moving the counters for each sign-up would only
    # throw away every kept history page (chat/history.py).
    if isinstance(instance, User):
        return () if added else (instance.id,)
    return (instance.user_id,) if instance.user_id is not None else ()


# Execution option of a bulk UPDATE of users that changes nothing kept about them (the last TOTP
# step spent): it moves no version.
USER_STATE_UNCHANGED = "seda_user_state_unchanged"

track(
    (User, ArtistProfile),
    names_of=_changed_user,
    bulk=EVERYONE,
    announce=users_changed,
    bulk_unless=USER_STATE_UNCHANGED,
)
