"""`klaxon run`: the four services and the edge as child processes of one command.

Ctrl-C (or SIGTERM) stops them all; if one dies, the others are stopped too, so a
half-running platform never pretends to be up.
"""

import os
import signal
import subprocess
import sys
import time

from services.shared import config

STOP_GRACE_SECONDS = 10


def commands():
    python = sys.executable
    children = {name: [python, "-m", "klaxon.cli", "service", name] for name in config.SERVICE_NAMES}
    children["edge"] = [python, "-m", "klaxon.cli", "edge"]
    return children


def run_platform():
    env = dict(os.environ)
    children = {name: subprocess.Popen(argv, env=env) for name, argv in commands().items()}
    stopping = []

    def stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ports = ", ".join(f"{n} :{config.service_port(n)}" for n in config.SERVICE_NAMES)
    print(f"klaxon: edge and UI on http://{config.bind_host()}:{config.edge_port()} ; {ports}", flush=True)
    exited = _wait_for_exit(children, stopping)
    if exited:
        print(f"klaxon: {exited} exited; stopping the rest", file=sys.stderr, flush=True)
    _stop_all(children)
    return 1 if exited else 0


def _wait_for_exit(children, stopping):
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                return name
        time.sleep(0.5)
    return None


def _stop_all(children):
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
