"""500 verification checks against a local origin with latency: gevent pool versus one at a time.

The origin (a gevent WSGI server in its own process on 127.0.0.2) answers each page after
100 ms. Each check is what the worker does: a safe fetch of the page and the code detection.
The baseline runs them one after another; seda's worker runs them on a gevent pool of 50.
Each check targets its own host name (resolved to the origin), as artists' pages do; a last
run sends all checks to one host, where the fetcher's per-host bound (4) rightly holds it back.

    .venv/bin/python bench/crawler_pool.py [--checks 500] [--latency-ms 100] [--pool 50]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent.pool  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from seda.crawler.fetcher import SafeFetcher  # noqa: E402
from seda.verification.detection import find_in_html  # noqa: E402

ORIGIN = """
import sys, time
from gevent import monkey; monkey.patch_all()
from gevent.pywsgi import WSGIServer
latency = float(sys.argv[2]) / 1000
def page(environ, start_response):
    time.sleep(latency)
    start_response("200 OK", [("Content-Type", "text/html")])
    return [b"<html><body><h1>Band</h1><p>verify SEDA-ABCDEFGH</p></body></html>"]
WSGIServer(("127.0.0.2", int(sys.argv[1])), page, log=None).serve_forever()
"""


def check(fetcher, url):
    page = fetcher.fetch(url)
    return find_in_html(page.text, "SEDA-ABCDEFGH") is not None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--pool", type=int, default=50)
    args = parser.parse_args()
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        port = s.getsockname()[1]
    origin = subprocess.Popen([sys.executable, "-c", ORIGIN, str(port), str(args.latency_ms)])
    time.sleep(1.0)
    try:
        # Artists' pages live on different hosts: every name resolves to the local origin.
        def resolver(host, port_, *_args):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port_))]

        fetcher = SafeFetcher("SedaBot/bench", allowed_networks=["127.0.0.2/32"], max_retries=0, resolver=resolver)
        urls = [f"http://artist{n}.bench:{port}/" for n in range(args.checks)]
        same_host = [f"http://127.0.0.2:{port}/artist/{n}" for n in range(args.checks)]
        started = time.perf_counter()
        sequential = [check(fetcher, u) for u in urls[: max(50, args.checks // 10)]]
        per_check = (time.perf_counter() - started) / len(sequential)
        baseline = per_check * args.checks
        started = time.perf_counter()
        pool = gevent.pool.Pool(args.pool)
        results = pool.map(lambda u: check(fetcher, u), urls)
        pooled = time.perf_counter() - started
        started = time.perf_counter()
        same_host_results = pool.map(lambda u: check(fetcher, u), same_host)
        one_host = time.perf_counter() - started
        assert all(sequential) and all(results) and all(same_host_results)
        print(
            f"one at a time (baseline): {baseline:6.1f} s for {args.checks} checks "
            f"(measured {len(sequential)}, {per_check * 1000:.0f} ms each)"
        )
        print(f"gevent pool of {args.pool}:        {pooled:6.1f} s for {args.checks} checks")
        print(f"speed-up: x{baseline / pooled:.1f}")
        print(
            f"all {args.checks} on one host (per-host bound of 4 applies): {one_host:.1f} s, x{baseline / one_host:.1f}"
        )
    finally:
        origin.terminate()


if __name__ == "__main__":
    main()
