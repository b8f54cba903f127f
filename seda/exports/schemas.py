import marshmallow as ma
from flask import current_app

from seda.common.schemas import Timestamp
from seda.exports.models import ExportStatus


class ExportSchema(ma.Schema):
    id = ma.fields.UUID()
    status = ma.fields.Enum(ExportStatus)
    createdAt = Timestamp(attribute="created_at")
    completedAt = Timestamp(attribute="completed_at", allow_none=True)
    expiresAt = Timestamp(attribute="expires_at", allow_none=True)
    sizeBytes = ma.fields.Integer(attribute="size_bytes", allow_none=True)
    downloadUrl = ma.fields.Method("download_url", metadata={"type": "string", "nullable": True})

    def download_url(self, export):
        if export.status != ExportStatus.READY:
            return None
        return f"{current_app.config['API_PREFIX']}/users/me/exports/{export.id}/download"
