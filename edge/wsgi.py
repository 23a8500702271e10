"""The WSGI entry point gunicorn loads: the app with a real RPC pool."""

from edge.app import EdgeSettings, create_app
from edge.rpc import RpcPool
from services.shared.logs import setup_logging

setup_logging("edge")
settings = EdgeSettings.from_env()
application = create_app(settings, RpcPool(settings.amqp_uri, timeout=settings.rpc_timeout))
