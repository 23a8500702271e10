"""Group commit: callers arriving together share a round; each gets its own answer."""

import eventlet
import pytest

from services.shared.group_commit import GroupCommit
from tests.conftest import eventually


class Rounds:
    """A round that blocks until released, recording the items of each round."""

    def __init__(self):
        self.rounds = []
        self.gate = eventlet.event.Event()

    def __call__(self, items):
        self.rounds.append(list(items))
        if len(self.rounds) == 1:
            self.gate.wait()
        return [ValueError(item) if item == "bad" else item.upper() for item in items]


def test_callers_arriving_during_a_round_share_the_next_one_and_get_their_own_answers():
    run = Rounds()
    group = GroupCommit(run)
    first = eventlet.spawn(group.submit, "a")
    eventually(lambda: run.rounds, timeout=5)
    later = [eventlet.spawn(group.submit, item) for item in ("b", "c", "d")]
    eventually(lambda: len(group.waiting) == 3, timeout=5)
    run.gate.send()
    assert [first.wait(), *[caller.wait() for caller in later]] == ["A", "B", "C", "D"]
    assert run.rounds == [["a"], ["b", "c", "d"]]
    assert group.leaders == 0 and not group.waiting


def test_an_item_that_fails_fails_its_caller_only():
    run = Rounds()
    run.gate.send()
    group = GroupCommit(run)
    callers = {item: eventlet.spawn(group.submit, item) for item in ("x", "bad", "y")}
    assert callers["x"].wait() == "X" and callers["y"].wait() == "Y"
    with pytest.raises(ValueError, match="bad"):
        callers["bad"].wait()


def test_a_round_that_raises_fails_every_caller_of_it_and_the_next_round_runs():
    calls = []

    def run(items):
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("database down")
        return items

    group = GroupCommit(run)
    with pytest.raises(ConnectionError):
        group.submit("a")
    assert group.submit("b") == "b"


def test_a_round_holds_at_most_max_weight():
    run = Rounds()
    group = GroupCommit(run, max_weight=3)
    first = eventlet.spawn(group.submit, "a")
    eventually(lambda: run.rounds, timeout=5)
    later = [eventlet.spawn(group.submit, f"i{n}", 2) for n in range(3)]
    eventually(lambda: len(group.waiting) == 3, timeout=5)
    run.gate.send()
    [caller.wait() for caller in [first, *later]]
    assert [len(items) for items in run.rounds] == [1, 1, 1, 1]  # 2 + 2 > 3: one per round


def test_with_a_concurrency_of_two_a_second_round_runs_beside_the_first():
    running, gate = [], eventlet.event.Event()

    def run(items):
        running.append(items)
        gate.wait()
        return items

    group = GroupCommit(run, concurrency=2)
    callers = [eventlet.spawn(group.submit, item) for item in ("a", "b")]
    eventually(lambda: len(running) == 2, timeout=5)  # both rounds in the works at once
    third = eventlet.spawn(group.submit, "c")
    eventually(lambda: len(group.waiting) == 1, timeout=5)
    gate.send()
    assert [caller.wait() for caller in [*callers, third]] == ["a", "b", "c"]
    assert running == [["a"], ["b"], ["c"]] and group.leaders == 0
