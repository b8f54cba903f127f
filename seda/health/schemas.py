import marshmallow as ma


class HealthChecksSchema(ma.Schema):
    database = ma.fields.Boolean(allow_none=True)
    redis = ma.fields.Boolean(allow_none=True)
    worker = ma.fields.Boolean(allow_none=True)
    admission = ma.fields.Boolean(
        metadata={"description": "false while a request or socket event has waited more than 5 s for its turn"}
    )


class AdmissionSchema(ma.Schema):
    active = ma.fields.Integer(metadata={"description": "Requests and socket events doing their work now"})
    waiting = ma.fields.Integer(metadata={"description": "Requests and socket events waiting for a turn"})
    longestWaitMs = ma.fields.Integer(metadata={"description": "How long the longest waiter has waited"})


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"enum": ["healthy", "degraded", "unhealthy"]})
    checks = ma.fields.Nested(HealthChecksSchema)
    admission = ma.fields.Nested(AdmissionSchema)
    uptime = ma.fields.Float(metadata={"description": "Seconds since this process started"})
    timestamp = ma.fields.String()
    version = ma.fields.String()


class LivenessSchema(ma.Schema):
    status = ma.fields.String()
