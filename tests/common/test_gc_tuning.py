"""A gunicorn worker keeps its startup objects out of garbage collections (full collections
paused the event loop 120-330 ms during a reconnect storm: bench/storm.py)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WORKER_INIT = """
import gc, json, runpy, types
from flask import Flask
before = {"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()[0]}
conf = runpy.run_path("gunicorn.conf.py")
conf["post_worker_init"](types.SimpleNamespace(wsgi=Flask("worker")))
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()[0]}))
"""


def test_a_worker_freezes_what_startup_built_and_collects_generation_0_less_often():
    from seda.common.gc_tuning import GENERATION_0_THRESHOLD

    done = subprocess.run([sys.executable, "-c", WORKER_INIT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["before"] == {"frozen": 0, "threshold": 700}
    assert state["frozen"] > 10_000  # the modules and objects of a loaded Flask app at least
    assert state["threshold"] == GENERATION_0_THRESHOLD
