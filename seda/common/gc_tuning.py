"""The garbage collector of a server process, set once its app is loaded.

A full (generation 2) collection walks every tracked object of the process: 120-330 ms on this
VM with the app's ~190,000 objects from imports and startup plus a thousand sockets' worth,
and on a gevent server nothing else runs meanwhile. During a reconnect storm these pauses were
what put `/health/live` p99 at ~200 ms (bench/storm.py, probed with gc.callbacks). So:
- the objects alive after startup (modules, the app, mappers, schemas) are frozen out of every
  collection: they live as long as the process;
- generation 0 is collected every 10,000 net allocations instead of 700, so the older
  generations, whose collections are the long ones, come ten times less often. Cyclic garbage
  waits a little longer for its collection: ~10 MiB more at the peak of a 1,000-client storm.
"""

import gc

GENERATION_0_THRESHOLD = 10_000


def tune_garbage_collector():
    gc.collect()
    gc.freeze()
    _, generation_1, generation_2 = gc.get_threshold()
    gc.set_threshold(GENERATION_0_THRESHOLD, generation_1, generation_2)
