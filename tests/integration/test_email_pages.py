"""A real incident pages by e-mail through a real SMTP server (aiosmtpd, in its own process
on loopback); the acknowledge link in the e-mail, followed over HTTP, acknowledges once."""

import mailbox
import re
import subprocess
import sys
import uuid

import pytest
import requests

from tests.conftest import eventually
from tests.platform import free_port, platform_processes

SERVICES = ("alerts", "incidents", "oncall", "notifications", "edge")


@pytest.fixture
def smtp(tmp_path):
    """An SMTP server that files every message it gets into a maildir; yields (port, maildir)."""
    port, maildir = free_port(), tmp_path / "maildir"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        eventually(lambda: (maildir / "new").is_dir(), timeout=20)
        yield port, maildir
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path, smtp):
    port, _ = smtp
    extra = {
        "KLAXON_SMTP_HOST": "127.0.0.1",
        "KLAXON_SMTP_PORT": str(port),
        "KLAXON_SMTP_FROM": "pager@klaxon.test",
    }
    with platform_processes(tmp_path, "postgresql", extra_env=extra) as processes:
        for name in SERVICES:
            processes.start(name)
        processes.wait_healthy()
        yield processes


def messages_to(maildir, address):
    return [m for m in mailbox.Maildir(maildir, create=False) if m["To"] == address]


def plain_text(message):
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no plain-text part")


def test_an_incident_is_e_mailed_and_its_link_acknowledges_it_once(cluster, smtp):
    _, maildir = smtp
    edge = cluster.url("edge")
    run = uuid.uuid4().hex[:8]
    person = f"mia-{run}@example.com"
    schedule = {
        "team": f"mail-{run}",
        "rotation_type": "weekly",
        "members": [
            {"name": "Mia", "email": person, "contact_methods": [{"type": "email", "address": person}]}
        ],
        "services": [f"billing-{run}"],
    }
    assert cluster.api.post(f"{edge}/api/v1/schedules", json=schedule, timeout=10).status_code == 201
    incident = {"title": "invoices stuck", "service": f"billing-{run}", "severity": "critical"}
    incident_id = cluster.api.post(f"{edge}/api/v1/incidents", json=incident, timeout=10).json()["id"]

    [message] = eventually(lambda: messages_to(maildir, person), timeout=60)
    assert message["Subject"] == f"[CRITICAL] billing-{run}: invoices stuck"
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
    text = plain_text(message)
    assert f"Severity: critical · Service: billing-{run} · Assignee: Mia" in text
    assert f"Incident: {edge}/api/v1/incidents/{incident_id}" in text
    link = re.search(r"Acknowledge: (\S+)", text).group(1)
    assert link.startswith(f"{edge}/api/v1/ack/")

    forged_link = link[:-3] + ("xyz" if not link.endswith("xyz") else "abc")
    assert requests.post(forged_link, timeout=10).status_code == 403
    assert requests.get(forged_link, timeout=10).status_code == 403, "a forged link shows nothing either"
    for _ in range(2):  # a mail scanner fetching the link, then the person opening it
        opened = requests.get(link, timeout=10)
        assert opened.status_code == 200, opened.text
        assert (opened.json()["incident_id"], opened.json()["recipient"]) == (incident_id, person)
        assert opened.json()["used"] is False and opened.json()["status"] == "open", "opening changes nothing"
    page = requests.get(link, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, timeout=10)
    assert page.headers["content-type"].startswith("text/html")
    assert f"Acknowledge as {person}" in page.text and '<form method="post">' in page.text
    first = requests.post(link, timeout=10)
    assert first.status_code == 200, first.text
    assert first.json() == {"incident_id": incident_id, "status": "acknowledged", "by": person}
    again = requests.post(link, timeout=10)
    assert again.status_code == 409 and "already used" in again.json()["detail"]
    assert requests.get(link, timeout=10).json()["used"] is True

    found = cluster.api.get(f"{edge}/api/v1/incidents/{incident_id}", timeout=10).json()
    assert found["status"] == "acknowledged" and found["mtta_seconds"] is not None
    acknowledged = [e for e in found["timeline"] if e["kind"] == "acknowledged"]
    assert [e["actor"] for e in acknowledged] == [person]
    notified = eventually(
        lambda: [
            e
            for e in cluster.api.get(f"{edge}/api/v1/incidents/{incident_id}", timeout=10).json()["timeline"]
            if e["kind"] == "notified"
        ],
        timeout=30,
    )
    assert notified[0]["detail"]["channel"] == "email"
