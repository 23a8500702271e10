"""Klaxon's own alerts reach a team: every alerting rule names a service the demo data gives
to a team with people and a policy, and Alertmanager sends them to Klaxon's endpoint."""

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from services.oncall.demo import DEMO_FILE

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "observability" / "prometheus" / "rules" / "klaxon.yml"
PROMETHEUS = ROOT / "observability" / "prometheus" / "prometheus.yml"
ALERTMANAGER = ROOT / "observability" / "alertmanager" / "alertmanager.yml"
ENDPOINT = "/api/v1/integrations/alertmanager"
SEVERITIES = {"critical", "high", "medium", "low"}


def alerting_rules():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def demo():
    return yaml.safe_load(DEMO_FILE.read_text())


def test_the_platform_alerts_are_the_ones_the_brief_names():
    names = {rule["alert"] for rule in alerting_rules()}
    expected = {
        "KlaxonServiceDown",
        "KlaxonHighErrorRate",
        "KlaxonQueueBacklogGrowing",
        "KlaxonEscalationLag",
        "KlaxonPageFailed",
    }
    assert expected <= names


@pytest.mark.parametrize("rule", alerting_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_pages_a_demo_team_with_people_and_a_policy(rule):
    labels = rule["labels"]
    assert labels["severity"] in SEVERITIES
    schedules = demo()["schedules"]
    [owner] = [s for s in schedules if labels["service"] in s["services"]]
    assert owner["members"] and all("@" in member["email"] for member in owner["members"])
    assert {m["role"] for m in owner["members"]} >= {"primary", "secondary"}
    assert owner["team"] in {policy["team"] for policy in demo()["escalation_policies"]}


@pytest.mark.parametrize("rule", alerting_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_names_the_klaxon_process(rule):
    if "component" in rule["labels"] or "component" in rule["expr"]:
        return
    # Otherwise the component comes from the scrape target: every `klaxon` target has one.
    assert 'job="klaxon"' in rule["expr"], rule["alert"]
    jobs = yaml.safe_load(PROMETHEUS.read_text())["scrape_configs"]
    [klaxon] = [job for job in jobs if job["job_name"] == "klaxon"]
    assert klaxon["static_configs"]
    assert all(target["labels"]["component"] for target in klaxon["static_configs"])


def receiver_for(labels):
    """The receiver Alertmanager picks for `labels`: amtool's answer when it is installed."""
    if shutil.which("amtool"):
        args = ["amtool", "config", "routes", "test", f"--config.file={ALERTMANAGER}"]
        args += [f"{key}={value}" for key, value in labels.items()]
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()
    route = yaml.safe_load(ALERTMANAGER.read_text())["route"]
    for child in route.get("routes", []):
        matchers = [m.replace('"', "").split("=", 1) for m in child["matchers"]]
        if all(labels.get(key) == value for key, value in matchers):
            return child["receiver"]
    return route["receiver"]


def test_alertmanager_sends_klaxon_alerts_to_klaxons_own_endpoint():
    receivers = {r["name"]: r for r in yaml.safe_load(ALERTMANAGER.read_text())["receivers"]}
    for rule in alerting_rules():
        name = receiver_for({"alertname": rule["alert"], **rule["labels"], "component": "edge"})
        webhooks = receivers[name]["webhook_configs"]
        assert [urlsplit(w["url"]).path for w in webhooks] == [ENDPOINT], name
        assert all(w["send_resolved"] for w in webhooks)
