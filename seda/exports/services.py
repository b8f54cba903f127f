"""Asking for an export, building it (a task), downloading it, and letting it expire."""

import logging
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from seda.common.db import parse_uuid, utcnow
from seda.common.errors import Conflict, Gone, NotFound, RateLimited
from seda.common.tasks import enqueue
from seda.exports import archive
from seda.exports.models import DataExport, ExportStatus
from seda.exports.schemas import ExportSchema
from seda.extensions import db
from seda.mail import compose
from seda.mail.services import send as send_mail
from seda.realtime import emits
from seda.users.models import User
from seda.users.versions import USER_STATE_UNCHANGED

log = logging.getLogger(__name__)

BUILD_TASK = "exports.build"
EXPIRE_TASK = "exports.expire"
ONE_A_DAY = timedelta(hours=24)


def request_export(user):
    """A new export, PENDING, built by a task: one per rolling 24 h (a failed one does not count).
    The day's export is claimed by one conditional UPDATE: racing requests get one export."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.last_export_at.is_(None), User.last_export_at <= now - ONE_A_DAY))
        .values(last_export_at=now),
        execution_options={"synchronize_session": False, USER_STATE_UNCHANGED: True},
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        last = db.session.scalar(sa.select(User.last_export_at).where(User.id == user.id))
        raise RateLimited("One export per day", retry_after=(last + ONE_A_DAY - now).total_seconds())
    export = DataExport(user_id=user.id, created_at=now)
    db.session.add(export)
    db.session.commit()
    enqueue(BUILD_TASK, str(export.id))
    return export


def exports_of(user):
    query = sa.select(DataExport).where(DataExport.user_id == user.id)
    return db.session.scalars(query.order_by(DataExport.created_at.desc(), DataExport.id)).all()


def export_of(user, export_id):
    export_id = parse_uuid(export_id)
    export = db.session.get(DataExport, export_id) if export_id is not None else None
    if export is None or export.user_id != user.id:
        raise NotFound("Export not found")
    return export


def download(user, export_id):
    """(path of the zip, file name to give it) of a READY export."""
    export = export_of(user, export_id)
    if export.status == ExportStatus.EXPIRED or (export.expires_at is not None and export.expires_at <= utcnow()):
        raise Gone("Export expired")
    if export.status != ExportStatus.READY:
        raise Conflict("Export is not ready")
    path = _path(export.id)
    if not path.exists():  # swept meanwhile, or EXPORT_DIR is not the volume the worker wrote to
        log.error("export %s is READY but its file %s is missing", export.id, path)
        raise Gone("Export expired")
    return path, f"seda-export-{export.created_at:%Y-%m-%d}.zip"


def build(export_id):
    """Build the zip of one PENDING export (a retried or doubled task builds nothing twice)."""
    started = db.session.execute(
        sa.update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == ExportStatus.PENDING)
        .values(status=ExportStatus.RUNNING)
    ).rowcount
    db.session.commit()
    if started != 1:
        return
    export = db.session.get(DataExport, export_id)
    user = db.session.get(User, export.user_id)
    path = _path(export.id)
    aside = path.with_suffix(".part")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        archive.write(aside, user, export.created_at)
        aside.replace(path)
    except Exception:
        log.exception("export %s failed", export.id)
        aside.unlink(missing_ok=True)
        db.session.rollback()
        _failed(export, user)
        return
    now = utcnow()
    ready = db.session.execute(
        sa.update(DataExport)
        .where(DataExport.id == export.id, DataExport.status == ExportStatus.RUNNING)
        .values(
            status=ExportStatus.READY,
            completed_at=now,
            size_bytes=path.stat().st_size,
            expires_at=now + timedelta(hours=current_app.config["EXPORT_TTL_HOURS"]),
        )
    ).rowcount
    db.session.commit()
    if ready != 1:  # dropped meanwhile: its account was deleted
        path.unlink(missing_ok=True)
        return
    db.session.refresh(export)
    emits.to_user(user.id, "export_updated", {"export": export_payload(export)})
    send_mail(compose.export_ready(user.email))


def expire():
    """Delete the files of exports past their expiry and mark them EXPIRED (the periodic sweep)."""
    due = db.session.scalars(
        sa.select(DataExport).where(DataExport.status == ExportStatus.READY, DataExport.expires_at <= utcnow())
    ).all()
    for export in due:
        _path(export.id).unlink(missing_ok=True)
        export.status = ExportStatus.EXPIRED
    db.session.commit()
    return len(due)


def drop_unfinished_of(user_id):
    """A deleted account's exports not yet built are dropped (in the caller's transaction); a
    build under way finds its row gone and keeps no file."""
    db.session.execute(
        sa.delete(DataExport).where(
            DataExport.user_id == user_id, DataExport.status.in_((ExportStatus.PENDING, ExportStatus.RUNNING))
        )
    )


def erase_all_of(user_id):
    """Delete every export of a purged account (in the caller's transaction); returns the files
    to delete once it commits (delete_files)."""
    ids = db.session.scalars(sa.delete(DataExport).where(DataExport.user_id == user_id).returning(DataExport.id))
    return [_path(export_id) for export_id in ids]


def delete_files(paths):
    for path in paths:
        path.unlink(missing_ok=True)


def export_payload(export):
    """The contract's Export (for the `export_updated` event; routes dump it with its schema)."""
    return ExportSchema().dump(export)


def _failed(export, user):
    export = db.session.get(DataExport, export.id)
    if export is None:  # dropped meanwhile: its account was deleted
        return
    export.status = ExportStatus.FAILED
    db.session.execute(  # a failed export does not count toward the day's one
        sa.update(User).where(User.id == user.id, User.last_export_at == export.created_at).values(last_export_at=None),
        execution_options={"synchronize_session": False, USER_STATE_UNCHANGED: True},
    )
    db.session.commit()
    emits.to_user(user.id, "export_updated", {"export": export_payload(export)})


def _path(export_id):
    return Path(current_app.config["EXPORT_DIR"]) / f"{export_id}.zip"
