"""Running one Nameko service until SIGTERM or SIGINT, stopping it exactly once.

Like `nameko run`, except that a second signal while stopping is ignored: a process
group stopped by Ctrl-C or `kill -- -PGID` gets the signal from the terminal and from
`klaxon run` too, and Nameko's runner must not be stopped twice at once.
"""

import errno
import signal

import eventlet
from nameko.runners import ServiceRunner

from services.shared import heap


def run(service_class, config):
    runner = ServiceRunner(config)
    runner.add_service(service_class)
    stopping = []

    def shutdown(signum, frame):
        # Signal handlers run on the main loop and cannot use eventlet primitives directly.
        if not stopping:
            stopping.append(signum)
            eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    heap.settle()
    waiting = eventlet.spawn(runner.wait)
    while True:
        try:
            waiting.wait()
            return
        except OSError as exc:  # EINTR: a signal arrived while the hub was waiting
            if exc.errno != errno.EINTR:
                raise
