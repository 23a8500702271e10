"""`klaxon`: run, migrate and seed the platform.

klaxon run                 every service and the edge, as local processes (+ demo data)
klaxon service NAME        one Nameko service (alerts, incidents, oncall, notifications)
klaxon edge                the Falcon edge on gunicorn
klaxon migrate             apply pending database migrations of every service
klaxon demo                load the demo teams, rotations and service catalog
klaxon apply -f FILE.yaml  make teams, schedules, policies, the catalog and maintenance windows match a file
klaxon user create EMAIL   a user with a one-time password (--role viewer|responder|admin)
klaxon token create EMAIL --name NAME   an API token, printed once
klaxon bootstrap           migrate, and make the first admin if there is none
"""

import argparse
import glob
import os
import sys
import tempfile

from klaxon import accounts
from services.shared import config


def main(argv=None):
    parser = argparse.ArgumentParser(prog="klaxon", description="Klaxon incident and on-call platform")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every service and the edge locally")
    run.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    service = commands.add_parser("service", help="run one Nameko service")
    service.add_argument("name", choices=config.SERVICE_NAMES)
    commands.add_parser("edge", help="run the Falcon edge on gunicorn")
    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser("demo", help="load demo teams, rotations and services")
    apply = commands.add_parser("apply", help="schedules as code: apply a YAML file (prints what changed)")
    apply.add_argument(
        "-f", "--file", required=True, help="YAML with schedules, escalation_policies and maintenance_windows"
    )
    _integration_commands(commands)
    accounts.add_commands(commands)
    commands.add_parser("bootstrap", help="migrate; make the first admin (password in a private file)")
    args = parser.parse_args(argv)
    handler = {
        "run": lambda: _run(args),
        "service": lambda: run_service(args.name),
        "edge": run_edge,
        "migrate": migrate_all,
        "demo": load_demo,
        "apply": lambda: apply_file(args),
        "integration": lambda: manage_integrations(args),
        "user": lambda: accounts.manage_users(args),
        "token": lambda: accounts.manage_tokens(args),
        "bootstrap": bootstrap,
    }[args.command]
    from services.shared.errors import KlaxonError

    try:
        return handler() or 0
    except KlaxonError as error:
        parser.exit(2, f"klaxon: {error}\n")


def _integration_commands(commands):
    integration = commands.add_parser("integration", help="create, list or revoke integration keys")
    actions = integration.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new integration; prints its key once")
    create.add_argument("name")
    create.add_argument("--kind", default="any", help="any, generic, alertmanager, grafana, pagerduty")
    create.add_argument("--service", dest="default_service", help="service for alerts that name none")
    create.add_argument("--rate-limit", dest="rate_limit_per_minute", type=int, default=6000)
    create.add_argument("--no-auto-resolve", dest="auto_resolve", action="store_false")
    actions.add_parser("list", help="every integration (keys are never shown again)")
    revoke = actions.add_parser("revoke", help="refuse this integration's key from now on")
    revoke.add_argument("id", type=int)


def manage_integrations(args):
    import json

    from klaxon.registry import bind_and_migrate
    from services.alerts.integrations import parse_integration
    from services.alerts.models import db
    from services.alerts.store import IntegrationStore
    from services.shared.db import utcnow

    bind_and_migrate("alerts")
    store = IntegrationStore(db, {})
    with db.connection_context():
        if args.action == "create":
            fields = ("name", "kind", "default_service", "rate_limit_per_minute", "auto_resolve")
            result = store.create(parse_integration({f: getattr(args, f) for f in fields}), utcnow())
        elif args.action == "revoke":
            result = store.revoke(args.id, utcnow())
        else:
            result = store.list()
    print(json.dumps(result, indent=2))


def run_service(name):
    # A service counts in its own memory; only the edge's gunicorn workers share a
    # multiprocess directory, which the edge would otherwise re-export (counted twice).
    # prometheus_client reads this when first imported, so it goes before any import.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # Must happen before anything imports socket or threading users.
    import eventlet

    eventlet.monkey_patch()
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()
    from klaxon.registry import service_class
    from klaxon.runner import run
    from services.shared import tracing
    from services.shared.logs import setup_logging

    setup_logging(name)
    tracing.configure(name)
    run(service_class(name), config.nameko_config(name))


def run_edge():
    multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
        prefix="klaxon-edge-metrics-"
    )
    os.makedirs(multiproc_dir, exist_ok=True)
    # Samples of a previous run would be counted again; only prometheus' own files go.
    for stale in glob.glob(os.path.join(multiproc_dir, "*.db")):
        os.remove(stale)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:edge.gunicorn_conf", "edge.wsgi:application"]
    os.execv(sys.executable, argv)


def migrate_all():
    from klaxon.registry import bind_and_migrate

    for name in config.SERVICE_NAMES:
        applied = bind_and_migrate(name)
        print(f"{name}: {'applied ' + ', '.join(map(str, applied)) if applied else 'up to date'}")


def apply_file(args):
    from services.alerts import apply as windows
    from services.oncall.apply import ApplyError, apply

    try:
        held_back = windows.read(args.file)  # validated before anything is written
        for line in [*apply(args.file, also=windows.SECTIONS), *windows.apply(held_back)]:
            print(line)
    except (ApplyError, windows.WindowsError) as error:
        print(f"klaxon apply: nothing changed: {error}", file=sys.stderr)
        return 2
    return 0


def bootstrap():
    migrate_all()
    accounts.announce_first_admin()


def load_demo():
    from services.oncall.demo import load

    for line in load():
        print(line)


def _run(args):
    from klaxon.supervisor import run_platform

    migrate_all()
    if not args.no_demo:
        load_demo()
    return run_platform(first_admin=accounts.announce_first_admin())


if __name__ == "__main__":
    sys.exit(main())
