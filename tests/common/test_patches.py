"""Every patch of a library's private code (seda/patches/) was written for one release and for
the signatures it names: an upgrade that changes either fails here, before it fails in
production. And no module outside seda/patches/ reaches into a library's private names itself
(gunicorn.conf.py loads its patch from there too)."""

import importlib
import importlib.metadata
import inspect
import pkgutil
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import seda.patches
from tests.helpers.tiers import embedded_only

PATCH_MODULES = [
    importlib.import_module(f"seda.patches.{info.name}") for info in pkgutil.iter_modules(seda.patches.__path__)
]
SEDA = Path(seda.patches.__file__).resolve().parents[1]


def _resolve(dotted):
    """The object at a dotted path whose module part is the longest importable prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ImportError(dotted)


@pytest.mark.parametrize("module", PATCH_MODULES, ids=lambda m: m.__name__)
def test_the_installed_release_is_the_one_the_patch_was_written_for(module):
    package, version = module.PATCHED_FOR.split("==")
    assert importlib.metadata.version(package) == version, (
        f"{module.__name__} was written for {module.PATCHED_FOR}: read the new release's code "
        "where the patch touches it, then change PATCHED_FOR (and PATCHED) with the patch"
    )


@pytest.mark.parametrize("module", PATCH_MODULES, ids=lambda m: m.__name__)
def test_every_patched_name_still_has_the_signature_the_patch_expects(module, app):
    for dotted, expected in module.PATCHED.items():
        target = _resolve(dotted)  # an AttributeError here: the name is gone
        if expected is not None:
            original = getattr(target, "__wrapped__", target)
            assert str(inspect.signature(original)) == expected, dotted


# A library's private names as seda's code would reach them: the socket stack's objects, and a
# private method of a library class called on super(). marshmallow's Field._serialize and
# _deserialize are its documented extension points for custom fields, not private.
PRIVATE_LIBRARY_NAME = re.compile(
    r"\b(?:server|sockets?|engineio\.\w+|simple_websocket\.ws\.\w+)\._(?!_)[a-z]\w*"
    r"|simple_websocket\.ws\.Base\.__init__"
    r"|super\(\)\._(?!_|serialize\b|deserialize\b)[a-z]\w*"
    r"|gunicorn_util\.\w+ ="
)


def test_no_module_outside_seda_patches_touches_a_librarys_private_names():
    sources = [*SEDA.rglob("*.py"), SEDA.parent / "gunicorn.conf.py"]
    offenders = [
        str(path.relative_to(SEDA.parent).relative_to("seda") if path.is_relative_to(SEDA) else path.name)
        for path in sources
        if "patches" not in path.parts and PRIVATE_LIBRARY_NAME.search(path.read_text())
    ]
    assert offenders == []


@embedded_only
def test_the_openapi_document_built_on_demand_documents_every_route(app_factory):
    first, app = app_factory(), app_factory()  # a second app: the one Api object serves both
    for each in (first, app):
        spec = each.test_client().get("/api/docs/openapi.json").get_json()
        documented = {
            (method.upper(), path) for path, ops in spec["paths"].items() for method in ops if method != "parameters"
        }
        routes = {  # path parameters as the document names them: <room_id> is {roomId}
            (
                method,
                re.sub(
                    r"<(?:\w+:)?(\w+)>", lambda m: "{" + re.sub(r"_(\w)", lambda w: w[1].upper(), m[1]) + "}", rule.rule
                ),
            )
            for rule in each.url_map.iter_rules()
            if rule.rule.startswith("/api/v1/")
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
        assert documented == routes
        assert [tag["name"] for tag in spec["tags"]][:3] == ["health", "auth", "users"]


@embedded_only
def test_the_first_reads_of_the_openapi_document_at_once_all_get_it_whole(app_factory):
    app = app_factory()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: app.test_client().get("/api/docs/openapi.json"), range(8)))
    assert [answer.status_code for answer in answers] == [200] * 8
    assert len({answer.data for answer in answers}) == 1
