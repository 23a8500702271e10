"""The supervisor's restart policy, on real child processes and an injected clock."""

import sys

import pytest

from klaxon import supervisor
from klaxon.supervisor import Child, child_env

EXIT_AT_ONCE = [sys.executable, "-c", "import sys; sys.exit(3)"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def exited(child):
    child.process.wait(timeout=10)


def test_a_child_that_exits_is_restarted_after_a_pause_that_doubles(capsys):
    clock = Clock()
    child = Child("alerts", EXIT_AT_ONCE, {}, clock=clock)
    child.start()
    delays = []
    for _ in range(supervisor.CRASH_LOOP_LIMIT - 1):
        exited(child)
        child.watch()  # notices the exit
        delays.append(child.restart_at - clock.now)
        clock.now += delays[-1] - 0.01
        child.watch()
        assert not child.running() and child.restart_at is not None  # not yet
        clock.now += 0.01
        child.watch()  # due: started again
        assert child.restart_at is None
    assert delays == [1.0, 2.0, 4.0, 8.0]
    assert "alerts exited with code 3; restarting it in 1 s" in capsys.readouterr().err


def test_a_crash_loop_is_given_up_on_with_a_clear_line(capsys):
    clock = Clock()
    child = Child("notifications", EXIT_AT_ONCE, {}, clock=clock)
    child.start()
    for _ in range(supervisor.CRASH_LOOP_LIMIT):
        exited(child)
        child.watch()
        if child.given_up:
            break
        clock.now = child.restart_at  # restarted as soon as due: 1 + 2 + 4 + 8 s, within the window
        child.watch()
    assert child.given_up
    assert len(child.crashes) == supervisor.CRASH_LOOP_LIMIT
    exited(child)
    child.watch()
    assert not child.running()  # never started again
    expected = "notifications exited 5 times within 60 s (last exit code 3); giving up on it"
    assert expected in capsys.readouterr().err


def test_crashes_far_apart_never_add_up_to_a_loop():
    clock = Clock()
    child = Child("oncall", EXIT_AT_ONCE, {}, clock=clock)
    child.start()
    for _ in range(2 * supervisor.CRASH_LOOP_LIMIT):
        exited(child)
        child.watch()
        clock.now += supervisor.CRASH_LOOP_WINDOW_SECONDS + 1
        child.watch()
    assert not child.given_up and len(child.crashes) == 1


@pytest.mark.parametrize("name", ["alerts", "incidents", "oncall", "notifications"])
def test_only_the_edge_writes_prometheus_multiprocess_files(name):
    environ = {"PROMETHEUS_MULTIPROC_DIR": "/somewhere/else", "KEEP": "1"}
    assert child_env(name, environ, "/tmp/edge")["KEEP"] == "1"
    assert "PROMETHEUS_MULTIPROC_DIR" not in child_env(name, environ, "/tmp/edge")
    assert child_env("edge", environ, "/tmp/edge")["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/edge"
