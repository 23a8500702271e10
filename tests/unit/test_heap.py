"""The collector settings a started process runs with (services.shared.heap)."""

import gc
import weakref

import pytest

from klaxon import runner
from services.shared import heap


@pytest.fixture
def collector_restored():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector_restored")
def test_what_a_started_process_holds_is_frozen_and_the_young_collected_less_often():
    gc.unfreeze()
    survivor = [object()]  # alive when settle runs: frozen, not walked again
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, heap.OLDER_THRESHOLD, heap.OLDER_THRESHOLD)
    assert not any(survivor is tracked for generation in range(3) for tracked in gc.get_objects(generation))


@pytest.mark.usefixtures("collector_restored")
def test_cycles_made_after_settling_are_still_collected():
    heap.settle()

    class Node:
        pass

    node = Node()
    node.self = node  # a cycle: only the collector frees it
    gone = []
    weakref.finalize(node, gone.append, True)
    del node
    gc.collect()
    assert gone == [True]


def test_a_service_settles_its_heap_once_it_has_started(monkeypatch):
    events = []

    class Runner:
        def __init__(self, config):
            pass

        def add_service(self, service_class):
            pass

        def start(self):
            events.append("started")

        def wait(self):
            events.append("waited")

    monkeypatch.setattr(runner, "ServiceRunner", Runner)
    monkeypatch.setattr(heap, "settle", lambda: events.append("settled"))
    monkeypatch.setattr(runner.signal, "signal", lambda *args: None)  # the test process's own stay
    runner.run(object, {})
    assert events == ["started", "settled", "waited"]
