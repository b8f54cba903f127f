import marshmallow as ma


class HealthChecksSchema(ma.Schema):
    database = ma.fields.Boolean(allow_none=True)
    redis = ma.fields.Boolean(allow_none=True)
    worker = ma.fields.Boolean(allow_none=True)


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"enum": ["healthy", "degraded", "unhealthy"]})
    checks = ma.fields.Nested(HealthChecksSchema)
    uptime = ma.fields.Float(metadata={"description": "Seconds since this process started"})
    timestamp = ma.fields.String()
    version = ma.fields.String()


class LivenessSchema(ma.Schema):
    status = ma.fields.String()
