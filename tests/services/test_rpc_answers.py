"""services.shared.rpc in a real Nameko container on a real RabbitMQ vhost: every call is
answered, errors included, and the service's answers go out on a channel without
publisher confirms."""

import uuid

import pytest
from kombu import Connection, Exchange, Queue
from nameko.exceptions import deserialize
from nameko.standalone.rpc import ServiceRpcProxy

from services.shared.errors import Conflict
from services.shared.rpc import rpc
from tests.conftest import eventually

RPC_EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)  # nameko's, for calls and answers


class Echo:
    name = "echo"

    @rpc
    def echo(self, value):
        return value

    @rpc
    def refuse(self, reason):
        raise Conflict(reason)


@pytest.fixture
def config(rabbit_config):
    return {**rabbit_config, "serializer": "json"}


@pytest.fixture
def echo(config, container_factory):
    container = container_factory(Echo, config)
    container.start()
    return container


def test_each_call_gets_its_own_answer_and_errors_arrive_as_errors(config, echo):
    with ServiceRpcProxy("echo", config) as proxy:
        calls = [proxy.echo.call_async({"n": n}) for n in range(20)]
        assert [call.result() for call in calls] == [{"n": n} for n in range(20)]
        with pytest.raises(Conflict, match="already resolved"):
            proxy.refuse("already resolved")


def call_without_confirms(amqp_uri, method, *args):
    """Call `echo.<method>` as nameko's proxies do, but from a channel that publishes
    without confirms; returns the answer's body and the local port of the caller's
    connection."""
    name = f"test-replies-{uuid.uuid4().hex}"
    reply_queue = Queue(name, exchange=RPC_EXCHANGE, routing_key=name, exclusive=True, auto_delete=True)
    answers = []
    with Connection(amqp_uri) as connection:
        with connection.Consumer(
            reply_queue, callbacks=[lambda body, message: answers.append(body)], accept=["json"]
        ):
            connection.Producer(serializer="json").publish(
                {"args": list(args), "kwargs": {}},
                exchange=RPC_EXCHANGE,
                routing_key=f"echo.{method}",
                reply_to=reply_queue.name,
                correlation_id=uuid.uuid4().hex,
            )
            while not answers:
                connection.drain_events(timeout=10)
        return answers[0], connection.connection.sock.getsockname()[1]


def test_the_service_answers_on_a_channel_without_confirms(config, echo, rabbit_manager):
    answer, caller_port = call_without_confirms(config["AMQP_URI"], "echo", "ping")
    assert answer == {"result": "ping", "error": None}
    error = call_without_confirms(config["AMQP_URI"], "refuse", "nope")[0]["error"]
    assert isinstance(deserialize(error), Exception) and error["exc_type"] == "Conflict"

    def answering_channels():
        """the service's channel that published the answers, as the broker's statistics show it"""
        channels = rabbit_manager._get("vhosts", config["vhost"], "channels")
        return [
            channel
            for channel in channels
            if channel.get("message_stats", {}).get("publish", 0) >= 2
            and channel["connection_details"]["peer_port"] != caller_port
        ]

    channels = eventually(answering_channels, timeout=30)
    assert [channel["confirm"] for channel in channels] == [False]
