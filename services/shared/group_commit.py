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

from services.shared.batching import batch_settings


class _Waiter:
    """A caller of `submit`: `wait` blocks until another caller's `wake` (once).

    A lock taken at birth and released to wake: a fifth of the cost of an Event (a
    Condition around a second lock), paid once per alert on the synchronous path."""

    def __init__(self, item, weight):
        self.item = item
        self.weight = weight
        self.leads = False
        self.result = None
        self.error = None
        self._asleep = threading.Lock()
        self._asleep.acquire()

    def wait(self):
        self._asleep.acquire()

    def wake(self):
        self._asleep.release()


class GroupCommit:
    """`run(items)` does one round and returns one result per item, in order (an exception
    instance as an item's result is raised to that caller only); if it raises, every
    caller of the round gets the error. A round holds at most `max_weight` (at least one
    item); at most `concurrency` rounds run at once, each led by the caller it started with."""

    def __init__(self, run, max_weight=100, concurrency=1):
        self.run = run
        self.max_weight = max_weight
        self.concurrency = concurrency
        self.lock = threading.Lock()
        self.waiting = collections.deque()
        self.leaders = 0

    @property
    def leading(self):
        return self.leaders > 0

    def submit(self, item, weight=1):
        waiter = _Waiter(item, weight)
        with self.lock:
            waiter.leads = self.leaders < self.concurrency
            if waiter.leads:
                self.leaders += 1
            else:
                self.waiting.append(waiter)
        if not waiter.leads:
            waiter.wait()  # answered by another's round, or called to lead the next
        if waiter.leads:
            self._lead(waiter)
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    def _lead(self, own):
        group = self._take_group(own)
        try:
            results = self.run([waiter.item for waiter in group])
            for waiter, result in zip(group, results, strict=True):
                failed = isinstance(result, Exception)
                waiter.result, waiter.error = (None, result) if failed else (result, None)
        except Exception as error:  # every caller of the round gets the same answer
            for waiter in group:
                waiter.error = error
        finally:
            for waiter in group[1:]:  # the leader itself is awake
                waiter.wake()
            self._hand_over()

    def _take_group(self, own):
        """The leader's own item first, then the oldest waiting, up to `max_weight`."""
        group, weight = [own], own.weight
        with self.lock:
            while self.waiting and weight + self.waiting[0].weight <= self.max_weight:
                waiter = self.waiting.popleft()
                group.append(waiter)
                weight += waiter.weight
        return group

    def _hand_over(self):
        """The oldest caller still waiting leads the next round; none left, one leader fewer."""
        with self.lock:
            if not self.waiting:
                self.leaders -= 1
                return
            successor = self.waiting.popleft()
        successor.leads = True
        successor.wake()


class Rounds(DependencyProvider):
    """One GroupCommit shared by all of a service's workers. A worker calls
    `self.rounds(item, run)`; a round is done by its leader's `run` (a bound method of the
    leader's own worker, so its dependencies are live), given the items of the round."""

    def __init__(self, max_weight=100, concurrency=None):
        self.max_weight = max_weight
        self.concurrency = concurrency
        self.rounds = None

    def setup(self):
        """`concurrency` given here wins; else the service's KLAXON_BATCH_CONCURRENCY."""
        concurrency = self.concurrency or batch_settings(self.container.config)[2]
        self.rounds = GroupCommit(_led_by_first, max_weight=self.max_weight, concurrency=concurrency)

    def get_dependency(self, worker_ctx):
        return lambda item, run: self.rounds.submit((item, run))


def _led_by_first(entries):
    """The round's first entry is its leader's own (GroupCommit._take_group)."""
    run = entries[0][1]
    return run([item for item, _ in entries])
