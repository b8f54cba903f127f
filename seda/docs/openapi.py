"""The OpenAPI document as code generators need it (#42): what flask-smorest builds, completed.

- Every operation has an `operationId`, from its view: `auth.refresh` → `authRefresh`.
- Every property of a schema that only answers carry is `required`: an answer has every key of
  its shape (null when it has no value, API.md §1), so a generated client must not make them
  optional; a field marked OPTIONAL (API.md: "absent on …") is the exception. Schemas that
  requests use keep their own `required` lists.
- Path parameters are named as API.md names them (`{roomId}`, not the view's `room_id`) and
  each says what it is.

Built once per app, on the first read.
"""

import copy
import re
import threading

from flask import current_app

from seda.common.schemas import OPTIONAL

_APP_KEY = "seda_openapi_document"
_building = threading.Lock()  # first reads may come at once
_REF = "#/components/schemas/"
_METHODS = ("get", "put", "post", "patch", "delete")


def openapi_document(api):
    """The app's OpenAPI document (a dict), completed for code generators."""
    document = current_app.extensions.get(_APP_KEY)
    if document is None:
        with _building:
            document = current_app.extensions.get(_APP_KEY)
            if document is None:
                # A copy: apispec hands out its own dicts, which must stay as it built them.
                built = _completed(copy.deepcopy(api.spec.to_dict()), current_app.url_map)
                document = current_app.extensions[_APP_KEY] = built
    return document


def _completed(document, url_map):
    ids = _operation_ids(url_map)
    paths = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method in _METHODS:
                operation.setdefault("operationId", ids[(path, method)])
                _describe_path_parameters(operation.get("parameters", []))
        _describe_path_parameters(operations.get("parameters", []))
        paths[re.sub(r"{([^}]+)}", lambda match: "{" + _camel(match.group(1)) + "}", path)] = operations
    document["paths"] = paths
    _require_answer_properties(document)
    return document


def _operation_ids(url_map):
    """{(OpenAPI path, method): lowerCamel of the view's endpoint}."""
    ids = {}
    for rule in url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            ids[(path, method.lower())] = _lower_camel(rule.endpoint)
    return ids


def _lower_camel(endpoint):
    words = [word for word in re.split(r"[._-]", endpoint) if word]
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def _describe_path_parameters(parameters):
    for parameter in parameters:
        if parameter.get("in") == "path":
            parameter["name"] = _camel(parameter["name"])
            parameter.setdefault("description", _described(parameter["name"]))


def _camel(name):
    first, *rest = name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def _described(name):
    """`roomId` → `The room's id`; `token` → `The token`."""
    if name.endswith("Id") and len(name) > 2:
        return f"The {_words(name[:-2])}'s id"
    return f"The {_words(name)}"


def _words(camel):
    return re.sub(r"(?<!^)([A-Z])", r" \1", camel).lower()


def _require_answer_properties(document):
    schemas = document.get("components", {}).get("schemas", {})
    answered, asked = set(), set()
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            for response in operation.get("responses", {}).values():
                _collect(response, answered)
            _collect(operation.get("requestBody", {}), asked)
            _collect(operation.get("parameters", []), asked)
    answered, asked = _closure(answered, schemas), _closure(asked, schemas)
    for name in answered - asked - {"Error"}:
        schema = schemas[name]
        properties = schema.get("properties")
        if properties:
            schema["required"] = [name for name, field in properties.items() if not field.get(OPTIONAL)]


def _collect(node, names):
    """The component schemas `node` refers to directly."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            names.add(ref.removeprefix(_REF))
        for value in node.values():
            _collect(value, names)
    elif isinstance(node, list):
        for value in node:
            _collect(value, names)


def _closure(names, schemas):
    """`names` and every schema they refer to, at any depth."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        found = set()
        _collect(schemas[name], found)
        todo.extend(found - seen)
    return seen
