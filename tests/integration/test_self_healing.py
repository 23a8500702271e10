"""`klaxon run` heals itself: a service that dies is started again while the others keep
serving, and alerts accepted meanwhile are kept; one that crash-loops is given up on,
loudly, and the rest of the platform stays up."""

import os
import signal
import socket
from pathlib import Path

import pytest
import requests

from tests.conftest import eventually
from tests.platform import running_platform

pytestmark = pytest.mark.integration
RESTARTED_WITHIN_SECONDS = 15


def child_pid(parent_pid, *words):
    """The pid of `parent_pid`'s child whose command line holds `words`, or None."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent_pid and all(w.encode() in argv for w in words):
            return int(entry.name)
    return None


def answers(url):
    try:
        return requests.get(f"{url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def platform(tmp_path):
    with running_platform(tmp_path) as running:
        running.wait_healthy()
        yield running


@pytest.mark.parametrize("name", ["alerts", "incidents", "oncall", "notifications", "edge"])
def test_a_killed_process_is_restarted_and_alerts_accepted_meanwhile_are_kept(platform, name):
    words = ("edge.wsgi:application",) if name == "edge" else ("service", name)
    pid = child_pid(platform.process.pid, *words)
    assert pid is not None, f"no {name} process under klaxon run"
    os.kill(pid, signal.SIGKILL)
    eventually(lambda: not answers(platform.urls[name]), timeout=10)

    accepted = []
    if name != "edge":  # the edge takes alerts while a service is down: queued, kept
        for number in range(3):
            message = f"while {name} was down {number}"
            alert = {"service": "checkout-api", "severity": "high", "message": message}
            queued = platform.api.post(
                f"{platform.edge}/api/v1/alerts", json=alert, headers={"Prefer": "respond-async"}, timeout=10
            )
            assert queued.status_code == 202, queued.text
            accepted.append(queued.json()["alert_id"])

    eventually(lambda: answers(platform.urls[name]), timeout=RESTARTED_WITHIN_SECONDS)
    assert all(answers(url) for url in platform.urls.values())
    for alert_id in accepted:
        stored = eventually(lambda alert_id=alert_id: correlated(platform, alert_id), timeout=30)
        assert stored["incident_id"] is not None


def correlated(platform, alert_id):
    answer = platform.api.get(f"{platform.edge}/api/v1/alerts/{alert_id}", timeout=10)
    return answer.json() if answer.status_code == 200 and answer.json().get("incident_id") else None


def test_a_crash_looping_service_is_given_up_on_and_the_others_keep_serving(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with running_platform(tmp_path, extra_env={"KLAXON_NOTIFICATIONS_PORT": port}) as running:
            log = tmp_path / "platform.log"
            eventually(lambda: "giving up on it" in log.read_text(), timeout=90)
            [line] = [line for line in log.read_text().splitlines() if "giving up on it" in line]
            assert line.startswith("klaxon: notifications exited 5 times")
            for name in ("edge", "alerts", "incidents", "oncall"):
                assert answers(running.urls[name]), f"{name} stopped answering"
            assert running.process.poll() is None  # klaxon run itself is still up
    finally:
        taken.close()
