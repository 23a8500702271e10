"""Schemathesis against a running platform: no 5xx, and every answer matches the document.

    tox -e fuzz                  # or: python tests/fuzz/run_fuzz.py [--max-examples N]

Starts the whole platform as processes (tests/platform.py, RabbitMQ on localhost, SQLite,
demo data, keyless ingestion), creates an admin and an API token with the CLI when it has
those commands, then runs schemathesis twice on /api/v1/openapi.json: the API with the
token, and the ingestion operations without it (the test platform takes keyless alerts,
and an API token is not an integration key). Exits non-zero when either run fails.

Pages the fuzzer provokes must not leave this machine: the platform's processes get a
proxy on a closed loopback port for every HTTP(S) request and an SMTP server on one too.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.platform import free_port, running_platform  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance"
INGESTION_TAG = "Ingestion"
FUZZ_EMAIL = "fuzz@example.com"


def contained_env():
    """Every webhook, Slack or SMTP delivery goes to a closed port on 127.0.0.1."""
    closed = f"http://127.0.0.1:{free_port()}"
    proxies = {name: closed for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
    proxies.update({name.lower(): closed for name in proxies})
    return {
        **proxies,
        "NO_PROXY": "",
        "no_proxy": "",
        "KLAXON_SMTP_HOST": "127.0.0.1",
        "KLAXON_SMTP_PORT": str(free_port()),
    }


def cli_module():
    """The CLI's module: klaxon.cli, or services.shared.cli before the move."""
    return "klaxon.cli" if importlib.util.find_spec("klaxon.cli") else "services.shared.cli"


def cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", cli_module(), *args], env=env, capture_output=True, text=True, timeout=120
    )


def api_token(env):
    """An admin's API token, or None while the CLI has no user/token commands."""
    user = cli(env, "user", "create", FUZZ_EMAIL, "--role", "admin")
    if user.returncode != 0:
        print(f"no API token: `user create` failed ({user.stderr.strip().splitlines()[-1:]})", flush=True)
        return None
    token = cli(env, "token", "create", FUZZ_EMAIL, "--name", "fuzz")
    lines = token.stdout.strip().splitlines()
    if token.returncode != 0 or not lines:
        print(f"no API token: `token create` failed ({token.stderr.strip().splitlines()[-1:]})", flush=True)
        return None
    return lines[-1].strip()


def document_location(edge, tmp):
    """The served document's URL; until create_app installs it, the same document built here."""
    if requests.get(f"{edge}/api/v1/openapi.json", timeout=10).status_code == 200:
        return f"{edge}/api/v1/openapi.json"
    from tests.edge.test_openapi import local_document

    path = Path(tmp) / "openapi.json"
    path.write_text(json.dumps(local_document()))
    print(f"the edge serves no /api/v1/openapi.json yet: fuzzing the same document built here ({path})")
    return str(path)


def schemathesis(edge, location, args, extra):
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        location,
        "--url",
        edge,
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        "2",
        "--request-timeout",
        "30",
        *extra,
    ]
    print(
        "$",
        " ".join(arg if "Bearer" not in arg else "Authorization: Bearer ***" for arg in command),
        flush=True,
    )
    return subprocess.run(command, timeout=600).returncode


def fuzz(platform, args, tmp):
    platform.wait_healthy(timeout=120)
    location = document_location(platform.edge, tmp)
    token = api_token(platform.env)
    auth = ["--header", f"Authorization: Bearer {token}"] if token else []
    api = schemathesis(platform.edge, location, args, ["--exclude-tag", INGESTION_TAG, *auth])
    ingestion = schemathesis(platform.edge, location, args, ["--include-tag", INGESTION_TAG])
    return api or ingestion


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("KLAXON_TEST_FUZZ_SEED", 1)))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="klaxon-fuzz-") as tmp:
        log = Path(tmp) / "platform.log"
        try:
            with running_platform(Path(tmp), extra_env=contained_env()) as platform:
                status = fuzz(platform, args, tmp)
        except AssertionError as never_healthy:
            print(never_healthy, flush=True)
            status = 1
        if status:
            print(f"the platform's log, last lines ({log}):", flush=True)
            print("\n".join(log.read_text().splitlines()[-60:]))
    return status


if __name__ == "__main__":
    sys.exit(main())
