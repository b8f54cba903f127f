"""The OpenAPI document is fit for code generators (#42): it validates, names every operation,
describes every path parameter, says which keys an answer always has, and a TypeScript client
generated from it compiles."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.helpers.tiers import services_only

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "tests" / "doc_clients"
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture
def document(client):
    response = client.get("/api/docs/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_document_validates_as_openapi_3(document):
    validate(document)


def test_every_operation_has_a_unique_lower_camel_operation_id(document):
    ids = [operation.get("operationId") for _, _, operation in operations(document)]
    assert len(ids) > 90
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*", str(each)) for each in ids), ids
    assert len(set(ids)) == len(ids)
    by_path = {(path, method): operation["operationId"] for path, method, operation in operations(document)}
    assert by_path[("/api/v1/auth/refresh", "post")] == "authRefresh"


def test_every_path_parameter_is_described(document):
    undescribed = [
        (path, parameter["name"])
        for path, item in document["paths"].items()
        for operation in [item, *(item[m] for m in item if m in METHODS)]
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "path" and not parameter.get("description")
    ]
    assert undescribed == []
    room = document["paths"]["/api/v1/chat/rooms/{roomId}"]
    parameters = room.get("parameters") or room["get"]["parameters"]
    assert [p["description"] for p in parameters if p["name"] == "roomId"] == ["The room's id"]


def test_an_answer_has_every_key_and_a_request_only_what_it_requires(document):
    schemas = document["components"]["schemas"]
    message = schemas["Message"]
    assert set(message["required"]) == set(message["properties"]) >= {"id", "seq", "unfurl", "mentions"}
    assert message["properties"]["unfurl"]["enum"] == ["PENDING", "DONE", "FAILED", None]
    assert set(schemas["UserRef"]["required"]) == set(schemas["UserRef"]["properties"])
    sent = schemas["SendMessage"]
    assert "parentId" not in sent.get("required", []) and "trackRef" not in sent.get("required", [])


def test_no_two_shapes_share_a_name(document):
    names = set(document["components"]["schemas"])
    assert {"AuthSession", "ListeningSession"} <= names  # the tokens, and API.md's Session
    assert "Session" not in names
    assert [name for name in names if re.search(r"\d$", name)] == []  # apispec's "Name1" on a clash


@services_only
def test_a_typescript_client_generated_from_the_document_compiles(document, tmp_path):
    if shutil.which("npm") is None:
        pytest.fail("npm is needed to generate and compile the TypeScript client")
    if not (CLIENT / "node_modules" / "openapi-typescript").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=CLIENT, check=True, timeout=300)
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    bin_dir = CLIENT / "node_modules" / ".bin"
    generated = subprocess.run(
        [str(bin_dir / "openapi-typescript"), str(spec), "-o", str(CLIENT / "schema.d.ts")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stderr[-3000:]
    compiled = subprocess.run(
        [str(bin_dir / "tsc"), "-p", str(CLIENT / "tsconfig.json")], capture_output=True, text=True, timeout=120
    )
    assert compiled.returncode == 0, compiled.stdout[-4000:] + compiled.stderr[-2000:]
