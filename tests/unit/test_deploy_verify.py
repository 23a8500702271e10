"""The core of scripts/deploy_verify.py: a verify that fails rolls back to the last good
release and says so; one that passes records the release as the last good one."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "deploy_verify.py"
spec = importlib.util.spec_from_file_location("deploy_verify", SCRIPT)
dv = importlib.util.module_from_spec(spec)
sys.modules["deploy_verify"] = dv  # dataclasses look their module up
spec.loader.exec_module(dv)


class FakeRelease:
    def __init__(self, ref, events):
        self.ref, self.events = ref, events

    def stop(self):
        self.events.append(f"stop {self.ref}")


def harness(failing):
    """(events, good, verify, start): `verify` fails for the refs in `failing`."""
    events, good = [], []

    def verify(release, planted=False):
        events.append(f"verify {release.ref}")
        if release.ref in failing:
            raise dv.VerifyFailed(f"{release.ref} is broken")

    def start(ref):
        events.append(f"start {ref}")
        return FakeRelease(ref, events)

    return events, good, verify, start


def test_a_passing_verify_records_the_release_as_last_good(capsys):
    events, good, verify, start = harness(failing=set())
    out = dv.verify_or_roll_back(FakeRelease("new", events), verify, "old", start, good.append)
    assert out.ok and good == ["new"] and out.running.ref == "new"
    assert events == ["verify new"]
    assert "recorded as the last good release" in capsys.readouterr().out


def test_a_failing_verify_stops_the_release_and_rolls_back_loudly(capsys):
    events, good, verify, start = harness(failing={"new"})
    out = dv.verify_or_roll_back(FakeRelease("new", events), verify, "old", start, good.append)
    assert not out.ok and out.rolled_back_to == "old" and good == []
    assert events == ["verify new", "stop new", "start old", "verify old"]
    printed = capsys.readouterr().out
    assert "!!! verify FAILED for new" in printed
    assert "!!! ROLLED BACK: old is running and verified" in printed
    assert out.running.ref == "old"


def test_a_rollback_that_does_not_verify_says_so_and_stops_it(capsys):
    events, good, verify, start = harness(failing={"new", "old"})
    out = dv.verify_or_roll_back(FakeRelease("new", events), verify, "old", start, good.append)
    assert not out.ok and out.rolled_back_to is None and out.running is None
    assert events[-1] == "stop old"
    assert "ROLLBACK FAILED" in capsys.readouterr().out


def test_without_a_last_good_release_the_rollback_is_impossible_and_said(capsys):
    events, good, verify, start = harness(failing={"new"})
    out = dv.verify_or_roll_back(FakeRelease("new", events), verify, None, start, good.append)
    assert not out.ok and "start" not in " ".join(events)
    assert "ROLLBACK IMPOSSIBLE" in capsys.readouterr().out


@pytest.mark.parametrize("planted", [False, True])
def test_the_smoke_walks_alert_incident_acknowledge_resolve(monkeypatch, planted):
    calls = []
    answers = iter(
        [
            (201, {"incident_id": 7}),
            (200, {"status": "acknowledged"}),
            (200, {"status": "resolved"}),
            (200, {"status": "resolved"}),
        ]
    )

    def http(method, url, token=None, body=None, timeout=10, headers=None):
        calls.append((method, url.split("/api/v1")[1], (body or {}).get("status")))
        return next(answers)

    monkeypatch.setattr(dv, "http", http)
    if planted:
        with pytest.raises(dv.VerifyFailed, match="planted failure"):
            dv.smoke("http://edge", "token", "key", planted=True)
    else:
        assert dv.smoke("http://edge", "token", "key") == 7
    assert calls == [
        ("POST", "/alerts", None),
        ("PATCH", "/incidents/7", "acknowledged"),
        ("PATCH", "/incidents/7", "resolved"),
        ("GET", "/incidents/7", None),
    ]


def test_a_smoke_step_that_answers_wrong_fails_verify(monkeypatch):
    answers = iter([(201, {"incident_id": 7}), (500, "boom")])
    monkeypatch.setattr(dv, "http", lambda *a, **k: next(answers))
    with pytest.raises(dv.VerifyFailed, match="acknowledged answered 500"):
        dv.smoke("http://edge", "token", "key")
