"""gunicorn settings for the edge; `klaxon edge` passes this file with -c."""

import os

from prometheus_client import multiprocess

from services.shared import config as _klaxon  # not `config`: gunicorn reads that name

bind = f"{_klaxon.bind_host()}:{_klaxon.edge_port()}"
workers = int(_klaxon.env("KLAXON_EDGE_WORKERS", 2))
worker_class = "gthread"
# 16 threads per worker measured best on 2 cores (tests/bench): the queued path waits on
# the broker's confirm, not on the CPU.
threads = int(_klaxon.env("KLAXON_EDGE_THREADS", 16))
timeout = 30
graceful_timeout = 10
accesslog = None


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
