"""RPC from the edge to the services: a pool of standalone Nameko cluster proxies.

A standalone `ClusterRpcProxy` must not be used by two threads at once, so each
request borrows one from the pool and gives it back. A proxy whose connection broke is
dropped, and the next request opens a fresh one. At most `size` proxies are out at once:
under gevent a worker may hold hundreds of requests, and a proxy per request would open
(and close) a broker connection and a reply queue per request; the others wait their turn.
Requests go as the services' own do (services.shared.rpc): transient, and expiring in the
broker's queue when the call's wait ends.
"""

import contextlib
import logging
import queue
import threading

from amqp.exceptions import AMQPError, MessageNacked
from kombu.exceptions import OperationalError
from nameko.exceptions import RpcTimeout, UnknownService

from services.shared.rpc import StandaloneRpcProxy
from services.shared.tracing import TRACEPARENT, current_traceparent

# MessageNacked: the broker refused a confirmed publish (e.g. it is out of disk);
# AMQPError: it closed the connection or the channel (restart, ConnectionForced, ...).
logger = logging.getLogger("klaxon.edge")
BROKER_ERRORS = (OSError, OperationalError, ConnectionError, MessageNacked, AMQPError)


class ServiceUnavailable(Exception):
    """The broker or a service did not answer; the caller should retry later."""

    def __init__(self, reason, retry_after=5):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def broker_unreachable(exc):
    return ServiceUnavailable(f"message broker unreachable: {exc}")


def release_quietly(connection):
    """Close a broker connection that may already be broken; it is dropped either way."""
    with contextlib.suppress(*BROKER_ERRORS):
        connection.release()


def drain(owner, connection, what):
    """Read `connection`'s messages for as long as it is `owner.connection`; when it breaks,
    forget it so that the next caller listens afresh. Only this thread reads (and closes) it."""
    try:
        while owner.connection is connection:
            try:
                connection.drain_events(timeout=1)
            except TimeoutError:
                connection.heartbeat_check()
    except Exception as exc:  # the broker cancelled us, or the connection broke: start afresh
        logger.warning("%s lost (%r); listening again at the next request", what, exc)
        with owner.lock:
            if owner.connection is connection:
                owner.connection = None
    finally:
        release_quietly(connection)


def carry_current_trace(proxy):
    """The next call of `proxy` continues the current request's trace (a Nameko header)."""
    traceparent = current_traceparent()
    data = proxy._worker_ctx.data  # the standalone proxy's context data, sent with each call
    if traceparent:
        data[TRACEPARENT] = traceparent
    else:
        data.pop(TRACEPARENT, None)


class RpcPool:
    def __init__(self, amqp_uri, timeout=10, size=8):
        self.config = {"AMQP_URI": amqp_uri, "serializer": "json"}
        self.timeout = timeout
        self.idle = queue.LifoQueue(maxsize=size)
        self.turns = threading.BoundedSemaphore(size)

    def call(self, service, method, *args, **kwargs):
        if not self.turns.acquire(timeout=self.timeout):
            raise ServiceUnavailable(f"every connection to the services stayed busy for {self.timeout}s")
        try:
            return self._call(service, method, *args, **kwargs)
        finally:
            self.turns.release()

    def _call(self, service, method, *args, **kwargs):
        proxy, cluster = self._borrow()
        carry_current_trace(proxy)
        try:
            result = getattr(getattr(cluster, service), method)(*args, **kwargs)
        except RpcTimeout:
            self._discard(proxy)
            raise ServiceUnavailable(f"the {service} service did not answer in {self.timeout}s") from None
        except UnknownService:
            self._give_back(proxy, cluster)
            raise ServiceUnavailable(f"the {service} service is not running") from None
        except BROKER_ERRORS as exc:
            self._discard(proxy)
            raise broker_unreachable(exc) from None
        except Exception:
            self._give_back(proxy, cluster)
            raise
        self._give_back(proxy, cluster)
        return result

    def _borrow(self):
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            pass
        proxy = StandaloneRpcProxy(self.config, timeout=self.timeout)
        try:
            cluster = proxy.start()
        except BROKER_ERRORS as exc:
            raise broker_unreachable(exc) from None
        return proxy, cluster

    def _give_back(self, proxy, cluster):
        try:
            self.idle.put_nowait((proxy, cluster))
        except queue.Full:
            self._discard(proxy)

    def _discard(self, proxy):
        # A broken proxy may fail to close; it is dropped either way.
        with contextlib.suppress(Exception):
            proxy.stop()

    def close(self):
        while True:
            try:
                proxy, _ = self.idle.get_nowait()
            except queue.Empty:
                return
            self._discard(proxy)
