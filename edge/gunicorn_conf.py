"""gunicorn settings for the edge; `klaxon edge` passes this file with -c."""

import os

from prometheus_client import multiprocess

from services.shared import config as _klaxon  # not `config`: gunicorn reads that name

bind = f"{_klaxon.bind_host()}:{_klaxon.edge_port()}"
workers = int(_klaxon.env("KLAXON_EDGE_WORKERS", 2))
# gevent: a request is a greenlet, not a thread, which costs about a quarter less CPU per
# request than gthread here (tests/bench); requests waiting on the broker's confirm cost
# nothing meanwhile. KLAXON_EDGE_WORKER_CLASS=gthread is the fallback without gevent.
worker_class = _klaxon.env("KLAXON_EDGE_WORKER_CLASS", "gevent")
worker_connections = int(_klaxon.env("KLAXON_EDGE_CONNECTIONS", 1000))
threads = int(_klaxon.env("KLAXON_EDGE_THREADS", 16))
timeout = 30
graceful_timeout = 10
accesslog = "-" if _klaxon.env_flag("KLAXON_ACCESS_LOG") else None
logger_class = "edge.access_log.AccessLogger"  # no credential in an access line


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    from edge import response
    from services.shared import heap

    response.install()  # a response's head and body in one send (edge/response.py)
    heap.settle()
