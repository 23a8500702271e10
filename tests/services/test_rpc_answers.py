"""services.shared.rpc in real Nameko containers on a real RabbitMQ vhost: every call is
answered, errors included; the service's answers go out on a channel without publisher
confirms; a call waits a bounded time and its request is sent transient."""

import threading
import uuid

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from nameko.exceptions import RemoteError, deserialize
from nameko.standalone.rpc import ServiceRpcProxy

from edge.rpc import RpcPool
from services.shared.errors import Conflict
from services.shared.rpc import RpcProxy, rpc
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
def echo(broker_config, container_factory):
    container = container_factory(Echo, broker_config)
    container.start()
    return container


def test_each_call_gets_its_own_answer_and_errors_arrive_as_errors(broker_config, echo):
    with ServiceRpcProxy("echo", broker_config) as proxy:
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


def test_the_service_answers_on_a_channel_without_confirms(broker_config, echo, rabbit_manager):
    answer, first_caller = call_without_confirms(broker_config["AMQP_URI"], "echo", "ping")
    assert answer == {"result": "ping", "error": None}
    refused, second_caller = call_without_confirms(broker_config["AMQP_URI"], "refuse", "nope")
    assert isinstance(deserialize(refused["error"]), Exception) and refused["error"]["exc_type"] == "Conflict"

    def answering_channels():
        """the service's channels that published both answers, as the broker's statistics show them"""
        channels = rabbit_manager._get("vhosts", broker_config["vhost"], "channels")
        if not all(isinstance(channel.get("connection_details"), dict) for channel in channels):
            return []  # the broker has not placed every channel on its connection yet
        service_channels = [
            channel
            for channel in channels
            if channel["connection_details"].get("peer_port") not in (first_caller, second_caller)
            and channel.get("message_stats", {}).get("publish")
        ]
        published = sum(channel["message_stats"]["publish"] for channel in service_channels)
        # A channel's statistics and its details reach the broker's listing separately.
        described = all("confirm" in channel for channel in service_channels)
        return service_channels if published >= 2 and described else []

    channels = eventually(answering_channels, timeout=30)
    assert [channel.get("confirm") for channel in channels] == [False] * len(channels), channels


# -- calls: a bounded wait, transient requests ------------------------------------------------

HELD = threading.Event()  # green under the suite's monkey patching: what `Echo.hold` waits for


class Holding:
    name = "holding"

    @rpc
    def hold(self):
        HELD.wait(timeout=60)
        return "late"

    @rpc
    def echo(self, value):
        return value


class Caller:
    name = "caller"

    holding = RpcProxy("holding", timeout=0.5)
    nobody = RpcProxy("nobody-runs-this")
    probed = RpcProxy("probe")

    @rpc
    def ask_held(self):
        return self.holding.hold()

    @rpc
    def ask(self, value):
        return self.holding.echo(value)

    @rpc
    def ask_nobody(self):
        return self.nobody.anything()

    @rpc
    def ask_probe(self):
        return self.probed.anything()


@pytest.fixture
def caller(broker_config, container_factory):
    HELD.clear()
    for service in (Holding, Caller):
        container_factory(service, broker_config).start()
    yield
    HELD.set()


def test_a_call_gives_up_at_its_timeout_and_the_late_answer_harms_nothing(broker_config, caller):
    with ServiceRpcProxy("caller", broker_config) as proxy:
        with pytest.raises(RemoteError) as raised:
            proxy.ask_held()  # the callee is still holding: nothing has answered it
        assert raised.value.exc_type == "RpcTimeout", raised.value
        assert "holding.hold did not answer in 0.5s" in str(raised.value)
        HELD.set()  # the late answer now comes, to a caller that stopped waiting
        assert [proxy.ask(n) for n in range(5)] == list(range(5))


def test_a_call_to_a_service_that_never_started_fails_at_once(broker_config, caller):
    with ServiceRpcProxy("caller", broker_config) as proxy:
        with pytest.raises(RemoteError) as raised:
            proxy.ask_nobody()
        assert raised.value.exc_type == "UnknownService", raised.value


def probed_request(broker_config, call):
    """The request `call()` (which starts a call of probe.*, and returns a result() to wait
    on) sends. The callee is a bare queue, read as nameko's services do; it answers by hand."""
    queue = Queue("rpc-probe", exchange=RPC_EXCHANGE, routing_key="probe.*", auto_delete=True)
    requests = []
    with Connection(broker_config["AMQP_URI"]) as connection:
        consumer = connection.Consumer(queue, callbacks=[lambda body, message: requests.append(message)])
        with consumer:
            answer = call()
            while not requests:
                connection.drain_events(timeout=10)
            request = requests[0]
            connection.Producer(serializer="json").publish(
                {"result": "probed", "error": None},
                exchange=RPC_EXCHANGE,
                routing_key=request.properties["reply_to"],
                correlation_id=request.properties["correlation_id"],
            )
            assert answer() == "probed"
    return request


def test_requests_are_sent_transient(broker_config, caller):
    with ServiceRpcProxy("caller", broker_config) as proxy:
        request = probed_request(broker_config, lambda: proxy.ask_probe.call_async().result)
    assert request.properties["delivery_mode"] == 1  # nameko's own proxy sends 2, persistent
    # and it expires in the queue when its caller stops waiting (RPC_TIMEOUT_SECONDS, 10 s here)
    assert request.properties["expiration"] == "10000"


def test_the_edge_sends_its_requests_transient_expiring_with_its_wait(broker_config):
    pool = RpcPool(broker_config["AMQP_URI"], timeout=2.5)
    calling = eventlet.spawn(pool.call, "probe", "look")
    request = probed_request(broker_config, lambda: calling.wait)
    assert (request.properties["delivery_mode"], request.properties["expiration"]) == (1, "2500")
