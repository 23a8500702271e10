"""The pipeline's deploy and verify stages on the platform as local processes: a release
that verifies becomes the last good one; a release whose verify fails is rolled back to it,
the rollback is verified, and the pipeline says so and fails."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
OTHER_STEPS = "lint complexity duplication secrets audit wheel image static-checks image-scan test"


def docker_engine():
    return shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def pipeline(state, **extra):
    """Only deploy and verify; every other step skipped by request."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env.update(
        PIPELINE_SKIP=OTHER_STEPS,
        PIPELINE_SKIP_REASON="not this test's",
        PY=sys.executable,
        KLAXON_DEPLOY_STATE=str(state),
        **extra,
    )
    done = subprocess.run(
        ["bash", ".ci/pipeline"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def state(tmp_path):
    yield tmp_path / "state"
    for worktree in (tmp_path / "state" / "worktrees").glob("*"):
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, capture_output=True)
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


@pytest.mark.skipif(docker_engine(), reason="with a Docker engine the stages deploy the compose stack")
def test_a_failing_verify_rolls_back_to_the_last_good_release_and_the_pipeline_says_so(state):
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    head = head.stdout.strip()

    status, output = pipeline(state)
    assert status == 0, output
    assert "alert → incident" in output and "→ resolved" in output
    assert (state / "last-good").read_text().strip() == head
    assert "SKIPPED: PIPELINE_SKIP names it (not this test's)" in output
    summary = output[output.index("=== summary") :].splitlines()
    skipped = [line for line in summary if line.startswith(("quality", "security: secrets", "test"))]
    assert len(skipped) == 5 and all("SKIPPED: PIPELINE_SKIP" in line for line in skipped), summary

    status, output = pipeline(state, KLAXON_DEPLOY_PLANT_FAILURE="1")
    assert status == 1, output
    assert "!!! verify FAILED" in output and "planted failure" in output
    assert f"!!! ROLLING BACK to the last good release {head}" in output
    assert f"!!! ROLLED BACK: {head} is running and verified" in output
    summary = output[output.index("=== summary") :]
    verify_row = next(line for line in summary.splitlines() if line.startswith("verify"))
    assert "FAILED" in verify_row
    assert "pipeline FAILED: verify (smoke, rollback)" in summary
    assert (state / "last-good").read_text().strip() == head
    assert not (state / "current.json").exists()
