"""Starting the whole platform as processes (`klaxon run`) for end-to-end tests and benchmarks.

Each platform gets its own RabbitMQ vhost, free ports, a data directory and, on
PostgreSQL, schemas of its own, so several can run beside a developer's platform.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import requests

from tests.conftest import LOOPBACK, PG_URL, drop_schemas, eventually

RABBIT_API = os.environ.get(
    "KLAXON_TEST_RABBIT_API",
    "http://guest:guest@127.0.0.1:15672/api",  # pragma: allowlist secret
)
NAMES = ("edge", "alerts", "incidents", "oncall", "notifications")
FIRST_ADMIN = "admin@example.com"  # `klaxon run` and `klaxon bootstrap` make this admin


def klaxon(env, *args, timeout=120):
    """Run a `klaxon` command with a platform's environment; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "klaxon.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.stdout


def api_token(env, email=FIRST_ADMIN, role=None, name="tests"):
    """A new API token of `email` (the last line `klaxon token create` prints)."""
    args = ["token", "create", email, "--name", name, *(["--role", role] if role else [])]
    return klaxon(env, *args).strip().splitlines()[-1]


def session_with(token):
    """A requests session that sends `token` as its bearer, the way scripts call the API."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def vhost():
    name = f"klaxon-e2e-{uuid.uuid4().hex[:8]}"
    requests.put(f"{RABBIT_API}/vhosts/{name}", timeout=10).raise_for_status()
    requests.put(
        f"{RABBIT_API}/permissions/{name}/guest",
        json={"configure": ".*", "write": ".*", "read": ".*"},
        timeout=10,
    ).raise_for_status()
    try:
        yield name
    finally:
        requests.delete(f"{RABBIT_API}/vhosts/{name}", timeout=10)


class AdminApi:
    """`api`: a requests session acting as the first admin (an API token of theirs)."""

    _api = None

    @property
    def api(self):
        if self._api is None:
            self._api = session_with(api_token(self.env))
        return self._api

    def integration_key(self, kind="generic", name=None):
        """The key of a new integration of `kind`, made through the edge by the admin."""
        body = {"name": name or f"{kind}-{uuid.uuid4().hex[:8]}", "kind": kind}
        created = self.api.post(f"{self.urls['edge']}/api/v1/integrations", json=body, timeout=10)
        assert created.status_code == 201, created.text
        return created.json()["key"]


class Platform(AdminApi):
    """A running `klaxon run`: `urls[name]` for edge and services, `env` it was started with."""

    def __init__(self, urls, env, process, log_path=None):
        self.urls = urls
        self.env = env
        self.process = process
        self.log_path = log_path

    def log_tail(self, lines=60):
        """The last lines the platform printed, for a failing test's message."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @property
    def edge(self):
        return self.urls["edge"]

    def wait_healthy(self, timeout=60):
        def healthy():
            try:
                return all(
                    requests.get(f"{u}/health", timeout=2).status_code == 200 for u in self.urls.values()
                )
            except requests.RequestException:
                return False

        eventually(healthy, timeout=timeout)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.returncode


def platform_env(vhost_name, data_dir, database="sqlite", schema_prefix=None, extra=None):
    ports = {name: free_port() for name in NAMES}
    env = dict(os.environ)
    env.update(
        {
            "KLAXON_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost_name}",  # pragma: allowlist secret
            "KLAXON_DATA_DIR": str(data_dir / "data"),
            "KLAXON_KEYLESS_INGEST": "true",
            "KLAXON_WEBHOOK_ALLOWED_NETWORKS": ",".join(LOOPBACK),  # the tests' receivers
            "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "edge-metrics"),
            **{f"KLAXON_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
    )
    if database == "postgresql":
        env.update({"KLAXON_DATABASE_URL": PG_URL, "KLAXON_SCHEMA_PREFIX": schema_prefix})
    env.update({key: str(value) for key, value in (extra or {}).items()})
    # A port given in `extra` (e.g. one an OpenID provider must redirect to) wins.
    return env, {name: f"http://127.0.0.1:{env[f'KLAXON_{name.upper()}_PORT']}" for name in NAMES}


@contextlib.contextmanager
def running_platform(tmp_path, database="sqlite", extra_env=None, command=("run",)):
    """`klaxon run` in its own vhost; yields a `Platform` (not yet waited for)."""
    prefix = f"e{uuid.uuid4().hex[:8]}_"
    with vhost() as name:
        env, urls = platform_env(name, tmp_path, database, prefix, extra_env)
        log_path = tmp_path / "platform.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "klaxon.cli", *command],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            platform = Platform(urls, env, process, log_path)
            try:
                yield platform
            finally:
                platform.stop()
                if database == "postgresql":
                    drop_schemas(prefix)


class Processes(AdminApi):
    """The platform's processes started one by one, so a test can kill and restart any of
    them, or run a second replica: `start("alerts", replica=2)`."""

    def __init__(self, env, urls, log_dir):
        self.env = env
        self.urls = dict(urls)
        self.log_dir = log_dir
        self.running = {}

    def start(self, name, replica=1):
        env = dict(self.env)
        if replica > 1:
            port = free_port()
            env[f"KLAXON_{name.upper()}_PORT"] = str(port)
            self.urls[f"{name}-{replica}"] = f"http://127.0.0.1:{port}"
        command = ["edge"] if name == "edge" else ["service", name]
        log = open(self.log_dir / f"{name}-{replica}.log", "a")  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(
            [sys.executable, "-m", "klaxon.cli", *command],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running[(name, replica)] = (process, log)
        return process

    def url(self, name, replica=1):
        return self.urls[name if replica == 1 else f"{name}-{replica}"]

    def kill(self, name, replica=1, sig=signal.SIGKILL):
        process, log = self.running.pop((name, replica))
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
        log.close()

    def wait_healthy(self, timeout=60):
        def healthy():
            try:
                return all(
                    requests.get(f"{self.url(name, replica)}/health", timeout=2).status_code == 200
                    for name, replica in self.running
                )
            except requests.RequestException:
                return False

        eventually(healthy, timeout=timeout)

    def stop_all(self, grace=20):
        """SIGTERM every process, then SIGKILL whichever has not stopped within `grace` s."""
        running, self.running = self.running, {}
        for process, _ in running.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process, log in running.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=20)
            log.close()


def _signal_group(process, sig):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@contextlib.contextmanager
def platform_processes(tmp_path, database="postgresql", extra_env=None):
    """Migrated, demo-loaded platform whose processes the test starts itself."""
    prefix = f"r{uuid.uuid4().hex[:8]}_"
    with vhost() as name:
        env, urls = platform_env(name, tmp_path, database, prefix, extra_env)
        for command in ("migrate", "demo", "bootstrap"):
            subprocess.run(
                [sys.executable, "-m", "klaxon.cli", command],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        processes = Processes(env, urls, tmp_path)
        try:
            yield processes
        finally:
            processes.stop_all()
            if database == "postgresql":
                drop_schemas(prefix)
