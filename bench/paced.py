"""Requests started at a steady rate from gevent greenlets, alternating between kinds, each kind's
latencies recorded apart (the benchmark and its baseline in the same run). The caller has
monkey-patched with gevent before importing this."""

import time

import gevent
import urllib3


def measure(base, kinds, rate, seconds, warm_up=200):
    """`kinds`: {name: (path, headers)}, GET each in turn; {name: [ms]} of the 200 answers.
    Any other status fails the run."""
    host, port = base.removeprefix("http://").split(":")
    pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=200)
    names = list(kinds)
    results, failures = {name: [] for name in names}, []

    def one(name, record):
        path, headers = kinds[name]
        started = time.perf_counter()
        response = pool.request("GET", path, headers=headers)
        if response.status != 200:
            failures.append(response.status)
        elif record:
            results[name].append((time.perf_counter() - started) * 1000)

    for n in range(warm_up):  # not recorded
        one(names[n % len(names)], False)
    greenlets, start, total = [], time.perf_counter(), int(rate * seconds)
    for n in range(total):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)
        greenlets.append(gevent.spawn(one, names[n % len(names)], True))
    gevent.joinall(greenlets, timeout=60)
    assert not failures, f"{len(failures)} requests failed: {sorted(set(failures))}"
    return results
