"""The README's shell examples, run as written on a fresh `klaxon run` (RabbitMQ, SQLite).

Every ```bash block from the health check to the heartbeat monitors runs in README order,
in one bash session, in a scratch directory that sees the checkout's files (the examples
write a cookie jar where they run): the same commands a newcomer pastes,
with only the platform's ports (free ones here, :8080-:8004 there), the `klaxon`
command (this interpreter's) and the data directory (the test's, `var/` there) put in.
Every curl fails on an HTTP error (`--fail-with-body`), so an example that answers 4xx or
5xx fails the test with the README line of its block. A line holding a placeholder to
fill in (`klx_…`) is left out, and the test names which.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.platform import NAMES, running_platform

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Blocks that start or build something else: the platform itself, Docker, a clone.
NOT_RUN_HERE = ("make run", "docker ", "git clone")
README_PORTS = {
    "edge": "8080",
    "alerts": "8001",
    "incidents": "8002",
    "oncall": "8003",
    "notifications": "8004",
}
PLACEHOLDER = "…"
PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body --silent --show-error --max-time 30 "$@"; }
"""


def bash_blocks(text):
    """(line number, code) of every ```bash block, in order."""
    blocks, code, start = [], None, 0
    for number, line in enumerate(text.splitlines(), 1):
        if code is None and line.strip() == "```bash":
            code, start = [], number
        elif code is not None and line.strip() == "```":
            blocks.append((start, "\n".join(code)))
            code = None
        elif code is not None:
            code.append(line)
    return blocks


def walkthrough(text):
    return [(start, code) for start, code in bash_blocks(text) if not any(m in code for m in NOT_RUN_HERE)]


def command_part(line):
    """The line without its comment: a whole-line one, or one after two spaces and a #."""
    if line.lstrip().startswith("#"):
        return ""
    return re.split(r"\s{2,}#", line, maxsplit=1)[0]


def without_placeholders(code):
    """The code minus the lines a reader must fill in, and those lines."""
    kept, left_out = [], []
    for line in code.splitlines():
        (left_out if PLACEHOLDER in command_part(line) else kept).append(line)
    return "\n".join(kept), left_out


def as_run_here(code, urls):
    ports = {README_PORTS[name]: urls[name].rsplit(":", 1)[1] for name in NAMES}
    code = re.sub(r"\b(80(?:80|0[1-4]))\b", lambda m: ports[m.group(1)], code)
    code = code.replace(".venv/bin/klaxon", f"{sys.executable} -m klaxon.cli")
    return code.replace("var/first-admin-password", '"$KLAXON_DATA_DIR/first-admin-password"')


def script_of(blocks, urls):
    parts, left_out = [PRELUDE], []
    for start, code in blocks:
        kept, dropped = without_placeholders(code)
        left_out += dropped
        parts.append(f'echo "=== README.md line {start}" >&2\n{as_run_here(kept, urls)}\n')
    return "\n".join(parts), left_out


def test_the_walkthrough_covers_the_readme_sections_a_newcomer_follows():
    blocks = walkthrough(README.read_text())
    text = "\n".join(code for _, code in blocks)
    for example in (
        "/api/v1/alerts",
        "klaxon token create",
        "/api/v1/escalation_policies",
        "/api/v1/auth/login",
        "/api/v1/integrations",
        "/api/v1/maintenance_windows",
        "/api/v1/heartbeats",
    ):
        assert example in text, example
    _, left_out = script_of(blocks, {name: "http://127.0.0.1:1" for name in NAMES})
    assert [command_part(line).strip() for line in left_out] == [
        "curl -s -X POST localhost:8080/api/v1/heartbeats/1/beat -H 'Authorization: Bearer klx_…'"
    ]


def test_the_readme_examples_work_as_written(tmp_path):
    with running_platform(tmp_path) as platform:
        platform.wait_healthy(timeout=90)
        script, _ = script_of(walkthrough(README.read_text()), platform.urls)
        workdir = tmp_path / "checkout"
        workdir.mkdir()
        for name in ("services", "tests"):
            (workdir / name).symlink_to(ROOT / name)
        (tmp_path / "walkthrough.sh").write_text(script)
        done = subprocess.run(
            ["bash", str(tmp_path / "walkthrough.sh")],
            cwd=workdir,
            env=platform.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{done.stderr[-3000:]}\n--- stdout:\n{done.stdout[-3000:]}"
        incident = platform.api.get(f"{platform.edge}/api/v1/incidents/1").json()
        assert incident["status"] == "resolved"
        assert [n["note"] for n in incident["notes"]] == ["rolled back release 2026.11.3"]
        window = platform.api.get(f"{platform.edge}/api/v1/maintenance_windows/1").json()
        assert window["state"] == "ended"
        [heartbeat] = platform.api.get(f"{platform.edge}/api/v1/heartbeats").json()["items"]
        assert heartbeat["name"] == "nightly-backup"
