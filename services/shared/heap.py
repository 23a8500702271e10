"""The garbage collector of a long-running process, set once the process has started.

A process holds tens of thousands of objects from its start (modules, routes, models,
connections) that live as long as it does, and CPython's cycle collector walks them
again and again: its youngest generation is collected every 700 allocations, a request
makes several thousand, and each collection that reaches the older generations walks
everything there. Frozen once started (`gc.freeze`), what was there at the start is
never walked again; the youngest generation is collected every YOUNG_THRESHOLD
allocations, the older ones every OLDER_THRESHOLD collections of the one below. Cycles
are still collected, only less often. Measured with figure 7 (README, Performance): on
the alerts service's port at 50 connections, the collector took about 5 % of that
process's CPU before, and its pauses showed in the p99.
"""

import gc

YOUNG_THRESHOLD = 10_000
OLDER_THRESHOLD = 10


def settle():
    """Once the process has started: its objects so far are not walked again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
