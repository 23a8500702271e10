"""Requests that arrive together share one confirmed publish, and share its outcome.

The edge runs on gevent greenlets (or OS threads with gthread); here they are eventlet's
green threads, as conftest patches `threading`, which the publisher then uses as well.
"""

import threading

import pytest

from edge.queue import GroupedPublisher
from edge.rpc import ServiceUnavailable
from services.alerts.queue import acknowledge_message, alerts_message
from tests.conftest import eventually


class HeldPublisher:
    """Records each publish; the first one blocks until the test lets it go."""

    def __init__(self, fail=False):
        self.published = []
        self.first_started = threading.Event()
        self.release = threading.Event()
        self.fail = fail

    def publish(self, message):
        if not self.published and not self.first_started.is_set():
            self.first_started.set()
            self.release.wait(10)
        self.published.append(message)
        if self.fail:
            raise ServiceUnavailable("message broker unreachable")


def alert(n):
    return {"alert_id": f"a-{n}", "service": "checkout", "severity": "high", "message": str(n)}


def run_while_first_is_held(inner, count):
    """The first request publishes alone and is held; `count - 1` more queue up behind it."""
    grouped = GroupedPublisher(inner)
    outcomes = {}
    [first] = post_in_threads_from(grouped, range(1), outcomes)
    assert inner.first_started.wait(10)
    rest = post_in_threads_from(grouped, range(1, count), outcomes)
    eventually(lambda: len(grouped.waiting) == count - 1, timeout=10)
    inner.release.set()
    for thread in [first, *rest]:
        thread.join(10)
    return outcomes


def post_in_threads_from(grouped, numbers, outcomes):
    threads = []
    for n in numbers:

        def post(n=n):
            try:
                grouped.publish(alerts_message([alert(n)]))
                outcomes[n] = "published"
            except ServiceUnavailable:
                outcomes[n] = "unavailable"

        threads.append(threading.Thread(target=post))
        threads[-1].start()
    return threads


def test_requests_waiting_behind_a_publish_go_out_together_in_one_message():
    inner = HeldPublisher()
    outcomes = run_while_first_is_held(inner, 11)
    assert outcomes == {n: "published" for n in range(11)}
    assert [len(m["alerts"]) for m in inner.published] == [1, 10]
    assert sorted(a["alert_id"] for a in inner.published[1]["alerts"]) == sorted(
        f"a-{n}" for n in range(1, 11)
    )


def test_a_failed_publish_fails_every_request_of_its_group():
    inner = HeldPublisher(fail=True)
    outcomes = run_while_first_is_held(inner, 5)
    assert outcomes == {n: "unavailable" for n in range(5)}
    assert len(inner.published) == 2


def test_a_group_never_exceeds_the_alert_limit():
    inner = HeldPublisher()
    grouped_limit = 4
    grouped = GroupedPublisher(inner, max_alerts=grouped_limit)
    outcomes = {}
    [first] = post_in_threads_from(grouped, range(1), outcomes)
    assert inner.first_started.wait(10)
    rest = post_in_threads_from(grouped, range(1, 11), outcomes)
    eventually(lambda: len(grouped.waiting) == 10, timeout=10)
    inner.release.set()
    for thread in [first, *rest]:
        thread.join(10)
    assert outcomes == {n: "published" for n in range(11)}
    assert [len(m["alerts"]) for m in inner.published] == [1, 4, 4, 2]


def test_a_lone_request_publishes_at_once_and_other_kinds_pass_straight_through():
    inner = HeldPublisher()
    inner.first_started.set()  # nothing is held
    grouped = GroupedPublisher(inner)
    grouped.publish(alerts_message([alert(1)]))
    grouped.publish(acknowledge_message("key", 3, "pd"))
    assert inner.published == [alerts_message([alert(1)]), acknowledge_message("key", 3, "pd")]
    assert grouped.leading is False


def test_an_unexpected_failure_still_answers_every_waiting_request():
    class Broken:
        def publish(self, message):
            raise RuntimeError("bug")

    grouped = GroupedPublisher(Broken())
    with pytest.raises(RuntimeError):
        grouped.publish(alerts_message([alert(1)]))
    assert grouped.leading is False and not grouped.waiting
