"""Deploy → verify → roll back, the last stages of the pipeline.

    python scripts/deploy_verify.py deploy    # start the current tree
    python scripts/deploy_verify.py verify    # smoke test it; on failure roll back
    python scripts/deploy_verify.py smoke-compose   # the smoke test of the compose stack

Targets: with a Docker engine, the compose stack (`docker compose down`, `up -d --wait`;
the last good release's images are tagged `:last-good`, and a rollback starts them with
KLAXON_TAG=last-good). Without one, the platform as local
processes: `klaxon run` from a tree, in a RabbitMQ vhost, a data directory and on free
ports of its own. The smoke test walks alert → incident → acknowledge → resolve over HTTP
with an admin's API token. When it passes, the commit (or image) is recorded as the last
good release under .ci-state/; when it fails, the last good release is started again
(a `git worktree` of its commit) and verified, and the run says so loudly and fails.

KLAXON_DEPLOY_PLANT_FAILURE=1 (or --plant-failure) makes the smoke test of the new
release fail, to show that the rollback works. --keep leaves the release running.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("edge", "alerts", "incidents", "oncall", "notifications")
ADMIN = "admin@example.com"  # `klaxon run` makes this the first admin
RABBIT_API = os.environ.get("KLAXON_DEPLOY_RABBIT_API", "http://127.0.0.1:15672/api")
RABBIT_AUTH = os.environ.get("KLAXON_DEPLOY_RABBIT_AUTH", "guest:guest")  # pragma: allowlist secret
ALERT = {"service": "deploy-verify", "severity": "high", "message": "deploy smoke test"}


class VerifyFailed(Exception):
    """A smoke check failed; the message says which."""


# -- the core: deploy, verify, roll back (no I/O of its own) --------------------------------
@dataclass
class Outcome:
    ok: bool
    lines: list[str] = field(default_factory=list)
    rolled_back_to: str | None = None
    running: object = None  # the release left running: stopped at the end unless --keep

    def say(self, line):
        """Print a line now (loudly when the run has failed) and keep it."""
        self.lines.append(line)
        print(("!!! " if not self.ok else "") + line, flush=True)


def verify_or_roll_back(release, verify, last_good, start, record_good):
    """Verify `release`; record it as good when it passes, else start `last_good` and verify
    it. `start(ref)` returns a running release, `verify(release)` raises VerifyFailed."""
    try:
        verify(release)
    except VerifyFailed as exc:
        out = Outcome(False)
        out.say(f"verify FAILED for {release.ref}: {exc}")
        release.stop()
        return _roll_back(out, last_good, start, verify)
    record_good(release.ref)
    out = Outcome(True, running=release)
    out.say(f"verify passed: {release.ref} recorded as the last good release")
    return out


def _roll_back(out, last_good, start, verify):
    if last_good is None:
        out.say("ROLLBACK IMPOSSIBLE: no last good release is recorded")
        return out
    out.say(f"ROLLING BACK to the last good release {last_good}")
    previous = None
    try:
        previous = start(last_good)
        verify(previous, planted=False)
    except (VerifyFailed, RuntimeError) as exc:
        out.say(f"ROLLBACK FAILED: {last_good} does not verify either: {exc}")
        if previous is not None:
            previous.stop()
        return out
    out.rolled_back_to = last_good
    out.say(f"ROLLED BACK: {last_good} is running and verified; the new release was removed")
    out.running = previous
    return out


# -- the smoke test ------------------------------------------------------------------------
def http(method, url, token=None, body=None, timeout=10, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")[:300]


def smoke(edge, token, key, planted=False):
    """alert (with an integration key) → incident → acknowledged → resolved (with an admin's
    API token); raises VerifyFailed at the first step off."""
    alert = {**ALERT, "message": f"smoke {uuid.uuid4()}"}
    keyed = {"X-Klaxon-Integration-Key": key}
    status, body = http("POST", f"{edge}/api/v1/alerts", None, alert, headers=keyed)
    if status != 201 or "incident_id" not in body:
        raise VerifyFailed(f"POST /api/v1/alerts answered {status}: {body}")
    incident = body["incident_id"]
    for wanted in ("acknowledged", "resolved"):
        status, body = http("PATCH", f"{edge}/api/v1/incidents/{incident}", token, {"status": wanted})
        if status != 200 or body.get("status") != wanted:
            raise VerifyFailed(f"PATCH incident {incident} to {wanted} answered {status}: {body}")
    status, body = http("GET", f"{edge}/api/v1/incidents/{incident}", token)
    final = body.get("status") if isinstance(body, dict) else body
    if planted:
        final = "planted failure (KLAXON_DEPLOY_PLANT_FAILURE)"
    if status != 200 or final != "resolved":
        raise VerifyFailed(f"incident {incident} reads {status} {final!r}, not resolved")
    return incident


def wait_healthy(urls, timeout=90, alive=lambda: True):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the platform exited while starting")
        if all(_healthy(url) for url in urls.values()):
            return
        time.sleep(1)
    raise RuntimeError(f"not every /health answered 200 within {timeout}s: {urls}")


def _healthy(url):
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


# -- local processes: `klaxon run` from a tree ---------------------------------------------
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rabbit(method, path, body=None):
    request = urllib.request.Request(
        f"{RABBIT_API}{path}", method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", "Basic " + base64.b64encode(RABBIT_AUTH.encode()).decode())
    with urllib.request.urlopen(request, timeout=10):
        pass


@dataclass
class LocalRelease:
    """`klaxon run` from `tree`, described by a JSON-able dict (kept between the stages)."""

    ref: str
    tree: str
    state: dict

    @classmethod
    def start(cls, ref, tree, work):
        vhost = f"klaxon-deploy-{uuid.uuid4().hex[:8]}"
        rabbit("PUT", f"/vhosts/{vhost}")
        rabbit("PUT", f"/permissions/{vhost}/guest", {"configure": ".*", "write": ".*", "read": ".*"})
        data = Path(work) / vhost
        data.mkdir(parents=True)
        ports = {name: free_port() for name in NAMES}
        env = {
            "KLAXON_AMQP_URI": f"amqp://{RABBIT_AUTH}@127.0.0.1:5672/{vhost}",
            "KLAXON_DATA_DIR": str(data / "data"),
            "PROMETHEUS_MULTIPROC_DIR": str(data / "edge-metrics"),
            "PYTHONPATH": str(tree),
            **{f"KLAXON_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
        with open(data / "platform.log", "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "klaxon.cli", "run"],
                cwd=tree,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        release = cls(
            ref,
            str(tree),
            {"pid": process.pid, "vhost": vhost, "env": env, "urls": urls, "log": str(data / "platform.log")},
        )
        try:
            wait_healthy(urls, alive=lambda: process.poll() is None)
        except RuntimeError as exc:
            release.stop()
            raise RuntimeError(f"{exc}; log: {data / 'platform.log'}") from None
        return release

    def cli(self, *args):
        """`klaxon ARGS` of this release, with its environment; its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "klaxon.cli", *args],
            cwd=self.tree,
            env={**os.environ, **self.state["env"]},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise VerifyFailed(f"klaxon {' '.join(args[:2])} failed: {done.stderr.strip()[-300:]}")
        return done.stdout

    def verify(self, planted=False):
        wait_healthy(self.state["urls"], timeout=30)
        token = self.cli("token", "create", ADMIN, "--name", "deploy-verify").strip().splitlines()[-1]
        key = json.loads(self.cli("integration", "create", "deploy-verify", "--kind", "generic"))["key"]
        return smoke(self.state["urls"]["edge"], token, key, planted)

    def stop(self):
        pid = self.state["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            for _ in range(40):
                if not _group_alive(pid):
                    break
                time.sleep(0.5)
            else:
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            rabbit("DELETE", f"/vhosts/{self.state['vhost']}")


def _group_alive(pgid):
    with contextlib.suppress(ChildProcessError):  # reap our own child, else it lingers a zombie
        os.waitpid(pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# -- the state under .ci-state/ ------------------------------------------------------------
class State:
    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def read(self, name):
        path = self.dir / name
        return path.read_text().strip() if path.exists() else None

    def write(self, name, text):
        (self.dir / name).write_text(text + "\n")

    def drop(self, name):
        (self.dir / name).unlink(missing_ok=True)


def git(*args, cwd=ROOT):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def tree_of(ref, state):
    """A worktree of commit `ref` under the state directory (made once)."""
    path = state.dir / "worktrees" / ref[:12]
    if not (path / ".git").exists():
        shutil.rmtree(path, ignore_errors=True)
        git("worktree", "prune")
        git("worktree", "add", "--detach", str(path), ref)
    return path


# -- the stages ----------------------------------------------------------------------------
def deploy(args, state):
    ref = git("rev-parse", "HEAD")
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    print(f"deploy: starting `klaxon run` from {ROOT} at {ref[:12]}{dirty}")
    try:
        release = LocalRelease.start(ref, ROOT, state.dir / "run")
    except (RuntimeError, OSError) as exc:
        out = Outcome(False)
        out.say(f"deploy FAILED: {exc}")
        out = _roll_back(
            out, state.read("last-good"), start_local(state), lambda r, planted=False: r.verify(planted)
        )
        return finish(out, args, state)
    state.write("current.json", json.dumps({"ref": ref, "tree": str(ROOT), "state": release.state}))
    print(f"deploy: {ref[:12]} is running; edge at {release.state['urls']['edge']}")
    return 0


def start_local(state):
    return lambda ref: LocalRelease.start(ref, tree_of(ref, state), state.dir / "run")


def verify(args, state):
    current = state.read("current.json")
    if current is None:
        print("verify FAILED: nothing is deployed (the deploy stage failed or did not run)")
        return 1
    saved = json.loads(current)
    release = LocalRelease(saved["ref"], saved["tree"], saved["state"])
    planted = args.plant_failure or os.environ.get("KLAXON_DEPLOY_PLANT_FAILURE") == "1"
    out = verify_or_roll_back(
        release,
        lambda r, planted=planted: _checked(r, planted),
        state.read("last-good"),
        start_local(state),
        lambda ref: state.write("last-good", ref),
    )
    return finish(out, args, state)


def _checked(release, planted):
    try:
        incident = release.verify(planted)
    except RuntimeError as exc:
        raise VerifyFailed(str(exc)) from None
    print(f"verify: {release.ref[:12]}: alert → incident {incident} → acknowledged → resolved")


def finish(out, args, state):
    running = out.running
    if running is not None and not args.keep:
        running.stop()
        print(f"verify: stopped {running.ref[:12]} (--keep leaves it running)")
    state.drop("current.json")
    return 0 if out.ok else 1


def smoke_compose(args, state):
    """The compose stack on this machine: the edge on :8080, credentials made in its container."""

    def exec_klaxon(*words):
        done = subprocess.run(
            ["docker", "compose", "exec", "-T", "edge", "klaxon", *words],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise VerifyFailed(f"klaxon {' '.join(words[:2])} in the edge container: {done.stderr[-300:]}")
        return done.stdout

    planted = args.plant_failure or os.environ.get("KLAXON_DEPLOY_PLANT_FAILURE") == "1"
    try:
        wait_healthy({"edge": "http://127.0.0.1:8080"}, timeout=60)
        token = exec_klaxon("token", "create", ADMIN, "--name", "deploy-verify").strip().splitlines()[-1]
        key = json.loads(exec_klaxon("integration", "create", "deploy-verify", "--kind", "generic"))["key"]
        incident = smoke("http://127.0.0.1:8080", token, key, planted)
    except (VerifyFailed, RuntimeError) as exc:
        print(f"verify FAILED: {exc}")
        return 1
    print(f"verify: alert → incident {incident} → acknowledged → resolved")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("deploy", "verify", "smoke-compose"))
    parser.add_argument("--state-dir", default=os.environ.get("KLAXON_DEPLOY_STATE", str(ROOT / ".ci-state")))
    parser.add_argument("--plant-failure", action="store_true", help="fail the new release's smoke test")
    parser.add_argument("--keep", action="store_true", help="leave the verified release running")
    args = parser.parse_args(argv)
    state = State(args.state_dir)
    stages = {"deploy": deploy, "verify": verify, "smoke-compose": smoke_compose}
    return stages[args.stage](args, state)


if __name__ == "__main__":
    sys.exit(main())
