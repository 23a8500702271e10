"""`klaxon run`: the four services and the edge as child processes of one command.

A child that exits is started again after a pause that doubles with each quick crash
(1 s, 2 s, 4 s … up to 30 s); the others keep serving meanwhile. One that crashes
`CRASH_LOOP_LIMIT` times within `CRASH_LOOP_WINDOW_SECONDS` is given up on, loudly, and
the rest stay up: an on-call platform must not go down with its weakest process.
Ctrl-C (or SIGTERM) stops them all.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from services.shared import config

STOP_GRACE_SECONDS = 10
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
CRASH_LOOP_LIMIT = 5
CRASH_LOOP_WINDOW_SECONDS = 60.0
POLL_SECONDS = 0.2


def commands():
    python = sys.executable
    children = {name: [python, "-m", "klaxon.cli", "service", name] for name in config.SERVICE_NAMES}
    children["edge"] = [python, "-m", "klaxon.cli", "edge"]
    return children


def child_env(name, environ, edge_metrics_dir):
    """Only the edge's gunicorn workers share a Prometheus multiprocess directory; a
    service writing there would have its counters exported twice, once by the edge."""
    env = dict(environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if name == "edge":
        env["PROMETHEUS_MULTIPROC_DIR"] = edge_metrics_dir
    return env


def say(message, stream=None):
    print(f"klaxon: {message}", file=stream or sys.stdout, flush=True)


class Child:
    """One supervised process: started, watched, restarted with backoff, or given up on."""

    def __init__(self, name, argv, env, clock=time.monotonic):
        self.name, self.argv, self.env, self.clock = name, argv, env, clock
        self.process = None
        self.crashes = []  # when it exited, within the crash-loop window
        self.restart_at = None
        self.given_up = False

    def start(self):
        self.process = subprocess.Popen(self.argv, env=self.env)
        self.restart_at = None

    def running(self):
        return self.process is not None and self.process.poll() is None

    def watch(self):
        """Called every poll: notice an exit, schedule the restart, or restart when due."""
        if self.given_up or self.running():
            return
        if self.restart_at is None:
            self._exited(self.process.returncode)
        elif self.clock() >= self.restart_at:
            say(f"restarting {self.name}")
            self.start()

    def _exited(self, code):
        now = self.clock()
        self.crashes = [t for t in self.crashes if now - t < CRASH_LOOP_WINDOW_SECONDS] + [now]
        if len(self.crashes) >= CRASH_LOOP_LIMIT:
            self.given_up = True
            say(
                f"{self.name} exited {len(self.crashes)} times within {CRASH_LOOP_WINDOW_SECONDS:.0f} s "
                f"(last exit code {code}); giving up on it, the others keep serving. "
                f"Fix the cause and restart klaxon run.",
                sys.stderr,
            )
            return
        delay = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (len(self.crashes) - 1))
        self.restart_at = now + delay
        say(f"{self.name} exited with code {code}; restarting it in {delay:.0f} s", sys.stderr)

    def terminate(self):
        if self.running():
            self.process.send_signal(signal.SIGTERM)

    def wait(self, deadline):
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_platform(first_admin=None):
    edge_metrics_dir = tempfile.mkdtemp(prefix="klaxon-edge-metrics-")
    children = [
        Child(name, argv, child_env(name, os.environ, edge_metrics_dir)) for name, argv in commands().items()
    ]
    stopping = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.append(signum))
    for child in children:
        child.start()
    supervise(children, stopping, ReadyBanner(time.monotonic(), first_admin))
    stop_all(children)
    return 0


def supervise(children, stopping, banner):
    while not stopping:
        for child in children:
            child.watch()
        banner.show_when_ready()
        time.sleep(POLL_SECONDS)


def stop_all(children):
    for child in children:
        child.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        child.wait(deadline)


class ReadyBanner:
    """Once every /health answers, say where everything is, once."""

    def __init__(self, started, first_admin):
        self.started, self.first_admin = started, first_admin
        self.shown = False
        self.next_check = started

    def show_when_ready(self):
        if self.shown or time.monotonic() < self.next_check:
            return
        self.next_check = time.monotonic() + 1.0
        if all(healthy(url) for url in health_urls()):
            self.shown = True
            print(self.text(time.monotonic() - self.started), flush=True)

    def text(self, seconds):
        host = config.bind_host() if config.bind_host() != "0.0.0.0" else "127.0.0.1"
        ports = ", ".join(f"{name} :{config.service_port(name)}" for name in config.SERVICE_NAMES)
        lines = [
            f"klaxon: ready in {seconds:.1f} s",
            f"  console and API   http://{host}:{config.edge_port()}  (API docs at /docs)",
            f"  services          {ports}",
        ]
        if self.first_admin:
            lines.append(f"  first admin       {self.first_admin}")
        lines.append("  stop              Ctrl-C")
        return "\n".join(lines)


def health_urls():
    host = "127.0.0.1"
    ports = [config.edge_port(), *(config.service_port(name) for name in config.SERVICE_NAMES)]
    return [f"http://{host}:{port}/health" for port in ports]


def healthy(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False
