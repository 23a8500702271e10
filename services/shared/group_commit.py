"""Group commit: callers that arrive together share one round of work.

The first caller in becomes the leader and runs the round for everything waiting; callers
arriving meanwhile wait for the next round, led by the first of them. Under load one
transaction (or broker round trip) answers many callers; alone, a caller runs at once,
with no timer to wait out. The leader runs the round in its own thread, so whatever its
context holds (a Nameko worker's dependencies, a trace) is there.
"""

import collections
import threading

from nameko.extensions import DependencyProvider


class _Waiter:
    def __init__(self, item, weight):
        self.item = item
        self.weight = weight
        self.done = threading.Event()
        self.leads = False
        self.result = None
        self.error = None


class GroupCommit:
    """`run(items)` does one round and returns one result per item, in order (an exception
    instance as an item's result is raised to that caller only); if it raises, every
    caller of the round gets the error. A round holds at most `max_weight` (at least one item)."""

    def __init__(self, run, max_weight=100):
        self.run = run
        self.max_weight = max_weight
        self.lock = threading.Lock()
        self.waiting = collections.deque()
        self.leading = False

    def submit(self, item, weight=1):
        waiter = _Waiter(item, weight)
        with self.lock:
            self.waiting.append(waiter)
            waiter.leads = not self.leading
            self.leading = True
        if not waiter.leads:
            waiter.done.wait()
        if waiter.leads:
            self._lead()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def _lead(self):
        group = self._take_group()
        try:
            results = self.run([waiter.item for waiter in group])
            for waiter, result in zip(group, results, strict=True):
                failed = isinstance(result, Exception)
                waiter.result, waiter.error = (None, result) if failed else (result, None)
        except Exception as error:  # every caller of the round gets the same answer
            for waiter in group:
                waiter.error = error
        finally:
            for waiter in group:
                waiter.done.set()
            self._hand_over()

    def _take_group(self):
        group, weight = [], 0
        with self.lock:
            while self.waiting and (not group or weight + self.waiting[0].weight <= self.max_weight):
                waiter = self.waiting.popleft()
                group.append(waiter)
                weight += waiter.weight
        return group

    def _hand_over(self):
        """The first caller still waiting leads the next round; none left, nobody leads."""
        with self.lock:
            if not self.waiting:
                self.leading = False
                return
            successor = self.waiting[0]
        successor.leads = True
        successor.done.set()


class Rounds(DependencyProvider):
    """One GroupCommit shared by all of a service's workers. A worker calls
    `self.rounds(item, run)`; a round is done by its leader's `run` (a bound method of the
    leader's own worker, so its dependencies are live), given the items of the round."""

    def __init__(self, max_weight=100):
        self.max_weight = max_weight
        self.rounds = None

    def setup(self):
        self.rounds = GroupCommit(_led_by_first, max_weight=self.max_weight)

    def get_dependency(self, worker_ctx):
        return lambda item, run: self.rounds.submit((item, run))


def _led_by_first(entries):
    """The round's first entry is its leader's own (GroupCommit._take_group)."""
    run = entries[0][1]
    return run([item for item, _ in entries])
