"""The console is served by seda itself: every asset local, a strict CSP, off in production."""

import re

from config import ProductionConfig
from seda import create_app
from seda.console.routes import STATIC


def test_the_console_page_and_its_assets_are_served_locally_under_a_strict_policy(client):
    page = client.get("/console")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "default-src 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    html = page.get_data(as_text=True)
    sources = [s for s in re.findall(r'(?:src|href)="([^"]+)"', html) if not s.startswith(("#", "data:"))]
    assert sources and all(source.startswith("/console/static/") for source in sources)
    assert "<script>" not in html and "style=" not in html  # nothing inline for the policy to refuse
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert asset.headers["Content-Security-Policy"] == policy


def test_every_module_the_console_imports_is_served(client):
    for module in sorted(STATIC.rglob("*.js")):
        path = "/console/static/" + module.relative_to(STATIC).as_posix()
        assert client.get(path).status_code == 200, path
        for imported in re.findall(r'from "(\.[^"]+)"', module.read_text()):
            assert (module.parent / imported).resolve().exists(), (module, imported)


def test_text_from_the_api_is_never_parsed_as_html():
    scripts = "\n".join(path.read_text() for path in STATIC.joinpath("js").rglob("*.js"))
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", scripts)


def test_production_serves_no_console_unless_asked():
    secrets = {"JWT_SECRET": "p" * 40, "DATABASE_URL": "sqlite://"}
    assert create_app(ProductionConfig(secrets)).test_client().get("/console").status_code == 404
    enabled = create_app(ProductionConfig({**secrets, "CONSOLE_ENABLED": "true"}))
    assert enabled.test_client().get("/console").status_code == 200
