"""Requests started at a steady rate, alternating between kinds, each kind's latencies recorded
apart (the benchmark and its baseline in the same run). The requests come from bench/paced.js:
Node spends a fraction of the CPU a Python client would, CPU the server needs on a 2-core machine."""

import json
import signal
import subprocess
import tempfile
from pathlib import Path

from chat_sockets import profile_worker
from procs import cpu_seconds

HERE = Path(__file__).resolve().parent


def measure(base, kinds, rate, seconds, warm_up=200, profile=None):
    """`kinds`: {name: (path, headers)}, GET each in turn; ({name: [ms]} of the answers, the
    generator's CPU seconds, the server's). Any answer but 200 fails the run. `profile`: a file
    for py-spy's raw stacks of the server's worker over the run."""
    plan = {
        "base": base,
        "kinds": [{"name": name, "path": path, "headers": headers} for name, (path, headers) in kinds.items()],
        "rate": rate,
        "seconds": seconds,
        "warmUp": warm_up,
    }
    spy = profile_worker(base.process.pid, Path(profile)) if profile else None
    server_cpu = cpu_seconds(base.process.pid)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as plan_file:
        json.dump(plan, plan_file)
        plan_file.flush()
        run = subprocess.run(
            ["node", "paced.js", plan_file.name], cwd=HERE, capture_output=True, text=True, timeout=seconds + 120
        )
    server_cpu = cpu_seconds(base.process.pid) - server_cpu
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
    if run.returncode != 0:
        raise RuntimeError(f"paced.js failed: {run.stderr[-800:]}")
    result = json.loads(run.stdout)
    assert not result["failures"], f"{result['failures']} requests failed"
    assert not result["unanswered"], f"{result['unanswered']} requests unanswered after 60 s"
    return result["latencies"], result["cpuMs"] / 1000, server_cpu
