"""Every committed change to a user or their artist profile moves the user's counter in
common/user_versions, whichever code made it (routes, Celery tasks, the CLI), and a bulk
UPDATE or DELETE of either table moves everyone's: what other processes keep about a user (a
socket's user, a history page with their name) is then reloaded at its next use."""

import sqlalchemy as sa

from seda.common.user_versions import EVERYONE, users_changed
from seda.users.models import ArtistProfile, User

_PENDING = "seda_changed_users"


@sa.event.listens_for(sa.orm.Session, "after_flush")
def _collect(session, _flush_context):
    changed = session.info.get(_PENDING)
    # A new user is in nothing kept yet: moving the counters for each sign-up would only
    # throw away every kept history page (chat/history.py).
    existing = (instance for instance in session.new if not isinstance(instance, User))
    for instance in (*existing, *session.dirty, *session.deleted):
        user_id = instance.id if isinstance(instance, User) else getattr(instance, "user_id", None)
        if user_id is not None and isinstance(instance, User | ArtistProfile):
            if changed is None:
                changed = session.info[_PENDING] = set()
            changed.add(user_id)


@sa.event.listens_for(sa.orm.Session, "do_orm_execute")
def _collect_bulk(state):
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ in (User, ArtistProfile):
        state.session.info.setdefault(_PENDING, set()).add(EVERYONE)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _announce(session):
    changed = session.info.pop(_PENDING, None)
    if changed:
        users_changed(changed)


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget(session):
    session.info.pop(_PENDING, None)
