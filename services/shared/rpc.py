"""RPC between the services: nameko's, with answers sent without a confirm, and calls that
wait for their answer a bounded time, their requests kept in the broker's memory only.

An answer goes to the caller's own reply queue, which only that caller consumes, and only
while it waits: a publisher confirm would say that the broker took the answer, which the
caller's own wait already covers. Nameko's responder waits for a confirm on every answer;
this one does not, which spares each call a frame there and back with the broker, on both
sides. Nameko declares reply queues durable (with a five-minute expiry) and sends answers
persistent; they are left so. RabbitMQ need not write a persistent message that is
consumed and acknowledged before its write comes due, and without a confirm nothing
hurries that write: sent transient instead, answers cost RabbitMQ no less CPU per alert
on the synchronous path (measured by alternating the two, at 10 and 50 connections).

A call (`RpcProxy`) waits at most the service's RPC_TIMEOUT_SECONDS for its answer, then
raises nameko's RpcTimeout; nameko's own proxy waits for ever. Its request still waits for
the broker's confirm, which is how a call to a service that was never started fails
(UnknownService) instead of waiting; but it is sent transient, so that the confirm no
longer waits for the broker's disk (figure 7 in the README: RabbitMQ's CPU per alert on
the alerts service's port at 10 connections fell from 0.42 to 0.23 ms). And it expires in
the broker's queue when its caller stops waiting: a request not yet delivered to its
service by then is dropped, not run for nobody (one delivered already still runs). What is
given up: a persistent request outlived a broker restart and could still be answered if
the restart was short; transient, it is lost with the broker and its caller, after its
wait, fails the way it fails for a callee that does not answer. Where that matters, the
caller makes it good: the alerts service's port queues a round it could not correlate in
time (or store: its database down), as the edge does, and the queued alerts are retried
until they are correlated (services.alerts.service); a followed acknowledge link that
could not acknowledge stays unused (services.notifications.service).

A process outside the services (the edge) calls them through `StandaloneRpcProxy`:
nameko's standalone proxy, its requests sent as the services' are.

A service uses the `rpc` entrypoint for all its methods or none: two kinds of consumer on
one service's queue would each take calls meant for the other's methods.
"""

from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import RpcTimeout
from nameko.rpc import MethodProxy, Responder, RpcConsumer, ServiceProxy, get_rpc_exchange
from nameko.rpc import Rpc as NamekoRpc
from nameko.rpc import RpcProxy as NamekoRpcProxy
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy

DEFAULT_TIMEOUT_SECONDS = 10.0


class UnconfirmedPublisher(Publisher):
    use_confirms = False


class UnconfirmedResponder(Responder):
    publisher_cls = UnconfirmedPublisher


class AnsweringConsumer(RpcConsumer):
    """The service's RPC queue consumer; answers through an UnconfirmedResponder."""

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = UnconfirmedResponder(
            config[AMQP_URI_CONFIG_KEY],
            get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class Rpc(NamekoRpc):
    rpc_consumer = AnsweringConsumer()


rpc = Rpc.decorator


class RpcProxy(NamekoRpcProxy):
    """Calls to `target_service` that wait at most RPC_TIMEOUT_SECONDS (the container's
    config; `timeout` here wins), their requests sent transient."""

    def __init__(self, target_service, timeout=None, **options):
        super().__init__(target_service, delivery_mode=NON_PERSISTENT, **options)
        self.timeout = timeout

    def setup(self):
        configured = self.container.config.get("RPC_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        self.wait_seconds = float(configured) if self.timeout is None else self.timeout
        self.options["expiration"] = self.wait_seconds  # seconds, as kombu takes it

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(
            worker_ctx, self.target_service, self.rpc_reply_listener, self.wait_seconds, **self.options
        )


class TimedServiceProxy(ServiceProxy):
    def __init__(self, worker_ctx, service_name, reply_listener, timeout, **options):
        super().__init__(worker_ctx, service_name, reply_listener, **options)
        self.timeout = timeout

    def __getattr__(self, name):
        return TimedMethodProxy(
            self.worker_ctx, self.service_name, name, self.reply_listener, self.timeout, **self.options
        )


class TimedMethodProxy(MethodProxy):
    def __init__(self, worker_ctx, service_name, method_name, reply_listener, timeout, **options):
        super().__init__(worker_ctx, service_name, method_name, reply_listener, **options)
        self.timeout = timeout

    def __call__(self, *args, **kwargs):
        reply = self._call(*args, **kwargs)
        body = None
        try:
            body = self._answer(reply.reply_event)
        finally:
            if body is None:  # given up, here or by an outer timeout: a late answer is dropped
                self._forget(reply.reply_event)
        if body is None:
            raise RpcTimeout(f"{self.service_name}.{self.method_name} did not answer in {self.timeout:g}s")
        reply.resp_body = body
        return reply.result()

    def _answer(self, reply_event):
        """The answer's body, or None when the time ran out (an answer is a dict)."""
        body = reply_event.wait(self.timeout)
        if body is None and reply_event.ready():  # it came in the same turn of the hub as the timeout
            body = reply_event.wait()
        return body

    def _forget(self, reply_event):
        """Stop waiting for the answer: the listener drops one that comes late, which it
        knows by a correlation id that only its table holds."""
        pending = self.reply_listener._reply_events
        for correlation_id, event in list(pending.items()):
            if event is reply_event:
                pending.pop(correlation_id, None)


class StandaloneRpcProxy(ClusterRpcProxy):
    """nameko's standalone cluster proxy (one caller at a time) whose requests are sent
    transient and expire in the broker's queue when its `timeout` ends the wait."""

    def __init__(self, config, timeout=None, **kwargs):
        super().__init__(config, timeout=timeout, **kwargs)
        options = {"delivery_mode": NON_PERSISTENT}
        if timeout:
            options["expiration"] = timeout  # seconds, as kombu takes it
        self._proxy = TransientClusterProxy(self._worker_ctx, self._reply_listener, options)


class TransientClusterProxy(ClusterProxy):
    def __init__(self, worker_ctx, reply_listener, options):
        super().__init__(worker_ctx, reply_listener)
        self._options = options

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._proxies:
            self._proxies[name] = ServiceProxy(self._worker_ctx, name, self._reply_listener, **self._options)
        return self._proxies[name]
