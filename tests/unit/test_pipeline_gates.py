"""The pipeline's gates bite: each fault is planted in a temporary copy of the part of the
tree its gate reads (never in the working tree), the gate's own command runs on the copy
and must fail; on the clean copy it must pass.

The commands are read from tox.ini, so the test runs what the pipeline runs."""

import ast
import configparser
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IGNORE = shutil.ignore_patterns("__pycache__", "node_modules", "screenshots", "*.pyc")
# Built at run time, so this file holds no key for the scanner to find.
FAKE_AWS_KEY = "AKIA" + "IOSFODNN7" + "EXAMPLE"
FAKE_SIGNING_VALUE = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"


def copy_of(tmp_path, *parts):
    """The named files and folders of the tree, copied under tmp_path/tree."""
    tree = tmp_path / "tree"
    for part in parts:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tree / part, ignore=IGNORE)
        else:
            (tree / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / part)
    return tree


def clean_env():
    """The environment without coverage's subprocess hooks, this interpreter's tools first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    return {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}


def tox_commands(env_name):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini")
    lines = parser[f"testenv:{env_name}"]["commands"].strip().splitlines()
    return [shlex.split(line) for line in lines if line.strip()]


def run_gate(env_name, cwd):
    """Each command of the tox environment, in cwd, with this interpreter's tools; the
    first failure's (status, output), else (0, all output)."""
    output = []
    for argv in tox_commands(env_name):
        tool = sys.executable if argv[0] == "python" else str(BIN / argv[0])
        done = subprocess.run([tool, *argv[1:]], cwd=cwd, capture_output=True, text=True, env=clean_env())
        output.append(done.stdout + done.stderr)
        if done.returncode:
            return done.returncode, "\n".join(output)
    return 0, "\n".join(output)


def git(cwd, *args):
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            **clean_env(),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        },
    )


def secret_scan(tree):
    done = subprocess.run(
        ["bash", ".ci/secret-scan"],
        cwd=tree,
        capture_output=True,
        text=True,
        env={**clean_env(), "PYTHON": sys.executable},
    )
    return done.returncode, done.stdout + done.stderr


# -- quality: complexity --------------------------------------------------------------------
RANK_C = '''
def route(kind, severity, team, service, quiet, night, weekend, vip, muted, retry):
    """Eleven paths: cyclomatic complexity 11, radon rank C."""
    if kind == "a":
        return 1
    if severity == "b":
        return 2
    if team:
        return 3
    if service:
        return 4
    if quiet:
        return 5
    if night:
        return 6
    if weekend:
        return 7
    if vip:
        return 8
    if muted:
        return 9
    if retry:
        return 10
    return 11
'''


@pytest.fixture(scope="module")
def code_tree(tmp_path_factory):
    return copy_of(tmp_path_factory.mktemp("code"), "services", "edge", "klaxon", "scripts")


def test_the_complexity_gate_passes_on_the_clean_tree(code_tree):
    status, output = run_gate("complexity", code_tree)
    assert status == 0, output
    assert "every block ranks A or B" in output and "maintainability index A" in output


def test_a_function_of_rank_c_fails_the_complexity_gate(code_tree):
    planted = code_tree / "services" / "planted_rank_c.py"
    planted.write_text(RANK_C)
    try:
        status, output = run_gate("complexity", code_tree)
    finally:
        planted.unlink()
    assert status != 0
    assert "planted_rank_c.py" in output and "route - C" in output


# -- quality: duplication -------------------------------------------------------------------
def a_block_of_at_least(lines, folder):
    """The source of the first top-level function or class of `lines`+ lines under folder."""
    for path in sorted(folder.rglob("*.py")):
        text = path.read_text()
        for node in ast.parse(text).body:
            long_enough = node.end_lineno - node.lineno + 1 >= lines
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and long_enough:
                return ast.get_source_segment(text, node)
    raise AssertionError(f"no {lines}-line block under {folder}")


def test_the_duplication_gate_passes_on_the_clean_tree(code_tree):
    status, output = run_gate("duplication", code_tree)
    assert status == 0, output
    assert "-> passed" in output


def test_a_copied_40_line_block_fails_the_duplication_gate(code_tree):
    block = a_block_of_at_least(40, code_tree / "services")
    assert len(block.splitlines()) >= 40
    planted = code_tree / "services" / "planted_copy.py"
    planted.write_text(block + "\n")
    try:
        status, output = run_gate("duplication", code_tree)
    finally:
        planted.unlink()
    assert status != 0, output
    assert "planted_copy.py" in output and "-> FAILED" in output


# -- security: secrets ----------------------------------------------------------------------
@pytest.fixture
def secrets_tree(tmp_path):
    """tests/ and what the scan needs, in a git checkout of its own (one clean commit)."""
    tree = copy_of(
        tmp_path,
        "tests",
        "scripts",
        ".ci/secret-scan",
        ".secrets.baseline",
        ".secrets.history.json",
        ".gitignore",
    )
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "clean")
    return tree


def test_the_secret_scan_passes_on_the_clean_tree(secrets_tree):
    status, output = secret_scan(secrets_tree)
    assert status == 0, output
    assert "0 finding(s) not allow-listed" in output


def test_a_fake_aws_key_under_tests_fails_the_secret_scan(secrets_tree):
    planted = secrets_tree / "tests" / "unit" / "planted_fixture.py"
    planted.write_text(f'AWS_ACCESS_KEY_ID = "{FAKE_AWS_KEY}"\n')
    status, output = secret_scan(secrets_tree)
    assert status != 0
    assert "tests/unit/planted_fixture.py:1 (AWS Access Key" in output


def test_a_secret_committed_then_deleted_fails_the_history_scan(secrets_tree):
    planted = secrets_tree / "tests" / "planted_settings.py"
    planted.write_text(f'aws_secret_access_key = "{FAKE_SIGNING_VALUE}"\nkey_id = "{FAKE_AWS_KEY}"\n')
    git(secrets_tree, "add", "tests/planted_settings.py")
    git(secrets_tree, "commit", "-qm", "add settings")
    planted.unlink()
    git(secrets_tree, "commit", "-qam", "remove settings")
    status, output = secret_scan(secrets_tree)
    assert status != 0
    history = output[output.index("secret-scan: history") :]
    assert "tests/planted_settings.py (added in commit" in history
    assert "AWS Access Key" in history
