"""docs/API.md, the contract a clone carries, is what the code documents now."""

from pathlib import Path

from seda.docs.asyncapi import CLIENT_EVENTS, SERVER_EVENTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "API.md"


def test_the_committed_api_md_is_what_the_code_documents(app, tmp_path):
    out = tmp_path / "API.md"
    result = app.test_cli_runner().invoke(args=["seda", "docs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == DOCS.read_text(), "docs/API.md is behind the code: run `flask --app wsgi seda docs`"


def test_api_md_names_every_route_and_event(app):
    text = DOCS.read_text()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            assert rule.rule.split("<")[0] in text, rule.rule
    for event in [*CLIENT_EVENTS, *SERVER_EVENTS]:
        assert f"#### `{event}`" in text
