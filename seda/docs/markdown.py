"""docs/API.md: every REST route and every Socket.IO event, written from the OpenAPI and AsyncAPI
documents, so that a clone carries its contract (`flask --app wsgi seda docs` writes it again;
tests/docs/test_markdown.py fails when the committed file is behind the code)."""

import json

from seda.common.api import api
from seda.docs.asyncapi import asyncapi_document
from seda.docs.openapi import openapi_document

_METHODS = ("get", "post", "put", "patch", "delete")

INTRODUCTION = """\
# seda API

Written from the code by `flask --app wsgi seda docs`; do not edit by hand. The same contract,
live: Swagger UI at `/api/docs`, `/api/docs/openapi.json`, `/api/docs/asyncapi.json` and the
events page `/api/docs/events` of a running server.

Every route is under `/api/v1`. Authenticated routes take `Authorization: Bearer <access token>`
(seda's own from `POST /auth/login`, or a Supabase token). Every error is one envelope:
`{statusCode, error, message: [..], timestamp, path, method, requestId}`; `message` is a list of
human-readable reasons, field errors prefixed with the field (`text: Text must not be empty.`).
Any route may answer 503 with `Retry-After` when the server is saturated, and 429 with
`Retry-After` past a rate limit.

Real time is Socket.IO 4 on the namespace `/chat` at the API's own host: connect with
`auth: {token}`, emit events with an ack callback, and listen for the server's events (below).
"""


def api_markdown():
    """docs/API.md's text (within an app context)."""
    rest, events = openapi_document(api), asyncapi_document()
    parts = [INTRODUCTION, "## REST routes\n"]
    for tag in rest.get("tags", []):
        operations = list(_operations_of(rest, tag["name"]))
        if not operations:
            continue
        parts.append(f"### {tag['name']}\n")
        if tag.get("description"):
            parts.append(f"{tag['description']}\n")
        for path, method, operation in operations:
            parts.append(_operation(path, method, operation))
    parts.append("## Socket.IO events (namespace `/chat`)\n")
    parts.append("### A client emits (each is acked)\n")
    for name, operation in events["operations"].items():
        if operation["action"] == "receive":
            parts.append(_event(name, operation, events, acked=True))
    parts.append("### The server emits\n")
    for name, operation in events["operations"].items():
        if operation["action"] == "send":
            parts.append(_event(name, operation, events, acked=False))
    parts.append("## Schemas\n")
    parts.append("The shapes named above, as JSON Schema (REST and events share them).\n")
    for name, schema in sorted(rest["components"]["schemas"].items()):
        parts.append(f"### {name}\n\n{_fields(schema)}\n")
    return "\n".join(parts).rstrip() + "\n"


def _operations_of(document, tag):
    for path, item in document["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is not None and tag in operation.get("tags", []):
                yield path, method, operation


def _operation(path, method, operation):
    lines = [f"#### `{method.upper()} {path}`\n"]
    if operation.get("summary"):
        lines.append(operation["summary"] + "\n")
    if operation.get("description"):
        lines.append(operation["description"].strip() + "\n")
    secured = operation.get("security")
    lines.append(f"- Caller: {'a signed-in user' if secured else 'anyone'}; operationId `{operation['operationId']}`")
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query":
            lines.append(
                f"- Query `{parameter['name']}`: {parameter.get('description') or _type(parameter.get('schema'))}"
            )
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body:
        lines.append(f"- Body: {_ref_name(body)}")
    for status, response in sorted(operation.get("responses", {}).items()):
        if status == "default":
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        shape = f" {_ref_name(schema)}" if schema else ""
        description = response.get("description", "")
        lines.append(f"- {status}{shape}: {description}" if description else f"- {status}{shape}")
    return "\n".join(lines) + "\n"


def _event(name, operation, document, acked):
    message = document["components"]["messages"][name]
    lines = [f"#### `{name}`\n", operation["summary"] + "\n", f"- Payload: {_payload(message['payload'])}"]
    if acked:
        ack = document["components"]["messages"][f"{name}_ack"]["payload"]["oneOf"][0]
        lines.append(f"- Ack: {_ref_name(ack)}, or the error envelope with `ok: false`")
    return "\n".join(lines) + "\n"


def _payload(payload):
    if payload.get("type") == "null":
        return "none"
    if payload.get("type") == "array":
        return "the arguments " + ", ".join(
            f"`{item.get('description', '')}` ({_ref_name(item)})" for item in payload["items"]
        )
    return _ref_name(payload)


def _ref_name(schema):
    if not isinstance(schema, dict):
        return "?"
    if "$ref" in schema:
        return f"[{schema['$ref'].rsplit('/', 1)[-1]}](#{schema['$ref'].rsplit('/', 1)[-1].lower()})"
    if schema.get("type") == "array":
        return f"list of {_ref_name(schema.get('items', {}))}"
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _ref_name(schema["allOf"][0])
    return _type(schema)


def _type(schema):
    if not schema:
        return "any"
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return kind


def _fields(schema):
    properties = schema.get("properties", {})
    if not properties:
        return _type(schema)
    required = set(schema.get("required", []))
    rows = ["| field | type | |", "|---|---|---|"]
    for name, field in properties.items():
        kind = _ref_name(field) if "$ref" in field or "allOf" in field or field.get("type") == "array" else _type(field)
        if field.get("nullable"):
            kind += " or null"
        note = (field.get("description") or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{name}`{'' if name in required else ' (optional)'} | {kind} | {note} |")
    return "\n".join(rows)
