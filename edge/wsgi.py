"""The WSGI entry point gunicorn loads: the app with a real RPC pool."""

from edge.app import EdgeSettings, create_app
from edge.rpc import RpcPool
from edge.tracing import traced
from services.shared.config import env
from services.shared.logs import setup_logging

setup_logging("edge")
settings = EdgeSettings.from_env()
pool_size = int(env("KLAXON_EDGE_THREADS", 16))  # idle RPC proxies a worker keeps for its requests
application = traced(
    create_app(settings, RpcPool(settings.amqp_uri, timeout=settings.rpc_timeout, size=pool_size))
)
