"""Settings read from the environment, in one place, with their defaults.

Every knob a user can turn is listed in the README's configuration table.
"""

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SERVICE_PORTS = {"alerts": 8001, "incidents": 8002, "oncall": 8003, "notifications": 8004}
SERVICE_NAMES = tuple(SERVICE_PORTS)
EDGE_PORT = 8080
# Nameko's container with leaner workers (services.shared.container).
SERVICE_CONTAINER_CLS = "services.shared.container.LeanContainer"
DEFAULT_AMQP_URI = (
    "amqp://guest:guest@127.0.0.1:5672/"  # RabbitMQ's local default  # pragma: allowlist secret
)
TRUE_WORDS = {"1", "true", "yes", "on"}


def env(name, default=None):
    """The variable's value; when it is unset or empty, the content of the file that
    `<name>_FILE` names (how compose hands over the secrets it generates); else `default`."""
    value = os.environ.get(name)
    if value in (None, ""):
        value = secret_file(name)
    return default if value in (None, "") else value


def secret_file(name):
    """The stripped content of the file `<name>_FILE` names, or None when it names none.
    A named file that cannot be read is an error: starting without the secret would fail later."""
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise RuntimeError(f"{name}_FILE={path} cannot be read: {exc.strerror or exc}") from exc


def env_flag(name, default=False):
    value = env(name)
    return default if value is None else value.strip().lower() in TRUE_WORDS


def networks(name):
    """The comma-separated CIDRs of the variable ("10.0.0.0/8, ::1/128"), each as the
    network it names; one that is not a network stops the start with its name."""
    found = []
    for item in (env(name) or "").split(","):
        if item.strip():
            try:
                found.append(str(ipaddress.ip_network(item.strip(), strict=False)))
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
    return found


def amqp_uri():
    return env("KLAXON_AMQP_URI", DEFAULT_AMQP_URI)


def bind_host():
    return env("KLAXON_BIND_HOST", "127.0.0.1")


def data_dir():
    return Path(env("KLAXON_DATA_DIR", "var")).resolve()


def local_secret_key():
    """Without KLAXON_SECRET_KEY, one random key kept in the data directory, so every local
    process signs and checks acknowledge links alike. Set the variable in production."""
    path = data_dir() / "secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret-key.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)  # atomic: the first process to get here sets the key
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def service_port(service):
    return int(env(f"KLAXON_{service.upper()}_PORT", SERVICE_PORTS[service]))


def edge_port():
    return int(env("KLAXON_EDGE_PORT", EDGE_PORT))


def database_url(service):
    """The per-service URL wins, then the shared one, then a SQLite file per service."""
    url = env(f"KLAXON_{service.upper()}_DATABASE_URL") or env("KLAXON_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / f'klaxon-{service}.db'}"


def schema_name(service):
    """PostgreSQL schema owned by a service; the prefix lets tests share one database."""
    return env("KLAXON_SCHEMA_PREFIX", "") + service


@dataclass(frozen=True)
class CorrelationSettings:
    window_seconds: int

    @classmethod
    def from_config(cls, nameko_config):
        return cls(window_seconds=int(nameko_config.get("CORRELATION_WINDOW_SECONDS", 300)))


# The alerts service's own port answers synchronous alerts in shared rounds
# (services/shared/group_commit.py): a request waiting for its round is a green thread and
# holds no database connection, so many can wait while a few rounds run.
DEFAULT_MAX_WORKERS = {"alerts": 64}


def max_workers(service):
    """Concurrent workers of one service: KLAXON_<SERVICE>_MAX_WORKERS, else KLAXON_MAX_WORKERS."""
    fallback = env("KLAXON_MAX_WORKERS", DEFAULT_MAX_WORKERS.get(service, 10))
    return int(env(f"KLAXON_{service.upper()}_MAX_WORKERS", fallback))


def nameko_config(service):
    """The Nameko config dict for one service process."""
    return {
        "AMQP_URI": amqp_uri(),
        "WEB_SERVER_ADDRESS": f"{bind_host()}:{service_port(service)}",
        "max_workers": max_workers(service),
        "SERVICE_CONTAINER_CLS": SERVICE_CONTAINER_CLS,
        "serializer": "json",
        "KLAXON_SERVICE": service,
        "DATABASE_URL": database_url(service),
        "CORRELATION_WINDOW_SECONDS": int(env("KLAXON_CORRELATION_WINDOW_SECONDS", 300)),
        "DEFAULT_TEAM": env("KLAXON_DEFAULT_TEAM"),
        "KEYLESS_INGEST": env_flag("KLAXON_KEYLESS_INGEST"),
        "KEYLESS_RATE_LIMIT": int(env("KLAXON_KEYLESS_RATE_LIMIT", 6000)),  # per minute, as on the edge
        # How long the alerts service's own port trusts a key it checked (as the edge does).
        "INTEGRATION_CACHE_SECONDS": float(env("KLAXON_INTEGRATION_CACHE_SECONDS", 5)),
        "BATCH_SIZE": int(env("KLAXON_BATCH_SIZE", 200)),
        "ESCALATION_TICK_SECONDS": float(env("KLAXON_ESCALATION_TICK_SECONDS", 1)),
        # How often each alerts replica replays ended windows and checks heartbeats.
        "MAINTENANCE_TICK_SECONDS": float(env("KLAXON_MAINTENANCE_TICK_SECONDS", 5)),
        "CLOCK_OFFSET_FILE": env("KLAXON_CLOCK_OFFSET_FILE"),
        "PUBLIC_URL": env("KLAXON_PUBLIC_URL", f"http://127.0.0.1:{edge_port()}"),
        "SECRET_KEY": env("KLAXON_SECRET_KEY") or local_secret_key(),
        "SMTP_HOST": env("KLAXON_SMTP_HOST"),
        "SMTP_PORT": int(env("KLAXON_SMTP_PORT", 25)),
        "SMTP_FROM": env("KLAXON_SMTP_FROM", "klaxon@localhost"),
        "SMTP_STARTTLS": env_flag("KLAXON_SMTP_STARTTLS"),
        "SMTP_USERNAME": env("KLAXON_SMTP_USERNAME"),
        "SMTP_PASSWORD": env("KLAXON_SMTP_PASSWORD"),
        "WEBHOOK_TIMEOUT_SECONDS": float(env("KLAXON_WEBHOOK_TIMEOUT_SECONDS", 5)),
        "WEBHOOK_SECRET": env("KLAXON_WEBHOOK_SECRET"),
        # Private networks webhook and Slack pages may go to (services.notifications.destinations).
        "WEBHOOK_ALLOWED_NETWORKS": networks("KLAXON_WEBHOOK_ALLOWED_NETWORKS"),
        "NOTIFY_MAX_ATTEMPTS": int(env("KLAXON_NOTIFY_MAX_ATTEMPTS", 5)),
        "NOTIFY_BACKOFF_SECONDS": float(env("KLAXON_NOTIFY_BACKOFF_SECONDS", 5)),
        "NOTIFY_RETRY_TICK_SECONDS": float(env("KLAXON_NOTIFY_RETRY_TICK_SECONDS", 1)),
        "DEFAULT_CHANNEL": env("KLAXON_DEFAULT_CHANNEL", "log"),
        "NOTIFY_RATE_LIMIT": int(env("KLAXON_NOTIFY_RATE_LIMIT", 5)),
        "NOTIFY_RATE_WINDOW_SECONDS": float(env("KLAXON_NOTIFY_RATE_WINDOW_SECONDS", 60)),
        "BATCH_LINGER_SECONDS": float(env("KLAXON_BATCH_LINGER_MS", 100)) / 1000,
        "BATCH_CONCURRENCY": int(env("KLAXON_BATCH_CONCURRENCY", 2)),
        # How long a service waits for another's answer (services.shared.rpc), as the edge does.
        "RPC_TIMEOUT_SECONDS": float(env("KLAXON_RPC_TIMEOUT_SECONDS", 10)),
        **access_config(),
    }


def access_config():
    """Sessions and the sign-in throttle (read by the on-call service, where logins live)."""
    return {
        "SESSION_IDLE_MINUTES": float(env("KLAXON_SESSION_IDLE_MINUTES", 720)),
        "SESSION_MAX_HOURS": float(env("KLAXON_SESSION_MAX_HOURS", 168)),
        "LOGIN_MAX_FAILURES": int(env("KLAXON_LOGIN_MAX_FAILURES", 5)),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(env("KLAXON_LOGIN_MAX_FAILURES_PER_ADDRESS", 20)),
        "LOGIN_SLOWDOWN_SECONDS": float(env("KLAXON_LOGIN_SLOWDOWN_SECONDS", 1)),
    }
