"""The README's two commands are the ones that work, and CI runs the second verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text())[:2]


def test_readme_opens_with_a_start_and_a_test_command():
    start, test = readme_commands()
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in start and "db upgrade" in start
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim():
    _, test = readme_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines
    assert "export SEDA_REQUIRE_SERVICES=1" in ci_lines
