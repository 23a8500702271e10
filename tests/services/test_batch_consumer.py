"""consume_batches in a real Nameko container on a real RabbitMQ vhost: batching, acks, requeues."""

from collections import Counter

import eventlet
import pytest
from kombu import Connection, Exchange, Queue

from services.shared.batching import BatchConsumer, consume_batches
from tests.conftest import eventually

EXCHANGE = Exchange("klaxon.test.batches", type="direct", durable=True)
QUEUE = Queue("klaxon.test.batches", exchange=EXCHANGE, routing_key="batch", durable=True)
COUNT = 25


def batch_service(handled, failures=0):
    """A service recording the batches it handles; its first `failures` calls raise."""
    calls = []

    class Batches:
        name = "batches"

        @consume_batches(QUEUE, batch_size=10, linger_seconds=0.05)
        def take(self, bodies):
            calls.append(bodies)
            if len(calls) <= failures:
                raise RuntimeError("this batch fails")
            handled.append(bodies)

    return Batches, calls


@pytest.fixture
def run(broker_config, container_factory):
    def start(service_cls):
        container = container_factory(service_cls, broker_config)
        container.start()
        return container

    return start


def publish(amqp_uri, bodies):
    with Connection(amqp_uri) as connection:
        producer = connection.Producer(serializer="json")
        for body in bodies:
            producer.publish(body, exchange=EXCHANGE, routing_key="batch", declare=[QUEUE], delivery_mode=2)


def flat(batches):
    return [body["n"] for batch in batches for body in batch]


def all_handled(handled):
    def check():
        """every body handled"""
        return len(flat(handled)) >= COUNT

    return check


def handled_batches(broker_config, run, failures=0):
    """Publish COUNT bodies before the service starts, so they arrive together; wait for them."""
    handled = []
    service_cls, calls = batch_service(handled, failures)
    publish(broker_config["AMQP_URI"], [{"n": n} for n in range(COUNT)])
    run(service_cls)
    eventually(all_handled(handled))
    return handled, calls


def test_messages_arrive_once_each_and_together(broker_config, run):
    handled, calls = handled_batches(broker_config, run)
    assert sorted(flat(handled)) == list(range(COUNT))
    assert len(calls) == len(handled) < COUNT
    assert len(handled) >= 3, "25 bodies need three batches of at most ten"
    assert max(len(batch) for batch in handled) > 1


def test_no_batch_is_larger_than_batch_size(broker_config, run):
    handled, _ = handled_batches(broker_config, run)
    assert all(len(batch) <= 10 for batch in handled), [len(batch) for batch in handled]


def test_a_failed_batch_is_requeued_and_handled_once_later(broker_config, run):
    handled, calls = handled_batches(broker_config, run, failures=1)
    failed = flat(calls[:1])
    assert failed, "the first call fails with the messages of its batch"
    assert Counter(flat(handled)) == Counter(range(COUNT))
    assert Counter(flat(calls)) == Counter(range(COUNT)) + Counter(failed)


def gated_service(started, gate, in_flight):
    """Batches of at most ten, one at a time; every batch waits for `gate`."""

    class Gated:
        name = "gated"

        @consume_batches(QUEUE, batch_size=10, linger_seconds=0.01, concurrency=1)
        def take(self, bodies):
            in_flight.append(1)
            started.append(bodies)
            try:
                assert len(in_flight) == 1, "two batches ran at once"
                gate.wait()
            finally:
                in_flight.pop()

    return Gated


def test_messages_arriving_while_the_workers_are_busy_wait_and_go_together(broker_config, run):
    started, gate, in_flight = [], eventlet.event.Event(), []
    container = run(gated_service(started, gate, in_flight))
    [consumer] = [e for e in container.entrypoints if isinstance(e, BatchConsumer)]
    publish(broker_config["AMQP_URI"], [{"n": -1}])
    eventually(lambda: len(started) == 1)
    publish(broker_config["AMQP_URI"], [{"n": n} for n in range(COUNT)])
    eventually(lambda: len(consumer.pending) == COUNT)
    assert len(started) == 1, "nothing starts while the only worker is busy"

    gate.send()
    eventually(lambda: len(flat(started)) == COUNT + 1)
    assert [len(batch) for batch in started] == [1, 10, 10, 5]
    assert flat(started) == [-1, *range(COUNT)]


def test_batches_are_bounded_by_weight_and_a_heavy_message_goes_alone(broker_config, run):
    handled = []

    class Weighed:
        name = "weighed"

        @consume_batches(QUEUE, batch_size=10, linger_seconds=0.05, weigh=lambda body: body["w"])
        def take(self, bodies):
            handled.append(bodies)

    weights = [4, 4, 4, 25, 1, 1, 3, 9, 2]
    publish(broker_config["AMQP_URI"], [{"n": n, "w": w} for n, w in enumerate(weights)])
    run(Weighed)
    eventually(lambda: len(flat(handled)) == len(weights))
    assert sorted(flat(handled)) == list(range(len(weights)))
    for batch in handled:
        assert len(batch) == 1 or sum(body["w"] for body in batch) <= 10, batch
    assert [body["n"] for body in next(b for b in handled if any(body["w"] == 25 for body in b))] == [3]


def test_a_message_finding_no_batch_in_the_works_starts_one_at_once(broker_config, run):
    """Alone, nothing is worth waiting for: a linger of a minute is not waited out, while a
    message finding a batch in the works (and a worker free) does wait for company."""
    started, gate = [], eventlet.event.Event()

    class Lingering:
        name = "lingering"

        @consume_batches(QUEUE, batch_size=10, linger_seconds=60, concurrency=2)
        def take(self, bodies):
            started.append(bodies)
            gate.wait()

    container = run(Lingering)
    [consumer] = [e for e in container.entrypoints if isinstance(e, BatchConsumer)]
    publish(broker_config["AMQP_URI"], [{"n": 1}])
    eventually(lambda: len(started) == 1, timeout=10)
    publish(broker_config["AMQP_URI"], [{"n": 2}])
    eventually(lambda: len(consumer.pending) == 1)
    assert len(started) == 1 and consumer.timer is not None, "with a batch in the works, it lingers"
    gate.send()
    eventually(lambda: len(started) == 2, timeout=10)
    assert flat(started) == [1, 2]
